package distance

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// unalignedVec returns n random floats starting off floats past a 64-byte
// boundary.
func unalignedVec(rng *rand.Rand, n, off int) []float32 {
	buf := make([]float32, n+off+16)
	skip := (16 - int(uintptr(unsafe.Pointer(&buf[0]))%64/4)) % 16
	v := buf[skip+off : skip+off+n : skip+off+n]
	copy(v, randVec(rng, n))
	return v
}

// TestTileKernelsMatchFloat64 checks the four-by-four MaxSim kernels
// against pairwise float64 sums over dims that are and are not multiples of
// the vector width, one to three groups of base rows, on rows at every
// alignment.
func TestTileKernelsMatchFloat64(t *testing.T) {
	if !supported(implAVX512) {
		t.Skip("no AVX-512 on this machine: MaxSim uses the batch kernels, tested by TestMaxSimTiledMatchesOracle")
	}
	rng := rand.New(rand.NewPCG(16, 32))
	dims := []int{1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 100, 127, 128, 129, 384, 768, 1000}
	for range 20 {
		dims = append(dims, 1+rng.IntN(1000))
	}
	for _, dim := range dims {
		n := 1 + rng.IntN(3)
		q := unalignedVec(rng, 4*dim, rng.IntN(16))
		base := unalignedVec(rng, 4*n*dim, rng.IntN(16))
		inf := float32(math.Inf(1))
		dot, l2 := [4]float32{-inf, -inf, -inf, -inf}, [4]float32{inf, inf, inf, inf}
		dotMaxTileAVX512(&dot, &q[0], &base[0], dim, n)
		l2MinTileAVX512(&l2, &q[0], &base[0], dim, n)
		for i := range 4 {
			bestDot, bestL2 := math.Inf(-1), math.Inf(1)
			var condDot, condL2 float64
			for r := range 4 * n {
				a, b := q[i*dim:(i+1)*dim], base[r*dim:(r+1)*dim]
				var sd, cd, sl float64
				for k := range a {
					x, y := float64(a[k]), float64(b[k])
					sd += x * y
					cd += math.Abs(x * y)
					sl += (x - y) * (x - y)
				}
				bestDot, bestL2 = max(bestDot, sd), min(bestL2, sl)
				condDot, condL2 = max(condDot, cd), max(condL2, sl)
			}
			checkClose(t, dot[i], bestDot, condDot, dim, "dot dim %d groups %d row %d", dim, n, i)
			checkClose(t, l2[i], bestL2, condL2, dim, "l2 dim %d groups %d row %d", dim, n, i)
		}
	}
}

// TestMaxSimTiledMatchesOracle checks MaxSim under every kernel
// configuration against Qdrant's definition in float64, over random dims,
// vector counts on both sides (so every remainder of the four-by-four
// tiling) and unaligned slices.
func TestMaxSimTiledMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 64))
	type tcase struct {
		dim, nq, nd int
		q, doc      []float32
	}
	var cases []tcase
	for _, shape := range [][3]int{{1, 1, 1}, {17, 4, 4}, {48, 5, 7}, {128, 32, 70}, {1000, 3, 9}, {129, 8, 1}, {7, 70, 3}} {
		cases = append(cases, tcase{dim: shape[0], nq: shape[1], nd: shape[2]})
	}
	for range 25 {
		cases = append(cases, tcase{dim: 1 + rng.IntN(1000), nq: 1 + rng.IntN(70), nd: 1 + rng.IntN(70)})
	}
	for i := range cases {
		c := &cases[i]
		c.q = unalignedVec(rng, c.nq*c.dim, rng.IntN(16))
		c.doc = unalignedVec(rng, c.nd*c.dim, rng.IntN(16))
	}
	for _, m := range allMetrics {
		want := make([]float64, len(cases))
		qs, docs := make([][]float32, len(cases)), make([][]float32, len(cases))
		for i, c := range cases {
			qs[i] = m.PreprocessMultiQuery(nil, c.q, c.dim)
			docs[i] = m.PreprocessMulti(nil, c.doc, c.dim)
			want[i] = maxSim64(m, qs[i], docs[i], c.dim)
		}
		t.Run(m.String(), func(t *testing.T) {
			forEachImpl(t, func(t *testing.T) {
				for i, c := range cases {
					got := float64(m.Score(m.MaxSim(qs[i], docs[i], c.dim)))
					tol := 2e-5 * math.Max(1, math.Abs(want[i]))
					require.InDelta(t, want[i], got, tol, "%v dim %d q %d doc %d", m, c.dim, c.nq, c.nd)
				}
			})
		})
	}
}

// FuzzMaxSim reads a dim, two vector counts and small integer-valued
// elements from the fuzzed bytes and checks MaxSim under every kernel
// configuration against the float64 definition.
func FuzzMaxSim(f *testing.F) {
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{2, 3, 4, 1, 2, 3, 250, 7})
	seed := make([]byte, 3+8*5*4*2)
	seed[0], seed[1], seed[2] = 16, 4, 5
	for i := 3; i < len(seed); i++ {
		seed[i] = byte(i * 37)
	}
	f.Add(seed)
	cfgs := implConfigs()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 {
			return
		}
		dim, nq, nd := 1+int(data[0])%40, 1+int(data[1])%9, 1+int(data[2])%9
		vals := data[3:]
		elem := func(i int) float32 {
			if len(vals) == 0 {
				return 1
			}
			return float32(int8(vals[i%len(vals)])) / 16
		}
		q, doc := make([]float32, nq*dim), make([]float32, nd*dim)
		for i := range q {
			q[i] = elem(i)
		}
		for i := range doc {
			doc[i] = elem(len(q) + i)
		}
		for _, m := range []Metric{Dot, Euclid, Manhattan} {
			want := maxSim64(m, q, doc, dim)
			for _, c := range cfgs {
				c.use(t)
				got := float64(m.Score(m.MaxSim(q, doc, dim)))
				require.InDelta(t, want, got, 1e-4*math.Max(1, math.Abs(want)), "%v %v dim %d q %d doc %d", m, c, dim, nq, nd)
			}
			setImpl(defaultImpl())
		}
	})
}
