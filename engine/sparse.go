package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/qlite/qlite/segment"
)

// SparseVector is a sparse vector: Values[i] is the value at dimension Indices[i].
type SparseVector struct {
	Indices []uint32
	Values  []float32
}

// Validate checks v as Qdrant does: as many values as indices, no index
// twice, finite values. Errors wrap ErrBadRequest.
func (v SparseVector) Validate() error {
	if msg := v.problem(); msg != "" {
		return fmt.Errorf("%w: %s", ErrBadRequest, msg)
	}
	return nil
}

// problem returns what is wrong with v, as Qdrant words it ("" when
// nothing is).
func (v SparseVector) problem() string {
	if len(v.Indices) != len(v.Values) {
		return "values: must be the same length as indices"
	}
	for _, x := range v.Values {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return "values: must be finite"
		}
	}
	if !sparseUnique(v.Indices) {
		return "indices: must be unique"
	}
	return ""
}

// sparseUnique reports whether no index occurs twice.
func sparseUnique(ix []uint32) bool {
	if len(ix) < 16 {
		for i := range ix {
			for j := i + 1; j < len(ix); j++ {
				if ix[i] == ix[j] {
					return false
				}
			}
		}
		return true
	}
	s := slices.Clone(ix)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return false
		}
	}
	return true
}

// sparseSorted returns a copy of v with its indices in increasing order (the
// order Qdrant stores and returns them in).
func sparseSorted(v SparseVector) SparseVector {
	out := SparseVector{Indices: slices.Clone(v.Indices), Values: slices.Clone(v.Values)}
	if slices.IsSorted(out.Indices) {
		return out
	}
	perm := make([]int, len(out.Indices))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(a, b int) int { return int(int64(v.Indices[a]) - int64(v.Indices[b])) })
	for i, p := range perm {
		out.Indices[i] = v.Indices[p]
		out.Values[i] = v.Values[p]
	}
	return out
}

// sparseQueryLocked returns q (validated) as the segments search it: sorted
// by index, its values weighted by each dimension's inverse document
// frequency when the vector's modifier is "idf". The frequencies are the
// collection's live ones: N is the number of live points with a non-empty
// vector name, df(d) the number of those with dimension d, and the weight
// is Qdrant's ln(1 + (N - df + 0.5) / (df + 0.5)). The caller holds c.rw.
func (c *collection) sparseQueryLocked(name string, q SparseVector) segment.SparseVector {
	out := segment.SparseVector(sparseSorted(q))
	if c.config().Params.SparseVectors[name].Modifier != "idf" || len(out.Indices) == 0 {
		return out
	}
	df := make([]int, len(out.Indices))
	n := 0
	for _, ref := range c.segs {
		m, err := ref.seg.SparseStats(name, out.Indices, df)
		if err != nil {
			panic(fmt.Sprintf("engine: BUG: segment %d lacks sparse vector %q: %v", ref.id, name, err))
		}
		n += m
	}
	for i := range out.Values {
		out.Values[i] *= sparseIDF(df[i], n)
	}
	return out
}

// sparseIDF is Qdrant's inverse document frequency of a dimension that df
// of n documents have, computed in float32 as Qdrant does.
func sparseIDF(df, n int) float32 {
	x := (float32(n)-float32(df)+0.5)/(float32(df)+0.5) + 1
	return float32(math.Log(float64(x)))
}
