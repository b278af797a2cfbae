package compat

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// recordHandler is a slog.Handler that keeps every record it is given.
type recordHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

// access returns the access-log records so far, each as its attributes.
func (h *recordHandler) access() []map[string]slog.Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]slog.Value
	for _, r := range h.records {
		if r.Message != logMsgAccess {
			continue
		}
		m := map[string]slog.Value{"level": slog.StringValue(r.Level.String())}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value
			return true
		})
		out = append(out, m)
	}
	return out
}

// waitAccess waits until there are n access records and returns them.
func (h *recordHandler) waitAccess(t *testing.T, n int) []map[string]slog.Value {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		recs := h.access()
		if len(recs) >= n || time.Now().After(deadline) {
			return recs
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// probe sends every health probe and monitoring scrape a server answers,
// over REST and gRPC.
func probe(t *testing.T, ts *tracedServer, c *qdrant.Client) {
	t.Helper()
	for _, p := range []string{"/healthz", "/livez", "/readyz", "/", "/metrics", "/telemetry"} {
		code, body := httpDo(t, "GET", ts.http+p, "", nil)
		require.Equal(t, 200, code, "%s: %s", p, body)
	}
	code, _ := httpDo(t, "HEAD", ts.http+"/healthz", "", nil)
	require.Equal(t, 200, code)
	ctx := context.Background()
	r, err := healthpb.NewHealthClient(c.GetConnection()).Check(ctx, &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, r.Status)
	_, err = c.HealthCheck(ctx)
	require.NoError(t, err)
}

// TestAccessLogAndProbeSilence checks the access log and the silence of
// probes: health probes and scrapes make no span (the server's or the
// engine's) and no access record, while a search over REST and one over
// gRPC make one record each, with the route or method, collection, status,
// duration, and the trace id of the search's span.
func TestAccessLogAndProbeSilence(t *testing.T) {
	logs := &recordHandler{}
	ts := startTracedServer(t, func(c *ServerConfig) {
		c.Logger = slog.New(logs)
		c.AccessLog = true
	})
	code, body := httpDo(t, "PUT", ts.http+"/collections/c", `{"vectors":{"size":2,"distance":"Dot"}}`, nil)
	require.Equal(t, 200, code, body)
	create := logs.waitAccess(t, 1)
	require.Len(t, create, 1)
	require.Equal(t, "PUT", create[0][logMethod].String())
	require.Equal(t, "/collections/{collection_name}", create[0][logRoute].String())
	setup := len(ts.spans.Ended())
	c := grpcClient(t, ts.grpc, qdrant.Config{})

	probe(t, ts, c)

	// One search over REST, then one over gRPC: the first records after the
	// probes.
	code, body = httpDo(t, "POST", ts.http+"/collections/c/points/search", `{"vector":[1,0],"limit":3}`, nil)
	require.Equal(t, 200, code, body)
	rest := ts.find(t, "SERVER REST search", func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanKind() == trace.SpanKindServer && s.Name() == "POST /collections/{collection_name}/points/search"
	})
	_, err := c.GetPointsClient().Search(context.Background(), &qdrant.SearchPoints{CollectionName: "c", Vector: []float32{1, 0}, Limit: 3})
	require.NoError(t, err)
	grpcSpan := ts.find(t, "SERVER gRPC search", func(s sdktrace.ReadOnlySpan) bool {
		return s.SpanKind() == trace.SpanKindServer && s.Name() == "/qdrant.Points/Search"
	})

	// Every span since the setup belongs to one of the two searches.
	for _, s := range ts.spans.Ended()[setup:] {
		tid := s.SpanContext().TraceID()
		require.True(t, tid == rest.SpanContext().TraceID() || tid == grpcSpan.SpanContext().TraceID(),
			"span %s %q of neither search", s.SpanKind(), s.Name())
	}

	recs := logs.waitAccess(t, 3)
	require.Len(t, recs, 3, "records: %v", recs)
	r := recs[1]
	require.Equal(t, "INFO", r["level"].String())
	require.Equal(t, "rest", r[logProto].String())
	require.Equal(t, "POST", r[logMethod].String())
	require.Equal(t, "/collections/{collection_name}/points/search", r[logRoute].String())
	require.Equal(t, "c", r[logCollection].String())
	require.Equal(t, int64(200), r[logStatus].Int64())
	require.Greater(t, r[logDuration].Float64(), 0.0)
	require.Equal(t, int64(len(body)), r[logBytes].Int64())
	require.NotEmpty(t, r[logRemote].String())
	require.Equal(t, rest.SpanContext().TraceID().String(), r[logTraceID].String())

	g := recs[2]
	require.Equal(t, "grpc", g[logProto].String())
	require.Equal(t, "/qdrant.Points/Search", g[logMethod].String())
	require.Equal(t, "c", g[logCollection].String())
	require.Equal(t, "OK", g[logStatus].String())
	require.Greater(t, g[logDuration].Float64(), 0.0)
	require.Equal(t, grpcSpan.SpanContext().TraceID().String(), g[logTraceID].String())

	// Failures are logged with their status and the collection asked for;
	// a path no route matches with the path.
	code, _ = httpDo(t, "POST", ts.http+"/collections/missing/points/search", `{"vector":[1,0],"limit":3}`, nil)
	require.Equal(t, 404, code)
	_, err = c.GetPointsClient().Search(context.Background(), &qdrant.SearchPoints{CollectionName: "missing", Vector: []float32{1, 0}, Limit: 3})
	require.Error(t, err)
	code, _ = httpDo(t, "GET", ts.http+"/no/such/route", "", nil)
	require.Equal(t, 404, code)
	recs = logs.waitAccess(t, 6)
	require.Len(t, recs, 6, "records: %v", recs)
	require.Equal(t, int64(404), recs[3][logStatus].Int64())
	require.Equal(t, "missing", recs[3][logCollection].String())
	require.Equal(t, "NotFound", recs[4][logStatus].String())
	require.Equal(t, "missing", recs[4][logCollection].String())
	require.Equal(t, "/no/such/route", recs[5][logPath].String())
	require.Equal(t, int64(404), recs[5][logStatus].Int64())
}

// TestObserveProbes checks that ObserveProbes traces and logs probes and
// scrapes like any other request.
func TestObserveProbes(t *testing.T) {
	logs := &recordHandler{}
	ts := startTracedServer(t, func(c *ServerConfig) {
		c.Logger = slog.New(logs)
		c.AccessLog = true
		c.ObserveProbes = true
	})
	probe(t, ts, grpcClient(t, ts.grpc, qdrant.Config{}))
	want := []string{"GET /healthz", "GET /livez", "GET /readyz", "GET /", "GET /metrics", "GET /telemetry", "HEAD /healthz",
		"/grpc.health.v1.Health/Check", "/qdrant.Qdrant/HealthCheck"}
	recs := logs.waitAccess(t, len(want))
	var got []string
	for _, r := range recs {
		if r[logProto].String() == "rest" {
			got = append(got, r[logMethod].String()+" "+r[logRoute].String())
		} else {
			got = append(got, r[logMethod].String())
		}
	}
	require.Equal(t, want, got)
	for _, name := range want {
		ts.find(t, "SERVER "+name, func(s sdktrace.ReadOnlySpan) bool {
			return s.SpanKind() == trace.SpanKindServer && s.Name() == name
		})
	}
}

// TestAccessLogOff checks that a server without AccessLog logs no request.
func TestAccessLogOff(t *testing.T) {
	logs := &recordHandler{}
	ts := startTracedServer(t, func(c *ServerConfig) { c.Logger = slog.New(logs) })
	code, body := httpDo(t, "PUT", ts.http+"/collections/c", `{"vectors":{"size":2,"distance":"Dot"}}`, nil)
	require.Equal(t, 200, code, body)
	ts.find(t, "SERVER PUT", func(s sdktrace.ReadOnlySpan) bool {
		return s.Name() == "PUT /collections/{collection_name}"
	})
	require.Empty(t, logs.access())
}
