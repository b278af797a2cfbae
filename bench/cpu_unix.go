//go:build unix

package bench

import "syscall"

// cpuSeconds returns the user plus system CPU time consumed by the process so
// far, or 0 where unavailable.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
