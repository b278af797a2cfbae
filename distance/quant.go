package distance

import (
	"fmt"
	"math"
	"unsafe"
)

// Kernels for quantised and narrow vectors (see doc.go, "Quantised and
// narrow rows"). Like the float32 kernels they never allocate, read len(a)
// (or len(q)) elements and panic with a "distance: BUG" message when the
// other operand is shorter.

// quantAsmMin is the shortest length handed to assembly; below it the Go
// kernels win (a call into assembly costs a few nanoseconds).
const quantAsmCrossover = 16

var (
	// qAsmMin is the shortest length scored in assembly (MaxInt without).
	qAsmMin = quantAsmCrossover
	// qInt is the family of the byte kernels (DotU8, SquaredL2U8, L1U8):
	// implAVX512 needs AVX-512BW and AVX512_VNNI.
	qInt impl
	// qPop is the family of the popcount kernels: implAVX512 needs
	// AVX512_VPOPCNTDQ; without it Go's POPCNT-backed bits.OnesCount64 runs,
	// but for XorPopcountGather, which with POPCNT (implAVX2) runs in
	// assembly.
	qPop impl
	// qF16 is the family of the float16, uint8-row and PQ kernels: implAVX2
	// needs F16C, implAVX512 AVX-512BW as well.
	qF16 impl
)

// setQuantImpl caps the quantised kernels at family k and what the CPU has.
func setQuantImpl(k impl) {
	f := quantFeatures()
	qInt, qPop, qF16 = implGo, implGo, implGo
	if k >= implAVX2 {
		qInt = implAVX2
		if f.popcnt {
			qPop = implAVX2
		}
		if f.f16c {
			qF16 = implAVX2
		}
	}
	if k >= implAVX512 {
		if f.vnni {
			qInt = implAVX512
		}
		if f.popcnt512 {
			qPop = implAVX512
		}
		if f.f16c && f.bw {
			qF16 = implAVX512
		}
	}
	qAsmMin = quantAsmCrossover
}

// quantCPU lists the CPU features the quantised kernels use beyond those
// of the float32 kernels.
type quantCPU struct {
	bw, vnni, popcnt512, popcnt, f16c bool
}

// QuantKernels reports the families of the quantised kernels in use, as
// "int=avx512 popcount=avx512 f16=avx512".
func QuantKernels() string {
	return fmt.Sprintf("int=%v popcount=%v f16=%v", qInt, qPop, qF16)
}

// DotU8 returns the dot product of two byte vectors, exact (as uint32) for
// vectors of up to 65536 elements, which covers Qdrant's largest dimension.
// Scalar int8 codes (0..127) and uint8 datatype rows (0..255) both use it.
func DotU8(a, b []byte) uint32 {
	if len(b) < len(a) {
		badLengths(len(a), len(b))
	}
	if len(a) >= qAsmMin {
		return dotU8Asm(a, b)
	}
	return dotU8Go(a, b)
}

// SquaredL2U8 returns the squared Euclidean distance between two byte
// vectors, exact for up to 65536 elements.
func SquaredL2U8(a, b []byte) uint32 {
	if len(b) < len(a) {
		badLengths(len(a), len(b))
	}
	if len(a) >= qAsmMin {
		return l2U8Asm(a, b)
	}
	return l2U8Go(a, b)
}

// L1U8 returns the Manhattan distance between two byte vectors, exact for
// up to 16 million elements.
func L1U8(a, b []byte) uint32 {
	if len(b) < len(a) {
		badLengths(len(a), len(b))
	}
	if len(a) >= qAsmMin {
		return l1U8Asm(a, b)
	}
	return l1U8Go(a, b)
}

// DotF16 returns the dot product of a float32 query and a float16 row
// (IEEE 754 binary16 bit patterns), the row widened exactly to float32.
func DotF16(q []float32, row []uint16) float32 {
	if len(row) < len(q) {
		badLengths(len(q), len(row))
	}
	if len(q) >= qAsmMin && qF16 != implGo {
		return dotF16Asm(q, row)
	}
	return dotF16Go(q, row)
}

// SquaredL2F16 returns the squared Euclidean distance between a float32
// query and a float16 row.
func SquaredL2F16(q []float32, row []uint16) float32 {
	if len(row) < len(q) {
		badLengths(len(q), len(row))
	}
	if len(q) >= qAsmMin && qF16 != implGo {
		return l2F16Asm(q, row)
	}
	return l2F16Go(q, row)
}

// L1F16 returns the Manhattan distance between a float32 query and a
// float16 row.
func L1F16(q []float32, row []uint16) float32 {
	if len(row) < len(q) {
		badLengths(len(q), len(row))
	}
	if len(q) >= qAsmMin && qF16 != implGo {
		return l1F16Asm(q, row)
	}
	return l1F16Go(q, row)
}

// DotU8F32 returns the dot product of a float32 query and a uint8 row.
func DotU8F32(q []float32, row []byte) float32 {
	if len(row) < len(q) {
		badLengths(len(q), len(row))
	}
	if len(q) >= qAsmMin && qF16 != implGo {
		return dotU8F32Asm(q, row)
	}
	return dotU8F32Go(q, row)
}

// SquaredL2U8F32 returns the squared Euclidean distance between a float32
// query and a uint8 row.
func SquaredL2U8F32(q []float32, row []byte) float32 {
	if len(row) < len(q) {
		badLengths(len(q), len(row))
	}
	if len(q) >= qAsmMin && qF16 != implGo {
		return l2U8F32Asm(q, row)
	}
	return l2U8F32Go(q, row)
}

// L1U8F32 returns the Manhattan distance between a float32 query and a
// uint8 row.
func L1U8F32(q []float32, row []byte) float32 {
	if len(row) < len(q) {
		badLengths(len(q), len(row))
	}
	if len(q) >= qAsmMin && qF16 != implGo {
		return l1U8F32Asm(q, row)
	}
	return l1U8F32Go(q, row)
}

// F16FromF32 converts src to float16 into dst[:len(src)], rounding to
// nearest, ties to even (as Rust's half crate and VCVTPS2PH do): overflow
// gives an infinity, NaN stays NaN. It panics if dst is shorter than src.
func F16FromF32(dst []uint16, src []float32) {
	if len(dst) < len(src) {
		badLengths(len(src), len(dst))
	}
	i := 0
	if len(src) >= qAsmMin && qF16 != implGo {
		i = f16FromF32Asm(dst, src)
	}
	for ; i < len(src); i++ {
		dst[i] = f32ToF16(src[i])
	}
}

// F32FromF16 widens src into dst[:len(src)] (exact). It panics if dst is
// shorter than src.
func F32FromF16(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		badLengths(len(src), len(dst))
	}
	i := 0
	if len(src) >= qAsmMin && qF16 != implGo {
		i = f32FromF16Asm(dst, src)
	}
	for ; i < len(src); i++ {
		dst[i] = f16ToF32(src[i])
	}
}

// U8FromF32 converts src into dst[:len(src)] as Qdrant 1.17 stores a float
// in a uint8 vector: rounded toward zero, saturating at 0 and 255, NaN to 0
// (so [1.7, -2, 300] becomes [1, 0, 255]). It panics if dst is shorter.
func U8FromF32(dst []byte, src []float32) {
	if len(dst) < len(src) {
		badLengths(len(src), len(dst))
	}
	dst = dst[:len(src)]
	for i, f := range src {
		dst[i] = f32ToU8(f)
	}
}

// XorPopcount returns the number of bits that differ between a and b: the
// Hamming distance of two binary codes.
func XorPopcount(a, b []uint64) uint32 {
	if len(b) < len(a) {
		badLengths(len(a), len(b))
	}
	if len(a) >= 8 && qPop == implAVX512 {
		return xorPopcountAVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	}
	return xorPopcountGo(a, b)
}

// AndPopcount returns the number of bits set in both a and b.
func AndPopcount(a, b []uint64) uint32 {
	if len(b) < len(a) {
		badLengths(len(a), len(b))
	}
	if len(a) >= 8 && qPop == implAVX512 {
		return andPopcountAVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	}
	return andPopcountGo(a, b)
}

// XorPopcountPlanes scores a binary code v against a query held as bit
// planes: q[w*planes+p] holds bit p of the query's values for the 64
// positions of word w of v. It returns Σ_w Σ_p popcount(v[w] XOR
// q[w*planes+p]) << p, the sum over positions of the query value XORed with
// the code bit replicated to every bit (Qdrant's scalar4bits / scalar8bits
// query encodings against a binary code). planes is 1..8; it panics if q is
// shorter than len(v)*planes.
func XorPopcountPlanes(v, q []uint64, planes int) uint32 {
	if planes < 1 || planes > 8 || len(q) < len(v)*planes {
		panic(fmt.Sprintf("distance: BUG: bit planes out of contract: len(v)=%d len(q)=%d planes=%d", len(v), len(q), planes))
	}
	if len(v) >= 4 && qPop == implAVX512 && (planes == 8 || planes == 4) {
		n := len(v)
		if planes == 4 {
			n &^= 1
		}
		s := xorPlanesAVX512(unsafe.SliceData(v), unsafe.SliceData(q), n, planes)
		if n < len(v) {
			s += xorPopcountPlanesGo(v[n:], q[n*planes:], planes)
		}
		return s
	}
	return xorPopcountPlanesGo(v, q, planes)
}

// PQScore returns the sum over sub-vectors j of lut[j*256+codes[j]]: the
// score of a product-quantised row with codes against a query's lookup table
// (one 256-entry table per sub-vector). It panics if lut holds fewer than
// len(codes)*256 entries.
func PQScore(lut []float32, codes []byte) float32 {
	if len(lut) < len(codes)*256 {
		badLengths(len(codes)*256, len(lut))
	}
	var dst [1]float32
	if pqGatherAsm(dst[:], lut, codes, len(codes), pqOneRow[:]) {
		return dst[0]
	}
	return pqScoreGo(lut, codes)
}

var pqOneRow = [1]uint32{0}

// PQGather sets dst[i] to PQScore(lut, row ids[i] of codes), where codes is
// a row-major matrix of m-byte rows. It panics, having scored nothing, if a
// row lies outside codes or dst is shorter than ids.
func PQGather(dst, lut []float32, codes []byte, m int, ids []uint32) {
	if m <= 0 || len(lut) < m*256 || len(dst) < len(ids) || !byteRowsInBounds(len(codes), m, ids) {
		panic(fmt.Sprintf("distance: BUG: PQ gather out of contract: m=%d len(lut)=%d len(dst)=%d len(ids)=%d len(codes)=%d", m, len(lut), len(dst), len(ids), len(codes)))
	}
	lut = lut[:m*256]
	if pqGatherAsm(dst, lut, codes, m, ids) {
		return
	}
	for i, id := range ids {
		off := int(id) * m
		dst[i] = pqScoreGo(lut, codes[off:off+m:off+m])
	}
}

// byteRowsInBounds reports whether every row of width m named by ids lies
// inside a buffer of n bytes.
func byteRowsInBounds(n, m int, ids []uint32) bool {
	return idsInBounds(n, m, ids)
}

// LUTTerms adds to each dst[i] the metric's per-element term between x and
// col[i]: (x-col[i])² for Euclid, |x-col[i]| for Manhattan, and -x·col[i]
// for Dot and Cosine. Summed over the elements of a sub-vector, column by
// column, this builds a product quantisation lookup table for 256
// centroids stored column-major in a few vector operations per column. Each
// dst[i] is computed as Go computes dst[i] += term(x, col[i]), without fused
// multiply-add, so results are bit-identical on every implementation. It
// panics if col is shorter than dst.
func LUTTerms(m Metric, dst, col []float32, x float32) {
	if len(col) < len(dst) {
		badLengths(len(dst), len(col))
	}
	op := lutOp(m)
	if op == lutNegMul {
		x = -x
	}
	n := lutTermsAsm(op, dst, col, x)
	lutTermsGo(op, dst[n:], col[n:len(dst)], x)
}

// The LUTTerms operations; lutNegMul takes -x.
const (
	lutSquaredDiff = iota
	lutAbsDiff
	lutNegMul
)

func lutOp(m Metric) int {
	switch m {
	case Euclid:
		return lutSquaredDiff
	case Manhattan:
		return lutAbsDiff
	}
	return lutNegMul
}

func lutTermsGo(op int, dst, col []float32, x float32) {
	col = col[:len(dst)]
	switch op {
	case lutSquaredDiff:
		for i, y := range col {
			d := x - y
			dst[i] += float32(d * d) // the conversion forbids a fused multiply-add
		}
	case lutAbsDiff:
		for i, y := range col {
			dst[i] += float32(math.Abs(float64(x - y)))
		}
	default:
		for i, y := range col {
			dst[i] += float32(x * y)
		}
	}
}
