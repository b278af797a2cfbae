//go:build amd64 && !purego

package distance

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Assembly kernels for quantised and narrow rows, see quant_amd64.s.

//go:noescape
func dotU8AVX512(a, b *byte, n int) uint32

//go:noescape
func l2U8AVX512(a, b *byte, n int) uint32

//go:noescape
func l1U8AVX512(a, b *byte, n int) uint32

//go:noescape
func dotU8AVX2(a, b *byte, n int) uint32

//go:noescape
func l2U8AVX2(a, b *byte, n int) uint32

//go:noescape
func l1U8AVX2(a, b *byte, n int) uint32

//go:noescape
func dotF16AVX512(q *float32, row *uint16, n int) float32

//go:noescape
func l2F16AVX512(q *float32, row *uint16, n int) float32

//go:noescape
func l1F16AVX512(q *float32, row *uint16, n int) float32

//go:noescape
func dotU8F32AVX512(q *float32, row *byte, n int) float32

//go:noescape
func l2U8F32AVX512(q *float32, row *byte, n int) float32

//go:noescape
func l1U8F32AVX512(q *float32, row *byte, n int) float32

//go:noescape
func dotF16AVX2(q *float32, row *uint16, n int) float32

//go:noescape
func l2F16AVX2(q *float32, row *uint16, n int) float32

//go:noescape
func l1F16AVX2(q *float32, row *uint16, n int) float32

//go:noescape
func dotU8F32AVX2(q *float32, row *byte, n int) float32

//go:noescape
func l2U8F32AVX2(q *float32, row *byte, n int) float32

//go:noescape
func l1U8F32AVX2(q *float32, row *byte, n int) float32

//go:noescape
func f16FromF32AVX512(dst *uint16, src *float32, n int)

//go:noescape
func f32FromF16AVX512(dst *float32, src *uint16, n int)

//go:noescape
func f16FromF32AVX2(dst *uint16, src *float32, n int)

//go:noescape
func f32FromF16AVX2(dst *float32, src *uint16, n int)

//go:noescape
func xorPopcountAVX512(a, b *uint64, n int) uint32

//go:noescape
func andPopcountAVX512(a, b *uint64, n int) uint32

//go:noescape
func xorPlanesAVX512(v, q *uint64, n, planes int) uint32

func quantFeatures() quantCPU {
	return quantCPU{
		bw:        cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL,
		vnni:      cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI,
		popcnt512: cpu.X86.HasAVX512VPOPCNTDQ,
		popcnt:    cpu.X86.HasPOPCNT,
		f16c:      cpu.X86.HasAVX2 && cpu.X86.HasFMA && hasF16C(),
	}
}

// hasF16C reads CPUID.1:ECX bit 29; x/sys/cpu does not report F16C, and
// every CPU with AVX2 we know of has it, but the check is cheap.
func hasF16C() bool { return cpuidECX1()&(1<<29) != 0 }

func cpuidECX1() uint32

// The wrappers below are called with len(a) >= quantAsmCrossover >= 1 and
// the other operand checked; the AVX2 kernels take whole blocks and Go
// finishes the tail.

func dotU8Asm(a, b []byte) uint32 {
	n := len(a)
	pa, pb := unsafe.SliceData(a), unsafe.SliceData(b)
	switch qInt {
	case implAVX512:
		return dotU8AVX512(pa, pb, n)
	case implAVX2:
		m := n &^ 15
		return dotU8AVX2(pa, pb, m) + dotU8Go(a[m:], b[m:n])
	}
	return dotU8Go(a, b)
}

func l2U8Asm(a, b []byte) uint32 {
	n := len(a)
	pa, pb := unsafe.SliceData(a), unsafe.SliceData(b)
	switch qInt {
	case implAVX512:
		return l2U8AVX512(pa, pb, n)
	case implAVX2:
		m := n &^ 15
		return l2U8AVX2(pa, pb, m) + l2U8Go(a[m:], b[m:n])
	}
	return l2U8Go(a, b)
}

func l1U8Asm(a, b []byte) uint32 {
	n := len(a)
	pa, pb := unsafe.SliceData(a), unsafe.SliceData(b)
	switch qInt {
	case implAVX512:
		return l1U8AVX512(pa, pb, n)
	case implAVX2:
		m := n &^ 15
		return l1U8AVX2(pa, pb, m) + l1U8Go(a[m:], b[m:n])
	}
	return l1U8Go(a, b)
}

// rowAsm runs a float32-query kernel over narrow rows: AVX-512 takes every
// length, AVX2 whole 8-element blocks with Go adding the tail.
func rowAsm[T byte | uint16](k512, k256 func(*float32, *T, int) float32, g func([]float32, []T) float32, q []float32, row []T) float32 {
	n := len(q)
	pq, pr := unsafe.SliceData(q), unsafe.SliceData(row)
	if qF16 == implAVX512 {
		return k512(pq, pr, n)
	}
	m := n &^ 7
	return k256(pq, pr, m) + g(q[m:], row[m:n])
}

func dotF16Asm(q []float32, row []uint16) float32 {
	return rowAsm(dotF16AVX512, dotF16AVX2, dotF16Go, q, row)
}

func l2F16Asm(q []float32, row []uint16) float32 {
	return rowAsm(l2F16AVX512, l2F16AVX2, l2F16Go, q, row)
}

func l1F16Asm(q []float32, row []uint16) float32 {
	return rowAsm(l1F16AVX512, l1F16AVX2, l1F16Go, q, row)
}

func dotU8F32Asm(q []float32, row []byte) float32 {
	return rowAsm(dotU8F32AVX512, dotU8F32AVX2, dotU8F32Go, q, row)
}

func l2U8F32Asm(q []float32, row []byte) float32 {
	return rowAsm(l2U8F32AVX512, l2U8F32AVX2, l2U8F32Go, q, row)
}

func l1U8F32Asm(q []float32, row []byte) float32 {
	return rowAsm(l1U8F32AVX512, l1U8F32AVX2, l1U8F32Go, q, row)
}

// f16FromF32Asm converts a prefix of src and returns its length.
func f16FromF32Asm(dst []uint16, src []float32) int {
	if qF16 == implAVX512 {
		m := len(src) &^ 15
		f16FromF32AVX512(unsafe.SliceData(dst), unsafe.SliceData(src), m)
		return m
	}
	m := len(src) &^ 7
	f16FromF32AVX2(unsafe.SliceData(dst), unsafe.SliceData(src), m)
	return m
}

// f32FromF16Asm widens a prefix of src and returns its length.
func f32FromF16Asm(dst []float32, src []uint16) int {
	if qF16 == implAVX512 {
		m := len(src) &^ 15
		f32FromF16AVX512(unsafe.SliceData(dst), unsafe.SliceData(src), m)
		return m
	}
	m := len(src) &^ 7
	f32FromF16AVX2(unsafe.SliceData(dst), unsafe.SliceData(src), m)
	return m
}

//go:noescape
func prefetchAsm(p *byte, n int)

// Prefetch asks the CPU to bring b into its caches ahead of use, as the
// gather kernels do for the rows they will score next: a loop over rows
// named by ids in a large buffer (quantised codes) calls it on the row two
// ahead of the one it scores. It has no effect on results.
func Prefetch(b []byte) {
	if len(b) > 0 {
		prefetchAsm(unsafe.SliceData(b), len(b))
	}
}

//go:noescape
func dotU8GatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)

//go:noescape
func l2U8GatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)

//go:noescape
func l1U8GatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)

// u8GatherAsm runs an AVX-512 byte gather kernel and reports whether it
// could (AVX-512 byte kernels in use); the caller has checked the contract.
func u8GatherAsm(k func(*uint32, *byte, *byte, int, int, *uint32, int), dst []uint32, q, rows []byte, stride int, ids []uint32) bool {
	if qInt != implAVX512 || len(q) < qAsmMin || len(ids) == 0 {
		return false
	}
	k(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(rows), stride, len(q), unsafe.SliceData(ids), len(ids))
	return true
}

func dotU8GatherAsm(dst []uint32, q, rows []byte, stride int, ids []uint32) bool {
	return u8GatherAsm(dotU8GatherAVX512, dst, q, rows, stride, ids)
}

//go:noescape
func dotU7GatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)

//go:noescape
func dotU7GatherAVX2(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n, ahead int)

// gatherAhead is how many rows ahead the AVX2 and POPCNT gathers prefetch:
// about gatherLines cache lines in flight, and at least two rows.
func gatherAhead(stride int) int { return max(2, gatherLines*64/stride) }

// gatherLines is the number of cache lines the AVX2 and POPCNT gathers
// keep in flight.
const gatherLines = 24

func dotU7GatherAsm(dst []uint32, q, rows []byte, stride int, ids []uint32) bool {
	if qInt == implAVX2 && len(q) >= qAsmMin && len(ids) > 0 {
		dotU7GatherAVX2(unsafe.SliceData(dst), unsafe.SliceData(q), unsafe.SliceData(rows), stride, len(q), unsafe.SliceData(ids), len(ids), gatherAhead(stride))
		return true
	}
	return u8GatherAsm(dotU7GatherAVX512, dst, q, rows, stride, ids)
}

func l2U8GatherAsm(dst []uint32, q, rows []byte, stride int, ids []uint32) bool {
	return u8GatherAsm(l2U8GatherAVX512, dst, q, rows, stride, ids)
}

func l1U8GatherAsm(dst []uint32, q, rows []byte, stride int, ids []uint32) bool {
	return u8GatherAsm(l1U8GatherAVX512, dst, q, rows, stride, ids)
}

//go:noescape
func xorPopcountGatherAVX512(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n int)

// xorPopcountGatherAsm runs the VPOPCNTDQ gather and reports whether it
// could; the caller has checked the contract.
func xorPopcountGatherAsm(dst []uint32, q []uint64, rows []byte, stride int, ids []uint32) bool {
	if len(ids) == 0 {
		return false
	}
	pq := (*byte)(unsafe.Pointer(unsafe.SliceData(q)))
	switch qPop {
	case implAVX512:
		xorPopcountGatherAVX512(unsafe.SliceData(dst), pq, unsafe.SliceData(rows), stride, len(q), unsafe.SliceData(ids), len(ids))
	case implAVX2:
		xorPopcountGatherPOPCNT(unsafe.SliceData(dst), pq, unsafe.SliceData(rows), stride, len(q), unsafe.SliceData(ids), len(ids), gatherAhead(stride))
	default:
		return false
	}
	return true
}

//go:noescape
func xorPopcountGatherPOPCNT(dst *uint32, q, rows *byte, stride, dim int, ids *uint32, n, ahead int)

//go:noescape
func pqGatherAVX512(dst *float32, lut *float32, codes *byte, m int, ids *uint32, n int)

// pqGatherAsm runs the AVX-512 PQ gather and reports whether it could; the
// caller has checked the contract.
func pqGatherAsm(dst, lut []float32, codes []byte, m int, ids []uint32) bool {
	if qF16 != implAVX512 || m < qAsmMin || len(ids) == 0 {
		return false
	}
	pqGatherAVX512(unsafe.SliceData(dst), unsafe.SliceData(lut), unsafe.SliceData(codes), m, unsafe.SliceData(ids), len(ids))
	return true
}

//go:noescape
func lutTermsAVX512(dst, col *float32, x float32, n, op int)

// lutTermsAsm runs LUTTerms' op over the longest prefix of dst that is a
// multiple of 16 under AVX-512 and returns its length (0 without).
func lutTermsAsm(op int, dst, col []float32, x float32) int {
	n := len(dst) &^ 15
	if qF16 != implAVX512 || n == 0 {
		return 0
	}
	lutTermsAVX512(unsafe.SliceData(dst), unsafe.SliceData(col), x, n, op)
	return n
}
