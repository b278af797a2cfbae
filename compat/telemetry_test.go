package compat

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/telemetry"
)

// tracedServer is a server whose engine and handlers record spans and
// metrics in memory.
type tracedServer struct {
	spans   *tracetest.SpanRecorder
	metrics *sdkmetric.ManualReader
	http    string // REST base URL
	grpc    string // gRPC address
}

// startTracedServer starts a server with the telemetry of ts; configure,
// when given, sets more of its config.
func startTracedServer(t *testing.T, configure ...func(*ServerConfig)) *tracedServer {
	t.Helper()
	ts := &tracedServer{spans: tracetest.NewSpanRecorder(), metrics: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ts.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(ts.metrics))
	p := &telemetry.Providers{TracerProvider: tp, MeterProvider: mp, Propagator: propagation.TraceContext{}}
	db, err := engine.Open(t.TempDir(), &engine.Options{SealDelay: 50 * time.Millisecond, TracerProvider: tp, MeterProvider: mp})
	require.NoError(t, err)
	cfg := &ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", Telemetry: p}
	for _, f := range configure {
		f(cfg)
	}
	srv := NewServer(db, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	h, g, err := srv.Addrs(ctx)
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, db.CheckInvariants())
		require.NoError(t, db.Close())
		require.NoError(t, tp.Shutdown(context.Background()))
		require.NoError(t, mp.Shutdown(context.Background()))
	})
	ts.http, ts.grpc = "http://"+h, g
	return ts
}

// find waits for an ended span that match accepts and returns it.
func (ts *tracedServer) find(t *testing.T, what string, match func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ended := ts.spans.Ended()
		for _, s := range ended {
			if match(s) {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s among %v", what, spanNames(ended))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.SpanKind().String()+" "+s.Name())
	}
	return names
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// clientTracer returns a tracer recording into its own provider, as a
// client application's would.
func clientTracer(t *testing.T) trace.Tracer {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracetest.NewSpanRecorder()))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp.Tracer("client")
}

// injectTraceContext is a client interceptor that sends the trace context
// of the call's ctx in the request metadata (W3C traceparent).
func injectTraceContext(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	for k, v := range carrier {
		ctx = metadata.AppendToOutgoingContext(ctx, k, v)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// checkEngineChild checks that an INTERNAL span of the engine on collection
// coll is a child of server.
func (ts *tracedServer) checkEngineChild(t *testing.T, server sdktrace.ReadOnlySpan, coll string) {
	t.Helper()
	child := ts.find(t, "engine span under "+server.Name(), func(s sdktrace.ReadOnlySpan) bool {
		return s.Parent().SpanID() == server.SpanContext().SpanID()
	})
	require.Equal(t, trace.SpanKindInternal, child.SpanKind())
	require.True(t, strings.HasSuffix(child.Name(), " "+coll), "engine span %q is named <operation> <collection>", child.Name())
	require.Equal(t, server.SpanContext().TraceID(), child.SpanContext().TraceID())
}

func TestTraceContextGRPC(t *testing.T) {
	ts := startTracedServer(t)
	c := grpcClient(t, ts.grpc, qdrant.Config{GrpcOptions: []grpc.DialOption{grpc.WithUnaryInterceptor(injectTraceContext)}})
	ctx := context.Background()
	require.NoError(t, c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "g",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
	}))

	cctx, client := clientTracer(t).Start(ctx, "client query", trace.WithSpanKind(trace.SpanKindClient))
	_, err := c.Query(cctx, &qdrant.QueryPoints{CollectionName: "g", Query: qdrant.NewQuery(1, 0)})
	client.End()
	require.NoError(t, err)

	const method = "/qdrant.Points/Query"
	server := ts.find(t, "SERVER "+method, func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanKind() == trace.SpanKindServer && s.Name() == method
	})
	require.Equal(t, client.SpanContext().TraceID(), server.SpanContext().TraceID(), "the server continues the client's trace")
	require.Equal(t, client.SpanContext().SpanID(), server.Parent().SpanID())
	require.True(t, server.Parent().IsRemote())
	a := attrs(server)
	require.Equal(t, "grpc", a["rpc.system"].AsString())
	require.Equal(t, "qdrant.Points", a["rpc.service"].AsString())
	require.Equal(t, "Query", a["rpc.method"].AsString())
	require.Equal(t, int64(0), a["rpc.grpc.status_code"].AsInt64())

	ts.checkEngineChild(t, server, "g")

	// A call without trace context starts a trace of its own.
	plain := grpcClient(t, ts.grpc, qdrant.Config{})
	_, err = plain.Query(ctx, &qdrant.QueryPoints{CollectionName: "missing", Query: qdrant.NewQuery(1, 0)})
	require.Error(t, err)
	failed := ts.find(t, "failed SERVER "+method, func(s sdktrace.ReadOnlySpan) bool {
		return s.Name() == method && attrs(s)["rpc.grpc.status_code"].AsInt64() == 5 // NotFound
	})
	require.False(t, failed.Parent().IsValid())
}

func TestTraceContextREST(t *testing.T) {
	// Probes are traced too, so that the root route's span can be seen.
	ts := startTracedServer(t, func(c *ServerConfig) { c.ObserveProbes = true })
	code, body := httpDo(t, "PUT", ts.http+"/collections/r", `{"vectors":{"size":2,"distance":"Dot"}}`, nil)
	require.Equal(t, 200, code, body)

	ctx, client := clientTracer(t).Start(context.Background(), "client query", trace.WithSpanKind(trace.SpanKindClient))
	h := propagation.HeaderCarrier(http.Header{})
	propagation.TraceContext{}.Inject(ctx, h)
	require.NotEmpty(t, h.Get("traceparent"))
	code, body = httpDo(t, "POST", ts.http+"/collections/r/points/query", `{"query":[1,0]}`,
		map[string]string{"traceparent": h.Get("traceparent")})
	client.End()
	require.Equal(t, 200, code, body)

	const name = "POST /collections/{collection_name}/points/query"
	server := ts.find(t, "SERVER "+name, func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanKind() == trace.SpanKindServer && s.Name() == name
	})
	require.Equal(t, client.SpanContext().TraceID(), server.SpanContext().TraceID(), "the server continues the client's trace")
	require.Equal(t, client.SpanContext().SpanID(), server.Parent().SpanID())
	a := attrs(server)
	require.Equal(t, "POST", a["http.request.method"].AsString())
	require.Equal(t, "/collections/{collection_name}/points/query", a["http.route"].AsString())
	require.Equal(t, int64(200), a["http.response.status_code"].AsInt64())

	ts.checkEngineChild(t, server, "r")

	// The root route is "/", and failed requests keep their route.
	code, _ = httpDo(t, "GET", ts.http+"/", "", nil)
	require.Equal(t, 200, code)
	ts.find(t, "SERVER GET /", func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanKind() == trace.SpanKindServer && s.Name() == "GET /" && attrs(s)["http.route"].AsString() == "/"
	})
	code, _ = httpDo(t, "GET", ts.http+"/collections/none", "", nil)
	require.Equal(t, 404, code)
	ts.find(t, "SERVER 404", func(s sdktrace.ReadOnlySpan) bool {
		return s.Name() == "GET /collections/{collection_name}" && attrs(s)["http.response.status_code"].AsInt64() == 404
	})

	// Request durations go to the MeterProvider, by route and status.
	var rm metricdata.ResourceMetrics
	require.NoError(t, ts.metrics.Collect(context.Background(), &rm))
	var count uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "http.server.request.duration" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
				route, _ := dp.Attributes.Value("http.route")
				status, _ := dp.Attributes.Value("http.response.status_code")
				if route.AsString() == "/collections/{collection_name}/points/query" && status.AsInt64() == 200 {
					count += dp.Count
				}
			}
		}
	}
	require.Equal(t, uint64(1), count)
}

func TestRouteNames(t *testing.T) {
	f := func(pattern, route, path, coll string) {
		t.Helper()
		require.Equal(t, route, routeOf(pattern))
		require.Equal(t, coll, collectionOf(route, path))
	}
	f("GET /{$}", "/", "/", "")
	f("GET /metrics", "/metrics", "/metrics", "")
	f("POST /collections/{collection_name}/points/query", "/collections/{collection_name}/points/query",
		"/collections/c1/points/query", "c1")
	f("DELETE /collections/{collection_name}/index/{field_name}", "/collections/{collection_name}/index/{field_name}",
		"/collections/a%20b/index/f", "a b")
	f("GET /collections/{collection_name}", "/collections/{collection_name}", "/collections/x", "x")
	f("/collections", "/collections", "/collections", "")
	f("", "", "", "")
}

// TestMetricsScrapeRecordsNoSpan checks that GET /metrics records no span,
// neither the server's nor the engine's, while other requests do.
func TestMetricsScrapeRecordsNoSpan(t *testing.T) {
	ts := startTracedServer(t)
	code, body := httpDo(t, "PUT", ts.http+"/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`, nil)
	require.Equal(t, 200, code, body)
	ts.find(t, "SERVER PUT", func(s sdktrace.ReadOnlySpan) bool {
		return s.Name() == "PUT /collections/{collection_name}"
	})
	before := len(ts.spans.Ended()) + len(ts.spans.Started())
	for _, q := range []string{"", "?per_collection=true"} {
		code, body = httpDo(t, "GET", ts.http+"/metrics"+q, "", nil)
		require.Equal(t, 200, code, body)
		require.Contains(t, body, "collection_points{id=\"c\"} 0")
	}
	// A request after the scrapes is traced, and ends after them.
	code, body = httpDo(t, "GET", ts.http+"/collections", "", nil)
	require.Equal(t, 200, code, body)
	ts.find(t, "SERVER GET /collections", func(s sdktrace.ReadOnlySpan) bool {
		return s.Name() == "GET /collections"
	})
	var names []string
	for _, s := range ts.spans.Ended() {
		names = append(names, s.Name())
	}
	after := len(ts.spans.Ended()) + len(ts.spans.Started())
	// GET /collections adds its server span and the engine's list span,
	// each counted started and ended.
	require.Equal(t, before+4, after, "spans: %v", names)
	for _, n := range names {
		require.NotContains(t, n, "metrics")
	}
}
