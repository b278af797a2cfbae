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
