package engine

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/segment"
)

// Example is a recommendation example: a stored point (ID) or a vector.
type Example struct {
	ID     *PointID
	Vector []float32
	// Multi is the example when it is a multivector (for a vector with a
	// multivector_config; a plain Vector there is a multivector of one).
	Multi [][]float32
	// Sparse is the example when the query's space is a sparse vector.
	Sparse *SparseVector
}

// RecommendStrategy is how examples combine into scores.
type RecommendStrategy string

// Qdrant's recommendation strategies.
const (
	// AverageVector searches for avg(positive) + avg(positive) - avg(negative)
	// (just avg(positive) without negatives); scores are the metric's.
	AverageVector RecommendStrategy = "average_vector"
	// BestScore scores each point by its best similarity to a positive when
	// that beats its best similarity to a negative (sigmoid-scaled, in
	// (0, 1)), and by minus the scaled negative one otherwise.
	BestScore RecommendStrategy = "best_score"
	// SumScores scores each point by the sum of its similarities to the
	// positives minus the sum of those to the negatives.
	SumScores RecommendStrategy = "sum_scores"
)

// RecommendRequest recommends points like the positive examples and unlike
// the negative ones. Example points are never returned.
type RecommendRequest struct {
	Positive, Negative []Example
	Strategy           RecommendStrategy // default AverageVector
	Using              string
	Filter             *filter.Filter
	Limit, Offset      int
	ScoreThreshold     *float32
	HnswEf             int
	Exact              bool
	// Oversampling is the quantization oversampling asked for, checked
	// against strict mode; Quant holds it for the search.
	Oversampling *float64
	Quant        QuantParams
	WithPayload  PayloadSelector
	WithVectors  VectorSelector
	// LookupFrom reads example ids from another collection.
	LookupFrom *LookupFrom
	lookupFrom *LookupFrom // set by Query
}

// Recommend runs a recommendation.
func (db *DB) Recommend(ctx context.Context, coll string, req *RecommendRequest) (res []ScoredPoint, err error) {
	ctx, op := db.tel.start(ctx, opRecommend, coll)
	var st SearchStats
	defer func() { op.endSearch(err, len(res), &st) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: missing recommend request", ErrBadRequest)
	}
	if err := c.admit(ctx, req.strictCheck()); err != nil {
		return nil, err
	}
	return db.recommend(ctx, coll, op.stats(&st), req)
}

// RecommendBatch runs several recommendations; strict mode checks them as
// one batch before any runs.
func (db *DB) RecommendBatch(ctx context.Context, coll string, reqs []RecommendRequest) ([][]ScoredPoint, error) {
	return runBatch(ctx, db, opRecommendBatch, coll, reqs, func(ctx context.Context, _ *collection, r *RecommendRequest, st *SearchStats) ([]ScoredPoint, error) {
		return db.recommend(ctx, coll, st, r)
	})
}

// recommend serves req; st, when not nil, receives how a search ran.
func (db *DB) recommend(ctx context.Context, coll string, st *SearchStats, req *RecommendRequest) ([]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: missing recommend request", ErrBadRequest)
	}
	vp, _, err := c.spaceParams(req.Using)
	if err != nil {
		return nil, err
	}
	lookup := req.LookupFrom
	if req.lookupFrom != nil {
		lookup = req.lookupFrom
	}
	pos, exclude, err := db.resolveExamples(c, req.Positive, req.Using, vp, lookup, "positive")
	if err != nil {
		return nil, err
	}
	neg, exclNeg, err := db.resolveExamples(c, req.Negative, req.Using, vp, lookup, "negative")
	if err != nil {
		return nil, err
	}
	for id := range exclNeg {
		exclude[id] = true
	}
	strategy := req.Strategy
	if strategy == "" {
		strategy = AverageVector
	}
	switch strategy {
	case AverageVector:
		if len(req.Positive) == 0 {
			return nil, fmt.Errorf("%w: At least one positive vector ID required with this strategy", ErrBadRequest)
		}
		if len(pos) == 0 {
			// Every positive example lacked the (sparse) vector.
			return nil, fmt.Errorf("%w: Positive vectors should not be empty with `average` strategy", ErrBadRequest)
		}
		var q qvec
		if vp.IsMulti() {
			q = multiAverage(pos, neg)
		} else {
			// Qdrant averages the example vectors as given, not normalised.
			pos, neg = givenVectors(req.Positive, pos), givenVectors(req.Negative, neg)
			if q = average(pos); len(neg) > 0 {
				// avg(positive) + avg(positive) - avg(negative), as Qdrant.
				q = combine(q, average(neg), 2, -1)
			}
		}
		return c.search(ctx, nil, &SearchRequest{
			Vector: q.d, Sparse: q.sparseQuery(), Using: req.Using, Filter: req.Filter, Limit: req.Limit, Offset: req.Offset,
			ScoreThreshold: req.ScoreThreshold, HnswEf: req.HnswEf, Exact: req.Exact, Quant: req.Quant,
			WithPayload: req.WithPayload, WithVectors: req.WithVectors,
		}, exclude, st)
	case BestScore, SumScores:
		if len(req.Positive) == 0 && len(req.Negative) == 0 {
			return nil, fmt.Errorf("%w: At least one positive or negative vector is required", ErrBadRequest)
		}
		if req.ScoreThreshold != nil && !vp.Distance.HigherIsBetter() {
			return distanceThreshold(req.ScoreThreshold, req.Limit, req.Offset, func(limit int) ([]ScoredPoint, error) {
				rr := *req
				rr.ScoreThreshold, rr.Limit, rr.Offset = nil, limit, 0
				return c.scoreAll(ctx, &rr, vp.Distance, pos, neg, exclude, strategy)
			})
		}
		return c.scoreAll(ctx, req, vp.Distance, pos, neg, exclude, strategy)
	}
	return nil, fmt.Errorf("%w: strategy: unknown recommendation strategy %q", ErrBadRequest, req.Strategy)
}

// exampleVectors resolves examples to vectors (preprocessed) and returns
// the ids among them.
func (c *collection) exampleVectors(ex []Example, using string, vp VectorParams, what string) ([]qvec, map[PointID]bool, error) {
	ids := map[PointID]bool{}
	var out []qvec
	_, sparse := c.config().Params.SparseVectors[using]
	c.rw.RLock()
	defer c.rw.RUnlock()
	for i, e := range ex {
		switch {
		case e.ID != nil && (e.Vector != nil || e.Sparse != nil || e.Multi != nil):
			return nil, nil, fmt.Errorf("%w: %s[%d]: give an id or a vector, not both", ErrBadRequest, what, i)
		case e.ID != nil:
			ref, off, ok := c.locateVisible(*e.ID)
			if !ok {
				return nil, nil, fmt.Errorf("%w: No point with id %s found", ErrNotFound, *e.ID)
			}
			v, ok := slotVec(ref.seg, using, sparse, off)
			if !ok && sparse {
				// Qdrant leaves out an example point without the sparse
				// vector (it still is not a result: it lacks the vector).
				ids[*e.ID] = true
				continue
			}
			if !ok {
				return nil, nil, fmt.Errorf("%w: %s[%d]: point %s has no vector %q", ErrBadRequest, what, i, *e.ID, using)
			}
			if vp.IsMulti() {
				v.dim = int(vp.Size)
			}
			out = append(out, v.clone())
			ids[*e.ID] = true
		case e.Multi != nil && !sparse && e.Sparse == nil:
			flat, err := flattenMulti(e.Multi, vp)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
			}
			out = append(out, qvec{d: vp.preprocessQuery(flat, flat), dim: int(vp.Size)})
		case sparse || e.Sparse != nil || e.Multi != nil:
			if !sparse || e.Sparse == nil {
				return nil, nil, fmt.Errorf("%w: Conversion between sparse and regular vectors failed", ErrBadRequest)
			}
			if msg := e.Sparse.problem(); msg != "" {
				return nil, nil, fmt.Errorf("%w: %s[%d]: %s", ErrBadRequest, what, i, msg)
			}
			out = append(out, qvec{s: segment.SparseVector(sparseSorted(*e.Sparse))})
		case e.Vector != nil:
			if len(e.Vector) != int(vp.Size) {
				// Qdrant's message names no example.
				return nil, nil, fmt.Errorf("%w: Vector dimension error: expected dim: %d, got %d", ErrBadRequest, vp.Size, len(e.Vector))
			}
			if err := distance.Validate(e.Vector, int(vp.Size)); err != nil {
				return nil, nil, fmt.Errorf("%w: %s[%d]: %w", ErrBadRequest, what, i, err)
			}
			v := qvec{d: vp.preprocessQuery(nil, e.Vector)}
			if vp.IsMulti() {
				v.dim = int(vp.Size)
			}
			out = append(out, v)
		default:
			return nil, nil, fmt.Errorf("%w: %s[%d]: empty example", ErrBadRequest, what, i)
		}
	}
	return out, ids, nil
}

// givenVectors returns vs, the resolved vectors of the dense examples ex,
// with the vectors given as such in place of their preprocessed forms.
func givenVectors(ex []Example, vs []qvec) []qvec {
	if len(vs) != len(ex) {
		return vs // sparse examples, which no metric preprocesses
	}
	out := slices.Clone(vs)
	for i, e := range ex {
		if e.Vector != nil {
			out[i] = qvec{d: e.Vector}
		}
	}
	return out
}

func average(vs []qvec) qvec {
	if vs[0].d == nil {
		return sparseAverage(vs)
	}
	avg := make([]float32, len(vs[0].d))
	for _, v := range vs {
		for i, x := range v.d {
			avg[i] += x
		}
	}
	for i := range avg {
		avg[i] /= float32(len(vs))
	}
	return qvec{d: avg}
}

// multiAverage is Qdrant's "average" of multivector examples: one query
// multivector holding every vector of the positives, then every vector of
// the negatives negated.
func multiAverage(pos, neg []qvec) qvec {
	var out []float32
	for _, p := range pos {
		out = append(out, p.d...)
	}
	for _, n := range neg {
		for _, x := range n.d {
			out = append(out, -x)
		}
	}
	return qvec{d: out, dim: pos[0].dim}
}

// combine returns wa*a + wb*b.
func combine(a, b qvec, wa, wb float32) qvec {
	if a.d == nil {
		return qvec{s: sparseCombine(a.s, b.s, wa, wb)}
	}
	out := make([]float32, len(a.d))
	for i := range out {
		out[i] = wa*a.d[i] + wb*b.d[i]
	}
	return qvec{d: out}
}

// vsimilarity is similarity of dense vectors, and the dot product of sparse
// ones (0 when they share no index).
//
// With a multivector example b, it is MaxSim with b as the query and a as
// the document, as Qdrant scores multivector examples.
func vsimilarity(m distance.Metric, a, b qvec) float32 {
	if b.dim > 0 {
		d := m.MaxSim(b.d, a.d, b.dim)
		if m.HigherIsBetter() {
			return 1 - d
		}
		return -d
	}
	if a.d == nil {
		d, _ := segment.SparseDot(a.s, b.s)
		return d
	}
	return similarity(m, a.d, b.d)
}

// similarity is the metric's raw similarity (higher is closer): the dot
// product for Cosine (of normalised vectors) and Dot, minus the squared
// distance for Euclid, minus the L1 distance for Manhattan.
func similarity(m distance.Metric, a, b []float32) float32 {
	switch m {
	case distance.Euclid:
		return -distance.SquaredL2(a, b)
	case distance.Manhattan:
		return -distance.L1(a, b)
	}
	return distance.DotProduct(a, b)
}

// scaledSigmoid maps x to (0, 1), monotonically: 0.5 * (x / (1 + |x|) + 1).
func scaledSigmoid(x float32) float32 {
	return 0.5 * (x/(1+float32(math.Abs(float64(x)))) + 1)
}

// scored is a point scored by a custom strategy, for the top-k heap.
type scored struct {
	score float32
	id    PointID
	seg   *segment.Segment
	off   uint32
}

// minScored is a min-heap on score (ties: larger id first out), holding the
// best results seen.
type minScored []scored

func (h minScored) Len() int { return len(h) }
func (h minScored) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].id.Compare(h[j].id) > 0
}
func (h minScored) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minScored) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *minScored) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// scoreAll scores every matching point with the strategy (an exact scan).
func (c *collection) scoreAll(ctx context.Context, req *RecommendRequest, m distance.Metric, pos, neg []qvec,
	exclude map[PointID]bool, strategy RecommendStrategy) ([]ScoredPoint, error) {
	if req.Limit < 1 {
		return nil, fmt.Errorf("%w: Limit cannot be 0", ErrBadRequest)
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	sel, err := c.compileSelectors(req.WithPayload, req.WithVectors)
	if err != nil {
		return nil, err
	}
	k := window(req.Limit, req.Offset)
	_, sparse := c.config().Params.SparseVectors[req.Using]
	score := func(v qvec) float32 {
		if strategy == SumScores {
			var s float32
			for _, p := range pos {
				s += vsimilarity(m, v, p)
			}
			for _, n := range neg {
				s -= vsimilarity(m, v, n)
			}
			return s
		}
		mp, mn := float32(math.Inf(-1)), float32(math.Inf(-1))
		for _, p := range pos {
			mp = max(mp, vsimilarity(m, v, p))
		}
		for _, n := range neg {
			mn = max(mn, vsimilarity(m, v, n))
		}
		if mp > mn {
			return scaledSigmoid(mp)
		}
		return -scaledSigmoid(mn)
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	if sparse {
		c.weighExamplesLocked(req.Using, slices.Concat(pos, neg))
	}
	h := make(minScored, 0, min(k+1, 4096))
	n := 0
	for _, ref := range c.segs {
		seg := ref.seg
		err := c.matchVisible(ref, req.Filter, func(off uint32) bool {
			if n++; n%4096 == 0 && ctx.Err() != nil {
				return false
			}
			id, _ := seg.PointAt(off)
			if exclude[id] {
				return true
			}
			v, ok := slotVec(seg, req.Using, sparse, off)
			if !ok {
				return true
			}
			s := score(v)
			if req.ScoreThreshold != nil && !(s > *req.ScoreThreshold) {
				return true
			}
			it := scored{s, id, seg, off}
			if len(h) < k {
				heap.Push(&h, it)
			} else if s > h[0].score || (s == h[0].score && id.Compare(h[0].id) < 0) {
				h[0] = it
				heap.Fix(&h, 0)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	items := []scored(h)
	slices.SortFunc(items, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return a.id.Compare(b.id)
	})
	if req.Offset >= len(items) {
		return []ScoredPoint{}, nil
	}
	items = items[req.Offset:]
	out := make([]ScoredPoint, len(items))
	for i, it := range items {
		_, ver := it.seg.PointAt(it.off)
		rec, err := sel.record(it.seg, it.off)
		if err != nil {
			return nil, err
		}
		out[i] = ScoredPoint{Record: rec, Version: ver, Score: it.score}
	}
	return out, nil
}
