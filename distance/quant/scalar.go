package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"unsafe"

	"github.com/qlite/qlite/distance"
)

// ScalarOptions configures scalar (int8) quantisation.
type ScalarOptions struct {
	// Quantile, when in (0.5, 1), clips the range of encoded values to the
	// central Quantile of a sample of the values, as Qdrant's `quantile`
	// does; values outside encode to the nearest end. 0 or 1 (the default)
	// use the full range.
	Quantile float32
	// SampleSize is the number of vectors sampled for the quantile.
	// Default 5000 (Qdrant's).
	SampleSize int
	// Seed seeds the sample. Default 0 (deterministic).
	Seed uint64
}

// Scalar quantises each float to a code in 0..127 over one range for the
// whole collection, as Qdrant's scalar int8 quantisation does:
//
//	code(x) = round(clamp((x - offset) / alpha, 0, 127))
//
// where offset is the low end of the range and alpha its width / 127 (codes
// stop at 127 so that both operands fit a signed byte). A row holds Dim
// code bytes followed by a little-endian float32 correction term (Dot and
// Cosine: alpha*offset*Σcode + Dim*offset², so that
//
//	q·v ≈ alpha²·Σ qcode·vcode + corr(q) + corr(v)
//
// as Qdrant's offsets and multiplier give; Manhattan needs none, its
// estimate being alpha·Σ|qcode-vcode|). Euclid's estimate is
// alpha²·Σ(qcode-vcode)², computed as alpha²·(|qcode|² + |vcode|² -
// 2·Σ qcode·vcode) with the row's |vcode|² (an exact integer, as a
// little-endian uint32) in the trailer: a dot product of codes costs a third
// of the instructions of a difference of squares. Quantisers serialised
// before the norms were kept (FORMAT.md, p1 = 0) leave the trailer zero and
// score Euclid rows by their differences; the two give the same integer.
// Qdrant pads codes to a multiple of 16; qlite's kernels take any length,
// so a row is Dim+4 bytes, a quarter of float32's plus 4.
type Scalar struct {
	dim    int
	metric distance.Metric
	alpha  float32
	offset float32
	// norms: Euclid rows carry Σcode² in their trailer.
	norms bool
}

// TrainScalar derives the range from v: the minimum and maximum of every
// value, or with a Quantile the bounds of the sample Qdrant's rule picks
// (below). It returns an error for bad options or a dimension mismatch.
//
// Qdrant's quantile rule, kept here: sample up to SampleSize vectors, sort
// all their values, cut k = max(1, min((len-1)/2, ⌊vectors·(1-q)/2⌋))
// values from each end (k counts vectors, not values, in Qdrant), and take
// the range from value k+1 to value len-k-1; with fewer than 127 vectors the
// quantile is ignored.
func TrainScalar(v Vectors, metric distance.Metric, dim int, o ScalarOptions) (*Scalar, error) {
	if err := checkVectors(v, dim); err != nil {
		return nil, err
	}
	if err := checkMetric(metric); err != nil {
		return nil, err
	}
	if o.Quantile != 0 && !(o.Quantile >= 0.5 && o.Quantile <= 1) {
		return nil, fmt.Errorf("%w: quantile %v outside [0.5, 1]", ErrBadOptions, o.Quantile)
	}
	if o.SampleSize == 0 {
		o.SampleSize = 5000
	}
	s := &Scalar{dim: dim, metric: metric, norms: metric == distance.Euclid}
	n := v.Len()
	if n == 0 {
		return s, nil
	}
	lo, hi := float32(math.MaxFloat32), float32(-math.MaxFloat32)
	for i := range n {
		for _, x := range v.At(i) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	if q := o.Quantile; q != 0 && q < 1 && n >= 127 {
		idx := sampleIndexes(rand.New(rand.NewPCG(o.Seed, 0x5ca1a7)), n, o.SampleSize)
		vals := make([]float32, 0, len(idx)*dim)
		for _, i := range idx {
			vals = append(vals, v.At(i)...)
		}
		if len(vals) >= 4 {
			cut := min((len(vals)-1)/2, int(float32(len(idx))*(1-q)/2))
			cut = max(cut, 1)
			slices.Sort(vals)
			if sel := vals[cut+1 : len(vals)-cut]; len(sel) >= 2 {
				lo, hi = sel[0], sel[len(sel)-1]
			}
		}
	}
	s.offset, s.alpha = lo, (hi-lo)/127
	return s, nil
}

func (s *Scalar) Kind() Kind              { return KindScalar }
func (s *Scalar) Dim() int                { return s.dim }
func (s *Scalar) Metric() distance.Metric { return s.metric }
func (s *Scalar) RowSize() int            { return s.dim + 4 }

// Range returns the encoded range [offset, offset+127*alpha].
func (s *Scalar) Range() (lo, hi float32) { return s.offset, s.offset + 127*s.alpha }

func (s *Scalar) code(x float32) byte {
	if s.alpha == 0 {
		return 0
	}
	c := (x - s.offset) / s.alpha
	switch {
	case c != c || c <= 0:
		return 0
	case c >= 127:
		return 127
	}
	// math.Round for 0 < c < 127: c + 0.5 is exact in float64 but where c
	// is too small to matter, and truncation then rounds half away from
	// zero, at a fraction of math.Round's cost.
	return byte(int32(float64(c) + 0.5))
}

// encode writes codes into dst[:dim] and returns the correction term and
// Σcode².
func (s *Scalar) encode(dst []byte, v []float32) (float32, uint32) {
	dst, v = dst[:s.dim], v[:s.dim]
	var sum, sq uint32
	for i, x := range v {
		c := s.code(x)
		dst[i] = c
		sum += uint32(c)
		sq += uint32(c) * uint32(c)
	}
	if s.metric == distance.Dot || s.metric == distance.Cosine {
		return float32(sum)*s.alpha*s.offset + float32(s.dim)*s.offset*s.offset/2, sq
	}
	return 0, sq
}

// Encode writes v's codes and trailer into row[:RowSize()].
func (s *Scalar) Encode(row []byte, v []float32) {
	row = row[:s.dim+4]
	corr, sq := s.encode(row, v)
	if s.norms {
		binary.LittleEndian.PutUint32(row[s.dim:], sq)
		return
	}
	binary.LittleEndian.PutUint32(row[s.dim:], math.Float32bits(corr))
}

// PrepareQuery encodes q as a row is encoded.
func (s *Scalar) PrepareQuery(dst *Query, q []float32) *Query {
	dst.kind = KindScalar
	dst.code = slices.Grow(dst.code[:0], s.dim)[:s.dim]
	dst.offset, dst.norm = s.encode(dst.code, q)
	return dst
}

// Distances estimates the distance between the query and each row named by
// ids (see Quantizer). The shift Dim*offset² that Qdrant adds once is split
// between the query's and the row's correction terms. The integer sums come
// from the byte gather kernels, written into dst's memory and converted in
// place.
func (s *Scalar) Distances(dst []float32, q *Query, rows []byte, ids []uint32) {
	rs := s.dim + 4
	checkRows(dst, rows, rs, ids)
	if len(ids) == 0 {
		return
	}
	dst = dst[:len(ids)]
	raw := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst))
	qc := q.code[:s.dim]
	a2 := s.alpha * s.alpha
	switch s.metric {
	case distance.Euclid:
		if !s.norms {
			distance.SquaredL2U8Gather(raw, qc, rows, rs, ids)
			for i, x := range raw {
				dst[i] = a2 * float32(x)
			}
			return
		}
		distance.DotU7Gather(raw, qc, rows, rs, ids)
		for i, x := range raw {
			off := int(ids[i])*rs + s.dim
			vn := binary.LittleEndian.Uint32(rows[off : off+4])
			dst[i] = a2 * float32(q.norm+vn-2*x)
		}
	case distance.Manhattan:
		distance.L1U8Gather(raw, qc, rows, rs, ids)
		for i, x := range raw {
			dst[i] = s.alpha * float32(x)
		}
	default:
		// Codes stop at 127 (see code), so the 7-bit kernel's sums are
		// DotU8Gather's.
		distance.DotU7Gather(raw, qc, rows, rs, ids)
		for i, x := range raw {
			off := int(ids[i])*rs + s.dim
			corr := math.Float32frombits(binary.LittleEndian.Uint32(rows[off : off+4]))
			dst[i] = 1 - (a2*float32(x) + q.offset + corr)
		}
	}
}
