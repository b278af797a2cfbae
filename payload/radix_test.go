package payload

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/bench/cputime"
)

// TestRadixSort checks radixSort against slices.Sort for ids of one to four
// bytes, with repeats, and bitmapOf on both sides of radixMin.
func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, universe := range []int{1, 2, 255, 256, 257, 60000, 1 << 16, 1<<16 + 1, 1 << 24, 1<<24 + 3, 1 << 31} {
		for _, n := range []int{0, 1, 2, 127, 128, 553, 5000} {
			ids := make([]uint32, n)
			for i := range ids {
				ids[i] = uint32(r.IntN(universe))
				if i > 0 && r.IntN(5) == 0 {
					ids[i] = ids[r.IntN(i)]
				}
			}
			want := append([]uint32{}, ids...)
			slices.Sort(want)
			require.Equal(t, want, append([]uint32{}, radixSort(slices.Clone(ids), make([]uint32, n))...), "universe %d n %d", universe, n)
			bm := bitmapOf(slices.Clone(ids), universe)
			require.Equal(t, slices.Compact(want), append([]uint32{}, bm.ToArray()...), "universe %d n %d", universe, n)
		}
	}
}

// BenchmarkBitmapOf measures the sort of bitmapOf on the candidates of
// range filters over 60,000 points (553 ids: 1%), with radixSort and
// slices.Sort.
//
//	go test ./payload -run XXX -bench BitmapOf -count 6 -cpu 1
func BenchmarkBitmapOf(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{64, 128, 553} {
		ids := make([]uint32, n)
		for i := range ids {
			ids[i] = uint32(r.IntN(60000))
		}
		buf := make([]uint32, len(ids))
		for _, radix := range []bool{false, true} {
			name := fmt.Sprintf("n=%d/sort=slices", n)
			if radix {
				name = fmt.Sprintf("n=%d/sort=radix", n)
			}
			b.Run(name, func(b *testing.B) {
				cpu0 := cputime.Now()
				for b.Loop() {
					copy(buf, ids)
					if radix {
						radixSort(buf, make([]uint32, len(buf)))
					} else {
						slices.Sort(buf)
					}
				}
				cputime.Report(b, cputime.Now()-cpu0)
			})
		}
	}
}
