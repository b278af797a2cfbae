package compat

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// This file has the Points service's searches: the universal query, the
// legacy search, recommend and discover (which map onto the same engine
// calls), their batch and group forms, facets and the distance matrix.

// Request defaults of the query API, as in Qdrant.
const (
	defaultQueryLimit = 10
	defaultGroupSize  = 3
)

// bigLimit is the limit plus offset above which a request's limit is first
// bounded by the number of points in the collection: no request can return
// more points than there are, and the engine sizes its buffers by the limit.
const bigLimit = 1 << 16

// bounds converts a limit and an offset, bounding them by the collection's
// size when they are large.
func (s *pointsService) bounds(ctx context.Context, coll string, limit, offset uint64) (int, int, error) {
	if limit <= bigLimit && offset <= bigLimit {
		return int(limit), int(offset), nil
	}
	l, o, err := s.db.BoundWindow(ctx, coll, limit, offset)
	if err != nil {
		return 0, 0, GRPCError(err)
	}
	return l, o, nil
}

// checkLimit rejects a limit of 0, as Qdrant's request validation does.
func checkLimit(field string, n uint64) error {
	if n == 0 {
		return validationErr(field, "value 0 invalid, must be 1 or larger")
	}
	return nil
}

// searchParams converts the search parameters the engine uses (hnsw_ef and
// exact); the quantization, indexed_only and ACORN settings are accepted and
// have no effect on an engine that keeps full vectors.
func searchParams(p *qdrant.SearchParams) (ef int, exact bool) {
	return int(min(p.GetHnswEf(), math.MaxInt32)), p.GetExact()
}

// checkSearchParams validates the search parameters at path as Qdrant does.
func checkSearchParams(p *qdrant.SearchParams, path string) error {
	var o, s *float64
	if p.GetQuantization() != nil {
		o = p.GetQuantization().Oversampling
	}
	if p.GetAcorn() != nil {
		s = p.GetAcorn().MaxSelectivity
	}
	if bad := searchParamsProblems(o, s, path); len(bad) > 0 {
		return invalidArg("Validation error in body: [%s]", strings.Join(bad, "; "))
	}
	return nil
}

// oversampling returns the quantization oversampling asked for, which only
// strict mode looks at.
func oversampling(p *qdrant.SearchParams) *float64 {
	if q := p.GetQuantization(); q != nil && q.Oversampling != nil {
		v := q.GetOversampling()
		return &v
	}
	return nil
}

// quantParams returns the quantization search parameters.
func quantParams(p *qdrant.SearchParams) engine.QuantParams {
	q := p.GetQuantization()
	if q == nil {
		return engine.QuantParams{}
	}
	return engine.QuantParams{Ignore: q.GetIgnore(), Rescore: copyPtr(q.Rescore), Oversampling: q.GetOversampling()}
}

func strategyFromProto(s *qdrant.RecommendStrategy) (engine.RecommendStrategy, error) {
	if s == nil {
		return "", nil
	}
	switch *s {
	case qdrant.RecommendStrategy_AverageVector:
		return engine.AverageVector, nil
	case qdrant.RecommendStrategy_BestScore:
		return engine.BestScore, nil
	case qdrant.RecommendStrategy_SumScores:
		return engine.SumScores, nil
	}
	return "", invalidArg("Unknown recommend strategy: %d", int32(*s))
}

func lookupFromProto(l *qdrant.LookupLocation) *engine.LookupFrom {
	if l == nil {
		return nil
	}
	return &engine.LookupFrom{Collection: l.GetCollectionName(), Vector: l.GetVectorName()}
}

// Universal query.

// queryFromProto converts a universal query. limit is the request's limit,
// nil for the default.
func (s *pointsService) queryFromProto(ctx context.Context, coll string, prefetch []*qdrant.PrefetchQuery, q *qdrant.Query,
	using string, f *qdrant.Filter, params *qdrant.SearchParams, threshold *float32, limit, offset *uint64,
	wp *qdrant.WithPayloadSelector, wv *qdrant.WithVectorsSelector, lookup *qdrant.LookupLocation) (*engine.QueryRequest, error) {
	prefetches, err := prefetchesFromProto(prefetch, "prefetch")
	if err != nil {
		return nil, err
	}
	req, err := newQueryRequest(q)
	if err != nil {
		return nil, err
	}
	req.Prefetch, req.Using, req.ScoreThreshold = prefetches, using, copyPtr(threshold)
	req.LookupFrom, req.WithVectors = lookupFromProto(lookup), vectorSelectorFromProto(wv)
	if req.Filter, err = filterFromProto(f); err != nil {
		return nil, err
	}
	if err := checkSearchParams(params, "params"); err != nil {
		return nil, err
	}
	req.HnswEf, req.Exact = searchParams(params)
	req.Oversampling = oversampling(params)
	req.Quant = quantParams(params)
	l := uint64(defaultQueryLimit)
	if limit != nil {
		if err := checkLimit("limit", *limit); err != nil {
			return nil, err
		}
		l = *limit
	}
	var o uint64
	if offset != nil {
		o = *offset
	}
	if req.Limit, req.Offset, err = s.bounds(ctx, coll, l, o); err != nil {
		return nil, err
	}
	if req.WithPayload, err = payloadSelectorFromProto(wp, false); err != nil {
		return nil, err
	}
	return req, nil
}

// newQueryRequest returns a request with the conversion of q (none when
// q is nil). A nearest query, the common case, is allocated with its
// request.
func newQueryRequest(q *qdrant.Query) (*engine.QueryRequest, error) {
	if x, ok := q.GetVariant().(*qdrant.Query_Nearest); ok {
		e, err := exampleFromVectorInput(x.Nearest, "query.variant")
		if err != nil {
			return nil, err
		}
		n := &struct {
			r engine.QueryRequest
			q engine.Query
			e engine.Example
		}{e: e}
		n.q.Nearest = &n.e
		n.r.Query = &n.q
		return &n.r, nil
	}
	req := &engine.QueryRequest{}
	if q != nil {
		var err error
		if req.Query, err = queryVariantFromProto(q); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// prefetchesFromProto converts the prefetches of a universal query, with
// their own prefetches; path names them in validation messages.
func prefetchesFromProto(ps []*qdrant.PrefetchQuery, path string) ([]engine.Prefetch, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]engine.Prefetch, len(ps))
	for i, p := range ps {
		at := fmt.Sprintf("%s[%d]", path, i)
		pf := &out[i]
		var err error
		if pf.Prefetch, err = prefetchesFromProto(p.GetPrefetch(), at+".prefetch"); err != nil {
			return nil, err
		}
		if p.GetQuery() != nil {
			if pf.Query, err = queryVariantFromProto(p.GetQuery()); err != nil {
				return nil, err
			}
		}
		pf.Using = p.GetUsing()
		if pf.Filter, err = filterFromProto(p.GetFilter()); err != nil {
			return nil, err
		}
		if err := checkSearchParams(p.GetParams(), at+".params"); err != nil {
			return nil, err
		}
		pf.HnswEf, pf.Exact = searchParams(p.GetParams())
		pf.Oversampling = oversampling(p.GetParams())
		pf.Quant = quantParams(p.GetParams())
		pf.ScoreThreshold = copyPtr(p.ScoreThreshold)
		if p.Limit != nil {
			if err := checkLimit(at+".limit", p.GetLimit()); err != nil {
				return nil, err
			}
			pf.Limit = int(min(p.GetLimit(), math.MaxInt32))
		}
		pf.LookupFrom = lookupFromProto(p.GetLookupFrom())
	}
	return out, nil
}

// queryVariantFromProto converts the query of a universal query.
func queryVariantFromProto(q *qdrant.Query) (*engine.Query, error) {
	switch x := q.GetVariant().(type) {
	case *qdrant.Query_Nearest:
		e, err := exampleFromVectorInput(x.Nearest, "query.variant")
		if err != nil {
			return nil, err
		}
		// The query and its example in one allocation.
		n := &struct {
			q engine.Query
			e engine.Example
		}{e: e}
		n.q.Nearest = &n.e
		return &n.q, nil
	case *qdrant.Query_Recommend:
		rq := &engine.RecommendQuery{}
		var err error
		if rq.Positive, err = examplesFromVectorInputs(x.Recommend.GetPositive(), "query.variant.positive"); err != nil {
			return nil, err
		}
		if rq.Negative, err = examplesFromVectorInputs(x.Recommend.GetNegative(), "query.variant.negative"); err != nil {
			return nil, err
		}
		if rq.Strategy, err = strategyFromProto(orEmpty(x.Recommend).Strategy); err != nil {
			return nil, err
		}
		return &engine.Query{Recommend: rq}, nil
	case *qdrant.Query_Discover:
		if x.Discover.GetTarget() == nil {
			return nil, invalidArg("DiscoverInput target is missing")
		}
		if x.Discover.GetContext() == nil {
			return nil, invalidArg("DiscoverInput context is missing")
		}
		target, err := exampleFromVectorInput(x.Discover.GetTarget(), "query.variant.target")
		if err != nil {
			return nil, err
		}
		pairs, err := contextFromProto(x.Discover.GetContext(), "query.variant.context")
		if err != nil {
			return nil, err
		}
		return &engine.Query{Discover: &engine.DiscoverQuery{Target: target, Context: pairs}}, nil
	case *qdrant.Query_Context:
		pairs, err := contextFromProto(x.Context, "query.variant")
		if err != nil {
			return nil, err
		}
		return &engine.Query{Context: pairs}, nil
	case *qdrant.Query_OrderBy:
		ob, err := orderByFromProto(x.OrderBy)
		if err != nil {
			return nil, err
		}
		return &engine.Query{OrderBy: ob}, nil
	case *qdrant.Query_Sample:
		if x.Sample != qdrant.Sample_Random {
			return nil, invalidArg("Unknown sample method: %d", int32(x.Sample))
		}
		return &engine.Query{Sample: true}, nil
	case *qdrant.Query_Fusion:
		switch x.Fusion {
		case qdrant.Fusion_RRF:
			return &engine.Query{Fusion: &engine.Fusion{Method: engine.FusionRRF}}, nil
		case qdrant.Fusion_DBSF:
			return &engine.Query{Fusion: &engine.Fusion{Method: engine.FusionDBSF}}, nil
		}
		return nil, invalidArg("Unknown fusion: %d", int32(x.Fusion))
	case *qdrant.Query_Rrf:
		f := &engine.Fusion{Method: engine.FusionRRF, Weights: x.Rrf.GetWeights()}
		if x.Rrf.K != nil {
			if err := checkLimit("k", uint64(x.Rrf.GetK())); err != nil {
				return nil, err
			}
			f.K = int(x.Rrf.GetK())
		}
		return &engine.Query{Fusion: f}, nil
	case *qdrant.Query_Formula:
		f, err := formulaFromProto(x.Formula)
		if err != nil {
			return nil, err
		}
		return &engine.Query{Formula: f}, nil
	case *qdrant.Query_NearestWithMmr:
		return mmrFromProto(x.NearestWithMmr)
	case *qdrant.Query_RelevanceFeedback:
		return feedbackFromProto(x.RelevanceFeedback)
	}
	return nil, invalidArg("Query variant is missing")
}

// mmrFromProto converts a nearest query with MMR.
func mmrFromProto(q *qdrant.NearestInputWithMmr) (*engine.Query, error) {
	if q.GetNearest() == nil {
		return nil, invalidArg("nearest vector is missing")
	}
	if q.GetMmr() == nil {
		return nil, invalidArg("mmr is missing")
	}
	ex, err := exampleFromVectorInput(q.GetNearest(), "query.variant.nearest")
	if err != nil {
		return nil, err
	}
	var cl *uint64
	if n := q.GetMmr().CandidatesLimit; n != nil {
		cl = new(uint64(*n))
	}
	mmr, bad := mmrOf(q.GetMmr().Diversity, cl, "query.variant.mmr")
	if len(bad) > 0 {
		return nil, invalidArg("Validation error in body: [%s]", strings.Join(bad, "; "))
	}
	return &engine.Query{Nearest: &ex, MMR: mmr}, nil
}

// feedbackFromProto converts a relevance feedback query.
func feedbackFromProto(q *qdrant.RelevanceFeedbackInput) (*engine.Query, error) {
	if q.GetTarget() == nil {
		return nil, invalidArg("target is missing")
	}
	if q.GetStrategy() == nil {
		return nil, invalidArg("strategy is missing")
	}
	naive := q.GetStrategy().GetNaive()
	if naive == nil {
		return nil, invalidArg("Missing variant")
	}
	f := &engine.RelevanceFeedback{Naive: engine.NaiveFeedback{A: naive.GetA(), B: naive.GetB(), C: naive.GetC()}}
	var err error
	if f.Target, err = exampleFromVectorInput(q.GetTarget(), "query.variant.target"); err != nil {
		return nil, err
	}
	for i, it := range q.GetFeedback() {
		if it.GetExample() == nil {
			return nil, invalidArg("feedback example is missing")
		}
		ex, err := exampleFromVectorInput(it.GetExample(), fmt.Sprintf("query.variant.feedback[%d].example", i))
		if err != nil {
			return nil, err
		}
		f.Feedback = append(f.Feedback, engine.FeedbackItem{Example: ex, Score: it.GetScore()})
	}
	// Unlike its REST API, Qdrant's gRPC API takes an empty feedback.
	if !(f.Naive.B >= 0) {
		return nil, validationErr("query.variant.strategy.variant.b", "value %s invalid, must be 0.0 or larger", restRustFloat(f.Naive.B))
	}
	return &engine.Query{RelevanceFeedback: f}, nil
}

// examplesFromVectorInputs converts examples; path names them in
// validation messages.
func examplesFromVectorInputs(vs []*qdrant.VectorInput, path string) ([]engine.Example, error) {
	out := make([]engine.Example, len(vs))
	for i, v := range vs {
		var err error
		if out[i], err = exampleFromVectorInput(v, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// contextFromProto converts discovery context pairs; path names them in
// validation messages.
func contextFromProto(c *qdrant.ContextInput, path string) ([]engine.ContextPair, error) {
	out := make([]engine.ContextPair, len(c.GetPairs()))
	for i, p := range c.GetPairs() {
		if p.GetPositive() == nil {
			return nil, invalidArg("ContextPair positive is missing")
		}
		if p.GetNegative() == nil {
			return nil, invalidArg("ContextPair negative is missing")
		}
		var err error
		if out[i].Positive, err = exampleFromVectorInput(p.GetPositive(), fmt.Sprintf("%s.pairs[%d].positive", path, i)); err != nil {
			return nil, err
		}
		if out[i].Negative, err = exampleFromVectorInput(p.GetNegative(), fmt.Sprintf("%s.pairs[%d].negative", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// orderValuesFor returns the conversion of order values when the query
// orders by a payload field, nil otherwise.
func (s *pointsService) orderValuesFor(ctx context.Context, coll string, q *engine.Query) orderValueFunc {
	if q == nil || q.OrderBy == nil {
		return nil
	}
	return s.orderValues(ctx, coll, q.OrderBy.Key)
}

// prepQuery converts one query.
func (s *pointsService) prepQuery(ctx context.Context, coll string, r *qdrant.QueryPoints) (*engine.QueryRequest, error) {
	r = orEmpty(r)
	return s.queryFromProto(ctx, coll, r.GetPrefetch(), r.GetQuery(), r.GetUsing(), r.GetFilter(), r.GetParams(),
		r.ScoreThreshold, r.Limit, r.Offset, r.GetWithPayload(), r.GetWithVectors(), r.GetLookupFrom())
}

// scoredRoute is how the requests of one scored route (search, recommend,
// discover, query) are converted to the engine's request Q, admitted by
// strict mode, run and converted back, alone or as a batch. Every route
// checks, admits and runs its requests in the same order.
type scoredRoute[P, Q any] struct {
	s    *pointsService
	conv func(context.Context, string, P) (*Q, error)
	win  func(*Q) window
	// one runs a request, appending its results to the slice it is given.
	one   func(context.Context, []engine.ScoredPoint, string, *Q) ([]engine.ScoredPoint, error)
	batch func(context.Context, string, []Q) ([][]engine.ScoredPoint, error)
	// order returns the conversion of order values of a request's results,
	// nil when they carry none.
	order func(context.Context, string, *Q) orderValueFunc
}

// run converts, admits and runs one request.
func (rt scoredRoute[P, Q]) run(ctx context.Context, coll string, r P) ([]*qdrant.ScoredPoint, error) {
	req, err := rt.conv(ctx, coll, r)
	if err != nil {
		return nil, err
	}
	if err := rt.s.limits.grpcAdmit(ctx, rt.s.db, coll, []window{rt.win(req)}); err != nil {
		return nil, err
	}
	// The engine's results are only converted: they go to a pooled
	// buffer.
	buf := scoredBufs.Get().(*scoredBuf)
	res, err := rt.one(ctx, buf.pts[:0], coll, req)
	if err != nil {
		// What the engine wrote before it failed is cleared too.
		buf.put(buf.pts[:cap(buf.pts)])
		return nil, GRPCError(err)
	}
	out := scoredListToProto(res, rt.order(ctx, coll, req))
	buf.put(res)
	return out, nil
}

// scoredBuf holds the engine's results of one request while they are
// converted.
type scoredBuf struct{ pts []engine.ScoredPoint }

var scoredBufs = sync.Pool{New: func() any { return new(scoredBuf) }}

// put returns b to the pool with pts, emptied, as its buffer; a buffer
// grown by a large request is dropped rather than kept.
func (b *scoredBuf) put(pts []engine.ScoredPoint) {
	if cap(pts) > 1024 {
		return
	}
	clear(pts)
	b.pts = pts[:0]
	scoredBufs.Put(b)
}

// appending is the form of a route's one of an engine call that returns
// a new result.
func appending[Q any](f func(context.Context, string, *Q) ([]engine.ScoredPoint, error)) func(context.Context, []engine.ScoredPoint, string, *Q) ([]engine.ScoredPoint, error) {
	return func(ctx context.Context, dst []engine.ScoredPoint, coll string, r *Q) ([]engine.ScoredPoint, error) {
		res, err := f(ctx, coll, r)
		if err != nil {
			return nil, err
		}
		return append(dst, res...), nil
	}
}

// runBatch converts every request, then admits and runs them as one batch
// (strict mode checks a batch as a whole); field names the batch's list of
// requests in validation errors.
func (rt scoredRoute[P, Q]) runBatch(ctx context.Context, coll, field string, rs []P) ([]*qdrant.BatchResult, error) {
	reqs := make([]Q, len(rs))
	for i, r := range rs {
		req, err := rt.conv(ctx, coll, r)
		if err != nil {
			return nil, batchValidation(err, fmt.Sprintf("%s[%d].", field, i))
		}
		reqs[i] = *req
	}
	if err := rt.s.limits.grpcAdmit(ctx, rt.s.db, coll, windowsOf(reqs, rt.win)); err != nil {
		return nil, err
	}
	res, err := rt.batch(ctx, coll, reqs)
	if err != nil {
		return nil, GRPCError(err)
	}
	out := make([]*qdrant.BatchResult, len(res))
	for i := range res {
		out[i] = &qdrant.BatchResult{Result: scoredListToProto(res[i], rt.order(ctx, coll, &reqs[i]))}
	}
	return out, nil
}

// batchOf is the batch form of a route, over the requests get reads from a
// batch request's list field.
func batchOf[B, P, Q any](rt scoredRoute[P, Q], field string, get func(B) []P) func(context.Context, string, B) ([]*qdrant.BatchResult, error) {
	return func(ctx context.Context, coll string, b B) ([]*qdrant.BatchResult, error) {
		return rt.runBatch(ctx, coll, field, get(b))
	}
}

// batchValidation writes prefix (the request's place in its batch) into
// the fields of a validation error.
func batchValidation(err error, prefix string) error {
	const head = "Validation error in body: ["
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument || !strings.HasPrefix(st.Message(), head) {
		return err
	}
	fields := strings.Split(st.Message()[len(head):], "; ")
	for i := range fields {
		fields[i] = prefix + fields[i]
	}
	return status.Error(codes.InvalidArgument, head+strings.Join(fields, "; "))
}

// noOrder is the order of results that carry no order values.
func noOrder[Q any](context.Context, string, *Q) orderValueFunc { return nil }

// queries is the route of requests that convert to universal queries.
func queries[P any](s *pointsService, conv func(context.Context, string, P) (*engine.QueryRequest, error)) scoredRoute[P, engine.QueryRequest] {
	return scoredRoute[P, engine.QueryRequest]{s: s, conv: conv, win: queryWindow, one: s.db.AppendQuery, batch: s.db.QueryBatch,
		order: func(ctx context.Context, coll string, q *engine.QueryRequest) orderValueFunc {
			return s.orderValuesFor(ctx, coll, q.Query)
		}}
}

func (s *pointsService) Query(ctx context.Context, r *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	return pointsRead(ctx, orEmpty(r), queries(s, s.prepQuery).run, func(res []*qdrant.ScoredPoint, took float64) *qdrant.QueryResponse {
		return &qdrant.QueryResponse{Result: res, Time: took}
	})
}

// queryPoints is Query's result, without the response: the embedded
// client's call.
func (s *pointsService) queryPoints(ctx context.Context, r *qdrant.QueryPoints) ([]*qdrant.ScoredPoint, error) {
	return pointsResult(ctx, orEmpty(r), queries(s, s.prepQuery).run)
}

// QueryBatch runs each query against the batch's collection.
func (s *pointsService) QueryBatch(ctx context.Context, r *qdrant.QueryBatchPoints) (*qdrant.QueryBatchResponse, error) {
	return pointsRead(ctx, orEmpty(r), batchOf(queries(s, s.prepQuery), "query_points", (*qdrant.QueryBatchPoints).GetQueryPoints), func(res []*qdrant.BatchResult, took float64) *qdrant.QueryBatchResponse {
		return &qdrant.QueryBatchResponse{Result: res, Time: took}
	})
}

func (s *pointsService) QueryGroups(ctx context.Context, r *qdrant.QueryPointGroups) (*qdrant.QueryGroupsResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.queryGroups, func(res *qdrant.GroupsResult, took float64) *qdrant.QueryGroupsResponse {
		return &qdrant.QueryGroupsResponse{Result: res, Time: took}
	})
}

func (s *pointsService) queryGroups(ctx context.Context, coll string, r *qdrant.QueryPointGroups) (*qdrant.GroupsResult, error) {
	req, err := s.queryFromProto(ctx, coll, r.GetPrefetch(), r.GetQuery(), r.GetUsing(), r.GetFilter(), r.GetParams(),
		r.ScoreThreshold, r.Limit, nil, r.GetWithPayload(), r.GetWithVectors(), r.GetLookupFrom())
	if err != nil {
		return nil, err
	}
	size := uint64(defaultGroupSize)
	if r.GroupSize != nil {
		if err := checkLimit("group_size", *r.GroupSize); err != nil {
			return nil, err
		}
		size = *r.GroupSize
	}
	return s.groups(ctx, coll, req, r.GetGroupBy(), size, r.GetWithLookup())
}

// groups runs a group query and converts its groups, looking up each
// group's id in another collection when asked.
func (s *pointsService) groups(ctx context.Context, coll string, q *engine.QueryRequest, groupBy string, size uint64,
	lookup *qdrant.WithLookup) (*qdrant.GroupsResult, error) {
	if _, err := pathFromProto(groupBy); err != nil {
		return nil, err
	}
	groupSize, _, err := s.bounds(ctx, coll, size, 0)
	if err != nil {
		return nil, err
	}
	gs, err := s.db.QueryGroups(ctx, coll, &engine.GroupsRequest{QueryRequest: *q, GroupBy: groupBy, GroupSize: groupSize})
	if err != nil {
		return nil, GRPCError(err)
	}
	ov := s.orderValuesFor(ctx, coll, q.Query)
	out := &qdrant.GroupsResult{Groups: make([]*qdrant.PointGroup, len(gs))}
	for i, g := range gs {
		out.Groups[i] = &qdrant.PointGroup{Id: groupIDToProto(g.ID), Hits: scoredListToProto(g.Hits, ov)}
	}
	if lookup != nil {
		if err := s.lookupGroups(ctx, lookup, gs, out.Groups); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// lookupGroups attaches to each group the point of the lookup collection
// whose id is the group's id (groups whose id is not a point id get none).
// Payload is returned unless the lookup says otherwise; vectors only when
// asked for.
func (s *pointsService) lookupGroups(ctx context.Context, l *qdrant.WithLookup, gs []engine.PointGroup, out []*qdrant.PointGroup) error {
	if err := checkCollectionName("with_lookup.collection", l.GetCollection()); err != nil {
		return err
	}
	ps, err := payloadSelectorFromProto(l.GetWithPayload(), true)
	if err != nil {
		return err
	}
	var ids []filter.PointID
	for _, g := range gs {
		if id, ok := groupPointID(g.ID); ok {
			ids = append(ids, id)
		}
	}
	recs, err := s.db.Get(ctx, l.GetCollection(), ids, &engine.ReadOptions{WithPayload: ps, WithVectors: vectorSelectorFromProto(l.GetWithVectors())})
	if err != nil {
		return GRPCError(err)
	}
	byID := make(map[filter.PointID]engine.Record, len(recs))
	for _, r := range recs {
		byID[r.ID] = r
	}
	for i, g := range gs {
		if id, ok := groupPointID(g.ID); ok {
			if r, ok := byID[id]; ok {
				out[i].Lookup = recordToProto(r, nil)
			}
		}
	}
	return nil
}

// groupPointID returns the point id a group id names: a non-negative
// integer or a UUID string.
func groupPointID(v payload.Value) (filter.PointID, bool) {
	if s, ok := v.Str(); ok {
		id, err := filter.ParseUUID(s)
		return id, err == nil
	}
	switch v.Kind() {
	case payload.Int:
		if i, _ := v.Int(); i >= 0 {
			return filter.NumID(uint64(i)), true
		}
	case payload.Uint:
		u, _ := v.Uint()
		return filter.NumID(u), true
	}
	return filter.PointID{}, false
}

// groupIDToProto converts a group id: strings, non-negative integers as
// unsigned values, negative ones as integers, as Qdrant writes them.
func groupIDToProto(v payload.Value) *qdrant.GroupId {
	switch v.Kind() {
	case payload.String:
		s, _ := v.Str()
		return &qdrant.GroupId{Kind: &qdrant.GroupId_StringValue{StringValue: s}}
	case payload.Int:
		i, _ := v.Int()
		if i >= 0 {
			return &qdrant.GroupId{Kind: &qdrant.GroupId_UnsignedValue{UnsignedValue: uint64(i)}}
		}
		return &qdrant.GroupId{Kind: &qdrant.GroupId_IntegerValue{IntegerValue: i}}
	case payload.Uint:
		u, _ := v.Uint()
		return &qdrant.GroupId{Kind: &qdrant.GroupId_UnsignedValue{UnsignedValue: u}}
	}
	return &qdrant.GroupId{}
}

// Legacy search.

func (s *pointsService) searchFromProto(ctx context.Context, coll string, r *qdrant.SearchPoints) (*engine.SearchRequest, error) {
	r = orEmpty(r)
	req, err := s.legacyFromProto(ctx, coll, r, r.GetLimit(), r.GetOffset(), nearestFromProto(r, r.ScoreThreshold))
	if err != nil {
		return nil, err
	}
	return searchRequestOf(req), nil
}

// legacySearch is what a legacy search and search group request share.
type legacySearch interface {
	GetVector() []float32
	GetSparseIndices() *qdrant.SparseIndices
	GetVectorName() string
}

// nearestFromProto converts the query part of a legacy search.
func nearestFromProto(r legacySearch, threshold *float32) func() (*engine.QueryRequest, error) {
	return func() (*engine.QueryRequest, error) {
		ex, err := searchVectorFromProto(r.GetVector(), r.GetSparseIndices(), r.GetVectorName())
		if err != nil {
			return nil, err
		}
		return &engine.QueryRequest{Query: &engine.Query{Nearest: &ex}, Using: r.GetVectorName(), ScoreThreshold: copyPtr(threshold)}, nil
	}
}

// legacyRequest is what every legacy search, recommend and discover
// request, and their group forms, carry besides the query.
type legacyRequest interface {
	GetFilter() *qdrant.Filter
	GetWithPayload() *qdrant.WithPayloadSelector
	GetWithVectors() *qdrant.WithVectorsSelector
	GetParams() *qdrant.SearchParams
}

// legacyPartsFromProto converts a legacy request: query converts its query
// part (the query, the vector used, the score threshold and where examples
// are looked up), then come the parts every legacy request has, in the
// order their errors are reported.
func legacyPartsFromProto(r legacyRequest, query func() (*engine.QueryRequest, error)) (*engine.QueryRequest, error) {
	req, err := query()
	if err != nil {
		return nil, err
	}
	req.WithVectors = vectorSelectorFromProto(r.GetWithVectors())
	if req.Filter, err = filterFromProto(r.GetFilter()); err != nil {
		return nil, err
	}
	if req.WithPayload, err = payloadSelectorFromProto(r.GetWithPayload(), false); err != nil {
		return nil, err
	}
	if err := checkSearchParams(r.GetParams(), "params"); err != nil {
		return nil, err
	}
	req.HnswEf, req.Exact = searchParams(r.GetParams())
	req.Oversampling = oversampling(r.GetParams())
	req.Quant = quantParams(r.GetParams())
	return req, nil
}

// legacyFromProto converts a legacy search, recommend or discover request
// of limit and offset: it checks the limit, converts the request and
// bounds the limit and offset.
func (s *pointsService) legacyFromProto(ctx context.Context, coll string, r legacyRequest, limit, offset uint64, query func() (*engine.QueryRequest, error)) (*engine.QueryRequest, error) {
	if err := checkLimit("limit", limit); err != nil {
		return nil, err
	}
	req, err := legacyPartsFromProto(r, query)
	if err != nil {
		return nil, err
	}
	if req.Limit, req.Offset, err = s.bounds(ctx, coll, limit, offset); err != nil {
		return nil, err
	}
	return req, nil
}

func (s *pointsService) Search(ctx context.Context, r *qdrant.SearchPoints) (*qdrant.SearchResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.searches().run, func(res []*qdrant.ScoredPoint, took float64) *qdrant.SearchResponse {
		return &qdrant.SearchResponse{Result: res, Time: took}
	})
}

// searches is the route of legacy searches.
func (s *pointsService) searches() scoredRoute[*qdrant.SearchPoints, engine.SearchRequest] {
	return scoredRoute[*qdrant.SearchPoints, engine.SearchRequest]{s: s, conv: s.searchFromProto, win: searchWindow,
		one: s.db.AppendSearch, batch: s.db.SearchBatch, order: noOrder[engine.SearchRequest]}
}

// SearchBatch runs each search against the batch's collection.
func (s *pointsService) SearchBatch(ctx context.Context, r *qdrant.SearchBatchPoints) (*qdrant.SearchBatchResponse, error) {
	return pointsRead(ctx, orEmpty(r), batchOf(s.searches(), "search_points", (*qdrant.SearchBatchPoints).GetSearchPoints), func(res []*qdrant.BatchResult, took float64) *qdrant.SearchBatchResponse {
		return &qdrant.SearchBatchResponse{Result: res, Time: took}
	})
}

func (s *pointsService) SearchGroups(ctx context.Context, r *qdrant.SearchPointGroups) (*qdrant.SearchGroupsResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.searchGroups, func(res *qdrant.GroupsResult, took float64) *qdrant.SearchGroupsResponse {
		return &qdrant.SearchGroupsResponse{Result: res, Time: took}
	})
}

func (s *pointsService) searchGroups(ctx context.Context, coll string, r *qdrant.SearchPointGroups) (*qdrant.GroupsResult, error) {
	return s.legacyGroups(ctx, coll, r, nearestFromProto(r, r.ScoreThreshold))
}

// legacyGroupRequest is what the legacy search and recommend group requests
// share.
type legacyGroupRequest interface {
	GetLimit() uint32
	GetGroupSize() uint32
	GetGroupBy() string
	GetFilter() *qdrant.Filter
	GetWithPayload() *qdrant.WithPayloadSelector
	GetWithVectors() *qdrant.WithVectorsSelector
	GetParams() *qdrant.SearchParams
	GetWithLookup() *qdrant.WithLookup
}

// legacyGroups runs a legacy group request: it checks the limit and the
// group size, converts the query with query (which sets the query, the
// vector used, the score threshold and where examples are looked up), then
// the parts every legacy group request has, and groups the results.
func (s *pointsService) legacyGroups(ctx context.Context, coll string, r legacyGroupRequest, query func() (*engine.QueryRequest, error)) (*qdrant.GroupsResult, error) {
	if err := checkLimit("limit", uint64(r.GetLimit())); err != nil {
		return nil, err
	}
	if err := checkLimit("group_size", uint64(r.GetGroupSize())); err != nil {
		return nil, err
	}
	req, err := legacyPartsFromProto(r, query)
	if err != nil {
		return nil, err
	}
	req.Limit = int(r.GetLimit())
	return s.groups(ctx, coll, req, r.GetGroupBy(), uint64(r.GetGroupSize()), r.GetWithLookup())
}

// Legacy recommend.

// recommendExamples joins the ids and vectors of one side of a legacy
// recommendation: ids first, as Qdrant orders them. side ("positive" or
// "negative") names the vectors in validation messages.
func recommendExamples(ids []*qdrant.PointId, vecs []*qdrant.Vector, side string) ([]engine.Example, error) {
	out := make([]engine.Example, 0, len(ids)+len(vecs))
	for _, p := range ids {
		id, err := pointIDFromProto(p)
		if err != nil {
			return nil, err
		}
		out = append(out, engine.Example{ID: &id})
	}
	for i, v := range vecs {
		vi, err := vectorFromProto(v, fmt.Sprintf("%s_vectors[%d]", side, i), true)
		if err != nil {
			return nil, err
		}
		out = append(out, vi.example())
	}
	return out, nil
}

// recommendQuery converts the parts of a legacy recommendation that make its
// query.
func recommendQuery(pos, neg []*qdrant.PointId, posVecs, negVecs []*qdrant.Vector, strategy *qdrant.RecommendStrategy) (*engine.RecommendQuery, error) {
	q := &engine.RecommendQuery{}
	var err error
	if q.Positive, err = recommendExamples(pos, posVecs, "positive"); err != nil {
		return nil, err
	}
	if q.Negative, err = recommendExamples(neg, negVecs, "negative"); err != nil {
		return nil, err
	}
	if q.Strategy, err = strategyFromProto(strategy); err != nil {
		return nil, err
	}
	return q, nil
}

func (s *pointsService) recommendFromProto(ctx context.Context, coll string, r *qdrant.RecommendPoints) (*engine.RecommendRequest, error) {
	r = orEmpty(r)
	req, err := s.legacyFromProto(ctx, coll, r, r.GetLimit(), r.GetOffset(), recommendPartFromProto(r, r.Strategy, r.ScoreThreshold))
	if err != nil {
		return nil, err
	}
	return recommendRequestOf(req), nil
}

// legacyRecommend is what a legacy recommend and recommend group request
// share.
type legacyRecommend interface {
	GetPositive() []*qdrant.PointId
	GetNegative() []*qdrant.PointId
	GetPositiveVectors() []*qdrant.Vector
	GetNegativeVectors() []*qdrant.Vector
	GetUsing() string
	GetLookupFrom() *qdrant.LookupLocation
}

// recommendPartFromProto converts the query part of a legacy
// recommendation.
func recommendPartFromProto(r legacyRecommend, strategy *qdrant.RecommendStrategy, threshold *float32) func() (*engine.QueryRequest, error) {
	return func() (*engine.QueryRequest, error) {
		q, err := recommendQuery(r.GetPositive(), r.GetNegative(), r.GetPositiveVectors(), r.GetNegativeVectors(), strategy)
		if err != nil {
			return nil, err
		}
		return &engine.QueryRequest{Query: &engine.Query{Recommend: q}, Using: r.GetUsing(), ScoreThreshold: copyPtr(threshold),
			LookupFrom: lookupFromProto(r.GetLookupFrom())}, nil
	}
}

func (s *pointsService) Recommend(ctx context.Context, r *qdrant.RecommendPoints) (*qdrant.RecommendResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.recommendations().run, func(res []*qdrant.ScoredPoint, took float64) *qdrant.RecommendResponse {
		return &qdrant.RecommendResponse{Result: res, Time: took}
	})
}

// recommendations is the route of legacy recommendations.
func (s *pointsService) recommendations() scoredRoute[*qdrant.RecommendPoints, engine.RecommendRequest] {
	return scoredRoute[*qdrant.RecommendPoints, engine.RecommendRequest]{s: s, conv: s.recommendFromProto, win: recommendWindow,
		one: appending(s.db.Recommend), batch: s.db.RecommendBatch, order: noOrder[engine.RecommendRequest]}
}

// RecommendBatch runs each recommendation against the batch's collection.
func (s *pointsService) RecommendBatch(ctx context.Context, r *qdrant.RecommendBatchPoints) (*qdrant.RecommendBatchResponse, error) {
	return pointsRead(ctx, orEmpty(r), batchOf(s.recommendations(), "recommend_points", (*qdrant.RecommendBatchPoints).GetRecommendPoints), func(res []*qdrant.BatchResult, took float64) *qdrant.RecommendBatchResponse {
		return &qdrant.RecommendBatchResponse{Result: res, Time: took}
	})
}

func (s *pointsService) RecommendGroups(ctx context.Context, r *qdrant.RecommendPointGroups) (*qdrant.RecommendGroupsResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.recommendGroups, func(res *qdrant.GroupsResult, took float64) *qdrant.RecommendGroupsResponse {
		return &qdrant.RecommendGroupsResponse{Result: res, Time: took}
	})
}

func (s *pointsService) recommendGroups(ctx context.Context, coll string, r *qdrant.RecommendPointGroups) (*qdrant.GroupsResult, error) {
	return s.legacyGroups(ctx, coll, r, recommendPartFromProto(r, r.Strategy, r.ScoreThreshold))
}

// Legacy discover.

// discoverFromProto converts a legacy discovery: with a target it is a
// discover query, without one a context query.
func (s *pointsService) discoverFromProto(ctx context.Context, coll string, r *qdrant.DiscoverPoints) (*engine.QueryRequest, error) {
	r = orEmpty(r)
	return s.legacyFromProto(ctx, coll, r, r.GetLimit(), r.GetOffset(), func() (*engine.QueryRequest, error) {
		pairs := make([]engine.ContextPair, len(r.GetContext()))
		for i, p := range r.GetContext() {
			if p.GetPositive() == nil || p.GetNegative() == nil {
				return nil, invalidArg("Both positive and negative are required in a context pair")
			}
			var err error
			if pairs[i].Positive, err = exampleFromVectorExample(p.GetPositive(), fmt.Sprintf("context[%d].positive.example.vector", i)); err != nil {
				return nil, err
			}
			if pairs[i].Negative, err = exampleFromVectorExample(p.GetNegative(), fmt.Sprintf("context[%d].negative.example.vector", i)); err != nil {
				return nil, err
			}
		}
		req := &engine.QueryRequest{Using: r.GetUsing(), LookupFrom: lookupFromProto(r.GetLookupFrom()), Query: &engine.Query{Context: pairs}}
		if t := r.GetTarget(); t != nil {
			single := t.GetSingle()
			if single == nil {
				return nil, invalidArg("Target vector is malformed")
			}
			target, err := exampleFromVectorExample(single, "target.target.single.example.vector")
			if err != nil {
				return nil, err
			}
			req.Query = &engine.Query{Discover: &engine.DiscoverQuery{Target: target, Context: pairs}}
		}
		return req, nil
	})
}

func (s *pointsService) Discover(ctx context.Context, r *qdrant.DiscoverPoints) (*qdrant.DiscoverResponse, error) {
	return pointsRead(ctx, orEmpty(r), queries(s, s.discoverFromProto).run, func(res []*qdrant.ScoredPoint, took float64) *qdrant.DiscoverResponse {
		return &qdrant.DiscoverResponse{Result: res, Time: took}
	})
}

// DiscoverBatch runs each discovery against the batch's collection.
func (s *pointsService) DiscoverBatch(ctx context.Context, r *qdrant.DiscoverBatchPoints) (*qdrant.DiscoverBatchResponse, error) {
	return pointsRead(ctx, orEmpty(r), batchOf(queries(s, s.discoverFromProto), "discover_points", (*qdrant.DiscoverBatchPoints).GetDiscoverPoints), func(res []*qdrant.BatchResult, took float64) *qdrant.DiscoverBatchResponse {
		return &qdrant.DiscoverBatchResponse{Result: res, Time: took}
	})
}

// Facet and distance matrix.

// Facet counts the points per value of an indexed payload field; the limit
// defaults to 10.
func (s *pointsService) Facet(ctx context.Context, r *qdrant.FacetCounts) (*qdrant.FacetResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.facet, func(hits []*qdrant.FacetHit, took float64) *qdrant.FacetResponse {
		return &qdrant.FacetResponse{Hits: hits, Time: took}
	})
}

func (s *pointsService) facet(ctx context.Context, coll string, r *qdrant.FacetCounts) ([]*qdrant.FacetHit, error) {
	if _, err := pathFromProto(r.GetKey()); err != nil {
		return nil, err
	}
	req := &engine.FacetRequest{Key: r.GetKey(), Exact: r.GetExact()}
	if r.Limit != nil {
		if err := checkLimit("limit", *r.Limit); err != nil {
			return nil, err
		}
		req.Limit = int(min(*r.Limit, math.MaxInt32))
	}
	var err error
	if req.Filter, err = filterFromProto(r.GetFilter()); err != nil {
		return nil, err
	}
	hits, err := s.db.Facet(ctx, coll, req)
	if err != nil {
		return nil, GRPCError(err)
	}
	out := make([]*qdrant.FacetHit, len(hits))
	for i, h := range hits {
		out[i] = &qdrant.FacetHit{Value: facetValueToProto(h.Value), Count: uint64(max(h.Count, 0))}
	}
	return out, nil
}

func facetValueToProto(v payload.Value) *qdrant.FacetValue {
	switch v.Kind() {
	case payload.Bool:
		b, _ := v.Bool()
		return &qdrant.FacetValue{Variant: &qdrant.FacetValue_BoolValue{BoolValue: b}}
	case payload.Int:
		i, _ := v.Int()
		return &qdrant.FacetValue{Variant: &qdrant.FacetValue_IntegerValue{IntegerValue: i}}
	}
	s, _ := v.Str()
	return &qdrant.FacetValue{Variant: &qdrant.FacetValue_StringValue{StringValue: s}}
}

func (s *pointsService) matrix(ctx context.Context, coll string, r *qdrant.SearchMatrixPoints) (*engine.Matrix, error) {
	req := &engine.MatrixRequest{Using: r.GetUsing()}
	if r.Sample != nil {
		if *r.Sample < 2 {
			return nil, validationErr("sample", "value %d invalid, must be 2 or larger", *r.Sample)
		}
		req.Sample = int(min(*r.Sample, math.MaxInt32))
	}
	if r.Limit != nil {
		if err := checkLimit("limit", *r.Limit); err != nil {
			return nil, err
		}
		req.Limit = int(min(*r.Limit, math.MaxInt32))
	}
	var err error
	if req.Filter, err = filterFromProto(r.GetFilter()); err != nil {
		return nil, err
	}
	m, err := s.db.SearchMatrix(ctx, coll, req)
	if err != nil {
		return nil, GRPCError(err)
	}
	return m, nil
}

// SearchMatrixPairs returns, for a random sample of points, each one's
// nearest others in the sample, as pairs.
func (s *pointsService) SearchMatrixPairs(ctx context.Context, r *qdrant.SearchMatrixPoints) (*qdrant.SearchMatrixPairsResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.matrix, func(m *engine.Matrix, took float64) *qdrant.SearchMatrixPairsResponse {
		pairs := make([]*qdrant.SearchMatrixPair, len(m.Pairs))
		for i, p := range m.Pairs {
			pairs[i] = &qdrant.SearchMatrixPair{A: pointIDToProto(p.A), B: pointIDToProto(p.B), Score: p.Score}
		}
		return &qdrant.SearchMatrixPairsResponse{Result: &qdrant.SearchMatrixPairs{Pairs: pairs}, Time: took}
	})
}

// SearchMatrixOffsets returns the same matrix as SearchMatrixPairs, as a
// sparse matrix over the sampled ids.
func (s *pointsService) SearchMatrixOffsets(ctx context.Context, r *qdrant.SearchMatrixPoints) (*qdrant.SearchMatrixOffsetsResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.matrix, func(m *engine.Matrix, took float64) *qdrant.SearchMatrixOffsetsResponse {
		index := make(map[filter.PointID]uint64, len(m.IDs))
		for i, id := range m.IDs {
			index[id] = uint64(i)
		}
		out := &qdrant.SearchMatrixOffsets{
			OffsetsRow: make([]uint64, len(m.Pairs)),
			OffsetsCol: make([]uint64, len(m.Pairs)),
			Scores:     make([]float32, len(m.Pairs)),
			Ids:        pointIDsToProto(m.IDs),
		}
		for i, p := range m.Pairs {
			out.OffsetsRow[i], out.OffsetsCol[i], out.Scores[i] = index[p.A], index[p.B], p.Score
		}
		return &qdrant.SearchMatrixOffsetsResponse{Result: out, Time: took}
	})
}
