package segment

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
)

// Options configures a Segment. Zero fields take their defaults.
type Options struct {
	// Dim is the vector dimension. Required.
	Dim int
	// Metric is the distance. Required.
	Metric distance.Metric
	// HNSW holds the graph parameters (defaults as hnsw.Config).
	HNSW hnsw.Config
	// FullScanThreshold is the number of matching points at or below which
	// a filtered search scores the matching points exactly instead of
	// searching the graph. Default: as many points as 10000 KB of vectors
	// hold, Qdrant's full_scan_threshold.
	FullScanThreshold int
}

// Errors returned by a Segment.
var (
	ErrDimMismatch = distance.ErrDimMismatch
	ErrBadOptions  = errors.New("qlite: invalid segment options")
)

// Segment holds points: vectors, payloads, payload indexes and a graph.
type Segment struct {
	opts Options

	// mu guards the point storage and the index map: appends and index
	// changes take it exclusively, searches and builds share it.
	mu       sync.RWMutex
	vecs     []float32       // row-major, Dim per point, 64-byte aligned
	payloads []payload.Value // by internal id
	indexes  map[string]*fieldIndex
	all      *roaring.Bitmap // every point
	graph    *hnsw.Graph
	// buildMu serialises BuildGraph calls.
	buildMu sync.Mutex
	// indexed counts the points [0, indexed) that are in the graph. It is
	// advanced by BuildGraph, which shares mu with searches.
	indexed atomic.Uint32

	scratch sync.Pool // *scratch
}

type fieldIndex struct {
	path payload.Path
	idx  payload.Index
}

// New returns an empty segment.
func New(opts *Options) (*Segment, error) {
	if opts == nil {
		return nil, fmt.Errorf("%w: nil options", ErrBadOptions)
	}
	o := *opts
	if o.Dim <= 0 {
		return nil, fmt.Errorf("%w: dimension %d", ErrBadOptions, o.Dim)
	}
	if !o.Metric.Valid() {
		return nil, fmt.Errorf("%w: metric %v", ErrBadOptions, o.Metric)
	}
	if o.FullScanThreshold == 0 {
		o.FullScanThreshold = max(1, 10000*1024/(4*o.Dim))
	}
	s := &Segment{opts: o, indexes: map[string]*fieldIndex{}, all: roaring.New()}
	g, err := hnsw.New(vectors{s}, &o.HNSW)
	if err != nil {
		return nil, err
	}
	s.graph = g
	return s, nil
}

// Len returns the number of points.
func (s *Segment) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.payloads)
}

// Append adds a point and returns its internal id (0, 1, 2, ... in order).
// The vector is validated (dimension, finite) and preprocessed for the
// metric; the payload must be an object or null. The point is searchable
// at once, by exact scan until BuildGraph indexes it.
func (s *Segment) Append(vec []float32, p payload.Value) (uint32, error) {
	if err := distance.Validate(vec, s.opts.Dim); err != nil {
		return 0, err
	}
	if k := p.Kind(); k != payload.Object && k != payload.Null {
		return 0, fmt.Errorf("qlite: payload must be a JSON object, got %v", k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := uint32(len(s.payloads))
	d := s.opts.Dim
	if len(s.vecs)+d > cap(s.vecs) {
		grown := distance.MakeAligned(max(2*cap(s.vecs), 1024*d))
		copy(grown, s.vecs)
		s.vecs = grown[:len(s.vecs)]
	}
	s.vecs = s.vecs[:len(s.vecs)+d]
	s.opts.Metric.Preprocess(s.vecs[int(id)*d:], vec)
	s.payloads = append(s.payloads, p)
	s.all.Add(id)
	for _, fi := range s.indexes {
		fi.idx.Set(id, fi.path.Find(p, nil))
	}
	return id, nil
}

// BuildGraph inserts every point not yet in the graph, on the given number
// of goroutines (all cores when workers <= 0). Appends wait meanwhile.
func (s *Segment) BuildGraph(workers int) error {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, from := uint32(len(s.payloads)), s.indexed.Load()
	if n == from {
		return nil
	}
	ids := make([]uint32, 0, n-from)
	for id := from; id < n; id++ {
		ids = append(ids, id)
	}
	if err := s.graph.Build(ids, workers); err != nil {
		return err
	}
	s.indexed.Store(n)
	return nil
}

// CreateFieldIndex indexes the payload values at key, a key path, for all
// present and future points. Creating an index that exists with the same
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
	var buf []payload.Value
	for id, p := range s.payloads {
		buf = path.Find(p, buf[:0])
		idx.Set(uint32(id), buf)
	}
	s.indexes[key] = &fieldIndex{path: path, idx: idx}
	return nil
}

// DeleteFieldIndex drops the index at key; it reports whether there was one.
func (s *Segment) DeleteFieldIndex(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.indexes[key]
	delete(s.indexes, key)
	return ok
}

// Index returns the field index at key, for the filter planner. The caller
// holds s.mu.
func (s *Segment) index(key string) (payload.Index, bool) {
	fi, ok := s.indexes[key]
	if !ok {
		return nil, false
	}
	return fi.idx, true
}

// vector returns the stored vector of id. The caller holds s.mu.
func (s *Segment) vector(id uint32) []float32 {
	d := s.opts.Dim
	return s.vecs[int(id)*d : int(id+1)*d : int(id+1)*d]
}

// vectors adapts the segment's storage to hnsw.Vectors. The graph calls it
// only while the caller holds s.mu (shared).
type vectors struct{ s *Segment }

func (v vectors) Vector(id uint32) []float32 { return v.s.vector(id) }

func (v vectors) Distances(q []float32, ids []uint32, dst []float32) {
	v.s.opts.Metric.Gather(dst, q, v.s.vecs, v.s.opts.Dim, ids)
}
