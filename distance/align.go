package distance

import "unsafe"

// Alignment is the address alignment, in bytes, at which the AVX-512 kernels
// read fastest: a 64-byte load that straddles two cache lines costs two. A
// 784-dim squared L2 takes about 15 ns with both vectors aligned, 23 ns with
// one misaligned and 30 ns with both (KERNELS.md). Rows of a matrix are all
// aligned when the matrix is and dim is a multiple of 16.
const Alignment = 64

// MakeAligned returns a zeroed slice of n float32s whose first element is
// Alignment-aligned, for query buffers and row-major matrices.
func MakeAligned(n int) []float32 {
	if n <= 0 {
		return []float32{}
	}
	const pad = Alignment / 4
	buf := make([]float32, n+pad-1)
	off := (Alignment - int(uintptr(unsafe.Pointer(&buf[0]))%Alignment)) % Alignment / 4
	return buf[off : off+n : off+n]
}
