package segment

import (
	"sync/atomic"

	"github.com/qlite/qlite/distance"
)

// multiPageFloats is the number of float32 elements of a multivector
// storage page (4 MiB); a longer multivector gets a page of its own.
const multiPageFloats = 1 << 20

// multiRef locates the stored multivector of one slot: elements [off,
// off+n*dim) of page page, n vectors. n is 0 for a slot without one.
type multiRef struct {
	page, off, n uint32
}

// multiStore holds the multivectors of one space: flat float32 pages,
// vectors back to back, and per slot a reference into them (no Go slice
// per point). Pages and reference chunks are allocated whole, written once
// per slot before the slot is published, and never moved or freed, so
// readers take no lock.
type multiStore struct {
	// pages is the page directory; it grows under Segment.appendMu
	// (copy-on-write). fill is the number of elements used in the last
	// page (guarded by appendMu).
	pages atomic.Pointer[[][]float32]
	fill  int
	// refs is the reference chunk directory, one chunk per slot chunk; it
	// grows with them (Segment.grow).
	refs atomic.Pointer[[]*[chunkSlots]multiRef]
	// bytes counts the elements stored, times 4.
	bytes atomic.Int64
	// live counts the vectors of the live slots' multivectors (changed
	// under Segment.mu with the live bits).
	live atomic.Int64
}

func newMultiStore() *multiStore {
	m := &multiStore{}
	m.pages.Store(&[][]float32{})
	m.refs.Store(&[]*[chunkSlots]multiRef{})
	return m
}

// grow allocates the reference chunks of every slot up to last. The caller
// holds appendMu.
func (m *multiStore) grow(last uint32) {
	refs := *m.refs.Load()
	for len(refs) <= int(last>>chunkBits) {
		next := append(refs, new([chunkSlots]multiRef))
		m.refs.Store(&next)
		refs = next
	}
}

// ref returns the reference of slot off, whose chunk is allocated.
func (m *multiStore) ref(off uint32) *multiRef {
	return &(*m.refs.Load())[off>>chunkBits][off&chunkMask]
}

// place stores v, a whole number of dim-long vectors, as slot off's
// multivector, each vector preprocessed for metric when preprocess is set.
// The caller holds appendMu; nothing reads the slot yet.
func (m *multiStore) place(off uint32, v []float32, metric distance.Metric, dim int, preprocess bool) {
	pages := *m.pages.Load()
	if len(pages) == 0 || m.fill+len(v) > len(pages[len(pages)-1]) {
		next := append(pages, distance.MakeAligned(max(multiPageFloats, len(v))))
		m.pages.Store(&next)
		pages, m.fill = next, 0
	}
	page := len(pages) - 1
	dst := pages[page][m.fill : m.fill+len(v) : m.fill+len(v)]
	if preprocess {
		metric.PreprocessMulti(dst, v, dim)
	} else {
		copy(dst, v)
	}
	*m.ref(off) = multiRef{page: uint32(page), off: uint32(m.fill), n: uint32(len(v) / dim)}
	m.fill += len(v)
	m.bytes.Add(int64(len(v)) * 4)
}

// vector returns slot off's multivector (nil for none), which aliases a
// page.
func (m *multiStore) vector(off uint32, dim int) []float32 {
	r := m.ref(off)
	if r.n == 0 {
		return nil
	}
	end := int(r.off) + int(r.n)*dim
	return (*m.pages.Load())[r.page][r.off:end:end]
}

// allocated returns the bytes the pages and reference chunks hold.
func (m *multiStore) allocated() int64 {
	var n int64
	for _, p := range *m.pages.Load() {
		n += int64(cap(p)) * 4
	}
	return n + int64(len(*m.refs.Load()))*chunkSlots*12
}

// MultiVectors returns the number of vectors the live points hold in
// multivector space name, summed over their multivectors (0 for a plain
// space). The pages also hold deleted slots' vectors until the segment is
// rebuilt; those are not counted.
func (s *Segment) MultiVectors(name string) (int, error) {
	sp, err := s.space(name)
	if err != nil || sp.multi == nil {
		return 0, err
	}
	return int(sp.multi.live.Load()), nil
}

// fits reports whether a vector of n elements has sp's shape: dim
// elements, or for a multivector space a positive multiple of dim.
func (sp *space) fits(n int) bool {
	if sp.multi != nil {
		return n > 0 && n%sp.dim == 0
	}
	return n == sp.dim
}

// validate checks a user-supplied vector of sp.
func (sp *space) validate(v []float32) error {
	if sp.multi != nil {
		return distance.ValidateMulti(v, sp.dim)
	}
	return distance.Validate(v, sp.dim)
}

// preprocessQuery writes q, preprocessed as sp's queries are, into dst.
func (sp *space) preprocessQuery(dst, q []float32) []float32 {
	if sp.multi != nil {
		return sp.metric.PreprocessMultiQuery(dst, q, sp.dim)
	}
	if sp.dtype != Float32 {
		return sp.narrowQuery(dst, q)
	}
	return sp.metric.PreprocessQuery(dst, q)
}
