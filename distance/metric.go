package distance

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// Metric is a vector similarity measure with Qdrant's score conventions.
type Metric uint8

// The metrics qlite supports. The zero value is not a valid metric.
const (
	Cosine Metric = iota + 1
	Dot
	Euclid
	Manhattan
)

// Errors returned by validation at the API edge.
var (
	ErrDimMismatch = errors.New("qlite: vector dimension mismatch")
	ErrNotFinite   = errors.New("qlite: vector contains NaN or Inf")
	ErrEmpty       = errors.New("qlite: vector is empty")
)

var metricNames = [...]string{Cosine: "Cosine", Dot: "Dot", Euclid: "Euclid", Manhattan: "Manhattan"}

// String returns Qdrant's name for the metric ("Cosine", "Dot", "Euclid",
// "Manhattan").
func (m Metric) String() string {
	if m.Valid() {
		return metricNames[m]
	}
	return fmt.Sprintf("Metric(%d)", uint8(m))
}

// Valid reports whether m is one of the defined metrics.
func (m Metric) Valid() bool { return m >= Cosine && m <= Manhattan }

// ParseMetric parses a metric name. It accepts Qdrant's names in any case, and
// the common aliases "angular", "l2", "euclidean", "ip", "l1".
func ParseMetric(s string) (Metric, error) {
	switch strings.ToLower(s) {
	case "cosine", "angular":
		return Cosine, nil
	case "dot", "ip", "inner_product":
		return Dot, nil
	case "euclid", "euclidean", "l2":
		return Euclid, nil
	case "manhattan", "l1":
		return Manhattan, nil
	}
	return 0, fmt.Errorf("qlite: unknown distance %q (want Cosine, Dot, Euclid or Manhattan)", s)
}

// HigherIsBetter reports whether larger scores rank first (Cosine, Dot), as
// opposed to distances where smaller scores rank first (Euclid, Manhattan).
func (m Metric) HigherIsBetter() bool { return m == Cosine || m == Dot }

// NeedsNormalize reports whether stored and query vectors are normalised
// before use (Cosine only).
func (m Metric) NeedsNormalize() bool { return m == Cosine }

// Preprocess returns v prepared for storage under m, written into dst
// (grown as needed; dst may alias v). For Cosine the vector is normalised to
// unit length, except that zero vectors and vectors already of unit length
// (within 1e-6 of 1 in squared norm) are left as they are, as in Qdrant; the
// squared norm is summed in Qdrant's order (see QdrantScore), so that stored
// vectors are Qdrant's bit for bit. For the other metrics the vector is copied
// unchanged.
func (m Metric) Preprocess(dst, v []float32) []float32 {
	return m.preprocess(dst, v, qdrantNorm2)
}

// PreprocessQuery is Preprocess for a query vector: the squared norm comes
// from the SIMD kernel, some fifty times faster than Qdrant's order at 784
// dimensions, which a query, scored by the kernels anyway, does not need.
func (m Metric) PreprocessQuery(dst, v []float32) []float32 {
	return m.preprocess(dst, v, func(v []float32) float32 { return DotProduct(v, v) })
}

func (m Metric) preprocess(dst, v []float32, norm2 func([]float32) float32) []float32 {
	dst = grow(dst, len(v))
	copy(dst, v)
	if m != Cosine {
		return dst
	}
	n2 := norm2(dst)
	if n2 < epsilon32 || math.Abs(float64(n2)-1) <= 1e-6 {
		return dst
	}
	// Divide by the float32 norm, as Qdrant does, rather than multiply by an
	// inverse, so that stored vectors match Qdrant's bit for bit.
	norm := float32(math.Sqrt(float64(n2)))
	for i := range dst {
		dst[i] /= norm
	}
	return dst
}

// epsilon32 is the machine epsilon of float32 (Rust's f32::EPSILON).
const epsilon32 = 1.1920929e-07

func grow(dst []float32, n int) []float32 {
	if cap(dst) >= n {
		return dst[:n]
	}
	return make([]float32, n)
}

// Distance returns the internal distance between a and b under m, where lower
// is closer: squared L2 for Euclid, L1 for Manhattan, 1 - dot for Cosine and
// Dot. Vectors must be preprocessed (see Preprocess) and of equal length.
func (m Metric) Distance(a, b []float32) float32 {
	switch m {
	case Euclid:
		return SquaredL2(a, b)
	case Manhattan:
		return L1(a, b)
	default:
		return 1 - DotProduct(a, b)
	}
}

// Func returns the kernel computing m's internal distance, for callers that
// want to hoist the metric switch out of a loop.
func (m Metric) Func() func(a, b []float32) float32 {
	switch m {
	case Euclid:
		return SquaredL2
	case Manhattan:
		return L1
	default:
		return oneMinusDot
	}
}

func oneMinusDot(a, b []float32) float32 { return 1 - DotProduct(a, b) }

// Gather sets dst[i] to the internal distance between q and row ids[i] of the
// row-major matrix base, for i < len(ids); see DotGather for the contract.
// Each dst[i] equals m.Distance(q, row) exactly.
func (m Metric) Gather(dst, q, base []float32, dim int, ids []uint32) {
	switch m {
	case Euclid:
		SquaredL2Gather(dst, q, base, dim, ids)
	case Manhattan:
		L1Gather(dst, q, base, dim, ids)
	default:
		DotGather(dst, q, base, dim, ids)
		oneMinus(dst[:len(ids)])
	}
}

// GatherChunks sets dst[i] to the internal distance between q and row
// ids[i] of chunked storage, for i < len(ids); see DotChunks for the layout
// and contract. Each dst[i] equals m.Distance(q, row) exactly.
func (m Metric) GatherChunks(dst, q []float32, chunks [][]float32, shift uint, ids []uint32) {
	switch m {
	case Euclid:
		SquaredL2Chunks(dst, q, chunks, shift, ids)
	case Manhattan:
		L1Chunks(dst, q, chunks, shift, ids)
	default:
		DotChunks(dst, q, chunks, shift, ids)
		oneMinus(dst[:len(ids)])
	}
}

// GatherChunksBelow is GatherChunks for a caller that keeps only the
// distances below bound: dst[i] is exactly the distance GatherChunks gives
// when that is below bound, and otherwise some value at least bound.
// Euclid and Manhattan distances are sums of non-negative terms, so a
// row's partial sum bounds its distance from below and the kernel can
// stop reading a row once its partial sum reaches bound
// (SquaredL2ChunksBelow); Dot and Cosine have no such bound and score
// every row in full.
func (m Metric) GatherChunksBelow(dst, q []float32, chunks [][]float32, shift uint, ids []uint32, bound float32) {
	switch m {
	case Euclid:
		SquaredL2ChunksBelow(dst, q, chunks, shift, ids, bound)
	case Manhattan:
		L1ChunksBelow(dst, q, chunks, shift, ids, bound)
	default:
		m.GatherChunks(dst, q, chunks, shift, ids)
	}
}

// Bounded reports whether GatherChunksBelow can leave rows unread for m.
func (m Metric) Bounded() bool { return m == Euclid || m == Manhattan }

// Batch sets dst[r] to the internal distance between q and row r of the
// row-major matrix base, for every row; see DotBatch for the contract. Each
// dst[r] equals m.Distance(q, row) exactly.
func (m Metric) Batch(dst, q, base []float32, dim int) {
	switch m {
	case Euclid:
		SquaredL2Batch(dst, q, base, dim)
	case Manhattan:
		L1Batch(dst, q, base, dim)
	default:
		DotBatch(dst, q, base, dim)
		oneMinus(dst[:len(base)/dim])
	}
}

func oneMinus(v []float32) {
	for i, x := range v {
		v[i] = 1 - x
	}
}

// Score converts an internal distance into the score Qdrant reports: the
// similarity (dot product) for Cosine and Dot, the L2 distance for Euclid and
// the L1 distance for Manhattan.
func (m Metric) Score(dist float32) float32 {
	switch m {
	case Euclid:
		return float32(math.Sqrt(math.Abs(float64(dist))))
	case Manhattan:
		return float32(math.Abs(float64(dist)))
	default:
		return 1 - dist
	}
}

// BetterScore reports whether score a ranks strictly before score b.
func (m Metric) BetterScore(a, b float32) bool {
	if m.HigherIsBetter() {
		return a > b
	}
	return a < b
}

// PassesThreshold reports whether score passes a Qdrant score_threshold: strictly
// greater for Cosine and Dot, strictly smaller for Euclid and Manhattan.
func (m Metric) PassesThreshold(score, threshold float32) bool {
	return m.BetterScore(score, threshold)
}

// Validate checks a user-supplied vector: non-empty, of length dim (when dim >
// 0), and finite in every element. The error says which element is at fault.
func Validate(v []float32, dim int) error {
	if len(v) == 0 {
		return ErrEmpty
	}
	if dim > 0 && len(v) != dim {
		return fmt.Errorf("%w: expected dim: %d, got %d", ErrDimMismatch, dim, len(v))
	}
	if allFinite(v) {
		return nil
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: element %d is %v", ErrNotFinite, i, x)
		}
	}
	return nil
}

// allFinite reports whether no element of v is NaN or infinite, without a
// branch per element: an element is not finite exactly when its exponent
// bits are all ones, and adding one to such an exponent carries into the
// sign bit.
//
// Pairs of elements are tested as one 64-bit word: a carry out of the low
// element's exponent stops at its sign bit (bit 31), which is masked off
// beforehand, so the two elements do not disturb each other.
func allFinite(v []float32) bool {
	const exp, one = 0x7f800000, 0x00800000
	var acc uint32
	if len(v) > 0 && uintptr(unsafe.Pointer(&v[0]))%8 != 0 {
		// The words are read from an 8-byte boundary on.
		acc = math.Float32bits(v[0])&exp + one
		v = v[1:]
	}
	if len(v)%2 == 1 {
		acc |= math.Float32bits(v[len(v)-1])&exp + one
		v = v[:len(v)-1]
	}
	if len(v) == 0 {
		return acc&0x80000000 == 0
	}
	const exp2, one2 = exp<<32 | exp, one<<32 | one
	var acc0, acc1, acc2, acc3 uint64
	w := unsafe.Slice((*uint64)(unsafe.Pointer(&v[0])), len(v)/2)
	i := 0
	for ; i+4 <= len(w); i += 4 {
		acc0 |= w[i]&exp2 + one2
		acc1 |= w[i+1]&exp2 + one2
		acc2 |= w[i+2]&exp2 + one2
		acc3 |= w[i+3]&exp2 + one2
	}
	for ; i < len(w); i++ {
		acc0 |= w[i]&exp2 + one2
	}
	all := acc0 | acc1 | acc2 | acc3
	return (acc|uint32(all)|uint32(all>>32))&0x80000000 == 0
}
