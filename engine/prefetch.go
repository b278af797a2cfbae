package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/qlite/qlite/filter"
)

// This file serves queries with prefetches, as Qdrant 1.17 plans them
// (lib/shard/src/query/planned_query.rs, lib/collection/src/shards/
// local_shard/query.rs):
//
//   - The request's filter, with every point id the tree references as an
//     example (outside lookups in other collections) excluded, is joined to
//     the filter of each prefetch, and each prefetch's to those of its own
//     prefetches, down to the leaves (see joinFilters).
//   - A leaf prefetch (one with no prefetches) is an ordinary query with
//     its own limit (default 10) and score threshold, returning no payload
//     or vectors; one with no query lists points by id, as a scroll does.
//   - A prefetch with prefetches applies its query to their results (see
//     applyQuery), keeping its limit; so does the request, keeping limit +
//     offset, from which the offset is then skipped.
//   - Payload and vectors are read for the final points only.

// ErrInvalidQuery is the error of a universal query whose parts do not fit
// together (prefetches without a query to merge them, a score threshold
// without a scoring query, a fusion with a vector name).
var ErrInvalidQuery = errors.New("qlite: invalid query")

// Prefetch is one prefetch of a universal query: its results are what the
// query above it is applied to.
type Prefetch struct {
	// Prefetch are the prefetches this one's Query is applied to; with none,
	// Query runs over the collection.
	Prefetch []Prefetch
	// Query scores this prefetch's points; nil lists them by id (allowed
	// only without prefetches).
	Query *Query
	// Using names the vector space ("" the default).
	Using string
	// Filter is joined to the filters above it.
	Filter *filter.Filter
	HnswEf int
	Exact  bool
	// Oversampling is checked against strict mode; Quant holds it for the
	// search.
	Oversampling *float64
	Quant        QuantParams
	// ScoreThreshold keeps only results better than it (for a fusion, at
	// least as good).
	ScoreThreshold *float32
	// Limit is the number of results the prefetch keeps (default 10).
	Limit      int
	LookupFrom *LookupFrom
}

// FusionMethod names how a fusion combines its prefetches' results.
type FusionMethod string

// The fusion methods.
const (
	// FusionRRF is reciprocal rank fusion: a point's score is the sum over
	// the lists it appears in of 1 / ((rank+1)/weight + k - 1), with rank
	// counted from 0; a weight <= 0 adds nothing.
	FusionRRF FusionMethod = "rrf"
	// FusionDBSF is distribution-based score fusion: each list's scores are
	// normalised to (s - (mean - 3σ)) / 6σ (σ the sample standard
	// deviation; 0.5 for a list of one point or of equal scores), then
	// summed per point.
	FusionDBSF FusionMethod = "dbsf"
)

// Fusion is Query.Fusion: it merges the results of the prefetches.
type Fusion struct {
	Method FusionMethod
	// K is RRF's rank constant (0 means the default, 2).
	K int
	// Weights are RRF's weights, one per prefetch (nil: all 1).
	Weights []float32
}

// defaultRRFK is Qdrant's default RRF rank constant.
const defaultRRFK = 2

// maxPrefetchDepth is the deepest prefetch tree Qdrant accepts.
const maxPrefetchDepth = 64

// defaultPrefetchLimit is a prefetch's limit when it sets none.
const defaultPrefetchLimit = 10

// examples returns the query's examples (none for a nil query and the
// queries that have none).
func (q *Query) examples() []Example {
	switch {
	case q == nil:
		return nil
	case q.Nearest != nil:
		return []Example{*q.Nearest}
	case q.Recommend != nil:
		return append(slices.Clone(q.Recommend.Positive), q.Recommend.Negative...)
	case q.Discover != nil:
		return append(pairExamples(q.Discover.Context), q.Discover.Target)
	case q.Context != nil:
		return pairExamples(q.Context)
	case q.RelevanceFeedback != nil:
		return feedbackExamples(q.RelevanceFeedback)
	}
	return nil
}

// checkQueryNode checks one node of a query tree (the request or a
// prefetch) as Qdrant validates it, before it plans anything.
func checkQueryNode(q *Query, using string, prefetches int, threshold *float32) error {
	if prefetches > 0 && q == nil {
		return fmt.Errorf("%w: A query is needed to merge the prefetches. Can't have prefetches without defining a query.", ErrInvalidQuery)
	}
	if threshold != nil {
		switch {
		case q == nil:
			return fmt.Errorf("%w: A query is needed to use the score_threshold. Can't have score_threshold without defining a query.", ErrInvalidQuery)
		case q.OrderBy != nil:
			return fmt.Errorf("%w: Can't use score_threshold with an order_by query.", ErrInvalidQuery)
		}
	}
	if q != nil && q.Fusion != nil && using != "" {
		return fmt.Errorf("%w: Fusion queries cannot be combined with the 'using' field.", ErrInvalidQuery)
	}
	if q != nil && q.Formula != nil {
		return checkFormula(q.Formula)
	}
	return nil
}

// checkPrefetches checks the prefetches below a node, depth first, in
// Qdrant's order.
func checkPrefetches(ps []Prefetch) error {
	for i := range ps {
		p := &ps[i]
		if err := checkQueryNode(p.Query, p.Using, len(p.Prefetch), p.ScoreThreshold); err != nil {
			return err
		}
		if p.Limit < 0 {
			return fmt.Errorf("%w: prefetch limit must not be negative", ErrBadRequest)
		}
		if err := checkPrefetches(p.Prefetch); err != nil {
			return err
		}
	}
	return nil
}

// planPrefetches checks what Qdrant checks when it plans a tree: its depth,
// fusions over prefetches only and RRF weights that match them.
func planPrefetches(q *Query, ps []Prefetch) error {
	if d := prefetchDepth(ps); d > maxPrefetchDepth {
		return fmt.Errorf("%w: Validation failed: prefetches depth %d exceeds max depth %d", ErrBadRequest, d, maxPrefetchDepth)
	}
	return planQueries(q, ps)
}

// planQueries checks that the fusions and formulas of a tree apply to
// prefetches, with as many RRF weights as there are prefetches.
func planQueries(q *Query, ps []Prefetch) error {
	if q != nil && q.Formula != nil && len(ps) == 0 {
		return errFormulaWithoutPrefetch
	}
	if q != nil && q.Fusion != nil {
		if len(ps) == 0 {
			return fmt.Errorf("%w: Validation failed: cannot apply Fusion without prefetches", ErrBadRequest)
		}
		if w := q.Fusion.Weights; w != nil && len(w) != len(ps) {
			return fmt.Errorf("%w: Validation failed: RRF weights length (%d) does not match number of prefetches (%d)", ErrBadRequest, len(w), len(ps))
		}
	}
	for i := range ps {
		if err := planQueries(ps[i].Query, ps[i].Prefetch); err != nil {
			return err
		}
	}
	return nil
}

// prefetchDepth is the depth of the deepest prefetch of ps (0 for none).
func prefetchDepth(ps []Prefetch) int {
	d := 0
	for i := range ps {
		d = max(d, 1+prefetchDepth(ps[i].Prefetch))
	}
	return d
}

// referencedIDs appends the ids that the queries of ps take as examples
// from collection coll (lookups in other collections left out).
func referencedIDs(dst []PointID, coll string, q *Query, lookup *LookupFrom, ps []Prefetch) []PointID {
	if lookup == nil || lookup.Collection == "" || lookup.Collection == coll {
		for _, e := range q.examples() {
			if e.ID != nil {
				dst = append(dst, *e.ID)
			}
		}
	}
	for i := range ps {
		dst = referencedIDs(dst, coll, ps[i].Query, ps[i].LookupFrom, ps[i].Prefetch)
	}
	return dst
}

// joinFilters joins a filter from above into a prefetch's filter as
// Qdrant merges them: clause by clause, the conditions of each of must,
// should, must_not and min_should put together (min_should keeping the
// larger count). Two should clauses thus make one, which holds when any of
// the conditions of either holds: not the conjunction of the two filters.
func joinFilters(a, b *filter.Filter) *filter.Filter {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	out := &filter.Filter{
		Must:    concatClause(a.Must, b.Must),
		Should:  concatClause(a.Should, b.Should),
		MustNot: concatClause(a.MustNot, b.MustNot),
	}
	switch {
	case a.MinShould == nil:
		out.MinShould = b.MinShould
	case b.MinShould == nil:
		out.MinShould = a.MinShould
	default:
		out.MinShould = &filter.MinShould{
			Conditions: concatClause(a.MinShould.Conditions, b.MinShould.Conditions),
			MinCount:   max(a.MinShould.MinCount, b.MinShould.MinCount),
		}
	}
	return out
}

// concatClause puts the conditions of two clauses together; the result is
// nil only when both clauses are absent.
func concatClause(a, b []filter.Condition) []filter.Condition {
	if a == nil && b == nil {
		return nil
	}
	return append(append(make([]filter.Condition, 0, len(a)+len(b)), a...), b...)
}

// queryTree serves a query with prefetches.
func (db *DB) queryTree(ctx context.Context, coll string, r *QueryRequest, st *SearchStats) ([]ScoredPoint, error) {
	if err := checkPage(r.Limit, r.Offset); err != nil {
		return nil, err
	}
	if err := checkPrefetches(r.Prefetch); err != nil {
		return nil, err
	}
	if err := planPrefetches(r.Query, r.Prefetch); err != nil {
		return nil, err
	}
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	sel, err := c.compileSelectors(r.WithPayload, r.WithVectors)
	if err != nil {
		return nil, err
	}
	f := r.Filter
	if ids := referencedIDs(nil, coll, r.Query, r.LookupFrom, r.Prefetch); len(ids) > 0 {
		f = joinFilters(&filter.Filter{MustNot: []filter.Condition{filter.NewHasID(ids...)}}, f)
	}
	lists, err := db.runPrefetches(ctx, coll, r.Prefetch, f, st)
	if err != nil {
		return nil, err
	}
	if r.Query != nil && r.Query.Fusion != nil {
		// Qdrant fuses at the root what each prefetch returned, cut to its
		// limit (a leaf MMR prefetch returns its candidates).
		for i := range lists {
			lists[i] = lists[i][:min(len(lists[i]), cmp.Or(r.Prefetch[i].Limit, defaultPrefetchLimit))]
		}
	}
	res, err := db.applyQuery(ctx, coll, r.Query, &applyParams{
		using: r.Using, limit: window(r.Limit, r.Offset), threshold: r.ScoreThreshold,
		hnswEf: r.HnswEf, exact: r.Exact, lookup: r.LookupFrom, requestLimit: r.Limit,
	}, lists)
	if err != nil {
		return nil, err
	}
	if r.Offset >= len(res) {
		return []ScoredPoint{}, nil
	}
	res = res[r.Offset:min(len(res), r.Offset+r.Limit)]
	return c.fillRecords(res, &sel)
}

// runPrefetches runs each prefetch with parent joined to its filter and
// returns their results, in prefetch order.
func (db *DB) runPrefetches(ctx context.Context, coll string, ps []Prefetch, parent *filter.Filter, st *SearchStats) ([][]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	// No prefetch keeps more points than there are.
	most := max(c.pointsCount(), 1)
	lists := make([][]ScoredPoint, len(ps))
	for i := range ps {
		p := &ps[i]
		f := joinFilters(parent, p.Filter)
		limit := p.Limit
		if limit == 0 {
			limit = defaultPrefetchLimit
		}
		limit = min(limit, most)
		var err error
		if len(p.Prefetch) == 0 {
			if lq := leafQuery(p, f, limit); lq.Limit > 0 {
				lists[i], err = db.query(ctx, coll, lq, st)
			} else {
				lists[i] = []ScoredPoint{} // an MMR leaf with no candidates
			}
		} else {
			var sub [][]ScoredPoint
			if sub, err = db.runPrefetches(ctx, coll, p.Prefetch, f, st); err == nil {
				lists[i], err = db.applyQuery(ctx, coll, p.Query, &applyParams{using: p.Using, limit: limit,
					threshold: p.ScoreThreshold, hnswEf: p.HnswEf, exact: p.Exact, lookup: p.LookupFrom}, sub)
			}
		}
		if err != nil {
			return nil, err
		}
		// Only the first search reports its figures.
		st = nil
	}
	return lists, nil
}

// applyParams are the parts of a node of a query tree that its query is
// applied with.
type applyParams struct {
	using     string
	limit     int
	threshold *float32
	hnswEf    int
	exact     bool
	lookup    *LookupFrom
	// requestLimit is, at the root, the request's limit (without its
	// offset); 0 below the root.
	requestLimit int
}

// candidates are the points a query with prefetches is applied to: each
// prefetch's results, in prefetch order. A point may be in several lists;
// ids lists each once.
type candidates [][]ScoredPoint

// ids returns the distinct points of the lists, in order of first
// appearance.
func (cs candidates) ids() []PointID {
	u := cs.union()
	out := make([]PointID, len(u))
	for i := range u {
		out[i] = u[i].ID
	}
	return out
}

// scores returns, for each prefetch in order, its score of each point it
// returned (what a formula's $score[i] reads).
func (cs candidates) scores() []map[PointID]float32 {
	out := make([]map[PointID]float32, len(cs))
	for i, l := range cs {
		out[i] = make(map[PointID]float32, len(l))
		for _, p := range l {
			if _, ok := out[i][p.ID]; !ok {
				out[i][p.ID] = p.Score
			}
		}
	}
	return out
}

// onlyCandidates is the filter that holds for the candidates only.
func (cs candidates) filter() *filter.Filter {
	return &filter.Filter{Must: []filter.Condition{filter.NewHasID(cs.ids()...)}}
}

// applyQuery applies the query of a node with prefetches to the lists its
// prefetches returned and keeps the p.limit best. This is the re-scoring
// step: a fusion combines the lists; order_by and sample order their union;
// a vector query (nearest, recommend, discover, context) scores their union
// exactly against p.using, reading examples from p.lookup; each keeps what
// passes p.threshold. New query kinds plug in here.
func (db *DB) applyQuery(ctx context.Context, coll string, q *Query, p *applyParams, cands candidates) ([]ScoredPoint, error) {
	if q == nil {
		return nil, fmt.Errorf("%w: A query is needed to merge the prefetches. Can't have prefetches without defining a query.", ErrInvalidQuery)
	}
	if q.Fusion != nil {
		return fuse(q.Fusion, cands, p.threshold, p.limit), nil
	}
	if q.Formula != nil {
		return db.formulaRescore(ctx, coll, q.Formula, p.threshold, p.limit, cands)
	}
	if q.MMR != nil {
		return db.applyMMR(ctx, coll, q, p, cands)
	}
	ids := cands.ids()
	if len(ids) == 0 {
		if _, err := db.collection(coll); err != nil {
			return nil, err
		}
		return []ScoredPoint{}, nil
	}
	// Every other query runs as a query of its own over the candidates.
	// Qdrant's re-scoring search is exact over so few points; order_by and
	// sample give every point the same score and ignore the threshold.
	threshold := p.threshold
	if q.OrderBy != nil || q.Sample {
		threshold = nil
	}
	return db.query(ctx, coll, &QueryRequest{Query: q, Using: p.using, Filter: cands.filter(), Limit: p.limit,
		ScoreThreshold: threshold, HnswEf: p.hnswEf, Exact: true, LookupFrom: p.lookup}, nil)
}

// fuse combines the lists by f, keeping the limit best points whose fused
// score is at least threshold. Each point keeps the record of its first
// appearance; equal scores come in order of first appearance (Qdrant leaves
// their order to a hash map's).
func fuse(f *Fusion, lists candidates, threshold *float32, limit int) []ScoredPoint {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]ScoredPoint, 0, n)
	at := make(map[PointID]int, n)
	add := func(p ScoredPoint, s float32) {
		if i, ok := at[p.ID]; ok {
			out[i].Score += s
			return
		}
		at[p.ID] = len(out)
		p.Score = s
		out = append(out, p)
	}
	switch f.Method {
	case FusionDBSF:
		for _, l := range lists {
			lo, scale := dbsfNorm(l)
			for _, p := range l {
				s := float32(0.5)
				if scale != 0 {
					s = (p.Score - lo) / scale
				}
				add(p, s)
			}
		}
	default:
		k := f.K
		if k == 0 {
			k = defaultRRFK
		}
		for i, l := range lists {
			w := float32(1)
			if f.Weights != nil {
				w = f.Weights[i]
			}
			for rank, p := range l {
				add(p, rrfScore(rank, k, w))
			}
		}
	}
	sortBestFirst(out)
	n = 0
	for n < len(out) && n < limit && (threshold == nil || out[n].Score >= *threshold) {
		n++
	}
	return out[:n]
}

// rrfScore is what rank (from 0) in a list of weight w adds to a point's
// RRF score.
func rrfScore(rank, k int, w float32) float32 {
	if w <= 0 {
		return 0
	}
	return 1 / (float32(rank+1)/w + float32(k) - 1)
}

// dbsfNorm returns the low end (mean - 3σ) and width (6σ) of DBSF's
// normalisation of the list's scores, in float32 as Qdrant computes them
// (Welford's one-pass mean and sample variance); width 0 means every score
// normalises to 0.5.
func dbsfNorm(l []ScoredPoint) (lo, width float32) {
	if len(l) < 2 {
		return 0, 0
	}
	var mean, agg float32
	for i, p := range l {
		d := p.Score - mean
		mean += d / float32(i+1)
		agg += float32(d * (p.Score - mean)) // not fused, as Qdrant computes it
	}
	sd := float32(math.Sqrt(float64(agg / float32(len(l)-1))))
	lo, hi := mean-3*sd, mean+3*sd
	if lo == hi {
		return 0, 0
	}
	return lo, hi - lo
}

// fillRecords replaces the records of pts by those sel reads, dropping the
// points deleted since they were found.
func (c *collection) fillRecords(pts []ScoredPoint, sel *selectors) ([]ScoredPoint, error) {
	c.rw.RLock()
	defer c.rw.RUnlock()
	out := pts[:0]
	for _, p := range pts {
		if ref, off, ok := c.locateVisible(p.ID); ok {
			ov := p.OrderValue
			rec, err := sel.record(ref.seg, off)
			if err != nil {
				return nil, err
			}
			p.Record = rec
			p.OrderValue = ov
			out = append(out, p)
		}
	}
	return out, nil
}

// groupPrefetches returns a copy of ps with every limit multiplied by
// groups, as Qdrant widens the prefetches of a group query so that they find
// enough points to fill the groups.
func groupPrefetches(ps []Prefetch, groups int) []Prefetch {
	if len(ps) == 0 {
		return nil
	}
	out := slices.Clone(ps)
	for i := range out {
		limit := out[i].Limit
		if limit == 0 {
			limit = defaultPrefetchLimit
		}
		out[i].Limit = int(min(int64(limit)*int64(groups), math.MaxInt32))
		out[i].Prefetch = groupPrefetches(out[i].Prefetch, groups)
	}
	return out
}

// sortBestFirst sorts points by score, highest first, keeping the order of
// equal scores.
func sortBestFirst(ps []ScoredPoint) {
	slices.SortStableFunc(ps, func(a, b ScoredPoint) int { return cmp.Compare(b.Score, a.Score) })
}
