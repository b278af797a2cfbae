package engine

import (
	"fmt"
	"math"
	"slices"
)

// SparseVector is a sparse vector: Values[i] is the value at dimension Indices[i].
type SparseVector struct {
	Indices []uint32
	Values  []float32
}

// Validate checks v as Qdrant does: as many values as indices, no index
// twice, finite values. Errors wrap ErrBadRequest.
func (v SparseVector) Validate() error {
	if len(v.Indices) != len(v.Values) {
		return fmt.Errorf("%w: values: must be the same length as indices", ErrBadRequest)
	}
	for _, x := range v.Values {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: values: must be finite", ErrBadRequest)
		}
	}
	if !sparseUnique(v.Indices) {
		return fmt.Errorf("%w: indices: must be unique", ErrBadRequest)
	}
	return nil
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
