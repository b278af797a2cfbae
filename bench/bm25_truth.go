package bench

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
)

// sparseVec is a sparse vector with indices in increasing order.
type sparseVec struct {
	Indices []uint32
	Values  []float32
}

// sortedSparse returns the vector of indices and values sorted by index.
func sortedSparse(indices []uint32, values []float32) sparseVec {
	v := sparseVec{Indices: slices.Clone(indices), Values: slices.Clone(values)}
	if !slices.IsSorted(v.Indices) {
		order := make([]int, len(indices))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(indices[a], indices[b]) })
		for i, j := range order {
			v.Indices[i], v.Values[i] = indices[j], values[j]
		}
	}
	return v
}

// equalSparse reports whether a and b have the same indices and values
// within relative tolerance tol.
func equalSparse(a, b sparseVec, tol float64) bool {
	if !slices.Equal(a.Indices, b.Indices) || len(a.Values) != len(b.Values) {
		return false
	}
	for i := range a.Values {
		if !closeRel(float64(a.Values[i]), float64(b.Values[i]), tol) {
			return false
		}
	}
	return true
}

func closeRel(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Max(math.Abs(a), math.Abs(b)), 1e-12)
}

// scoredID is a point id with its score.
type scoredID struct {
	ID    uint64
	Score float64
}

// bm25Truth scores queries against documents exactly, by brute force:
// score(q, d) = sum over the indices t both share of q[t] * idf(t) * d[t],
// with Qdrant's IDF modifier idf(t) = ln(1 + (N - n(t) + 0.5) / (n(t) +
// 0.5)), N the number of documents with a non-empty vector (those without
// a token are not in the index Qdrant counts) and n(t) the number holding
// t. Document
// i is point id i+1. It is independent of the code under test: plain loops
// over the vectors the reference target stored.
type bm25Truth struct {
	docs [][]int32   // per document, dense term numbers of its indices
	vals [][]float32 // per document, its values
	idf  []float64   // per term number
	term map[uint32]int32
}

func newBM25Truth(docs []sparseVec) *bm25Truth {
	t := &bm25Truth{docs: make([][]int32, len(docs)), vals: make([][]float32, len(docs)), term: map[uint32]int32{}}
	var df []int
	nonEmpty := 0
	for i, d := range docs {
		if len(d.Indices) > 0 {
			nonEmpty++
		}
		terms := make([]int32, len(d.Indices))
		for j, ix := range d.Indices {
			n, ok := t.term[ix]
			if !ok {
				n = int32(len(df))
				t.term[ix] = n
				df = append(df, 0)
			}
			terms[j] = n
			df[n]++
		}
		t.docs[i], t.vals[i] = terms, d.Values
	}
	N := float64(nonEmpty)
	t.idf = make([]float64, len(df))
	for n, c := range df {
		t.idf[n] = math.Log(1 + (N-float64(c)+0.5)/(float64(c)+0.5))
	}
	return t
}

// queryWeights fills w (one slot per term, zero on entry) with q's weight
// times idf for each of q's indices that some document holds, and returns
// the terms it set.
func (t *bm25Truth) queryWeights(q sparseVec, w []float64, set []int32) []int32 {
	for j, ix := range q.Indices {
		if n, ok := t.term[ix]; ok {
			w[n] += float64(q.Values[j]) * t.idf[n]
			set = append(set, n)
		}
	}
	return set
}

func (t *bm25Truth) docScore(i int, w []float64) float64 {
	s := 0.0
	for j, n := range t.docs[i] {
		s += w[n] * float64(t.vals[i][j])
	}
	return s
}

// topK returns, for each query, the k documents of highest positive score,
// ties broken by lower id, computed on all cores.
func (t *bm25Truth) topK(queries []sparseVec, k int) [][]scoredID {
	out := make([][]scoredID, len(queries))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			w := make([]float64, len(t.idf))
			var set []int32
			var all []scoredID
			for qi := range next {
				set = t.queryWeights(queries[qi], w, set[:0])
				all = all[:0]
				for i := range t.docs {
					if s := t.docScore(i, w); s > 0 {
						all = append(all, scoredID{ID: uint64(i + 1), Score: s})
					}
				}
				slices.SortFunc(all, func(a, b scoredID) int {
					if c := cmp.Compare(b.Score, a.Score); c != 0 {
						return c
					}
					return cmp.Compare(a.ID, b.ID)
				})
				out[qi] = slices.Clone(all[:min(k, len(all))])
				for _, n := range set {
					w[n] = 0
				}
			}
		})
	}
	for qi := range queries {
		next <- qi
	}
	close(next)
	wg.Wait()
	return out
}

// scores returns the exact score of each of ids (point ids) for query q;
// an id that is no document scores NaN.
func (t *bm25Truth) scores(q sparseVec, ids []uint64) []float64 {
	w := make([]float64, len(t.idf))
	t.queryWeights(q, w, nil)
	out := make([]float64, len(ids))
	for j, id := range ids {
		if id == 0 || id > uint64(len(t.docs)) {
			out[j] = math.NaN()
			continue
		}
		out[j] = t.docScore(int(id-1), w)
	}
	return out
}

// scoreTol is the relative tolerance between a score a target reports and
// the exact one (float32 sums on the server, float64 here), and between
// scores taken as tied.
const scoreTol = 1e-5

// bm25Check compares a target's answer to one query with the exact top k.
type bm25Check struct {
	// exact: the same ids in the same order as the ground truth (ties by
	// lower id).
	exact bool
	// tieEqual: the answer is a correct top k: as many points, each
	// reported with its exact score, the scores those of the ground truth
	// position by position; only the order among equal scores, or which
	// of the points tied at the k-th score are returned, may differ.
	tieEqual bool
	// maxRelErr is the largest relative error of a reported score.
	maxRelErr float64
	// found counts the answer's ids that are among the ground truth's.
	found int
}

func checkAnswer(truth []scoredID, got []scoredID, exact []float64) bm25Check {
	var c bm25Check
	c.exact = len(got) == len(truth)
	c.tieEqual = c.exact
	want := make(map[uint64]bool, len(truth))
	for _, s := range truth {
		want[s.ID] = true
	}
	for j, g := range got {
		if want[g.ID] {
			c.found++
		}
		if j >= len(truth) || g.ID != truth[j].ID {
			c.exact = false
		}
		if math.IsNaN(exact[j]) {
			c.tieEqual = false
			c.maxRelErr = math.Inf(1)
			continue
		}
		if d := math.Abs(g.Score-exact[j]) / math.Max(math.Abs(exact[j]), 1e-12); d > c.maxRelErr {
			c.maxRelErr = d
		}
		if !closeRel(g.Score, exact[j], scoreTol) || j >= len(truth) || !closeRel(exact[j], truth[j].Score, scoreTol) {
			c.tieEqual = false
		}
		if slices.ContainsFunc(got[:j], func(p scoredID) bool { return p.ID == g.ID }) {
			c.tieEqual = false
		}
	}
	return c
}
