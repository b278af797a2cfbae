package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/qlite/qlite/distance"
)

// telemetryFixture is a DB with real SDK providers that record in memory.
type telemetryFixture struct {
	db     *DB
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
}

func newTelemetryFixture(t *testing.T, sampler sdktrace.Sampler) *telemetryFixture {
	t.Helper()
	f := &telemetryFixture{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	f.tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(f.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(f.reader))
	o := testOpts()
	o.TracerProvider, o.MeterProvider = f.tp, mp
	f.db = openTestDB(t, t.TempDir(), o)
	return f
}

// ended returns the ended spans called name.
func (f *telemetryFixture) ended(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range f.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func spanAttr(t *testing.T, s sdktrace.ReadOnlySpan, key string) attribute.Value {
	t.Helper()
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value
		}
	}
	t.Fatalf("span %q has no attribute %s (has %v)", s.Name(), key, s.Attributes())
	return attribute.Value{}
}

func hasAttr(s sdktrace.ReadOnlySpan, key string) bool {
	return slices.ContainsFunc(s.Attributes(), func(kv attribute.KeyValue) bool { return string(kv.Key) == key })
}

func TestTelemetryOffAddsNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race")
	}
	db := openTestDB(t, t.TempDir(), testOpts())
	require.Nil(t, db.tel)
	createColl(t, db, "c", 8, distance.Cosine, 1)
	testPoints(t, db, "c", 600, 8, 1)
	require.NoError(t, db.Optimize(bg, "c"))
	req := &SearchRequest{Vector: []float32{1, 2, 3, 4, 5, 6, 7, 8}, Limit: 5}
	c, err := db.collection("c")
	require.NoError(t, err)
	bypass := testing.AllocsPerRun(200, func() {
		if _, err := c.search(bg, nil, req, nil, nil); err != nil {
			panic(err)
		}
	})
	public := testing.AllocsPerRun(200, func() {
		if _, err := db.Search(bg, "c", req); err != nil {
			panic(err)
		}
	})
	require.Greater(t, bypass, 0.0, "a search returns results, so it allocates")
	require.Equal(t, bypass, public, "Search with telemetry off allocates more than the uninstrumented path")
}

func TestTelemetrySearchSpan(t *testing.T) {
	f := newTelemetryFixture(t, sdktrace.AlwaysSample())
	db := f.db
	createColl(t, db, "products", 8, distance.Euclid, 1)
	testPoints(t, db, "products", 800, 8, 1)
	require.NoError(t, db.Optimize(bg, "products"))
	// A few more points in the appendable segment: the search covers two
	// segments.
	_, err := db.Upsert(bg, "products", &UpsertOp{Points: []Point{
		{ID: numID(5000), Vectors: map[string][]float32{"": make([]float32, 8)}, Payload: obj("class", 3)},
		{ID: numID(5001), Vectors: map[string][]float32{"": make([]float32, 8)}, Payload: obj("class", 4)},
	}}, nil)
	require.NoError(t, err)
	info, err := db.CollectionInfo(bg, "products")
	require.NoError(t, err)

	ctx, parent := f.tp.Tracer("caller").Start(bg, "request")
	res, err := db.Search(ctx, "products", &SearchRequest{Vector: make([]float32, 8), Limit: 7, HnswEf: 32,
		Filter: mustFilter(t, `{"must":[{"key":"class","match":{"value":3}}]}`)})
	parent.End()
	require.NoError(t, err)
	require.Len(t, res, 7)

	spans := f.ended("search products")
	require.Len(t, spans, 1)
	s := spans[0]
	require.Equal(t, trace.SpanKindInternal, s.SpanKind())
	require.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "search is a child of the caller's span")
	require.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID())
	require.Equal(t, "qlite", spanAttr(t, s, "db.system.name").AsString())
	require.Equal(t, "search", spanAttr(t, s, "db.operation.name").AsString())
	require.Equal(t, "products", spanAttr(t, s, "db.collection.name").AsString())
	require.EqualValues(t, 7, spanAttr(t, s, "db.response.returned_rows").AsInt64())
	require.EqualValues(t, 7, spanAttr(t, s, "qlite.limit").AsInt64())
	require.EqualValues(t, 32, spanAttr(t, s, "qlite.ef").AsInt64())
	require.NotEmpty(t, spanAttr(t, s, "qlite.plan").AsString())
	// Class 3 is a tenth of the points; the estimate is near it.
	est := spanAttr(t, s, "qlite.filter.estimated_cardinality").AsInt64()
	require.InDelta(t, 80, est, 60)
	scored := spanAttr(t, s, "qlite.vectors_scored").AsInt64()
	require.Greater(t, scored, int64(0))
	require.False(t, hasAttr(s, "error.type"))
	require.Equal(t, codes.Unset, s.Status().Code)

	// One child span per searched segment (there are two).
	nsegs := spanAttr(t, s, "qlite.segments").AsInt64()
	require.EqualValues(t, 2, nsegs)
	require.LessOrEqual(t, nsegs, int64(info.SegmentsCount))
	var children []sdktrace.ReadOnlySpan
	for _, sp := range f.spans.Ended() {
		if strings.HasPrefix(sp.Name(), "segment ") {
			require.Equal(t, s.SpanContext().SpanID(), sp.Parent().SpanID())
			require.True(t, hasAttr(sp, "qlite.plan"))
			children = append(children, sp)
		}
	}
	require.Len(t, children, int(nsegs))
	var childScored int64
	for _, sp := range children {
		childScored += spanAttr(t, sp, "qlite.vectors_scored").AsInt64()
	}
	require.Equal(t, scored, childScored, "the search's scored count is its segments'")

	// The SearchStats the caller asks for are the span's figures.
	var st SearchStats
	_, err = db.Search(bg, "products", &SearchRequest{Vector: make([]float32, 8), Limit: 7, HnswEf: 32,
		Filter: mustFilter(t, `{"must":[{"key":"class","match":{"value":3}}]}`), Stats: &st})
	require.NoError(t, err)
	require.EqualValues(t, st.Estimated, est)
	require.EqualValues(t, st.Segments, nsegs)
	require.Equal(t, 32, st.Ef)

	// Without a filter there are no filter figures; the scored count
	// includes the distances the graph search computed.
	_, err = db.Search(bg, "products", &SearchRequest{Vector: make([]float32, 8), Limit: 7, HnswEf: 32, Stats: &st})
	require.NoError(t, err)
	require.Greater(t, st.Scored, 7)
	spans = f.ended("search products")
	require.Len(t, spans, 3)
	s = spans[2]
	require.False(t, hasAttr(s, "qlite.filter.estimated_cardinality"))
	require.False(t, hasAttr(s, "qlite.filter.actual_candidates"))
	require.EqualValues(t, st.Scored, spanAttr(t, s, "qlite.vectors_scored").AsInt64())

	// Appended to a buffer that holds points already, a search returns
	// its own rows, not the buffer's.
	res, err = db.AppendSearch(bg, make([]ScoredPoint, 3), "products", &SearchRequest{Vector: make([]float32, 8), Limit: 7, HnswEf: 32})
	require.NoError(t, err)
	require.Len(t, res, 3+7)
	spans = f.ended("search products")
	require.Len(t, spans, 4)
	require.EqualValues(t, 7, spanAttr(t, spans[3], "db.response.returned_rows").AsInt64())
}

// recordOnly records every span without sampling it.
type recordOnly struct{}

func (recordOnly) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	return sdktrace.SamplingResult{Decision: sdktrace.RecordOnly,
		Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState()}
}
func (recordOnly) Description() string { return "recordOnly" }

func TestTelemetrySegmentSpansOnlyWhenSampled(t *testing.T) {
	f := newTelemetryFixture(t, recordOnly{})
	createColl(t, f.db, "c", 8, distance.Euclid, 1)
	testPoints(t, f.db, "c", 300, 8, 1)
	_, err := f.db.Search(bg, "c", &SearchRequest{Vector: make([]float32, 8), Limit: 3})
	require.NoError(t, err)
	spans := f.ended("search c")
	require.Len(t, spans, 1)
	require.False(t, spans[0].SpanContext().IsSampled())
	require.GreaterOrEqual(t, spanAttr(t, spans[0], "qlite.segments").AsInt64(), int64(1), "a recording span gets the plan")
	for _, s := range f.spans.Ended() {
		require.False(t, strings.HasPrefix(s.Name(), "segment "), "segment span %q of an unsampled search", s.Name())
	}

	// Never sampled: nothing is recorded at all.
	g := newTelemetryFixture(t, sdktrace.NeverSample())
	createColl(t, g.db, "c", 8, distance.Euclid, 1)
	_, err = g.db.Search(bg, "c", &SearchRequest{Vector: make([]float32, 8), Limit: 3})
	require.NoError(t, err)
	require.Empty(t, g.spans.Ended())
}

func TestTelemetryErrors(t *testing.T) {
	f := newTelemetryFixture(t, sdktrace.AlwaysSample())
	createColl(t, f.db, "c", 4, distance.Dot, 1)
	check := func(name, errType string, call func() error) {
		t.Helper()
		require.Error(t, call())
		spans := f.ended(name)
		require.NotEmpty(t, spans, name)
		s := spans[len(spans)-1]
		require.Equal(t, errType, spanAttr(t, s, "error.type").AsString())
		require.Equal(t, codes.Error, s.Status().Code)
		require.NotEmpty(t, s.Status().Description)
	}
	check("search missing", "not_found", func() error {
		_, err := f.db.Search(bg, "missing", &SearchRequest{Vector: make([]float32, 4), Limit: 1})
		return err
	})
	check("search c", "bad_request", func() error {
		_, err := f.db.Search(bg, "c", &SearchRequest{Vector: make([]float32, 3), Limit: 1})
		return err
	})
	check("create_collection c", "conflict", func() error {
		return f.db.CreateCollection(bg, "c", &CreateCollection{Vectors: VectorsConfig{"": {Size: 4, Distance: distance.Dot}}})
	})
	ctx, cancel := context.WithCancel(bg)
	cancel()
	check("upsert c", "canceled", func() error {
		_, err := f.db.Upsert(ctx, "c", &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 2, 3, 4}}}}}, nil)
		return err
	})
}

func TestTelemetryOperationSpans(t *testing.T) {
	f := newTelemetryFixture(t, sdktrace.AlwaysSample())
	db := f.db
	createColl(t, db, "c", 4, distance.Euclid, 1)
	pts := []Point{
		{ID: numID(1), Vectors: map[string][]float32{"": {1, 0, 0, 0}}, Payload: obj("a", 1)},
		{ID: numID(2), Vectors: map[string][]float32{"": {0, 1, 0, 0}}, Payload: obj("a", 2)},
		{ID: numID(3), Vectors: map[string][]float32{"": {0, 0, 1, 0}}, Payload: obj("a", 3)},
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, nil)
	require.NoError(t, err)
	_, err = db.SetPayload(bg, "c", &SetPayloadOp{Payload: obj("b", 1), Selector: Selector{IDs: []PointID{numID(1)}}}, nil)
	require.NoError(t, err)
	_, err = db.BatchUpdate(bg, "c", []Operation{{Delete: &Selector{IDs: []PointID{numID(3)}}}, {ClearPayload: &Selector{IDs: []PointID{numID(2)}}}}, nil)
	require.NoError(t, err)
	n, err := db.Count(bg, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	page, err := db.Scroll(bg, "c", &ScrollRequest{Limit: 10})
	require.NoError(t, err)
	_, err = db.Query(bg, "c", &QueryRequest{Query: &Query{Nearest: &Example{Vector: []float32{1, 0, 0, 0}}}, Limit: 1})
	require.NoError(t, err)
	_, err = db.SearchBatch(bg, "c", []SearchRequest{{Vector: []float32{1, 0, 0, 0}, Limit: 1}, {Vector: []float32{0, 1, 0, 0}, Limit: 2}})
	require.NoError(t, err)
	_, err = db.ListCollections(bg)
	require.NoError(t, err)
	_, err = db.DeleteCollection(bg, "c")
	require.NoError(t, err)

	for _, name := range []string{"create_collection c", "upsert c", "set_payload c", "batch_update c", "count c",
		"scroll c", "query c", "search_batch c", "list_collections", "delete_collection c"} {
		spans := f.ended(name)
		require.Len(t, spans, 1, name)
		op, _, _ := strings.Cut(name, " ")
		require.Equal(t, op, spanAttr(t, spans[0], "db.operation.name").AsString())
		require.Equal(t, trace.SpanKindInternal, spans[0].SpanKind())
	}
	require.EqualValues(t, 2, spanAttr(t, f.ended("batch_update c")[0], "db.operation.batch.size").AsInt64())
	require.EqualValues(t, 2, spanAttr(t, f.ended("search_batch c")[0], "db.operation.batch.size").AsInt64())
	require.False(t, hasAttr(f.ended("upsert c")[0], "db.operation.batch.size"))
	require.EqualValues(t, len(page.Points), spanAttr(t, f.ended("scroll c")[0], "db.response.returned_rows").AsInt64())
	// The query's search figures sit on the query span, and no search span
	// is nested in it.
	require.True(t, hasAttr(f.ended("query c")[0], "qlite.plan"))
	require.Empty(t, f.ended("search c"))
	require.False(t, hasAttr(f.ended("list_collections")[0], "db.collection.name"))
}

func TestTelemetryOptimizerSpans(t *testing.T) {
	f := newTelemetryFixture(t, sdktrace.AlwaysSample())
	db := f.db
	createColl(t, db, "c", 8, distance.Euclid, 4) // 4 KB: about 100 points a segment
	testPoints(t, db, "c", 1500, 8, 1)
	ctx, parent := f.tp.Tracer("caller").Start(bg, "maintenance")
	require.NoError(t, db.Optimize(ctx, "c"))
	// Delete most points so that segments are vacuumed or merged.
	var ids []PointID
	for i := range 1400 {
		ids = append(ids, numID(uint64(i)))
	}
	_, err := db.Delete(bg, "c", Selector{IDs: ids}, nil)
	require.NoError(t, err)
	require.NoError(t, db.Optimize(ctx, "c"))
	parent.End()

	st := db.Stats()
	require.Positive(t, st.Seals)
	opt := f.ended("optimize c")
	require.Len(t, opt, 2)
	jobs := 0
	for name, want := range map[string]int64{"seal c": st.Seals, "vacuum c": st.Vacuums, "merge c": st.Merges} {
		spans := f.ended(name)
		require.Len(t, spans, int(want), name)
		jobs += len(spans)
		for _, s := range spans {
			require.False(t, s.Parent().IsValid(), "%s is a new root", name)
			require.Equal(t, trace.SpanKindInternal, s.SpanKind())
			require.Len(t, s.Links(), 1)
			linked := s.Links()[0].SpanContext.SpanID()
			require.True(t, linked == opt[0].SpanContext().SpanID() || linked == opt[1].SpanContext().SpanID())
			require.Positive(t, spanAttr(t, s, "qlite.segment.memory_bytes").AsInt64())
			require.True(t, hasAttr(s, "qlite.points"))
		}
	}
	require.Greater(t, jobs, int(st.Seals), "the deletes caused a vacuum or a merge")

	// Graph builds carry progress events from where they started to 100%.
	builds := 0
	for _, s := range f.spans.Ended() {
		for _, e := range s.Events() {
			if e.Name != "build finished" {
				continue
			}
			builds++
			for _, kv := range e.Attributes {
				if kv.Key == "qlite.percent" {
					require.Equal(t, 100.0, kv.Value.AsFloat64(), s.Name())
				}
			}
		}
		if s.Name() == "index c" {
			require.Equal(t, "build started", s.Events()[0].Name)
			require.Equal(t, spanAttr(t, s, "qlite.points.indexed").AsInt64(), s.Events()[1].Attributes[0].Value.AsInt64())
		}
	}
	require.Positive(t, builds)
	require.LessOrEqual(t, int64(builds), st.GraphBuilds+st.Seals+st.Vacuums+st.Merges)
}

// metricsByName collects f's metrics.
func (f *telemetryFixture) metrics(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, f.reader.Collect(bg, &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		require.Equal(t, "github.com/qlite/qlite/engine", sm.Scope.Name)
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func attrsOf(set attribute.Set, key string) string {
	v, _ := set.Value(attribute.Key(key))
	return v.Emit()
}

func TestTelemetryMetrics(t *testing.T) {
	f := newTelemetryFixture(t, sdktrace.AlwaysSample())
	db := f.db
	createColl(t, db, "c", 8, distance.Euclid, 4)
	testPoints(t, db, "c", 300, 8, 1)
	_, err := db.Delete(bg, "c", Selector{IDs: []PointID{numID(1), numID(2), numID(3), numID(1000)}}, nil)
	require.NoError(t, err)
	for range 3 {
		_, err := db.Search(bg, "c", &SearchRequest{Vector: make([]float32, 8), Limit: 2})
		require.NoError(t, err)
	}
	_, err = db.Search(bg, "c", &SearchRequest{Vector: make([]float32, 2), Limit: 2})
	require.Error(t, err)
	require.NoError(t, db.Optimize(bg, "c"))

	ms := f.metrics(t)
	dur := ms["db.client.operation.duration"]
	require.Equal(t, "s", dur.Unit)
	h := dur.Data.(metricdata.Histogram[float64])
	counts := map[string]uint64{}
	for _, dp := range h.DataPoints {
		require.Equal(t, []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}, dp.Bounds)
		require.Equal(t, "qlite", attrsOf(dp.Attributes, "db.system.name"))
		key := attrsOf(dp.Attributes, "db.operation.name") + " " + attrsOf(dp.Attributes, "db.collection.name") +
			" " + attrsOf(dp.Attributes, "error.type")
		counts[key] += dp.Count
	}
	require.Equal(t, uint64(3), counts["search c "])
	require.Equal(t, uint64(1), counts["search c bad_request"])
	require.Equal(t, uint64(2), counts["upsert c "]) // testPoints writes in batches of 256
	require.Equal(t, uint64(1), counts["delete c "])

	sum := func(name string) int64 {
		m := ms[name]
		require.Equal(t, "{point}", m.Unit, name)
		s := m.Data.(metricdata.Sum[int64])
		require.True(t, s.IsMonotonic)
		var n int64
		for _, dp := range s.DataPoints {
			require.Equal(t, "c", attrsOf(dp.Attributes, "db.collection.name"))
			n += dp.Value
		}
		return n
	}
	require.EqualValues(t, 300, sum("qlite.points.upserted"))
	require.EqualValues(t, 3, sum("qlite.points.deleted")) // id 1000 does not exist

	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	gauge := func(name, unit string) int64 {
		m, ok := ms[name]
		require.True(t, ok, name)
		require.Equal(t, unit, m.Unit, name)
		g := m.Data.(metricdata.Gauge[int64])
		require.Len(t, g.DataPoints, 1, name)
		return g.DataPoints[0].Value
	}
	require.EqualValues(t, 297, gauge("qlite.collection.points", "{point}"))
	require.EqualValues(t, info.IndexedVectorsCount, gauge("qlite.collection.indexed_vectors", "{vector}"))
	require.EqualValues(t, 297, info.IndexedVectorsCount)
	require.GreaterOrEqual(t, gauge("qlite.collection.segments", "{segment}"), int64(info.SegmentsCount))
	require.Positive(t, gauge("qlite.collection.memory", "By"))
	disk, err := db.DiskUsage()
	require.NoError(t, err)
	require.InDelta(t, disk, gauge("qlite.db.disk", "By"), float64(disk)/2)
	require.EqualValues(t, 0, gauge("qlite.optimizer.queue", "{collection}"), "Optimize left nothing to do")
	build := ms["qlite.index.build.duration"]
	require.Equal(t, "s", build.Unit)
	var builds uint64
	for _, dp := range build.Data.(metricdata.Histogram[float64]).DataPoints {
		builds += dp.Count
	}
	require.Positive(t, builds)

	// Close unregisters the gauges.
	closeChecked(t, db)
	ms = f.metrics(t)
	for _, name := range []string{"qlite.collection.points", "qlite.db.disk", "qlite.optimizer.queue"} {
		if m, ok := ms[name]; ok {
			require.Empty(t, m.Data.(metricdata.Gauge[int64]).DataPoints, name)
		}
	}
}

// TestQueryStats checks that QueryRequest.Stats receives the figures the
// query's span records, and that it does so without tracing too.
func TestQueryStats(t *testing.T) {
	f := newTelemetryFixture(t, sdktrace.AlwaysSample())
	createColl(t, f.db, "c", 8, distance.Euclid, 1)
	testPoints(t, f.db, "c", 600, 8, 1)
	require.NoError(t, f.db.Optimize(bg, "c"))
	q := func() *QueryRequest {
		return &QueryRequest{Query: &Query{Nearest: &Example{Vector: make([]float32, 8)}}, Limit: 5, HnswEf: 40,
			Filter: mustFilter(t, `{"must":[{"key":"class","match":{"value":3}}]}`)}
	}
	var st SearchStats
	req := q()
	req.Stats = &st
	_, err := f.db.Query(bg, "c", req)
	require.NoError(t, err)
	s := f.ended("query c")
	require.Len(t, s, 1)
	require.Equal(t, spanAttr(t, s[0], "qlite.plan").AsString(), st.Plan)
	require.EqualValues(t, spanAttr(t, s[0], "qlite.ef").AsInt64(), st.Ef)
	require.EqualValues(t, spanAttr(t, s[0], "qlite.segments").AsInt64(), st.Segments)
	require.EqualValues(t, spanAttr(t, s[0], "qlite.vectors_scored").AsInt64(), st.Scored)
	require.EqualValues(t, spanAttr(t, s[0], "qlite.limit").AsInt64(), st.Limit)
	require.EqualValues(t, spanAttr(t, s[0], "qlite.filter.estimated_cardinality").AsInt64(), st.Estimated)
	require.True(t, st.Filtered)

	// Untraced, an exact query scores every point and says so.
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 8, distance.Euclid, 1)
	testPoints(t, db, "c", 300, 8, 1)
	var ex SearchStats
	_, err = db.Query(bg, "c", &QueryRequest{Query: &Query{Nearest: &Example{Vector: make([]float32, 8)}}, Limit: 3, Exact: true, Stats: &ex})
	require.NoError(t, err)
	require.Equal(t, "exact", ex.Plan)
	require.Equal(t, 300, ex.Scored)
	require.Equal(t, 3, ex.Limit)
	require.False(t, ex.Filtered)
}
