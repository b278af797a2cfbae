//go:build !amd64 || purego

package distance

import "unsafe"

// Without assembly the quantised kernels run in Go: setQuantImpl never
// selects an assembly family here, and should that invariant break the
// functions below still compute the right answer.

func quantFeatures() quantCPU { return quantCPU{} }

func dotU8Asm(a, b []byte) uint32 { return dotU8Go(a, b) }
func l2U8Asm(a, b []byte) uint32  { return l2U8Go(a, b) }
func l1U8Asm(a, b []byte) uint32  { return l1U8Go(a, b) }

func dotF16Asm(q []float32, row []uint16) float32 { return dotF16Go(q, row) }
func l2F16Asm(q []float32, row []uint16) float32  { return l2F16Go(q, row) }
func l1F16Asm(q []float32, row []uint16) float32  { return l1F16Go(q, row) }

func dotU8F32Asm(q []float32, row []byte) float32 { return dotU8F32Go(q, row) }
func l2U8F32Asm(q []float32, row []byte) float32  { return l2U8F32Go(q, row) }
func l1U8F32Asm(q []float32, row []byte) float32  { return l1U8F32Go(q, row) }

func f16FromF32Asm(dst []uint16, src []float32) int { return 0 }
func f32FromF16Asm(dst []float32, src []uint16) int { return 0 }

func xorPopcountAVX512(a, b *uint64, n int) uint32 {
	return xorPopcountGo(unsafe.Slice(a, n), unsafe.Slice(b, n))
}

func andPopcountAVX512(a, b *uint64, n int) uint32 {
	return andPopcountGo(unsafe.Slice(a, n), unsafe.Slice(b, n))
}

func xorPlanesAVX512(v, q *uint64, n, planes int) uint32 {
	return xorPopcountPlanesGo(unsafe.Slice(v, n), unsafe.Slice(q, n*planes), planes)
}

// Prefetch asks the CPU to bring b into its caches ahead of use; without
// assembly it does nothing.
func Prefetch(b []byte) {}

func dotU8GatherAsm(dst []uint32, q, rows []byte, stride int, ids []uint32) bool { return false }
func dotU7GatherAsm(dst []uint32, q, rows []byte, stride int, ids []uint32) bool { return false }
func l2U8GatherAsm(dst []uint32, q, rows []byte, stride int, ids []uint32) bool  { return false }
func l1U8GatherAsm(dst []uint32, q, rows []byte, stride int, ids []uint32) bool  { return false }

func xorPopcountGatherAsm(dst []uint32, q []uint64, rows []byte, stride int, ids []uint32) bool {
	return false
}

func pqGatherAsm(dst, lut []float32, codes []byte, m int, ids []uint32) bool { return false }

func lutTermsAsm(op int, dst, col []float32, x float32) int { return 0 }
