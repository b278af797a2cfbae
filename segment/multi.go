package segment

import (
	"sync/atomic"
	"unsafe"

	"github.com/qlite/qlite/distance"
)

// multiPageFloats is the number of float32 words of the largest
// multivector storage page (4 MiB); the first page holds
// multiFirstPageFloats words, and each next one twice its predecessor's, up
// to that size. A longer multivector gets a page of its own.
const (
	multiPageFloats      = 1 << 20
	multiFirstPageFloats = 1 << 12
)

// multiRef locates the stored multivector of one slot: elements [off,
// off+n*dim) of page page (counted in elements of the space's datatype),
// n vectors. n is 0 for a slot without one.
type multiRef struct {
	page, off, n uint32
}

// multiStore holds the multivectors of one space: flat pages of float32
// words holding the elements in the space's datatype (4, 2 or 1 bytes an
// element), vectors back to back, and per slot a reference into them (no Go slice
// per point). Pages and reference chunks are allocated whole, written once
// per slot before the slot is published, and never moved or freed, so
// readers take no lock.
type multiStore struct {
	// pages is the page directory; it grows under Segment.appendMu
	// (copy-on-write). fill is the number of elements used in the last
	// page, in elements of dt (guarded by appendMu).
	pages atomic.Pointer[[][]float32]
	fill  int
	// dt is the element type of the pages.
	dt Datatype
	// refs is the reference chunk directory, one chunk per slot chunk; it
	// grows with them (Segment.grow).
	refs atomic.Pointer[[]*[chunkSlots]multiRef]
	// bytes counts the bytes of the elements stored.
	bytes atomic.Int64
	// live counts the vectors of the live slots' multivectors (changed
	// under Segment.mu with the live bits).
	live atomic.Int64
}

func newMultiStore(dt Datatype) *multiStore {
	m := &multiStore{dt: dt}
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

// pageElems returns the elements of datatype dt that page p holds.
func (m *multiStore) pageElems(p []float32) int {
	return cap(p) * 4 / m.dt.Size()
}

// place stores v, a whole number of dim-long vectors, as slot off's
// multivector. A Float32 store preprocesses each vector for metric when
// preprocess is set; a Float16 or Uint8 store keeps v as given, which the
// caller converted (see VectorSpec.Datatype). The caller holds appendMu;
// nothing reads the slot yet.
func (m *multiStore) place(off uint32, v []float32, metric distance.Metric, dim int, preprocess bool) {
	pages := *m.pages.Load()
	if len(pages) == 0 || m.fill+len(v) > m.pageElems(pages[len(pages)-1]) {
		words := multiFirstPageFloats
		if len(pages) > 0 {
			words = min(multiPageFloats, 2*cap(pages[len(pages)-1]))
		}
		words = max(words, rowFloats(1, len(v), m.dt))
		next := append(pages, distance.MakeAligned(words))
		m.pages.Store(&next)
		pages, m.fill = next, 0
	}
	page := len(pages) - 1
	switch m.dt {
	case Float16:
		distance.F16FromF32(m.f16(page, m.fill, len(v)), v)
	case Uint8:
		distance.U8FromF32(m.u8(page, m.fill, len(v)), v)
	default:
		dst := pages[page][m.fill : m.fill+len(v) : m.fill+len(v)]
		if preprocess {
			metric.PreprocessMulti(dst, v, dim)
		} else {
			copy(dst, v)
		}
	}
	*m.ref(off) = multiRef{page: uint32(page), off: uint32(m.fill), n: uint32(len(v) / dim)}
	m.fill += len(v)
	m.bytes.Add(int64(len(v) * m.dt.Size()))
}

// u8 returns elements [off, off+n) of a Uint8 store's page.
func (m *multiStore) u8(page, off, n int) []byte {
	p := (*m.pages.Load())[page]
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(p))), 4*cap(p))
	return b[off : off+n : off+n]
}

// f16 returns elements [off, off+n) of a Float16 store's page.
func (m *multiStore) f16(page, off, n int) []uint16 {
	p := (*m.pages.Load())[page]
	h := unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(p))), 2*cap(p))
	return h[off : off+n : off+n]
}

// vector returns slot off's multivector (nil for none): for a Float32
// store it aliases a page; for the others it is the elements widened to
// float32, in a new slice.
func (m *multiStore) vector(off uint32, dim int) []float32 {
	r := m.ref(off)
	if r.n == 0 {
		return nil
	}
	n := int(r.n) * dim
	switch m.dt {
	case Float16:
		out := make([]float32, n)
		distance.F32FromF16(out, m.f16(int(r.page), int(r.off), n))
		return out
	case Uint8:
		out := make([]float32, n)
		for i, b := range m.u8(int(r.page), int(r.off), n) {
			out[i] = float32(b)
		}
		return out
	}
	end := int(r.off) + n
	return (*m.pages.Load())[r.page][r.off:end:end]
}

// maxSim returns the MaxSim distance (distance.Metric.MaxSim) of the query
// q, preprocessed as space.preprocessQuery does, to slot off's
// multivector, scored with the kernels of the store's datatype (a Uint8
// store scores qb, q's bytes); ok is false when the slot has none.
func (m *multiStore) maxSim(metric distance.Metric, q []float32, qb []byte, off uint32, dim int) (d float32, ok bool) {
	r := m.ref(off)
	if r.n == 0 || len(q) == 0 {
		return 0, false
	}
	n := int(r.n) * dim
	switch m.dt {
	case Float16:
		return metric.MaxSimF16(q, m.f16(int(r.page), int(r.off), n), dim), true
	case Uint8:
		return metric.MaxSimU8(qb, m.u8(int(r.page), int(r.off), n), dim), true
	}
	end := int(r.off) + n
	return metric.MaxSim(q, (*m.pages.Load())[r.page][r.off:end:end], dim), true
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
		switch sp.dtype {
		case Uint8:
			// Converted, not normalised: see narrowQuery.
			return Uint8.Convert(append(dst[:0], q...))
		case Float16:
			return Float16.Convert(sp.metric.PreprocessMultiQuery(dst, q, sp.dim))
		}
		return sp.metric.PreprocessMultiQuery(dst, q, sp.dim)
	}
	if sp.dtype != Float32 {
		return sp.narrowQuery(dst, q)
	}
	return sp.metric.PreprocessQuery(dst, q)
}
