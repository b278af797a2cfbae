package compat

import "syscall"

// diskSizeKiB returns the size of the file system holding dir, in KiB.
func diskSizeKiB(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return st.Blocks * uint64(st.Bsize) / 1024, true
}
