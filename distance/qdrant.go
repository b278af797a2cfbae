package distance

import "math"

// Qdrant's float32 sums. Qdrant's scores are float32 sums whose order depends
// on the length of the vectors (Qdrant 1.17, lib/segment/src/spaces/simple.rs
// picks the kernel at run time; simple_avx.rs and simple_sse.rs hold them):
//
//   - at least 32 elements, on x86-64 with AVX and FMA (every server CPU it
//     runs on): four 8-lane accumulators over blocks of 32, each lane updated
//     with a fused multiply-add (Dot, Cosine, Euclid) or an add (Manhattan);
//     the four accumulators are added lane by lane ((a+b)+(c+d)), the 8 lanes
//     folded to 4 (high half + low half), then to 2 by pairs ((l0+l1),
//     (l2+l3)), and the two added; the remaining n%32 elements are added one
//     by one, left to right, without fusing;
//   - at least 16 elements (SSE): four 4-lane accumulators over blocks of 16,
//     multiply then add (never fused); each accumulator folded as
//     (l0+l2)+(l1+l3), the four results added left to right, then the n%16
//     remaining elements one by one;
//   - fewer: one accumulator, left to right.
//
// The reported score is then the sum itself for Dot and Cosine (Cosine
// vectors are normalised when stored, see Preprocess), the square root of the
// sum of squares for Euclid and the sum of absolute differences for Manhattan.
// QdrantScore reproduces those results bit for bit, for the few places where
// qlite reports scores that clients compare exactly with Qdrant's (the search
// matrix). It is plain Go: slower than the kernels, and never on a search's
// hot path.

// Qdrant's thresholds (MIN_DIM_SIZE_AVX, MIN_DIM_SIZE_SIMD).
const (
	qdrantAVXMin = 32
	qdrantSSEMin = 16
)

// qdrantTerm is one element's contribution to a sum.
type qdrantTerm uint8

const (
	termDot qdrantTerm = iota
	termL2
	termL1
)

// QdrantScore returns the score Qdrant reports for vectors a and b (of equal
// length, already preprocessed) under m, computed in Qdrant's order.
func (m Metric) QdrantScore(a, b []float32) float32 {
	switch m {
	case Euclid:
		return float32(math.Sqrt(float64(qdrantSum(termL2, a, b))))
	case Manhattan:
		return qdrantSum(termL1, a, b)
	default:
		return qdrantSum(termDot, a, b)
	}
}

// qdrantNorm2 is the squared norm of v as Qdrant computes it when it
// normalises a Cosine vector.
func qdrantNorm2(v []float32) float32 { return qdrantSum(termDot, v, v) }

func qdrantSum(t qdrantTerm, a, b []float32) float32 {
	b = b[:len(a)]
	n := len(a)
	var s float32
	i := 0
	switch {
	case n >= qdrantAVXMin:
		var acc [32]float32
		for ; i+32 <= n; i += 32 {
			for j := range acc {
				x, y := a[i+j], b[i+j]
				switch t {
				case termDot:
					acc[j] = fma32(x, y, acc[j])
				case termL2:
					d := x - y
					acc[j] = fma32(d, d, acc[j])
				case termL1:
					acc[j] = abs32(x-y) + acc[j]
				}
			}
		}
		var tot [8]float32
		for j := range tot {
			tot[j] = (acc[j] + acc[8+j]) + (acc[16+j] + acc[24+j])
		}
		var half [4]float32
		for j := range half {
			half[j] = tot[4+j] + tot[j]
		}
		s = (half[0] + half[1]) + (half[2] + half[3])
	case n >= qdrantSSEMin:
		var acc [16]float32
		for ; i+16 <= n; i += 16 {
			for j := range acc {
				x, y := a[i+j], b[i+j]
				switch t {
				case termDot:
					acc[j] = float32(x*y) + acc[j]
				case termL2:
					d := x - y
					acc[j] = float32(d*d) + acc[j]
				case termL1:
					acc[j] = abs32(x-y) + acc[j]
				}
			}
		}
		for k := range 4 {
			l := acc[4*k : 4*k+4]
			h := (l[0] + l[2]) + (l[1] + l[3])
			if k == 0 {
				s = h
			} else {
				s += h
			}
		}
	}
	for ; i < n; i++ {
		x, y := a[i], b[i]
		var p float32
		switch t {
		case termDot:
			p = float32(x * y)
		case termL2:
			d := x - y
			p = float32(d * d)
		case termL1:
			p = abs32(x - y)
		}
		s += p
	}
	return s
}

// fma32 returns x*y+z rounded once to float32, as the FMA instruction does.
// The product is exact in float64; the float64 sum is rounded to odd so that
// the final rounding to float32 is correct (no double rounding).
func fma32(x, y, z float32) float32 {
	p := float64(x) * float64(y)
	c := float64(z)
	s := p + c
	// Two-sum: err is the exact rounding error of s.
	bv := s - p
	av := s - bv
	err := (p - av) + (c - bv)
	if err != 0 && math.Float64bits(s)&1 == 0 {
		if (err > 0) == (s > 0) {
			s = math.Float64frombits(math.Float64bits(s) + 1)
		} else {
			s = math.Float64frombits(math.Float64bits(s) - 1)
		}
	}
	return float32(s)
}
