package cputime

import (
	"testing"
	"time"
)

// Report reports cpu-ns/op, the CPU time spent over b.N operations, where
// the system gives the process's CPU time.
func Report(b *testing.B, spent time.Duration) {
	if spent > 0 {
		b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
