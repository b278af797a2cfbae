//go:build !linux

package compat

// diskSizeKiB is unknown off Linux.
func diskSizeKiB(dir string) (uint64, bool) { return 0, false }
