package segment

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
)

// VectorSpec describes one named vector space of a segment.
type VectorSpec struct {
	// Name is the vector's name; "" is Qdrant's unnamed default vector.
	Name string
	// Dim is the vector dimension. Required, > 0.
	Dim int
	// Metric is the distance. Required.
	Metric distance.Metric
	// HNSW holds the graph parameters. Zero fields take hnsw's defaults
	// (M 16, M0 2*M, EfConstruct 100, LevelMult 1/ln M, Seed 0).
	HNSW hnsw.Config
	// FullScanThreshold is the number of matching points at or below which
	// a filtered search scores the matching points exactly instead of
	// searching the graph. Default: as many points as 10000 KB of this
	// vector hold, 10000*1024/(4*Dim) (Qdrant's full_scan_threshold).
	FullScanThreshold int
	// Multi makes the space hold multivectors (Qdrant's multivector_config
	// with the max_sim comparator): each point has one or more Dim-long
	// vectors, given and returned back to back in one slice, and is scored
	// by MaxSim (distance.Metric.MaxSim), in searches and in the graph,
	// whose nodes are points.
	Multi bool
	// PayloadM is M of the payload links of the graph (Qdrant's hnsw
	// payload_m): the graphs built over payload blocks whose links are
	// added to the graph's own (see BuildPayloadLinks). 0, the default,
	// builds none.
	PayloadM int
	// NoGraph leaves the space without a graph (Qdrant's hnsw m = 0):
	// every search scores the (matching) points exactly.
	NoGraph bool
	// Datatype is the element type of the stored rows. Default Float32.
	// Float16 and Uint8 spaces keep each row in 2 or 1 bytes an element
	// and score with kernels for that type (see Datatype); a multivector
	// space is Float32 only. Append stores the vectors of a Float16 or
	// Uint8 space converted but not preprocessed: the caller normalises
	// Cosine float16 vectors first (uint8 ones are stored unnormalised, as
	// Qdrant stores them), so that the row is the rounding of what the
	// caller keeps. Queries are preprocessed by the segment as usual.
	Datatype Datatype
}

// Options configures a Segment.
type Options struct {
	// Vectors are the segment's dense vector spaces, names unique.
	Vectors []VectorSpec
	// Sparse are the segment's sparse vectors, names unique and distinct
	// from the dense ones'. A segment may have no vectors at all.
	Sparse []SparseSpec
	// Capacity is the maximum number of slots: a limit, not a
	// reservation. Storage grows in chunks as slots are used (see the
	// package documentation). Required, > 0, below 2^32-1.
	Capacity int
	// Rows gives, for NewLoading only, the vectors of some dense spaces
	// (by name): the segment reads them in place (see MapRows) and takes
	// the spaces' presence bits from them, and Fill ignores the vectors
	// of these spaces. Default: none.
	Rows map[string]Rows
	// Payloads, when set, is where the segment reads its slots' payloads:
	// the segment then keeps no payload values, only the field indexes
	// built from them (Qdrant's on_disk_payload). Default: nil, payloads
	// are held in memory.
	Payloads PayloadSource
}

// Point is one point version to store.
type Point struct {
	ID filter.PointID
	// Version is the id of the operation that wrote this version.
	Version uint64
	// Vectors holds the point's vectors by name. A name may be absent: the
	// point lacks that vector.
	Vectors map[string][]float32
	// Sparse holds the point's sparse vectors by name, as Vectors.
	Sparse map[string]SparseVector
	// Payload is a JSON object or null.
	Payload payload.Value
}

// Errors returned by a Segment.
var (
	// ErrDimMismatch is returned (wrapped, naming the vector) for a vector
	// of the wrong dimension.
	ErrDimMismatch = distance.ErrDimMismatch
	// ErrFull is returned by Append when every slot is used.
	ErrFull = errors.New("qlite: segment is full")
	// ErrSealed is returned by Append and Fill on a sealed segment, and by
	// Append on a segment that is still loading.
	ErrSealed = errors.New("qlite: segment is sealed")
	// ErrUnknownVector is returned (wrapped, naming the vector) for a vector
	// name the segment has no space for.
	ErrUnknownVector = errors.New("qlite: not existing vector name")
	// ErrBadOptions is wrapped by every options validation error.
	ErrBadOptions = errors.New("qlite: invalid segment options")
)

// Segment holds point versions in slots: their ids, vectors, payloads,
// payload indexes and one graph per vector space. See the package
// documentation for lifetimes and concurrency.
type Segment struct {
	capacity int
	src      PayloadSource // nil: payloads in the slot chunks
	spaces   []*space
	byName   map[string]*space // immutable after construction
	// sparse are the sparse vectors; their presence bits follow the dense
	// spaces' in slotChunk.has.
	sparse       []*sparseSpace
	sparseByName map[string]*sparseSpace // immutable after construction

	// dir is the slot chunk directory (see slotChunk): it grows under
	// appendMu, copy-on-write, and is read without locks.
	dir      atomic.Pointer[[]*slotChunk]
	n        atomic.Uint32 // slots used; slots below it are published
	nlive    atomic.Int64  // popcount of the live bits
	pbytes   atomic.Int64  // estimated bytes held by payloads
	sealed   atomic.Bool   // no more Append or Fill
	loading  bool          // NewLoading until Seal; guarded by appendMu
	filled   []uint64      // loading: slots Fill has placed; guarded by appendMu
	loadedG  []bool        // loading: spaces LoadGraph has installed; guarded by appendMu
	appendMu sync.Mutex    // serialises Append, Fill, Seal and LoadGraph

	// mu guards the structures that index live slots: appends, deletes and
	// field index changes take it exclusively, filtered reads share it.
	mu struct {
		sync.RWMutex
		indexes map[string]*fieldIndex
		lookup  idIndex         // point id -> live slot
		all     *roaring.Bitmap // live slots, for the planner
	}

	// buildMu serialises BuildGraph calls.
	buildMu sync.Mutex
	// buildHook, when set (tests), runs between batches of graph inserts.
	buildHook func()

	scratch sync.Pool // *scratch
}

// space is one vector space: its storage, presence bits and graph.
type space struct {
	spec   VectorSpec
	idx    int // index in Segment.spaces and slotChunk.has
	dim    int
	metric distance.Metric
	dtype  Datatype // immutable; see "Narrow rows" in datatype.go
	// rows is the vector chunk directory: chunk c holds the rows of slots
	// [c<<rowBits, (c+1)<<rowBits), row-major, 64-byte aligned. It grows
	// with the slot chunks (Segment.grow); rows never move.
	rows    atomic.Pointer[[][]float32]
	rowBits uint
	// hasBM holds the live slots that have this vector (the planner's
	// has_vector answer). Guarded by Segment.mu.
	hasBM *roaring.Bitmap
	graph atomic.Pointer[hnsw.Graph]
	// indexed: every live slot below it that has this vector is a node of
	// the graph. building: no node of the graph is at or above it (it runs
	// ahead of indexed while a build inserts). Both only grow, except that
	// a cancelled build lowers building to the first slot it did not insert
	// (not below where it was).
	indexed  atomic.Uint32
	building atomic.Uint32
	// dirty is set while inserts that were not followed by the build's
	// reconnection pass may have left a node unreachable.
	dirty atomic.Bool
	// multi holds the vectors of a multivector space (spec.Multi), which
	// has no rows.
	multi *multiStore
	// mapped is set when rows are Rows given by the caller (MapRows,
	// Options.Rows) rather than chunks of the segment's own.
	mapped atomic.Bool
	// rowsInHeap is set when mapped rows were read into the heap.
	rowsInHeap atomic.Bool
	// quant holds the quantised vectors of a sealed segment (SetQuantized).
	quant atomic.Pointer[Quantized]
}

type fieldIndex struct {
	path   payload.Path
	params payload.IndexParams
	idx    payload.Index
}

// New returns an empty segment.
func New(opts *Options) (*Segment, error) {
	if opts != nil && len(opts.Rows) > 0 {
		return nil, fmt.Errorf("%w: rows are given to loading segments only", ErrBadOptions)
	}
	return newSegment(opts, 0)
}

// NewLoading returns a segment whose first len(ids) slots are reserved for
// a persisted segment being loaded: slot i holds the point ids[i] at
// version versions[i], and is not live until Fill places it. A zero
// Options.Capacity means len(ids). Until Seal, the segment belongs to the
// loader: only Fill, LoadGraph, Seal and the read-only accessors may be
// called, and not concurrently with each other. Append is refused
// (ErrSealed) before and after Seal: a loaded segment is sealed.
func NewLoading(opts *Options, ids []filter.PointID, versions []uint64) (*Segment, error) {
	if len(ids) != len(versions) {
		return nil, fmt.Errorf("%w: %d ids and %d versions", ErrBadOptions, len(ids), len(versions))
	}
	if opts != nil && opts.Capacity == 0 {
		o := *opts
		o.Capacity = max(len(ids), 1)
		opts = &o
	}
	s, err := newSegment(opts, len(ids))
	if err != nil {
		return nil, err
	}
	s.grow(uint32(len(ids)))
	dir := s.chunks()
	for i := range ids {
		ch := dir[i>>chunkBits]
		ch.ids[i&chunkMask], ch.versions[i&chunkMask] = ids[i], versions[i]
	}
	for name, r := range opts.Rows {
		sp := s.byName[name]
		for w, bits := range r.Has {
			if w == len(r.Has)-1 && len(ids)&63 != 0 {
				bits &= 1<<(len(ids)&63) - 1
			}
			dir[w>>wordBits].has[sp.idx][w&(chunkWords-1)].Store(bits)
		}
	}
	s.loading = true
	s.filled = make([]uint64, (len(ids)+63)/64)
	s.loadedG = make([]bool, len(s.spaces))
	s.n.Store(uint32(len(ids)))
	return s, nil
}

func newSegment(opts *Options, reserved int) (*Segment, error) {
	if opts == nil {
		return nil, fmt.Errorf("%w: nil options", ErrBadOptions)
	}
	c := opts.Capacity
	if c <= 0 || c >= math.MaxUint32 {
		return nil, fmt.Errorf("%w: capacity %d", ErrBadOptions, c)
	}
	if reserved > c {
		return nil, fmt.Errorf("%w: %d slots to load, capacity %d", ErrBadOptions, reserved, c)
	}
	s := &Segment{
		capacity: c,
		src:      opts.Payloads,
		byName:   make(map[string]*space, len(opts.Vectors)),
	}
	s.dir.Store(&[]*slotChunk{})
	s.mu.indexes = map[string]*fieldIndex{}
	s.mu.lookup = newIDIndex()
	s.mu.all = roaring.New()
	for name := range opts.Rows {
		if !slices.ContainsFunc(opts.Vectors, func(v VectorSpec) bool { return v.Name == name }) {
			return nil, fmt.Errorf("%w: rows for %q, which is not a vector space", ErrBadOptions, name)
		}
	}
	for _, spec := range opts.Vectors {
		if _, dup := s.byName[spec.Name]; dup {
			return nil, fmt.Errorf("%w: vector %q named twice", ErrBadOptions, spec.Name)
		}
		if spec.Dim <= 0 {
			return nil, fmt.Errorf("%w: vector %q: dimension %d", ErrBadOptions, spec.Name, spec.Dim)
		}
		if !spec.Metric.Valid() {
			return nil, fmt.Errorf("%w: vector %q: metric %v", ErrBadOptions, spec.Name, spec.Metric)
		}
		if spec.FullScanThreshold < 0 {
			return nil, fmt.Errorf("%w: vector %q: full scan threshold %d", ErrBadOptions, spec.Name, spec.FullScanThreshold)
		}
		if !spec.Datatype.Valid() {
			return nil, fmt.Errorf("%w: vector %q: datatype %v", ErrBadOptions, spec.Name, spec.Datatype)
		}
		if spec.PayloadM < 0 || spec.PayloadM > 1024 || spec.PayloadM == 1 {
			return nil, fmt.Errorf("%w: vector %q: payload m %d, want 0 or 2..1024", ErrBadOptions, spec.Name, spec.PayloadM)
		}
		if spec.FullScanThreshold == 0 {
			spec.FullScanThreshold = max(1, 10000*1024/(4*spec.Dim))
		}
		sp := &space{
			idx:     len(s.spaces),
			dim:     spec.Dim,
			metric:  spec.Metric,
			dtype:   spec.Datatype,
			rowBits: rowBitsFor(spec.Dim),
			hasBM:   roaring.New(),
		}
		sp.rows.Store(&[][]float32{})
		if spec.Multi {
			sp.multi = newMultiStore(spec.Datatype)
		}
		if r, ok := opts.Rows[spec.Name]; ok {
			if err := checkRows(spec.Name, sp, r, reserved); err != nil {
				return nil, err
			}
			sp.mapRows(r)
		}
		g, err := hnsw.New(vectors{sp}, &spec.HNSW)
		if err != nil {
			return nil, fmt.Errorf("%w: vector %q: %v", ErrBadOptions, spec.Name, err)
		}
		spec.HNSW = g.Config()
		sp.spec = spec
		sp.graph.Store(g)
		s.spaces = append(s.spaces, sp)
		s.byName[spec.Name] = sp
	}
	s.sparseByName = make(map[string]*sparseSpace, len(opts.Sparse))
	for _, spec := range opts.Sparse {
		_, dense := s.byName[spec.Name]
		if _, dup := s.sparseByName[spec.Name]; dup || dense {
			return nil, fmt.Errorf("%w: vector %q named twice", ErrBadOptions, spec.Name)
		}
		if spec.FullScanThreshold < 0 {
			return nil, fmt.Errorf("%w: sparse vector %q: full scan threshold %d", ErrBadOptions, spec.Name, spec.FullScanThreshold)
		}
		if spec.FullScanThreshold == 0 {
			spec.FullScanThreshold = DefaultSparseFullScanThreshold
		}
		sp := &sparseSpace{spec: spec, has: len(s.spaces) + len(s.sparse), hasBM: roaring.New(), dims: map[uint32]uint32{}}
		sp.pages.Store(&[]sparsePage{})
		s.sparse = append(s.sparse, sp)
		s.sparseByName[spec.Name] = sp
	}
	return s, nil
}

// space returns the space called name.
func (s *Segment) space(name string) (*space, error) {
	sp, ok := s.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownVector, name)
	}
	return sp, nil
}

// validate checks a point's vectors and payload.
func (s *Segment) validate(vectors map[string][]float32, sparse map[string]SparseVector, p payload.Value) error {
	if err := s.validateSparseShape(sparse); err != nil {
		return err
	}
	for name, v := range sparse {
		if err := validateSparse(name, v); err != nil {
			return err
		}
	}
	for name, v := range vectors {
		sp, err := s.space(name)
		if err != nil {
			return err
		}
		if v == nil {
			continue
		}
		if err := sp.validate(v); err != nil {
			return fmt.Errorf("vector %q: %w", name, err)
		}
	}
	if k := p.Kind(); k != payload.Object && k != payload.Null {
		return fmt.Errorf("qlite: payload must be a JSON object, got %v", k)
	}
	return nil
}

// validateShape checks vector names and dimensions and the payload kind,
// not the elements.
func (s *Segment) validateShape(vectors map[string][]float32, sparse map[string]SparseVector, p payload.Value) error {
	if err := s.validateSparseShape(sparse); err != nil {
		return err
	}
	for name, v := range vectors {
		sp, err := s.space(name)
		if err != nil {
			return err
		}
		if v != nil && !sp.fits(len(v)) {
			return fmt.Errorf("vector %q: %w: expected dim: %d, got %d", name, ErrDimMismatch, sp.dim, len(v))
		}
	}
	if k := p.Kind(); k != payload.Object && k != payload.Null {
		return fmt.Errorf("qlite: payload must be a JSON object, got %v", k)
	}
	return nil
}

// Append validates p's vectors (an unknown name gives ErrUnknownVector,
// a wrong dimension ErrDimMismatch, a NaN or infinite element an error
// from distance.Validate, each naming the vector) and payload (an object or
// null), then stores a copy of each vector preprocessed for its metric
// (Cosine vectors normalised; vectors of Float16 and Uint8 spaces converted
// only, see VectorSpec.Datatype) in the next slot and returns the slot.
// Nothing is stored on error. It returns ErrFull when every slot is used
// and ErrSealed after Seal. A nil vector counts as absent. The point is
// searchable at once (by exact scan until BuildGraph indexes it). If a live
// slot already holds p.ID, Lookup gives the new slot from now on; the caller
// is expected to Delete the old one. Appends are serialised; searches,
// BuildGraph and Delete run beside them.
func (s *Segment) Append(p *Point) (uint32, error) {
	if err := s.validate(p.Vectors, p.Sparse, p.Payload); err != nil {
		return 0, err
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.sealed.Load() || s.loading {
		return 0, ErrSealed
	}
	off := s.n.Load()
	if int(off) >= s.capacity {
		return 0, ErrFull
	}
	s.grow(off + 1)
	ch := s.chunk(off)
	ch.ids[off&chunkMask] = p.ID
	ch.versions[off&chunkMask] = p.Version
	s.place(off, p.Vectors, p.Payload)
	for name, v := range p.Sparse {
		s.placeSparse(s.sparseByName[name], off, v)
	}
	s.mu.Lock()
	s.index(off, p.Payload)
	s.mu.lookup.set(p.ID, off)
	// Publish: the slot's data is written, so readers that see the new
	// length see the slot whole.
	s.n.Store(off + 1)
	s.mu.Unlock()
	return off, nil
}

// place writes the vectors (preprocessed) and payload of slot off. The
// caller holds appendMu; nothing reads the slot's storage yet.
func (s *Segment) place(off uint32, vectors map[string][]float32, p payload.Value) {
	s.placeAs(off, vectors, p, true)
}

// placeAs is place, preprocessing the vectors or copying them as they are.
func (s *Segment) placeAs(off uint32, vectors map[string][]float32, p payload.Value, preprocess bool) {
	ch := s.chunk(off)
	for name, v := range vectors {
		if v == nil {
			continue
		}
		sp := s.byName[name]
		if sp.mapped.Load() {
			// The rows and presence bits came with the mapping.
			continue
		}
		if sp.multi != nil {
			sp.multi.place(off, v, sp.metric, sp.dim, preprocess)
			setWordBit(&ch.has[sp.idx], off)
			continue
		}
		if sp.dtype != Float32 {
			// Converted as given: see VectorSpec.Datatype.
			sp.putNarrow(off, v)
			setWordBit(&ch.has[sp.idx], off)
			continue
		}
		row := sp.vector(off)
		if preprocess {
			sp.metric.Preprocess(row, v)
		} else {
			copy(row, v)
		}
		setWordBit(&ch.has[sp.idx], off)
	}
	if s.src == nil {
		pl := ch.payloads.Load()
		if pl == nil && p.Kind() != payload.Null {
			// Written under appendMu; readers load it atomically.
			pl = new([chunkSlots]payload.Value)
			ch.payloads.Store(pl)
		}
		if pl != nil {
			pl[off&chunkMask] = p
		}
		s.pbytes.Add(p.MemoryBytes())
	}
}

// index makes slot off live: field indexes, presence bitmaps and the live
// bit. The caller holds mu exclusively; the lookup entry is the caller's.
func (s *Segment) index(off uint32, p payload.Value) {
	var buf []payload.Value
	for _, fi := range s.mu.indexes {
		buf = fi.path.Find(p, buf[:0])
		fi.idx.Set(off, buf)
	}
	for _, sp := range s.spaces {
		if s.hasBit(sp, off) {
			sp.hasBM.Add(off)
			if sp.multi != nil {
				sp.multi.live.Add(int64(sp.multi.ref(off).n))
			}
		}
	}
	for _, sp := range s.sparse {
		s.indexSparse(sp, off)
	}
	s.mu.all.Add(off)
	setWordBit(&s.chunk(off).live, off)
	s.nlive.Add(1)
}

// Fill places slot off of a loading segment: its vectors (by name, stored
// as given: they were preprocessed when first stored; a nil or absent vector
// of a masked slot reads as zeros), payload, and whether it is live. A
// masked slot (live false) is never returned, counted or indexed; its
// vectors only serve the graph's navigation. Each reserved slot may be
// filled once. Names, dimensions and the payload kind are checked; the
// elements are not (the caller loads them from checksummed storage).
func (s *Segment) Fill(off uint32, vectors map[string][]float32, sparse map[string]SparseVector, p payload.Value, live bool) error {
	if err := s.validateShape(vectors, sparse, p); err != nil {
		return err
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.sealed.Load() || !s.loading {
		return ErrSealed
	}
	if int(off) >= len(s.filled)*64 || off >= s.n.Load() {
		return fmt.Errorf("qlite: fill slot %d of a segment loading %d", off, s.n.Load())
	}
	if s.filled[off>>6]&(1<<(off&63)) != 0 {
		return fmt.Errorf("qlite: slot %d filled twice", off)
	}
	s.filled[off>>6] |= 1 << (off & 63)
	s.placeAs(off, vectors, p, false)
	if live {
		// A masked slot's sparse vectors serve nothing: no graph walks them.
		for name, v := range sparse {
			s.placeSparse(s.sparseByName[name], off, v)
		}
		s.mu.Lock()
		s.index(off, p)
		s.mu.lookup.set(s.id(off), off)
		s.mu.Unlock()
	}
	return nil
}

// Delete masks slot off: it is never returned by Search, Count, Match or
// Lookup again and leaves the payload field indexes; a graph that holds it
// keeps it as a tombstone to navigate through. It reports whether the slot
// was live. Delete is allowed on sealed segments.
func (s *Segment) Delete(off uint32) bool {
	if off >= s.n.Load() {
		return false
	}
	s.mu.Lock()
	if !s.liveBit(off) {
		s.mu.Unlock()
		return false
	}
	clearWordBit(&s.chunk(off).live, off)
	s.nlive.Add(-1)
	s.mu.all.Remove(off)
	for _, fi := range s.mu.indexes {
		fi.idx.Remove(off)
	}
	for _, sp := range s.spaces {
		if sp.multi != nil && sp.hasBM.Contains(off) {
			sp.multi.live.Add(-int64(sp.multi.ref(off).n))
		}
		sp.hasBM.Remove(off)
	}
	for _, sp := range s.sparse {
		s.unindexSparse(sp, off)
	}
	s.mu.lookup.drop(s.id(off), off)
	s.mu.Unlock()
	// A build that inserts off after this check sees the cleared live bit
	// and deletes it itself (see buildSpace).
	for _, sp := range s.spaces {
		if g := sp.graph.Load(); g.Contains(off) {
			_ = g.Delete(off) // ErrNotFound: the build deleted it first
		}
	}
	return true
}

// Seal ends Append (and, for a loading segment, Fill and LoadGraph). A
// loading segment reconciles each loaded graph with the slots now: masked
// slots that are live nodes become tombstones, and a live slot missing
// from the graph ends the graph's indexed prefix (BuildGraph inserts it
// later); a space without a graph (NoGraph) is indexed whole. Sealing twice
// does nothing.
func (s *Segment) Seal() {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.sealed.Load() {
		return
	}
	if s.loading {
		n := s.n.Load()
		for i, sp := range s.spaces {
			if sp.spec.NoGraph {
				// Nothing to build: the space is scanned.
				sp.indexed.Store(n)
				sp.building.Store(n)
				continue
			}
			if !s.loadedG[i] {
				continue
			}
			g := sp.graph.Load()
			indexed := n
			for off := range n {
				live := s.liveBit(off)
				if !live && g.Contains(off) {
					_ = g.Delete(off)
				}
				if live && s.hasBit(sp, off) && !g.Contains(off) && indexed == n {
					indexed = off
				}
			}
			sp.indexed.Store(indexed)
		}
		s.loading = false
		s.filled, s.loadedG = nil, nil
	}
	if len(s.sparse) > 0 {
		s.mu.Lock()
		for _, sp := range s.sparse {
			s.buildSparse(sp)
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.mu.lookup.seal()
	s.mu.Unlock()
	s.sealed.Store(true)
}

// Sealed reports whether Seal was called.
func (s *Segment) Sealed() bool { return s.sealed.Load() }

// Len returns the number of slots used, live or not.
func (s *Segment) Len() int { return int(s.n.Load()) }

// Live returns the number of live slots.
func (s *Segment) Live() int { return int(s.nlive.Load()) }

// Capacity returns the maximum number of slots.
func (s *Segment) Capacity() int { return s.capacity }

// Specs returns the vector spaces, with defaults filled in.
func (s *Segment) Specs() []VectorSpec {
	out := make([]VectorSpec, len(s.spaces))
	for i, sp := range s.spaces {
		out[i] = sp.spec
	}
	return out
}

// SparseSpecs returns the sparse vectors, with defaults filled in.
func (s *Segment) SparseSpecs() []SparseSpec {
	out := make([]SparseSpec, len(s.sparse))
	for i, sp := range s.sparse {
		out[i] = sp.spec
	}
	return out
}

// IsLive reports whether slot off holds a live point.
func (s *Segment) IsLive(off uint32) bool {
	return off < s.n.Load() && s.liveBit(off)
}

// checkSlot panics unless off is a used slot: slots come from the segment.
func (s *Segment) checkSlot(off uint32) {
	if n := s.n.Load(); off >= n {
		panic(fmt.Sprintf("segment: BUG: slot %d of %d", off, n))
	}
}

// PointAt returns the id and version of the point in slot off (live or
// not), which must be below Len.
func (s *Segment) PointAt(off uint32) (id filter.PointID, version uint64) {
	s.checkSlot(off)
	ch := s.chunk(off)
	return ch.ids[off&chunkMask], ch.versions[off&chunkMask]
}

// Payload returns the payload of slot off (live or not), which must be
// below Len. The Value is immutable and stays valid. With a PayloadSource
// it is read from the source: a version the source no longer holds (a
// masked slot) reads as null; an error of the source is returned.
func (s *Segment) Payload(off uint32) (payload.Value, error) {
	s.checkSlot(off)
	return s.loadPayload(off)
}

// heldPayload returns the payload of slot off held in its chunk (without
// a PayloadSource): null when the chunk has no payload array yet.
func (s *Segment) heldPayload(off uint32) payload.Value {
	if pl := s.chunk(off).payloads.Load(); pl != nil {
		return pl[off&chunkMask]
	}
	return payload.Value{}
}

// loadPayload reads the payload of slot off, from the slot chunk or, one
// point get, from the source.
func (s *Segment) loadPayload(off uint32) (payload.Value, error) {
	ch := s.chunk(off)
	if s.src == nil {
		return s.heldPayload(off), nil
	}
	p, ok, err := s.src.LoadPayload(ch.ids[off&chunkMask], ch.versions[off&chunkMask])
	if err != nil || !ok {
		return payload.Value{}, err
	}
	return p, nil
}

// PayloadsOnDisk reports whether the segment reads payloads from a
// PayloadSource.
func (s *Segment) PayloadsOnDisk() bool { return s.src != nil }

// Vector returns the stored (preprocessed) vector name of slot off, which
// aliases the segment's storage: read it, do not modify it. It stays valid
// as long as the Segment. A space of datatype Float16 or Uint8 returns its
// row widened to float32 in a new slice. ok is false when the slot has no such vector or
// off is not a used slot.
func (s *Segment) Vector(name string, off uint32) (v []float32, ok bool) {
	sp, found := s.byName[name]
	if !found || off >= s.n.Load() || !s.hasBit(sp, off) {
		return nil, false
	}
	return sp.vector(off), true
}

// Lookup returns the live slot holding point id.
func (s *Segment) Lookup(id filter.PointID) (uint32, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lookupLocked(id)
}

// CreateFieldIndex indexes the payload values at key, a key path, for all
// live and future points. Creating an index that exists with the same
// parameters does nothing; with other parameters it is rebuilt.
func (s *Segment) CreateFieldIndex(key string, params payload.IndexParams) error {
	path, err := payload.ParsePath(key)
	if err != nil {
		return err
	}
	idx, err := payload.NewIndex(params)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.mu.indexes[key]; ok && reflect.DeepEqual(old.params, params) {
		return nil
	}
	var buf []payload.Value
	r := &payloadReader{s: s, keys: []string{path.Head()}, ahead: s.mu.all.Contains}
	it := s.mu.all.Iterator()
	for it.HasNext() {
		off := it.Next()
		buf = path.Find(r.payload(off), buf[:0])
		if r.err != nil {
			return fmt.Errorf("index %q: %w", key, r.err)
		}
		idx.Set(off, buf)
	}
	s.mu.indexes[key] = &fieldIndex{path: path, params: params, idx: idx}
	return nil
}

// IndexedPoints returns the number of live points the index at key holds
// a value of (Qdrant's payload_schema points): a point whose value at key
// the index cannot hold (another type, or none) is not counted. ok is
// false when the segment has no index at key.
func (s *Segment) IndexedPoints(key string) (n int, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fi, ok := s.mu.indexes[key]
	if !ok {
		return 0, false
	}
	return fi.idx.Len(), true
}

// DeleteFieldIndex drops the index at key; it reports whether there was one.
func (s *Segment) DeleteFieldIndex(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.mu.indexes[key]
	delete(s.mu.indexes, key)
	return ok
}
