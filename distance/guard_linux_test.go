package distance

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// guardedPage returns one page of float32s with inaccessible pages on both
// sides, so that any kernel reading outside its slices faults.
func guardedPage(t *testing.T) []float32 {
	t.Helper()
	ps := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 3*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	require.NoError(t, syscall.Mprotect(mem[:ps], syscall.PROT_NONE))
	require.NoError(t, syscall.Mprotect(mem[2*ps:], syscall.PROT_NONE))
	page := mem[ps : 2*ps]
	return unsafe.Slice((*float32)(unsafe.Pointer(&page[0])), ps/4)
}

// TestKernelsGuardPages places vectors flush against inaccessible pages: the
// masked tails must not touch a byte past the end (or before the start).
func TestKernelsGuardPages(t *testing.T) {
	page := guardedPage(t)
	for i := range page {
		page[i] = float32(i%31) - 15
	}
	forEachImpl(t, func(t *testing.T) {
		for n := 0; n <= 300; n++ {
			a := page[len(page)-n:] // ends at the upper guard
			b := page[:n]           // starts at the lower guard
			for _, kc := range kernelCases {
				exact, cond := kc.ref(a, b)
				checkClose(t, kc.kernel(a, b), exact, cond, n, "%s n=%d", kc.name, n)
				checkClose(t, kc.kernel(b, a), exact, cond, n, "%s n=%d swapped", kc.name, n)
			}
		}
		for _, dim := range []int{1, 5, 12, 13, 16, 17, 100, 255} {
			rows := len(page) / 2 / dim
			base := page[len(page)-rows*dim:]
			q := page[:dim]
			ids := []uint32{uint32(rows - 1), 0, uint32(rows / 2), uint32(rows - 1)}
			dst := make([]float32, len(ids))
			for _, gf := range gatherFuncs {
				gf.gather(dst, q, base, dim, ids)
				for i, id := range ids {
					require.Equal(t, gf.single(q, base[int(id)*dim:int(id+1)*dim]), dst[i])
				}
				out := make([]float32, rows)
				gf.batch(out, q, base, dim)
				require.Equal(t, gf.single(q, base[(rows-1)*dim:]), out[rows-1])
			}
		}
	})
}
