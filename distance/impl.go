package distance

import (
	"math"
	"os"
	"strings"
)

// impl names a family of kernels.
type impl uint8

const (
	implGo impl = iota
	implAVX2
	implAVX512
)

var implNames = [...]string{implGo: "purego", implAVX2: "avx2", implAVX512: "avx512"}

func (k impl) String() string { return implNames[k] }

// Crossovers, measured in KERNELS.md. Vectors shorter than asmCrossover
// elements are scored in Go even when assembly is available, because the call
// into assembly costs more than it saves. Under the AVX-512 family, vectors
// shorter than avx512Crossover use the AVX2 kernels, whose shorter reduction
// wins there. The thresholds apply to the gather and batch forms by dim, so
// every form returns bit-identical results for the same pair.
const (
	asmCrossover    = 6
	avx512Crossover = 64
)

var (
	// curImpl is the kernel family in use.
	curImpl impl
	// asmMin is the shortest length scored in assembly; MaxInt when no
	// assembly is in use.
	asmMin = math.MaxInt
	// avx512Min is the shortest length scored by the AVX-512 kernels (the
	// assembly dispatchers read it); MaxInt when AVX-512 is not in use.
	avx512Min = math.MaxInt
)

// envImpl names the environment variable that caps the kernel family:
// "purego", "avx2" or "avx512". Asking for a family the CPU lacks falls back
// to the best one it has.
const envImpl = "QLITE_DISTANCE_KERNELS"

func init() { setImpl(defaultImpl()) }

// defaultImpl is the family chosen at start-up: the best this CPU supports,
// capped by the environment variable.
func defaultImpl() impl { return capImpl(bestImpl(), os.Getenv(envImpl)) }

// capImpl lowers best to the family named by env, if env names a lower one.
func capImpl(best impl, env string) impl {
	if want, ok := parseImpl(env); ok && want < best {
		return want
	}
	return best
}

// supported reports whether this CPU can run kernel family k.
func supported(k impl) bool {
	avx2, avx512 := cpuImpls()
	switch k {
	case implGo:
		return true
	case implAVX2:
		return avx2
	case implAVX512:
		return avx512
	}
	return false
}

func bestImpl() impl {
	switch avx2, avx512 := cpuImpls(); {
	case avx512:
		return implAVX512
	case avx2:
		return implAVX2
	}
	return implGo
}

func parseImpl(s string) (impl, bool) {
	for k, name := range implNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return impl(k), true
		}
	}
	return 0, false
}

// forceAsm makes the current family score every length in assembly, and
// under AVX-512 every length in AVX-512, so that tests and benchmarks reach
// every kernel at every length. setImpl undoes it.
func forceAsm() {
	switch curImpl {
	case implAVX512:
		asmMin, avx512Min = 1, 0
	case implAVX2:
		asmMin = 1
	}
	qAsmMin = 1
}

// setImpl switches every kernel to family k and returns the previous family.
// It panics if the CPU cannot run k. It is not safe to call while kernels run
// concurrently; tests use it to force a path.
func setImpl(k impl) impl {
	if !supported(k) {
		panic("distance: BUG: kernel family " + k.String() + " not supported on this CPU")
	}
	prev := curImpl
	curImpl = k
	switch k {
	case implAVX512:
		asmMin, avx512Min = asmCrossover, avx512Crossover
	case implAVX2:
		asmMin, avx512Min = asmCrossover, math.MaxInt
	default:
		asmMin, avx512Min = math.MaxInt, math.MaxInt
	}
	setQuantImpl(k)
	return prev
}

// Kernels reports the kernel family in use: "avx512", "avx2" or "purego".
func Kernels() string { return curImpl.String() }
