//go:build !unix

package engine

import "errors"

// mmapFile is not available here: segment files are read into the heap.
func mmapFile(fd uintptr, size int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("memory mapping not supported")
}
