package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
)

// Query is one of Qdrant's universal queries. Exactly one field is set; a
// nil *Query lists points by id, as a scroll does.
type Query struct {
	// Nearest: the points closest to a vector or to a stored point.
	Nearest *Example
	// MMR, with Nearest, re-ranks the nearest points by maximal marginal
	// relevance.
	MMR *MMR
	// Recommend: like the positive examples, unlike the negative ones.
	Recommend *RecommendQuery
	// Discover: points closest to the target that best fit the context.
	Discover *DiscoverQuery
	// Context: points that best fit the context pairs.
	Context []ContextPair
	// OrderBy: points in the order of an indexed payload field.
	OrderBy *OrderBy
	// Sample: a random sample of the (filtered) points.
	Sample bool
	// Formula: the candidates the prefetches found, scored by a formula.
	Formula *Formula
	// Fusion: the results of the prefetches, fused (only over prefetches).
	Fusion *Fusion
	// RelevanceFeedback: the points closest to a target, corrected by
	// examples a feedback model scored.
	RelevanceFeedback *RelevanceFeedback
}

// RecommendQuery is Query.Recommend.
type RecommendQuery struct {
	Positive, Negative []Example
	Strategy           RecommendStrategy // default AverageVector
}

// DiscoverQuery is Query.Discover.
type DiscoverQuery struct {
	Target  Example
	Context []ContextPair
}

// ContextPair is one positive / negative pair of a discovery context.
type ContextPair struct {
	Positive, Negative Example
}

// LookupFrom names the collection (and vector) that example point ids are
// read from, instead of the queried one. Examples looked up elsewhere are not
// excluded from the results.
type LookupFrom struct {
	Collection string
	Vector     string // default: the query's Using
}

// QueryRequest is a universal query.
type QueryRequest struct {
	// Prefetch, when not empty, are the queries whose results Query is
	// applied to, instead of the whole collection (see queryTree).
	Prefetch []Prefetch
	Query    *Query
	// Using names the vector space ("" the default).
	Using  string
	Filter *filter.Filter
	// Limit results (default 10) after skipping Offset.
	Limit, Offset int
	// ScoreThreshold keeps only results strictly better than it.
	ScoreThreshold *float32
	HnswEf         int
	Exact          bool
	// Oversampling is the quantization oversampling asked for, checked
	// against strict mode; Quant holds it for the search with ignore and
	// rescore.
	Oversampling *float64
	Quant        QuantParams
	LookupFrom   *LookupFrom
	WithPayload  PayloadSelector
	WithVectors  VectorSelector

	// Stats, when not nil, receives how the query's searches ran, the
	// figures its trace span records (Query only; batches ignore it).
	Stats *SearchStats
}

// Query runs a universal query. Point ids given as examples are excluded
// from the results (unless looked up in another collection).
func (db *DB) Query(ctx context.Context, coll string, req *QueryRequest) ([]ScoredPoint, error) {
	return db.AppendQuery(ctx, nil, coll, req)
}

// AppendQuery is Query appending the results to dst, for a caller that
// reuses one buffer over its queries (as compat's conversion to other
// result types does); a nil dst makes it Query. A search by vector writes
// its results into dst directly; other queries append theirs.
func (db *DB) AppendQuery(ctx context.Context, dst []ScoredPoint, coll string, req *QueryRequest) (res []ScoredPoint, err error) {
	ctx, op := db.tel.start(ctx, opQuery, coll)
	var st SearchStats
	// The rows are the results, not what dst held.
	defer func() { op.endSearch(err, max(len(res)-len(dst), 0), &st) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if req == nil {
		return nil, fmt.Errorf("%w: missing query request", ErrBadRequest)
	}
	if err := c.admit(ctx, req.strictCheck()); err != nil {
		return nil, err
	}
	stats := op.stats(&st)
	if req.Stats != nil {
		stats = &st
	}
	res, err = db.queryInto(ctx, dst, coll, req, stats)
	if req.Stats != nil {
		*req.Stats = st
	}
	return res, err
}

// QueryBatch runs several queries; strict mode checks them as one batch
// before any runs.
func (db *DB) QueryBatch(ctx context.Context, coll string, reqs []QueryRequest) ([][]ScoredPoint, error) {
	return runBatch(ctx, db, opQueryBatch, coll, reqs, func(ctx context.Context, _ *collection, r *QueryRequest, st *SearchStats) ([]ScoredPoint, error) {
		return db.query(ctx, coll, r, st)
	})
}

// query serves req; st, when not nil, receives how a search ran.
func (db *DB) query(ctx context.Context, coll string, req *QueryRequest, st *SearchStats) ([]ScoredPoint, error) {
	return db.queryInto(ctx, nil, coll, req, st)
}

// queryInto is query appending the results to dst (when not nil): a
// nearest query writes them there, the others append theirs.
func (db *DB) queryInto(ctx context.Context, dst []ScoredPoint, coll string, req *QueryRequest, st *SearchStats) ([]ScoredPoint, error) {
	if req == nil {
		return nil, fmt.Errorf("%w: missing query request", ErrBadRequest)
	}
	r := *req
	if r.Limit == 0 {
		r.Limit = 10
	}
	q := r.Query
	if err := checkQueryNode(q, r.Using, len(r.Prefetch), r.ScoreThreshold); err != nil {
		return nil, err
	}
	if len(r.Prefetch) == 0 && q != nil && q.Formula == nil && q.Nearest != nil {
		return db.queryNearest(ctx, dst, coll, &r, st)
	}
	res, err := db.queryKinds(ctx, coll, &r, st)
	if err != nil || dst == nil {
		return res, err
	}
	return append(dst, res...), nil
}

// queryKinds serves a checked query r (its default limit set) by its
// kind.
func (db *DB) queryKinds(ctx context.Context, coll string, r *QueryRequest, st *SearchStats) ([]ScoredPoint, error) {
	q := r.Query
	if len(r.Prefetch) > 0 {
		return db.queryTree(ctx, coll, r, st)
	}
	switch {
	case q != nil && q.Formula != nil:
		return nil, errFormulaWithoutPrefetch
	case q == nil:
		return db.queryByID(ctx, coll, r)
	case q.Nearest != nil:
		return db.queryNearest(ctx, nil, coll, r, st)
	case q.Recommend != nil:
		return db.recommend(ctx, coll, st, &RecommendRequest{
			Positive: q.Recommend.Positive, Negative: q.Recommend.Negative, Strategy: q.Recommend.Strategy,
			Using: r.Using, Filter: r.Filter, Limit: r.Limit, Offset: r.Offset, ScoreThreshold: r.ScoreThreshold,
			HnswEf: r.HnswEf, Exact: r.Exact, Quant: r.Quant, WithPayload: r.WithPayload, WithVectors: r.WithVectors,
			lookupFrom: r.LookupFrom,
		})
	case q.Fusion != nil:
		return nil, fmt.Errorf("%w: Validation failed: cannot apply Fusion without prefetches", ErrBadRequest)
	case q.OrderBy != nil:
		res, err := db.scroll(ctx, coll, &ScrollRequest{Filter: r.Filter, Limit: window(r.Limit, r.Offset), OrderBy: q.OrderBy,
			WithPayload: r.WithPayload, WithVectors: r.WithVectors})
		if err != nil {
			return nil, err
		}
		return scoredFromRecords(res.Points, r.Offset), nil
	}
	return db.queryOther(ctx, coll, r)
}

// queryByID lists points in id order (a query with no query).
func (db *DB) queryByID(ctx context.Context, coll string, r *QueryRequest) ([]ScoredPoint, error) {
	res, err := db.scroll(ctx, coll, &ScrollRequest{Filter: r.Filter, Limit: window(r.Limit, r.Offset),
		WithPayload: r.WithPayload, WithVectors: r.WithVectors})
	if err != nil {
		return nil, err
	}
	return scoredFromRecords(res.Points, r.Offset), nil
}

// unscored is the score of the points of a query that does not score
// (none, order_by, sample), with version 0: Qdrant answers such points
// with score 1 and no version.
const unscored = 1

func scoredFromRecords(recs []Record, offset int) []ScoredPoint {
	out := []ScoredPoint{}
	for i, rec := range recs {
		if i >= offset {
			out = append(out, ScoredPoint{Record: rec, Score: unscored})
		}
	}
	return out
}

// queryNearest serves Query.Nearest: a search by vector, or by the vector
// of a stored point (excluded from the results).
func (db *DB) queryNearest(ctx context.Context, dst []ScoredPoint, coll string, r *QueryRequest, st *SearchStats) ([]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	ex := r.Query.Nearest
	vp, sparse, err := c.spaceParams(r.Using)
	if err != nil {
		return nil, err
	}
	if ex.ID == nil && (ex.Sparse != nil) != sparse {
		return nil, fmt.Errorf("%w: Conversion between sparse and regular vectors failed", ErrBadRequest)
	}
	var q qvec
	var exclude map[PointID]bool
	checked := false
	if v := ex.Vector; v != nil && ex.ID == nil && ex.Sparse == nil && ex.Multi == nil && !sparse && !vp.IsMulti() &&
		r.LookupFrom == nil && r.Query.MMR == nil {
		// A search by a vector, the common case: nothing to resolve, and
		// the segments normalise the query.
		if len(v) != int(vp.Size) {
			return nil, fmt.Errorf("%w: Vector dimension error: expected dim: %d, got %d", ErrBadRequest, vp.Size, len(v))
		}
		if err := distance.Validate(v, int(vp.Size)); err != nil {
			return nil, fmt.Errorf("%w: query[0]: %w", ErrBadRequest, err)
		}
		q, checked = qvec{d: v}, true
	} else {
		vecs, ids, err := db.resolveExamples(c, []Example{*ex}, r.Using, vp, r.LookupFrom, "query")
		if err != nil {
			return nil, err
		}
		if len(vecs) == 0 {
			// The example point lacks the (sparse) vector.
			return nil, errNoExampleVector(r.Using)
		}
		if r.Query.MMR != nil {
			res, err := db.queryMMR(ctx, c, r, vecs[0], ids, vp.Distance, st)
			if err != nil || dst == nil {
				return res, err
			}
			return append(dst, res...), nil
		}
		q, exclude = vecs[0], ids
	}
	return c.search(ctx, dst, &SearchRequest{
		Vector: q.d, Sparse: q.sparseQuery(), Using: r.Using, Filter: r.Filter, Limit: r.Limit, Offset: r.Offset,
		ScoreThreshold: r.ScoreThreshold, HnswEf: r.HnswEf, Exact: r.Exact, Quant: r.Quant,
		WithPayload: r.WithPayload, WithVectors: r.WithVectors, checked: checked,
	}, exclude, st)
}

// resolveExamples resolves examples to vectors of space using: ids are read
// from lookup's collection when given (and then not excluded), else from c
// (and returned in the exclusion set).
func (db *DB) resolveExamples(c *collection, ex []Example, using string, vp VectorParams, lookup *LookupFrom, what string) ([]qvec, map[PointID]bool, error) {
	if lookup == nil || lookup.Collection == "" {
		return c.exampleVectors(ex, using, vp, what)
	}
	lc, err := db.collection(lookup.Collection)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: Collection %s not found", ErrNotFound, lookup.Collection)
	}
	if err != nil {
		return nil, nil, err
	}
	name := lookup.Vector
	if name == "" {
		name = using
	}
	lvp, lsparse, err := lc.spaceParams(name)
	if err != nil {
		return nil, nil, err
	}
	if _, sparse := c.config().Params.SparseVectors[using]; sparse != lsparse {
		return nil, nil, fmt.Errorf("%w: lookup_from: Conversion between sparse and regular vectors failed", ErrBadRequest)
	}
	if lvp.Size != vp.Size {
		return nil, nil, fmt.Errorf("%w: lookup_from: vector %q of collection %s has %d dimensions, the query's vector has %d",
			ErrBadRequest, name, lookup.Collection, lvp.Size, vp.Size)
	}
	vecs, _, err := lc.exampleVectors(ex, name, lvp, what)
	if err != nil {
		return nil, nil, err
	}
	return vecs, map[PointID]bool{}, nil
}
