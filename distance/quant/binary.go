package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/qlite/qlite/distance"
)

// Encoding is how many bits a binary code spends per dimension.
type Encoding uint8

// The binary encodings, as Qdrant names them.
const (
	OneBit         Encoding = iota // "one_bit": x > 0
	TwoBits                        // "two_bits": below, near, above the mean
	OneAndHalfBits                 // "one_and_half_bits": two_bits with the second bits of neighbours ORed
)

// QueryEncoding is how a query is encoded against binary codes.
type QueryEncoding uint8

// The query encodings, as Qdrant names them ("default" and "binary" both
// encode the query as a vector is encoded).
const (
	QueryDefault     QueryEncoding = iota // "default", "binary"
	QueryScalar4Bits                      // "scalar4bits"
	QueryScalar8Bits                      // "scalar8bits"
)

// ParseEncoding parses Qdrant's encoding names.
func ParseEncoding(s string) (Encoding, error) {
	switch s {
	case "one_bit":
		return OneBit, nil
	case "two_bits":
		return TwoBits, nil
	case "one_and_half_bits":
		return OneAndHalfBits, nil
	}
	return 0, fmt.Errorf("%w: unknown binary encoding %q", ErrBadOptions, s)
}

// ParseQueryEncoding parses Qdrant's query encoding names.
func ParseQueryEncoding(s string) (QueryEncoding, error) {
	switch s {
	case "default", "binary":
		return QueryDefault, nil
	case "scalar4bits":
		return QueryScalar4Bits, nil
	case "scalar8bits":
		return QueryScalar8Bits, nil
	}
	return 0, fmt.Errorf("%w: unknown binary query encoding %q", ErrBadOptions, s)
}

// BinaryOptions configures binary quantisation.
type BinaryOptions struct {
	Encoding      Encoding
	QueryEncoding QueryEncoding
}

// Binary encodes each dimension in one, two or one and a half bits, as
// Qdrant's binary quantisation does. A row is the code's bits in
// little-endian uint64 words: bit i of the code is bit i%64 of word i/64.
//
//   - one_bit: bit i is x[i] > 0.
//   - two_bits: with z = (x[i]-mean[i])/stddev[i] over the training vectors,
//     bit i is z > -2/3 and bit Dim+i is z >= 2/3 (a dimension whose stddev
//     is below float32 epsilon falls back to bit i = x[i] > 0).
//   - one_and_half_bits: as two_bits, but the second bits of dimensions 2k
//     and 2k+1 share bit Dim+k (ORed), ⌈1.5·Dim⌉ bits in all.
//
// A query is encoded as a row ("default"), or in 4 or 8 bits per value
// (scalar4bits, scalar8bits): the query is extended as the code is (twice
// for two_bits; for one_and_half_bits followed by the maximum of each pair),
// quantised over [-max|x|, max|x|] to 0..2^b-1 and held as bit planes
// (distance.XorPopcountPlanes). The estimate is Qdrant's: with xor the
// number of differing bits (for scalar queries Σ (value XOR bit) / (2^b-1)),
// the score is Dim - 2·xor for every metric, higher is closer; Distances
// returns its negation. It ranks; it is not in the metric's units.
type Binary struct {
	dim    int
	metric distance.Metric
	enc    Encoding
	qenc   QueryEncoding
	mean   []float32 // per dimension, two_bits and one_and_half_bits, or scalar queries
	stddev []float32
}

// TrainBinary computes the per-dimension statistics the encodings need
// (mean and sample standard deviation over every vector of v, as Qdrant
// does) and returns the quantiser.
func TrainBinary(v Vectors, metric distance.Metric, dim int, o BinaryOptions) (*Binary, error) {
	if err := checkVectors(v, dim); err != nil {
		return nil, err
	}
	if err := checkMetric(metric); err != nil {
		return nil, err
	}
	if o.Encoding > OneAndHalfBits || o.QueryEncoding > QueryScalar8Bits {
		return nil, fmt.Errorf("%w: binary encoding %d, query encoding %d", ErrBadOptions, o.Encoding, o.QueryEncoding)
	}
	b := &Binary{dim: dim, metric: metric, enc: o.Encoding, qenc: o.QueryEncoding}
	if o.Encoding != OneBit || o.QueryEncoding != QueryDefault {
		b.mean, b.stddev = vectorStats(v, dim)
	}
	return b, nil
}

// vectorStats returns the mean and sample standard deviation of each
// dimension (Welford's algorithm in float64).
func vectorStats(v Vectors, dim int) (mean, stddev []float32) {
	m, m2 := make([]float64, dim), make([]float64, dim)
	n := v.Len()
	for i := range n {
		c := float64(i + 1)
		for j, x := range v.At(i) {
			d := float64(x) - m[j]
			m[j] += d / c
			m2[j] += d * (float64(x) - m[j])
		}
	}
	mean, stddev = make([]float32, dim), make([]float32, dim)
	for j := range dim {
		mean[j] = float32(m[j])
		if n > 1 {
			stddev[j] = float32(math.Sqrt(m2[j] / float64(n-1)))
		}
	}
	return mean, stddev
}

func (b *Binary) Kind() Kind              { return KindBinary }
func (b *Binary) Dim() int                { return b.dim }
func (b *Binary) Metric() distance.Metric { return b.metric }

// bits returns the number of code bits per vector.
func (b *Binary) bits() int {
	switch b.enc {
	case TwoBits:
		return 2 * b.dim
	case OneAndHalfBits:
		return (3*b.dim + 1) / 2
	}
	return b.dim
}

func (b *Binary) words() int { return max(1, (b.bits()+63)/64) }

// RowSize is 8 bytes per 64 code bits.
func (b *Binary) RowSize() int { return 8 * b.words() }

// twoBits classifies x in dimension i as Qdrant's two-bit encoding does.
func (b *Binary) twoBits(i int, x float32) (bool, bool) {
	sd := b.stddev[i]
	if sd < 1.1920929e-07 { // float32 epsilon
		return x > 0, false
	}
	const sigmas = 2.0 / 3.0
	z := (x - b.mean[i]) / sd
	switch {
	case z <= -sigmas:
		return false, false
	case z < sigmas:
		return true, false
	}
	return true, true
}

// encodeWords writes v's code into w (zeroed here).
func (b *Binary) encodeWords(w []uint64, v []float32) {
	clear(w)
	set := func(i int) { w[i/64] |= 1 << (i % 64) }
	v = v[:b.dim]
	switch b.enc {
	case OneBit:
		for i, x := range v {
			if x > 0 {
				set(i)
			}
		}
	case TwoBits:
		// twoBits without branches on the data (the three cases are
		// equally likely, so branches mispredict): bit one is
		// !(z <= -sigmas) and bit two !(z < sigmas), as twoBits decides,
		// NaN included.
		const sigmas = 2.0 / 3.0
		mean, sd := b.mean[:len(v)], b.stddev[:len(v)]
		for i, x := range v {
			var b1, b2 uint64
			if s := sd[i]; s < 1.1920929e-07 {
				b1 = bit(x > 0)
			} else {
				z := (x - mean[i]) / s
				b1, b2 = bit(!(z <= -sigmas)), bit(!(z < sigmas))
			}
			w[i/64] |= b1 << (i % 64)
			j := b.dim + i
			w[j/64] |= b2 << (j % 64)
		}
	case OneAndHalfBits:
		for i, x := range v {
			b1, b2 := b.twoBits(i, x)
			if b1 {
				set(i)
			}
			if b2 {
				set(b.dim + i/2)
			}
		}
	}
}

// bit is 1 for true, 0 for false.
func bit(t bool) uint64 {
	var b uint64
	if t {
		b = 1
	}
	return b
}

// Encode writes v's code into row[:RowSize()] as little-endian words.
func (b *Binary) Encode(row []byte, v []float32) {
	n := b.words()
	var buf [64]uint64
	w := buf[:0]
	if n <= len(buf) {
		w = buf[:n]
	} else {
		w = make([]uint64, n)
	}
	b.encodeWords(w, v)
	row = row[:8*n]
	for i, x := range w {
		binary.LittleEndian.PutUint64(row[8*i:], x)
	}
}

// PrepareQuery encodes q with the configured query encoding.
func (b *Binary) PrepareQuery(dst *Query, q []float32) *Query {
	dst.kind = KindBinary
	n := b.words()
	switch b.qenc {
	case QueryScalar4Bits, QueryScalar8Bits:
		planes := 4
		if b.qenc == QueryScalar8Bits {
			planes = 8
		}
		dst.planes = planes
		dst.words = slices.Grow(dst.words[:0], n*planes)[:n*planes]
		b.encodeScalarQuery(dst.words, q, planes)
	default:
		dst.planes = 1
		dst.words = slices.Grow(dst.words[:0], n)[:n]
		b.encodeWords(dst.words, q)
	}
	return dst
}

// encodeScalarQuery quantises the extended query to planes bits per value
// and stores the bit planes of each 64 values: w[word*planes+p].
func (b *Binary) encodeScalarQuery(w []uint64, q []float32, planes int) {
	clear(w)
	q = q[:b.dim]
	var maxAbs float32
	for _, x := range q {
		maxAbs = max(maxAbs, float32(math.Abs(float64(x))))
	}
	ranges := uint32(1)<<planes - 1
	delta := 2 * maxAbs / float32(ranges)
	put := func(i int, x float32) {
		var c uint32
		if delta > 1.1920929e-07 {
			c = uint32(math.Round(float64((x+maxAbs)/delta))) % (ranges + 1)
		}
		word, bit := i/64, uint(i%64)
		for p := range planes {
			w[word*planes+p] |= uint64(c>>p&1) << bit
		}
	}
	for i, x := range q {
		put(i, x)
	}
	switch b.enc {
	case TwoBits:
		for i, x := range q {
			put(b.dim+i, x)
		}
	case OneAndHalfBits:
		for k := 0; 2*k < b.dim; k++ {
			x := q[2*k]
			if 2*k+1 < b.dim {
				x = max(x, q[2*k+1])
			}
			put(b.dim+k, x)
		}
	}
}

// Distances sets dst[i] to 2·xor - Dim for row ids[i] (see Binary). rows
// must be 8-byte aligned (AlignedRows gives such buffers).
func (b *Binary) Distances(dst []float32, q *Query, rows []byte, ids []uint32) {
	n := b.words()
	rs := 8 * n
	checkRows(dst, rows, rs, ids)
	if len(ids) == 0 {
		return
	}
	if littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(rows)))%8 != 0 {
		panic("quant: BUG: binary rows not 8-byte aligned")
	}
	dim := float32(b.dim)
	if q.planes <= 1 {
		raw := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), len(ids))
		distance.XorPopcountGather(raw, q.words[:n], rows, rs, ids)
		for i, x := range raw {
			dst[i] = 2*float32(x) - dim
		}
		return
	}
	var buf [64]uint64
	scratch := buf[:0]
	if !littleEndian {
		scratch = make([]uint64, n)
	}
	scale := float32(uint32(1)<<q.planes - 1)
	for i, id := range ids {
		w := rowWords(rows[int(id)*rs:int(id)*rs+rs], scratch)
		x := float32(distance.XorPopcountPlanes(w, q.words, q.planes)) / scale
		dst[i] = 2*x - dim
	}
}

// rowWords views one row as uint64 words. Rows hold little-endian words; on
// a big-endian machine it decodes them into scratch instead.
func rowWords(row []byte, scratch []uint64) []uint64 {
	if littleEndian {
		return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(row))), len(row)/8)
	}
	scratch = scratch[:len(row)/8]
	for i := range scratch {
		scratch[i] = binary.LittleEndian.Uint64(row[8*i:])
	}
	return scratch
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// AlignedRows returns a zeroed buffer for n rows of q, 64-byte aligned (so
// that binary rows can be viewed as words and scalar rows load fast). A
// buffer of hugeMin bytes or more is also asked to be backed by huge pages
// where the system allows it (see hugePages).
func AlignedRows(q Quantizer, n int) []byte {
	size := n * q.RowSize()
	if size >= hugeMin {
		if buf := hugePages(size); buf != nil {
			return buf
		}
	}
	buf := make([]byte, size+63)
	off := (64 - int(uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64)) % 64
	return buf[off : off+size : off+size]
}
