package distance

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/viterin/vek/vek32"
)

var benchDims = []int{32, 100, 128, 384, 768, 784, 1536}

// benchSink keeps results alive so that calls are not optimised away.
var benchSink float32

type benchKernel struct {
	metric string
	impls  []benchImpl
}

type benchImpl struct {
	name string
	k    impl // family forced on the exported function when fn is nil
	fn   func(a, b []float32) float32
}

func benchKernels() []benchKernel {
	// Every impl but vek runs through the exported function, so that they
	// pay the same call overhead; auto is the exported function as shipped.
	exported := func(metric string, f, vekF func(a, b []float32) float32) benchKernel {
		return benchKernel{metric: metric, impls: []benchImpl{
			{name: "purego", k: implGo},
			{name: "vek", fn: vekF},
			{name: "avx2", k: implAVX2, fn: nil},
			{name: "avx512", k: implAVX512, fn: nil},
			{name: "auto", fn: f},
		}}
	}
	return []benchKernel{
		exported("dot", DotProduct, vek32.Dot),
		// vek has no squared L2; its Distance takes a square root on top.
		exported("euclid", SquaredL2, vek32.Distance),
		exported("manhattan", L1, vek32.ManhattanDistance),
	}
}

func exportedFor(metric string) func(a, b []float32) float32 {
	switch metric {
	case "dot":
		return DotProduct
	case "euclid":
		return SquaredL2
	default:
		return L1
	}
}

// forceImpl switches to family k with assembly for every length and returns
// a function restoring the default.
func forceImpl(tb testing.TB, k impl) func() {
	if !supported(k) {
		tb.Skipf("CPU lacks %v", k)
	}
	setImpl(k)
	forceAsm()
	return func() { setImpl(defaultImpl()) }
}

// randVec returns a 64-byte aligned random vector (see Alignment).
func randVec(r *rand.Rand, n int) []float32 {
	v := MakeAligned(n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

func BenchmarkKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, bk := range benchKernels() {
		for _, dim := range benchDims {
			x, y := randVec(r, dim), randVec(r, dim)
			for _, bi := range bk.impls {
				name := fmt.Sprintf("metric=%s/dim=%d/impl=%s", bk.metric, dim, bi.name)
				b.Run(name, func(b *testing.B) {
					f := bi.fn
					if f == nil {
						defer forceImpl(b, bi.k)()
						f = exportedFor(bk.metric)
					}
					b.SetBytes(int64(dim * 4 * 2))
					b.ReportAllocs()
					var s float32
					for b.Loop() {
						s += f(x, y)
					}
					benchSink = s
				})
			}
		}
	}
}

const (
	gatherRows = 60000
	gatherDim  = 784
	gatherIDs  = 16
)

var gatherBase []float32

func gatherData() []float32 {
	if gatherBase == nil {
		r := rand.New(rand.NewPCG(2, 2))
		gatherBase = randVec(r, gatherRows*gatherDim)
	}
	return gatherBase
}

// BenchmarkGather scores a query against 16 rows of a 60000x784 matrix per
// call, as an HNSW node expansion does. With rows=cold the ids are drawn from
// the whole 188 MB matrix, so rows come from DRAM; with rows=hot they are
// drawn from its first 256 rows (800 KB), which stay in cache. form=gather is
// the gather kernel, form=chunks the chunk kernel on the same rows split
// into chunks of 1024 rows (as segment storage holds them), form=loop calls
// the single-pair kernel per id (no prefetching).
func BenchmarkGather(b *testing.B) {
	base := gatherData()
	r := rand.New(rand.NewPCG(3, 3))
	q := randVec(r, gatherDim)
	idSets := map[string][]uint32{}
	for set, n := range map[string]int{"cold": gatherRows, "hot": 256} {
		ids := make([]uint32, 1<<16)
		for i := range ids {
			ids[i] = uint32(r.IntN(n))
		}
		idSets[set] = ids
	}
	dst := make([]float32, gatherIDs)
	type gf = func(dst, q, base []float32, dim int, ids []uint32)
	metrics := []struct {
		name   string
		gather gf
		single func(a, b []float32) float32
		chunks func(dst, q []float32, chunks [][]float32, shift uint, ids []uint32)
	}{
		{"dot", DotGather, DotProduct, DotChunks},
		{"euclid", SquaredL2Gather, SquaredL2, SquaredL2Chunks},
		{"manhattan", L1Gather, L1, L1Chunks},
	}
	const shift = 10
	var chunks [][]float32
	for first := 0; first < gatherRows; first += 1 << shift {
		chunks = append(chunks, base[first*gatherDim:min(first+1<<shift, gatherRows)*gatherDim])
	}
	for _, m := range metrics {
		for _, set := range []string{"cold", "hot"} {
			ids := idSets[set]
			for _, k := range []impl{implGo, implAVX2, implAVX512} {
				for _, form := range []string{"gather", "chunks", "loop"} {
					name := fmt.Sprintf("metric=%s/dim=%d/rows=%s/impl=%v/form=%s", m.name, gatherDim, set, k, form)
					b.Run(name, func(b *testing.B) {
						defer forceImpl(b, k)()
						b.SetBytes(int64(gatherIDs * gatherDim * 4))
						b.ReportAllocs()
						i := 0
						for b.Loop() {
							batch := ids[i : i+gatherIDs]
							switch form {
							case "gather":
								m.gather(dst, q, base, gatherDim, batch)
							case "chunks":
								m.chunks(dst, q, chunks, shift, batch)
							default:
								for j, id := range batch {
									off := int(id) * gatherDim
									dst[j] = m.single(q, base[off:off+gatherDim])
								}
							}
							i += gatherIDs
							if i+gatherIDs > len(ids) {
								i = 0
							}
						}
						benchSink = dst[0]
					})
				}
			}
		}
	}
}

// BenchmarkBatch scores a query against every row of a 1000-row matrix.
func BenchmarkBatch(b *testing.B) {
	const rows = 1000
	r := rand.New(rand.NewPCG(4, 4))
	for _, dim := range []int{128, 784} {
		base := randVec(r, rows*dim)
		q := randVec(r, dim)
		dst := make([]float32, rows)
		for _, k := range []impl{implGo, implAVX2, implAVX512} {
			b.Run(fmt.Sprintf("metric=euclid/dim=%d/impl=%v", dim, k), func(b *testing.B) {
				defer forceImpl(b, k)()
				b.SetBytes(int64(rows * dim * 4))
				b.ReportAllocs()
				for b.Loop() {
					SquaredL2Batch(dst, q, base, dim)
				}
				benchSink = dst[0]
			})
		}
	}
}

// BenchmarkShort measures the short lengths where the crossovers between Go,
// AVX2 and AVX-512 lie (asmCrossover, avx512Crossover).
func BenchmarkShort(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, bk := range benchKernels() {
		for _, n := range []int{4, 6, 8, 10, 12, 16, 24, 32, 48, 56, 64} {
			x, y := randVec(r, n), randVec(r, n)
			for _, bi := range bk.impls {
				if bi.name == "vek" {
					continue
				}
				b.Run(fmt.Sprintf("metric=%s/dim=%d/impl=%s", bk.metric, n, bi.name), func(b *testing.B) {
					f := bi.fn
					if f == nil {
						defer forceImpl(b, bi.k)()
						f = exportedFor(bk.metric)
					}
					var s float32
					for b.Loop() {
						s += f(x, y)
					}
					benchSink = s
				})
			}
		}
	}
}

// BenchmarkMisaligned shows the cost of vectors that do not start on a 64-byte
// boundary (offsets in bytes for a and b).
func BenchmarkMisaligned(b *testing.B) {
	const dim = 784
	r := rand.New(rand.NewPCG(6, 6))
	x, y := randVec(r, dim+16), randVec(r, dim+16)
	for _, k := range []impl{implAVX2, implAVX512} {
		for _, off := range [][2]int{{0, 0}, {4, 0}, {0, 32}, {16, 16}, {4, 12}} {
			b.Run(fmt.Sprintf("metric=euclid/dim=%d/impl=%v/offset=%d,%d", dim, k, off[0], off[1]), func(b *testing.B) {
				defer forceImpl(b, k)()
				a, c := x[off[0]/4:off[0]/4+dim], y[off[1]/4:off[1]/4+dim]
				b.SetBytes(int64(dim * 4 * 2))
				var s float32
				for b.Loop() {
					s += SquaredL2(a, c)
				}
				benchSink = s
			})
		}
	}
}
