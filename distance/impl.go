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

// Crossovers: vectors shorter than this many elements are scored in Go even
// when assembly is available, because the call into assembly costs more than
// it saves. The same threshold applies to the gather and batch forms (by
// dim), so that every form returns bit-identical results for the same pair.
// See KERNELS.md for the measurements.
const (
	minAVX2   = 8
	minAVX512 = 8
)

var (
	// curImpl is the kernel family in use.
	curImpl impl
	// asmMin is the shortest length scored in assembly; MaxInt when no
	// assembly is in use.
	asmMin = math.MaxInt
)

// envImpl names the environment variable that caps the kernel family:
// "purego", "avx2" or "avx512". Asking for a family the CPU lacks falls back
// to the best one it has.
const envImpl = "QLITE_DISTANCE_KERNELS"

func init() {
	best := bestImpl()
	if want, ok := parseImpl(os.Getenv(envImpl)); ok && want < best {
		best = want
	}
	setImpl(best)
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
		useAVX512, asmMin = true, minAVX512
	case implAVX2:
		useAVX512, asmMin = false, minAVX2
	default:
		useAVX512, asmMin = false, math.MaxInt
	}
	return prev
}

// Kernels reports the kernel family in use: "avx512", "avx2" or "purego".
func Kernels() string { return curImpl.String() }
