package engine

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

func randMultiVec(rng *rand.Rand, dim, maxN int) [][]float32 {
	out := make([][]float32, 1+rng.IntN(maxN))
	for i := range out {
		out[i] = randVec(rng, dim)
	}
	return out
}

// multiBrute ranks points by MaxSim of q against their multivectors, scored
// pair by pair, and returns the best k ids and their scores.
func multiBrute(m distance.Metric, dim int, q [][]float32, docs map[PointID][][]float32, k int) ([]PointID, []float32) {
	flat := func(v [][]float32) []float32 { return slices.Concat(v...) }
	fq := m.PreprocessMultiQuery(nil, flat(q), dim)
	type hit struct {
		id    PointID
		score float32
	}
	var hits []hit
	for id, d := range docs {
		hits = append(hits, hit{id, m.Score(m.MaxSimNaive(fq, m.PreprocessMulti(nil, flat(d), dim), dim))})
	}
	slices.SortFunc(hits, func(a, b hit) int {
		switch {
		case m.BetterScore(a.score, b.score):
			return -1
		case m.BetterScore(b.score, a.score):
			return 1
		}
		return a.id.Compare(b.id)
	})
	var ids []PointID
	var scores []float32
	for _, h := range hits[:min(k, len(hits))] {
		ids = append(ids, h.id)
		scores = append(scores, h.score)
	}
	return ids, scores
}

func TestMultivectorCollection(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	thr := 1
	m0 := 0
	require.NoError(t, db.CreateCollection(bg, "mv", &CreateCollection{
		Vectors: VectorsConfig{
			"e": {Size: 4, Distance: distance.Euclid, Multivector: []byte(`{"comparator": "max_sim", "x": 1}`)},
			"c": {Size: 4, Distance: distance.Cosine, Multivector: []byte(`{"comparator":"max_sim"}`), HNSW: &HnswConfigDiff{M: &m0}},
			"p": {Size: 4, Distance: distance.Dot},
		},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
	}))
	info, err := db.CollectionInfo(bg, "mv")
	require.NoError(t, err)
	require.JSONEq(t, `{"comparator":"max_sim"}`, string(info.Config.Params.Vectors["e"].Multivector))

	rng := rand.New(rand.NewPCG(5, 5))
	docs := map[string]map[PointID][][]float32{"e": {}, "c": {}}
	var pts []Point
	for i := range 300 {
		id := numID(uint64(i))
		p := Point{ID: id, Multi: map[string][][]float32{}, Vectors: map[string][]float32{"p": randVec(rng, 4)}}
		for _, n := range []string{"e", "c"} {
			v := randMultiVec(rng, 4, 5)
			p.Multi[n] = v
			docs[n][id] = v
		}
		pts = append(pts, p)
	}
	_, err = db.Upsert(bg, "mv", &UpsertOp{Points: pts}, nil)
	require.NoError(t, err)

	check := func(db *DB) {
		t.Helper()
		for _, n := range []string{"e", "c"} {
			m := map[string]distance.Metric{"e": distance.Euclid, "c": distance.Cosine}[n]
			for range 10 {
				q := randMultiVec(rng, 4, 3)
				res, err := db.Query(bg, "mv", &QueryRequest{Query: &Query{Nearest: &Example{Multi: q}}, Using: n, Limit: 5, Exact: true})
				require.NoError(t, err)
				ids, scores := multiBrute(m, 4, q, docs[n], 5)
				require.Len(t, res, len(ids))
				for i, r := range res {
					require.Equal(t, ids[i], r.ID, n)
					require.InDelta(t, scores[i], r.Score, 1e-4*max(1, float64(scores[i])))
				}
			}
		}
		got, err := db.Get(bg, "mv", []PointID{numID(7)}, &ReadOptions{WithVectors: AllVectors})
		require.NoError(t, err)
		require.Len(t, got[0].Multi["e"], len(docs["e"][numID(7)]))
		require.Equal(t, docs["e"][numID(7)], got[0].Multi["e"])
		require.Len(t, got[0].Vectors["p"], 4)
		require.NotContains(t, got[0].Vectors, "e")
	}
	check(db)
	require.NoError(t, db.Optimize(bg, "mv"))
	check(db)
	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	check(db)

	// Errors: a multivector to a plain vector, a vector of the wrong size,
	// an empty multivector.
	_, err = db.Upsert(bg, "mv", &UpsertOp{Points: []Point{{ID: numID(1), Multi: map[string][][]float32{"p": {{1, 2, 3, 4}}}}}}, nil)
	require.ErrorContains(t, err, "Conversion between multi and regular vectors failed")
	_, err = db.Upsert(bg, "mv", &UpsertOp{Points: []Point{{ID: numID(1), Multi: map[string][][]float32{"e": {{1, 2, 3, 4}, {1, 2}}}}}}, nil)
	require.ErrorContains(t, err, "Vector dimension error: expected dim: 4, got 2")
	_, err = db.Upsert(bg, "mv", &UpsertOp{Points: []Point{{ID: numID(1), Multi: map[string][][]float32{"e": {}}}}}, nil)
	require.ErrorContains(t, err, "expected dim: 4, got 0")

	// A plain vector for a multivector name is a multivector of one.
	_, err = db.Upsert(bg, "mv", &UpsertOp{Points: []Point{{ID: numID(1000), Vectors: map[string][]float32{"e": {1, 2, 3, 4}}}}}, nil)
	require.NoError(t, err)
	got, err := db.Get(bg, "mv", []PointID{numID(1000)}, &ReadOptions{WithVectors: AllVectors})
	require.NoError(t, err)
	require.Equal(t, [][]float32{{1, 2, 3, 4}}, got[0].Multi["e"])

	// Update and delete vectors.
	_, err = db.UpdateVectors(bg, "mv", &UpdateVectorsOp{Points: []PointVectors{{ID: numID(1000), Multi: map[string][][]float32{"e": {{0, 0, 0, 1}, {0, 0, 1, 0}}}}}}, nil)
	require.NoError(t, err)
	got, err = db.Get(bg, "mv", []PointID{numID(1000)}, &ReadOptions{WithVectors: AllVectors})
	require.NoError(t, err)
	require.Equal(t, [][]float32{{0, 0, 0, 1}, {0, 0, 1, 0}}, got[0].Multi["e"])
	_, err = db.DeleteVectors(bg, "mv", &DeleteVectorsOp{Selector: Selector{IDs: []PointID{numID(1000)}}, Names: []string{"e"}}, nil)
	require.NoError(t, err)
	got, err = db.Get(bg, "mv", []PointID{numID(1000)}, &ReadOptions{WithVectors: AllVectors})
	require.NoError(t, err)
	require.Nil(t, got[0].Multi)
}

// TestMultivectorRecommend checks Qdrant's scoring of multivector examples:
// MaxSim with the example as the query, and average_vector a MaxSim search
// for the positives' vectors and the negatives' negated (numbers from
// Qdrant 1.17.1).
func TestMultivectorRecommend(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	require.NoError(t, db.CreateCollection(bg, "mv", &CreateCollection{Vectors: VectorsConfig{
		"d": {Size: 2, Distance: distance.Dot, Multivector: []byte(`{"comparator":"max_sim"}`)},
	}}))
	_, err := db.Upsert(bg, "mv", &UpsertOp{Points: []Point{
		{ID: numID(1), Multi: map[string][][]float32{"d": {{1.5, 0}, {0, 1}}}},
		{ID: numID(2), Multi: map[string][][]float32{"d": {{2, 1}}}},
		{ID: numID(3), Multi: map[string][][]float32{"d": {{3, 4}, {1, -1}, {0, 2}}}},
	}}, nil)
	require.NoError(t, err)
	f := func(q *Query, wantID uint64, want float32) {
		t.Helper()
		res, err := db.Query(bg, "mv", &QueryRequest{Query: q, Using: "d"})
		require.NoError(t, err)
		require.NotEmpty(t, res)
		require.Equal(t, numID(wantID), res[0].ID)
		require.InDelta(t, want, res[0].Score, 1e-6)
	}
	id := func(n uint64) *PointID { p := numID(n); return &p }
	f(&Query{Recommend: &RecommendQuery{Positive: []Example{{ID: id(1)}}, Negative: []Example{{ID: id(3)}}}}, 2, -9)
	f(&Query{Recommend: &RecommendQuery{Positive: []Example{{ID: id(1)}}, Negative: []Example{{ID: id(3)}}, Strategy: BestScore}}, 2, -0.96428573)
	f(&Query{Recommend: &RecommendQuery{Positive: []Example{{ID: id(1)}, {ID: id(2)}}}}, 3, 18.5)
	f(&Query{Nearest: &Example{Multi: [][]float32{{0.5, 0.25}, {0.3, 0.1}}}}, 3, 3.8000002)
	f(&Query{Context: []ContextPair{{Positive: Example{ID: id(1)}, Negative: Example{ID: id(3)}}}}, 2, -0.9)
	f(&Query{Discover: &DiscoverQuery{Target: Example{Multi: [][]float32{{0.5, 0.25}}}, Context: []ContextPair{{Positive: Example{ID: id(1)}, Negative: Example{ID: id(3)}}}}}, 2, -0.22222221)
}
