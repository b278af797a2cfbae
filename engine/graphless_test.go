package engine

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// TestGraphlessVector checks hnsw m = 0 on a plain dense vector, as Qdrant
// has it: no graph is built (no graph memory), every search scores all the
// points (a search with hnsw_ef 1 gives the brute-force answer), the
// points count as indexed, and changing m to 16 and back rebuilds the
// segments with and without a graph, also across a reopen that comes
// before the optimizer ran.
func TestGraphlessVector(t *testing.T) {
	const n, dim, k = 2000, 16, 10
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	thr, m0, m16 := 1, 0, 16
	require.NoError(t, db.CreateCollection(bg, "g", &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: dim, Distance: distance.Dot}},
		HNSW:       &HnswConfigDiff{M: &m0},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
	}))
	rng := rand.New(rand.NewPCG(16, 0))
	vecs := make([][]float32, n)
	var pts []Point
	for i := range vecs {
		vecs[i] = randVec(rng, dim)
		pts = append(pts, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": vecs[i]}})
	}
	_, err := db.Upsert(bg, "g", &UpsertOp{Points: pts}, nil)
	require.NoError(t, err)
	queries := make([][]float32, 20)
	for i := range queries {
		queries[i] = randVec(rng, dim)
	}
	brute := func(q []float32) []uint64 {
		idx := make([]uint64, n)
		for i := range idx {
			idx[i] = uint64(i)
		}
		dot := func(i uint64) float32 { return distance.DotProduct(q, vecs[i]) }
		slices.SortStableFunc(idx, func(a, b uint64) int {
			da, db := dot(a), dot(b)
			switch {
			case da > db:
				return -1
			case da < db:
				return 1
			}
			return 0
		})
		return idx[:k]
	}
	// exactAnswers counts the queries whose hnsw_ef 1 search gives the
	// brute-force answer.
	exactAnswers := func(db *DB) int {
		t.Helper()
		same := 0
		for _, q := range queries {
			res, err := db.Query(bg, "g", &QueryRequest{Query: &Query{Nearest: &Example{Vector: q}}, Limit: k, HnswEf: 1})
			require.NoError(t, err)
			if slices.Equal(scoredIDs(res), brute(q)) {
				same++
			}
		}
		return same
	}
	info := func(db *DB) *CollectionInfo {
		t.Helper()
		ci, err := db.CollectionInfo(bg, "g")
		require.NoError(t, err)
		return ci
	}
	graphless := func(db *DB, what string) {
		t.Helper()
		ci := info(db)
		require.Zero(t, ci.Memory.Graph, what)
		require.Equal(t, n, ci.IndexedVectorsCount, what)
		require.Equal(t, len(queries), exactAnswers(db), what)
	}
	withGraph := func(db *DB, what string) {
		t.Helper()
		ci := info(db)
		require.Positive(t, ci.Memory.Graph, what)
		require.Equal(t, n, ci.IndexedVectorsCount, what)
		require.Less(t, exactAnswers(db), len(queries), what+": hnsw_ef 1 should search a graph")
	}

	setVectorM := func(db *DB, m int) {
		t.Helper()
		require.NoError(t, db.UpdateCollection(bg, "g", &UpdateCollection{Vectors: map[string]VectorParamsDiff{"": {HNSW: &HnswConfigDiff{M: &m}}}}))
	}
	reopen := func(db *DB) *DB {
		t.Helper()
		closeChecked(t, db)
		return openTestDB(t, dir, testOpts())
	}

	require.Equal(t, len(queries), exactAnswers(db), "appendable segment")
	require.NoError(t, db.Optimize(bg, "g"))
	graphless(db, "optimized")

	// m 16 for the vector only: the segments are rebuilt with a graph.
	setVectorM(db, m16)
	require.NoError(t, db.Optimize(bg, "g"))
	withGraph(db, "m 16")

	// Back to 0 and reopened before the optimizer runs: the persisted
	// graph is dropped on load.
	setVectorM(db, m0)
	db = reopen(db)
	graphless(db, "m 0, reopened")
	require.NoError(t, db.Optimize(bg, "g"))
	graphless(db, "m 0, reopened, optimized")

	// To 16 and reopened: the graph the segment persisted when it had one
	// is used again.
	setVectorM(db, m16)
	db = reopen(db)
	withGraph(db, "m 16, reopened")

	// Back to 0 while running: the segments are rebuilt without a graph.
	require.NoError(t, db.UpdateCollection(bg, "g", &UpdateCollection{HNSW: &HnswConfigDiff{M: &m0}, Vectors: map[string]VectorParamsDiff{"": {HNSW: &HnswConfigDiff{M: &m0}}}}))
	require.NoError(t, db.Optimize(bg, "g"))
	graphless(db, "m 0 again")
	db = reopen(db)
	graphless(db, "m 0 again, reopened")

	// To 16 and reopened: the segments persisted without a graph are
	// scanned until the optimizer builds theirs. (The vector's own m
	// overrides the collection's.)
	require.NoError(t, db.UpdateCollection(bg, "g", &UpdateCollection{HNSW: &HnswConfigDiff{M: &m16}}))
	db = reopen(db)
	graphless(db, "collection m 16, vector m 0")
	setVectorM(db, m16)
	db = reopen(db)
	require.Equal(t, len(queries), exactAnswers(db), "m 16, reopened: scanned until built")
	require.NoError(t, db.Optimize(bg, "g"))
	withGraph(db, "m 16, reopened, optimized")
}
