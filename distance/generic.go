package distance

import "math"

// Pure-Go kernels. They are the fallback on every platform, the path taken for
// vectors too short for assembly to pay, and the reference the assembly kernels
// are tested against. Four accumulators break the dependency chain so that the
// CPU can overlap the additions; the fixed-size subslices let the compiler drop
// the bounds checks inside the loop.
//
// Each kernel reads len(a) elements of b and panics if b is shorter.

func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func l2Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		d0 := x[0] - y[0]
		d1 := x[1] - y[1]
		d2 := x[2] - y[2]
		d3 := x[3] - y[3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// abs32 clears the sign bit; unlike a compare and branch it does not
// mispredict on random signs.
func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}

func l1Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		s0 += abs32(x[0] - y[0])
		s1 += abs32(x[1] - y[1])
		s2 += abs32(x[2] - y[2])
		s3 += abs32(x[3] - y[3])
	}
	for ; i < len(a); i++ {
		s0 += abs32(a[i] - b[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// gatherGo and batchGo are the pure-Go batch loops. Bounds have been checked
// by the caller, but the slicing below would still panic rather than read out
// of bounds.

func gatherGo(kernel func(a, b []float32) float32, dst, q, base []float32, dim int, ids []uint32) {
	dst = dst[:len(ids)]
	for i, id := range ids {
		off := int(id) * dim
		dst[i] = kernel(q, base[off:off+dim:off+dim])
	}
}

func batchGo(kernel func(a, b []float32) float32, dst, q, base []float32, dim, rows int) {
	dst = dst[:rows]
	for i := range dst {
		off := i * dim
		dst[i] = kernel(q, base[off:off+dim:off+dim])
	}
}

// chunksGo checks the ids, then scores them; badChunks panics if one is
// out of range.
func chunksGo(kernel func(a, b []float32) float32, dst, q []float32, chunks [][]float32, shift uint, ids []uint32) {
	if !chunkRowsInBounds(q, chunks, shift, ids) {
		badChunks(dst, q, chunks, shift, ids)
	}
	dim, mask := len(q), uint32(1)<<shift-1
	dst = dst[:len(ids)]
	for i, id := range ids {
		off := int(id&mask) * dim
		dst[i] = kernel(q, chunks[id>>shift][off:off+dim:off+dim])
	}
}
