package quant

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeMin is the smallest row buffer worth huge pages: searches read rows
// in random order, and with 4 KiB pages a buffer past the TLB's reach (a
// few MiB) costs a page walk for most rows it reads; 2 MiB pages cover
// 47 MB of scalar codes with a few dozen TLB entries.
const hugeMin = 8 << 20

const hugePage = 2 << 20

// hugePages returns a zeroed heap buffer of size bytes whose 2 MiB-aligned
// interior the kernel is asked to back with transparent huge pages
// (MADV_HUGEPAGE, then MADV_COLLAPSE for pages the allocator has already
// touched). The buffer is ordinary Go memory, collected as any other; the
// advice only changes how it is paged, and where the kernel refuses (THP
// off, no MADV_COLLAPSE) it is a 4 KiB-paged buffer as before. It returns
// nil when the start cannot be aligned, which does not happen.
func hugePages(size int) []byte {
	buf := make([]byte, size+hugePage)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	off := int((hugePage - p%hugePage) % hugePage)
	if off+size > len(buf) {
		return nil
	}
	out := buf[off : off+size : off+size]
	if whole := size &^ (hugePage - 1); whole > 0 {
		_ = unix.Madvise(out[:whole], unix.MADV_HUGEPAGE)
		_ = unix.Madvise(out[:whole], unix.MADV_COLLAPSE)
	}
	return out
}
