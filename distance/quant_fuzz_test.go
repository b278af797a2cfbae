package distance

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzQuantKernels reads the fuzzed bytes as two byte vectors, as two
// uint64 codes, and as a float32 query against a float16 and a uint8 row,
// and checks every configuration against the references of quant_test.go
// (exact for the integer kernels) and against the Go kernels. The second
// byte vector with its bytes halved (7-bit, as scalar codes) is a row of
// DotU7Gather, scored twice in one call.
func FuzzQuantKernels(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{255, 0})
	seed := make([]byte, 2*130)
	for i := range seed {
		seed[i] = byte(i * 37)
	}
	f.Add(seed)
	full := make([]byte, 2*200)
	for i := range full {
		full[i] = 255
	}
	f.Add(full)
	nan := make([]byte, 6*40)
	binary.LittleEndian.PutUint32(nan[4*3:], math.Float32bits(float32(math.NaN())))
	binary.LittleEndian.PutUint16(nan[4*40+2*5:], 0x7e00)
	f.Add(nan)

	cfgs := implConfigs()
	f.Fuzz(func(t *testing.T, data []byte) {
		n := len(data) / 2
		a, b := data[:n], data[n:2*n]
		dot, l2, l1 := refU8(a, b)
		b7 := make([]byte, n+1) // one spare byte: stride n+1
		for i := range n {
			b7[i] = b[i] >> 1
		}
		dot7, _, _ := refU8(a, b7[:n])
		ids7 := []uint32{0, 0}
		got7 := make([]uint32, 2)

		w := len(data) / 16
		x, y := make([]uint64, w), make([]uint64, w)
		for i := range x {
			x[i] = binary.LittleEndian.Uint64(data[8*i:])
			y[i] = binary.LittleEndian.Uint64(data[8*(w+i):])
		}
		xor := refPopcount(x, y, func(p, q uint64) uint64 { return p ^ q })

		m := len(data) / 6
		q := make([]float32, m)
		h := make([]uint16, m)
		wide := make([]float64, m)
		finite := true
		for i := range q {
			q[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			h[i] = binary.LittleEndian.Uint16(data[4*m+2*i:])
			wide[i] = float64(f16ToF32(h[i]))
			finite = finite && !math.IsNaN(float64(q[i])) && !math.IsInf(float64(q[i]), 0) && !math.IsNaN(wide[i]) && !math.IsInf(wide[i], 0)
		}
		row8 := data[4*m : 5*m]
		conv := make([]uint16, m)
		for _, c := range cfgs {
			c.use(t)
			if DotU8(a, b) != uint32(dot) || SquaredL2U8(a, b) != uint32(l2) || L1U8(a, b) != uint32(l1) {
				t.Fatalf("%v n=%d: byte kernels differ from the reference", c, n)
			}
			if n > 0 {
				DotU7Gather(got7, a, b7, n+1, ids7)
				if got7[0] != uint32(dot7) || got7[1] != uint32(dot7) {
					t.Fatalf("%v n=%d: DotU7Gather = %v, want %d", c, n, got7, dot7)
				}
			}
			if XorPopcount(x, y) != xor {
				t.Fatalf("%v w=%d: popcount differs", c, w)
			}
			F16FromF32(conv, q)
			for i := range q {
				if conv[i] != f32ToF16(q[i]) {
					t.Fatalf("%v: F16FromF32(%v) = %#04x, want %#04x", c, q[i], conv[i], f32ToF16(q[i]))
				}
			}
			if !finite {
				continue
			}
			for name, k := range map[string]func([]float32, []uint16) float32{"dot": DotF16, "l2": SquaredL2F16, "l1": L1F16} {
				exact, cond := narrowRefs[name](q, wide)
				if cond > math.MaxFloat32/2 {
					continue
				}
				if got := k(q, h); math.Abs(float64(got)-exact) > tolerance(m, cond) {
					t.Fatalf("%v %s f16 m=%d: got %v want %v", c, name, m, got, exact)
				}
			}
			w8 := make([]float64, m)
			for i := range w8 {
				w8[i] = float64(row8[i])
			}
			for name, k := range map[string]func([]float32, []byte) float32{"dot": DotU8F32, "l2": SquaredL2U8F32, "l1": L1U8F32} {
				exact, cond := narrowRefs[name](q, w8)
				if cond > math.MaxFloat32/2 {
					continue
				}
				if got := k(q, row8); math.Abs(float64(got)-exact) > tolerance(m, cond) {
					t.Fatalf("%v %s u8 m=%d: got %v want %v", c, name, m, got, exact)
				}
			}
		}
		setImpl(defaultImpl())
	})
}
