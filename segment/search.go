package segment

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

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
	// Below, when not 0, leaves the slots from Below on out of the search
	// (points the collection does not show yet).
	Below uint32
	// Quant are the quantisation parameters, for spaces with quantised
	// vectors (SetQuantized). Searches of a space with a graph run on the
	// quantised vectors unless Exact or Quant.Ignore, then rescore the
	// candidates with the original vectors as Quant asks.
	Quant QuantSearch
	// Checked says that the caller has already validated the query for
	// this space as Search does (length and finite elements, the checks of
	// distance.Validate or ValidateMulti): Search does not check it again.
	// A query that was not checked may then return anything.
	Checked bool
}

// The plans Search chooses between.
const (
	PlanExact       = "exact"         // every point scored
	PlanExactFilter = "exact-filter"  // every matching point scored
	PlanGraph       = "graph"         // graph search, filter as accept predicate
	PlanGraphTwoHop = "graph-two-hop" // graph search expanding through rejected nodes
	PlanGraphLinks  = "graph-links"   // PlanGraphTwoHop following payload links too
)

// SearchStats describe how one search was executed.
type SearchStats struct {
	Plan string
	// Estimate is the estimated number of live points the filter matches
	// (all live points without a filter).
	Estimate int
	// Candidates is the size of the candidate set the indexes produced, or
	// -1 when no index narrowed the search.
	Candidates int
	// Scored counts the vectors scored: distances computed in the graph
	// search and in exact scans.
	Scored int
}

// Hit is a search result: a slot, the point it holds, and its score in
// Qdrant's convention (similarity for Cosine and Dot, distance for Euclid
// and Manhattan).
type Hit struct {
	Off     uint32
	ID      filter.PointID
	Version uint64
	Score   float32
}

// sampleSize is the number of points on which a filter no index answers is
// evaluated to estimate its selectivity.
const sampleSize = 256

// ctxEvery is the number of scored batches between two context checks of a
// scan.
const ctxEvery = 16

// scratch is the pooled per-query state.
type scratch struct {
	// Sparse search: per-slot accumulators and the bits of the slots
	// touched (both zero between queries), the sorted query.
	acc   []float32
	seen  []uint64
	sq    SparseVector
	terms []sparseTerm
	kth   []float32

	q    []float32
	top  topK
	res  []hnsw.Result
	ids  []uint32
	dist []float32
	memo []uint8 // per slot: 0 unknown, 1 rejected, 2 accepted
	bits []uint64
	eval *filter.Evaluator // over this segment's indexes
	pr   payloadReader

	// Quantised search: the prepared query (qon while it is in use) and
	// the rescoring buffers.
	qvec  quantVectors
	qon   bool
	qids  []uint32
	qdist []float32
}

// putScratch returns sc to the pool, without the payloads and closures of
// its query.
func (s *Segment) putScratch(sc *scratch) {
	sc.pr.release()
	sc.qon, sc.qvec.qv = false, nil
	s.scratch.Put(sc)
}

func (s *Segment) getScratch() *scratch {
	sc, _ := s.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{ids: make([]uint32, 0, 256), dist: make([]float32, 256)}
	}
	return sc
}

// Search returns the k live points closest to q in vector space name that
// match the filter, best first. Points lacking the vector are never
// returned. q is validated as Append validates vectors and preprocessed
// (normalised for Cosine).
func (s *Segment) Search(ctx context.Context, name string, q []float32, k int, o *SearchOptions) ([]Hit, error) {
	hits, err := s.AppendSearch(ctx, nil, name, q, k, o)
	if err == nil && hits == nil {
		hits = []Hit{}
	}
	return hits, err
}

// AppendSearch is Search appending the hits to dst, so that a caller
// searching repeatedly can reuse one slice. On error it returns dst
// unchanged.
func (s *Segment) AppendSearch(ctx context.Context, dst []Hit, name string, q []float32, k int, o *SearchOptions) ([]Hit, error) {
	sp, err := s.space(name)
	if err != nil {
		return dst, err
	}
	if o == nil || !o.Checked {
		if err := sp.validate(q); err != nil {
			return dst, fmt.Errorf("vector %q: %w", name, err)
		}
	}
	opts, err := searchOptions(ctx, k, o)
	if err != nil {
		return dst, err
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	if cap(sc.q) < len(q) {
		// Aligned, so that the kernels' wide loads do not straddle cache lines.
		sc.q = distance.MakeAligned(len(q))
	}
	sc.q = sp.preprocessQuery(sc.q[:0], q)

	// Slots from indexed on are scored by scan. indexed is read first so
	// that it is at most n.
	indexed := sp.indexed.Load()
	if opts.Below > 0 {
		indexed = min(indexed, opts.Below)
	}
	ef := opts.Ef
	if ef <= 0 {
		ef = sp.graph.Load().Config().EfConstruct
	}
	// With quantised vectors (and a graph: Qdrant quantises indexed
	// segments), candidates are collected on them, kk of them.
	kk, rescore := k, false
	if indexed > 0 && !sp.spec.NoGraph {
		kk, rescore, sc.qon = s.quantPlan(sc, sp, &opts, k, s.n.Load())
	}
	ef = max(ef, kk)
	st := SearchStats{Candidates: -1}
	sc.top.reset(kk)

	if opts.Filter == nil {
		n := s.n.Load()
		if opts.Below > 0 {
			n = min(n, opts.Below)
		}
		st.Estimate = s.Live()
		if opts.Exact || indexed == 0 || sp.spec.NoGraph {
			st.Plan = PlanExact
			st.Scored, err = s.scanRange(ctx, sc, sp, 0, n, nil)
		} else {
			st.Plan = PlanGraph
			// Deleted slots in the graph are tombstones, which the graph
			// never returns: no accept predicate unless a build is
			// inserting past indexed.
			var accept func(uint32) bool
			if sp.building.Load() > indexed {
				accept = func(off uint32) bool { return off < indexed }
			}
			inGraph := s.graphSearch(sc, sp, kk, ef, accept, 1)
			s.pushGraph(sc, indexed)
			st.Scored, err = s.scanRange(ctx, sc, sp, indexed, n, nil)
			st.Scored += inGraph
		}
	} else {
		s.mu.RLock()
		err = s.searchFiltered(ctx, sc, sp, &opts, kk, ef, indexed, &st)
		s.mu.RUnlock()
	}
	if err != nil {
		sc.top.reset(k)
		return dst, err
	}
	score := sp.metric.Score
	if sc.qon {
		score = s.quantFinish(sc, sp, k, rescore)
	}
	return s.hits(dst, sc, &opts, &st, score), nil
}

// graphSearch searches sp's graph into sc.res, on the quantised vectors
// when sc.qon, and returns the number of distances computed.
func (s *Segment) graphSearch(sc *scratch, sp *space, k, ef int, accept func(uint32) bool, sel float64) int {
	var n int
	if sc.qon {
		sc.res, n = sp.graph.Load().SearchVia(&sc.qvec, sc.res, sc.q, k, ef, accept, sel)
	} else {
		sc.res, n = sp.graph.Load().SearchCounted(sc.res, sc.q, k, ef, accept, sel)
	}
	return n
}

// searchOptions checks a search's k and context and returns a copy of its
// options (the zero options for nil).
func searchOptions(ctx context.Context, k int, o *SearchOptions) (SearchOptions, error) {
	if k <= 0 {
		return SearchOptions{}, fmt.Errorf("qlite: limit must be positive, got %d", k)
	}
	if err := ctx.Err(); err != nil {
		return SearchOptions{}, err
	}
	var opts SearchOptions
	if o != nil {
		opts = *o
	}
	return opts, nil
}

// hits empties sc.top into dst, best first, with the scores score makes
// of its distances, and reports st into opts.Stats.
func (s *Segment) hits(dst []Hit, sc *scratch, opts *SearchOptions, st *SearchStats, score func(float32) float32) []Hit {
	sc.res = sc.top.sorted(sc.res[:0])
	dst = slices.Grow(dst, len(sc.res))
	for _, r := range sc.res {
		ch := s.chunk(r.ID)
		dst = append(dst, Hit{Off: r.ID, ID: ch.ids[r.ID&chunkMask], Version: ch.versions[r.ID&chunkMask], Score: score(r.Distance)})
	}
	if opts.Stats != nil {
		*opts.Stats = *st
	}
	return dst
}

// pushGraph moves graph results into the top k. A result at or past
// indexed (a concurrent build inserted it after the search read indexed)
// is left to the scan; one deleted since the graph returned it (its
// tombstone not yet set) is dropped.
func (s *Segment) pushGraph(sc *scratch, indexed uint32) {
	for _, r := range sc.res {
		if r.ID < indexed && s.liveBit(r.ID) {
			sc.top.push(r.ID, r.Distance)
		}
	}
}

// searchFiltered runs a filtered search. The caller holds s.mu shared.
func (s *Segment) searchFiltered(ctx context.Context, sc *scratch, sp *space, opts *SearchOptions, k, ef int, indexed uint32, st *SearchStats) error {
	n := s.n.Load() // stable under mu
	if opts.Below > 0 {
		n = min(n, opts.Below)
	}
	ix := indexes{s}
	if sc.eval == nil {
		sc.eval = filter.NewEvaluator(ix)
	}

	// Estimate first, from the indexes' counts; materialise candidates only
	// when the estimate is small enough to score them all.
	f := opts.Filter
	total := int(s.nlive.Load())
	cheap := f.Estimate(ix, total)
	est := cheap.Exp
	threshold := sp.spec.FullScanThreshold
	var plan *filter.Plan
	exactOnly := opts.Exact || indexed == 0 || sp.spec.NoGraph
	if exactOnly || est <= threshold {
		plan = f.Plan(ix, total, s.mu.all)
	} else {
		plan = &filter.Plan{Filter: f}
	}
	cands := plan.Candidates
	exact := cands != nil && plan.Exact
	if cands != nil {
		st.Candidates = int(cands.GetCardinality())
		est = min(est, st.Candidates)
	}
	// An exact plan's estimate is final here (only an inexact one is
	// sampled below), and with it the choice of a scan of cands alone.
	// Such a scan (the common small filter) needs neither the dense bitset
	// of cands nor the memo, each as long as the segment, so that the
	// query costs what it scores; the graph, and an inexact plan, ask
	// about any slot.
	scanCands := exact && (exactOnly || est <= threshold)
	var bits []uint64
	if cands != nil && !scanCands {
		sc.bits = denseInto(sc.bits, cands, n)
		bits = sc.bits
	}
	if !exact {
		if cap(sc.memo) < int(n) {
			sc.memo = make([]uint8, n+n/4)
		}
		sc.memo = sc.memo[:n]
		clear(sc.memo)
	}
	var chk *filter.Checker // what decides a slot of an inexact plan
	if !exact {
		chk = filter.NewChecker(f, ix, sc.eval)
	}
	pr := &sc.pr
	pr.reset(s, f)
	// match decides one slot: live with this vector, then through the
	// candidate set when it is exact, else with the checker (index values,
	// or the payload where no index decides), memoised per query. Without
	// bits, only slots of cands are asked about.
	match := func(off uint32) bool {
		if bits != nil && bits[off>>6]&(1<<(off&63)) == 0 {
			return false
		}
		if exact {
			return s.liveBit(off) && s.hasBit(sp, off)
		}
		switch sc.memo[off] {
		case 1:
			return false
		case 2:
			return true
		}
		ok := s.liveBit(off) && s.hasBit(sp, off) && chk.Check(off, point{pr, off})
		sc.memo[off] = 1
		if ok {
			sc.memo[off] = 2
		}
		return ok
	}
	// unknown reports the slots match has yet to decide that it may read
	// the payload of: the read-ahead of scans.
	unknown := func(off uint32) bool {
		return !exact && (bits == nil || bits[off>>6]&(1<<(off&63)) != 0) && sc.memo[off] == 0 &&
			s.liveBit(off) && s.hasBit(sp, off)
	}
	if !plan.Exact && n > sampleSize && cheap.Max >= total {
		// No index bounds the filter: measure it on a sample.
		est = s.sampleEstimate(match, n, pr, unknown)
	}
	st.Estimate = est

	var err error
	if exactOnly || est <= threshold {
		st.Plan = PlanExactFilter
		if !exact {
			pr.ahead = unknown
		}
		if cands != nil {
			st.Scored, err = s.scanBitmap(ctx, sc, sp, cands, n, match)
		} else {
			st.Scored, err = s.scanRange(ctx, sc, sp, 0, n, match)
		}
		return cmp.Or(pr.err, err)
	}
	sel := float64(est) / float64(max(total, 1))
	st.Plan = PlanGraph
	if sel < hnsw.TwoHopSelectivity {
		st.Plan = PlanGraphTwoHop
		if sp.graph.Load().UsesBlockLinks(sel) {
			st.Plan = PlanGraphLinks
		}
	}
	accept := func(off uint32) bool { return off < indexed && match(off) }
	if sel < hnsw.TwoHopSelectivity {
		// The two-hop search tests many more points than it scores: a dense
		// bitset straight from the indexes pays for itself. Indexes hold
		// live slots only, so it excludes deleted slots as match does.
		if dense, ok := filter.Dense(f, ix, int(n), sc.bits); ok {
			sc.bits = dense
			accept = func(off uint32) bool { return off < indexed && dense[off>>6]&(1<<(off&63)) != 0 }
		}
	}
	var inGraph int
	inGraph = s.graphSearch(sc, sp, k, ef, accept, sel)
	if pr.err != nil {
		return pr.err
	}
	s.pushGraph(sc, indexed)
	pr.ahead = unknown
	st.Scored, err = s.scanRange(ctx, sc, sp, indexed, n, match)
	st.Scored += inGraph
	return cmp.Or(pr.err, err)
}

// sampleEstimate estimates the number of matching points from a sample of
// sampleSize slots (deterministic per segment size, so that a query is
// planned the same way each time). With a PayloadSource, the payloads of
// the sampled slots match may read (unknown) are fetched in one batch.
func (s *Segment) sampleEstimate(match func(uint32) bool, n uint32, pr *payloadReader, unknown func(uint32) bool) int {
	rng := rand.New(rand.NewPCG(uint64(n), 0x5eed))
	var sample [sampleSize]uint32
	for i := range sample {
		sample[i] = uint32(rng.Uint64N(uint64(n)))
	}
	if s.src != nil {
		offs := slices.Clone(sample[:])
		slices.Sort(offs)
		offs = slices.DeleteFunc(slices.Compact(offs), func(off uint32) bool { return !unknown(off) })
		pr.fetch(offs)
	}
	hits := 0
	for _, off := range sample {
		if match(off) {
			hits++
		}
	}
	return int(uint64(hits) * uint64(n) / sampleSize)
}

// scanRange scores the live slots of [from, to) that have sp's vector and
// match (all when match is nil) into sc.top and returns how many it
// scored.
func (s *Segment) scanRange(ctx context.Context, sc *scratch, sp *space, from, to uint32, match func(uint32) bool) (int, error) {
	scored, batches := 0, 0
	ids := sc.ids[:0]
	dir := s.chunks()
	for w := int(from >> 6); w < (int(to)+63)>>6; w++ {
		word := liveWord(dir, w) & hasWord(dir, sp, w)
		base := uint32(w) << 6
		if base < from {
			word &^= 1<<(from-base) - 1
		}
		if end := to - base; end < 64 {
			word &= 1<<end - 1
		}
		for word != 0 {
			off := base + uint32(bits.TrailingZeros64(word))
			word &= word - 1
			if match != nil && !match(off) {
				continue
			}
			ids = append(ids, off)
			if len(ids) == cap(ids) {
				s.scoreBatch(sc, sp, ids)
				scored += len(ids)
				ids = ids[:0]
				if batches++; batches%ctxEvery == 0 {
					if err := ctx.Err(); err != nil {
						return scored, err
					}
				}
			}
		}
	}
	s.scoreBatch(sc, sp, ids)
	return scored + len(ids), nil
}

// scanBitmap scores the slots of b below n that match.
func (s *Segment) scanBitmap(ctx context.Context, sc *scratch, sp *space, b *roaring.Bitmap, n uint32, match func(uint32) bool) (int, error) {
	scored, batches := 0, 0
	ids := sc.ids[:0]
	it := b.Iterator()
	for it.HasNext() {
		off := it.Next()
		if off >= n {
			break
		}
		if !match(off) {
			continue
		}
		ids = append(ids, off)
		if len(ids) == cap(ids) {
			s.scoreBatch(sc, sp, ids)
			scored += len(ids)
			ids = ids[:0]
			if batches++; batches%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return scored, err
				}
			}
		}
	}
	s.scoreBatch(sc, sp, ids)
	return scored + len(ids), nil
}

// scoreBatch scores the slots of ids into sc.top.
func (s *Segment) scoreBatch(sc *scratch, sp *space, ids []uint32) {
	if len(ids) == 0 {
		return
	}
	if len(ids) >= belowMin && !sc.qon && sp.multi == nil && sp.dtype == Float32 && sp.metric.Bounded() {
		s.scoreBelow(sc, sp, ids)
		return
	}
	d := sc.dist[:len(ids)]
	if sc.qon {
		sc.qvec.Distances(nil, ids, d)
	} else {
		vectors{sp}.Distances(sc.q, ids, d)
	}
	for i, off := range ids {
		sc.top.push(off, d[i])
	}
}

// belowStep is the number of rows scoreBelow scores against one bound.
const belowStep = 64

// belowMin is the fewest rows scoreBatch scores with bounds: the 38 rows
// of a 0.1% filter on Fashion-MNIST, scored in two calls rather than one
// (the k first give the bound), cost up to 10% more CPU with bounds in
// some runs, and a few rows save little (distance/KERNELS.md).
var belowMin = 128 // a variable for tests

// scoreBelow is scoreBatch for metrics whose distances are sums of
// non-negative terms: once sc.top holds k results, a row is scored only
// until its partial sum reaches the k-th best distance (the rest of the
// row is never read), as the top k would reject it anyway. The bound is
// renewed every belowStep rows. The top k is the same, ties included, as
// with every row scored in full: a row scored in full has the same
// distance, and one left early has a distance at least the bound, which
// push rejects.
func (s *Segment) scoreBelow(sc *scratch, sp *space, ids []uint32) {
	chunks, shift := *sp.rows.Load(), uint(sp.rowBits)
	for len(ids) > 0 {
		n, bound := min(len(ids), belowStep), float32(math.Inf(1))
		if t := &sc.top; len(t.h) < t.k {
			// Fill the top k first: a bound comes with the k-th result.
			n = min(n, t.k-len(t.h))
		} else {
			bound = t.h[0].Distance
		}
		d := sc.dist[:n]
		sp.metric.GatherChunksBelow(d, sc.q, chunks, shift, ids[:n], bound)
		for i, off := range ids[:n] {
			sc.top.push(off, d[i])
		}
		ids = ids[n:]
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

// point adapts a slot to the filter's view of a point; its payload comes
// through a payloadReader.
type point struct {
	r   *payloadReader
	off uint32
}

func (p point) ID() filter.PointID     { return p.r.s.id(p.off) }
func (p point) Payload() payload.Value { return p.r.payload(p.off) }
func (p point) HasVector(name string) bool {
	s := p.r.s
	if sp, ok := s.sparseByName[name]; ok {
		return s.hasBitIdx(sp.has, p.off)
	}
	sp, ok := s.byName[name]
	return ok && s.hasBit(sp, p.off)
}

// indexes adapts the segment to the planner: field indexes, has_id
// through the id lookup, has_vector through the presence bitmaps. Its
// methods run with s.mu held.
type indexes struct{ s *Segment }

func (x indexes) Index(key string) (payload.Index, bool) {
	fi, ok := x.s.mu.indexes[key]
	if !ok {
		return nil, false
	}
	return fi.idx, true
}

// InternalID resolves has_id conditions to the live slot holding the id.
func (x indexes) InternalID(id filter.PointID) (uint32, bool) {
	return x.s.lookupLocked(id)
}

// VectorPoints resolves has_vector conditions: the live slots with the
// named vector.
func (x indexes) VectorPoints(name string) *roaring.Bitmap {
	if sp, ok := x.s.sparseByName[name]; ok {
		return sp.hasBM
	}
	sp, ok := x.s.byName[name]
	if !ok {
		return nil
	}
	return sp.hasBM
}
