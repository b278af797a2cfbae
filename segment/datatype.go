package segment

import (
	"fmt"
	"math"
	"sync"
	"unsafe"

	"github.com/qlite/qlite/distance"
)

// Datatype is the element type in which a dense vector space keeps its rows
// (Qdrant's datatype). The zero value is Float32.
type Datatype uint8

// The datatypes.
const (
	// Float32 rows hold the vectors as given (after the metric's
	// preprocessing).
	Float32 Datatype = iota
	// Float16 rows hold each element rounded to the nearest float16, ties
	// to even: half the bytes of Float32. Queries are rounded the same way
	// and scored in float32 arithmetic.
	Float16
	// Uint8 rows hold each element as Qdrant 1.17 stores it: rounded
	// toward zero, saturating at 0 and 255 (distance.U8FromF32): a quarter
	// of the bytes of Float32. Cosine vectors are not normalised; queries
	// are converted the same way and scored against the bytes.
	Uint8
)

// ParseDatatype parses Qdrant's datatype names; "" is Float32.
func ParseDatatype(s string) (Datatype, error) {
	switch s {
	case "", "float32":
		return Float32, nil
	case "float16":
		return Float16, nil
	case "uint8":
		return Uint8, nil
	}
	return 0, fmt.Errorf("%w: unknown datatype %q", ErrBadOptions, s)
}

// String returns Qdrant's name of d.
func (d Datatype) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float16:
		return "float16"
	case Uint8:
		return "uint8"
	}
	return fmt.Sprintf("Datatype(%d)", uint8(d))
}

// Size returns the bytes of one element.
func (d Datatype) Size() int {
	switch d {
	case Float16:
		return 2
	case Uint8:
		return 1
	}
	return 4
}

// Valid reports whether d is one of the datatypes.
func (d Datatype) Valid() bool { return d <= Uint8 }

// Convert rounds the elements of v, in place, to the values d holds, so
// that storing them is exact: float16 rounding for Float16, Qdrant's uint8
// cast for Uint8, nothing for Float32. It returns v.
func (d Datatype) Convert(v []float32) []float32 {
	switch d {
	case Float16:
		var buf [256]uint16
		for lo := 0; lo < len(v); lo += len(buf) {
			part := v[lo:min(lo+len(buf), len(v))]
			distance.F16FromF32(buf[:], part)
			distance.F32FromF16(part, buf[:len(part)])
		}
	case Uint8:
		var buf [256]byte
		for lo := 0; lo < len(v); lo += len(buf) {
			part := v[lo:min(lo+len(buf), len(v))]
			distance.U8FromF32(buf[:], part)
			for i, b := range buf[:len(part)] {
				part[i] = float32(b)
			}
		}
	}
	return v
}

// Narrow rows. A space of datatype Float16 or Uint8 keeps its rows in the
// same chunk directory as a float32 space, each chunk a []float32 whose
// bytes hold the narrow rows back to back (row i at i*Dim*Size bytes), so
// that allocation, alignment, mapping and memory accounting are shared.

// rowFloats returns the float32 words that hold n rows of dim elements of
// datatype d.
func rowFloats(n, dim int, d Datatype) int {
	return (n*dim*d.Size() + 3) / 4
}

// rawRow returns the bytes of the row of off, which must be allocated.
func (sp *space) rawRow(off uint32) []byte {
	r := (*sp.rows.Load())[off>>sp.rowBits]
	rb := sp.dim * sp.dtype.Size()
	o := int(off&(1<<sp.rowBits-1)) * rb
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(r))), 4*len(r))
	return b[o : o+rb : o+rb]
}

// f16Row returns the float16 row of off.
func (sp *space) f16Row(off uint32) []uint16 {
	b := sp.rawRow(off)
	return unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/2)
}

// putNarrow stores v (already converted, see Datatype.Convert) in the
// narrow row of off.
func (sp *space) putNarrow(off uint32, v []float32) {
	switch sp.dtype {
	case Float16:
		distance.F16FromF32(sp.f16Row(off), v)
	case Uint8:
		distance.U8FromF32(sp.rawRow(off), v)
	}
}

// narrowVector returns the narrow row of off widened to float32, in a new
// slice.
func (sp *space) narrowVector(off uint32) []float32 {
	out := make([]float32, sp.dim)
	switch sp.dtype {
	case Float16:
		distance.F32FromF16(out, sp.f16Row(off))
	case Uint8:
		for i, b := range sp.rawRow(off) {
			out[i] = float32(b)
		}
	}
	return out
}

// narrowQuery converts a query of a narrow space into dst, as Qdrant 1.17
// converts a query to the vector's datatype before scoring: float16 spaces
// score the query preprocessed (Cosine normalised), then rounded to
// float16, against the rows in float32 arithmetic (Qdrant's SIMD path;
// below 16 dimensions Qdrant multiplies in float16, which rounds each
// product); uint8 spaces score it converted to uint8, unnormalised.
func (sp *space) narrowQuery(dst, q []float32) []float32 {
	if sp.dtype == Uint8 {
		dst = append(dst[:0], q...)
		return Uint8.Convert(dst)
	}
	return Float16.Convert(sp.metric.PreprocessQuery(dst, q))
}

// u8Query holds a uint8 query's bytes for one Distances call.
var u8Query = sync.Pool{New: func() any { return new([]byte) }}

// narrowDistances is vectors.Distances for a narrow space: q is a query as
// narrowQuery returns it (or a stored row widened, for the graph).
func (sp *space) narrowDistances(q []float32, ids []uint32, dst []float32) {
	if sp.dtype == Float16 {
		k := f16Kernel(sp.metric)
		for i, id := range ids {
			dst[i] = k(q, sp.f16Row(id))
		}
		return
	}
	bp := u8Query.Get().(*[]byte)
	defer u8Query.Put(bp)
	if cap(*bp) < len(q) {
		*bp = make([]byte, len(q))
	}
	qb := (*bp)[:len(q)]
	distance.U8FromF32(qb, q)
	switch sp.metric {
	case distance.Euclid:
		for i, id := range ids {
			dst[i] = float32(distance.SquaredL2U8(qb, sp.rawRow(id)))
		}
	case distance.Manhattan:
		for i, id := range ids {
			dst[i] = float32(distance.L1U8(qb, sp.rawRow(id)))
		}
	case distance.Dot:
		for i, id := range ids {
			dst[i] = 1 - float32(distance.DotU8(qb, sp.rawRow(id)))
		}
	default:
		// Cosine over the bytes: dot / (|q| |row|), 0 when either is zero.
		qn := float64(distance.DotU8(qb, qb))
		for i, id := range ids {
			row := sp.rawRow(id)
			dst[i] = 1 - u8Cosine(distance.DotU8(qb, row), qn, float64(distance.DotU8(row, row)))
		}
	}
}

// u8Cosine returns the cosine similarity of two byte vectors from their dot
// product and squared norms.
func u8Cosine(dot uint32, n1, n2 float64) float32 {
	if n1 == 0 || n2 == 0 {
		return 0
	}
	return float32(float64(dot) / math.Sqrt(n1*n2))
}

// f16Kernel returns the internal distance (as distance.Metric.Distance) of
// a float32 query and a float16 row.
func f16Kernel(m distance.Metric) func([]float32, []uint16) float32 {
	switch m {
	case distance.Euclid:
		return distance.SquaredL2F16
	case distance.Manhattan:
		return distance.L1F16
	}
	return func(q []float32, r []uint16) float32 { return 1 - distance.DotF16(q, r) }
}
