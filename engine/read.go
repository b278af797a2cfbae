package engine

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// PayloadSelector says which payload to return with points: none (the zero
// value), all (Enable), or all but Exclude, or only Include (key paths).
type PayloadSelector struct {
	Enable  bool
	Include []string
	Exclude []string
}

// AllPayload selects the whole payload.
var AllPayload = PayloadSelector{Enable: true}

// VectorSelector says which vectors to return: none (the zero value), all
// (Enable with no Names), or the named ones.
type VectorSelector struct {
	Enable bool
	Names  []string
}

// AllVectors selects every vector.
var AllVectors = VectorSelector{Enable: true}

// Record is a point as read back.
type Record struct {
	ID PointID
	// Payload is set when asked for (an empty object when the point has no
	// payload); the zero Value otherwise.
	Payload payload.Value
	// Vectors are the selected vectors (Cosine ones normalised), nil when
	// none were asked for.
	Vectors map[string][]float32
	// Multi are the selected multivectors (Cosine ones normalised), nil
	// when none were asked for or the point has none.
	Multi map[string][][]float32
	// Sparse are the selected sparse vectors, nil when none were asked for
	// or the point has none.
	Sparse map[string]SparseVector
	// OrderValue is the value a scroll with OrderBy sorted on.
	OrderValue *payload.Value
}

// ScoredPoint is a search result.
type ScoredPoint struct {
	Record
	// Version is the operation id that last wrote the point (0 for the
	// points of a query that does not score: none, order_by or sample).
	Version uint64
	// Score is 1 for the points of a query that does not score; otherwise
	// it is in Qdrant's convention: similarity for Cosine and Dot (higher
	// first), distance for Euclid and Manhattan (lower first).
	Score float32
}

// ReadOptions select what Get returns.
type ReadOptions struct {
	WithPayload PayloadSelector
	WithVectors VectorSelector
}

// Get returns the points with the given ids that exist, in the order asked
// (each once).
func (db *DB) Get(ctx context.Context, coll string, ids []PointID, o *ReadOptions) (out []Record, err error) {
	ctx, op := db.tel.start(ctx, opGet, coll)
	defer func() { op.end(err, len(out)) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	var ro ReadOptions
	if o != nil {
		ro = *o
	}
	if err := c.admit(ctx, strictCheck{readCost: len(ids)}); err != nil {
		return nil, err
	}
	sel, err := c.compileSelectors(ro.WithPayload, ro.WithVectors)
	if err != nil {
		return nil, err
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	out = make([]Record, 0, len(ids))
	seen := make(map[PointID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if ref, off, ok := c.locateVisible(id); ok {
			r, err := sel.record(ref.seg, off)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// selectors are compiled payload and vector selectors.
type selectors struct {
	c       *collection
	payload bool
	include []payload.Path
	exclude []payload.Path
	vectors []string // nil: none
	sparse  []string // sparse vector names, nil: none
}

// compileSelectors compiles what a read returns of each point. The
// selectors are a value, so that a search that asks for ids and scores
// only allocates nothing for them.
func (c *collection) compileSelectors(ps PayloadSelector, vs VectorSelector) (selectors, error) {
	s := selectors{c: c, payload: ps.Enable || len(ps.Include) > 0 || len(ps.Exclude) > 0}
	for _, k := range ps.Include {
		p, err := payload.ParsePath(k)
		if err != nil {
			return selectors{}, fmt.Errorf("%w: with_payload.include: %w", ErrBadRequest, err)
		}
		s.include = append(s.include, p)
	}
	for _, k := range ps.Exclude {
		p, err := payload.ParsePath(k)
		if err != nil {
			return selectors{}, fmt.Errorf("%w: with_payload.exclude: %w", ErrBadRequest, err)
		}
		s.exclude = append(s.exclude, p)
	}
	if vs.Enable || len(vs.Names) > 0 {
		if len(vs.Names) == 0 {
			s.vectors = c.vectorNames()
			s.sparse = c.sparseNames()
		} else {
			cfg := c.config()
			s.vectors = []string{}
			for _, n := range vs.Names {
				if _, ok := cfg.Params.SparseVectors[n]; ok {
					s.sparse = append(s.sparse, n)
					continue
				}
				if _, ok := cfg.Params.Vectors[n]; !ok {
					return selectors{}, fmt.Errorf("%w: with_vectors: Not existing vector name error: %s", ErrBadRequest, n)
				}
				s.vectors = append(s.vectors, n)
			}
		}
	}
	return s, nil
}

// record reads the selected parts of a slot. The caller holds c.rw. It
// fails when the payload is on disk and cannot be read.
func (s *selectors) record(seg *segment.Segment, off uint32) (Record, error) {
	id, _ := seg.PointAt(off)
	r := Record{ID: id}
	if err := s.fill(&r, seg, off); err != nil {
		return Record{}, err
	}
	return r, nil
}

// idOnly reports whether s selects nothing of a point but its id.
func (s *selectors) idOnly() bool { return !s.payload && s.vectors == nil && s.sparse == nil }

// fill sets the selected parts of slot off (payload, vectors) in r, which
// has none yet. The caller holds c.rw.
func (s *selectors) fill(r *Record, seg *segment.Segment, off uint32) error {
	if s.payload {
		p, err := seg.Payload(off)
		if err != nil {
			return err
		}
		r.Payload = s.project(p)
	}
	if s.vectors != nil {
		r.Vectors = make(map[string][]float32, len(s.vectors))
		params := s.c.config().Params.Vectors
		for _, n := range s.vectors {
			v, ok := seg.Vector(n, off)
			if !ok {
				continue
			}
			vp := params[n]
			if !vp.IsMulti() {
				r.Vectors[n] = slices.Clone(v)
				continue
			}
			if r.Multi == nil {
				r.Multi = map[string][][]float32{}
			}
			r.Multi[n] = splitMulti(v, int(vp.Size))
		}
	}
	for _, n := range s.sparse {
		if v, ok := seg.SparseVector(n, off); ok {
			if r.Sparse == nil {
				r.Sparse = make(map[string]SparseVector, len(s.sparse))
			}
			r.Sparse[n] = SparseVector{Indices: slices.Clone(v.Indices), Values: slices.Clone(v.Values)}
		}
	}
	return nil
}

// project applies include / exclude to a payload, as Qdrant does (see
// payload.Include): include first, then exclude.
func (s *selectors) project(p payload.Value) payload.Value {
	if p.Kind() != payload.Object {
		p = payload.ObjectValue()
	}
	if len(s.include) > 0 {
		p = payload.Include(p, s.include)
	}
	if len(s.exclude) > 0 {
		p = payload.Exclude(p, s.exclude)
	}
	return p
}

// maxWindow bounds a request's limit and offset where they size work: no
// collection holds more points, and the sum of two cannot overflow.
const maxWindow = 1 << 40

// window returns limit + offset, each capped at maxWindow.
func window(limit, offset int) int { return min(limit, maxWindow) + min(offset, maxWindow) }

// SearchRequest is a nearest-neighbour search.
type SearchRequest struct {
	// Vector is the query; Using names the vector space ("" the default).
	Vector []float32
	// Sparse is the query when Using names a sparse vector (Vector is then
	// ignored).
	Sparse *SparseVector
	Using  string
	Filter *filter.Filter
	// Limit (>= 1) results after skipping Offset.
	Limit, Offset int
	// ScoreThreshold keeps only results strictly better than it.
	ScoreThreshold *float32
	// HnswEf is the graph search's candidate list size (default: the
	// vector's ef_construct). Exact scores every matching point.
	HnswEf int
	Exact  bool
	// Oversampling is the quantization oversampling asked for, checked
	// against strict mode; Quant holds it for the search with ignore and
	// rescore (Qdrant's params.quantization).
	Oversampling *float64
	Quant        QuantParams

	WithPayload PayloadSelector
	WithVectors VectorSelector

	// Stats, when not nil, receives how the search ran.
	Stats *SearchStats

	// checked says that Vector has been validated for the space (Query
	// checks it first, for Qdrant's message), so that no segment does it
	// again.
	checked bool
}

// SearchStats describe one search.
type SearchStats struct {
	Segments int
	// Plan names how the segments were searched: the plan, or the distinct
	// plans of the segments, sorted and comma-separated.
	Plan string
	// Estimated is the filter's estimated number of matching points, summed
	// over segments.
	Estimated int
	// Candidates is the number of candidate points the payload indexes
	// produced, summed over the segments where they narrowed the search;
	// -1 when they narrowed none.
	Candidates int
	// Scored counts the vectors scored, in graphs and by exact scans.
	Scored int
	// Ef is the graph search's candidate list size.
	Ef int
	// Limit is the number of results asked for.
	Limit int
	// Filtered reports whether the search had a filter.
	Filtered bool
}

// Search returns the points nearest to the query vector.
func (db *DB) Search(ctx context.Context, coll string, req *SearchRequest) ([]ScoredPoint, error) {
	return db.AppendSearch(ctx, nil, coll, req)
}

// AppendSearch is Search appending the results to dst, for a caller that
// reuses one buffer over its searches (as compat's conversion to other
// result types does); a nil dst makes it Search. The results' records
// (payloads, vectors) are built afresh either way.
func (db *DB) AppendSearch(ctx context.Context, dst []ScoredPoint, coll string, req *SearchRequest) (res []ScoredPoint, err error) {
	ctx, op := db.tel.start(ctx, opSearch, coll)
	var st SearchStats
	// The rows are the results, not what dst held.
	defer func() { op.endSearch(err, max(len(res)-len(dst), 0), &st) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: missing search request", ErrBadRequest)
	}
	if err := c.admit(ctx, req.strictCheck()); err != nil {
		return nil, err
	}
	return c.search(ctx, dst, req, nil, op.stats(&st))
}

// SearchBatch runs several searches.
func (db *DB) SearchBatch(ctx context.Context, coll string, reqs []SearchRequest) ([][]ScoredPoint, error) {
	return runBatch(ctx, db, opSearchBatch, coll, reqs, func(ctx context.Context, c *collection, r *SearchRequest, st *SearchStats) ([]ScoredPoint, error) {
		return c.search(ctx, nil, r, nil, st)
	})
}

// batchRequest is a request of a batch: strict mode checks it.
type batchRequest[R any] interface {
	*R
	strictCheck() strictCheck
}

// runBatch runs a batch of requests as operation name: strict mode admits
// them as one batch before any runs, then run serves each in turn, with the
// batch's telemetry summing their search figures.
func runBatch[R any, P batchRequest[R]](ctx context.Context, db *DB, name, coll string, reqs []R, run func(context.Context, *collection, *R, *SearchStats) ([]ScoredPoint, error)) (out [][]ScoredPoint, err error) {
	ctx, op := db.tel.start(ctx, name, coll)
	var all SearchStats
	defer func() { op.endSearch(err, len(out), &all) }()
	op.batch(len(reqs))
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	checks := make([]strictCheck, len(reqs))
	for i := range reqs {
		checks[i] = P(&reqs[i]).strictCheck()
	}
	if len(checks) > 0 {
		checks[0].batch = len(reqs)
	}
	if err := c.admit(ctx, checks...); err != nil {
		return nil, err
	}
	out = make([][]ScoredPoint, len(reqs))
	for i := range reqs {
		var one SearchStats
		if out[i], err = run(ctx, c, &reqs[i], op.stats(&one)); err != nil {
			return nil, err
		}
		all.add(&one)
	}
	return out, nil
}

// vectorParams returns the params of the vector space name.
func (c *collection) vectorParams(name string) (VectorParams, error) {
	vp, ok := c.config().Params.Vectors[name]
	if !ok {
		if name == "" {
			return vp, fmt.Errorf("%w: Not existing vector name error: the collection has only named vectors; say which with `using`", ErrBadRequest)
		}
		return vp, fmt.Errorf("%w: Not existing vector name error: %s", ErrBadRequest, name)
	}
	return vp, nil
}

// hit is a segment's search result, with its segment.
type hit struct {
	seg *segment.Segment
	h   segment.Hit
}

// searchScratch is what a search needs besides its result: the hits of
// its segments and a segment's figures. It is pooled, so that a search
// allocates only its result (and what the segments allocate).
type searchScratch struct {
	hits    []hit
	segHits []segment.Hit
	sst     segment.SearchStats
}

var searchScratchPool = sync.Pool{New: func() any { return new(searchScratch) }}

// put returns sc to the pool, without the segments it refers to. A
// scratch grown by a large window is dropped rather than kept.
func (sc *searchScratch) put() {
	if cap(sc.hits) > 4096 || cap(sc.segHits) > 4096 {
		return
	}
	clear(sc.hits[:cap(sc.hits)])
	sc.hits = sc.hits[:0]
	clear(sc.segHits[:cap(sc.segHits)])
	sc.segHits = sc.segHits[:0]
	searchScratchPool.Put(sc)
}

// search runs req, leaving out the ids in exclude, and appends the results
// to dst (a new slice when dst is nil: an empty result is then an empty,
// non-nil slice). When stats is not nil it receives how the search ran.
func (c *collection) search(ctx context.Context, dst []ScoredPoint, req *SearchRequest, exclude map[PointID]bool, stats *SearchStats) ([]ScoredPoint, error) {
	if req == nil {
		return nil, fmt.Errorf("%w: missing search request", ErrBadRequest)
	}
	if req.Limit < 1 {
		return nil, fmt.Errorf("%w: Limit cannot be 0", ErrBadRequest)
	}
	if req.Offset < 0 {
		return nil, fmt.Errorf("%w: offset must not be negative", ErrBadRequest)
	}
	_, isSparse := c.config().Params.SparseVectors[req.Using]
	var vp VectorParams
	if isSparse {
		if req.Sparse == nil {
			return nil, fmt.Errorf("%w: Conversion between sparse and regular vectors failed", ErrBadRequest)
		}
		if msg := req.Sparse.problem(); msg != "" {
			return nil, fmt.Errorf("%w: query: %s", ErrBadRequest, msg)
		}
		// Sparse scores are dot products; the cost of a query is its
		// entries.
		vp = VectorParams{Distance: distance.Dot, Size: uint64(len(req.Sparse.Indices))}
	} else {
		var err error
		if vp, err = c.vectorParams(req.Using); err != nil {
			return nil, err
		}
		if req.Sparse != nil {
			return nil, fmt.Errorf("%w: Conversion between sparse and regular vectors failed", ErrBadRequest)
		}
		if vp.IsMulti() && len(req.Vector) > 0 && len(req.Vector)%int(vp.Size) == 0 {
			// A multivector query (or a plain vector: one of them).
		} else if len(req.Vector) != int(vp.Size) {
			return nil, fmt.Errorf("%w: Vector dimension error: expected dim: %d, got %d", ErrBadRequest, vp.Size, len(req.Vector))
		}
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	sel, err := c.compileSelectors(req.WithPayload, req.WithVectors)
	if err != nil {
		return nil, err
	}
	k := window(req.Limit, req.Offset) + len(exclude)
	higher := vp.Distance.HigherIsBetter()
	better := func(a, b float32) bool {
		if higher {
			return a > b
		}
		return a < b
	}

	c.rw.RLock()
	defer c.rw.RUnlock()
	live, searched := 0, 0
	for _, ref := range c.segs {
		if n := ref.seg.Live(); n > 0 {
			live += n
			searched++
		}
	}
	// A limit beyond the number of points asks for nothing more.
	k = min(k, live)
	if k == 0 {
		return emptyResult(dst), nil
	}
	var sq segment.SparseVector
	if isSparse {
		sq = c.sparseQueryLocked(req.Using, *req.Sparse)
	}
	sc := searchScratchPool.Get().(*searchScratch)
	defer sc.put()
	hits := sc.hits[:0]
	wantStats := req.Stats != nil || stats != nil
	st := SearchStats{Candidates: -1, Limit: req.Limit, Filtered: req.Filter != nil}
	var plans planSet
	// A traced search over several segments gets a child span per segment;
	// over one, the search span's own figures are that segment's.
	perSegment := stats != nil && searched > 1
	scored := 0
	// Once a segment has validated the query, the next ones need not.
	checked := req.checked
	for _, ref := range c.segs {
		if ref.seg.Live() == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		so := segment.SearchOptions{Filter: req.Filter, Ef: req.HnswEf, Exact: req.Exact, Below: c.searchBelow(ref), Quant: req.Quant, Checked: checked}
		sst := &sc.sst
		*sst = segment.SearchStats{}
		so.Stats = sst
		var hs []segment.Hit
		var err error
		run := func(ctx context.Context) ([]segment.Hit, error) {
			if isSparse {
				return ref.seg.SearchSparse(ctx, req.Using, sq, k, &so)
			}
			return ref.seg.AppendSearch(ctx, sc.segHits[:0], req.Using, req.Vector, k, &so)
		}
		if perSegment {
			segCtx, segSpan := c.db.tel.startSegment(ctx, ref.id)
			hs, err = run(segCtx)
			segSpan.end(sst, len(hs), err)
		} else {
			hs, err = run(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		if !isSparse {
			sc.segHits, checked = hs, true
		}
		scored += sst.Scored
		if wantStats {
			st.Segments++
			plans.add(sst.Plan)
			st.Estimated += sst.Estimate
			st.Scored += sst.Scored
			if sst.Candidates >= 0 {
				st.Candidates = max(st.Candidates, 0) + sst.Candidates
			}
		}
		for _, h := range hs {
			if exclude[h.ID] {
				continue
			}
			if req.ScoreThreshold != nil && !better(h.Score, *req.ScoreThreshold) {
				continue
			}
			hits = append(hits, hit{ref.seg, h})
		}
	}
	sc.hits = hits
	c.hw.cpu.Add(int64(scored) * int64(vp.Size))
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case better(a.h.Score, b.h.Score):
			return -1
		case better(b.h.Score, a.h.Score):
			return 1
		}
		return a.h.ID.Compare(b.h.ID)
	})
	if wantStats && !isSparse {
		st.Ef = req.HnswEf
		if st.Ef <= 0 {
			st.Ef = c.config().VectorHNSW(req.Using).EfConstruct
		}
		st.Ef = max(st.Ef, k)
	}
	if wantStats {
		st.Plan = plans.String()
	}
	if req.Stats != nil {
		*req.Stats = st
	}
	if stats != nil {
		*stats = st
	}
	if req.Offset >= len(hits) {
		return emptyResult(dst), nil
	}
	hits = hits[req.Offset:min(len(hits), req.Offset+req.Limit)]
	n := len(dst)
	if dst == nil {
		dst = make([]ScoredPoint, 0, len(hits))
	}
	dst = slices.Grow(dst, len(hits))[:n+len(hits)]
	out := dst[n:]
	for i := range hits {
		h := &hits[i]
		out[i] = ScoredPoint{Record: Record{ID: h.h.ID}, Version: h.h.Version, Score: h.h.Score}
	}
	if !sel.idOnly() {
		for i := range hits {
			if err := sel.fill(&out[i].Record, hits[i].seg, hits[i].h.Off); err != nil {
				clear(out)
				return nil, err
			}
		}
	}
	return dst, nil
}

// emptyResult is the result of a search that finds nothing: dst, or an
// empty slice (not nil) when dst is nil.
func emptyResult(dst []ScoredPoint) []ScoredPoint {
	if dst == nil {
		return []ScoredPoint{}
	}
	return dst
}

// Count returns the number of points matching f (all points when nil).
// Counts are exact whatever exact says.
func (db *DB) Count(ctx context.Context, coll string, f *filter.Filter, exact bool) (n int, err error) {
	ctx, op := db.tel.start(ctx, opCount, coll)
	defer func() { op.end(err, -1) }()
	c, err := db.collection(coll)
	if err != nil {
		return 0, err
	}
	if err := f.Validate(); err != nil {
		return 0, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	if err := c.admit(ctx, strictCheck{read: filters(f), exact: exact, readCost: 1 + filterCost(f)}); err != nil {
		return 0, err
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	for _, ref := range c.segs {
		k, err := c.countVisible(ref, f)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// ScrollRequest pages through points in id order (or OrderBy order).
type ScrollRequest struct {
	Filter *filter.Filter
	// Offset is the first id to return (inclusive); nil starts at the
	// beginning. With OrderBy it is refused (ErrBadRequest), as in Qdrant:
	// pages of an ordered scroll go on with OrderBy.StartFrom.
	Offset *PointID
	// Limit (>= 1) points per page.
	Limit int
	// DefaultLimit marks Limit as the default one rather than asked for:
	// strict mode's max_query_limit does not bound it, as in Qdrant.
	DefaultLimit bool
	WithPayload  PayloadSelector
	WithVectors  VectorSelector
	OrderBy      *OrderBy
}

// OrderBy orders a scroll by the values of an indexed numeric or datetime
// payload field.
type OrderBy struct {
	Key        string
	Descending bool
	// StartFrom, when set, skips values before it (after it, descending).
	StartFrom *float64
}

// ScrollResult is a page of a scroll.
type ScrollResult struct {
	Points []Record
	// NextPageOffset is the offset of the next page, nil on the last page
	// (and always nil with OrderBy).
	NextPageOffset *PointID
}

// idHeap is a max-heap of point ids with their slots.
type idItem struct {
	id  PointID
	seg *segment.Segment
	off uint32
}
type idHeap []idItem

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i].id.Compare(h[j].id) > 0 }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(idItem)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Scroll returns a page of points.
func (db *DB) Scroll(ctx context.Context, coll string, req *ScrollRequest) (res *ScrollResult, err error) {
	ctx, op := db.tel.start(ctx, opScroll, coll)
	defer func() { op.end(err, pageLen(res)) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if req == nil {
		req = &ScrollRequest{Limit: 10, DefaultLimit: true}
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	if err := c.admit(ctx, req.strictCheck()); err != nil {
		return nil, err
	}
	return db.scroll(ctx, coll, req)
}

func (db *DB) scroll(ctx context.Context, coll string, req *ScrollRequest) (*ScrollResult, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if req == nil {
		req = &ScrollRequest{Limit: 10}
	}
	if req.Limit < 1 {
		return nil, fmt.Errorf("%w: Limit cannot be 0", ErrBadRequest)
	}
	if req.OrderBy != nil && req.Offset != nil {
		return nil, fmt.Errorf("%w: Cannot use an `offset` when using `order_by`. The alternative for paging is to use `order_by.start_from` and a filter to exclude the IDs that you've already seen for the `order_by.start_from` value", ErrBadRequest)
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	sel, err := c.compileSelectors(req.WithPayload, req.WithVectors)
	if err != nil {
		return nil, err
	}
	if req.OrderBy != nil {
		return c.scrollOrdered(ctx, req, &sel)
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	// Keep the limit+1 smallest ids at or after the offset.
	h := make(idHeap, 0, min(req.Limit, 4095)+1)
	for _, ref := range c.segs {
		seg := ref.seg
		err := c.matchVisible(ref, req.Filter, func(off uint32) bool {
			id, _ := seg.PointAt(off)
			if req.Offset != nil && id.Compare(*req.Offset) < 0 {
				return true
			}
			if len(h) <= req.Limit {
				heap.Push(&h, idItem{id, seg, off})
			} else if id.Compare(h[0].id) < 0 {
				h[0] = idItem{id, seg, off}
				heap.Fix(&h, 0)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	items := []idItem(h)
	slices.SortFunc(items, func(a, b idItem) int { return a.id.Compare(b.id) })
	res := &ScrollResult{Points: make([]Record, 0, min(len(items), req.Limit))}
	for i, it := range items {
		if i == req.Limit {
			next := it.id
			res.NextPageOffset = &next
			break
		}
		r, err := sel.record(it.seg, it.off)
		if err != nil {
			return nil, err
		}
		res.Points = append(res.Points, r)
	}
	return res, nil
}

// scrollOrdered serves a scroll with OrderBy: every matching point, once per
// value of the key, sorted by (value, id).
func (c *collection) scrollOrdered(ctx context.Context, req *ScrollRequest, sel *selectors) (*ScrollResult, error) {
	ob := req.OrderBy
	path, err := payload.ParsePath(ob.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: order_by.key: %w", ErrBadRequest, err)
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	params, ok := c.fieldParams(ob.Key)
	if !ok || !rangeCapable(params) {
		return nil, fmt.Errorf("%w: No range index for `order_by` key: `%s`. Please create one to use `order_by`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Range conditions", ErrBadRequest, ob.Key)
	}
	type entry struct {
		key float64
		val payload.Value
		id  PointID
		seg *segment.Segment
		off uint32
	}
	var entries []entry
	var buf []payload.Value
	var readErr error
	for _, ref := range c.segs {
		seg := ref.seg
		err := c.matchVisible(ref, req.Filter, func(off uint32) bool {
			p, perr := seg.Payload(off)
			if perr != nil {
				readErr = perr
				return false
			}
			buf = path.Find(p, buf[:0])
			id, _ := seg.PointAt(off)
			for _, v := range flatten(buf) {
				x, ok := orderKey(v, params.Type)
				if !ok {
					continue
				}
				if ob.StartFrom != nil && ((!ob.Descending && x < *ob.StartFrom) || (ob.Descending && x > *ob.StartFrom)) {
					continue
				}
				entries = append(entries, entry{x, v, id, seg, off})
			}
			return true
		})
		if err = cmp.Or(readErr, err); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		r := cmp.Compare(a.key, b.key)
		if ob.Descending {
			r = -r
		}
		if r != 0 {
			return r
		}
		return a.id.Compare(b.id)
	})
	res := &ScrollResult{Points: make([]Record, 0, min(len(entries), req.Limit))}
	for _, e := range entries[:min(len(entries), req.Limit)] {
		r, err := sel.record(e.seg, e.off)
		if err != nil {
			return nil, err
		}
		v := e.val
		r.OrderValue = &v
		res.Points = append(res.Points, r)
	}
	return res, nil
}

// flatten expands arrays found at a key into their elements.
func flatten(vals []payload.Value) []payload.Value {
	var out []payload.Value
	for _, v := range vals {
		if v.Kind() == payload.Array {
			out = append(out, v.Array()...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

// orderKey returns the sort key of a value for an index of type t.
func orderKey(v payload.Value, t payload.FieldType) (float64, bool) {
	switch t {
	case payload.TypeDatetime:
		str, ok := v.Str()
		if !ok {
			return 0, false
		}
		tm, err := payload.ParseDatetime(str)
		if err != nil {
			return 0, false
		}
		return float64(tm.UnixMicro()), true
	case payload.TypeInteger:
		if i, ok := v.Int(); ok {
			return float64(i), true
		}
		return 0, false
	}
	f, ok := v.Number()
	if !ok || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func rangeCapable(p payload.IndexParams) bool {
	switch p.Type {
	case payload.TypeInteger:
		return p.RangeEnabled()
	case payload.TypeFloat, payload.TypeDatetime:
		return true
	}
	return false
}

// fieldParams returns the index definition of a field. The caller holds rw
// (fields change under rw too).
func (c *collection) fieldParams(key string) (payload.IndexParams, bool) {
	p, ok := c.fields[key]
	return p, ok
}

// splitMulti copies a stored multivector (dim-long vectors back to back)
// into one slice per vector, all in one backing array.
func splitMulti(flat []float32, dim int) [][]float32 {
	flat = slices.Clone(flat)
	out := make([][]float32, len(flat)/dim)
	for i := range out {
		out[i] = flat[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return out
}
