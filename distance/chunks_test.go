package distance

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// chunkFuncs pairs each chunk form with its single kernel.
var chunkFuncs = []struct {
	name   string
	single func(a, b []float32) float32
	chunks func(dst, q []float32, chunks [][]float32, shift uint, ids []uint32)
}{
	{"dot", DotProduct, DotChunks},
	{"l2", SquaredL2, SquaredL2Chunks},
	{"l1", L1, L1Chunks},
}

// chunked splits rows of dim floats into chunks of 1<<shift rows, each in
// its own allocation starting off floats past an arbitrary address (so
// aligned or not); the last chunk is short.
func chunked(r *rand.Rand, rows, dim int, shift uint, off int) [][]float32 {
	var cs [][]float32
	for first := 0; first < rows; first += 1 << shift {
		n := min(1<<shift, rows-first)
		own := randSlice(r, n*dim+off, 1)
		cs = append(cs, own[off:off+n*dim])
	}
	return cs
}

// TestChunksExact checks that every chunk-form result is bit-identical to
// the single-pair kernel on the same row, across chunks, with repeats and
// the edges of chunks.
func TestChunksExact(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 20))
	const rows = 40
	forEachImpl(t, func(t *testing.T) {
		for _, dim := range gatherDims() {
			for _, shift := range []uint{0, 2, 3, 6} {
				q := randSlice(r, dim, 1)
				cs := chunked(r, rows, dim, shift, dim%4)
				ids := []uint32{0, rows - 1, 3, 3, rows - 1} // edges and repeats
				if 1<<shift < rows {
					ids = append(ids, 1<<shift-1, 1<<shift) // either side of a chunk boundary
				}
				for len(ids) < 37 {
					ids = append(ids, uint32(r.IntN(rows)))
				}
				row := func(id uint32) []float32 {
					o := int(id&(1<<shift-1)) * dim
					return cs[id>>shift][o : o+dim]
				}
				for _, cf := range chunkFuncs {
					for _, n := range []int{0, 1, 2, 3, 16, len(ids)} {
						dst := fill(n+2, constant(-7))
						cf.chunks(dst, q, cs, shift, ids[:n])
						for i, id := range ids[:n] {
							want := cf.single(q, row(id))
							require.Equal(t, math.Float32bits(want), math.Float32bits(dst[i]),
								"%s chunks dim=%d shift=%d i=%d id=%d: %v != %v", cf.name, dim, shift, i, id, dst[i], want)
						}
						require.Equal(t, []float32{-7, -7}, dst[n:], "chunks wrote past len(ids)")
					}
				}
				for _, m := range []Metric{Cosine, Dot, Euclid, Manhattan} {
					dst := make([]float32, len(ids))
					m.GatherChunks(dst, q, cs, shift, ids)
					for i, id := range ids {
						require.Equal(t, m.Distance(q, row(id)), dst[i], "%v dim=%d", m, dim)
					}
				}
			}
		}
	})
}

func TestChunksContract(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		const dim, shift = 16, 2
		r := rand.New(rand.NewPCG(22, 22))
		cs := chunked(r, 10, dim, shift, 0) // chunks of 4, 4 and 2 rows
		q := make([]float32, dim)
		dst := make([]float32, 4)
		for _, cf := range chunkFuncs {
			cf.chunks(dst, q, cs, shift, []uint32{9, 0, 4, 3})
			cf.chunks(dst, q, nil, shift, nil)
			cf.chunks(dst, nil, [][]float32{nil}, shift, []uint32{0, 3}) // dim 0

			requireBug(t, func() { cf.chunks(dst, q, cs, shift, []uint32{0, 10}) }, "row past the short last chunk")
			requireBug(t, func() { cf.chunks(dst, q, cs, shift, []uint32{12}) }, "chunk past the end")
			requireBug(t, func() { cf.chunks(dst, q, cs, shift, []uint32{math.MaxUint32}) }, "huge id")
			requireBug(t, func() { cf.chunks(dst, q, [][]float32{cs[0], nil}, shift, []uint32{4}) }, "empty chunk")
			requireBug(t, func() { cf.chunks(dst, q, cs, 32, []uint32{1}) }, "shift too large")
			requireBug(t, func() { cf.chunks(dst[:1], q, cs, shift, []uint32{1, 2}) }, "short dst")
			requireBug(t, func() { cf.chunks(dst, append(q, 0), cs, shift, []uint32{1, 9}) }, "long query reaches past the last chunk")
		}
	})
}

func TestChunksZeroAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	const dim, shift = 784, 3
	q := randSlice(r, dim, 1)
	cs := chunked(r, 64, dim, shift, 0)
	ids := []uint32{5, 9, 63, 0, 17, 17, 2, 40, 33, 1, 8, 61, 12, 50, 31, 22}
	dst := make([]float32, len(ids))
	forEachImpl(t, func(t *testing.T) {
		for _, m := range []Metric{Cosine, Dot, Euclid, Manhattan} {
			require.Zero(t, testing.AllocsPerRun(50, func() { m.GatherChunks(dst, q, cs, shift, ids) }), m.String())
		}
	})
}

// TestChunksBelow checks the bounded chunk forms against the full ones: a
// distance below the bound is bit-identical, any other is reported at
// least the bound and at most the distance (a partial sum), for bounds
// from below the smallest distance to above the largest. Under the AVX2
// kernels the bounds that cut rows short must leave some rows early.
func TestChunksBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 23))
	const rows = 40
	forEachImpl(t, func(t *testing.T) {
		left := 0
		for _, dim := range append(gatherDims(), 784, 1536) {
			shift := uint(r.IntN(4))
			q := randSlice(r, dim, 1)
			cs := chunked(r, rows, dim, shift, dim%4)
			ids := make([]uint32, 24)
			for i := range ids {
				ids[i] = uint32(r.IntN(rows))
			}
			for _, m := range []Metric{Cosine, Dot, Euclid, Manhattan} {
				full := make([]float32, len(ids))
				m.GatherChunks(full, q, cs, shift, ids)
				sorted := append([]float32(nil), full...)
				slices.Sort(sorted)
				bounds := []float32{0, sorted[0], sorted[len(sorted)/4], sorted[len(sorted)/2], sorted[len(sorted)-1],
					sorted[len(sorted)/2] * 0.5, sorted[len(sorted)-1] * 2, float32(math.Inf(1)), float32(math.NaN())}
				for _, bound := range bounds {
					dst := fill(len(ids)+1, constant(-7))
					m.GatherChunksBelow(dst, q, cs, shift, ids, bound)
					require.Equal(t, float32(-7), dst[len(ids)], "wrote past len(ids)")
					for i := range ids {
						if full[i] < bound || bound != bound || !m.Bounded() {
							require.Equal(t, math.Float32bits(full[i]), math.Float32bits(dst[i]),
								"%v dim=%d bound=%v i=%d: %v, want %v", m, dim, bound, i, dst[i], full[i])
							continue
						}
						require.GreaterOrEqual(t, dst[i], bound, "%v dim=%d i=%d", m, dim, i)
						require.LessOrEqual(t, dst[i], full[i], "%v dim=%d i=%d", m, dim, i)
						if dst[i] != full[i] {
							left++
						}
					}
				}
			}
		}
		if belowAVX2(784) {
			require.NotZero(t, left, "no row was left early")
		}
	})
}
