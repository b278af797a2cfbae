package otlptest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	collmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
)

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func traceRequest(service string, names ...string) *colltracepb.ExportTraceServiceRequest {
	var spans []*tracepb.Span
	for _, n := range names {
		spans = append(spans, &tracepb.Span{Name: n, TraceId: make([]byte, 16), SpanId: make([]byte, 8)})
	}
	return &colltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{
			Key:   "service.name",
			Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: service}},
		}}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}},
	}}}
}

func metricsRequest(names ...string) *collmetricspb.ExportMetricsServiceRequest {
	var ms []*metricspb.Metric
	for _, n := range names {
		ms = append(ms, &metricspb.Metric{Name: n, Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
			DataPoints: []*metricspb.NumberDataPoint{{Value: &metricspb.NumberDataPoint_AsInt{AsInt: 1}}},
		}}})
	}
	return &collmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: ms}},
	}}}
}

func spanNames(spans []*tracepb.Span) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.GetName())
	}
	return out
}

func TestReceiverKeepsRequests(t *testing.T) {
	r := Start(t)
	if r.Spans() != nil || r.Metrics() != nil || r.Headers() != nil {
		t.Fatal("a new receiver holds data")
	}
	conn := dial(t, r.Endpoint())
	traces := colltracepb.NewTraceServiceClient(conn)
	metrics := collmetricspb.NewMetricsServiceClient(conn)
	ctx := context.Background()

	if _, err := traces.Export(ctx, traceRequest("a", "s1", "s2")); err != nil {
		t.Fatal(err)
	}
	tctx := metadata.AppendToOutgoingContext(ctx, "x-tenant", "acme")
	if _, err := traces.Export(tctx, traceRequest("b", "s3"), grpc.UseCompressor(gzip.Name)); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(spanNames(r.Spans())); got != "[s1 s2 s3]" {
		t.Fatalf("spans %s", got)
	}
	rs := r.ResourceSpans()
	if len(rs) != 2 || rs[1].GetResource().GetAttributes()[0].GetValue().GetStringValue() != "b" {
		t.Fatalf("resource spans %v", rs)
	}
	if got := r.Headers().Get("x-tenant"); len(got) != 1 || got[0] != "acme" {
		t.Fatalf("x-tenant %q, headers %v", got, r.Headers())
	}

	// The returned values are copies: changing them changes nothing held.
	r.Spans()[0].Name = "changed"
	rs[0].ScopeSpans = nil
	if got := fmt.Sprint(spanNames(r.Spans())); got != "[s1 s2 s3]" {
		t.Fatalf("spans after mutating copies %s", got)
	}

	if _, err := metrics.Export(ctx, metricsRequest("m1", "m2")); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range r.Metrics() {
		names = append(names, m.GetName())
	}
	if fmt.Sprint(names) != "[m1 m2]" || len(r.ResourceMetrics()) != 1 {
		t.Fatalf("metrics %v", names)
	}
	if got := r.Headers().Get("x-tenant"); len(got) != 0 {
		t.Fatalf("headers are not those of the last request: %v", r.Headers())
	}
}

func TestReceiverWaitWakesOnExport(t *testing.T) {
	r := Start(t)
	conn := dial(t, r.Endpoint())
	traces := colltracepb.NewTraceServiceClient(conn)
	metrics := collmetricspb.NewMetricsServiceClient(conn)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 3 {
			time.Sleep(10 * time.Millisecond)
			if _, err := traces.Export(context.Background(), traceRequest("a", fmt.Sprint("s", i))); err != nil {
				t.Error(err)
			}
		}
		if _, err := metrics.Export(context.Background(), metricsRequest("m")); err != nil {
			t.Error(err)
		}
	}()
	r.WaitSpans(t, func(s []*tracepb.Span) bool { return len(s) == 3 }, 10*time.Second)
	r.WaitMetrics(t, func(m []*metricspb.Metric) bool { return len(m) == 1 && m[0].GetName() == "m" }, 10*time.Second)
	wg.Wait()
}

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	failed string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) { f.failed = fmt.Sprintf(format, args...) }

func TestReceiverWaitTimesOut(t *testing.T) {
	r := Start(t)
	ftb := &fatalTB{TB: t}
	start := time.Now()
	r.WaitSpans(ftb, func(s []*tracepb.Span) bool { return len(s) > 0 }, 50*time.Millisecond)
	if ftb.failed == "" {
		t.Fatal("WaitSpans did not fail without spans")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("WaitSpans gave up after %v", d)
	}
	ftb.failed = ""
	r.WaitMetrics(ftb, func(m []*metricspb.Metric) bool { return len(m) > 0 }, 10*time.Millisecond)
	if ftb.failed == "" {
		t.Fatal("WaitMetrics did not fail without metrics")
	}
}

func TestReceiverStopsAtCleanup(t *testing.T) {
	var addr string
	t.Run("serve", func(t *testing.T) {
		r := Start(t)
		addr = r.Endpoint()
		conn := dial(t, addr)
		if _, err := colltracepb.NewTraceServiceClient(conn).Export(context.Background(), traceRequest("a", "s")); err != nil {
			t.Fatal(err)
		}
	})
	conn := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := colltracepb.NewTraceServiceClient(conn).Export(ctx, traceRequest("a", "s")); err == nil {
		t.Fatal("export succeeded after the receiver's test finished")
	}
}

func TestReceiverDiscardCounts(t *testing.T) {
	r := Start(t)
	traces := colltracepb.NewTraceServiceClient(dial(t, r.Endpoint()))
	ctx := context.Background()
	if _, err := traces.Export(ctx, traceRequest("a", "s1")); err != nil {
		t.Fatal(err)
	}
	r.Discard()
	if _, err := traces.Export(ctx, traceRequest("a", "s2", "s3")); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(spanNames(r.Spans())); got != "[s1]" {
		t.Fatalf("kept spans %s, want those sent before Discard", got)
	}
	if n := r.SpanCount(); n != 3 {
		t.Fatalf("SpanCount %d, want 3", n)
	}
}
