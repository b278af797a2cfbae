package distance

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The quantised kernels are checked against references computed from their
// definitions (exact integers, or float64 with the rounding bound of the
// float32 kernels) under every configuration this CPU runs, over every
// length 0..300 and the long testDims, at 0..3 elements of misalignment.

func randBytes(r *rand.Rand, n int, max int) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(r.IntN(max + 1))
	}
	return v
}

// offsetCopy returns a copy of v starting off elements into a fresh buffer.
func offsetCopy[T any](v []T, off int) []T {
	buf := make([]T, len(v)+off)
	copy(buf[off:], v)
	return buf[off : off+len(v) : off+len(v)]
}

func refU8(a, b []byte) (dot, l2, l1 uint64) {
	for i := range a {
		x, y := int64(a[i]), int64(b[i])
		dot += uint64(x * y)
		l2 += uint64((x - y) * (x - y))
		if x > y {
			l1 += uint64(x - y)
		} else {
			l1 += uint64(y - x)
		}
	}
	return
}

func TestU8Kernels(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 7))
		for _, n := range testLengths() {
			for _, max := range []int{127, 255} {
				off := n % 4
				a := offsetCopy(randBytes(r, n, max), off)
				b := offsetCopy(randBytes(r, n, max), 3-off)
				dot, l2, l1 := refU8(a, b)
				require.Equal(t, uint32(dot), DotU8(a, b), "dot n=%d", n)
				require.Equal(t, uint32(l2), SquaredL2U8(a, b), "l2 n=%d", n)
				require.Equal(t, uint32(l1), L1U8(a, b), "l1 n=%d", n)
			}
		}
	})
}

// TestU8KernelsExtremes checks exactness where the sums are largest: 65536
// elements, Qdrant's largest dimension, at 255 against 255 and 0.
func TestU8KernelsExtremes(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, n := range []int{65536, 65536 - 1, 65536 - 33} {
			full, zero := make([]byte, n), make([]byte, n)
			for i := range full {
				full[i] = 255
			}
			require.Equal(t, uint32(n*255*255), DotU8(full, full))
			require.Equal(t, uint32(n*255*255), SquaredL2U8(full, zero))
			require.Equal(t, uint32(n*255*255), SquaredL2U8(zero, full))
			require.Equal(t, uint32(n*255), L1U8(zero, full))
			require.Equal(t, uint32(0), DotU8(zero, full))
		}
	})
}

type narrowRef func(q []float32, row []float64) (exact, cond float64)

var narrowRefs = map[string]narrowRef{
	"dot": func(q []float32, row []float64) (float64, float64) {
		var s, c float64
		for i := range q {
			t := float64(q[i]) * row[i]
			s += t
			c += math.Abs(t)
		}
		return s, c
	},
	"l2": func(q []float32, row []float64) (float64, float64) {
		var s float64
		for i := range q {
			d := float64(q[i]) - row[i]
			s += d * d
		}
		return s, s
	},
	"l1": func(q []float32, row []float64) (float64, float64) {
		var s float64
		for i := range q {
			s += math.Abs(float64(q[i]) - row[i])
		}
		return s, s
	},
}

func TestF16Kernels(t *testing.T) {
	kernels := map[string]func([]float32, []uint16) float32{"dot": DotF16, "l2": SquaredL2F16, "l1": L1F16}
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(8, 8))
		for _, n := range testLengths() {
			q := offsetCopy(randSlice(r, n, 4), n%4)
			row := make([]uint16, n)
			wide := make([]float64, n)
			for i := range row {
				row[i] = f32ToF16((r.Float32()*2 - 1) * 4)
				wide[i] = float64(f16ToF32(row[i]))
			}
			row = offsetCopy(row, 3-n%4)
			for name, k := range kernels {
				exact, cond := narrowRefs[name](q, wide)
				checkClose(t, k(q, row), exact, cond, n, "%s n=%d", name, n)
			}
		}
	})
}

func TestU8F32Kernels(t *testing.T) {
	kernels := map[string]func([]float32, []byte) float32{"dot": DotU8F32, "l2": SquaredL2U8F32, "l1": L1U8F32}
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 9))
		for _, n := range testLengths() {
			q := offsetCopy(randSlice(r, n, 255), n%4)
			row := offsetCopy(randBytes(r, n, 255), 3-n%4)
			wide := make([]float64, n)
			for i := range row {
				wide[i] = float64(row[i])
			}
			for name, k := range kernels {
				exact, cond := narrowRefs[name](q, wide)
				checkClose(t, k(q, row), exact, cond, n, "%s n=%d", name, n)
			}
		}
	})
}

// TestF16Widen checks every float16 against its value computed from the
// format's definition, through the Go and the assembly paths.
func TestF16Widen(t *testing.T) {
	all := make([]uint16, 1<<16)
	for i := range all {
		all[i] = uint16(i)
	}
	forEachImpl(t, func(t *testing.T) {
		got := make([]float32, len(all))
		F32FromF16(got, all)
		for i, h := range all {
			sign := 1.0
			if h&0x8000 != 0 {
				sign = -1
			}
			e, m := int(h>>10&0x1f), float64(h&0x3ff)
			var want float64
			switch {
			case e == 0x1f && m != 0:
				require.True(t, got[i] != got[i], "h=%#04x", h)
				require.Equal(t, math.Float32bits(f16ToF32(h)), math.Float32bits(got[i])) // NaN bits as the Go path
				require.Equal(t, uint32(0x7fc00000|uint32(h&0x3ff)<<13|uint32(h&0x8000)<<16), math.Float32bits(got[i]))
				continue
			case e == 0x1f:
				want = math.Inf(int(sign))
			case e == 0:
				want = sign * m * math.Pow(2, -24)
			default:
				want = sign * (1 + m/1024) * math.Pow(2, float64(e-15))
			}
			require.Equal(t, math.Float64bits(want), math.Float64bits(float64(got[i])), "h=%#04x", h)
		}
	})
}

// TestF16Narrow checks rounding to float16 against its definition: the
// result is a nearest float16 (ties to the even one), overflow is infinity.
func TestF16Narrow(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	src := make([]float32, 0, 1<<17)
	// Every float16 and the midpoints between neighbours, both signs.
	for h := range uint32(0x7c00) {
		a := float64(f16ToF32(uint16(h)))
		b := float64(f16ToF32(uint16(h + 1)))
		src = append(src, float32(a), float32((a+b)/2), -float32((a+b)/2))
	}
	for range 1 << 16 {
		src = append(src, math.Float32frombits(r.Uint32()))
	}
	src = append(src, 65504, 65519.99, 65520, -65520, float32(math.Inf(1)), float32(math.NaN()), 1e-8, 2.98e-8, 2.99e-8, -0)
	forEachImpl(t, func(t *testing.T) {
		got := make([]uint16, len(src))
		F16FromF32(got, src)
		for i, f := range src {
			h := got[i]
			require.Equal(t, f32ToF16(f), h, "Go and kernel differ for %v (%#08x)", f, math.Float32bits(f))
			if f != f {
				require.True(t, h&0x7c00 == 0x7c00 && h&0x3ff != 0, "NaN %#08x gave %#04x", math.Float32bits(f), h)
				continue
			}
			require.Equal(t, math.Signbit(float64(f)), h&0x8000 != 0, "sign of %v", f)
			x := math.Abs(float64(f))
			mag := h & 0x7fff
			if x >= 65520 { // (65504 + 65536) / 2 rounds up to infinity
				require.Equal(t, uint16(0x7c00), mag, "%v", f)
				continue
			}
			got := float64(f16ToF32(mag))
			d := math.Abs(got - x)
			for _, nb := range []uint16{mag - 1, mag + 1} {
				if mag == 0 && nb == 0xffff || nb >= 0x7c00 {
					continue
				}
				dn := math.Abs(float64(f16ToF32(nb)) - x)
				require.True(t, d < dn || (d == dn && mag&1 == 0), "%v rounded to %v, neighbour %v is nearer or even", f, got, f16ToF32(nb))
			}
		}
	})
}

func TestU8FromF32(t *testing.T) {
	f := func(in []float32, want []byte) {
		t.Helper()
		got := make([]byte, len(in))
		U8FromF32(got, in)
		require.Equal(t, want, got)
	}
	nan := float32(math.NaN())
	f([]float32{1.7, -2, 300}, []byte{1, 0, 255})
	f([]float32{0, 0.99, 254.99, 255, 255.5, -0.5, nan, float32(math.Inf(1)), float32(math.Inf(-1))}, []byte{0, 0, 254, 255, 255, 0, 0, 255, 0})
}

func refPopcount(a, b []uint64, op func(x, y uint64) uint64) uint32 {
	var s uint32
	for i := range a {
		x := op(a[i], b[i])
		for j := range 64 {
			s += uint32(x >> j & 1)
		}
	}
	return s
}

func TestPopcountKernels(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 11))
		for n := range 200 {
			a, b := make([]uint64, n), make([]uint64, n)
			for i := range a {
				a[i], b[i] = r.Uint64(), r.Uint64()
			}
			a, b = offsetCopy(a, n%3), offsetCopy(b, 2-n%3)
			require.Equal(t, refPopcount(a, b, func(x, y uint64) uint64 { return x ^ y }), XorPopcount(a, b), "n=%d", n)
			require.Equal(t, refPopcount(a, b, func(x, y uint64) uint64 { return x & y }), AndPopcount(a, b), "n=%d", n)
		}
	})
}

// TestXorPopcountPlanes builds a query of small integers and a binary code
// per position, packs them, and checks the kernel against the sum over
// positions of the query value XOR the code bit replicated over the planes.
func TestXorPopcountPlanes(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(12, 12))
		for _, planes := range []int{1, 2, 3, 4, 8} {
			for words := range 40 {
				n := words * 64
				vals := make([]uint32, n)
				codeBits := make([]bool, n)
				v := make([]uint64, words)
				q := make([]uint64, words*planes)
				var want uint32
				all := uint32(1)<<planes - 1
				for i := range n {
					vals[i] = uint32(r.IntN(int(all) + 1))
					codeBits[i] = r.IntN(2) == 1
					w, bit := i/64, uint(i%64)
					if codeBits[i] {
						v[w] |= 1 << bit
						want += vals[i] ^ all
					} else {
						want += vals[i]
					}
					for p := range planes {
						q[w*planes+p] |= uint64(vals[i]>>p&1) << bit
					}
				}
				require.Equal(t, want, XorPopcountPlanes(v, q, planes), "planes=%d words=%d", planes, words)
			}
		}
	})
}

func TestPQKernels(t *testing.T) {
	forEachImpl(t, testPQKernels)
}

func testPQKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for _, m := range []int{1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 49, 196} {
		lut := randSlice(r, m*256, 10)
		rows := 50
		codes := randBytes(r, rows*m, 255)
		ids := make([]uint32, 30)
		for i := range ids {
			ids[i] = uint32(r.IntN(rows))
		}
		dst := make([]float32, len(ids))
		PQGather(dst, lut, codes, m, ids)
		for i, id := range ids {
			var s, c float64
			for j := range m {
				x := float64(lut[j*256+int(codes[int(id)*m+j])])
				s += x
				c += math.Abs(x)
			}
			checkClose(t, dst[i], s, c, m)
			require.Equal(t, dst[i], PQScore(lut, codes[int(id)*m:int(id)*m+m]))
		}
	}
	require.Panics(t, func() { PQGather(make([]float32, 1), make([]float32, 256), make([]byte, 4), 1, []uint32{4}) })
}

func TestQuantKernelsShortOperand(t *testing.T) {
	require.Panics(t, func() { DotU8(make([]byte, 20), make([]byte, 19)) })
	require.Panics(t, func() { DotF16(make([]float32, 20), make([]uint16, 19)) })
	require.Panics(t, func() { XorPopcount(make([]uint64, 2), make([]uint64, 1)) })
	require.Panics(t, func() { XorPopcountPlanes(make([]uint64, 2), make([]uint64, 7), 4) })
	require.Panics(t, func() { F16FromF32(make([]uint16, 1), make([]float32, 2)) })
}

func TestQuantKernelsNoAllocs(t *testing.T) {
	a, b := make([]byte, 784), make([]byte, 784)
	q, h := make([]float32, 784), make([]uint16, 784)
	w := make([]uint64, 13)
	if n := testing.AllocsPerRun(50, func() {
		DotU8(a, b)
		SquaredL2F16(q, h)
		DotU8F32(q, a)
		XorPopcount(w, w)
		F16FromF32(h, q)
	}); n != 0 {
		t.Fatalf("%v allocations", n)
	}
	_ = bits.OnesCount64
}

// TestConversionsAsQdrant holds what Qdrant 1.17.1 stored and returned for
// these values in a uint8 and a float16 collection (upsert, then retrieve
// with_vector); 65520 came back as null, an infinity.
func TestConversionsAsQdrant(t *testing.T) {
	u := make([]byte, 12)
	U8FromF32(u, []float32{1.7, -2, 300, 0.5, 254.99, 255.5, -0.7, 2.5, 3.5, 128.49, -300, 1e10})
	require.Equal(t, []byte{1, 0, 255, 0, 254, 255, 0, 2, 3, 128, 0, 255}, u)

	in := []float32{0.1, 65519, 65520, 1e-8, 3e-8, 1.00048828125}
	want := []float32{0.099975586, 65504, float32(math.Inf(1)), 0, 5.9604645e-8, 1}
	forEachImpl(t, func(t *testing.T) {
		h := make([]uint16, len(in))
		F16FromF32(h, in)
		got := make([]float32, len(h))
		F32FromF16(got, h)
		require.Equal(t, want, got)
	})
}

func TestNarrowGather(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14))
	for _, dim := range []int{1, 7, 16, 100, 784} {
		const n = 50
		q := randSlice(r, dim, 2)
		f := randSlice(r, n*dim, 2)
		h := make([]uint16, n*dim)
		F16FromF32(h, f)
		u := randBytes(r, n*dim, 255)
		ids := []uint32{3, 0, 49, 3, 17, 22}
		dst := make([]float32, len(ids))
		for _, m := range []Metric{Cosine, Dot, Euclid, Manhattan} {
			m.GatherF16(dst, q, h, dim, ids)
			for i, id := range ids {
				require.Equal(t, f16Kernel(m)(q, h[int(id)*dim:][:dim]), dst[i])
			}
			m.GatherU8(dst, q, u, dim, ids)
			for i, id := range ids {
				require.Equal(t, u8Kernel(m)(q, u[int(id)*dim:][:dim]), dst[i])
			}
			require.Panics(t, func() { m.GatherU8(dst, q, u, dim, []uint32{n}) })
			require.Panics(t, func() { m.GatherF16(dst, q[:dim-1], h, dim, ids) })
		}
		require.Equal(t, 1-DotF16(q, h[:dim]), func() float32 { Dot.GatherF16(dst, q, h, dim, []uint32{0}); return dst[0] }())
	}
}

func TestU8Gather(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 15))
		for _, dim := range []int{1, 15, 16, 63, 64, 65, 128, 200, 784} {
			const n = 40
			stride := dim + dim%5
			rows := randBytes(r, n*stride, 255)
			q := randBytes(r, dim, 255)
			ids := []uint32{0, 39, 5, 5, 12, 1, 38, 20}
			dst := make([]uint32, len(ids))
			for name, k := range map[string]struct {
				g func([]uint32, []byte, []byte, int, []uint32)
				p func(a, b []byte) uint32
			}{"dot": {DotU8Gather, DotU8}, "l2": {SquaredL2U8Gather, SquaredL2U8}, "l1": {L1U8Gather, L1U8}} {
				for m := 0; m <= len(ids); m++ {
					clear(dst)
					k.g(dst, q, rows, stride, ids[:m])
					for i, id := range ids[:m] {
						require.Equal(t, k.p(q, rows[int(id)*stride:][:dim]), dst[i], "%s dim=%d", name, dim)
					}
				}
				require.Panics(t, func() { k.g(dst, q, rows, stride, []uint32{n}) })
				require.Panics(t, func() { k.g(dst, q, rows[:(n-1)*stride+dim-1], stride, []uint32{n - 1}) })
			}
		}
	})
}

// TestDotU7Gather checks the 7-bit-row dot gather against a float64 sum of
// products, for lengths around each of the kernel's loop widths and for the
// largest sums a row of 127s gives.
func TestDotU7Gather(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(17, 17))
		for _, dim := range []int{1, 15, 16, 63, 64, 65, 127, 128, 255, 256, 257, 320, 784, 1000, 4099} {
			const n = 24
			stride := dim + 4
			rows := randBytes(r, n*stride, 127)
			for i := range dim {
				rows[3*stride+i] = 127 // the largest row
			}
			q := randBytes(r, dim, 255)
			ids := []uint32{3, 0, 23, 5, 5, 12, 1, 3, 20}
			dst := make([]uint32, len(ids))
			for m := 0; m <= len(ids); m++ {
				clear(dst)
				DotU7Gather(dst, q, rows, stride, ids[:m])
				for i, id := range ids[:m] {
					var want float64
					for j := range dim {
						want += float64(q[j]) * float64(rows[int(id)*stride+j])
					}
					require.Equal(t, want, float64(dst[i]), "dim=%d id=%d", dim, id)
				}
			}
			require.Panics(t, func() { DotU7Gather(dst, q, rows, stride, []uint32{n}) })
			require.Panics(t, func() { DotU7Gather(dst, q, rows, dim-1, ids) })
		}
	})
}

func TestXorPopcountGather(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(16, 16))
		for _, words := range []int{1, 2, 7, 8, 9, 13, 16, 17, 70} {
			const n = 30
			stride := 8*words + 8*(words%3)
			rows := make([]byte, n*stride+8)
			rows = rows[:n*stride]
			for i := range rows {
				rows[i] = byte(r.Uint32())
			}
			q := make([]uint64, words)
			for i := range q {
				q[i] = r.Uint64()
			}
			ids := []uint32{29, 0, 3, 3, 17, 28, 1}
			dst := make([]uint32, len(ids))
			for m := 0; m <= len(ids); m++ {
				clear(dst)
				XorPopcountGather(dst, q, rows, stride, ids[:m])
				for i, id := range ids[:m] {
					w := make([]uint64, words)
					for k := range w {
						w[k] = binary.LittleEndian.Uint64(rows[int(id)*stride+8*k:])
					}
					require.Equal(t, refPopcount(q, w, func(x, y uint64) uint64 { return x ^ y }), dst[i], "words=%d", words)
				}
			}
			require.Panics(t, func() { XorPopcountGather(dst, q, rows, stride, []uint32{n}) })
		}
	})
}

// TestLUTTerms checks LUTTerms against the terms computed in float64 and
// rounded as the contract says (each term to float32, then the sum), which
// every implementation must match bit for bit, over lengths around the
// vector width and three columns accumulated in turn.
func TestLUTTerms(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(19, 19))
		for _, m := range []Metric{Euclid, Manhattan, Dot, Cosine} {
			for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 255, 256, 300} {
				dst, want := make([]float32, n), make([]float32, n)
				for range 3 {
					col := randVec(r, n+r.IntN(3))
					x := float32(r.NormFloat64())
					LUTTerms(m, dst, col, x)
					for i := range want {
						var term float64
						switch m {
						case Euclid:
							d := float64(x - col[i])
							term = d * d
						case Manhattan:
							term = math.Abs(float64(x - col[i]))
						default:
							term = -float64(x) * float64(col[i])
						}
						want[i] += float32(term)
					}
				}
				require.Equal(t, want, dst, "%v n=%d", m, n)
			}
		}
		require.Panics(t, func() { LUTTerms(Euclid, make([]float32, 4), make([]float32, 3), 1) })
	})
}
