package distance

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzKernels interprets the fuzzed bytes as two float32 vectors and checks
// every kernel family against the pure-Go kernels and the float64 reference.
func FuzzKernels(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 8))
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64}) // [1], [2]
	seed := make([]byte, 8*100)
	for i := 0; i < len(seed)/4; i++ {
		binary.LittleEndian.PutUint32(seed[4*i:], math.Float32bits(float32(i%13)-6.5))
	}
	f.Add(seed)
	nan := make([]byte, 8*20)
	binary.LittleEndian.PutUint32(nan[4*7:], math.Float32bits(float32(math.NaN())))
	f.Add(nan)
	inf := make([]byte, 8*20)
	binary.LittleEndian.PutUint32(inf[4*33:], math.Float32bits(float32(math.Inf(-1))))
	f.Add(inf)
	den := make([]byte, 8*40)
	for i := 0; i < len(den)/4; i++ {
		binary.LittleEndian.PutUint32(den[4*i:], uint32(i*7919)&0x807fffff) // denormals, both signs
	}
	f.Add(den)

	cfgs := implConfigs()
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 8
		a := make([]float32, n)
		b := make([]float32, n)
		for i := range a {
			a[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			b[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(n+i):]))
		}
		hasNaN := false
		for i := range a {
			hasNaN = hasNaN || a[i] != a[i] || b[i] != b[i]
		}
		for _, kc := range kernelCases {
			exact, cond := kc.ref(a, b)
			pure := kc.pure(a, b)
			for _, c := range cfgs {
				c.use(t)
				got := kc.kernel(a, b)
				switch {
				case hasNaN:
					if got == got {
						t.Fatalf("%s %v n=%d: NaN input gave %v", kc.name, c, n, got)
					}
				case cond <= math.MaxFloat32 && !math.IsInf(cond, 0) && !math.IsNaN(cond):
					// No order of summation can overflow: both results
					// must be close to the reference.
					tol := tolerance(n, cond)
					if math.Abs(float64(got)-exact) > tol || math.Abs(float64(pure)-exact) > tol {
						t.Fatalf("%s %v n=%d: got %v, pure %v, want %v ± %v", kc.name, c, n, got, pure, exact, tol)
					}
				}
				// Otherwise terms overflow or are infinite and the result
				// depends on the order; it only must not crash.
			}
			setImpl(defaultImpl())
		}
	})
}

// FuzzChunksBelow interprets the fuzzed bytes as a bound, a query and
// three rows of finite float32s and checks the bounded chunk forms under
// every kernel family: a distance below the bound bit-identical to the
// full chunk form, any other reported at least the bound and at most the
// distance.
func FuzzChunksBelow(f *testing.F) {
	seed := make([]byte, 4+4*4*100)
	binary.LittleEndian.PutUint32(seed, math.Float32bits(500))
	for i := 1; i < len(seed)/4; i++ {
		binary.LittleEndian.PutUint32(seed[4*i:], math.Float32bits(float32(i%7)-3))
	}
	f.Add(seed)
	f.Add(seed[:4+4*4*64])
	cfgs := implConfigs()
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 4 {
			return
		}
		bound := math.Float32frombits(binary.LittleEndian.Uint32(data))
		data = data[4:]
		dim := len(data) / 16
		vals := make([]float32, 4*dim)
		for i := range vals {
			v := math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return
			}
			vals[i] = v
		}
		q, rows := vals[:dim], [][]float32{vals[dim:]}
		ids := []uint32{0, 1, 2, 1}
		for _, c := range cfgs {
			c.use(t)
			for _, m := range []Metric{Euclid, Manhattan} {
				full := make([]float32, len(ids))
				got := make([]float32, len(ids))
				m.GatherChunks(full, q, rows, 2, ids)
				m.GatherChunksBelow(got, q, rows, 2, ids, bound)
				for i := range ids {
					if full[i] < bound || bound != bound {
						if math.Float32bits(full[i]) != math.Float32bits(got[i]) {
							t.Fatalf("%v %v dim=%d bound=%v row %d: %v, want %v", m, c, dim, bound, i, got[i], full[i])
						}
					} else if got[i] < bound || got[i] > full[i] {
						t.Fatalf("%v %v dim=%d bound=%v row %d: %v, want in [bound, %v]", m, c, dim, bound, i, got[i], full[i])
					}
				}
			}
		}
		setImpl(defaultImpl())
	})
}
