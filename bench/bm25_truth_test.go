package bench

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBM25TruthMatchesDefinition checks the ground truth's fast path
// (dense term numbers, one weight array per query) against the BM25
// definition evaluated directly on random sparse vectors: IDF from
// document frequencies counted by map, score as a sum over the query's
// indices, top k by sorting every document.
func TestBM25TruthMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func(n int) sparseVec {
		m := map[uint32]float32{}
		for range n {
			m[uint32(rng.IntN(300))*7919] = rng.Float32()*3 + 0.1
		}
		var idx []uint32
		var val []float32
		for i, v := range m {
			idx, val = append(idx, i), append(val, v)
		}
		return sortedSparse(idx, val)
	}
	docs := make([]sparseVec, 500)
	for i := range docs {
		docs[i] = vec(rng.IntN(20)) // some empty
	}
	queries := make([]sparseVec, 40)
	for i := range queries {
		queries[i] = vec(1 + rng.IntN(6))
	}
	const k = 10
	got := newBM25Truth(docs).topK(queries, k)

	df := map[uint32]int{}
	n := 0
	for _, d := range docs {
		if len(d.Indices) > 0 {
			n++
		}
		for _, ix := range d.Indices {
			df[ix]++
		}
	}
	for qi, q := range queries {
		var all []scoredID
		for di, d := range docs {
			s := 0.0
			for j, ix := range q.Indices {
				if p, ok := slices.BinarySearch(d.Indices, ix); ok {
					idf := math.Log(1 + (float64(n)-float64(df[ix])+0.5)/(float64(df[ix])+0.5))
					s += float64(q.Values[j]) * idf * float64(d.Values[p])
				}
			}
			if s > 0 {
				all = append(all, scoredID{ID: uint64(di + 1), Score: s})
			}
		}
		// Stable: equal scores keep id order.
		slices.SortStableFunc(all, func(a, b scoredID) int { return cmp.Compare(b.Score, a.Score) })
		want := all[:min(k, len(all))]
		if len(got[qi]) != len(want) {
			t.Fatalf("query %d: %d results, want %d", qi, len(got[qi]), len(want))
		}
		for j := range want {
			if got[qi][j].ID != want[j].ID || !closeRel(got[qi][j].Score, want[j].Score, 1e-12) {
				t.Fatalf("query %d: got %s, want %s", qi, fmtScored(got[qi]), fmtScored(want))
			}
		}
	}
}

func TestCheckAnswer(t *testing.T) {
	truth := []scoredID{{1, 9}, {2, 5}, {3, 5}, {4, 2}}
	f := func(got []scoredID, exact []float64, wantExact, wantTie bool) {
		t.Helper()
		c := checkAnswer(truth, got, exact)
		if c.exact != wantExact || c.tieEqual != wantTie {
			t.Errorf("checkAnswer(%s): exact %v tieEqual %v, want %v %v", fmtScored(got), c.exact, c.tieEqual, wantExact, wantTie)
		}
	}
	// The ground truth itself.
	f(slices.Clone(truth), []float64{9, 5, 5, 2}, true, true)
	// Tied points swapped.
	f([]scoredID{{1, 9}, {3, 5}, {2, 5}, {4, 2}}, []float64{9, 5, 5, 2}, false, true)
	// Another point with the k-th score.
	f([]scoredID{{1, 9}, {2, 5}, {3, 5}, {7, 2}}, []float64{9, 5, 5, 2}, false, true)
	// A point that is not among the best, reported with its true score.
	f([]scoredID{{1, 9}, {2, 5}, {3, 5}, {7, 1}}, []float64{9, 5, 5, 1}, false, false)
	// A point reported with a score it does not have.
	f([]scoredID{{1, 9}, {2, 5}, {3, 5}, {7, 2}}, []float64{9, 5, 5, 1}, false, false)
	// Too few points, a repeated point, an unknown id.
	f([]scoredID{{1, 9}, {2, 5}, {3, 5}}, []float64{9, 5, 5}, false, false)
	f([]scoredID{{1, 9}, {2, 5}, {2, 5}, {4, 2}}, []float64{9, 5, 5, 2}, false, false)
	f([]scoredID{{1, 9}, {2, 5}, {3, 5}, {99, 2}}, []float64{9, 5, 5, math.NaN()}, false, false)
	// Scores within the tolerance.
	f([]scoredID{{1, 9 * (1 + 1e-6)}, {2, 5}, {3, 5}, {4, 2}}, []float64{9, 5, 5, 2}, true, true)
}
