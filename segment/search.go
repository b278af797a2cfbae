package segment

import (
	"fmt"
	"math/rand/v2"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
)

// SearchOptions are the per-query parameters of Search.
type SearchOptions struct {
	// Filter restricts the results to the points it matches.
	Filter *filter.Filter
	// Ef is the graph search's candidate list size. Default: the graph's
	// EfConstruct; raised to k when smaller.
	Ef int
	// Exact scores every (matching) point instead of searching the graph.
	Exact bool
	// Stats, when not nil, receives how the query was executed.
	Stats *SearchStats
}

// The plans Search chooses between.
const (
	PlanExact       = "exact"         // every point scored
	PlanExactFilter = "exact-filter"  // every matching point scored
	PlanGraph       = "graph"         // graph search, filter as accept predicate
	PlanGraphTwoHop = "graph-two-hop" // graph search expanding through rejected nodes
)

// SearchStats describe how one search was executed.
type SearchStats struct {
	Plan string
	// Estimate is the estimated number of points the filter matches (all
	// points without a filter).
	Estimate int
	// Candidates is the size of the candidate set the indexes produced, or
	// -1 when no index narrowed the search.
	Candidates int
	// Scored counts the points scored exactly outside the graph.
	Scored int
}

// Hit is a search result: an internal point id and its score in Qdrant's
// convention (similarity for Cosine and Dot, distance for Euclid and
// Manhattan).
type Hit struct {
	ID    uint32
	Score float32
}

// sampleSize is the number of points on which a filter no index answers is
// evaluated to estimate its selectivity.
const sampleSize = 256

// scratch is the pooled per-query state.
type scratch struct {
	q    []float32
	top  topK
	res  []hnsw.Result
	ids  []uint32
	dist []float32
	memo []uint8 // per point: 0 unknown, 1 rejected, 2 accepted
	bits []uint64
	eval *filter.Evaluator // over this segment's indexes
}

func (s *Segment) getScratch() *scratch {
	sc, _ := s.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{ids: make([]uint32, 0, 256), dist: make([]float32, 256)}
	}
	return sc
}

// Search returns the k points closest to q that match the filter, best
// first. q is validated and preprocessed (normalised for Cosine).
func (s *Segment) Search(q []float32, k int, o *SearchOptions) ([]Hit, error) {
	if err := distance.Validate(q, s.opts.Dim); err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, fmt.Errorf("qlite: limit must be positive, got %d", k)
	}
	var opts SearchOptions
	if o != nil {
		opts = *o
	}
	sc := s.getScratch()
	defer s.scratch.Put(sc)
	sc.q = s.opts.Metric.Preprocess(sc.q, q)

	s.mu.RLock()
	defer s.mu.RUnlock()
	n := uint32(len(s.payloads))
	// Points from indexed on are scored by scan; a build running meanwhile
	// may already have put some of them in the graph, so graph results at
	// or past indexed are dropped.
	indexed := s.indexed.Load()
	ef := opts.Ef
	if ef <= 0 {
		ef = s.graph.Config().EfConstruct
	}
	ef = max(ef, k)
	st := SearchStats{Estimate: int(n), Candidates: -1}
	sc.top.reset(k)

	if opts.Filter == nil {
		if opts.Exact || indexed == 0 {
			st.Plan = PlanExact
			st.Scored = s.scanRange(sc, 0, n, nil)
		} else {
			st.Plan = PlanGraph
			var accept func(uint32) bool
			if s.graph.Len() > int(indexed) {
				accept = func(id uint32) bool { return id < indexed }
			}
			sc.res = s.graph.SearchInto(sc.res, sc.q, k, ef, accept)
			for _, r := range sc.res {
				sc.top.push(r.ID, r.Distance)
			}
			st.Scored = s.scanRange(sc, indexed, n, nil)
		}
	} else {
		s.searchFiltered(sc, opts, k, ef, n, indexed, &st)
	}

	sc.res = sc.top.sorted(sc.res[:0])
	hits := make([]Hit, len(sc.res))
	for i, r := range sc.res {
		hits[i] = Hit{ID: r.ID, Score: s.opts.Metric.Score(r.Distance)}
	}
	if opts.Stats != nil {
		*opts.Stats = st
	}
	return hits, nil
}

func (s *Segment) searchFiltered(sc *scratch, opts SearchOptions, k, ef int, n, indexed uint32, st *SearchStats) {
	ix := indexes{s}
	if sc.eval == nil {
		sc.eval = filter.NewEvaluator(ix)
	}
	if cap(sc.memo) < int(n) {
		sc.memo = make([]uint8, n+n/4)
	}
	sc.memo = sc.memo[:n]
	clear(sc.memo)

	// Estimate first, from the indexes' counts; materialise candidates only
	// when the estimate is small enough to score them all.
	f := opts.Filter
	cheap := f.Estimate(ix, int(n))
	est := cheap.Exp
	var plan *filter.Plan
	if opts.Exact || indexed == 0 || est <= s.opts.FullScanThreshold {
		plan = f.Plan(ix, int(n), s.all)
	} else {
		plan = &filter.Plan{Filter: f}
	}
	cands := plan.Candidates
	if cands != nil {
		st.Candidates = int(cands.GetCardinality())
		sc.bits = denseInto(sc.bits, cands, n)
		est = min(est, st.Candidates)
	}
	bits := sc.bits
	chk := filter.NewChecker(f, ix, sc.eval)
	// match decides one point: through the candidate set when it is exact,
	// else with the checker (index values, or the payload where no index
	// decides), memoised per query.
	match := func(id uint32) bool {
		if cands != nil {
			if bits[id>>6]&(1<<(id&63)) == 0 {
				return false
			}
			if plan.Exact {
				return true
			}
		}
		switch sc.memo[id] {
		case 1:
			return false
		case 2:
			return true
		}
		ok := chk.Check(id, point{s, id})
		sc.memo[id] = 1
		if ok {
			sc.memo[id] = 2
		}
		return ok
	}
	if !plan.Exact && n > sampleSize && cheap.Max >= int(n) {
		// No index bounds the filter: measure it on a sample.
		est = s.sampleEstimate(match, n)
	}
	st.Estimate = est

	if opts.Exact || indexed == 0 || est <= s.opts.FullScanThreshold {
		st.Plan = PlanExactFilter
		if cands != nil {
			st.Scored = s.scanBitmap(sc, cands, match)
		} else {
			st.Scored = s.scanRange(sc, 0, n, match)
		}
		return
	}
	sel := float64(est) / float64(max(n, 1))
	st.Plan = PlanGraph
	if sel < hnsw.TwoHopSelectivity {
		st.Plan = PlanGraphTwoHop
	}
	accept := func(id uint32) bool { return id < indexed && match(id) }
	if sel < hnsw.TwoHopSelectivity {
		// The two-hop search tests many more points than it scores: a dense
		// bitset straight from the indexes pays for itself.
		if dense, ok := filter.Dense(f, ix, int(n), sc.bits); ok {
			sc.bits = dense
			accept = func(id uint32) bool { return id < indexed && dense[id>>6]&(1<<(id&63)) != 0 }
		}
	}
	sc.res = s.graph.SearchFiltered(sc.res, sc.q, k, ef, accept, sel)
	for _, r := range sc.res {
		sc.top.push(r.ID, r.Distance)
	}
	st.Scored = s.scanRange(sc, indexed, n, match)
}

// sampleEstimate estimates the number of matching points from a sample of
// sampleSize points (deterministic per segment size, so that a query is
// planned the same way each time).
func (s *Segment) sampleEstimate(match func(uint32) bool, n uint32) int {
	rng := rand.New(rand.NewPCG(uint64(n), 0x5eed))
	hits := 0
	for range sampleSize {
		if match(uint32(rng.Uint64N(uint64(n)))) {
			hits++
		}
	}
	return int(uint64(hits) * uint64(n) / sampleSize)
}

// scanRange scores the points [from, to) that match (all when match is nil)
// into sc.top and returns how many it scored.
func (s *Segment) scanRange(sc *scratch, from, to uint32, match func(uint32) bool) int {
	scored := 0
	ids := sc.ids[:0]
	for id := from; id < to; id++ {
		if match != nil && !match(id) {
			continue
		}
		ids = append(ids, id)
		if len(ids) == cap(ids) {
			s.scoreBatch(sc, ids)
			scored += len(ids)
			ids = ids[:0]
		}
	}
	s.scoreBatch(sc, ids)
	return scored + len(ids)
}

// scanBitmap scores the points of b that match.
func (s *Segment) scanBitmap(sc *scratch, b *roaring.Bitmap, match func(uint32) bool) int {
	scored := 0
	ids := sc.ids[:0]
	it := b.Iterator()
	for it.HasNext() {
		id := it.Next()
		if !match(id) {
			continue
		}
		ids = append(ids, id)
		if len(ids) == cap(ids) {
			s.scoreBatch(sc, ids)
			scored += len(ids)
			ids = ids[:0]
		}
	}
	s.scoreBatch(sc, ids)
	return scored + len(ids)
}

func (s *Segment) scoreBatch(sc *scratch, ids []uint32) {
	if len(ids) == 0 {
		return
	}
	d := sc.dist[:len(ids)]
	s.opts.Metric.Gather(d, sc.q, s.vecs, s.opts.Dim, ids)
	for i, id := range ids {
		sc.top.push(id, d[i])
	}
}

// denseInto writes b as a dense bitset covering n ids into dst.
func denseInto(dst []uint64, b *roaring.Bitmap, n uint32) []uint64 {
	words := int(n+63) / 64
	words = max(words, int(b.DenseSize()))
	if cap(dst) < words {
		dst = make([]uint64, words)
	}
	dst = dst[:words]
	clear(dst)
	b.WriteDenseTo(dst)
	return dst
}

// point adapts a stored point to the filter's view of it.
type point struct {
	s  *Segment
	id uint32
}

func (p point) ID() filter.PointID         { return filter.NumID(uint64(p.id)) }
func (p point) Payload() payload.Value     { return p.s.payloads[p.id] }
func (p point) HasVector(name string) bool { return name == "" }

// indexes adapts the segment's field indexes to the planner.
type indexes struct{ s *Segment }

func (x indexes) Index(key string) (payload.Index, bool) { return x.s.index(key) }

// InternalID resolves has_id conditions. Points are identified by their
// internal offset until the engine maps external ids.
func (x indexes) InternalID(id filter.PointID) (uint32, bool) {
	num, ok := id.Num()
	if !ok || num >= uint64(len(x.s.payloads)) {
		return 0, false
	}
	return uint32(num), true
}
