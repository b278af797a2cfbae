//go:build unix

package engine

import "golang.org/x/sys/unix"

// mmapFile maps the first size bytes of the file fd read-only and shared.
func mmapFile(fd uintptr, size int64) ([]byte, func() error, error) {
	data, err := unix.Mmap(int(fd), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return unix.Munmap(data) }, nil
}
