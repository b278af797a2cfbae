// Package telemetry builds the OpenTelemetry providers qlite records to and
// hands them to the engine.
//
// # Model
//
// Setup reads the standard OTEL_* variables and returns Providers: an SDK
// TracerProvider that batches spans to an OTLP/gRPC trace exporter (through
// a batching span processor of this package that wakes its goroutine per
// batch rather than per span, as the SDK's does), an SDK
// MeterProvider whose periodic reader pushes to an OTLP/gRPC metrics
// exporter, and a W3C trace-context and baggage propagator. Both providers
// are the SDK's, wrapped in one respect: a sampled span's attributes and
// its end, and a duration measured in its context after it ends, are
// applied to the SDK by a goroutine of the provider in batches, so that
// the SDK's work at the end of a span does not run on the goroutine of the
// operation it traces (see lateend.go). ForceFlush and Shutdown apply
// what is queued first; what a caller sees of a span is unchanged.
// Nothing is installed globally: the caller passes the providers on, to
// the engine with EngineOptions and to servers as they need.
//
// Telemetry is off unless an OTLP endpoint variable is set (or
// Config.Force); off, the provider fields are nil so that instrumented code
// skips recording altogether, and only the propagator is set.
//
// # Variables
//
// All are read through Config.Getenv, then given to the SDK as explicit
// options, so a Getenv other than os.Getenv decides the configuration. One
// exception is the SDK's own: it always merges the process's
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME under the resource Setup
// builds, so attributes only the process environment names still appear,
// while every attribute Setup sets wins. A per-signal variable (TRACES_ or METRICS_ after
// OTEL_EXPORTER_OTLP_) takes precedence over the general one.
//
//   - OTEL_SDK_DISABLED=true turns everything off.
//   - OTEL_EXPORTER_OTLP_[SIGNAL_]ENDPOINT: http://host:port (plain gRPC),
//     https://host:port (TLS), unix:///path, or host:port (TLS unless
//     OTEL_EXPORTER_OTLP_[SIGNAL_]INSECURE=true). Default:
//     http://localhost:4317.
//   - OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS: k=v,k2=v2 with percent-encoded
//     values, sent as gRPC metadata.
//   - OTEL_EXPORTER_OTLP_[SIGNAL_]TIMEOUT in milliseconds (default 10000),
//     OTEL_EXPORTER_OTLP_[SIGNAL_]COMPRESSION gzip or none (default none),
//     OTEL_EXPORTER_OTLP_[SIGNAL_]CERTIFICATE, CLIENT_CERTIFICATE and
//     CLIENT_KEY (PEM files).
//   - OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER: otlp (default) or
//     none, which leaves that provider nil.
//   - OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (k=v,... with
//     percent-encoded values) describe the resource; service.name defaults
//     to Config.ServiceName or "qlite", service.version to the module
//     version in the binary; vcs.ref.head.revision is the commit the
//     binary was built from, when the build recorded it (BuildInfo).
//   - OTEL_TRACES_SAMPLER: always_on, always_off, traceidratio,
//     parentbased_always_on (default), parentbased_always_off or
//     parentbased_traceidratio; OTEL_TRACES_SAMPLER_ARG is the ratio
//     (default 1).
//   - OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT,
//     OTEL_BSP_MAX_QUEUE_SIZE and OTEL_BSP_MAX_EXPORT_BATCH_SIZE, and the
//     OTEL_SPAN_*, OTEL_EVENT_*, OTEL_LINK_* and OTEL_ATTRIBUTE_* limits,
//     with the SDK's defaults. A full batch is exported at once; a partial
//     one at the schedule delay or on ForceFlush.
//   - OTEL_METRIC_EXPORT_INTERVAL (default 60000) and
//     OTEL_METRIC_EXPORT_TIMEOUT (default 30000) in milliseconds,
//     OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE (cumulative,
//     delta, lowmemory), OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION
//     and OTEL_METRICS_EXEMPLAR_FILTER.
//
// A value Setup cannot use makes it fail with an error wrapping ErrConfig
// rather than run with a configuration nobody asked for. Whatever the
// aggregation variables say, the DurationMetric histogram uses
// DurationBuckets.
//
// # Lifetimes and concurrency
//
// The providers are safe for concurrent use from the moment Setup returns.
// Exports run in background goroutines, which Shutdown stops
// after exporting what is pending; a failing collector never blocks
// recording, it only loses data once the queues are full (dropped spans are
// counted and reported to the OpenTelemetry error handler). Shutdown
// is idempotent and nil-safe; after it, tracers and meters from these
// providers record nothing.
package telemetry
