package distance

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"
)

var benchSinkU uint32

// BenchmarkQuantKernels times one pair per call for each quantised kernel
// beside the float32 kernel of the same metric and dimension (kernel=f32-*,
// the exported function as shipped), in the same run. SetBytes counts the
// bytes of both operands, so MB/s compares memory traffic.
func BenchmarkQuantKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, dim := range []int{128, 784, 1536} {
		fa, fb := randVec(r, dim), randVec(r, dim)
		ua, ub := alignedBytes(randBytes(r, dim, 127)), alignedBytes(randBytes(r, dim, 255))
		h := make([]uint16, dim)
		F16FromF32(h, fb)
		words := (dim + 63) / 64
		wa, wb := make([]uint64, 8*words), make([]uint64, 8*words)
		for i := range wa {
			wa[i], wb[i] = r.Uint64(), r.Uint64()
		}
		type kern struct {
			name  string
			bytes int
			f32   bool // float32 reference: runs as shipped only
			run   func() float32
		}
		ks := []kern{
			{"f32-dot", dim * 8, true, func() float32 { return DotProduct(fa, fb) }},
			{"f32-l2", dim * 8, true, func() float32 { return SquaredL2(fa, fb) }},
			{"f32-l1", dim * 8, true, func() float32 { return L1(fa, fb) }},
			{"u8-dot", dim * 2, false, func() float32 { return float32(DotU8(ua, ub)) }},
			{"u8-l2", dim * 2, false, func() float32 { return float32(SquaredL2U8(ua, ub)) }},
			{"u8-l1", dim * 2, false, func() float32 { return float32(L1U8(ua, ub)) }},
			{"f16-dot", dim * 6, false, func() float32 { return DotF16(fa, h) }},
			{"f16-l2", dim * 6, false, func() float32 { return SquaredL2F16(fa, h) }},
			{"u8f32-dot", dim * 5, false, func() float32 { return DotU8F32(fa, ub) }},
			{"u8f32-l2", dim * 5, false, func() float32 { return SquaredL2U8F32(fa, ub) }},
			{"bin1-xor", words * 16, false, func() float32 { return float32(XorPopcount(wa[:words], wb[:words])) }},
			{"bin-planes4", words * 8 * 5, false, func() float32 { return float32(XorPopcountPlanes(wa[:words], wb[:4*words], 4)) }},
			{"bin-planes8", words * 8 * 9, false, func() float32 { return float32(XorPopcountPlanes(wa[:words], wb[:8*words], 8)) }},
			{"f16-encode", dim * 6, false, func() float32 { F16FromF32(h, fb); return 0 }},
		}
		for _, k := range ks {
			impls := []impl{implGo, implAVX2, implAVX512}
			if k.f32 {
				impls = []impl{defaultImpl()}
			}
			for _, im := range impls {
				name := fmt.Sprintf("kernel=%s/dim=%d/impl=%v", k.name, dim, im)
				if k.f32 {
					name = fmt.Sprintf("kernel=%s/dim=%d/impl=auto", k.name, dim)
				}
				b.Run(name, func(b *testing.B) {
					if !supported(im) {
						b.Skipf("CPU lacks %v", im)
					}
					if !k.f32 {
						defer forceImpl(b, im)()
					}
					b.SetBytes(int64(k.bytes))
					b.ReportAllocs()
					var s float32
					for b.Loop() {
						s += k.run()
					}
					benchSink = s
				})
			}
		}
	}
}

// alignedBytes copies v into a 64-byte aligned buffer.
func alignedBytes(v []byte) []byte {
	buf := make([]byte, len(v)+Alignment)
	off := (Alignment - int(uintptr(unsafe.Pointer(&buf[0]))%Alignment)) % Alignment
	out := buf[off : off+len(v) : off+len(v)]
	copy(out, v)
	return out
}

// BenchmarkScalarGather scores a query against 20 rows per call of a
// 60000 x (784+4) byte matrix (scalar codes and their trailer, 47 MB, more
// than the last-level cache), the ids drawn from the whole matrix
// (rows=cold) or its first 256 rows (rows=hot), as an HNSW expansion over
// scalar codes does: kernel=l2 is SquaredL2U8Gather, kernel=dot7
// DotU7Gather, which Euclid rows with code norms use in its place.
func BenchmarkScalarGather(b *testing.B) {
	const rowsN, dim, per = 60000, 784, 20
	stride := dim + 4
	r := rand.New(rand.NewPCG(9, 9))
	rows := randBytes(r, rowsN*stride, 127)
	q := randBytes(r, dim, 127)
	dst := make([]uint32, per)
	for _, set := range []struct {
		name string
		n    int
	}{{"cold", rowsN}, {"hot", 256}} {
		ids := make([]uint32, 1<<16)
		for i := range ids {
			ids[i] = uint32(r.IntN(set.n))
		}
		for _, k := range []struct {
			name string
			g    func([]uint32, []byte, []byte, int, []uint32)
		}{{"l2", SquaredL2U8Gather}, {"dot7", DotU7Gather}} {
			b.Run(fmt.Sprintf("rows=%s/kernel=%s", set.name, k.name), func(b *testing.B) {
				b.SetBytes(int64(per * dim))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					k.g(dst, q, rows, stride, ids[i:i+per])
					if i += per; i+per > len(ids) {
						i = 0
					}
				}
			})
		}
	}
}
