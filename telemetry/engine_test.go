package telemetry_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/telemetry"
	"github.com/qlite/qlite/telemetry/otlptest"
)

func attr(attrs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return nil
}

func spanNamed(spans []*tracepb.Span, name string) []*tracepb.Span {
	var out []*tracepb.Span
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// TestEngineOverOTLP configures an engine only through OTEL_* variables,
// runs writes, an index build, unfiltered and filtered searches, and checks
// the spans and metrics that reach an OTLP receiver.
func TestEngineOverOTLP(t *testing.T) {
	rcv := otlptest.Start(t)
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + rcv.Endpoint(),
		"OTEL_SERVICE_NAME":           "qlite-e2e",
		"OTEL_TRACES_SAMPLER":         "always_on",
		"OTEL_METRIC_EXPORT_INTERVAL": "200",
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
	}
	ctx := context.Background()
	p, err := telemetry.Setup(ctx, telemetry.Config{Getenv: func(k string) string { return env[k] }})
	require.NoError(t, err)
	require.NotNil(t, p.TracerProvider)
	opts := &engine.Options{DisableOptimizer: true, IndexingWorkers: 2}
	p.EngineOptions(opts)
	db, err := engine.Open(t.TempDir(), opts)
	require.NoError(t, err)

	thr := 4 // KB of vectors: 64 points of 16 floats
	require.NoError(t, db.CreateCollection(ctx, "c", &engine.CreateCollection{
		Vectors:    engine.VectorsConfig{"": {Size: 16, Distance: distance.Euclid}},
		Optimizers: &engine.OptimizersConfigDiff{IndexingThreshold: &thr},
	}))
	_, err = db.CreateFieldIndex(ctx, "c", "class", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func() []float32 {
		v := make([]float32, 16)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	const n = 2000
	var pts []engine.Point
	for i := range n {
		pts = append(pts, engine.Point{ID: filter.NumID(uint64(i)), Vectors: map[string][]float32{"": vec()},
			Payload: payload.ObjectValue(payload.Field{Key: "class", Value: payload.IntValue(int64(i % 100))})})
	}
	_, err = db.Upsert(ctx, "c", &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true})
	require.NoError(t, err)
	require.NoError(t, db.Optimize(ctx, "c"))

	_, err = db.Search(ctx, "c", &engine.SearchRequest{Vector: vec(), Limit: 10, HnswEf: 32})
	require.NoError(t, err)
	selective, err := filter.ParseJSON([]byte(`{"must":[{"key":"class","match":{"value":7}}]}`))
	require.NoError(t, err)
	res, err := db.Search(ctx, "c", &engine.SearchRequest{Vector: vec(), Limit: 5, Filter: selective})
	require.NoError(t, err)
	require.Len(t, res, 5)
	_, err = db.Search(ctx, "nope", &engine.SearchRequest{Vector: vec(), Limit: 5})
	require.ErrorIs(t, err, engine.ErrNotFound)

	require.NoError(t, db.Close())
	require.NoError(t, p.Shutdown(ctx))

	rcv.WaitSpans(t, func(s []*tracepb.Span) bool { return len(spanNamed(s, "search c")) >= 2 }, 10*time.Second)
	spans := rcv.Spans()
	searches := spanNamed(spans, "search c")
	require.Len(t, searches, 2)
	for _, s := range searches {
		require.Equal(t, tracepb.Span_SPAN_KIND_INTERNAL, s.Kind)
		require.Equal(t, "qlite", attr(s.Attributes, "db.system.name").GetStringValue())
		require.Equal(t, "search", attr(s.Attributes, "db.operation.name").GetStringValue())
		require.Equal(t, "c", attr(s.Attributes, "db.collection.name").GetStringValue())
		require.NotNil(t, attr(s.Attributes, "qlite.plan"))
		require.NotNil(t, attr(s.Attributes, "qlite.segments"))
	}
	// The unfiltered search walked the graph; the selective one scored its
	// 20 candidates exactly.
	plans := []string{attr(searches[0].Attributes, "qlite.plan").GetStringValue(), attr(searches[1].Attributes, "qlite.plan").GetStringValue()}
	require.Contains(t, plans[0], "graph")
	require.Equal(t, "exact-filter", plans[1])
	require.EqualValues(t, 20, attr(searches[1].Attributes, "qlite.filter.estimated_cardinality").GetIntValue())
	require.EqualValues(t, 5, attr(searches[1].Attributes, "db.response.returned_rows").GetIntValue())
	// A sampled search over one segment carries that segment's figures
	// itself; over several, it gets a child span per segment.
	var children int
	for _, s := range spans {
		if slices.Equal(s.ParentSpanId, searches[1].SpanId) {
			children++
		}
	}
	if segs := attr(searches[1].Attributes, "qlite.segments").GetIntValue(); segs > 1 {
		require.EqualValues(t, segs, children)
	} else {
		require.Zero(t, children)
	}
	// The failed search carries its error type.
	failed := spanNamed(spans, "search nope")
	require.Len(t, failed, 1)
	require.Equal(t, "not_found", attr(failed[0].Attributes, "error.type").GetStringValue())
	require.Equal(t, tracepb.Status_STATUS_CODE_ERROR, failed[0].Status.GetCode())
	// The index build and the seal are their own root spans with events.
	for _, name := range []string{"index c", "seal c"} {
		js := spanNamed(spans, name)
		require.NotEmpty(t, js, name)
		require.Empty(t, js[0].ParentSpanId, "%s is a root span", name)
	}
	require.NotEmpty(t, spanNamed(spans, "index c")[0].Events)
	// The resource names the service.
	rs := rcv.ResourceSpans()
	require.Equal(t, "qlite-e2e", attr(rs[0].Resource.Attributes, "service.name").GetStringValue())

	// Metrics: the operation duration histogram with its buckets, and the
	// points counter.
	rcv.WaitMetrics(t, func(ms []*metricspb.Metric) bool {
		for _, m := range ms {
			if m.Name == "qlite.points.upserted" {
				return true
			}
		}
		return false
	}, 10*time.Second)
	var sawDuration, sawUpserted bool
	for _, m := range rcv.Metrics() {
		switch m.Name {
		case "db.client.operation.duration":
			sawDuration = true
			require.Equal(t, "s", m.Unit)
			for _, dp := range m.GetHistogram().GetDataPoints() {
				require.Equal(t, []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}, dp.ExplicitBounds)
			}
		case "qlite.points.upserted":
			var total int64
			for _, dp := range m.GetSum().GetDataPoints() {
				total = max(total, dp.GetAsInt())
			}
			require.EqualValues(t, n, total)
			sawUpserted = true
		}
	}
	require.True(t, sawDuration)
	require.True(t, sawUpserted)
}
