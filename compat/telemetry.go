package compat

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/telemetry"
)

// instrumentationName names the tracer and meter of the server.
const instrumentationName = "github.com/qlite/qlite/compat"

// serverTelemetry traces and counts the requests a Server answers. Every
// request gets a SERVER span (when a TracerProvider is configured) whose
// parent is the trace context the client sent, W3C traceparent in HTTP
// headers or gRPC metadata; the engine's spans become its children. Every
// response is counted for GET /metrics, and recorded in the duration
// histograms of the MeterProvider when one is configured.
//
// A serverTelemetry is safe for concurrent use.
type serverTelemetry struct {
	// tracer is nil when spans are off.
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	// httpDuration and rpcDuration are nil when OTel metrics are off.
	httpDuration metric.Float64Histogram
	rpcDuration  metric.Float64Histogram
	// route returns the ServeMux pattern that serves r, or "".
	route func(r *http.Request) string
	// access receives the access log; nil when it is off.
	access *slog.Logger
	// observeProbes traces and logs health probes and monitoring scrapes
	// too (ServerConfig.ObserveProbes).
	observeProbes bool

	rest, grpc responseStats
	snapshots  snapshotStats
}

// newServerTelemetry returns the telemetry of a server exporting to p (nil:
// count responses only). route finds a request's ServeMux pattern before
// the request is served; nil leaves it to the pattern the mux sets.
func newServerTelemetry(p *telemetry.Providers, route func(*http.Request) string) *serverTelemetry {
	t := &serverTelemetry{route: route}
	if p == nil {
		return t
	}
	if p.TracerProvider != nil {
		t.tracer = p.TracerProvider.Tracer(instrumentationName)
		t.prop = p.Propagator
		if t.prop == nil {
			t.prop = propagation.TraceContext{}
		}
	}
	if p.MeterProvider != nil {
		m := p.MeterProvider.Meter(instrumentationName)
		bounds := metric.WithExplicitBucketBoundaries(durationBounds[:]...)
		// Errors here only mean a misconfigured provider; the histogram
		// returned is then a no-op.
		t.httpDuration, _ = m.Float64Histogram("http.server.request.duration",
			metric.WithUnit("s"), metric.WithDescription("Duration of HTTP server requests."), bounds)
		t.rpcDuration, _ = m.Float64Histogram("rpc.server.call.duration",
			metric.WithUnit("s"), metric.WithDescription("Duration of RPCs served."), bounds)
	}
	return t
}

// telemetryKey carries the serverTelemetry to the REST handlers (for GET
// /metrics).
type telemetryKey struct{}

// telemetryFrom returns the serverTelemetry of the server serving ctx's
// request, or nil.
func telemetryFrom(ctx context.Context) *serverTelemetry {
	t, _ := ctx.Value(telemetryKey{}).(*serverTelemetry)
	return t
}

// Attribute keys of the OpenTelemetry semantic conventions for HTTP and
// RPC servers.
const (
	attrHTTPMethod     = attribute.Key("http.request.method")
	attrHTTPRoute      = attribute.Key("http.route")
	attrHTTPStatus     = attribute.Key("http.response.status_code")
	attrURLPath        = attribute.Key("url.path")
	attrErrorType      = attribute.Key("error.type")
	attrRPCSystem      = attribute.Key("rpc.system")
	attrRPCService     = attribute.Key("rpc.service")
	attrRPCMethod      = attribute.Key("rpc.method")
	attrRPCGRPCStatus  = attribute.Key("rpc.grpc.status_code")
	rpcSystemGRPCValue = "grpc"
)

// httpMethods are the methods reported as is; others are "_OTHER".
var httpMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodConnect: true,
	http.MethodOptions: true, http.MethodTrace: true,
}

// routeOf returns the path part of a ServeMux pattern, as http.route
// reports it: "GET /collections/{collection_name}" gives
// "/collections/{collection_name}", and "GET /{$}" gives "/".
func routeOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '/'); i > 0 {
		pattern = pattern[i:] // drop a host
	}
	return strings.TrimSuffix(pattern, "{$}")
}

// collectionOf returns the collection a request of path names, when its
// route has a {collection_name} parameter.
func collectionOf(route, path string) string {
	i := strings.Index(route, "{collection_name}")
	if i < 0 {
		return ""
	}
	seg := strings.Count(route[:i], "/")
	parts := strings.Split(path, "/")
	if seg >= len(parts) {
		return ""
	}
	if name, err := url.PathUnescape(parts[seg]); err == nil {
		return name
	}
	return parts[seg]
}

// Snapshot routes, counted for the snapshot_* metrics.
const (
	routeCreateSnapshot  = "POST /collections/{collection_name}/snapshots"
	routeRecoverSnapshot = "PUT /collections/{collection_name}/snapshots/recover"
	routeUploadSnapshot  = "POST /collections/{collection_name}/snapshots/upload"
	routeMetrics         = "GET /metrics"
	routeCreateColl      = "PUT /collections/{collection_name}"
)

// httpMiddleware traces, counts and logs the requests next answers. It
// goes outside authentication and CORS, so that their answers are counted
// too. Scrapes of GET /metrics are not counted (Qdrant does not count
// them either); they and health probes (probeRoutes) are neither traced
// nor logged unless observeProbes, so that monitoring adds no spans or
// records of its own.
func (t *serverTelemetry) httpMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		method := r.Method
		if !httpMethods[method] {
			method = "_OTHER"
		}
		var pattern, route string
		if t.route != nil {
			pattern = t.route(r)
			route = routeOf(pattern)
		}
		ctx := context.WithValue(r.Context(), telemetryKey{}, t)
		quiet := !t.observeProbes && probeRoutes[route]
		if quiet && t.tracer != nil {
			ctx = trace.ContextWithSpanContext(ctx, unsampled())
		}
		scrape := method+" "+route == routeMetrics
		if scrape && quiet {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		var span trace.Span
		if t.tracer != nil && !quiet {
			ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
			name := method
			attrs := []attribute.KeyValue{attrHTTPMethod.String(method), attrURLPath.String(r.URL.Path)}
			if route != "" {
				name += " " + route
				attrs = append(attrs, attrHTTPRoute.String(route))
			}
			ctx, span = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attrs...), trace.WithTimestamp(start))
		}
		var endSnapshot func(bool)
		switch method + " " + route {
		case routeCreateSnapshot:
			endSnapshot = t.snapshots.begin(collectionOf(route, r.URL.EscapedPath()), false)
		case routeRecoverSnapshot, routeUploadSnapshot:
			endSnapshot = t.snapshots.begin(collectionOf(route, r.URL.EscapedPath()), true)
		}
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		defer func() {
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			if endSnapshot != nil {
				endSnapshot(code == http.StatusOK)
			}
			if code == http.StatusOK && method+" "+route == routeCreateColl {
				t.snapshots.touch(collectionOf(route, r.URL.EscapedPath()))
			}
			if route == "" && r.Pattern != "" {
				route = routeOf(r.Pattern)
				if span != nil {
					span.SetName(method + " " + route)
					span.SetAttributes(attrHTTPRoute.String(route))
				}
			}
			now := time.Now()
			d := now.Sub(start)
			var coll string
			if route != "" {
				coll = collectionOf(route, r.URL.EscapedPath())
				if !scrape {
					t.rest.observe(responseKey{collection: coll, method: method, endpoint: route, status: code},
						now, d, true)
				}
			}
			if t.access != nil && !quiet {
				t.logHTTP(ctx, method, route, r.URL.Path, coll, code, d, sw.n, r.RemoteAddr)
			}
			if t.httpDuration != nil {
				attrs := []attribute.KeyValue{attrHTTPMethod.String(method), attrHTTPStatus.Int(code)}
				if route != "" {
					attrs = append(attrs, attrHTTPRoute.String(route))
				}
				t.httpDuration.Record(ctx, d.Seconds(), metric.WithAttributes(attrs...))
			}
			if span != nil {
				span.SetAttributes(attrHTTPStatus.Int(code))
				if code >= 500 {
					span.SetStatus(otelcodes.Error, http.StatusText(code))
					span.SetAttributes(attrErrorType.String(strconv.Itoa(code)))
				}
				span.End()
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// unsampled returns a span context that is not sampled: under it, the
// engine's spans are not sampled either (with the default parent-based
// sampler), so that a scrape records none.
func unsampled() trace.SpanContext {
	var tid trace.TraceID
	var sid trace.SpanID
	binary.LittleEndian.PutUint64(tid[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(tid[8:], rand.Uint64()|1)
	binary.LittleEndian.PutUint64(sid[:], rand.Uint64()|1)
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})
}

// statusWriter remembers the status a handler wrote and counts the bytes
// of its body.
type statusWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's sendfile path for snapshot
// downloads.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.n += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.code == 0 {
			w.code = http.StatusOK
		}
		f.Flush()
	}
}

// metadataCarrier adapts gRPC metadata to a propagation.TextMapCarrier.
type metadataCarrier metadata.MD

func (c metadataCarrier) Get(key string) string {
	if v := metadata.MD(c).Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c metadataCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

func (c metadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// startRPC starts the SERVER span of a call of fullMethod
// ("/qdrant.Points/Query"), as a child of the trace context in the
// incoming metadata. A health check gets none (unless observeProbes), nor
// do the engine's calls under it.
func (t *serverTelemetry) startRPC(ctx context.Context, fullMethod string, start time.Time) (context.Context, trace.Span) {
	if t.tracer == nil {
		return ctx, nil
	}
	if !t.observeProbes && grpcProbes[fullMethod] {
		return trace.ContextWithSpanContext(ctx, unsampled()), nil
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = t.prop.Extract(ctx, metadataCarrier(md))
	}
	service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return t.tracer.Start(ctx, fullMethod, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(start),
		trace.WithAttributes(attrRPCSystem.String(rpcSystemGRPCValue), attrRPCService.String(service), attrRPCMethod.String(method)))
}

// grpcServerErrors are the codes that mean the server failed, which mark
// its span as an error; the others are the client's.
var grpcServerErrors = map[codes.Code]bool{
	codes.Unknown: true, codes.DeadlineExceeded: true, codes.Unimplemented: true,
	codes.Internal: true, codes.Unavailable: true, codes.DataLoss: true,
}

// endRPC counts and logs the call and ends its span. A call that
// succeeded counts for the collection its request names too (Qdrant's
// per-collection gRPC counts leave failed calls out); it is logged with
// the collection either way.
func (t *serverTelemetry) endRPC(ctx context.Context, span trace.Span, fullMethod, coll string, start time.Time, err error) {
	code := status.Code(err)
	now := time.Now()
	d := now.Sub(start)
	if t.access != nil && (t.observeProbes || !grpcProbes[fullMethod]) {
		t.logRPC(ctx, fullMethod, coll, code, d)
	}
	if code != codes.OK {
		coll = ""
	}
	t.grpc.observe(responseKey{collection: coll, endpoint: fullMethod, status: int(code)}, now, d, true)
	if t.rpcDuration != nil {
		service, method, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
		t.rpcDuration.Record(ctx, d.Seconds(), metric.WithAttributes(attrRPCSystem.String(rpcSystemGRPCValue),
			attrRPCService.String(service), attrRPCMethod.String(method), attrRPCGRPCStatus.Int(int(code))))
	}
	if span == nil {
		return
	}
	span.SetAttributes(attrRPCGRPCStatus.Int(int(code)))
	if grpcServerErrors[code] {
		span.SetStatus(otelcodes.Error, status.Convert(err).Message())
		span.SetAttributes(attrErrorType.String(code.String()))
	}
	span.End()
}

// grpcCreateSnapshot is the gRPC method counted for the snapshot_*
// metrics.
const (
	grpcCreateSnapshot   = "/qdrant.Snapshots/Create"
	grpcCreateCollection = "/qdrant.Collections/Create"
)

// unary traces and counts unary calls. It goes before authentication.
func (t *serverTelemetry) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	ctx, span := t.startRPC(ctx, info.FullMethod, start)
	var coll string
	if n, ok := req.(interface{ GetCollectionName() string }); ok {
		coll = n.GetCollectionName()
	}
	if info.FullMethod == grpcCreateSnapshot {
		end := t.snapshots.begin(coll, false)
		defer func() { end(err == nil) }()
	}
	resp, err = h(ctx, req)
	t.endRPC(ctx, span, info.FullMethod, coll, start, err)
	if err == nil && info.FullMethod == grpcCreateCollection {
		t.snapshots.touch(coll)
	}
	return resp, err
}

// stream traces and counts streaming calls.
func (t *serverTelemetry) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	start := time.Now()
	ctx, span := t.startRPC(ss.Context(), info.FullMethod, start)
	if span != nil {
		ss = &contextStream{ServerStream: ss, ctx: ctx}
	}
	err := h(srv, ss)
	t.endRPC(ctx, span, info.FullMethod, "", start, err)
	return err
}

// contextStream is a ServerStream with the context of its span.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }
