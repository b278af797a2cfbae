package distance

import (
	"fmt"
	"math"
)

// maxSimBlock is the number of document vectors MaxSim scores with one batch
// kernel call; its scratch lives on the stack.
const maxSimBlock = 64

// MaxSim returns the internal distance between the multivectors q and doc
// (each a whole number of dim-long vectors, back to back, preprocessed as
// Preprocess does for each vector) under Qdrant's max_sim comparator: the
// sum, over the vectors of q, of the best similarity to any vector of doc.
// Lower is closer, and Score turns it into Qdrant's score: for Cosine and
// Dot the distance is 1 minus the sum of the best dot products; for Euclid
// the sum of the smallest squared distances (Score: its square root); for
// Manhattan the sum of the smallest L1 distances.
//
// With AVX-512, Dot, Cosine and Euclid score four vectors of q against four
// of doc per kernel call (maxSimTiled); otherwise, and for the last q
// vectors, each vector of q is scored against doc's vectors by the batch
// kernels, a block of rows per call, so one pass over doc per query vector.
func (m Metric) MaxSim(q, doc []float32, dim int) float32 {
	if dim <= 0 || len(q)%dim != 0 || len(doc)%dim != 0 || len(q) == 0 || len(doc) == 0 {
		panic(fmt.Sprintf("distance: BUG: MaxSim of %d and %d elements, dim %d", len(q), len(doc), dim))
	}
	var buf [maxSimBlock]float32
	var sum float32
	dot := m == Cosine || m == Dot
	start := 0
	if curImpl == implAVX512 && m != Manhattan {
		start, sum = maxSimTiled(dot, q, doc, dim)
	}
	for i := start; i < len(q); i += dim {
		qi := q[i : i+dim : i+dim]
		var best float32
		for j := 0; j < len(doc); j += maxSimBlock * dim {
			block := doc[j:min(len(doc), j+maxSimBlock*dim)]
			rows := len(block) / dim
			d := buf[:rows]
			switch m {
			case Euclid:
				SquaredL2Batch(d, qi, block, dim)
			case Manhattan:
				L1Batch(d, qi, block, dim)
			default:
				DotBatch(d, qi, block, dim)
			}
			first := j == 0
			for _, x := range d {
				switch {
				case first:
					best, first = x, false
				case dot && x > best, !dot && x < best:
					best = x
				}
			}
		}
		sum += best
	}
	if dot {
		return 1 - sum
	}
	return sum
}

// maxSimTiled sums, over the first 4*floor(n/4) vectors of q, the best
// similarity to any vector of doc (the largest dot product when dot, else
// the smallest squared distance), scoring four vectors of q against all
// groups of four vectors of doc in one call of an AVX-512 tile kernel and
// the last 0..3 vectors of doc with the batch kernels. It returns where in
// q the vectors it did not score start, and the sum.
func maxSimTiled(dot bool, q, doc []float32, dim int) (int, float32) {
	var buf [3]float32
	var sum float32
	step := 4 * dim
	groups := len(doc) / step
	full := groups * step
	end := len(q) / step * step
	for i := 0; i < end; i += step {
		inf := float32(math.Inf(1))
		if dot {
			inf = -inf
		}
		best := [4]float32{inf, inf, inf, inf}
		switch {
		case groups == 0:
		case dot:
			dotMaxTileAVX512(&best, &q[i], &doc[0], dim, groups)
		default:
			l2MinTileAVX512(&best, &q[i], &doc[0], dim, groups)
		}
		if full < len(doc) {
			rest := doc[full:]
			d := buf[:len(rest)/dim]
			for a := range best {
				qa := q[i+a*dim : i+(a+1)*dim : i+(a+1)*dim]
				if dot {
					DotBatch(d, qa, rest, dim)
				} else {
					SquaredL2Batch(d, qa, rest, dim)
				}
				for _, x := range d {
					if dot && x > best[a] || !dot && x < best[a] {
						best[a] = x
					}
				}
			}
		}
		sum += best[0] + best[1] + best[2] + best[3]
	}
	return end, sum
}

// MaxSimNaive is MaxSim scored one pair of vectors at a time with
// Distance: the reference MaxSim is tested and measured against.
func (m Metric) MaxSimNaive(q, doc []float32, dim int) float32 {
	var sum float32
	for i := 0; i < len(q); i += dim {
		best := float32(0)
		for j := 0; j < len(doc); j += dim {
			d := m.Distance(q[i:i+dim], doc[j:j+dim])
			if j == 0 || d < best {
				best = d
			}
		}
		if m == Cosine || m == Dot {
			sum += 1 - best
		} else {
			sum += best
		}
	}
	if m == Cosine || m == Dot {
		return 1 - sum
	}
	return sum
}

// ValidateMulti checks a user-supplied multivector: at least one vector, a
// whole number of dim-long vectors, finite in every element.
func ValidateMulti(v []float32, dim int) error {
	if len(v) == 0 {
		return ErrEmpty
	}
	if len(v)%dim != 0 {
		return fmt.Errorf("%w: %d elements are not a whole number of %d-dimensional vectors", ErrDimMismatch, len(v), dim)
	}
	return Validate(v, 0)
}

// PreprocessMulti is Preprocess for each dim-long vector of the
// multivector v, written into dst (grown as needed).
func (m Metric) PreprocessMulti(dst, v []float32, dim int) []float32 {
	dst = grow(dst, len(v))
	for i := 0; i < len(v); i += dim {
		m.Preprocess(dst[i:i+dim:i+dim], v[i:i+dim])
	}
	return dst
}

// PreprocessMultiQuery is PreprocessQuery for each dim-long vector of the
// multivector v.
func (m Metric) PreprocessMultiQuery(dst, v []float32, dim int) []float32 {
	dst = grow(dst, len(v))
	for i := 0; i < len(v); i += dim {
		m.PreprocessQuery(dst[i:i+dim:i+dim], v[i:i+dim])
	}
	return dst
}

// MaxSimF16 is MaxSim of a float32 query q (its elements float16 values,
// see F16FromF32) against a document of float16 vectors, scored with the
// float16 kernels (DotF16, SquaredL2F16, L1F16) in float32 arithmetic.
func (m Metric) MaxSimF16(q []float32, doc []uint16, dim int) float32 {
	if dim <= 0 || len(q)%dim != 0 || len(doc)%dim != 0 || len(q) == 0 || len(doc) == 0 {
		panic(fmt.Sprintf("distance: BUG: MaxSimF16 of %d and %d elements, dim %d", len(q), len(doc), dim))
	}
	dot := m == Cosine || m == Dot
	var sum float32
	for i := 0; i < len(q); i += dim {
		qi := q[i : i+dim : i+dim]
		var best float32
		for j := 0; j < len(doc); j += dim {
			row := doc[j : j+dim : j+dim]
			var x float32
			switch m {
			case Euclid:
				x = SquaredL2F16(qi, row)
			case Manhattan:
				x = L1F16(qi, row)
			default:
				x = DotF16(qi, row)
			}
			best = maxSimBest(dot, j == 0, x, best)
		}
		sum += best
	}
	return maxSimDistance(dot, sum)
}

// MaxSimU8 is MaxSim of a uint8 query against a document of uint8 vectors,
// scored on the integers (DotU8, SquaredL2U8, L1U8). The vectors are not
// normalised: for Cosine each pair scores dot / (|a| |b|), 0 when either is
// all zeros, as Qdrant 1.17 scores uint8 Cosine vectors.
func (m Metric) MaxSimU8(q, doc []byte, dim int) float32 {
	if dim <= 0 || len(q)%dim != 0 || len(doc)%dim != 0 || len(q) == 0 || len(doc) == 0 {
		panic(fmt.Sprintf("distance: BUG: MaxSimU8 of %d and %d elements, dim %d", len(q), len(doc), dim))
	}
	dot := m == Cosine || m == Dot
	var sum float32
	for i := 0; i < len(q); i += dim {
		qi := q[i : i+dim : i+dim]
		var qn float64
		if m == Cosine {
			qn = float64(DotU8(qi, qi))
		}
		var best float32
		for j := 0; j < len(doc); j += dim {
			row := doc[j : j+dim : j+dim]
			var x float32
			switch m {
			case Euclid:
				x = float32(SquaredL2U8(qi, row))
			case Manhattan:
				x = float32(L1U8(qi, row))
			case Dot:
				x = float32(DotU8(qi, row))
			default:
				x = 0
				if rn := float64(DotU8(row, row)); qn != 0 && rn != 0 {
					x = float32(float64(DotU8(qi, row)) / math.Sqrt(qn*rn))
				}
			}
			best = maxSimBest(dot, j == 0, x, best)
		}
		sum += best
	}
	return maxSimDistance(dot, sum)
}

// maxSimBest returns the better of the similarity x and best (the larger
// when dot, else the smaller), x when first.
func maxSimBest(dot, first bool, x, best float32) float32 {
	if first || (dot && x > best) || (!dot && x < best) {
		return x
	}
	return best
}

// maxSimDistance turns a sum of best similarities into MaxSim's distance.
func maxSimDistance(dot bool, sum float32) float32 {
	if dot {
		return 1 - sum
	}
	return sum
}
