package engine

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/segment"
)

// This file serves the universal queries that score every point themselves
// rather than search a graph: discover, context and random sampling. Each is
// an exact scan over the points that match the filter.

// scanCheckEvery is how many points a scan visits between checks of its
// context.
const scanCheckEvery = 4096

// contextMargin is the margin of a context pair: a point must be closer to
// the positive example than to the negative one by more than it to reach the
// pair's best score (Qdrant uses f32::EPSILON, 2^-23).
const contextMargin float32 = 0x1p-23

// queryOther serves Query.Discover, Query.Context and Query.Sample.
func (db *DB) queryOther(ctx context.Context, coll string, r *QueryRequest) ([]ScoredPoint, error) {
	q := r.Query
	switch {
	case q.Discover != nil:
		return db.queryDiscover(ctx, coll, r)
	case q.Context != nil:
		return db.queryContext(ctx, coll, r)
	case q.Sample:
		return db.querySample(ctx, coll, r)
	case q.RelevanceFeedback != nil:
		return db.queryFeedback(ctx, coll, r)
	}
	return nil, fmt.Errorf("%w: query: no query given (set one of nearest, recommend, discover, context, order_by, sample)", ErrBadRequest)
}

// queryDiscover scores each point p by the number of context pairs it sits
// on the positive side of, minus the number it sits on the negative side of
// (a pair whose similarities are equal counts 0), plus the sigmoid-scaled
// similarity to the target, in (0, 1): sum(sign(sim(p, pos) - sim(p, neg)))
// + scaled_fast_sigmoid(sim(p, target)). Similarities are raw (see
// similarity). Higher scores come first; the example points are not returned
// (unless looked up in another collection).
func (db *DB) queryDiscover(ctx context.Context, coll string, r *QueryRequest) ([]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	vp, _, err := c.spaceParams(r.Using)
	if err != nil {
		return nil, err
	}
	d := r.Query.Discover
	target, exclude, err := db.resolveExamples(c, []Example{d.Target}, r.Using, vp, r.LookupFrom, "discover.target")
	if err != nil {
		return nil, err
	}
	pos, neg, err := db.resolvePairs(c, d.Context, r.Using, vp, r.LookupFrom, "discover.context", exclude)
	if err != nil {
		return nil, err
	}
	if len(target) == 0 || len(pos) != len(d.Context) || len(neg) != len(d.Context) {
		// An example point lacks the sparse vector.
		return nil, errNoExampleVector(r.Using)
	}
	m, t := vp.Distance, target[0]
	return c.scanScored(ctx, r, exclude, slices.Concat(target, pos, neg), func(v qvec) float32 {
		rank := 0
		for i := range pos {
			rank += totalCmp(vsimilarity(m, v, pos[i]), vsimilarity(m, v, neg[i]))
		}
		return float32(rank) + scaledSigmoid(vsimilarity(m, v, t))
	})
}

// queryContext scores each point p by how well it fits the context pairs:
// sum(fast_sigmoid(min(sim(p, pos) - sim(p, neg) - margin, 0))) with
// fast_sigmoid(x) = x / (1 + |x|) and margin 2^-23. Each pair adds a value in
// (-1, 0]; a point closer to every positive than to its negative scores 0,
// the maximum, and such ties come in ascending id order. The example points
// are not returned (unless looked up in another collection).
func (db *DB) queryContext(ctx context.Context, coll string, r *QueryRequest) ([]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	vp, _, err := c.spaceParams(r.Using)
	if err != nil {
		return nil, err
	}
	exclude := map[PointID]bool{}
	pos, neg, err := db.resolvePairs(c, r.Query.Context, r.Using, vp, r.LookupFrom, "context", exclude)
	if err != nil {
		return nil, err
	}
	if len(pos) != len(r.Query.Context) || len(neg) != len(r.Query.Context) {
		// An example point lacks the sparse vector.
		return nil, errNoExampleVector(r.Using)
	}
	m := vp.Distance
	return c.scanScored(ctx, r, exclude, slices.Concat(pos, neg), func(v qvec) float32 {
		var s float32
		for i := range pos {
			s += fastSigmoid(min(vsimilarity(m, v, pos[i])-vsimilarity(m, v, neg[i])-contextMargin, 0))
		}
		return s
	})
}

// resolvePairs resolves the examples of context pairs, adding the ids to be
// excluded to exclude.
func (db *DB) resolvePairs(c *collection, pairs []ContextPair, using string, vp VectorParams, lookup *LookupFrom,
	what string, exclude map[PointID]bool) (pos, neg []qvec, err error) {
	pe := make([]Example, len(pairs))
	ne := make([]Example, len(pairs))
	for i, p := range pairs {
		pe[i], ne[i] = p.Positive, p.Negative
	}
	pos, ex, err := db.resolveExamples(c, pe, using, vp, lookup, what+".positive")
	if err != nil {
		return nil, nil, err
	}
	for id := range ex {
		exclude[id] = true
	}
	neg, ex, err = db.resolveExamples(c, ne, using, vp, lookup, what+".negative")
	if err != nil {
		return nil, nil, err
	}
	for id := range ex {
		exclude[id] = true
	}
	return pos, neg, nil
}

// fastSigmoid maps x to (-1, 1), monotonically: x / (1 + |x|).
func fastSigmoid(x float32) float32 {
	return x / (1 + float32(math.Abs(float64(x))))
}

// totalCmp compares floats in IEEE 754 total order (-0 before +0, NaNs at
// the ends), as Rust's f32::total_cmp: -1, 0 or +1.
func totalCmp(a, b float32) int {
	x, y := int32(math.Float32bits(a)), int32(math.Float32bits(b))
	x ^= int32(uint32(x>>31) >> 1)
	y ^= int32(uint32(y>>31) >> 1)
	return cmp.Compare(x, y)
}

// checkPage validates a query's limit and offset.
func checkPage(limit, offset int) error {
	if limit < 1 {
		return fmt.Errorf("%w: Limit cannot be 0", ErrBadRequest)
	}
	if offset < 0 {
		return fmt.Errorf("%w: offset must not be negative", ErrBadRequest)
	}
	if offset > math.MaxInt32 || limit > math.MaxInt32 {
		return fmt.Errorf("%w: limit and offset must be below 2^31", ErrBadRequest)
	}
	return nil
}

// scanScored scores with score every point that matches r.Filter, has the
// vector r.Using and is not in exclude: an exact scan. It returns the
// r.Offset+r.Limit best (higher scores first, ties by ascending id), after
// skipping r.Offset, keeping only scores strictly above r.ScoreThreshold.
//
// Sparse examples are weighted in place (under the collection's read lock)
// when the vector's modifier is "idf".
func (c *collection) scanScored(ctx context.Context, r *QueryRequest, exclude map[PointID]bool, examples []qvec, score func(v qvec) float32) ([]ScoredPoint, error) {
	if err := checkPage(r.Limit, r.Offset); err != nil {
		return nil, err
	}
	if vp, _, err := c.spaceParams(r.Using); err == nil && r.ScoreThreshold != nil && !vp.Distance.HigherIsBetter() {
		return distanceThreshold(r.ScoreThreshold, r.Limit, r.Offset, func(limit int) ([]ScoredPoint, error) {
			rr := *r
			rr.ScoreThreshold, rr.Limit, rr.Offset = nil, limit, 0
			return c.scanScored(ctx, &rr, exclude, examples, score)
		})
	}
	if err := r.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	sel, err := c.compileSelectors(r.WithPayload, r.WithVectors)
	if err != nil {
		return nil, err
	}
	top := topScored{k: window(r.Limit, r.Offset)}
	_, sparse := c.config().Params.SparseVectors[r.Using]
	c.rw.RLock()
	defer c.rw.RUnlock()
	if sparse {
		c.weighExamplesLocked(r.Using, examples)
	}
	n := 0
	for _, ref := range c.segs {
		seg := ref.seg
		err := c.matchVisible(ref, r.Filter, func(off uint32) bool {
			if n++; n%scanCheckEvery == 0 && ctx.Err() != nil {
				return false
			}
			id, _ := seg.PointAt(off)
			if exclude[id] {
				return true
			}
			v, ok := slotVec(seg, r.Using, sparse, off)
			if !ok {
				return true
			}
			s := score(v)
			if r.ScoreThreshold != nil && !(s > *r.ScoreThreshold) {
				return true
			}
			top.push(scored{s, id, seg, off})
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	items := top.sorted()
	if r.Offset >= len(items) {
		return []ScoredPoint{}, nil
	}
	items = items[r.Offset:]
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

// distanceThreshold applies the score threshold of a query that scores by
// its own formula (higher scores first) in the space of a distance (Euclid,
// Manhattan) as Qdrant does: it compares the scores with the threshold as
// distances, keeping the best ones while they are below it, so all of them
// when the best is and none otherwise. run returns the limit best, unpaged.
func distanceThreshold(threshold *float32, limit, offset int, run func(limit int) ([]ScoredPoint, error)) ([]ScoredPoint, error) {
	res, err := run(window(limit, offset))
	if err != nil {
		return nil, err
	}
	if len(res) > 0 && !(res[0].Score < *threshold) || offset >= len(res) {
		return []ScoredPoint{}, nil
	}
	return res[offset:], nil
}

// topScored keeps the k best scored slots pushed to it: higher scores first,
// ties by ascending id. h is a min-heap on that order (the worst kept first).
type topScored struct {
	k int
	h []scored
}

// scoredBefore reports whether a ranks strictly before b.
func scoredBefore(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id.Compare(b.id) < 0
}

func (t *topScored) push(it scored) {
	if len(t.h) < t.k {
		t.h = append(t.h, it)
		t.up(len(t.h) - 1)
		return
	}
	if t.k == 0 || !scoredBefore(it, t.h[0]) {
		return
	}
	t.h[0] = it
	t.down(0)
}

func (t *topScored) up(i int) {
	h := t.h
	for i > 0 {
		p := (i - 1) / 2
		if !scoredBefore(h[p], h[i]) {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *topScored) down(i int) {
	h := t.h
	for {
		w, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && scoredBefore(h[w], h[l]) {
			w = l
		}
		if r < len(h) && scoredBefore(h[w], h[r]) {
			w = r
		}
		if w == i {
			return
		}
		h[w], h[i] = h[i], h[w]
		i = w
	}
}

// sorted returns the kept slots, best first. It consumes t.
func (t *topScored) sorted() []scored {
	slices.SortFunc(t.h, func(a, b scored) int {
		switch {
		case scoredBefore(a, b):
			return -1
		case scoredBefore(b, a):
			return 1
		}
		return 0
	})
	return t.h
}

// sampledSlot is a point's place in a segment.
type sampledSlot struct {
	seg *segment.Segment
	off uint32
}

// querySample returns a uniformly random sample of Limit points (after
// skipping Offset more) among those matching the filter, in random order,
// with score 0. The sample is drawn by one scan over the matching points
// (reservoir sampling). ScoreThreshold, Using and the search parameters do
// not apply, as in Qdrant.
func (db *DB) querySample(ctx context.Context, coll string, r *QueryRequest) ([]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if err := checkPage(r.Limit, r.Offset); err != nil {
		return nil, err
	}
	if err := r.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	sel, err := c.compileSelectors(r.WithPayload, r.WithVectors)
	if err != nil {
		return nil, err
	}
	c.rw.RLock()
	defer c.rw.RUnlock()
	picked, err := c.sampleSlots(ctx, r.Filter, nil, r.Limit+r.Offset)
	if err != nil {
		return nil, err
	}
	if r.Offset >= len(picked) {
		return []ScoredPoint{}, nil
	}
	picked = picked[r.Offset:]
	out := make([]ScoredPoint, len(picked))
	for i, s := range picked {
		rec, err := sel.record(s.seg, s.off)
		if err != nil {
			return nil, err
		}
		out[i] = ScoredPoint{Record: rec, Score: unscored}
	}
	return out, nil
}

// sampleSlots draws a uniformly random sample of k of the live points that
// match f and pass keep (every one when keep is nil), in random order: one
// scan, keeping a reservoir. The caller holds c.rw.
func (c *collection) sampleSlots(ctx context.Context, f *filter.Filter, keep func(seg *segment.Segment, off uint32) bool, k int) ([]sampledSlot, error) {
	res := make([]sampledSlot, 0, min(k, 1024))
	n, visited := 0, 0
	for _, ref := range c.segs {
		seg := ref.seg
		err := c.matchVisible(ref, f, func(off uint32) bool {
			if visited++; visited%scanCheckEvery == 0 && ctx.Err() != nil {
				return false
			}
			if keep != nil && !keep(seg, off) {
				return true
			}
			n++
			if len(res) < k {
				res = append(res, sampledSlot{seg, off})
			} else if j := rand.IntN(n); j < k {
				res[j] = sampledSlot{seg, off}
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
	rand.Shuffle(len(res), func(i, j int) { res[i], res[j] = res[j], res[i] })
	return res, nil
}
