//go:build amd64 && !purego

package distance

import "golang.org/x/sys/cpu"

// Assembly kernels, see kernels_amd64.s. Go code reaches them only through
// the dispatchers declared at the end of this file; the per-flavour entry
// points are declared for the assembler's tail jumps and for vet.

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func l2AVX2(a, b *float32, n int) float32

//go:noescape
func l1AVX2(a, b *float32, n int) float32

//go:noescape
func dotGatherAVX2(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l2GatherAVX2(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l1GatherAVX2(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func dotBatchAVX2(dst, q, base *float32, dim, rows int)

//go:noescape
func l2BatchAVX2(dst, q, base *float32, dim, rows int)

//go:noescape
func l1BatchAVX2(dst, q, base *float32, dim, rows int)

//go:noescape
func dotAVX512(a, b *float32, n int) float32

//go:noescape
func l2AVX512(a, b *float32, n int) float32

//go:noescape
func l1AVX512(a, b *float32, n int) float32

//go:noescape
func dotGatherAVX512(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l2GatherAVX512(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l1GatherAVX512(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func dotBatchAVX512(dst, q, base *float32, dim, rows int)

//go:noescape
func l2BatchAVX512(dst, q, base *float32, dim, rows int)

//go:noescape
func l1BatchAVX512(dst, q, base *float32, dim, rows int)

// cpuImpls reports the assembly implementations this CPU and OS support.
func cpuImpls() (avx2, avx512 bool) {
	avx2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	avx512 = avx2 && cpu.X86.HasAVX512F
	return avx2, avx512
}

// Dispatchers (kernels_amd64.s): each jumps to the AVX-512 flavour when the
// length (dim for gather and batch) is at least avx512Min, else to AVX2.
// Callers have checked that len(b) >= len(a) = n >= 1 (single kernels), the
// batch contract, or the gather contract except for the ids, which the gather
// kernels check themselves before reading any row (they return false if an id
// is out of range).

//go:noescape
func dotAsm(a, b *float32, n int) float32

//go:noescape
func l2Asm(a, b *float32, n int) float32

//go:noescape
func l1Asm(a, b *float32, n int) float32

//go:noescape
func dotGatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l2GatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l1GatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func dotBatchAsm(dst, q, base *float32, dim, rows int)

//go:noescape
func l2BatchAsm(dst, q, base *float32, dim, rows int)

//go:noescape
func l1BatchAsm(dst, q, base *float32, dim, rows int)

//go:noescape
func dotChunksAVX512(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l2ChunksAVX512(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l1ChunksAVX512(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func dotChunksAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l2ChunksAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l1ChunksAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

// The bounded chunk kernels (CHUNKSBELOW in kernels_amd64.s) exist in the
// AVX2 flavour only: belowAVX2 reports whether they score rows of dim
// bit-identically to the chunk kernels in use.

//go:noescape
func l2ChunksBelowAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int, bound float32) (ok bool)

//go:noescape
func l1ChunksBelowAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int, bound float32) (ok bool)

func belowAVX2(dim int) bool { return dim >= asmMin && dim < avx512Min }

// Chunks dispatchers: the caller has checked dim >= 0, len(q) == dim,
// len(dst) >= n and shift <= 31; the kernels check the ids (see the CHUNKS
// template in kernels_amd64.s) and return false, having read no row, when
// one is out of range.

//go:noescape
func dotChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l2ChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

//go:noescape
func l1ChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) (ok bool)

// dotMaxTileAVX512 raises best[i] to the dot product of row i of q (four
// rows of dim floats) with each of the first 4*n rows of base, n >= 1;
// AVX-512 only.
//
//go:noescape
func dotMaxTileAVX512(best *[4]float32, q, base *float32, dim, n int)

// l2MinTileAVX512 lowers best[i] to the squared L2 distance between row i
// of q and each of the first 4*n rows of base, n >= 1; AVX-512 only.
//
//go:noescape
func l2MinTileAVX512(best *[4]float32, q, base *float32, dim, n int)
