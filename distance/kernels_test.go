package distance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// testDims are the lengths checked beyond 0..300.
var testDims = []int{383, 384, 385, 511, 512, 513, 767, 768, 769, 783, 784, 785, 1023, 1024, 1536, 1537, 2047}

func testLengths() []int {
	ns := make([]int, 0, 301+len(testDims))
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	return append(ns, testDims...)
}

// kernelCase is one kernel with its float64 reference. ref returns the exact
// (float64) result and the condition sum: the sum of the absolute values of
// the terms, which bounds the rounding error of any summation order.
type kernelCase struct {
	name   string
	kernel func(a, b []float32) float32
	pure   func(a, b []float32) float32
	ref    func(a, b []float32) (exact, cond float64)
}

var kernelCases = []kernelCase{
	{"dot", DotProduct, dotGo, func(a, b []float32) (float64, float64) {
		var s, c float64
		for i := range a {
			t := float64(a[i]) * float64(b[i])
			s += t
			c += math.Abs(t)
		}
		return s, c
	}},
	{"l2", SquaredL2, l2Go, func(a, b []float32) (float64, float64) {
		var s float64
		for i := range a {
			d := float64(a[i]) - float64(b[i])
			s += d * d
		}
		return s, s
	}},
	{"l1", L1, l1Go, func(a, b []float32) (float64, float64) {
		var s float64
		for i := range a {
			s += math.Abs(float64(a[i]) - float64(b[i]))
		}
		return s, s
	}},
}

// implConfig is a kernel family together with the crossover used: "asm"
// configurations force assembly for every length, "auto" ones keep the
// production crossover.
type implConfig struct {
	k      impl
	allAsm bool
}

func (c implConfig) String() string {
	if c.k != implGo && c.allAsm {
		return c.k.String() + "-all"
	}
	return c.k.String()
}

// implConfigs lists the configurations this CPU can run.
func implConfigs() []implConfig {
	cs := []implConfig{{k: implGo}}
	for _, k := range []impl{implAVX2, implAVX512} {
		if supported(k) {
			cs = append(cs, implConfig{k: k}, implConfig{k: k, allAsm: true})
		}
	}
	return cs
}

// use switches to configuration c until the test ends.
func (c implConfig) use(tb testing.TB) {
	tb.Helper()
	setImpl(c.k)
	if c.allAsm {
		forceAsm()
	}
	tb.Cleanup(func() { setImpl(defaultImpl()) })
}

// forEachImpl runs f as a subtest under every configuration.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	for _, c := range implConfigs() {
		t.Run("impl="+c.String(), func(t *testing.T) {
			c.use(t)
			f(t)
		})
	}
}

const (
	eps32 = 1.0 / (1 << 23)
	// tinyAbs absorbs underflow: each product or square that falls below the
	// smallest normal float32 may lose up to one denormal ulp.
	denormUlp = 1.401298464324817e-45
)

// tolerance bounds the rounding error of a float32 sum of n terms with the
// given condition sum, whatever the summation order: the longest chain of
// additions in any of our kernels is n/4 (the pure-Go one), plus a few for
// the final reduction, plus one rounding per term.
func tolerance(n int, cond float64) float64 {
	return float64(n/4+16)*eps32*cond + float64(n+1)*4*denormUlp
}

// checkClose asserts got matches the float64 reference: the same infinity
// when the reference overflows float32, within tolerance otherwise.
func checkClose(t *testing.T, got float32, exact, cond float64, n int, msgAndArgs ...any) {
	t.Helper()
	want := float32(exact)
	if math.IsInf(float64(want), 0) {
		require.Equal(t, want, got, msgAndArgs...)
		return
	}
	require.False(t, math.IsNaN(float64(got)), msgAndArgs...)
	require.InDelta(t, exact, float64(got), tolerance(n, cond), msgAndArgs...)
}

func randSlice(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (r.Float32()*2 - 1) * scale
	}
	return v
}

func TestKernelsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	type pair struct{ a, b []float32 }
	var pairs []pair
	scales := []float32{1, 1e-3, 1e3}
	for i, n := range testLengths() {
		s := scales[i%len(scales)]
		pairs = append(pairs, pair{randSlice(r, n, s), randSlice(r, n, s)})
	}
	forEachImpl(t, func(t *testing.T) {
		for _, kc := range kernelCases {
			for _, p := range pairs {
				n := len(p.a)
				exact, cond := kc.ref(p.a, p.b)
				got := kc.kernel(p.a, p.b)
				checkClose(t, got, exact, cond, n, "%s n=%d", kc.name, n)
				// The pure-Go kernel is the fallback: it must agree too.
				checkClose(t, kc.pure(p.a, p.b), exact, cond, n, "%s pure n=%d", kc.name, n)
			}
		}
	})
}

// TestKernelsUnaligned runs the kernels on subslices starting at every offset
// of a 64-byte line, so that loads straddle lines and pages.
func TestKernelsUnaligned(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	bigA := randSlice(r, 4096, 1)
	bigB := randSlice(r, 4096, 1)
	forEachImpl(t, func(t *testing.T) {
		for _, kc := range kernelCases {
			for _, n := range []int{1, 7, 15, 16, 17, 31, 33, 100, 129, 784, 1536} {
				for offA := 0; offA < 16; offA++ {
					offB := (offA * 7) % 16
					a := bigA[offA : offA+n]
					b := bigB[offB : offB+n]
					exact, cond := kc.ref(a, b)
					checkClose(t, kc.kernel(a, b), exact, cond, n, "%s n=%d offsets %d,%d", kc.name, n, offA, offB)
				}
			}
		}
	})
}

// adversarialCase builds a pair of vectors of length n. Every case keeps all
// terms of a sum of the same sign whenever intermediate float32 overflow is
// possible, so the float64 reference predicts the float32 result whatever the
// summation order.
type adversarialCase struct {
	name    string
	kernels []string // kernel names the case applies to; nil for all
	gen     func(n int) (a, b []float32)
}

func fill(n int, f func(i int) float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = f(i)
	}
	return v
}

func alternating(x float32) func(i int) float32 {
	return func(i int) float32 {
		if i%2 == 1 {
			return -x
		}
		return x
	}
}

func constant(x float32) func(int) float32 { return func(int) float32 { return x } }

var adversarialCases = []adversarialCase{
	{"zeros", nil, func(n int) ([]float32, []float32) {
		return make([]float32, n), make([]float32, n)
	}},
	{"identical", []string{"l2", "l1"}, func(n int) ([]float32, []float32) {
		a := fill(n, func(i int) float32 { return float32(i)*0.37 - 11 })
		return a, append([]float32(nil), a...)
	}},
	{"negatives", nil, func(n int) ([]float32, []float32) {
		return fill(n, func(i int) float32 { return -float32(i%13) - 0.5 }),
			fill(n, func(i int) float32 { return -float32(i%7) - 0.25 })
	}},
	{"alternating-signs", nil, func(n int) ([]float32, []float32) {
		// Partial sums are small integers, so every order is exact.
		return fill(n, alternating(1)), fill(n, constant(1))
	}},
	{"alternating-both", nil, func(n int) ([]float32, []float32) {
		return fill(n, alternating(3)), fill(n, alternating(-2))
	}},
	{"huge-1e18", nil, func(n int) ([]float32, []float32) {
		// Squares reach 1e36; n <= 300 keeps every sum below MaxFloat32.
		return fill(n, alternating(1e18)), fill(n, func(i int) float32 { return float32(i%5) - 2 })
	}},
	{"huge-cancel", []string{"dot"}, func(n int) ([]float32, []float32) {
		// Products of +-1e36 that cancel in pairs; no order can overflow
		// because n <= 300 terms of 1e36 stay below MaxFloat32.
		return fill(n, constant(1e36)), fill(n, alternating(1))
	}},
	{"overflow-3e38", nil, func(n int) ([]float32, []float32) {
		// Every term is +Inf or overflows: the result is +Inf (n >= 1).
		return fill(n, constant(3e38)), fill(n, constant(3e38))
	}},
	{"overflow-mix", []string{"l2", "l1"}, func(n int) ([]float32, []float32) {
		// Differences of 6e38 overflow float32; mixed with small values.
		return fill(n, func(i int) float32 {
				if i%3 == 0 {
					return 3e38
				}
				return 1
			}), fill(n, func(i int) float32 {
				if i%3 == 0 {
					return -3e38
				}
				return -1
			})
	}},
	{"denormals", nil, func(n int) ([]float32, []float32) {
		return fill(n, func(i int) float32 { return float32(i%9+1) * 1e-40 }),
			fill(n, func(i int) float32 { return -float32(i%4+1) * 3e-41 })
	}},
	{"denormal-times-normal", nil, func(n int) ([]float32, []float32) {
		return fill(n, alternating(1e-39)), fill(n, constant(1e3))
	}},
	{"smallest-denormal", nil, func(n int) ([]float32, []float32) {
		return fill(n, constant(denormUlp)), fill(n, constant(-denormUlp))
	}},
}

func TestKernelsAdversarial(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, ac := range adversarialCases {
			for _, kc := range kernelCases {
				if ac.kernels != nil && !contains(ac.kernels, kc.name) {
					continue
				}
				for n := 0; n <= 300; n++ {
					a, b := ac.gen(n)
					exact, cond := kc.ref(a, b)
					checkClose(t, kc.kernel(a, b), exact, cond, n, "%s %s n=%d", ac.name, kc.name, n)
				}
			}
		}
	})
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// TestKernelsExact checks inputs whose every partial sum is exactly
// representable: all implementations must return the exact result.
func TestKernelsExact(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, n := range testLengths() {
			a := fill(n, func(i int) float32 { return float32(i%17) - 8 })
			b := fill(n, func(i int) float32 { return float32(i%11) - 5 })
			for _, kc := range kernelCases {
				exact, _ := kc.ref(a, b)
				require.Equal(t, float32(exact), kc.kernel(a, b), "%s n=%d", kc.name, n)
			}
		}
	})
}

func TestKernelsNaN(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{1, 5, 16, 33, 100, 784} {
			for _, pos := range []int{0, n / 2, n - 1} {
				a := fill(n, constant(1))
				b := fill(n, constant(2))
				a[pos] = float32(math.NaN())
				for _, kc := range kernelCases {
					got := kc.kernel(a, b)
					require.True(t, math.IsNaN(float64(got)), "%s n=%d pos=%d got %v", kc.name, n, pos, got)
				}
			}
		}
	})
}

// TestKernelsLengths pins down the length contract: len(a) elements are read,
// a longer b is fine, a shorter b panics.
func TestKernelsLengths(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, kc := range kernelCases {
			for _, n := range []int{0, 1, 11, 12, 100} {
				a := fill(n, constant(1))
				b := fill(n+5, constant(2))
				exact, cond := kc.ref(a, b[:n])
				checkClose(t, kc.kernel(a, b), exact, cond, n, "%s n=%d", kc.name, n)
				if n > 0 {
					requireBug(t, func() { kc.kernel(a, b[:n-1]) }, "%s n=%d", kc.name, n)
				}
			}
		}
	})
}

// TestImplsAgree compares the families directly against each other on the
// same inputs (beyond each matching the reference).
func TestImplsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	cfgs := implConfigs()
	for _, n := range []int{12, 13, 63, 64, 65, 100, 128, 784, 1536} {
		a, b := randSlice(r, n, 1), randSlice(r, n, 1)
		for _, kc := range kernelCases {
			results := map[string]float32{}
			for _, c := range cfgs {
				c.use(t)
				results[c.String()] = kc.kernel(a, b)
			}
			setImpl(defaultImpl())
			exact, cond := kc.ref(a, b)
			for name, got := range results {
				require.InDelta(t, exact, float64(got), tolerance(n, cond), "%s %s n=%d", kc.name, name, n)
			}
		}
	}
}

func TestImplSelection(t *testing.T) {
	require.True(t, supported(implGo))
	best := bestImpl()
	require.True(t, supported(best))

	tests := []struct {
		best impl
		env  string
		want impl
	}{
		{implAVX512, "", implAVX512},
		{implAVX512, "avx2", implAVX2},
		{implAVX512, "PureGo", implGo},
		{implAVX512, " avx512 ", implAVX512},
		{implAVX2, "avx512", implAVX2}, // never above what the CPU has
		{implAVX2, "sse", implAVX2},    // unknown names are ignored
		{implGo, "avx2", implGo},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, capImpl(tt.best, tt.env), "%v %q", tt.best, tt.env)
	}
	require.Equal(t, capImpl(best, os.Getenv(envImpl)), defaultImpl())

	prev := setImpl(implGo)
	require.Equal(t, "purego", Kernels())
	require.Equal(t, math.MaxInt, asmMin)
	require.Equal(t, math.MaxInt, avx512Min)
	setImpl(prev)
	setImpl(defaultImpl())
	require.Equal(t, defaultImpl().String(), Kernels())

	for _, k := range []impl{implAVX2, implAVX512} {
		if !supported(k) {
			require.Panics(t, func() { setImpl(k) })
		}
	}
}

// gatherFuncs pairs each gather and batch form with its single kernel.
var gatherFuncs = []struct {
	name   string
	single func(a, b []float32) float32
	gather func(dst, q, base []float32, dim int, ids []uint32)
	batch  func(dst, q, base []float32, dim int)
}{
	{"dot", DotProduct, DotGather, DotBatch},
	{"l2", SquaredL2, SquaredL2Gather, SquaredL2Batch},
	{"l1", L1, L1Gather, L1Batch},
}

func gatherDims() []int {
	ds := make([]int, 0, 64)
	for d := 1; d <= 70; d++ {
		ds = append(ds, d)
	}
	return append(ds, 100, 127, 128, 129, 255, 384, 784, 1536)
}

// TestGatherBatchExact checks that every gather and batch result is
// bit-identical to the single-pair kernel on the same row.
func TestGatherBatchExact(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	const rows = 40
	type input struct {
		dim  int
		q    []float32
		base []float32
		ids  []uint32
	}
	var inputs []input
	for _, dim := range gatherDims() {
		ids := make([]uint32, 0, 40)
		ids = append(ids, 0, rows-1, 3, 3, rows-1) // edges and repeats
		for len(ids) < 37 {
			ids = append(ids, uint32(r.IntN(rows)))
		}
		inputs = append(inputs, input{dim, randSlice(r, dim, 1), randSlice(r, rows*dim, 1), ids})
	}
	forEachImpl(t, func(t *testing.T) {
		for _, gf := range gatherFuncs {
			for _, in := range inputs {
				for _, nIDs := range []int{0, 1, 2, 3, 16, len(in.ids)} {
					ids := in.ids[:nIDs]
					dst := fill(nIDs+2, constant(-7))
					gf.gather(dst, in.q, in.base, in.dim, ids)
					for i, id := range ids {
						row := in.base[int(id)*in.dim : int(id+1)*in.dim]
						want := gf.single(in.q, row)
						require.Equal(t, math.Float32bits(want), math.Float32bits(dst[i]),
							"%s gather dim=%d i=%d id=%d: %v != %v", gf.name, in.dim, i, id, dst[i], want)
					}
					require.Equal(t, []float32{-7, -7}, dst[nIDs:], "gather wrote past len(ids)")
				}
				for _, nRows := range []int{0, 1, 2, rows} {
					base := in.base[:nRows*in.dim]
					dst := fill(nRows+2, constant(-7))
					gf.batch(dst, in.q, base, in.dim)
					for i := 0; i < nRows; i++ {
						want := gf.single(in.q, base[i*in.dim:(i+1)*in.dim])
						require.Equal(t, math.Float32bits(want), math.Float32bits(dst[i]),
							"%s batch dim=%d row=%d", gf.name, in.dim, i)
					}
					require.Equal(t, []float32{-7, -7}, dst[nRows:], "batch wrote past the rows")
				}
			}
		}
	})
}

// TestGatherUnaligned uses a base and query that start off any line boundary.
func TestGatherUnaligned(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	forEachImpl(t, func(t *testing.T) {
		for _, dim := range []int{13, 100, 784} {
			big := randSlice(r, 20*dim+8, 1)
			bigQ := randSlice(r, dim+8, 1)
			for off := 0; off < 4; off++ {
				base := big[off : off+20*dim]
				q := bigQ[3-off : 3-off+dim]
				ids := []uint32{19, 0, 7, 7, 12}
				for _, gf := range gatherFuncs {
					dst := make([]float32, len(ids))
					gf.gather(dst, q, base, dim, ids)
					for i, id := range ids {
						require.Equal(t, gf.single(q, base[int(id)*dim:int(id+1)*dim]), dst[i])
					}
				}
			}
		}
	})
}

func TestGatherZeroDim(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, gf := range gatherFuncs {
			dst := fill(3, constant(-1))
			gf.gather(dst, nil, nil, 0, []uint32{0, 5, 1 << 31})
			require.Equal(t, []float32{0, 0, 0}, dst)
		}
	})
}

func requireBug(t *testing.T, f func(), msgAndArgs ...any) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		require.NotNil(t, v, msgAndArgs...)
		require.Contains(t, fmt.Sprint(v), "distance: BUG", msgAndArgs...)
	}()
	f()
}

func TestGatherBatchContract(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		const dim, rows = 16, 10
		base := make([]float32, rows*dim)
		q := make([]float32, dim)
		dst := make([]float32, 4)
		for _, gf := range gatherFuncs {
			// In contract.
			gf.gather(dst, q, base, dim, []uint32{rows - 1, 0})
			gf.batch(make([]float32, rows), q, base, dim)

			requireBug(t, func() { gf.gather(dst, q, base, dim, []uint32{0, rows}) }, "id past the end")
			requireBug(t, func() { gf.gather(dst, q, base, dim, []uint32{math.MaxUint32}) }, "huge id")
			requireBug(t, func() { gf.gather(dst, q, base[:rows*dim-1], dim, []uint32{rows - 1}) }, "short last row")
			requireBug(t, func() { gf.gather(dst, q[:dim-1], base, dim, []uint32{1}) }, "short query")
			requireBug(t, func() { gf.gather(dst, append(q, 0), base, dim, []uint32{1}) }, "long query")
			requireBug(t, func() { gf.gather(dst[:1], q, base, dim, []uint32{1, 2}) }, "short dst")
			requireBug(t, func() { gf.gather(dst, nil, base, -1, []uint32{1}) }, "negative dim")

			requireBug(t, func() { gf.batch(make([]float32, rows-1), q, base, dim) }, "short dst")
			requireBug(t, func() { gf.batch(make([]float32, rows), q, base[:rows*dim-1], dim) }, "ragged base")
			requireBug(t, func() { gf.batch(make([]float32, rows), q[:dim-1], base, dim) }, "short query")
			requireBug(t, func() { gf.batch(make([]float32, rows), nil, nil, 0) }, "zero dim")
		}
	})
}

// TestZeroAllocs proves that no kernel, gather or batch form allocates.
func TestZeroAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	const dim, rows = 784, 64
	q := randSlice(r, dim, 1)
	base := randSlice(r, rows*dim, 1)
	ids := []uint32{5, 9, 63, 0, 17, 17, 2, 40, 33, 1, 8, 61, 12, 50, 31, 22}
	dst := make([]float32, rows)
	pre := make([]float32, dim)
	short := q[:5]
	forEachImpl(t, func(t *testing.T) {
		for _, gf := range gatherFuncs {
			require.Zero(t, testing.AllocsPerRun(50, func() { benchSink = gf.single(q, base[:dim]) }), gf.name)
			require.Zero(t, testing.AllocsPerRun(50, func() { benchSink = gf.single(short, short) }), gf.name)
			require.Zero(t, testing.AllocsPerRun(50, func() { gf.gather(dst, q, base, dim, ids) }), gf.name)
			require.Zero(t, testing.AllocsPerRun(50, func() { gf.gather(dst, short, base, 5, ids) }), gf.name)
			require.Zero(t, testing.AllocsPerRun(50, func() { gf.batch(dst, q, base, dim) }), gf.name)
		}
		for _, m := range []Metric{Cosine, Dot, Euclid, Manhattan} {
			f := m.Func()
			require.Zero(t, testing.AllocsPerRun(50, func() { benchSink = m.Distance(q, base[:dim]) }), m.String())
			require.Zero(t, testing.AllocsPerRun(50, func() { benchSink = f(q, base[:dim]) }), m.String())
			require.Zero(t, testing.AllocsPerRun(50, func() { m.Gather(dst, q, base, dim, ids) }), m.String())
			require.Zero(t, testing.AllocsPerRun(50, func() { m.Batch(dst, q, base, dim) }), m.String())
			require.Zero(t, testing.AllocsPerRun(50, func() { pre = m.Preprocess(pre, q) }), m.String())
		}
	})
}

// TestDispatch checks that, under the AVX-512 family, lengths below
// avx512Crossover run the AVX2 kernels and longer ones the AVX-512 kernels
// (the results are compared bit for bit with each forced flavour).
func TestDispatch(t *testing.T) {
	if !supported(implAVX512) {
		t.Skip("CPU lacks AVX-512")
	}
	r := rand.New(rand.NewPCG(13, 13))
	defer setImpl(defaultImpl())
	for _, n := range []int{asmCrossover, 31, 32, 63, 64, 65, 100, 784} {
		a, b := randSlice(r, n, 1), randSlice(r, n, 1)
		for _, kc := range kernelCases {
			setImpl(implAVX2)
			forceAsm()
			avx2 := kc.kernel(a, b)
			setImpl(implAVX512)
			forceAsm()
			avx512 := kc.kernel(a, b)
			setImpl(implAVX512)
			got := kc.kernel(a, b)
			want := avx512
			if n < avx512Crossover {
				want = avx2
			}
			require.Equal(t, math.Float32bits(want), math.Float32bits(got), "%s n=%d", kc.name, n)
		}
	}
	setImpl(implAVX512)
	require.Equal(t, asmCrossover, asmMin)
	require.Equal(t, avx512Crossover, avx512Min)
}

func TestMakeAligned(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 100, 784, 60000} {
		v := MakeAligned(n)
		require.Len(t, v, n)
		require.Equal(t, n, cap(v))
		if n > 0 {
			require.Zero(t, uintptr(unsafe.Pointer(&v[0]))%Alignment, "n=%d", n)
		}
		for _, x := range v {
			require.Zero(t, x)
		}
	}
}
