package quant

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/qlite/qlite/distance"
)

// Errors. Bad options and input return an error wrapping one of these;
// ErrCorrupt marks serialised quantisers that fail their checks.
var (
	ErrBadOptions = errors.New("quant: bad options")
	ErrCorrupt    = errors.New("quant: corrupt quantiser data")
)

// Vectors is training input: Len vectors of Dim float32s, read by index.
// At may return a view into the caller's storage; it is only read.
type Vectors interface {
	Len() int
	Dim() int
	At(i int) []float32
}

// Flat is a row-major matrix of vectors: row i is Data[i*D : i*D+D].
type Flat struct {
	Data []float32
	D    int
}

// Len returns the number of rows.
func (f Flat) Len() int {
	if f.D <= 0 {
		return 0
	}
	return len(f.Data) / f.D
}

// Dim returns the row width.
func (f Flat) Dim() int { return f.D }

// At returns row i.
func (f Flat) At(i int) []float32 { return f.Data[i*f.D : i*f.D+f.D : i*f.D+f.D] }

// Kind names a quantisation method.
type Kind uint8

// The quantisation kinds, as Qdrant names them in quantization_config.
const (
	KindScalar Kind = iota + 1
	KindBinary
	KindProduct
)

func (k Kind) String() string {
	switch k {
	case KindScalar:
		return "scalar"
	case KindBinary:
		return "binary"
	case KindProduct:
		return "product"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Quantizer is what the three kinds have in common: a segment keeps the
// encoded rows of its vectors in one flat []byte (row i at
// rows[i*RowSize():(i+1)*RowSize()]), encodes each vector into its row, and
// scores a prepared query against the rows named by ids.
//
// A Quantizer is immutable once trained or opened and safe for concurrent
// use; a Query belongs to one goroutine at a time.
type Quantizer interface {
	Kind() Kind
	Dim() int
	Metric() distance.Metric
	// RowSize is the number of bytes of one encoded vector.
	RowSize() int
	// Encode writes the encoding of v (Dim floats, already normalised for
	// Cosine) into row[:RowSize()].
	Encode(row []byte, v []float32)
	// PrepareQuery encodes the query vector q into dst, reusing its
	// buffers, and returns it.
	PrepareQuery(dst *Query, q []float32) *Query
	// Distances sets dst[i] to the estimated distance between the query and
	// row ids[i] of rows, in qlite's convention (lower is closer, see
	// distance.Metric): 1 - dot for Cosine and Dot, the squared L2 distance
	// for Euclid, the L1 distance for Manhattan; binary codes give a
	// number that only ranks.
	Distances(dst []float32, q *Query, rows []byte, ids []uint32)
	// AppendBinary appends the serialised quantiser (see FORMAT.md).
	AppendBinary(dst []byte) []byte
}

// Query is a query vector prepared for one quantiser; its buffers are
// reused by the next PrepareQuery. The zero Query is ready for use.
type Query struct {
	code   []byte    // scalar: encoded query
	words  []uint64  // binary: encoded query (bit planes for scalar query encodings)
	lut    []float32 // product: one 256-entry table per sub-vector
	offset float32   // scalar: the query's correction term
	norm   uint32    // scalar Euclid with code norms: Σ code²
	planes int       // binary: bit planes per word (1 for binary query encoding)
	kind   Kind
}

// checkRows panics with a "quant: BUG" message when a Distances call is out
// of contract (rows outside the buffer, short dst): the caller's invariant,
// not user input.
func checkRows(dst []float32, rows []byte, rowSize int, ids []uint32) {
	if len(dst) < len(ids) {
		panic(fmt.Sprintf("quant: BUG: len(dst)=%d < len(ids)=%d", len(dst), len(ids)))
	}
	n := uint32(len(rows) / rowSize)
	for _, id := range ids {
		if id >= n {
			panic(fmt.Sprintf("quant: BUG: row %d outside %d rows", id, n))
		}
	}
}

func checkVectors(v Vectors, dim int) error {
	if dim <= 0 {
		return fmt.Errorf("%w: dimension %d", ErrBadOptions, dim)
	}
	if v.Dim() != dim {
		return fmt.Errorf("%w: vectors of dimension %d, want %d", distance.ErrDimMismatch, v.Dim(), dim)
	}
	return nil
}

func checkMetric(m distance.Metric) error {
	if !m.Valid() {
		return fmt.Errorf("%w: metric %v", ErrBadOptions, m)
	}
	return nil
}

// sampleIndexes returns min(k, n) distinct indexes of [0, n) in ascending
// order, drawn with r (a partial Fisher-Yates shuffle over a map, so it
// costs O(k) whatever n).
func sampleIndexes(r *rand.Rand, n, k int) []int {
	if k >= n {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	swapped := make(map[int]int, k)
	out := make([]int, k)
	for i := range k {
		j := i + r.IntN(n-i)
		vi, ok := swapped[i]
		if !ok {
			vi = i
		}
		vj, ok := swapped[j]
		if !ok {
			vj = j
		}
		out[i] = vj
		swapped[j] = vi
	}
	slices.Sort(out)
	return out
}
