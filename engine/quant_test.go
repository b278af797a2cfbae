package engine

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// createQuantColl creates a collection of one unnamed Euclid vector with
// the quantization config q.
func createQuantColl(t testing.TB, db *DB, name string, dim int, q string) {
	t.Helper()
	thr := 20
	req := &CreateCollection{
		Vectors:      VectorsConfig{"": {Size: uint64(dim), Distance: distance.Euclid}},
		Optimizers:   &OptimizersConfigDiff{IndexingThreshold: &thr},
		Quantization: json.RawMessage(q),
	}
	require.NoError(t, db.CreateCollection(bg, name, req))
}

// quantRecall returns the recall@10 of qs on coll against brute force.
func quantRecall(t *testing.T, db *DB, coll string, vecs map[PointID][]float32, qs [][]float32, qp QuantParams) float64 {
	t.Helper()
	hits := 0
	for _, q := range qs {
		res, err := db.Search(bg, coll, &SearchRequest{Vector: q, Limit: 10, HnswEf: 64, Quant: qp})
		require.NoError(t, err)
		exact := nearestByL2(vecs, q, 10)
		for _, r := range res {
			if slices.Contains(exact, r.ID) {
				hits++
			}
		}
	}
	return float64(hits) / float64(10*len(qs))
}

// A collection with scalar int8 quantisation quantises its sealed
// segments (codes a quarter of float32's, reported in the collection's
// memory), searches them with Qdrant's defaults and parameters at a
// brute-force recall, and reopens without quantising again, with the same
// answers.
func TestQuantizedCollection(t *testing.T) {
	dir := t.TempDir()
	o := testOpts()
	o.IndexingWorkers = 1
	db := openTestDB(t, dir, o)
	const dim, n = 16, 3000
	createQuantColl(t, db, "c", dim, `{"scalar": {"type": "int8", "quantile": 0.99}}`)
	vecs := testPoints(t, db, "c", n, dim, 1)
	require.NoError(t, db.Optimize(bg, "c"))
	require.Positive(t, db.Stats().Quantizations)

	c, err := db.collection("c")
	require.NoError(t, err)
	var sealed, codes int64
	for _, ref := range c.snapshotSegs() {
		if q := ref.seg.Quantized(""); q != nil {
			sealed += int64(ref.seg.Len())
			codes += q.Bytes()
			require.Equal(t, dim+4, q.Q.RowSize())
		}
	}
	require.Positive(t, sealed)
	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Equal(t, codes, info.Memory.Quantized+info.Memory.MappedQuantized)

	rng := rand.New(rand.NewPCG(9, 9))
	var qs [][]float32
	for range 50 {
		qs = append(qs, randVec(rng, dim))
	}
	yes, no := true, false
	check := func(db *DB) []float64 {
		t.Helper()
		r := []float64{
			quantRecall(t, db, "c", vecs, qs, QuantParams{Rescore: &yes, Oversampling: 2}),
			quantRecall(t, db, "c", vecs, qs, QuantParams{Rescore: &no}),
			quantRecall(t, db, "c", vecs, qs, QuantParams{}),
			quantRecall(t, db, "c", vecs, qs, QuantParams{Ignore: true}),
		}
		require.GreaterOrEqual(t, r[0], 0.95, "rescored")
		require.GreaterOrEqual(t, r[1], 0.8, "not rescored")
		require.Equal(t, r[1], r[2], "scalar's default is no rescoring")
		require.GreaterOrEqual(t, r[3], 0.95, "ignored")
		return r
	}
	before := check(db)
	quantized := db.Stats().Quantizations
	closeChecked(t, db)
	db = openTestDB(t, dir, o)
	require.Zero(t, db.Stats().Quantizations, "reopen quantised again")
	require.Equal(t, before, check(db))
	_ = quantized
}

// Changing the quantization config re-quantises the sealed segments
// through the optimizer while searches go on (run with -race), and
// "Disabled" removes the codes.
func TestQuantizationConfigUpdate(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim, n = 16, 2000
	createQuantColl(t, db, "c", dim, `{"scalar": {"type": "int8"}}`)
	vecs := testPoints(t, db, "c", n, dim, 2)
	require.NoError(t, db.Optimize(bg, "c"))
	kinds := func() map[string]int {
		c, err := db.collection("c")
		require.NoError(t, err)
		out := map[string]int{}
		for _, ref := range c.snapshotSegs() {
			if q := ref.seg.Quantized(""); q != nil {
				out[q.Q.Kind().String()]++
			} else if ref.persisted.Load() {
				out["none"]++
			}
		}
		return out
	}
	require.Contains(t, kinds(), "scalar")

	rng := rand.New(rand.NewPCG(3, 3))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := db.Search(bg, "c", &SearchRequest{Vector: randVec(rng, dim), Limit: 5, Quant: QuantParams{Oversampling: 2}})
			if err != nil || len(res) != 5 {
				t.Errorf("search during update: %v, %d results", err, len(res))
				return
			}
		}
	}()
	for _, q := range []string{`{"product": {"compression": "x4"}}`, `{"binary": {"encoding": "two_bits"}}`, `"Disabled"`} {
		require.NoError(t, db.UpdateCollection(bg, "c", &UpdateCollection{Quantization: json.RawMessage(q)}))
		require.NoError(t, db.Optimize(bg, "c"))
		got := kinds()
		want := map[string]string{`"Disabled"`: "none"}[q]
		if want == "" {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(q), &m))
			for k := range m {
				want = k
			}
		}
		require.Equal(t, []string{want}, slices.Collect(mapsKeys(got)), "after %s", q)
	}
	close(stop)
	wg.Wait()
	_ = vecs
}

func mapsKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
