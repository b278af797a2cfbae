//go:build unix

package segment

import (
	"syscall"
	"testing"
	"time"
)

// cpuNow returns the CPU time (user and system) the process has used.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports cpu-ns/op: the CPU time spent over b.N operations.
// Unlike ns/op it leaves out the time other processes hold the cores, so it
// compares runs on a shared machine.
func reportCPU(b *testing.B, spent time.Duration) {
	b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
