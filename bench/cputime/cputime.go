//go:build unix

// Package cputime reads the process's CPU time, for benchmarks that must
// compare runs on a shared machine: unlike wall time, it leaves out the
// time other processes hold the cores.
package cputime

import (
	"syscall"
	"time"
)

// Now returns the CPU time (user and system) the process has used, or 0
// when the system does not say.
func Now() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
