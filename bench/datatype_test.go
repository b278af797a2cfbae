package bench

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
)

// On Fashion-MNIST (pixels 0..255, which uint8 holds exactly), collections
// of datatype uint8 (Euclid) and float16 (Cosine) find the brute-force
// neighbours computed in float64 on the values they store (the pixels;
// for float16 Cosine the normalised pixels), through their graphs.
func TestDatatypeFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds graphs over Fashion-MNIST")
	}
	const n, nq, k = 2000, 40, 10
	ds, err := LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{MaxPoints: n})
	if errors.Is(err, ErrNotInstalled) {
		t.Skipf("Fashion-MNIST is not installed in %s (apt-get install dataset-fashion-mnist): %v", DefaultFashionMNISTDir, err)
	}
	require.NoError(t, err)
	ctx := context.Background()
	db, err := engine.Open(t.TempDir(), &engine.Options{DisableOptimizer: true, IndexingWorkers: 2})
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()

	for _, tc := range []struct {
		dt string
		m  distance.Metric
	}{{"uint8", distance.Euclid}, {"float16", distance.Cosine}} {
		name := tc.dt
		thr := 1000 // KB: a few sealed segments with graphs
		require.NoError(t, db.CreateCollection(ctx, name, &engine.CreateCollection{
			Vectors:    engine.VectorsConfig{"": {Size: uint64(ds.Dim), Distance: tc.m, Datatype: tc.dt}},
			Optimizers: &engine.OptimizersConfigDiff{IndexingThreshold: &thr},
		}))
		for lo := 0; lo < n; lo += 500 {
			var pts []engine.Point
			for i := lo; i < min(n, lo+500); i++ {
				pts = append(pts, engine.Point{ID: filter.NumID(uint64(i)), Vectors: map[string][]float32{"": ds.Base[i*ds.Dim : (i+1)*ds.Dim]}})
			}
			_, err := db.Upsert(ctx, name, &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true})
			require.NoError(t, err)
		}
		require.NoError(t, db.Optimize(ctx, name))
		info, err := db.CollectionInfo(ctx, name)
		require.NoError(t, err)
		require.Equal(t, n, info.IndexedVectorsCount, name)

		// The reference: float64 on the pixels (uint8 and float16 hold
		// them exactly), normalised for Cosine.
		ref := func(v []float32) []float64 {
			out := make([]float64, len(v))
			var n2 float64
			for i, x := range v {
				out[i] = float64(x)
				n2 += out[i] * out[i]
			}
			if tc.m == distance.Cosine && n2 > 0 {
				for i := range out {
					out[i] /= math.Sqrt(n2)
				}
			}
			return out
		}
		base := make([][]float64, n)
		for i := range base {
			base[i] = ref(ds.Base[i*ds.Dim : (i+1)*ds.Dim])
		}
		hits := 0
		for qi := range nq {
			q := ds.Query(qi)
			rq := ref(q)
			d := make([]float64, n)
			for i, b := range base {
				var s float64
				for j := range b {
					if tc.m == distance.Cosine {
						s -= rq[j] * b[j]
					} else {
						s += (rq[j] - b[j]) * (rq[j] - b[j])
					}
				}
				d[i] = s
			}
			order := make([]int, n)
			for i := range order {
				order[i] = i
			}
			slices.SortFunc(order, func(a, b int) int { return cmp.Compare(d[a], d[b]) })
			res, err := db.Search(ctx, name, &engine.SearchRequest{Vector: q, Limit: k, HnswEf: 64})
			require.NoError(t, err)
			for _, r := range res {
				for _, want := range order[:k] {
					if r.ID == filter.NumID(uint64(want)) {
						hits++
					}
				}
			}
		}
		recall := float64(hits) / float64(k*nq)
		t.Logf("%s %v: recall@%d %.3f", tc.dt, tc.m, k, recall)
		require.GreaterOrEqual(t, recall, 0.95, name)
	}
}
