package distance

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"
)

// Gather forms for narrow rows: the float16 and uint8 datatypes keep a
// segment's vectors in row-major matrices of uint16 (float16 bits) or
// bytes. Each sets dst[i] to m's internal distance (as Metric.Distance:
// 1 - dot, squared L2 or L1) between the float32 query q and row ids[i],
// prefetching the row two ahead. Each dst[i] equals the single-row kernel
// exactly. Contract (checked once, panics with a "distance: BUG" message):
// len(q) == dim > 0, len(dst) >= len(ids), every row inside rows.

// GatherF16 scores q against float16 rows.
func (m Metric) GatherF16(dst, q []float32, rows []uint16, dim int, ids []uint32) {
	checkNarrow(len(dst), len(q), len(rows), dim, ids)
	k := f16Kernel(m)
	for i, id := range ids {
		if j := i + 2; j < len(ids) {
			off := int(ids[j]) * dim
			Prefetch(unsafe.Slice((*byte)(unsafe.Pointer(&rows[off])), 2*dim))
		}
		off := int(id) * dim
		dst[i] = k(q, rows[off:off+dim:off+dim])
	}
}

// GatherU8 scores q against uint8 rows.
func (m Metric) GatherU8(dst, q []float32, rows []byte, dim int, ids []uint32) {
	checkNarrow(len(dst), len(q), len(rows), dim, ids)
	k := u8Kernel(m)
	for i, id := range ids {
		if j := i + 2; j < len(ids) {
			off := int(ids[j]) * dim
			Prefetch(rows[off : off+dim])
		}
		off := int(id) * dim
		dst[i] = k(q, rows[off:off+dim:off+dim])
	}
}

func f16Kernel(m Metric) func([]float32, []uint16) float32 {
	switch m {
	case Euclid:
		return SquaredL2F16
	case Manhattan:
		return L1F16
	}
	return func(q []float32, r []uint16) float32 { return 1 - DotF16(q, r) }
}

func u8Kernel(m Metric) func([]float32, []byte) float32 {
	switch m {
	case Euclid:
		return SquaredL2U8F32
	case Manhattan:
		return L1U8F32
	}
	return func(q []float32, r []byte) float32 { return 1 - DotU8F32(q, r) }
}

func checkNarrow(ndst, nq, nrows, dim int, ids []uint32) {
	if dim <= 0 || nq != dim || ndst < len(ids) || !idsInBounds(nrows, dim, ids) {
		panic(fmt.Sprintf("distance: BUG: narrow gather out of contract: dim=%d len(q)=%d len(dst)=%d len(ids)=%d len(rows)=%d", dim, nq, ndst, len(ids), nrows))
	}
}

// Byte gathers: dst[i] is the kernel of q and the row of ids[i], which
// starts at rows[ids[i]*stride] and has len(q) bytes (stride >= len(q)
// leaves room for per-row data, as scalar quantisation's correction term).
// Each dst[i] equals the single-pair kernel exactly. Contract (checked once,
// panics with a "distance: BUG" message): len(q) >= 1, stride >= len(q),
// len(dst) >= len(ids), every row inside rows. Under AVX-512 the loop runs
// in assembly and prefetches the row two ahead.

// DotU8Gather sets dst[i] to DotU8(q, row ids[i]).
func DotU8Gather(dst []uint32, q, rows []byte, stride int, ids []uint32) {
	checkU8Gather(dst, q, rows, stride, ids)
	if !dotU8GatherAsm(dst, q, rows, stride, ids) {
		u8GatherGo(DotU8, dst, q, rows, stride, ids)
	}
}

// DotU7Gather is DotU8Gather for rows whose bytes are at most 127 (scalar
// quantisation's codes), which lets the AVX-512 kernel multiply them as
// signed bytes directly: a third of DotU8Gather's instructions per row.
// Rows with a byte above 127 get an unspecified sum (q's bytes may be any).
// With AVX2 (no AVX-512) it runs in assembly too, prefetching the rows two
// ahead.
func DotU7Gather(dst []uint32, q, rows []byte, stride int, ids []uint32) {
	checkU8Gather(dst, q, rows, stride, ids)
	if !dotU7GatherAsm(dst, q, rows, stride, ids) {
		u8GatherGo(DotU8, dst, q, rows, stride, ids)
	}
}

// SquaredL2U8Gather sets dst[i] to SquaredL2U8(q, row ids[i]).
func SquaredL2U8Gather(dst []uint32, q, rows []byte, stride int, ids []uint32) {
	checkU8Gather(dst, q, rows, stride, ids)
	if !l2U8GatherAsm(dst, q, rows, stride, ids) {
		u8GatherGo(SquaredL2U8, dst, q, rows, stride, ids)
	}
}

// L1U8Gather sets dst[i] to L1U8(q, row ids[i]).
func L1U8Gather(dst []uint32, q, rows []byte, stride int, ids []uint32) {
	checkU8Gather(dst, q, rows, stride, ids)
	if !l1U8GatherAsm(dst, q, rows, stride, ids) {
		u8GatherGo(L1U8, dst, q, rows, stride, ids)
	}
}

func u8GatherGo(k func(a, b []byte) uint32, dst []uint32, q, rows []byte, stride int, ids []uint32) {
	dim := len(q)
	dst = dst[:len(ids)]
	for i, id := range ids {
		off := int(id) * stride
		dst[i] = k(q, rows[off:off+dim:off+dim])
	}
}

func checkU8Gather(dst []uint32, q, rows []byte, stride int, ids []uint32) {
	ok := len(q) >= 1 && stride >= len(q) && len(dst) >= len(ids)
	if ok && len(ids) > 0 {
		var top uint32
		for _, id := range ids {
			top = max(top, id)
		}
		hi, lo := bits.Mul64(uint64(top), uint64(stride))
		ok = hi == 0 && lo+uint64(len(q)) <= uint64(len(rows))
	}
	if !ok {
		panic(fmt.Sprintf("distance: BUG: byte gather out of contract: len(q)=%d stride=%d len(dst)=%d len(ids)=%d len(rows)=%d", len(q), stride, len(dst), len(ids), len(rows)))
	}
}

// XorPopcountGather sets dst[i] to XorPopcount(q, row ids[i]), where row id
// is the len(q) little-endian uint64 words at rows[id*stride:] (binary
// codes). Contract (panics with a "distance: BUG" message): len(q) >= 1,
// stride >= 8*len(q), len(dst) >= len(ids), every row inside rows, rows
// 8-byte aligned. Under AVX512_VPOPCNTDQ, or with POPCNT and AVX2, the loop
// runs in assembly and prefetches the row two ahead.
func XorPopcountGather(dst []uint32, q []uint64, rows []byte, stride int, ids []uint32) {
	checkU8Gather(dst, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(q))), 8*len(q)), rows, stride, ids)
	if len(rows) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(rows)))%8 != 0 || stride%8 != 0 {
		panic(fmt.Sprintf("distance: BUG: binary rows not 8-byte aligned (stride %d)", stride))
	}
	if !littleEndian || !xorPopcountGatherAsm(dst, q, rows, stride, ids) {
		var buf [64]uint64
		for i, id := range ids {
			row := rows[int(id)*stride : int(id)*stride+8*len(q)]
			var s uint32
			for j := 0; j < len(q); j += len(buf) {
				w := buf[:min(len(buf), len(q)-j)]
				for k := range w {
					w[k] = binary.LittleEndian.Uint64(row[8*(j+k):])
				}
				s += XorPopcount(q[j:j+len(w)], w)
			}
			dst[i] = s
		}
	}
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
