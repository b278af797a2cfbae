//go:build amd64 && !purego

package distance

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Assembly kernels, see kernels_amd64.s. The callers below guarantee that
// every element they read is in bounds.

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func l2AVX2(a, b *float32, n int) float32

//go:noescape
func l1AVX2(a, b *float32, n int) float32

//go:noescape
func dotGatherAVX2(dst, q, base *float32, dim int, ids *uint32, n int)

//go:noescape
func l2GatherAVX2(dst, q, base *float32, dim int, ids *uint32, n int)

//go:noescape
func l1GatherAVX2(dst, q, base *float32, dim int, ids *uint32, n int)

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
func dotGatherAVX512(dst, q, base *float32, dim int, ids *uint32, n int)

//go:noescape
func l2GatherAVX512(dst, q, base *float32, dim int, ids *uint32, n int)

//go:noescape
func l1GatherAVX512(dst, q, base *float32, dim int, ids *uint32, n int)

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

// useAVX512 selects the AVX-512 kernels over the AVX2 ones once assembly is
// chosen (see setImpl).
var useAVX512 bool

func ptr(s []float32) *float32 { return unsafe.SliceData(s) }

// The *Asm functions run the selected assembly kernel. Their callers have
// checked that len(b) >= len(a) >= 1 (single) or the gather/batch bounds.

func dotAsm(a, b []float32) float32 {
	if useAVX512 {
		return dotAVX512(ptr(a), ptr(b), len(a))
	}
	return dotAVX2(ptr(a), ptr(b), len(a))
}

func l2Asm(a, b []float32) float32 {
	if useAVX512 {
		return l2AVX512(ptr(a), ptr(b), len(a))
	}
	return l2AVX2(ptr(a), ptr(b), len(a))
}

func l1Asm(a, b []float32) float32 {
	if useAVX512 {
		return l1AVX512(ptr(a), ptr(b), len(a))
	}
	return l1AVX2(ptr(a), ptr(b), len(a))
}

func dotGatherAsm(dst, q, base []float32, dim int, ids []uint32) {
	if useAVX512 {
		dotGatherAVX512(ptr(dst), ptr(q), ptr(base), dim, unsafe.SliceData(ids), len(ids))
		return
	}
	dotGatherAVX2(ptr(dst), ptr(q), ptr(base), dim, unsafe.SliceData(ids), len(ids))
}

func l2GatherAsm(dst, q, base []float32, dim int, ids []uint32) {
	if useAVX512 {
		l2GatherAVX512(ptr(dst), ptr(q), ptr(base), dim, unsafe.SliceData(ids), len(ids))
		return
	}
	l2GatherAVX2(ptr(dst), ptr(q), ptr(base), dim, unsafe.SliceData(ids), len(ids))
}

func l1GatherAsm(dst, q, base []float32, dim int, ids []uint32) {
	if useAVX512 {
		l1GatherAVX512(ptr(dst), ptr(q), ptr(base), dim, unsafe.SliceData(ids), len(ids))
		return
	}
	l1GatherAVX2(ptr(dst), ptr(q), ptr(base), dim, unsafe.SliceData(ids), len(ids))
}

func dotBatchAsm(dst, q, base []float32, dim, rows int) {
	if useAVX512 {
		dotBatchAVX512(ptr(dst), ptr(q), ptr(base), dim, rows)
		return
	}
	dotBatchAVX2(ptr(dst), ptr(q), ptr(base), dim, rows)
}

func l2BatchAsm(dst, q, base []float32, dim, rows int) {
	if useAVX512 {
		l2BatchAVX512(ptr(dst), ptr(q), ptr(base), dim, rows)
		return
	}
	l2BatchAVX2(ptr(dst), ptr(q), ptr(base), dim, rows)
}

func l1BatchAsm(dst, q, base []float32, dim, rows int) {
	if useAVX512 {
		l1BatchAVX512(ptr(dst), ptr(q), ptr(base), dim, rows)
		return
	}
	l1BatchAVX2(ptr(dst), ptr(q), ptr(base), dim, rows)
}
