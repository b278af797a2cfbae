package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/qlite/qlite/distance"
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
	segment.SortSparse(segment.SparseVector(out))
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
	c.weighLocked(name, out)
	return out
}

// weighExamplesLocked weighs sparse examples (which alias no storage) in
// place as sparseQueryLocked weighs a query. The caller holds c.rw.
func (c *collection) weighExamplesLocked(name string, vs []qvec) {
	for _, v := range vs {
		c.weighLocked(name, v.s)
	}
}

// weighLocked multiplies v's values by their dimensions' IDF when the
// sparse vector name has the "idf" modifier. The caller holds c.rw.
func (c *collection) weighLocked(name string, v segment.SparseVector) {
	if c.config().Params.SparseVectors[name].Modifier != "idf" || len(v.Indices) == 0 {
		return
	}
	df := make([]int, len(v.Indices))
	n := 0
	for _, ref := range c.segs {
		m, err := ref.seg.SparseStats(name, v.Indices, df)
		if err != nil {
			panic(fmt.Sprintf("engine: BUG: segment %d lacks sparse vector %q: %v", ref.id, name, err))
		}
		n += m
	}
	for i := range v.Values {
		v.Values[i] *= sparseIDF(df[i], n)
	}
}

// sparseIDF is Qdrant's inverse document frequency of a dimension that df
// of n documents have, computed in float32 as Qdrant does.
func sparseIDF(df, n int) float32 {
	x := (float32(n)-float32(df)+0.5)/(float32(df)+0.5) + 1
	return float32(math.Log(float64(x)))
}

// qvec is a resolved query or example vector of one space: dense
// (preprocessed for the metric) or, in a sparse space, sparse (sorted by
// index, d nil).
type qvec struct {
	d []float32
	s segment.SparseVector
	// dim is the size of each vector of the multivector d (0 when d is a
	// plain vector).
	dim int
}

// clone returns a copy of v that aliases no segment storage.
func (v qvec) clone() qvec {
	return qvec{d: slices.Clone(v.d), s: segment.SparseVector{Indices: slices.Clone(v.s.Indices), Values: slices.Clone(v.s.Values)}, dim: v.dim}
}

// sparseQuery returns v as a search request's sparse query (nil for a
// dense v).
func (v qvec) sparseQuery() *SparseVector {
	if v.d != nil {
		return nil
	}
	return &SparseVector{Indices: v.s.Indices, Values: v.s.Values}
}

// slotVec returns slot off's vector using (sparse or dense) as a qvec that
// aliases segment storage.
func slotVec(seg *segment.Segment, using string, sparse bool, off uint32) (qvec, bool) {
	if sparse {
		v, ok := seg.SparseVector(using, off)
		return qvec{s: v}, ok
	}
	v, ok := seg.Vector(using, off)
	return qvec{d: v}, ok
}

// spaceParams returns the params of the vector space name, and whether it
// is a sparse vector; a sparse vector scores as Dot.
func (c *collection) spaceParams(name string) (VectorParams, bool, error) {
	if _, ok := c.config().Params.SparseVectors[name]; ok {
		return VectorParams{Distance: distance.Dot}, true, nil
	}
	vp, err := c.vectorParams(name)
	return vp, false, err
}

// sparseCombine returns wa*a + wb*b over the union of their indices (sorted).
func sparseCombine(a, b segment.SparseVector, wa, wb float32) segment.SparseVector {
	var out segment.SparseVector
	i, j := 0, 0
	for i < len(a.Indices) || j < len(b.Indices) {
		switch {
		case j == len(b.Indices) || i < len(a.Indices) && a.Indices[i] < b.Indices[j]:
			out.Indices = append(out.Indices, a.Indices[i])
			out.Values = append(out.Values, wa*a.Values[i])
			i++
		case i == len(a.Indices) || b.Indices[j] < a.Indices[i]:
			out.Indices = append(out.Indices, b.Indices[j])
			out.Values = append(out.Values, wb*b.Values[j])
			j++
		default:
			out.Indices = append(out.Indices, a.Indices[i])
			out.Values = append(out.Values, wa*a.Values[i]+wb*b.Values[j])
			i++
			j++
		}
	}
	return out
}

// sparseAverage returns the mean of sparse vectors (sorted by index): the
// sum over the union of their indices, divided by their number.
func sparseAverage(vs []qvec) qvec {
	sum := segment.SparseVector{}
	for _, v := range vs {
		sum = sparseCombine(sum, v.s, 1, 1)
	}
	for i := range sum.Values {
		sum.Values[i] /= float32(len(vs))
	}
	return qvec{s: sum}
}

// sparseFromSegment returns the segment's sparse vectors as the API's (the
// slices are shared).
func sparseFromSegment(m map[string]segment.SparseVector) map[string]SparseVector {
	if m == nil {
		return nil
	}
	out := make(map[string]SparseVector, len(m))
	for k, v := range m {
		out[k] = SparseVector(v)
	}
	return out
}
