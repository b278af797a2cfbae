package payload

import (
	"cmp"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// pairSet is an ordered set of (key, point id) pairs, the storage behind
// the range-capable indexes. It is a list of sorted chunks of bounded size
// (a flat B+tree of height two): lookups binary-search the chunks and then
// the chunk, inserts and deletes move at most one chunk's worth of pairs,
// and range scans walk chunks in order. Pairs are unique, so a value that a
// point holds twice is stored once.
type pairSet[K cmp.Ordered] struct {
	chunks [][]pair[K]
	n      int
}

type pair[K cmp.Ordered] struct {
	key K
	id  uint32
}

// pairChunkMax is the size at which a chunk splits in two.
const pairChunkMax = 512

func pairLess[K cmp.Ordered](a, b pair[K]) bool {
	return a.key < b.key || (a.key == b.key && a.id < b.id)
}

// search returns the first position (chunk, offset) whose pair satisfies
// pred, which must be monotone (false then true) over the set's order. When
// no pair satisfies it, the position is (len(chunks), 0).
func (s *pairSet[K]) search(pred func(pair[K]) bool) (int, int) {
	ci := sort.Search(len(s.chunks), func(i int) bool {
		c := s.chunks[i]
		return pred(c[len(c)-1])
	})
	if ci == len(s.chunks) {
		return ci, 0
	}
	c := s.chunks[ci]
	return ci, sort.Search(len(c), func(j int) bool { return pred(c[j]) })
}

// insert adds p and reports whether it was new.
func (s *pairSet[K]) insert(p pair[K]) bool {
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, []pair[K]{p})
		s.n++
		return true
	}
	ci, j := s.search(func(q pair[K]) bool { return !pairLess(q, p) })
	if ci == len(s.chunks) {
		ci = len(s.chunks) - 1
		j = len(s.chunks[ci])
	}
	c := s.chunks[ci]
	if j < len(c) && c[j] == p {
		return false
	}
	c = slices.Insert(c, j, p)
	if len(c) > pairChunkMax {
		half := len(c) / 2
		right := make([]pair[K], len(c)-half, pairChunkMax)
		copy(right, c[half:])
		c = c[:half:half]
		left := make([]pair[K], half, pairChunkMax)
		copy(left, c)
		s.chunks[ci] = left
		s.chunks = slices.Insert(s.chunks, ci+1, right)
	} else {
		s.chunks[ci] = c
	}
	s.n++
	return true
}

// delete removes p and reports whether it was present.
func (s *pairSet[K]) delete(p pair[K]) bool {
	ci, j := s.search(func(q pair[K]) bool { return !pairLess(q, p) })
	if ci == len(s.chunks) {
		return false
	}
	c := s.chunks[ci]
	if j == len(c) || c[j] != p {
		return false
	}
	c = slices.Delete(c, j, j+1)
	if len(c) == 0 {
		s.chunks = slices.Delete(s.chunks, ci, ci+1)
	} else {
		s.chunks[ci] = c
	}
	s.n--
	return true
}

// keyBounds is an interval of keys; a missing side is unbounded.
type keyBounds[K cmp.Ordered] struct {
	lo, hi         K
	hasLo, hasHi   bool
	loIncl, hiIncl bool
	empty          bool // known to contain nothing
}

func (b keyBounds[K]) startPred(p pair[K]) bool {
	if !b.hasLo {
		return true
	}
	if b.loIncl {
		return p.key >= b.lo
	}
	return p.key > b.lo
}

func (b keyBounds[K]) endPred(p pair[K]) bool {
	if !b.hasHi {
		return false
	}
	if b.hiIncl {
		return p.key > b.hi
	}
	return p.key >= b.hi
}

// span returns the positions of the first pair in b and of the first pair
// after it.
func (s *pairSet[K]) span(b keyBounds[K]) (c0, j0, c1, j1 int) {
	if b.empty || len(s.chunks) == 0 {
		return 0, 0, 0, 0
	}
	c0, j0 = s.search(b.startPred)
	c1, j1 = s.search(b.endPred)
	if c1 < c0 || (c1 == c0 && j1 < j0) {
		return c0, j0, c0, j0
	}
	return
}

// count returns the number of pairs with keys in b.
func (s *pairSet[K]) count(b keyBounds[K]) int {
	c0, j0, c1, j1 := s.span(b)
	if c0 == c1 {
		return j1 - j0
	}
	n := len(s.chunks[c0]) - j0
	for c := c0 + 1; c < c1; c++ {
		n += len(s.chunks[c])
	}
	return n + j1
}

// ascend calls fn for the pairs with keys in b, in order, until fn returns
// false.
func (s *pairSet[K]) ascend(b keyBounds[K], fn func(pair[K]) bool) {
	c0, j0, c1, j1 := s.span(b)
	for c := c0; c <= c1 && c < len(s.chunks); c++ {
		for _, p := range s.chunkSpan(c, c0, j0, c1, j1) {
			if !fn(p) {
				return
			}
		}
	}
}

// descend calls fn for the pairs with keys in b, in reverse order, until
// fn returns false.
func (s *pairSet[K]) descend(b keyBounds[K], fn func(pair[K]) bool) {
	c0, j0, c1, j1 := s.span(b)
	for c := min(c1, len(s.chunks)-1); c >= c0; c-- {
		span := s.chunkSpan(c, c0, j0, c1, j1)
		for i := len(span) - 1; i >= 0; i-- {
			if !fn(span[i]) {
				return
			}
		}
	}
}

// appendIDs appends the point ids of the pairs with keys in b to dst.
func (s *pairSet[K]) appendIDs(b keyBounds[K], dst []uint32) []uint32 {
	c0, j0, c1, j1 := s.span(b)
	for c := c0; c <= c1 && c < len(s.chunks); c++ {
		for _, p := range s.chunkSpan(c, c0, j0, c1, j1) {
			dst = append(dst, p.id)
		}
	}
	return dst
}

// markDense sets in out the bit of each point id of the pairs with keys in
// b; ids past out's end are left out. It is appendIDs without the slice
// and the calls per pair: about a nanosecond a pair.
func (s *pairSet[K]) markDense(b keyBounds[K], out []uint64) {
	c0, j0, c1, j1 := s.span(b)
	for c := c0; c <= c1 && c < len(s.chunks); c++ {
		for _, p := range s.chunkSpan(c, c0, j0, c1, j1) {
			if w := int(p.id >> 6); w < len(out) {
				out[w] |= 1 << (p.id & 63)
			}
		}
	}
}

// chunkSpan returns the pairs of chunk c within the span (c0, j0)-(c1, j1).
func (s *pairSet[K]) chunkSpan(c, c0, j0, c1, j1 int) []pair[K] {
	chunk := s.chunks[c]
	from, to := 0, len(chunk)
	if c == c0 {
		from = j0
	}
	if c == c1 {
		to = j1
	}
	return chunk[from:to]
}

// bitmapOf returns a bitmap of ids, which may be in any order and repeat
// and are all below universe. ids is reordered. Large sets go through a
// dense bitset, which costs O(universe/64) instead of a sort.
func bitmapOf(ids []uint32, universe int) *roaring.Bitmap {
	if len(ids) == 0 {
		return roaring.New()
	}
	if len(ids) >= 1024 && len(ids) >= universe/64 {
		words := make([]uint64, (universe+63)/64)
		for _, id := range ids {
			words[id>>6] |= 1 << (id & 63)
		}
		return roaring.FromDense(words, false)
	}
	if len(ids) >= radixMin {
		ids = radixSort(ids, make([]uint32, len(ids)))
	} else {
		slices.Sort(ids)
	}
	bm := roaring.New()
	bm.AddMany(slices.Compact(ids))
	return bm
}

// radixMin is the fewest ids bitmapOf sorts by radix (BenchmarkBitmapOf,
// ids below 60,000, CPU per sort on a loaded machine): 553 ids took
// 4.5-5.0 us against 12.3-13.6 us with slices.Sort, 128 ids 1.1-1.8 us
// against 1.5-2.4 us, 64 ids 1.0-1.3 us against 0.8-1.1 us.
const radixMin = 128

// radixSort sorts ids a byte at a time from the least significant one (as
// many bytes as the largest id has), through tmp (as long as ids). It
// returns the sorted ids, in ids or tmp.
func radixSort(ids, tmp []uint32) []uint32 {
	top := uint32(0)
	for _, id := range ids {
		top |= id
	}
	for shift := uint(0); shift < 32 && top>>shift != 0; shift += 8 {
		var count [257]int
		for _, id := range ids {
			count[(id>>shift&0xff)+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, id := range ids {
			d := id >> shift & 0xff
			tmp[count[d]] = id
			count[d]++
		}
		ids, tmp = tmp, ids
	}
	return ids
}

// memoryBytes estimates the memory the set holds.
func (s *pairSet[K]) memoryBytes(pairSize int) int64 {
	var n int64
	for _, c := range s.chunks {
		n += int64(cap(c)*pairSize) + 24
	}
	return n
}
