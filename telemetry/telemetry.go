package telemetry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"

	"github.com/qlite/qlite/engine"
)

// ErrConfig is wrapped by every error Setup returns for an OTEL_* variable
// it cannot use.
var ErrConfig = errors.New("telemetry: invalid configuration")

// DurationMetric is the histogram whose buckets Setup fixes to
// DurationBuckets.
const DurationMetric = "db.client.operation.duration"

// DurationBuckets are the explicit bucket boundaries, in seconds, of
// DurationMetric.
var DurationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// Config configures Setup. The zero value reads the process environment.
type Config struct {
	// ServiceName is the service.name resource attribute unless
	// OTEL_SERVICE_NAME or a service.name in OTEL_RESOURCE_ATTRIBUTES is
	// set. Default: "qlite".
	ServiceName string
	// Getenv reads the configuration variables. Every variable Setup and
	// the exporters use is read through it and handed to the SDK
	// explicitly. Default: os.Getenv.
	Getenv func(string) string
	// Force enables telemetry even when no OTLP endpoint variable is set;
	// the exporters then send to http://localhost:4317. OTEL_SDK_DISABLED
	// still turns it off.
	Force bool
}

// Providers holds what Setup built. When telemetry is disabled the two
// provider fields are nil and only Propagator is set.
type Providers struct {
	// TracerProvider batches spans to the OTLP trace exporter, or is nil.
	TracerProvider trace.TracerProvider
	// MeterProvider exports metrics periodically to the OTLP metrics
	// exporter, or is nil.
	MeterProvider metric.MeterProvider
	// Propagator reads and writes W3C trace context and baggage.
	Propagator propagation.TextMapPropagator

	shutdown atomic.Bool
}

// flusher is what the SDK providers implement beyond the API.
type flusher interface {
	ForceFlush(context.Context) error
	Shutdown(context.Context) error
}

// Setup builds the providers described by the OTEL_* variables read
// through cfg.Getenv.
//
// Telemetry is enabled when OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_METRICS_ENDPOINT
// is set, or cfg.Force is true, and OTEL_SDK_DISABLED is not "true".
// Otherwise Setup returns Providers with nil provider fields. A variable
// with a value Setup cannot use is an error wrapping ErrConfig; nothing is
// started then. The caller owns the result and must call Shutdown.
func Setup(ctx context.Context, cfg Config) (*Providers, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	p := &Providers{Propagator: propagation.NewCompositeTextMapPropagator(
		propagation.TraceContext{}, propagation.Baggage{},
	)}
	if !enabled(getenv, cfg.Force) {
		return p, nil
	}
	s, err := readSettings(getenv)
	if err != nil {
		return nil, err
	}
	res, err := newResource(ctx, getenv, cfg.ServiceName)
	if err != nil {
		return nil, err
	}

	if s.traces != nil {
		exp, err := otlptracegrpc.New(ctx, traceExporterOptions(s.traces)...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: trace exporter: %w", err)
		}
		p.TracerProvider = newTracerProvider(sdktrace.NewTracerProvider(
			sdktrace.WithResource(res),
			sdktrace.WithSampler(s.sampler),
			sdktrace.WithRawSpanLimits(s.spanLimits),
			sdktrace.WithSpanProcessor(newBatcher(exp, s.batch)),
		))
	}
	if s.metrics != nil {
		exp, err := otlpmetricgrpc.New(ctx, metricExporterOptions(s.metrics, s.temporality, s.aggregation)...)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("telemetry: metric exporter: %w", err), p.Shutdown(ctx))
		}
		mp := sdkmetric.NewMeterProvider(
			sdkmetric.WithResource(res),
			sdkmetric.WithExemplarFilter(s.exemplars),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp,
				sdkmetric.WithInterval(s.interval),
				sdkmetric.WithTimeout(s.exportTimeout),
			)),
			sdkmetric.WithView(sdkmetric.NewView(
				sdkmetric.Instrument{Name: DurationMetric, Kind: sdkmetric.InstrumentKindHistogram},
				sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
					Boundaries: slices.Clone(DurationBuckets),
				}},
			)),
		)
		tp, _ := p.TracerProvider.(*tracerProvider)
		p.MeterProvider = &meterProvider{sdk: mp, tp: tp}
	}
	return p, nil
}

// EngineOptions sets o's TracerProvider and MeterProvider to p's. Disabled
// (or nil) providers set both to nil, which turns the engine's telemetry
// off.
func (p *Providers) EngineOptions(o *engine.Options) {
	o.TracerProvider, o.MeterProvider = nil, nil
	if p != nil {
		o.TracerProvider, o.MeterProvider = p.TracerProvider, p.MeterProvider
	}
}

// flushers returns the providers that can flush, tracer first.
func (p *Providers) flushers() []flusher {
	var out []flusher
	if f, ok := p.TracerProvider.(flusher); ok {
		out = append(out, f)
	}
	if f, ok := p.MeterProvider.(flusher); ok {
		out = append(out, f)
	}
	return out
}

// ForceFlush exports every span and metric recorded so far. It returns
// errors.Join of both providers' errors. Like Shutdown, it acts on
// whichever of the two provider fields have ForceFlush and Shutdown
// methods, as the SDK's do.
func (p *Providers) ForceFlush(ctx context.Context) error {
	if p == nil {
		return nil
	}
	var errs []error
	for _, f := range p.flushers() {
		errs = append(errs, f.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// Shutdown exports what is still pending, stops both providers and closes
// the exporters' connections. It returns errors.Join of both providers'
// errors. Calling it again, or on a nil or disabled Providers, returns nil.
// Tracers and meters obtained before become no-ops.
func (p *Providers) Shutdown(ctx context.Context) error {
	if p == nil || !p.shutdown.CompareAndSwap(false, true) {
		return nil
	}
	var errs []error
	for _, f := range p.flushers() {
		if err := f.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("telemetry: %T: %w", f, err))
		}
	}
	return errors.Join(errs...)
}

func enabled(getenv func(string) string, force bool) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false
	}
	if force {
		return true
	}
	_, ok := lookup(getenv, "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
	return ok
}

// lookup returns the trimmed value of the first of keys that is set to a
// non-empty value.
func lookup(getenv func(string) string, keys ...string) (string, bool) {
	for _, k := range keys {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v, true
		}
	}
	return "", false
}

// settings is everything Setup reads from the variables.
type settings struct {
	traces  *exporterSettings // nil: OTEL_TRACES_EXPORTER=none
	metrics *exporterSettings // nil: OTEL_METRICS_EXPORTER=none

	sampler    sdktrace.Sampler
	spanLimits sdktrace.SpanLimits
	batch      batchSettings

	interval, exportTimeout time.Duration
	temporality             sdkmetric.TemporalitySelector
	aggregation             sdkmetric.AggregationSelector
	exemplars               exemplar.Filter
}

// batchSettings configure the span batcher (OTEL_BSP_*).
type batchSettings struct {
	delay, timeout time.Duration
	queue, size    int
}

// exporterSettings configures one OTLP/gRPC exporter.
type exporterSettings struct {
	target   string // gRPC dial target
	insecure bool
	tls      *tls.Config // when !insecure
	headers  map[string]string
	timeout  time.Duration
	gzip     bool
}

func readSettings(getenv func(string) string) (*settings, error) {
	s := &settings{}
	var err error
	var errs []error
	keep := func(e error) {
		if e != nil {
			errs = append(errs, e)
		}
	}

	if on, e := exporterOn(getenv, "OTEL_TRACES_EXPORTER"); e != nil {
		keep(e)
	} else if on {
		s.traces, err = readExporter(getenv, "TRACES")
		keep(err)
	}
	if on, e := exporterOn(getenv, "OTEL_METRICS_EXPORTER"); e != nil {
		keep(e)
	} else if on {
		s.metrics, err = readExporter(getenv, "METRICS")
		keep(err)
	}

	s.sampler, err = readSampler(getenv)
	keep(err)

	ints := []struct {
		dst  *int
		def  int
		keys []string
	}{
		{&s.spanLimits.AttributeValueLengthLimit, sdktrace.DefaultAttributeValueLengthLimit,
			[]string{"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"}},
		{&s.spanLimits.AttributeCountLimit, sdktrace.DefaultAttributeCountLimit,
			[]string{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT"}},
		{&s.spanLimits.EventCountLimit, sdktrace.DefaultEventCountLimit, []string{"OTEL_SPAN_EVENT_COUNT_LIMIT"}},
		{&s.spanLimits.LinkCountLimit, sdktrace.DefaultLinkCountLimit, []string{"OTEL_SPAN_LINK_COUNT_LIMIT"}},
		{&s.spanLimits.AttributePerEventCountLimit, sdktrace.DefaultAttributePerEventCountLimit,
			[]string{"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT"}},
		{&s.spanLimits.AttributePerLinkCountLimit, sdktrace.DefaultAttributePerLinkCountLimit,
			[]string{"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT"}},
		{&s.batch.queue, sdktrace.DefaultMaxQueueSize, []string{"OTEL_BSP_MAX_QUEUE_SIZE"}},
		{&s.batch.size, sdktrace.DefaultMaxExportBatchSize, []string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE"}},
	}
	for _, f := range ints {
		*f.dst, err = readInt(getenv, f.def, f.keys...)
		keep(err)
	}
	s.spanLimits.AttributeValueDepthLimit = sdktrace.DefaultAttributeValueDepthLimit
	if s.batch.queue <= 0 || s.batch.size <= 0 {
		keep(fmt.Errorf("%w: OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE must be positive", ErrConfig))
	}

	durations := []struct {
		dst *time.Duration
		def time.Duration
		key string
	}{
		{&s.batch.delay, sdktrace.DefaultScheduleDelay * time.Millisecond, "OTEL_BSP_SCHEDULE_DELAY"},
		{&s.batch.timeout, sdktrace.DefaultExportTimeout * time.Millisecond, "OTEL_BSP_EXPORT_TIMEOUT"},
		{&s.interval, 60 * time.Second, "OTEL_METRIC_EXPORT_INTERVAL"},
		{&s.exportTimeout, 30 * time.Second, "OTEL_METRIC_EXPORT_TIMEOUT"},
	}
	for _, f := range durations {
		*f.dst, err = readMillis(getenv, f.def, f.key)
		keep(err)
	}

	switch v, _ := lookup(getenv, "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"); strings.ToLower(v) {
	case "", "cumulative":
		s.temporality = sdkmetric.CumulativeTemporalitySelector
	case "delta":
		s.temporality = sdkmetric.DeltaTemporalitySelector
	case "lowmemory":
		s.temporality = sdkmetric.LowMemoryTemporalitySelector
	default:
		keep(fmt.Errorf("%w: OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE %q", ErrConfig, v))
	}
	switch v, _ := lookup(getenv, "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION"); strings.ToLower(v) {
	case "", "explicit_bucket_histogram":
		s.aggregation = sdkmetric.DefaultAggregationSelector
	case "base2_exponential_bucket_histogram":
		s.aggregation = func(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
			if k == sdkmetric.InstrumentKindHistogram {
				return sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}
			}
			return sdkmetric.DefaultAggregationSelector(k)
		}
	default:
		keep(fmt.Errorf("%w: OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION %q", ErrConfig, v))
	}
	switch v, _ := lookup(getenv, "OTEL_METRICS_EXEMPLAR_FILTER"); strings.ToLower(v) {
	case "", "trace_based":
		s.exemplars = exemplar.TraceBasedFilter
	case "always_on":
		s.exemplars = exemplar.AlwaysOnFilter
	case "always_off":
		s.exemplars = exemplar.AlwaysOffFilter
	default:
		keep(fmt.Errorf("%w: OTEL_METRICS_EXEMPLAR_FILTER %q", ErrConfig, v))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// exporterOn reads OTEL_TRACES_EXPORTER or OTEL_METRICS_EXPORTER: "otlp"
// (the default) or "none".
func exporterOn(getenv func(string) string, key string) (bool, error) {
	switch v, _ := lookup(getenv, key); strings.ToLower(v) {
	case "", "otlp":
		return true, nil
	case "none":
		return false, nil
	default:
		return false, fmt.Errorf("%w: %s %q: only otlp and none are supported", ErrConfig, key, v)
	}
}

// readExporter reads OTEL_EXPORTER_OTLP_<SIGNAL>_* and, for what those
// leave unset, OTEL_EXPORTER_OTLP_*.
func readExporter(getenv func(string) string, signal string) (*exporterSettings, error) {
	get := func(name string) (string, bool) {
		return lookup(getenv, "OTEL_EXPORTER_OTLP_"+signal+"_"+name, "OTEL_EXPORTER_OTLP_"+name)
	}
	name := func(n string) string { return "OTEL_EXPORTER_OTLP_[" + signal + "_]" + n }
	e := &exporterSettings{}

	endpoint, ok := get("ENDPOINT")
	if !ok {
		endpoint = "http://localhost:4317"
	}
	if scheme, _, found := strings.Cut(endpoint, "://"); found {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, name("ENDPOINT"), err)
		}
		switch strings.ToLower(scheme) {
		case "http":
			e.target, e.insecure = u.Host, true
		case "https":
			e.target = u.Host
		case "unix":
			e.target, e.insecure = endpoint, true
		default:
			return nil, fmt.Errorf("%w: %s %q: scheme must be http, https or unix", ErrConfig, name("ENDPOINT"), endpoint)
		}
		if e.target == "" {
			return nil, fmt.Errorf("%w: %s %q: no host", ErrConfig, name("ENDPOINT"), endpoint)
		}
	} else {
		e.target = endpoint
		v, _ := get("INSECURE")
		e.insecure = strings.EqualFold(v, "true")
	}

	if !e.insecure {
		e.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		if file, ok := get("CERTIFICATE"); ok {
			pem, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrConfig, name("CERTIFICATE"), err)
			}
			e.tls.RootCAs = x509.NewCertPool()
			if !e.tls.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: %s %q: no PEM certificate", ErrConfig, name("CERTIFICATE"), file)
			}
		}
		certFile, certOK := get("CLIENT_CERTIFICATE")
		keyFile, keyOK := get("CLIENT_KEY")
		if certOK != keyOK {
			return nil, fmt.Errorf("%w: %s and %s must be set together", ErrConfig, name("CLIENT_CERTIFICATE"), name("CLIENT_KEY"))
		}
		if certOK {
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrConfig, name("CLIENT_CERTIFICATE"), err)
			}
			e.tls.Certificates = []tls.Certificate{cert}
		}
	}

	if v, ok := get("HEADERS"); ok {
		h, err := parseList(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrConfig, name("HEADERS"), err)
		}
		e.headers = make(map[string]string, len(h))
		for _, kv := range h {
			e.headers[kv[0]] = kv[1]
		}
	}

	var err error
	if e.timeout, err = readMillis(getenv, 10*time.Second,
		"OTEL_EXPORTER_OTLP_"+signal+"_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"); err != nil {
		return nil, err
	}

	switch v, _ := get("COMPRESSION"); strings.ToLower(v) {
	case "", "none":
	case "gzip":
		e.gzip = true
	default:
		return nil, fmt.Errorf("%w: %s %q: must be gzip or none", ErrConfig, name("COMPRESSION"), v)
	}
	return e, nil
}

// grpcOptions are the transport settings both exporters share. Every
// setting is explicit so that nothing the exporters read from the process
// environment takes effect.
func (e *exporterSettings) grpcOptions() (credentials.TransportCredentials, grpc.DialOption) {
	creds := insecure.NewCredentials()
	if !e.insecure {
		creds = credentials.NewTLS(e.tls)
	}
	compressor := encoding.Identity
	if e.gzip {
		compressor = "gzip"
	}
	return creds, grpc.WithDefaultCallOptions(grpc.UseCompressor(compressor))
}

func traceExporterOptions(e *exporterSettings) []otlptracegrpc.Option {
	creds, compression := e.grpcOptions()
	headers := e.headers
	if headers == nil {
		headers = map[string]string{}
	}
	return []otlptracegrpc.Option{
		otlptracegrpc.WithEndpoint(e.target),
		otlptracegrpc.WithTLSCredentials(creds),
		otlptracegrpc.WithHeaders(headers),
		otlptracegrpc.WithTimeout(e.timeout),
		otlptracegrpc.WithDialOption(compression),
	}
}

func metricExporterOptions(e *exporterSettings, t sdkmetric.TemporalitySelector, a sdkmetric.AggregationSelector) []otlpmetricgrpc.Option {
	creds, compression := e.grpcOptions()
	headers := e.headers
	if headers == nil {
		headers = map[string]string{}
	}
	return []otlpmetricgrpc.Option{
		otlpmetricgrpc.WithEndpoint(e.target),
		otlpmetricgrpc.WithTLSCredentials(creds),
		otlpmetricgrpc.WithHeaders(headers),
		otlpmetricgrpc.WithTimeout(e.timeout),
		otlpmetricgrpc.WithDialOption(compression),
		otlpmetricgrpc.WithTemporalitySelector(t),
		otlpmetricgrpc.WithAggregationSelector(a),
	}
}

// readSampler reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG.
// Default: parentbased_always_on.
func readSampler(getenv func(string) string) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		arg, ok := lookup(getenv, "OTEL_TRACES_SAMPLER_ARG")
		if !ok {
			return 1, nil
		}
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("%w: OTEL_TRACES_SAMPLER_ARG %q: want a ratio in [0, 1]", ErrConfig, arg)
		}
		return r, nil
	}
	name, _ := lookup(getenv, "OTEL_TRACES_SAMPLER")
	switch strings.ToLower(name) {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		return sdktrace.TraceIDRatioBased(r), nil
	case "parentbased_traceidratio":
		r, err := ratio()
		if err != nil {
			return nil, err
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), nil
	default:
		return nil, fmt.Errorf("%w: OTEL_TRACES_SAMPLER %q", ErrConfig, name)
	}
}

// readInt returns the integer value of the first of keys that is set, or
// def.
func readInt(getenv func(string) string, def int, keys ...string) (int, error) {
	for _, k := range keys {
		if v, ok := lookup(getenv, k); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("%w: %s %q: not an integer", ErrConfig, k, v)
			}
			return n, nil
		}
	}
	return def, nil
}

// readMillis returns the duration in milliseconds of the first of keys
// that is set, or def. It must be positive.
func readMillis(getenv func(string) string, def time.Duration, keys ...string) (time.Duration, error) {
	for _, k := range keys {
		if v, ok := lookup(getenv, k); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("%w: %s %q: want a positive number of milliseconds", ErrConfig, k, v)
			}
			return time.Duration(n) * time.Millisecond, nil
		}
	}
	return def, nil
}

// parseList parses "k1=v1,k2=v2" with percent-encoded values, the format
// of OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS.
func parseList(s string) ([][2]string, error) {
	var out [][2]string
	for item := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want key=value", item)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		out = append(out, [2]string{k, val})
	}
	return out, nil
}

// newResource describes this process: the SDK, service.name,
// service.version and the commit built (vcs.ref.head.revision), overridden by OTEL_RESOURCE_ATTRIBUTES, whose
// service.name is overridden by OTEL_SERVICE_NAME.
func newResource(ctx context.Context, getenv func(string) string, serviceName string) (*resource.Resource, error) {
	if serviceName == "" {
		serviceName = "qlite"
	}
	attrs := []attribute.KeyValue{
		semconv.ServiceName(serviceName),
		semconv.ServiceVersion(version()),
	}
	if c := BuildInfo().Commit; c != "" {
		attrs = append(attrs, semconv.VCSRefHeadRevision(c))
	}
	if v, ok := lookup(getenv, "OTEL_RESOURCE_ATTRIBUTES"); ok {
		kvs, err := parseList(v)
		if err != nil {
			return nil, fmt.Errorf("%w: OTEL_RESOURCE_ATTRIBUTES: %w", ErrConfig, err)
		}
		for _, kv := range kvs {
			attrs = append(attrs, attribute.String(kv[0], kv[1]))
		}
	}
	if v, ok := lookup(getenv, "OTEL_SERVICE_NAME"); ok {
		attrs = append(attrs, semconv.ServiceName(v))
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attrs...),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return res, nil
}
