package engine

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/payload"
)

// TestPreventUnoptimized: with prevent_unoptimized, the points the
// appendable segment receives past the indexing threshold stay out of
// every read until they are indexed, as in Qdrant; the collection's point
// count includes them, and writes by filter reach them.
func TestPreventUnoptimized(t *testing.T) {
	const dim, thrKB = 256, 100 // 1 KB a point: 100 points below the threshold
	const n = 250
	db := openTestDB(t, t.TempDir(), testOpts()) // no background optimizer
	on := true
	thr := thrKB
	require.NoError(t, db.CreateCollection(bg, "d", &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: dim, Distance: distance.Cosine}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr, PreventUnoptimized: &on},
	}))
	_, err := db.CreateFieldIndex(bg, "d", "g", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(5, 5))
	var pts []Point
	ids := make([]PointID, n)
	for i := range n {
		ids[i] = numID(uint64(i + 1))
		pts = append(pts, Point{ID: ids[i], Vectors: map[string][]float32{"": randVec(rng, dim)}, Payload: obj("g", i%3)})
	}
	_, err = db.Upsert(bg, "d", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)

	visible := func(want int) {
		t.Helper()
		got, err := db.Get(bg, "d", ids, nil)
		require.NoError(t, err)
		require.Len(t, got, want, "get")
		for i, r := range got {
			require.Equal(t, ids[i], r.ID, "the first points are the visible ones")
		}
		cnt, err := db.Count(bg, "d", nil, true)
		require.NoError(t, err)
		require.Equal(t, want, cnt, "count")
		cnt, err = db.Count(bg, "d", mustFilter(t, `{"must":[{"key":"g","match":{"value":1}}]}`), true)
		require.NoError(t, err)
		require.Equal(t, (want+1)/3, cnt, "filtered count")
		sc, err := db.Scroll(bg, "d", &ScrollRequest{Limit: 1000})
		require.NoError(t, err)
		require.Len(t, sc.Points, want, "scroll")
		hits, err := db.Search(bg, "d", &SearchRequest{Vector: randVec(rng, dim), Limit: 1000})
		require.NoError(t, err)
		require.Len(t, hits, want, "search")
		hits, err = db.Search(bg, "d", &SearchRequest{Vector: randVec(rng, dim), Limit: 1000, Filter: mustFilter(t, `{"must":[{"key":"g","match":{"value":1}}]}`)})
		require.NoError(t, err)
		require.Len(t, hits, (want+1)/3, "filtered search")
		qs, err := db.Query(bg, "d", &QueryRequest{Limit: 1000})
		require.NoError(t, err)
		require.Len(t, qs, want, "query")
		facet, err := db.Facet(bg, "d", &FacetRequest{Key: "g", Exact: true})
		require.NoError(t, err)
		total := 0
		for _, h := range facet {
			total += h.Count
		}
		require.Equal(t, want, total, "facet")
		info, err := db.CollectionInfo(bg, "d")
		require.NoError(t, err)
		require.Equal(t, n, info.PointsCount, "points_count counts deferred points")
	}
	visible(100)
	_, err = db.Query(bg, "d", &QueryRequest{Query: &Query{Nearest: &Example{ID: &ids[n-1]}}})
	require.ErrorIs(t, err, ErrNotFound, "a deferred point is no example")

	// Writes reach deferred points: delete some by filter.
	_, err = db.Delete(bg, "d", Selector{Filter: mustFilter(t, `{"must":[{"key":"g","match":{"value":2}}]}`)}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	info, err := db.CollectionInfo(bg, "d")
	require.NoError(t, err)
	require.Equal(t, n-n/3, info.PointsCount)

	// Once indexed, every point is visible.
	require.NoError(t, db.Optimize(bg, "d"))
	cnt, err := db.Count(bg, "d", nil, true)
	require.NoError(t, err)
	require.Equal(t, n-n/3, cnt)
}

// TestPreventUnoptimizedWait: a waiting write returns once its points are
// indexed and visible; without prevent_unoptimized reads see points at
// once.
func TestPreventUnoptimizedWait(t *testing.T) {
	const dim = 256
	o := testOpts()
	o.DisableOptimizer = false
	o.OptimizerInterval = time.Hour // woken by writes only
	db := openTestDB(t, t.TempDir(), o)
	on := true
	thr := 10
	for _, name := range []string{"on", "off"} {
		od := &OptimizersConfigDiff{IndexingThreshold: &thr}
		if name == "on" {
			od.PreventUnoptimized = &on
		}
		require.NoError(t, db.CreateCollection(bg, name, &CreateCollection{
			Vectors: VectorsConfig{"": {Size: dim, Distance: distance.Dot}}, Optimizers: od}))
	}
	rng := rand.New(rand.NewPCG(6, 6))
	var pts []Point
	for i := range 60 {
		pts = append(pts, Point{ID: numID(uint64(i + 1)), Vectors: map[string][]float32{"": randVec(rng, dim)}})
	}
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	for _, name := range []string{"on", "off"} {
		res, err := db.Upsert(ctx, name, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
		require.Equal(t, StatusCompleted, res.Status)
		cnt, err := db.Count(bg, name, nil, true)
		require.NoError(t, err)
		require.Equal(t, 60, cnt, name)
	}
}

// TestOptimizerOffDefers: max_optimization_threads 0 turns the background
// optimizer off for a collection, so deferred points stay hidden (a
// waiting write does not wait for them and reports acknowledged) until it
// is turned back on.
func TestOptimizerOffDefers(t *testing.T) {
	const dim = 256
	o := testOpts()
	o.DisableOptimizer = false
	db := openTestDB(t, t.TempDir(), o)
	on, thr, zero := true, 10, 0
	require.NoError(t, db.CreateCollection(bg, "d", &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: dim, Distance: distance.Dot}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr, PreventUnoptimized: &on, MaxOptimizationThreads: &zero}}))
	rng := rand.New(rand.NewPCG(7, 7))
	var pts []Point
	for i := range 30 {
		pts = append(pts, Point{ID: numID(uint64(i + 1)), Vectors: map[string][]float32{"": randVec(rng, dim)}})
	}
	res, err := db.Upsert(bg, "d", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	require.Equal(t, StatusAcknowledged, res.Status)
	time.Sleep(50 * time.Millisecond)
	cnt, err := db.Count(bg, "d", nil, true)
	require.NoError(t, err)
	require.Equal(t, 10, cnt)
	info, err := db.CollectionInfo(bg, "d")
	require.NoError(t, err)
	require.Equal(t, 20, *info.DeferredPoints)

	auto := -1
	require.NoError(t, db.UpdateCollection(bg, "d", &UpdateCollection{Optimizers: &OptimizersConfigDiff{MaxOptimizationThreads: &auto}}))
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	require.NoError(t, db.WaitGreen(ctx, "d", 5*time.Millisecond))
	cnt, err = db.Count(bg, "d", nil, true)
	require.NoError(t, err)
	require.Equal(t, 30, cnt)
	info, err = db.CollectionInfo(bg, "d")
	require.NoError(t, err)
	require.Zero(t, *info.DeferredPoints)
}
