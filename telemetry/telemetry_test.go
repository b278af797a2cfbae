package telemetry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/telemetry/otlptest"
)

// env returns a Getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// setup runs Setup with vars and shuts the providers down at cleanup.
func setup(t *testing.T, cfg Config, vars map[string]string) *Providers {
	t.Helper()
	cfg.Getenv = env(vars)
	p, err := Setup(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p
}

// quiet returns variables that export to r only when flushed: the span
// batch delay and the metric interval are an hour.
func quiet(r *otlptest.Receiver, more ...string) map[string]string {
	vars := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + r.Endpoint(),
		"OTEL_BSP_SCHEDULE_DELAY":     "3600000",
		"OTEL_METRIC_EXPORT_INTERVAL": "3600000",
	}
	for i := 0; i+1 < len(more); i += 2 {
		vars[more[i]] = more[i+1]
	}
	return vars
}

func shutdown(t *testing.T, p *Providers) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	return m
}

func findMetric(ms []*metricspb.Metric, name string) *metricspb.Metric {
	for _, m := range ms {
		if m.GetName() == name {
			return m
		}
	}
	return nil
}

func TestSetupDisabled(t *testing.T) {
	f := func(force bool, vars map[string]string) {
		t.Helper()
		p, err := Setup(context.Background(), Config{Getenv: env(vars), Force: force})
		if err != nil {
			t.Fatalf("%v: Setup: %v", vars, err)
		}
		if p.TracerProvider != nil || p.MeterProvider != nil {
			t.Fatalf("%v: providers %v, %v; want nil", vars, p.TracerProvider, p.MeterProvider)
		}
		if p.Propagator == nil {
			t.Fatalf("%v: no propagator", vars)
		}
		o := engine.Options{}
		p.EngineOptions(&o)
		if o.TracerProvider != nil || o.MeterProvider != nil {
			t.Fatalf("%v: engine options %v, %v; want nil interfaces", vars, o.TracerProvider, o.MeterProvider)
		}
		if err := p.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	f(false, nil)
	// Only endpoint variables enable telemetry; other variables are not
	// even validated.
	f(false, map[string]string{"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_HEADERS": "a=b", "OTEL_TRACES_SAMPLER": "bogus"})
	f(false, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "   "})
	f(false, map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"})
	f(false, map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1"})
	f(true, map[string]string{"OTEL_SDK_DISABLED": "true"})

	var nilp *Providers
	o := engine.Options{}
	nilp.EngineOptions(&o)
	if o.TracerProvider != nil || o.MeterProvider != nil || nilp.Shutdown(context.Background()) != nil ||
		nilp.ForceFlush(context.Background()) != nil {
		t.Fatal("nil *Providers is not inert")
	}
}

func TestSetupEnabledBy(t *testing.T) {
	r := otlptest.Start(t)
	ep := "http://" + r.Endpoint()
	f := func(force bool, vars map[string]string) {
		t.Helper()
		p := setup(t, Config{Force: force}, vars)
		if p.TracerProvider == nil || p.MeterProvider == nil {
			t.Fatalf("%v: providers %v, %v; want both", vars, p.TracerProvider, p.MeterProvider)
		}
		o := engine.Options{}
		p.EngineOptions(&o)
		if o.TracerProvider != p.TracerProvider || o.MeterProvider != p.MeterProvider {
			t.Fatalf("%v: engine options not the providers", vars)
		}
	}
	f(false, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ep})
	f(false, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": ep})
	f(true, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ep, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": ep})
	f(false, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ep, "OTEL_SDK_DISABLED": "false"})

	// A signal's exporter set to none leaves its provider a nil interface,
	// in Providers and in the engine's options.
	p := setup(t, Config{}, map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": ep, "OTEL_TRACES_EXPORTER": "none"})
	o := engine.Options{}
	p.EngineOptions(&o)
	if p.TracerProvider != nil || o.TracerProvider != nil || p.MeterProvider == nil || o.MeterProvider == nil {
		t.Fatalf("OTEL_TRACES_EXPORTER=none: %v %v, engine %v %v", p.TracerProvider, p.MeterProvider, o.TracerProvider, o.MeterProvider)
	}
	p = setup(t, Config{}, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ep, "OTEL_METRICS_EXPORTER": "NONE"})
	p.EngineOptions(&o)
	if p.TracerProvider == nil || o.TracerProvider == nil || p.MeterProvider != nil || o.MeterProvider != nil {
		t.Fatalf("OTEL_METRICS_EXPORTER=none: %v %v, engine %v %v", p.TracerProvider, p.MeterProvider, o.TracerProvider, o.MeterProvider)
	}
}

// TestExport records a span and histograms through the providers and reads
// them back from a collector: nothing arrives before Shutdown, everything
// after, with the resource, headers and buckets the variables ask for.
func TestExport(t *testing.T) {
	r := otlptest.Start(t)
	p := setup(t, Config{ServiceName: "qlite-test"}, quiet(r,
		"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test, team=vector%20search",
		"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t0ken,x-tenant=acme",
	))
	ctx := context.Background()

	_, span := p.TracerProvider.Tracer("qlite/test").Start(ctx, "search products")
	span.End()
	m := p.MeterProvider.Meter("qlite/test")
	dur, err := m.Float64Histogram(DurationMetric, metric.WithUnit("s"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []float64{0.003, 0.7, 20} {
		dur.Record(ctx, v)
	}
	other, err := m.Float64Histogram("qlite.other.duration", metric.WithUnit("s"))
	if err != nil {
		t.Fatal(err)
	}
	other.Record(ctx, 0.003)

	if n, k := len(r.Spans()), len(r.Metrics()); n != 0 || k != 0 {
		t.Fatalf("%d spans and %d metrics exported before Shutdown", n, k)
	}
	shutdown(t, p)

	spans := r.Spans()
	if len(spans) != 1 || spans[0].GetName() != "search products" {
		t.Fatalf("spans %v", spans)
	}
	if tid := span.SpanContext().TraceID(); string(spans[0].GetTraceId()) != string(tid[:]) {
		t.Fatalf("trace id %x, want %s", spans[0].GetTraceId(), tid)
	}
	res := attrs(r.ResourceSpans()[0].GetResource().GetAttributes())
	want := map[string]string{
		"service.name":                "qlite-test",
		"service.version":             version(),
		"deployment.environment.name": "test",
		"team":                        "vector search",
		"telemetry.sdk.language":      "go",
		"telemetry.sdk.name":          "opentelemetry",
	}
	if c := BuildInfo().Commit; c != "" {
		want["vcs.ref.head.revision"] = c
	}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("resource %s = %q, want %q (resource %v)", k, res[k], v, res)
		}
	}
	if version() == "" {
		t.Error("empty service.version")
	}

	ms := r.Metrics()
	h := findMetric(ms, DurationMetric).GetHistogram()
	if len(h.GetDataPoints()) != 1 {
		t.Fatalf("%s: %v (metrics %v)", DurationMetric, h, ms)
	}
	dp := h.GetDataPoints()[0]
	if !slices.Equal(dp.GetExplicitBounds(), DurationBuckets) {
		t.Fatalf("bounds %v, want %v", dp.GetExplicitBounds(), DurationBuckets)
	}
	//                      0.001 0.005 0.01 0.05 0.1 0.5 1  5  10 +Inf
	wantCounts := []uint64{0, 1, 0, 0, 0, 0, 1, 0, 0, 1}
	if !slices.Equal(dp.GetBucketCounts(), wantCounts) || dp.GetCount() != 3 {
		t.Fatalf("bucket counts %v count %d, want %v", dp.GetBucketCounts(), dp.GetCount(), wantCounts)
	}
	if attrs(r.ResourceMetrics()[0].GetResource().GetAttributes())["team"] != "vector search" {
		t.Fatal("metrics lack the resource")
	}
	// The view applies to the one instrument only.
	ob := findMetric(ms, "qlite.other.duration").GetHistogram().GetDataPoints()
	if len(ob) != 1 || slices.Equal(ob[0].GetExplicitBounds(), DurationBuckets) {
		t.Fatalf("other histogram %v", ob)
	}

	md := r.Headers()
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer t0ken" {
		t.Fatalf("authorization %q in %v", got, md)
	}
	if got := md.Get("x-tenant"); len(got) != 1 || got[0] != "acme" {
		t.Fatalf("x-tenant %q in %v", got, md)
	}

	// Shutdown is idempotent, and the providers record nothing after it.
	_, span = p.TracerProvider.Tracer("qlite/test").Start(ctx, "late")
	span.End()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(r.Spans()); n != 1 {
		t.Fatalf("%d spans after a second Shutdown", n)
	}
}

func TestForceFlush(t *testing.T) {
	r := otlptest.Start(t)
	p := setup(t, Config{}, quiet(r))
	ctx := context.Background()
	_, span := p.TracerProvider.Tracer("t").Start(ctx, "op")
	span.End()
	c, err := p.MeterProvider.Meter("t").Int64Counter("qlite.points.upserted")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(ctx, 5)
	if err := p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(r.Spans()); n != 1 {
		t.Fatalf("%d spans after ForceFlush", n)
	}
	sum := findMetric(r.Metrics(), "qlite.points.upserted").GetSum().GetDataPoints()
	if len(sum) != 1 || sum[0].GetAsInt() != 5 {
		t.Fatalf("counter %v", sum)
	}
}

// TestSampler records a root span, a child of a sampled remote parent and a
// child of an unsampled one under each sampler and checks which are sampled
// locally and which arrive at the collector. A counter recorded alongside
// must always arrive, so that "no spans" is not a dead exporter.
func TestSampler(t *testing.T) {
	parent := func(sampled bool) context.Context {
		sc := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
			SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
			Remote:  true,
		})
		if sampled {
			sc = sc.WithTraceFlags(trace.FlagsSampled)
		}
		return trace.ContextWithRemoteSpanContext(context.Background(), sc)
	}
	f := func(sampler, arg string, root, sampledParent, unsampledParent bool) {
		t.Helper()
		r := otlptest.Start(t)
		p := setup(t, Config{}, quiet(r, "OTEL_TRACES_SAMPLER", sampler, "OTEL_TRACES_SAMPLER_ARG", arg))
		tracer := p.TracerProvider.Tracer("t")
		var want []string
		for _, c := range []struct {
			name string
			ctx  context.Context
			want bool
		}{
			{"root", context.Background(), root},
			{"sampled-parent", parent(true), sampledParent},
			{"unsampled-parent", parent(false), unsampledParent},
		} {
			_, span := tracer.Start(c.ctx, c.name)
			span.End()
			if got := span.SpanContext().IsSampled(); got != c.want {
				t.Errorf("%s %s: %s sampled %v, want %v", sampler, arg, c.name, got, c.want)
			}
			if c.want {
				want = append(want, c.name)
			}
		}
		c, err := p.MeterProvider.Meter("t").Int64Counter("qlite.test.ops")
		if err != nil {
			t.Fatal(err)
		}
		c.Add(context.Background(), 1)
		shutdown(t, p)
		var got []string
		for _, s := range r.Spans() {
			got = append(got, s.GetName())
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s %s: exported %v, want %v", sampler, arg, got, want)
		}
		if findMetric(r.Metrics(), "qlite.test.ops") == nil {
			t.Errorf("%s %s: the counter did not arrive", sampler, arg)
		}
	}
	f("", "", true, true, false)
	f("parentbased_always_on", "", true, true, false)
	f("always_on", "", true, true, true)
	f("always_off", "", false, false, false)
	f("traceidratio", "", true, true, true)
	f("traceidratio", "1", true, true, true)
	f("traceidratio", "0", false, false, false)
	f("parentbased_always_off", "", false, true, false)
	f("parentbased_traceidratio", "0", false, true, false)
	f("parentbased_traceidratio", "1", true, true, false)
	f("PARENTBASED_ALWAYS_OFF", "", false, true, false)

	// A ratio samples about that share of traces.
	p := setup(t, Config{}, quiet(otlptest.Start(t),
		"OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.25"))
	n := 0
	for range 2000 {
		_, span := p.TracerProvider.Tracer("t").Start(context.Background(), "op")
		if span.SpanContext().IsSampled() {
			n++
		}
		span.End()
	}
	if n < 400 || n > 600 {
		t.Fatalf("traceidratio 0.25 sampled %d of 2000", n)
	}
}

// TestPerSignalEndpoints sends traces and metrics to different collectors
// with different headers.
func TestPerSignalEndpoints(t *testing.T) {
	traces, other := otlptest.Start(t), otlptest.Start(t)
	p := setup(t, Config{}, quiet(other,
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"+traces.Endpoint(),
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-signal=traces",
		"OTEL_EXPORTER_OTLP_HEADERS", "x-signal=all",
	))
	ctx := context.Background()
	_, span := p.TracerProvider.Tracer("t").Start(ctx, "op")
	span.End()
	c, err := p.MeterProvider.Meter("t").Int64Counter("qlite.test.ops")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(ctx, 1)
	shutdown(t, p)

	if len(traces.Spans()) != 1 || len(traces.Metrics()) != 0 {
		t.Fatalf("trace collector: %d spans, %d metrics", len(traces.Spans()), len(traces.Metrics()))
	}
	if len(other.Spans()) != 0 || findMetric(other.Metrics(), "qlite.test.ops") == nil {
		t.Fatalf("other collector: %d spans, metrics %v", len(other.Spans()), other.Metrics())
	}
	if got := traces.Headers().Get("x-signal"); !slices.Equal(got, []string{"traces"}) {
		t.Fatalf("trace headers %v", traces.Headers())
	}
	if got := other.Headers().Get("x-signal"); !slices.Equal(got, []string{"all"}) {
		t.Fatalf("metrics headers %v", other.Headers())
	}
}

// TestEndpointWithoutScheme exports to host:port, which is TLS unless
// OTEL_EXPORTER_OTLP_INSECURE says otherwise, compressed with gzip.
func TestEndpointWithoutScheme(t *testing.T) {
	r := otlptest.Start(t)
	p := setup(t, Config{}, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":    r.Endpoint(),
		"OTEL_EXPORTER_OTLP_INSECURE":    "true",
		"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
		"OTEL_EXPORTER_OTLP_TIMEOUT":     "5000",
	})
	_, span := p.TracerProvider.Tracer("t").Start(context.Background(), "op")
	span.End()
	shutdown(t, p)
	if n := len(r.Spans()); n != 1 {
		t.Fatalf("%d spans", n)
	}

	// Without INSECURE the exporter speaks TLS, which the plain collector
	// cannot answer: nothing arrives and ForceFlush reports the failure.
	r = otlptest.Start(t)
	p = setup(t, Config{}, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": r.Endpoint(),
		"OTEL_EXPORTER_OTLP_TIMEOUT":  "300",
		"OTEL_BSP_EXPORT_TIMEOUT":     "300",
		"OTEL_METRICS_EXPORTER":       "none",
	})
	_, span = p.TracerProvider.Tracer("t").Start(context.Background(), "op")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.ForceFlush(ctx); err == nil {
		t.Fatal("ForceFlush reported no error for a TLS export to a plain collector")
	}
	if n := len(r.Spans()); n != 0 {
		t.Fatalf("%d spans arrived over TLS at a plain collector", n)
	}
}

// TestProcessEnvironmentIgnored sets conflicting variables in the process
// environment; with a Getenv of its own, Setup must not see them.
func TestProcessEnvironmentIgnored(t *testing.T) {
	for k, v := range map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":     "https://127.0.0.1:1",
		"OTEL_EXPORTER_OTLP_HEADERS":      "x-leak=yes",
		"OTEL_EXPORTER_OTLP_COMPRESSION":  "gzip",
		"OTEL_EXPORTER_OTLP_CERTIFICATE":  "/etc/ssl/certs/ca-certificates.crt",
		"OTEL_EXPORTER_OTLP_TIMEOUT":      "1",
		"OTEL_SERVICE_NAME":               "leak",
		"OTEL_RESOURCE_ATTRIBUTES":        "service.name=leak,team=leak",
		"OTEL_TRACES_SAMPLER":             "always_off",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE":  "1",
		"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "0",
		"OTEL_METRIC_EXPORT_INTERVAL":     "1",
	} {
		t.Setenv(k, v)
	}
	r := otlptest.Start(t)
	p := setup(t, Config{}, quiet(r, "OTEL_RESOURCE_ATTRIBUTES", "team=ours"))
	_, span := p.TracerProvider.Tracer("t").Start(context.Background(), "op", trace.WithAttributes(
		attribute.String("db.system.name", "qlite"),
	))
	span.End()
	c, err := p.MeterProvider.Meter("t").Int64Counter("qlite.test.ops")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(context.Background(), 1)
	time.Sleep(100 * time.Millisecond)
	if n := len(r.Metrics()); n != 0 {
		t.Fatalf("%d metrics before Shutdown: the process's export interval was used", n)
	}
	shutdown(t, p)

	spans := r.Spans()
	if len(spans) != 1 || len(spans[0].GetAttributes()) != 1 {
		t.Fatalf("spans %v", spans)
	}
	res := attrs(r.ResourceSpans()[0].GetResource().GetAttributes())
	// The SDK merges the process's OTEL_RESOURCE_ATTRIBUTES under the
	// resource it is given: keys Getenv provides must win.
	if res["service.name"] != "qlite" || res["team"] != "ours" {
		t.Fatalf("resource %v", res)
	}
	if got := r.Headers().Get("x-leak"); len(got) != 0 {
		t.Fatalf("headers %v", r.Headers())
	}
}

func TestSetupErrors(t *testing.T) {
	f := func(vars ...string) {
		t.Helper()
		m := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}
		for i := 0; i+1 < len(vars); i += 2 {
			m[vars[i]] = vars[i+1]
		}
		p, err := Setup(context.Background(), Config{Getenv: env(m)})
		if !errors.Is(err, ErrConfig) || p != nil {
			t.Fatalf("%v: got %v, %v; want an ErrConfig", vars, p, err)
		}
	}
	f("OTEL_TRACES_SAMPLER", "jaeger_remote")
	f("OTEL_TRACES_SAMPLER", "traceidratio", "OTEL_TRACES_SAMPLER_ARG", "1.5")
	f("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG", "half")
	f("OTEL_TRACES_EXPORTER", "console")
	f("OTEL_METRICS_EXPORTER", "prometheus")
	f("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://127.0.0.1:1")
	f("OTEL_EXPORTER_OTLP_ENDPOINT", "http://")
	f("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://%zz")
	f("OTEL_EXPORTER_OTLP_HEADERS", "novalue")
	f("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=%zz")
	f("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")
	f("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "0")
	f("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")
	f("OTEL_METRIC_EXPORT_INTERVAL", "-5")
	f("OTEL_BSP_SCHEDULE_DELAY", "soon")
	f("OTEL_BSP_MAX_QUEUE_SIZE", "0")
	f("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "many")
	f("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "sometimes")
	f("OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", "linear")
	f("OTEL_METRICS_EXEMPLAR_FILTER", "some")
	f("OTEL_RESOURCE_ATTRIBUTES", "a=b,c")
	f("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1", "OTEL_EXPORTER_OTLP_CERTIFICATE", "/nonexistent/ca.pem")
	f("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1", "OTEL_EXPORTER_OTLP_CERTIFICATE", os.Args[0])
	f("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/nonexistent/c.pem")
	f("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1",
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/nonexistent/c.pem", "OTEL_EXPORTER_OTLP_CLIENT_KEY", "/nonexistent/k.pem")
}

func TestReadExporter(t *testing.T) {
	f := func(vars map[string]string, target string, insecure bool, headers map[string]string, timeout time.Duration) {
		t.Helper()
		e, err := readExporter(env(vars), "TRACES")
		if err != nil {
			t.Fatalf("%v: %v", vars, err)
		}
		if e.target != target || e.insecure != insecure || !maps.Equal(e.headers, headers) || e.timeout != timeout {
			t.Fatalf("%v: got %q insecure=%v headers=%v timeout=%v, want %q %v %v %v",
				vars, e.target, e.insecure, e.headers, e.timeout, target, insecure, headers, timeout)
		}
		if !insecure && e.tls == nil {
			t.Fatalf("%v: secure without a TLS config", vars)
		}
	}
	const s = 10 * time.Second
	f(nil, "localhost:4317", true, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1"}, "h:1", true, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "HTTP://h:1/"}, "h:1", true, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://h:1"}, "h:1", false, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "h:1"}, "h:1", false, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "h:1", "OTEL_EXPORTER_OTLP_INSECURE": "TRUE"}, "h:1", true, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "h:1", "OTEL_EXPORTER_OTLP_INSECURE": "true",
		"OTEL_EXPORTER_OTLP_TRACES_INSECURE": "false"}, "h:1", false, nil, s)
	// A scheme decides, whatever INSECURE says.
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://h:1", "OTEL_EXPORTER_OTLP_INSECURE": "true"}, "h:1", false, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://t:2"},
		"t:2", false, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "https://m:2"}, "localhost:4317", true, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "unix:///run/otel.sock"}, "unix:///run/otel.sock", true, nil, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": " a = b%20c ,d=e=f,,"}, "localhost:4317", true,
		map[string]string{"a": "b c", "d": "e=f"}, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "a=1", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "b=2"},
		"localhost:4317", true, map[string]string{"b": "2"}, s)
	f(map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "1500"}, "localhost:4317", true, nil, 1500*time.Millisecond)
	f(map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "1500", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "20"},
		"localhost:4317", true, nil, 20*time.Millisecond)

	e, err := readExporter(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":    "https://h:1",
		"OTEL_EXPORTER_OTLP_CERTIFICATE": "/etc/ssl/certs/ca-certificates.crt",
	}), "METRICS")
	if err != nil {
		if _, statErr := os.Stat("/etc/ssl/certs/ca-certificates.crt"); statErr != nil {
			t.Skip("no system CA bundle")
		}
		t.Fatal(err)
	}
	if e.tls.RootCAs == nil {
		t.Fatal("OTEL_EXPORTER_OTLP_CERTIFICATE not used")
	}
}

func TestResource(t *testing.T) {
	f := func(cfgName string, vars map[string]string, want map[string]string) {
		t.Helper()
		res, err := newResource(context.Background(), env(vars), cfgName)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, kv := range res.Attributes() {
			got[string(kv.Key)] = kv.Value.Emit()
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%q %v: %s = %q, want %q (all %v)", cfgName, vars, k, got[k], v, got)
			}
		}
	}
	f("", nil, map[string]string{"service.name": "qlite", "service.version": version()})
	f("svc", nil, map[string]string{"service.name": "svc"})
	f("svc", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=attr,service.version=9"},
		map[string]string{"service.name": "attr", "service.version": "9"})
	f("svc", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=attr", "OTEL_SERVICE_NAME": "env"},
		map[string]string{"service.name": "env"})
	f("", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "k=%E2%9C%93,empty="},
		map[string]string{"k": "✓", "empty": "", "telemetry.sdk.language": "go"})
}

func TestPropagator(t *testing.T) {
	f := func(p *Providers) {
		t.Helper()
		sc := trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    trace.TraceID{0xa1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
			SpanID:     trace.SpanID{0xb1, 2, 3, 4, 5, 6, 7, 8},
			TraceFlags: trace.FlagsSampled,
		})
		member, err := baggage.NewMember("tenant", "acme")
		if err != nil {
			t.Fatal(err)
		}
		bag, err := baggage.New(member)
		if err != nil {
			t.Fatal(err)
		}
		ctx := baggage.ContextWithBaggage(trace.ContextWithSpanContext(context.Background(), sc), bag)
		carrier := propagation.MapCarrier{}
		p.Propagator.Inject(ctx, carrier)
		if got, want := carrier.Get("traceparent"), fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID()); got != want {
			t.Fatalf("traceparent %q, want %q", got, want)
		}
		if got := carrier.Get("baggage"); got != "tenant=acme" {
			t.Fatalf("baggage %q", got)
		}
		out := p.Propagator.Extract(context.Background(), carrier)
		if got := trace.SpanContextFromContext(out); !got.Equal(sc.WithRemote(true)) {
			t.Fatalf("extracted %v, want %v", got, sc)
		}
		if got := baggage.FromContext(out).Member("tenant").Value(); got != "acme" {
			t.Fatalf("extracted baggage %q", got)
		}
	}
	f(setup(t, Config{}, nil))
	f(setup(t, Config{Force: true}, map[string]string{"OTEL_METRICS_EXPORTER": "none", "OTEL_TRACES_EXPORTER": "none"}))
}

// TestProvidersByHand checks that a Providers built without Setup (as
// tests elsewhere do) hands its fields to the engine and shuts them down.
func TestProvidersByHand(t *testing.T) {
	r := otlptest.Start(t)
	built := setup(t, Config{}, quiet(r, "OTEL_METRICS_EXPORTER", "none"))
	p := &Providers{TracerProvider: built.TracerProvider, Propagator: propagation.TraceContext{}}
	o := engine.Options{}
	p.EngineOptions(&o)
	if o.TracerProvider != built.TracerProvider || o.MeterProvider != nil {
		t.Fatalf("engine options %v, %v", o.TracerProvider, o.MeterProvider)
	}
	_, span := o.TracerProvider.Tracer("t").Start(context.Background(), "op")
	span.End()
	shutdown(t, p)
	if n := len(r.Spans()); n != 1 {
		t.Fatalf("%d spans after Shutdown", n)
	}
}

// TestBuildInfoReadOnce checks that BuildInfo answers what the binary
// records, as read afresh, without reading it again on every call (the
// health check and GET / call it per request).
func TestBuildInfoReadOnce(t *testing.T) {
	if got, want := BuildInfo(), readBuildInfo(); got != want {
		t.Fatalf("BuildInfo() = %+v, read afresh %+v", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = BuildInfo() }); n != 0 {
		t.Fatalf("BuildInfo allocates %v times a call, want 0 (read once)", n)
	}
}
