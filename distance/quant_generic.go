package distance

import (
	"math"
	"math/bits"
)

// Pure-Go kernels for quantised and narrow rows: the fallback on every
// platform, the path for lengths too short for assembly to pay, the tails the
// AVX2 kernels leave, and the reference the assembly is tested against.
// Integer kernels are exact, so splitting a vector between assembly and Go
// changes nothing in their result.

func dotU8Go(a, b []byte) uint32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 uint32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		s0 += uint32(x[0]) * uint32(y[0])
		s1 += uint32(x[1]) * uint32(y[1])
		s2 += uint32(x[2]) * uint32(y[2])
		s3 += uint32(x[3]) * uint32(y[3])
	}
	for ; i < len(a); i++ {
		s0 += uint32(a[i]) * uint32(b[i])
	}
	return s0 + s1 + s2 + s3
}

func l2U8Go(a, b []byte) uint32 {
	b = b[:len(a)]
	var s0, s1 uint32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		d0 := int32(a[i]) - int32(b[i])
		d1 := int32(a[i+1]) - int32(b[i+1])
		s0 += uint32(d0 * d0)
		s1 += uint32(d1 * d1)
	}
	for ; i < len(a); i++ {
		d := int32(a[i]) - int32(b[i])
		s0 += uint32(d * d)
	}
	return s0 + s1
}

func absDiffU8(x, y byte) uint32 {
	if x > y {
		return uint32(x - y)
	}
	return uint32(y - x)
}

func l1U8Go(a, b []byte) uint32 {
	b = b[:len(a)]
	var s0, s1 uint32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += absDiffU8(a[i], b[i])
		s1 += absDiffU8(a[i+1], b[i+1])
	}
	for ; i < len(a); i++ {
		s0 += absDiffU8(a[i], b[i])
	}
	return s0 + s1
}

// Float32 query against float16 or uint8 rows: the row is widened to float32
// and scored as the float32 kernels score, with four accumulators.

func dotF16Go(q []float32, row []uint16) float32 {
	row = row[:len(q)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		x := q[i : i+4 : i+4]
		y := row[i : i+4 : i+4]
		s0 += x[0] * f16ToF32(y[0])
		s1 += x[1] * f16ToF32(y[1])
		s2 += x[2] * f16ToF32(y[2])
		s3 += x[3] * f16ToF32(y[3])
	}
	for ; i < len(q); i++ {
		s0 += q[i] * f16ToF32(row[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func l2F16Go(q []float32, row []uint16) float32 {
	row = row[:len(q)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(q); i += 2 {
		d0 := q[i] - f16ToF32(row[i])
		d1 := q[i+1] - f16ToF32(row[i+1])
		s0 += d0 * d0
		s1 += d1 * d1
	}
	for ; i < len(q); i++ {
		d := q[i] - f16ToF32(row[i])
		s0 += d * d
	}
	return s0 + s1
}

func l1F16Go(q []float32, row []uint16) float32 {
	row = row[:len(q)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(q); i += 2 {
		s0 += abs32(q[i] - f16ToF32(row[i]))
		s1 += abs32(q[i+1] - f16ToF32(row[i+1]))
	}
	for ; i < len(q); i++ {
		s0 += abs32(q[i] - f16ToF32(row[i]))
	}
	return s0 + s1
}

func dotU8F32Go(q []float32, row []byte) float32 {
	row = row[:len(q)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		x := q[i : i+4 : i+4]
		y := row[i : i+4 : i+4]
		s0 += x[0] * float32(y[0])
		s1 += x[1] * float32(y[1])
		s2 += x[2] * float32(y[2])
		s3 += x[3] * float32(y[3])
	}
	for ; i < len(q); i++ {
		s0 += q[i] * float32(row[i])
	}
	return (s0 + s1) + (s2 + s3)
}

func l2U8F32Go(q []float32, row []byte) float32 {
	row = row[:len(q)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(q); i += 2 {
		d0 := q[i] - float32(row[i])
		d1 := q[i+1] - float32(row[i+1])
		s0 += d0 * d0
		s1 += d1 * d1
	}
	for ; i < len(q); i++ {
		d := q[i] - float32(row[i])
		s0 += d * d
	}
	return s0 + s1
}

func l1U8F32Go(q []float32, row []byte) float32 {
	row = row[:len(q)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(q); i += 2 {
		s0 += abs32(q[i] - float32(row[i]))
		s1 += abs32(q[i+1] - float32(row[i+1]))
	}
	for ; i < len(q); i++ {
		s0 += abs32(q[i] - float32(row[i]))
	}
	return s0 + s1
}

// Binary codes.

func xorPopcountGo(a, b []uint64) uint32 {
	b = b[:len(a)]
	var s0, s1 int
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += bits.OnesCount64(a[i] ^ b[i])
		s1 += bits.OnesCount64(a[i+1] ^ b[i+1])
	}
	for ; i < len(a); i++ {
		s0 += bits.OnesCount64(a[i] ^ b[i])
	}
	return uint32(s0 + s1)
}

func andPopcountGo(a, b []uint64) uint32 {
	b = b[:len(a)]
	var s int
	for i := range a {
		s += bits.OnesCount64(a[i] & b[i])
	}
	return uint32(s)
}

// xorPopcountPlanesGo returns Σ_w Σ_p popcount(v[w] ^ q[w*planes+p]) << p.
func xorPopcountPlanesGo(v, q []uint64, planes int) uint32 {
	q = q[:len(v)*planes]
	var s uint32
	for w, x := range v {
		qw := q[w*planes : w*planes+planes]
		for p, y := range qw {
			s += uint32(bits.OnesCount64(x^y)) << p
		}
	}
	return s
}

// pqScoreGo sums lut[j*256+codes[j]] over j.
func pqScoreGo(lut []float32, codes []byte) float32 {
	lut = lut[:len(codes)*256]
	var s0, s1, s2, s3 float32
	j := 0
	for ; j+4 <= len(codes); j += 4 {
		c := codes[j : j+4 : j+4]
		t := lut[j*256 : j*256+1024 : j*256+1024]
		s0 += t[c[0]]
		s1 += t[256+int(c[1])]
		s2 += t[512+int(c[2])]
		s3 += t[768+int(c[3])]
	}
	for ; j < len(codes); j++ {
		s0 += lut[j*256+int(codes[j])]
	}
	return (s0 + s1) + (s2 + s3)
}

// Conversions.

// f32ToF16 rounds f to the nearest float16, ties to even, as IEEE 754 and
// the F16C instruction VCVTPS2PH (imm 0) do: overflow gives an infinity,
// values below half the smallest subnormal give a zero of the same sign,
// NaNs stay NaN (quiet, top payload bits kept).
func f32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00 | uint16(man>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		shift := uint(14 - e)
		if shift > 24 {
			return sign
		}
		m := man | 0x800000
		h := m >> shift
		rem, half := m&(1<<shift-1), uint32(1)<<(shift-1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | man>>13
	if rem := man & 0x1fff; rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // a carry into the exponent is the right answer, up to infinity
	}
	return sign | uint16(h)
}

// f16ToF32 widens a float16 exactly; NaNs come back quiet.
func f16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch exp {
	case 0x1f:
		if man != 0 {
			return math.Float32frombits(sign | 0x7fc00000 | man<<13)
		}
		return math.Float32frombits(sign | 0x7f800000)
	case 0:
		f := float32(man) * (1.0 / (1 << 24))
		return math.Float32frombits(sign | math.Float32bits(f))
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// f32ToU8 converts as Qdrant 1.17 stores a float in a uint8 vector: toward
// zero, saturating at 0 and 255, NaN to 0 (Rust's `as u8`).
func f32ToU8(f float32) byte {
	switch {
	case !(f > 0): // also NaN
		return 0
	case f >= 255:
		return 255
	}
	return byte(f)
}
