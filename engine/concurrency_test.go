package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/payload"
)

// TestConcurrentWritersSearchersOptimizer runs writers, readers and the
// background optimizer together (run it with -race), then checks the final
// state against what each writer wrote.
func TestConcurrentWritersSearchersOptimizer(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, &Options{IndexingWorkers: 2, SealDelay: time.Millisecond, OptimizerInterval: time.Millisecond})
	const dim = 8
	thr, maxSeg, vmin := 1, 16, 100
	del := 0.1
	require.NoError(t, db.CreateCollection(bg, "c", &CreateCollection{
		Vectors: VectorsConfig{"": {Size: dim, Distance: distance.Cosine}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr, MaxSegmentSize: &maxSeg,
			VacuumMinVectorNumber: &vmin, DeletedThreshold: &del},
	}))
	_, err := db.CreateFieldIndex(bg, "c", "w", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)

	duration := 1500 * time.Millisecond
	if testing.Short() {
		duration = 300 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(bg, duration)
	defer cancel()
	const writers = 2
	models := make([]map[PointID][]float32, writers)
	var wg sync.WaitGroup
	for w := range writers {
		models[w] = map[PointID][]float32{}
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			m := models[w]
			for ctx.Err() == nil {
				id := numID(uint64(w*100000 + rng.IntN(600)))
				if rng.IntN(4) == 0 {
					_, err := db.Delete(bg, "c", Selector{IDs: []PointID{id}}, &WriteOptions{Wait: true})
					require.NoError(t, err)
					delete(m, id)
					continue
				}
				v := randVec(rng, dim)
				_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: id, Vectors: map[string][]float32{"": v}, Payload: obj("w", w)}}}, &WriteOptions{Wait: true})
				require.NoError(t, err)
				m[id] = distance.Cosine.Preprocess(nil, v)
			}
		})
	}
	for r := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			f := mustFilter(t, `{"must":[{"key":"w","match":{"value":1}}]}`)
			for ctx.Err() == nil {
				res, err := db.Search(bg, "c", &SearchRequest{Vector: randVec(rng, dim), Limit: 10, WithPayload: AllPayload})
				require.NoError(t, err)
				seen := map[PointID]bool{}
				for _, p := range res {
					require.False(t, seen[p.ID], "duplicate result %s", p.ID)
					seen[p.ID] = true
				}
				res, err = db.Search(bg, "c", &SearchRequest{Vector: randVec(rng, dim), Limit: 5, Filter: f, WithPayload: AllPayload})
				require.NoError(t, err)
				for _, p := range res {
					v, _ := p.Payload.Get("w")
					n, _ := v.Int()
					require.Equal(t, int64(1), n)
				}
				_, err = db.Count(bg, "c", f, true)
				require.NoError(t, err)
				_, err = db.Scroll(bg, "c", &ScrollRequest{Limit: 20})
				require.NoError(t, err)
				_, err = db.CollectionInfo(bg, "c")
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()
	wctx, wcancel := context.WithTimeout(bg, time.Minute)
	defer wcancel()
	require.NoError(t, db.WaitGreen(wctx, "c", 5*time.Millisecond))
	require.NoError(t, db.CheckInvariants())

	check := func(db *DB) {
		total := 0
		for _, m := range models {
			ids := make([]PointID, 0, len(m))
			for id := range m {
				ids = append(ids, id)
			}
			total += len(ids)
			recs, err := db.Get(bg, "c", ids, &ReadOptions{WithVectors: AllVectors})
			require.NoError(t, err)
			require.Len(t, recs, len(ids))
			for _, r := range recs {
				require.True(t, slices.Equal(m[r.ID], r.Vectors[""]), "vector of %s", r.ID)
			}
		}
		n, err := db.Count(bg, "c", nil, true)
		require.NoError(t, err)
		require.Equal(t, total, n)
	}
	check(db)
	st := db.Stats()
	t.Logf("stats: %+v", st)
	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	check(db)
	require.Zero(t, db.Stats().GraphBuilds, "reopen after a clean close rebuilt a graph")
}
