//go:build !amd64 || purego

package distance

import "unsafe"

// Without assembly every kernel runs in Go: setImpl never selects assembly,
// so the *Asm functions below are unreachable, but should that invariant
// break they still compute the right answer.

func cpuImpls() (avx2, avx512 bool) { return false, false }

func vec(p *float32, n int) []float32 { return unsafe.Slice(p, n) }

func dotAsm(a, b *float32, n int) float32 { return dotGo(vec(a, n), vec(b, n)) }
func l2Asm(a, b *float32, n int) float32  { return l2Go(vec(a, n), vec(b, n)) }
func l1Asm(a, b *float32, n int) float32  { return l1Go(vec(a, n), vec(b, n)) }

func gatherPtr(kernel func(a, b []float32) float32, dst, q, base *float32, baseLen, dim int, ids *uint32, n int) bool {
	idv := unsafe.Slice(ids, n)
	if !idsInBounds(baseLen, dim, idv) {
		return false
	}
	gatherGo(kernel, vec(dst, n), vec(q, dim), vec(base, baseLen), dim, idv)
	return true
}

func dotGatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) bool {
	return gatherPtr(dotGo, dst, q, base, baseLen, dim, ids, n)
}

func l2GatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) bool {
	return gatherPtr(l2Go, dst, q, base, baseLen, dim, ids, n)
}

func l1GatherAsm(dst, q, base *float32, baseLen, dim int, ids *uint32, n int) bool {
	return gatherPtr(l1Go, dst, q, base, baseLen, dim, ids, n)
}

func dotBatchAsm(dst, q, base *float32, dim, rows int) {
	batchGo(dotGo, vec(dst, rows), vec(q, dim), vec(base, rows*dim), dim, rows)
}

func l2BatchAsm(dst, q, base *float32, dim, rows int) {
	batchGo(l2Go, vec(dst, rows), vec(q, dim), vec(base, rows*dim), dim, rows)
}

func l1BatchAsm(dst, q, base *float32, dim, rows int) {
	batchGo(l1Go, vec(dst, rows), vec(q, dim), vec(base, rows*dim), dim, rows)
}

func chunksPtr(kernel func(a, b []float32) float32, dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) bool {
	cs, idv := unsafe.Slice(chunks, nchunks), unsafe.Slice(ids, n)
	if !chunkRowsInBounds(vec(q, dim), cs, uint(shift), idv) {
		return false
	}
	chunksGo(kernel, vec(dst, n), vec(q, dim), cs, uint(shift), idv)
	return true
}

func dotChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) bool {
	return chunksPtr(dotGo, dst, q, chunks, nchunks, shift, dim, ids, n)
}

func l2ChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) bool {
	return chunksPtr(l2Go, dst, q, chunks, nchunks, shift, dim, ids, n)
}

func l1ChunksAsm(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int) bool {
	return chunksPtr(l1Go, dst, q, chunks, nchunks, shift, dim, ids, n)
}

func bestTileGo(kernel func(a, b []float32) float32, better func(x, best float32) bool, best *[4]float32, q, base *float32, dim, n int) {
	qs, bs := vec(q, 4*dim), vec(base, 4*n*dim)
	for i := range 4 {
		for r := range 4 * n {
			if x := kernel(qs[i*dim:(i+1)*dim], bs[r*dim:(r+1)*dim]); better(x, best[i]) {
				best[i] = x
			}
		}
	}
}

func dotMaxTileAVX512(best *[4]float32, q, base *float32, dim, n int) {
	bestTileGo(dotGo, func(x, b float32) bool { return x > b }, best, q, base, dim, n)
}

func l2MinTileAVX512(best *[4]float32, q, base *float32, dim, n int) {
	bestTileGo(l2Go, func(x, b float32) bool { return x < b }, best, q, base, dim, n)
}

// Without assembly there are no bounded chunk kernels: the Below forms
// score every row in full.
func belowAVX2(int) bool { return false }

func l2ChunksBelowAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int, bound float32) bool {
	panic("distance: BUG: no AVX2 kernels in this build")
}

func l1ChunksBelowAVX2(dst, q *float32, chunks *[]float32, nchunks, shift, dim int, ids *uint32, n int, bound float32) bool {
	panic("distance: BUG: no AVX2 kernels in this build")
}
