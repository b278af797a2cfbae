package distance

import (
	"fmt"
	"math/bits"
	"unsafe"
)

// DotProduct returns the dot product of a and b. It reads len(a) elements of
// b and panics if len(b) < len(a).
func DotProduct(a, b []float32) float32 {
	if len(b) < len(a) {
		badLengths(len(a), len(b))
	}
	if len(a) >= asmMin {
		return dotAsm(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	}
	return dotGo(a, b)
}

// SquaredL2 returns the squared Euclidean distance between a and b. It reads
// len(a) elements of b and panics if len(b) < len(a).
func SquaredL2(a, b []float32) float32 {
	if len(b) < len(a) {
		badLengths(len(a), len(b))
	}
	if len(a) >= asmMin {
		return l2Asm(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	}
	return l2Go(a, b)
}

// L1 returns the Manhattan distance between a and b. It reads len(a) elements
// of b and panics if len(b) < len(a).
func L1(a, b []float32) float32 {
	if len(b) < len(a) {
		badLengths(len(a), len(b))
	}
	if len(a) >= asmMin {
		return l1Asm(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	}
	return l1Go(a, b)
}

// Gather forms.
//
// A gather call scores the query q against the rows of a row-major matrix
// base (row r is base[r*dim : r*dim+dim]) named by ids:
//
//	dst[i] = kernel(q, base[ids[i]*dim : ids[i]*dim+dim])  for i < len(ids)
//
// Contract: len(q) == dim, dim >= 0, len(dst) >= len(ids) (only dst[:len(ids)]
// is written) and every row named by ids lies inside base. The contract is
// checked once per call, before any row is read, and a violation panics with
// a "distance: BUG" message; the kernels never read out of bounds. Rows are
// scored in order while the following rows are prefetched (kernels_amd64.s).
// Each dst[i] is bit-identical to the single-pair kernel on the same row.

// DotGather sets dst[i] to the dot product of q and row ids[i] of base.
func DotGather(dst, q, base []float32, dim int, ids []uint32) {
	checkGather(dst, q, base, dim, ids)
	if dim >= asmMin {
		if !dotGatherAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(base), len(base), dim, unsafe.SliceData(ids), len(ids)) {
			badGather(dst, q, base, dim, ids)
		}
		return
	}
	checkIDs(dst, q, base, dim, ids)
	gatherGo(dotGo, dst, q, base, dim, ids)
}

// SquaredL2Gather sets dst[i] to the squared L2 distance between q and row
// ids[i] of base.
func SquaredL2Gather(dst, q, base []float32, dim int, ids []uint32) {
	checkGather(dst, q, base, dim, ids)
	if dim >= asmMin {
		if !l2GatherAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(base), len(base), dim, unsafe.SliceData(ids), len(ids)) {
			badGather(dst, q, base, dim, ids)
		}
		return
	}
	checkIDs(dst, q, base, dim, ids)
	gatherGo(l2Go, dst, q, base, dim, ids)
}

// L1Gather sets dst[i] to the L1 distance between q and row ids[i] of base.
func L1Gather(dst, q, base []float32, dim int, ids []uint32) {
	checkGather(dst, q, base, dim, ids)
	if dim >= asmMin {
		if !l1GatherAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(base), len(base), dim, unsafe.SliceData(ids), len(ids)) {
			badGather(dst, q, base, dim, ids)
		}
		return
	}
	checkIDs(dst, q, base, dim, ids)
	gatherGo(l1Go, dst, q, base, dim, ids)
}

// Batch forms.
//
// A batch call scores q against every row of the row-major matrix base:
//
//	dst[r] = kernel(q, base[r*dim : r*dim+dim])  for r < len(base)/dim
//
// Contract: dim >= 1, len(q) == dim, len(base) is a multiple of dim and
// len(dst) >= len(base)/dim (only dst[:len(base)/dim] is written). A violation
// panics with a "distance: BUG" message. Each dst[r] is bit-identical to the
// single-pair kernel on the same row.

// DotBatch sets dst[r] to the dot product of q and row r of base.
func DotBatch(dst, q, base []float32, dim int) {
	rows := checkBatch(dst, q, base, dim)
	if dim >= asmMin {
		dotBatchAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(base), dim, rows)
		return
	}
	batchGo(dotGo, dst, q, base, dim, rows)
}

// SquaredL2Batch sets dst[r] to the squared L2 distance between q and row r
// of base.
func SquaredL2Batch(dst, q, base []float32, dim int) {
	rows := checkBatch(dst, q, base, dim)
	if dim >= asmMin {
		l2BatchAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(base), dim, rows)
		return
	}
	batchGo(l2Go, dst, q, base, dim, rows)
}

// L1Batch sets dst[r] to the L1 distance between q and row r of base.
func L1Batch(dst, q, base []float32, dim int) {
	rows := checkBatch(dst, q, base, dim)
	if dim >= asmMin {
		l1BatchAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(base), dim, rows)
		return
	}
	batchGo(l1Go, dst, q, base, dim, rows)
}

// Chunk forms.
//
// A chunk call scores q against rows of chunked storage: equal-width
// row-major matrices (chunks) of 1<<shift rows each (the last may be
// shorter), which grow without moving rows. Row id is row id&(1<<shift-1)
// of chunks[id>>shift]:
//
//	dst[i] = kernel(q, chunks[c][r*dim : r*dim+dim])  for i < len(ids),
//	         c = ids[i]>>shift, r = ids[i]&(1<<shift-1), dim = len(q)
//
// Contract: shift <= 31, len(dst) >= len(ids) (only dst[:len(ids)] is
// written) and every row named by ids lies inside its chunk. It is checked
// once per call, before any row is read (the ids by the assembly kernels,
// in the loop that prefetches the rows, as in the gather forms), and a
// violation panics with a "distance: BUG" message. Rows are prefetched as
// in the gather forms, and each dst[i] is bit-identical to the single-pair
// kernel on the same row.

// DotChunks sets dst[i] to the dot product of q and row ids[i] of chunks.
func DotChunks(dst, q []float32, chunks [][]float32, shift uint, ids []uint32) {
	checkChunks(dst, q, chunks, shift, ids)
	if len(q) >= asmMin {
		if !dotChunksAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(chunks), len(chunks), int(shift), len(q), unsafe.SliceData(ids), len(ids)) {
			badChunks(dst, q, chunks, shift, ids)
		}
		return
	}
	chunksGo(dotGo, dst, q, chunks, shift, ids)
}

// SquaredL2Chunks sets dst[i] to the squared L2 distance between q and row
// ids[i] of chunks.
func SquaredL2Chunks(dst, q []float32, chunks [][]float32, shift uint, ids []uint32) {
	checkChunks(dst, q, chunks, shift, ids)
	if len(q) >= asmMin {
		if !l2ChunksAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(chunks), len(chunks), int(shift), len(q), unsafe.SliceData(ids), len(ids)) {
			badChunks(dst, q, chunks, shift, ids)
		}
		return
	}
	chunksGo(l2Go, dst, q, chunks, shift, ids)
}

// L1Chunks sets dst[i] to the L1 distance between q and row ids[i] of
// chunks.
func L1Chunks(dst, q []float32, chunks [][]float32, shift uint, ids []uint32) {
	checkChunks(dst, q, chunks, shift, ids)
	if len(q) >= asmMin {
		if !l1ChunksAsm(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(chunks), len(chunks), int(shift), len(q), unsafe.SliceData(ids), len(ids)) {
			badChunks(dst, q, chunks, shift, ids)
		}
		return
	}
	chunksGo(l1Go, dst, q, chunks, shift, ids)
}

// SquaredL2ChunksBelow is SquaredL2Chunks for a caller that keeps only
// the distances below bound, such as a top-k scan (bound its k-th best):
// dst[i] is the squared L2 distance, bit-identical to SquaredL2Chunks,
// when that is below bound, and otherwise some value at least bound. The
// AVX2 kernel stops reading a row once its partial sum reaches bound
// (CHUNKSBELOW in kernels_amd64.s); where it is not in use, every row is
// scored in full.
func SquaredL2ChunksBelow(dst, q []float32, chunks [][]float32, shift uint, ids []uint32, bound float32) {
	if !belowAVX2(len(q)) {
		SquaredL2Chunks(dst, q, chunks, shift, ids)
		return
	}
	checkChunks(dst, q, chunks, shift, ids)
	if !l2ChunksBelowAVX2(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(chunks), len(chunks), int(shift), len(q), unsafe.SliceData(ids), len(ids), bound) {
		badChunks(dst, q, chunks, shift, ids)
	}
}

// L1ChunksBelow is L1Chunks for a caller that keeps only the distances
// below bound, as SquaredL2ChunksBelow is for squared L2.
func L1ChunksBelow(dst, q []float32, chunks [][]float32, shift uint, ids []uint32, bound float32) {
	if !belowAVX2(len(q)) {
		L1Chunks(dst, q, chunks, shift, ids)
		return
	}
	checkChunks(dst, q, chunks, shift, ids)
	if !l1ChunksBelowAVX2(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(chunks), len(chunks), int(shift), len(q), unsafe.SliceData(ids), len(ids), bound) {
		badChunks(dst, q, chunks, shift, ids)
	}
}

// checkChunks enforces the chunk contract except for the ids, which the
// assembly kernels check themselves (chunksGo checks them in Go).
func checkChunks(dst, q []float32, chunks [][]float32, shift uint, ids []uint32) {
	if shift > 31 || len(dst) < len(ids) {
		badChunks(dst, q, chunks, shift, ids)
	}
}

// chunkRowsInBounds reports whether every row named by ids lies inside its
// chunk.
func chunkRowsInBounds(q []float32, chunks [][]float32, shift uint, ids []uint32) bool {
	dim := len(q)
	for _, id := range ids {
		c, r := int(id>>shift), int(id&(1<<shift-1))
		if c >= len(chunks) || (r+1)*dim > len(chunks[c]) {
			return false
		}
	}
	return true
}

//go:noinline
func badChunks(dst, q []float32, chunks [][]float32, shift uint, ids []uint32) {
	bad := -1
	for i, id := range ids {
		if !chunkRowsInBounds(q, chunks, shift, []uint32{id}) {
			bad = i
			break
		}
	}
	panic(fmt.Sprintf("distance: BUG: chunk gather out of contract: len(q)=%d len(dst)=%d len(ids)=%d shift=%d chunks=%d first bad id index=%d",
		len(q), len(dst), len(ids), shift, len(chunks), bad))
}

//go:noinline
func badLengths(la, lb int) {
	panic(fmt.Sprintf("distance: BUG: kernel on vectors of length %d and %d", la, lb))
}

// checkGather enforces the gather contract except for the ids, which the
// assembly kernels check themselves, for free, in the loop that prefetches
// the rows (see kernels_amd64.s): a separate pass over 16 ids in Go cost
// about 8 ns per call, 3% of a 784-dim gather and 14% of a 32-dim one.
func checkGather(dst, q, base []float32, dim int, ids []uint32) {
	if dim < 0 || len(q) != dim || len(dst) < len(ids) {
		badGather(dst, q, base, dim, ids)
	}
}

// checkIDs checks that every row named by ids lies inside base.
func checkIDs(dst, q, base []float32, dim int, ids []uint32) {
	if !idsInBounds(len(base), dim, ids) {
		badGather(dst, q, base, dim, ids)
	}
}

// idsInBounds reports whether (max id + 1) * dim <= baseLen.
func idsInBounds(baseLen, dim int, ids []uint32) bool {
	if len(ids) == 0 {
		return true
	}
	var top uint32
	for _, id := range ids {
		top = max(top, id)
	}
	hi, lo := bits.Mul64(uint64(top)+1, uint64(dim))
	return hi == 0 && lo <= uint64(baseLen)
}

//go:noinline
func badGather(dst, q, base []float32, dim int, ids []uint32) {
	var top uint32
	for _, id := range ids {
		top = max(top, id)
	}
	panic(fmt.Sprintf("distance: BUG: gather out of contract: dim=%d len(q)=%d len(dst)=%d len(ids)=%d max id=%d len(base)=%d",
		dim, len(q), len(dst), len(ids), top, len(base)))
}

// checkBatch enforces the batch contract and returns the number of rows.
func checkBatch(dst, q, base []float32, dim int) int {
	if dim <= 0 || len(q) != dim || len(base)%dim != 0 || len(dst) < len(base)/dim {
		badBatch(dst, q, base, dim)
	}
	return len(base) / dim
}

//go:noinline
func badBatch(dst, q, base []float32, dim int) {
	panic(fmt.Sprintf("distance: BUG: batch out of contract: dim=%d len(q)=%d len(dst)=%d len(base)=%d",
		dim, len(q), len(dst), len(base)))
}
