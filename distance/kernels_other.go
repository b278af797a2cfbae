//go:build !amd64 || purego

package distance

// Without assembly every kernel runs in Go; setImpl never selects assembly,
// so the *Asm functions below are only reachable if that invariant breaks, and
// then they still compute the right answer.

func cpuImpls() (avx2, avx512 bool) { return false, false }

var useAVX512 bool

func dotAsm(a, b []float32) float32 { return dotGo(a, b) }
func l2Asm(a, b []float32) float32  { return l2Go(a, b) }
func l1Asm(a, b []float32) float32  { return l1Go(a, b) }

func dotGatherAsm(dst, q, base []float32, dim int, ids []uint32) {
	gatherGo(dotGo, dst, q, base, dim, ids)
}

func l2GatherAsm(dst, q, base []float32, dim int, ids []uint32) {
	gatherGo(l2Go, dst, q, base, dim, ids)
}

func l1GatherAsm(dst, q, base []float32, dim int, ids []uint32) {
	gatherGo(l1Go, dst, q, base, dim, ids)
}

func dotBatchAsm(dst, q, base []float32, dim, rows int) { batchGo(dotGo, dst, q, base, dim, rows) }
func l2BatchAsm(dst, q, base []float32, dim, rows int)  { batchGo(l2Go, dst, q, base, dim, rows) }
func l1BatchAsm(dst, q, base []float32, dim, rows int)  { batchGo(l1Go, dst, q, base, dim, rows) }
