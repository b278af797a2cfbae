package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/segment"
)

// mmrOracle is maximal marginal relevance as Qdrant states it, computed the
// slow way: the full similarity matrix (sim[i][j] the similarity of
// candidate i, as the query, to candidate j), then at each step every
// remaining candidate's best similarity to the selected ones, recomputed
// from scratch; the candidates are kept in Qdrant's order (a selected one
// is replaced by the last), and ties go to the last best.
func mmrOracle(m distance.Metric, q qvec, vecs []qvec, diversity float32, limit int) []int {
	n := len(vecs)
	sim := make([][]float32, n)
	rel := make([]float32, n)
	for i := range vecs {
		rel[i] = vsimilarity(m, vecs[i], q)
		sim[i] = make([]float32, n)
		for j := range vecs {
			sim[i][j] = vsimilarity(m, vecs[j], vecs[i])
		}
	}
	return mmrLoop(rel, diversity, limit, func(i int, selected []int) float32 {
		most := float32(math.Inf(-1))
		for _, s := range selected {
			most = max(most, sim[i][s])
		}
		return most
	})
}

// mmrLoop is the selection of the MMR references: rel are the candidates'
// relevances, most(i, selected) candidate i's best similarity to the
// selected ones (called for each remaining candidate once per step, in
// Qdrant's order of them).
func mmrLoop(rel []float32, diversity float32, limit int, most func(i int, selected []int) float32) []int {
	lambda := 1 - diversity
	remaining := make([]int, len(rel))
	for i := range remaining {
		remaining[i] = i
	}
	var selected []int
	for len(selected) < min(limit, len(rel)) {
		best, at := float32(0), -1
		for k, i := range remaining {
			score := rel[i]
			if len(selected) > 0 {
				score = float32(lambda*rel[i]) - float32((1-lambda)*most(i, selected))
			}
			if at < 0 || score >= best {
				best, at = score, k
			}
		}
		selected = append(selected, remaining[at])
		remaining[at] = remaining[len(remaining)-1]
		remaining = remaining[:len(remaining)-1]
	}
	return selected
}

// randQvec returns a random vector of dim dimensions: sparse, or a
// multivector of up to three vectors when multi, else dense.
func randQvec(rng *rand.Rand, dim int, sparse, multi bool) qvec {
	if multi {
		var d []float32
		for range 1 + rng.IntN(3) {
			d = append(d, randQvec(rng, dim, false, false).d...)
		}
		return qvec{d: d, dim: dim}
	}
	if sparse {
		var v segment.SparseVector
		for d := range uint32(dim) {
			if rng.IntN(3) == 0 {
				v.Indices = append(v.Indices, d)
				v.Values = append(v.Values, rng.Float32())
			}
		}
		return qvec{s: v}
	}
	v := make([]float32, dim)
	for i := range v {
		// Few distinct values, so that equal scores (ties) happen.
		v[i] = float32(rng.IntN(5)-2) / 2
	}
	return qvec{d: v}
}

func TestMMRSelectMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 16))
	s := &mmrScratch{}
	// Metric 0 stands for sparse vectors, 1<<4 | m for multivectors of m.
	for _, m := range []distance.Metric{distance.Cosine, distance.Dot, distance.Euclid, distance.Manhattan, 0,
		1<<4 | distance.Cosine, 1<<4 | distance.Euclid, 1<<4 | distance.Manhattan} {
		sparse, multi := m == 0, m&(1<<4) != 0
		m &^= 1 << 4
		if sparse {
			m = distance.Dot
		}
		for range 200 {
			dim, n := 1+rng.IntN(20), rng.IntN(40)
			q := randQvec(rng, dim, sparse, multi)
			vecs := make([]qvec, n)
			for i := range vecs {
				vecs[i] = randQvec(rng, dim, sparse, multi)
			}
			div := float32(rng.IntN(11)) / 10
			limit := rng.IntN(n + 3)
			want := mmrOracle(m, q, vecs, div, limit)
			got := mmrSelect(m, q, vecs, div, limit, s)
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("%v sparse=%v multi=%v n=%d diversity=%v limit=%d: got %v, want %v", m, sparse, multi, n, div, limit, got, want)
			}
		}
	}
}

func TestFeedbackPairs(t *testing.T) {
	f := func(scores []float32, n NaiveFeedback, want [][2]int, weights []float32) {
		t.Helper()
		vecs := make([]qvec, len(scores))
		for i := range vecs {
			vecs[i] = qvec{d: []float32{float32(i)}}
		}
		got := feedbackPairs(vecs, scores, n)
		if len(got) != len(want) {
			t.Fatalf("scores %v: %d pairs, want %d", scores, len(got), len(want))
		}
		for i, p := range got {
			if int(p.pos.d[0]) != want[i][0] || int(p.neg.d[0]) != want[i][1] || math.Abs(float64(p.weight-weights[i])) > 1e-6 {
				t.Fatalf("scores %v: pair %d is (%v, %v, %v), want (%v, %v)", scores, i, p.pos.d[0], p.neg.d[0], p.weight, want[i], weights[i])
			}
		}
	}
	f([]float32{1}, NaiveFeedback{A: 1, B: 1, C: 1}, nil, nil)
	f([]float32{0.5, 0.5}, NaiveFeedback{A: 1, B: 1, C: 1}, nil, nil)
	f([]float32{0.9, 0.1}, NaiveFeedback{A: 1, B: 1, C: 2}, [][2]int{{0, 1}}, []float32{1.6})
	f([]float32{0.1, 0.9, 0.5}, NaiveFeedback{A: 1, B: 2, C: 1.5}, [][2]int{{1, 0}, {1, 2}, {2, 0}}, []float32{0.96, 0.24, 0.24})
	f([]float32{0.2, 0.7}, NaiveFeedback{A: 1, B: 0, C: -1}, [][2]int{{1, 0}}, []float32{-1})
}

func TestQueryMMRAndFeedbackErrors(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	ctx := context.Background()
	createColl(t, db, "c", 2, distance.Dot, 0)
	q := func(query *Query) error {
		_, err := db.Query(ctx, "c", &QueryRequest{Query: query, Limit: 3})
		return err
	}
	v := &Example{Vector: []float32{1, 0}}
	for _, d := range []float32{-0.1, 1.5, float32(math.NaN())} {
		if err := q(&Query{Nearest: v, MMR: &MMR{Diversity: d}}); err == nil {
			t.Errorf("diversity %v accepted", d)
		}
	}
	for _, n := range []int{-1, MaxMMRCandidates + 1} {
		if err := q(&Query{Nearest: v, MMR: &MMR{CandidatesLimit: &n}}); err == nil {
			t.Errorf("candidates limit %d accepted", n)
		}
	}
	if err := q(&Query{RelevanceFeedback: &RelevanceFeedback{Target: *v, Naive: NaiveFeedback{B: -1}}}); err == nil {
		t.Error("negative b accepted")
	}
}

// mmrLazy is the reference of BenchmarkMMR: the selection as Qdrant runs
// it, one similarity of a candidate and a selected point at a time, each
// computed once (its lazy matrix).
func mmrLazy(m distance.Metric, q qvec, vecs []qvec, diversity float32, limit int) []int {
	n := len(vecs)
	rel := make([]float32, n)
	for i := range vecs {
		rel[i] = vsimilarity(m, vecs[i], q)
	}
	most := make([]float32, n)
	return mmrLoop(rel, diversity, limit, func(i int, selected []int) float32 {
		sim := vsimilarity(m, vecs[selected[len(selected)-1]], vecs[i])
		if len(selected) == 1 {
			most[i] = sim
		} else {
			most[i] = max(most[i], sim)
		}
		return most[i]
	})
}

// BenchmarkMMR measures the re-ranking of the candidates of one query
// (selecting 10), as the candidate count grows; impl=pairwise is the
// reference, one similarity at a time as Qdrant computes them.
func BenchmarkMMR(b *testing.B) {
	for _, dim := range []int{128, 768} {
		for _, n := range []int{100, 1000} {
			rng := rand.New(rand.NewPCG(2, 3))
			q := qvec{d: unitVec(rng, dim)}
			vecs := make([]qvec, n)
			for i := range vecs {
				vecs[i] = qvec{d: unitVec(rng, dim)}
			}
			if !slices.Equal(mmrLazy(distance.Cosine, q, vecs, 0.5, 10), mmrSelect(distance.Cosine, q, vecs, 0.5, 10, nil)) {
				b.Fatal("the reference selects other points")
			}
			s := &mmrScratch{}
			for _, impl := range []struct {
				name string
				run  func()
			}{
				{"pairwise", func() { mmrLazy(distance.Cosine, q, vecs, 0.5, 10) }},
				{"batch", func() { mmrSelect(distance.Cosine, q, vecs, 0.5, 10, s) }},
			} {
				b.Run(fmt.Sprintf("dim=%d/candidates=%d/limit=10/impl=%s", dim, n, impl.name), func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(n * dim * 4))
					for b.Loop() {
						impl.run()
					}
				})
			}
		}
	}
}

func unitVec(rng *rand.Rand, dim int) []float32 {
	return distance.Cosine.PreprocessQuery(nil, randVec(rng, dim))
}
