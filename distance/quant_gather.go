package distance

import (
	"fmt"
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
