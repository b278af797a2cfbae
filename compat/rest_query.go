package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// restQuery reads the query of a QueryRequest (Qdrant's QueryInterface): a
// bare vector input (a vector or a point id, for nearest), or one of
// {"nearest"}, {"recommend"}, {"discover"}, {"context"}, {"order_by"},
// {"sample": "random"}, {"formula"}, {"fusion"}, {"rrf"},
// {"relevance_feedback"}; a nearest query may carry {"mmr"}. Absent or null
// gives nil (points by id).
func restQuery(raw json.RawMessage, path string) (*engine.Query, error) {
	q, err := restQueryInterface(raw, path)
	return q, restEnum(err, path, restEnumQueryInterface)
}

func restQueryInterface(raw json.RawMessage, path string) (*engine.Query, error) {
	if restFirst(raw) != '{' {
		if restIsNull(raw) {
			return nil, nil
		}
		ex, err := restExample(raw, path, true)
		if err != nil {
			return nil, err
		}
		return &engine.Query{Nearest: &ex}, nil
	}
	m, err := restObject(raw, path)
	if err != nil {
		return nil, err
	}
	at := func(k string) string { return restJoin(path, k) }
	switch {
	case m["nearest"] != nil:
		mmr, err := restMMR(m["mmr"], at("mmr"))
		if err != nil {
			return nil, err
		}
		ex, err := restExample(m["nearest"], at("nearest"), true)
		if err != nil {
			return nil, err
		}
		return &engine.Query{Nearest: &ex, MMR: mmr}, nil
	case m["recommend"] != nil:
		var rq struct {
			Positive json.RawMessage `json:"positive"`
			Negative json.RawMessage `json:"negative"`
			Strategy json.RawMessage `json:"strategy"`
		}
		p := at("recommend")
		if err := restUnmarshal(m["recommend"], p, &rq); err != nil {
			return nil, err
		}
		out := &engine.RecommendQuery{}
		if out.Positive, err = restExamples(rq.Positive, restJoin(p, "positive"), true); err != nil {
			return nil, err
		}
		if out.Negative, err = restExamples(rq.Negative, restJoin(p, "negative"), true); err != nil {
			return nil, err
		}
		if out.Strategy, err = restStrategy(rq.Strategy, restJoin(p, "strategy")); err != nil {
			return nil, err
		}
		return &engine.Query{Recommend: out}, nil
	case m["discover"] != nil:
		var dq struct {
			Target  json.RawMessage `json:"target"`
			Context json.RawMessage `json:"context"`
		}
		p := at("discover")
		if err := restUnmarshal(m["discover"], p, &dq); err != nil {
			return nil, err
		}
		if restIsNull(dq.Target) {
			return nil, restMissing(p, "target")
		}
		target, err := restExample(dq.Target, restJoin(p, "target"), true)
		if err != nil {
			return nil, err
		}
		pairs, err := restContext(dq.Context, restJoin(p, "context"), true)
		if err != nil {
			return nil, err
		}
		return &engine.Query{Discover: &engine.DiscoverQuery{Target: target, Context: pairs}}, nil
	case m["context"] != nil:
		pairs, err := restContext(m["context"], at("context"), true)
		if err != nil {
			return nil, err
		}
		if pairs == nil {
			pairs = []engine.ContextPair{}
		}
		return &engine.Query{Context: pairs}, nil
	case m["order_by"] != nil:
		ob, err := restOrderBy(m["order_by"], at("order_by"))
		if err != nil {
			return nil, err
		}
		if ob == nil {
			return nil, restFormatAt(at("order_by"), "data did not match any variant of untagged enum OrderByInterface")
		}
		return &engine.Query{OrderBy: ob}, nil
	case m["sample"] != nil:
		var s string
		if err := restUnmarshal(m["sample"], at("sample"), &s); err != nil {
			return nil, err
		}
		if s != "random" {
			return nil, restFormatAt(at("sample"), "unknown variant `%s`, expected `random`", s)
		}
		return &engine.Query{Sample: true}, nil
	case m["fusion"] != nil:
		var name string
		if err := restUnmarshal(m["fusion"], at("fusion"), &name); err != nil {
			return nil, err
		}
		switch name {
		case "rrf":
			return &engine.Query{Fusion: &engine.Fusion{Method: engine.FusionRRF}}, nil
		case "dbsf":
			return &engine.Query{Fusion: &engine.Fusion{Method: engine.FusionDBSF}}, nil
		}
		// Qdrant reads the query as an untagged enum: a fusion it does not
		// know is no query at all.
		return nil, errRestNotVector
	case m["rrf"] != nil:
		var rrf struct {
			K       *uint64   `json:"k"`
			Weights []float32 `json:"weights"`
		}
		p := at("rrf")
		if err := restUnmarshal(m["rrf"], p, &rrf); err != nil {
			return nil, err
		}
		f := &engine.Fusion{Method: engine.FusionRRF, Weights: rrf.Weights}
		if rrf.K != nil {
			k, err := restLimit(rrf.K, restJoin(p, "k"), 0)
			if err != nil {
				return nil, err
			}
			f.K = int(min(k, math.MaxInt32))
		}
		return &engine.Query{Fusion: f}, nil
	case m["formula"] != nil:
		f, err := restFormula(m, path)
		if err != nil {
			return nil, err
		}
		return &engine.Query{Formula: f}, nil
	case m["relevance_feedback"] != nil:
		f, err := restFeedback(m["relevance_feedback"], at("relevance_feedback"))
		if err != nil {
			return nil, err
		}
		return &engine.Query{RelevanceFeedback: f}, nil
	}
	ex, err := restExample(raw, path, true)
	if err != nil {
		return nil, err
	}
	return &engine.Query{Nearest: &ex}, nil
}

// restMMR reads the mmr of a nearest query (null or absent: none). A value
// that does not decode is no variant of the query; out-of-range values are
// validation errors, all of them reported at once as Qdrant does.
func restMMR(raw json.RawMessage, path string) (*engine.MMR, error) {
	if restIsNull(raw) {
		return nil, nil
	}
	var m struct {
		Diversity       *float32 `json:"diversity"`
		CandidatesLimit *uint64  `json:"candidates_limit"`
	}
	if restFirst(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, errRestNotVector
	}
	out, bad := mmrOf(m.Diversity, m.CandidatesLimit, path)
	if len(bad) > 0 {
		return nil, &restError{http.StatusUnprocessableEntity, "Validation error in JSON body: [" + strings.Join(bad, "; ") + "]"}
	}
	return out, nil
}

// mmrOf converts Qdrant's Mmr (both transports), with the validation
// errors of its members at path, in Qdrant's order ("field: message").
func mmrOf(diversity *float32, candidates *uint64, path string) (*engine.MMR, []string) {
	out := &engine.MMR{Diversity: engine.DefaultMMRDiversity}
	var bad []string
	if cl := candidates; cl != nil {
		if *cl > engine.MaxMMRCandidates {
			bad = append(bad, fmt.Sprintf("%s: value %d invalid, must be %d or smaller", restJoin(path, "candidates_limit"), *cl, engine.MaxMMRCandidates))
		} else {
			out.CandidatesLimit = new(int(*cl))
		}
	}
	if d := diversity; d != nil {
		out.Diversity = *d
		if !(*d >= 0 && *d <= 1) {
			bad = append(bad, fmt.Sprintf("%s: value %s invalid, must be from 0.0 to 1.0", restJoin(path, "diversity"), restRustFloat(*d)))
		}
	}
	return out, bad
}

// restFeedback reads a relevance_feedback query. A value that does not
// decode is no variant of the query; the validation errors come after.
func restFeedback(raw json.RawMessage, path string) (*engine.RelevanceFeedback, error) {
	var f struct {
		Target   json.RawMessage `json:"target"`
		Feedback *[]struct {
			Example json.RawMessage `json:"example"`
			Score   *float32        `json:"score"`
		} `json:"feedback"`
		Strategy *struct {
			Naive *struct {
				A, B, C *float32
			} `json:"naive"`
		} `json:"strategy"`
	}
	if restFirst(raw) != '{' || json.Unmarshal(raw, &f) != nil || restIsNull(f.Target) || f.Feedback == nil ||
		f.Strategy == nil || f.Strategy.Naive == nil {
		return nil, errRestNotVector
	}
	n := f.Strategy.Naive
	if n.A == nil || n.B == nil || n.C == nil {
		return nil, errRestNotVector
	}
	out := &engine.RelevanceFeedback{Naive: engine.NaiveFeedback{A: *n.A, B: *n.B, C: *n.C}}
	var err error
	if out.Target, err = restExample(f.Target, restJoin(path, "target"), true); err != nil {
		return nil, restNotVariant(err)
	}
	for i, it := range *f.Feedback {
		if restIsNull(it.Example) || it.Score == nil {
			return nil, errRestNotVector
		}
		ex, err := restExample(it.Example, restJoin(restIndex(restJoin(path, "feedback"), i), "example"), true)
		if err != nil {
			return nil, restNotVariant(err)
		}
		out.Feedback = append(out.Feedback, engine.FeedbackItem{Example: ex, Score: *it.Score})
	}
	if !(out.Naive.B >= 0) {
		return nil, restValidationError(restJoin(path, "strategy.naive.b"), "value %s invalid, must be 0.0 or larger", restRustFloat(out.Naive.B))
	}
	if len(out.Feedback) == 0 {
		return nil, restValidationError(restJoin(path, "__all__"), "feedback elements must be non-empty")
	}
	return out, nil
}

// restNotVariant turns a format error from inside a query variant into
// errRestNotVector: Qdrant reports it as a value that is no variant of the
// query.
func restNotVariant(err error) error {
	var re *restError
	if errors.As(err, &re) && re.status == http.StatusBadRequest && strings.HasPrefix(re.msg, "Format error in JSON body:") {
		return errRestNotVector
	}
	return err
}

// restRustFloat formats a float32 as Qdrant's validation messages do (as
// a float64, always with a fraction).
func restRustFloat(f float32) string { return rustFloat64(float64(f)) }

// restReadBody is what the bodies of every scored request (query, search,
// recommend, discover and their group forms) share.
type restReadBody struct {
	Filter      json.RawMessage   `json:"filter"`
	Params      *restSearchParams `json:"params"`
	WithVector  json.RawMessage   `json:"with_vector"`
	WithVectors json.RawMessage   `json:"with_vectors"`
	WithPayload json.RawMessage   `json:"with_payload"`
	ShardKey    json.RawMessage   `json:"shard_key"`
}

// convert converts the shared part into req, and lookup_from when the body
// has one (lookup is nil when it has none), in the order Qdrant reports
// their errors; withPayload says whether the answer carries payloads.
func (b *restReadBody) convert(req *engine.QueryRequest, lookup *json.RawMessage, path string) (withPayload bool, err error) {
	at := func(k string) string { return restJoin(path, k) }
	if req.Filter, err = restFilter(b.Filter, at("filter")); err != nil {
		return false, err
	}
	if err := b.Params.check(at("params")); err != nil {
		return false, err
	}
	req.HnswEf, req.Exact = b.Params.values()
	req.Oversampling = b.Params.oversampling()
	req.Quant = b.Params.quant()
	if req.WithPayload, withPayload, err = restWithPayload(b.WithPayload, at("with_payload"), false); err != nil {
		return false, err
	}
	if req.WithVectors, err = restWithVector(restWithVectorField(b.WithVector, b.WithVectors), at("with_vector"), false); err != nil {
		return false, err
	}
	if lookup != nil {
		if req.LookupFrom, err = restLookup(*lookup, at("lookup_from")); err != nil {
			return false, err
		}
	}
	if err := restShardKey(b.ShardKey, at("shard_key")); err != nil {
		return false, err
	}
	return withPayload, nil
}

// restQueryBody is the part of QueryRequest and QueryGroupsRequest that
// describes the query.
type restQueryBody struct {
	restReadBody
	Prefetch       json.RawMessage `json:"prefetch"`
	Query          json.RawMessage `json:"query"`
	Using          *string         `json:"using"`
	ScoreThreshold *float32        `json:"score_threshold"`
	Limit          *uint64         `json:"limit"`
	LookupFrom     json.RawMessage `json:"lookup_from"`
}

// request converts the body to an engine request. The limit is left to
// the caller; withPayload says whether the answer carries payloads.
func (b *restQueryBody) request(path string) (req engine.QueryRequest, withPayload bool, err error) {
	at := func(k string) string { return restJoin(path, k) }
	if req.Prefetch, err = restPrefetches(b.Prefetch, at("prefetch")); err != nil {
		return req, false, err
	}
	if req.Query, err = restQuery(b.Query, at("query")); err != nil {
		return req, false, err
	}
	if b.Using != nil {
		req.Using = *b.Using
	}
	req.ScoreThreshold = b.ScoreThreshold
	withPayload, err = b.convert(&req, &b.LookupFrom, path)
	return req, withPayload, err
}

// restPrefetch is Qdrant's Prefetch.
type restPrefetch struct {
	Prefetch       json.RawMessage   `json:"prefetch"`
	Query          json.RawMessage   `json:"query"`
	Using          *string           `json:"using"`
	Filter         json.RawMessage   `json:"filter"`
	Params         *restSearchParams `json:"params"`
	ScoreThreshold *float32          `json:"score_threshold"`
	Limit          *uint64           `json:"limit"`
	LookupFrom     json.RawMessage   `json:"lookup_from"`
}

// restPrefetches reads a prefetch field: one Prefetch or a list of them,
// each with its own nested prefetches.
func restPrefetches(raw json.RawMessage, path string) ([]engine.Prefetch, error) {
	items, err := restOneOrMany(raw, path)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	out := make([]engine.Prefetch, len(items))
	for i, item := range items {
		p := restIndex(path, i)
		at := func(k string) string { return restJoin(p, k) }
		var b restPrefetch
		if err := restUnmarshal(item, p, &b); err != nil {
			return nil, err
		}
		pf := &out[i]
		if pf.Prefetch, err = restPrefetches(b.Prefetch, at("prefetch")); err != nil {
			return nil, err
		}
		if pf.Query, err = restQuery(b.Query, at("query")); err != nil {
			return nil, err
		}
		if b.Using != nil {
			pf.Using = *b.Using
		}
		if pf.Filter, err = restFilter(b.Filter, at("filter")); err != nil {
			return nil, err
		}
		if err := b.Params.check(at("params")); err != nil {
			return nil, err
		}
		pf.HnswEf, pf.Exact = b.Params.values()
		pf.Oversampling = b.Params.oversampling()
		pf.Quant = b.Params.quant()
		pf.ScoreThreshold = b.ScoreThreshold
		limit, err := restLimit(b.Limit, at("limit"), 0)
		if err != nil {
			return nil, err
		}
		pf.Limit = int(min(limit, math.MaxInt32))
		if pf.LookupFrom, err = restLookup(b.LookupFrom, at("lookup_from")); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// restQueryRequest is Qdrant's QueryRequest.
type restQueryRequest struct {
	restQueryBody
	Offset *uint64 `json:"offset"`
}

// bounds reads a request's limit and offset and bounds them by the
// collection's size. A limit without a default (def 0) is required.
func (s *restServer) bounds(ctx context.Context, coll string, limit, offset *uint64, def uint64, path string) (int, int, error) {
	if def == 0 && limit == nil {
		return 0, 0, restMissing(path, "limit")
	}
	l, err := restLimit(limit, restJoin(path, "limit"), def)
	if err != nil {
		return 0, 0, err
	}
	var off uint64
	if offset != nil {
		off = *offset
	}
	return s.clamp(ctx, coll, l, off)
}

// prepQuery converts one QueryRequest.
func (s *restServer) prepQuery(ctx context.Context, coll string, q *restQueryRequest, path string) (engine.QueryRequest, bool, error) {
	req, withPayload, err := q.request(path)
	if err != nil {
		return req, false, err
	}
	req.Limit, req.Offset, err = s.bounds(ctx, coll, q.Limit, q.Offset, 10, path)
	return req, withPayload, err
}

// restScoredRoute is how the requests of one scored REST route (search,
// recommend, discover, query) are decoded from P, converted to the engine's
// request Q, admitted by strict mode, run and answered, alone or as a
// batch. Every route checks, admits and runs its requests in the same order.
type restScoredRoute[P, Q any] struct {
	s *restServer
	// elem is Qdrant's name of one request, for the batch's decode errors.
	elem  string
	prep  func(ctx context.Context, coll string, p *P, path string) (Q, bool, error)
	win   func(*Q) window
	one   func(context.Context, string, *Q) ([]engine.ScoredPoint, error)
	batch func(context.Context, string, []Q) ([][]engine.ScoredPoint, error)
	// points answers each list of points as {"points": [...]} (the
	// universal query's form) instead of as a bare list.
	points bool
}

// answer is the answer of one list of points.
func (rt restScoredRoute[P, Q]) answer(pts []restScoredPoint) any {
	if rt.points {
		return map[string][]restScoredPoint{"points": pts}
	}
	return pts
}

// run converts, admits and runs one request.
func (rt restScoredRoute[P, Q]) run(ctx context.Context, coll string, p *P) (any, error) {
	req, withPayload, err := rt.prep(ctx, coll, p, "")
	if err != nil {
		return nil, err
	}
	if err := rt.s.opts.Limits.restAdmit(ctx, rt.s.db, coll, []window{rt.win(&req)}); err != nil {
		return nil, err
	}
	pts, err := rt.one(ctx, coll, &req)
	if err != nil {
		return nil, err
	}
	return rt.answer(restScored(pts, withPayload)), nil
}

// runBatch converts every request, then admits and runs them as one batch
// (strict mode checks a batch as a whole).
func (rt restScoredRoute[P, Q]) runBatch(ctx context.Context, coll string, ps []P) (any, error) {
	reqs := make([]Q, len(ps))
	withPayload := make([]bool, len(ps))
	for i := range ps {
		var err error
		if reqs[i], withPayload[i], err = rt.prep(ctx, coll, &ps[i], restIndex("searches", i)); err != nil {
			return nil, err
		}
	}
	if err := rt.s.opts.Limits.restAdmit(ctx, rt.s.db, coll, windowsOf(reqs, rt.win)); err != nil {
		return nil, err
	}
	res, err := rt.batch(ctx, coll, reqs)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(res))
	for i, pts := range res {
		out[i] = rt.answer(restScored(pts, withPayload[i]))
	}
	return out, nil
}

// serve answers the route's single form: it decodes the body, checks the
// read options and runs the request.
func (rt restScoredRoute[P, Q]) serve(w http.ResponseWriter, r *http.Request) (any, error) {
	var req P
	if err := rt.s.decodeRead(r, &req); err != nil {
		return nil, err
	}
	return rt.run(r.Context(), r.PathValue("collection_name"), &req)
}

// serveBatch answers the route's batch form, {"searches": [...]}.
func (rt restScoredRoute[P, Q]) serveBatch(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		Searches *[]P `json:"searches"`
	}
	if err := rt.s.decodeBatch(r, rt.elem, &req); err != nil {
		return nil, err
	}
	if err := restReadOptions(r); err != nil {
		return nil, err
	}
	if req.Searches == nil {
		return nil, restMissing("", "searches")
	}
	return rt.runBatch(r.Context(), r.PathValue("collection_name"), *req.Searches)
}

// decodeRead is the first step of every REST read: it decodes the body
// into v, then checks the read options of the query string.
func (s *restServer) decodeRead(r *http.Request, v any) error {
	if err := s.decodeBody(r, v); err != nil {
		return err
	}
	return restReadOptions(r)
}

// restQueries is the route of requests that convert to universal queries.
func restQueries[P any](s *restServer, elem string, prep func(context.Context, string, *P, string) (engine.QueryRequest, bool, error)) restScoredRoute[P, engine.QueryRequest] {
	return restScoredRoute[P, engine.QueryRequest]{s: s, elem: elem, prep: prep, win: queryWindow, one: s.db.Query, batch: s.db.QueryBatch}
}

// queries is the universal query's route.
func (s *restServer) queries() restScoredRoute[restQueryRequest, engine.QueryRequest] {
	rt := restQueries(s, "QueryRequest", s.prepQuery)
	rt.points = true
	return rt
}

// query answers POST /collections/{c}/points/query. A request with the
// header Qlite-Explain (any value) is answered with the header
// Qlite-Query-Plan: the figures the query's trace span records (see
// restQueryPlan), whether or not the server traces.
func (s *restServer) query(w http.ResponseWriter, r *http.Request) (any, error) {
	rt := s.queries()
	if r.Header.Get(restExplainHeader) != "" {
		one := rt.one
		rt.one = func(ctx context.Context, coll string, q *engine.QueryRequest) ([]engine.ScoredPoint, error) {
			var st engine.SearchStats
			q.Stats = &st
			pts, err := one(ctx, coll, q)
			if err == nil {
				w.Header().Set(restPlanHeader, restQueryPlan(&st))
			}
			return pts, err
		}
	}
	return rt.serve(w, r)
}

// The headers of a query's plan: asked for by the request, given in the
// answer.
const (
	restExplainHeader = "Qlite-Explain"
	restPlanHeader    = "Qlite-Query-Plan"
)

// restQueryPlan is the Qlite-Query-Plan header of a query: a JSON object
// keyed by the names of the trace attributes (qlite.plan, qlite.ef,
// qlite.segments, qlite.vectors_scored, qlite.limit and, for a filtered
// query, qlite.filter.estimated_cardinality and, where the payload indexes
// narrowed the search, qlite.filter.actual_candidates). A query that
// searched no vectors (a scroll by order_by or sample, an empty
// collection) has {"qlite.segments": 0}.
func restQueryPlan(st *engine.SearchStats) string {
	m := map[string]any{"qlite.segments": st.Segments}
	if st.Segments > 0 {
		m["qlite.plan"] = st.Plan
		m["qlite.ef"] = st.Ef
		m["qlite.vectors_scored"] = st.Scored
		m["qlite.limit"] = st.Limit
		if st.Filtered {
			m["qlite.filter.estimated_cardinality"] = st.Estimated
			if st.Candidates >= 0 {
				m["qlite.filter.actual_candidates"] = st.Candidates
			}
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// queryBatch answers POST /collections/{c}/points/query/batch.
func (s *restServer) queryBatch(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.queries().serveBatch(w, r)
}

// restGroupsBody is the grouping part of the groups requests.
type restGroupsBody struct {
	GroupBy    *string         `json:"group_by"`
	GroupSize  *uint64         `json:"group_size"`
	WithLookup json.RawMessage `json:"with_lookup"`
}

// restWithLookup is a parsed with_lookup.
type restWithLookup struct {
	collection  string
	withPayload engine.PayloadSelector
	asked       bool
	withVectors engine.VectorSelector
}

// restLookupGroups reads with_lookup: a collection name, or {"collection",
// "with_payload" (default true), "with_vectors" (default false)}.
func restLookupGroups(raw json.RawMessage, path string) (*restWithLookup, error) {
	switch restFirst(raw) {
	case 0, 'n':
		return nil, nil
	case '"':
		var name string
		if err := restUnmarshal(raw, path, &name); err != nil {
			return nil, err
		}
		return &restWithLookup{collection: name, withPayload: engine.AllPayload, asked: true}, nil
	case '{':
		var l struct {
			Collection  *string         `json:"collection"`
			WithPayload json.RawMessage `json:"with_payload"`
			WithVectors json.RawMessage `json:"with_vectors"`
			WithVector  json.RawMessage `json:"with_vector"`
		}
		if err := restUnmarshal(raw, path, &l); err != nil {
			return nil, err
		}
		if l.Collection == nil {
			return nil, restMissing(path, "collection")
		}
		out := &restWithLookup{collection: *l.Collection}
		var err error
		if out.withPayload, out.asked, err = restWithPayload(l.WithPayload, restJoin(path, "with_payload"), true); err != nil {
			return nil, err
		}
		if out.withVectors, err = restWithVector(restWithVectorField(l.WithVectors, l.WithVector), restJoin(path, "with_vectors"), false); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, restFormatAt(path, "data did not match any variant of untagged enum WithLookupInterface")
}

// restPointGroup is Qdrant's PointGroup.
type restPointGroup struct {
	ID     payload.Value     `json:"id"`
	Hits   []restScoredPoint `json:"hits"`
	Lookup *restRecord       `json:"lookup,omitempty"`
}

// runGroups runs a grouped query: at most limit groups of at most
// groupSize hits, each group looked up in another collection when asked.
func (s *restServer) runGroups(ctx context.Context, coll string, req engine.QueryRequest, withPayload bool, g *restGroupsBody, limit, groupSize uint64) (any, error) {
	if g.GroupBy == nil {
		return nil, restMissing("", "group_by")
	}
	if _, err := payload.ParsePath(*g.GroupBy); err != nil {
		return nil, restFormatPos("group_by", "Invalid json path: '%s'", *g.GroupBy)
	}
	lookup, err := restLookupGroups(g.WithLookup, "with_lookup")
	if err != nil {
		return nil, err
	}
	n, size, err := s.clamp(ctx, coll, limit, groupSize)
	if err != nil {
		return nil, err
	}
	req.Limit = n
	groups, err := s.db.QueryGroups(ctx, coll, &engine.GroupsRequest{QueryRequest: req, GroupBy: *g.GroupBy, GroupSize: max(size, 1)})
	if err != nil {
		return nil, err
	}
	out := make([]restPointGroup, len(groups))
	for i, gr := range groups {
		out[i] = restPointGroup{ID: gr.ID, Hits: restScored(gr.Hits, withPayload)}
	}
	if lookup != nil {
		if err := s.lookupGroups(ctx, lookup, groups, out); err != nil {
			return nil, err
		}
	}
	return map[string][]restPointGroup{"groups": out}, nil
}

// lookupGroups fills in the lookup record of each group whose id is a point
// id of the lookup collection.
func (s *restServer) lookupGroups(ctx context.Context, l *restWithLookup, groups []engine.PointGroup, out []restPointGroup) error {
	ids := make([]filter.PointID, 0, len(groups))
	for _, g := range groups {
		if id, ok := restGroupPointID(g.ID); ok {
			ids = append(ids, id)
		}
	}
	recs, err := s.db.Get(ctx, l.collection, ids, &engine.ReadOptions{WithPayload: l.withPayload, WithVectors: l.withVectors})
	if err != nil {
		return err
	}
	enc := restRecords(recs, l.asked)
	for i, g := range groups {
		id, ok := restGroupPointID(g.ID)
		if !ok {
			continue
		}
		if j := slices.IndexFunc(recs, func(r engine.Record) bool { return r.ID == id }); j >= 0 {
			out[i].Lookup = &enc[j]
		}
	}
	return nil
}

// restGroupPointID converts a group id to a point id: a non-negative
// integer, or a string holding a UUID.
func restGroupPointID(v payload.Value) (filter.PointID, bool) {
	if u, ok := v.Uint(); ok {
		return filter.NumID(u), true
	}
	if s, ok := v.Str(); ok {
		id, err := filter.ParseUUID(s)
		return id, err == nil
	}
	return filter.PointID{}, false
}

// queryGroups answers POST /collections/{c}/points/query/groups.
func (s *restServer) queryGroups(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		restQueryBody
		restGroupsBody
	}
	return s.serveGroups(r, &req, &req.restQueryBody, &req.restGroupsBody, func() (uint64, uint64, error) {
		limit, err := restLimit(req.Limit, "limit", 10)
		if err != nil {
			return 0, 0, err
		}
		size, err := restLimit(req.GroupSize, "group_size", 3)
		return limit, size, err
	})
}

// restRequestBody is a body that converts to an engine request.
type restRequestBody interface {
	request(path string) (engine.QueryRequest, bool, error)
}

// serveGroups is the pipeline of the groups routes: it decodes the body
// into req, checks the read options, converts the query part body, then
// reads the limit and the group size with limits, and runs the grouping
// that the grouping part g asks for.
func (s *restServer) serveGroups(r *http.Request, req any, body restRequestBody, g *restGroupsBody, limits func() (uint64, uint64, error)) (any, error) {
	if err := s.decodeRead(r, req); err != nil {
		return nil, err
	}
	qr, withPayload, err := body.request("")
	if err != nil {
		return nil, err
	}
	limit, size, err := limits()
	if err != nil {
		return nil, err
	}
	return s.runGroups(r.Context(), r.PathValue("collection_name"), qr, withPayload, g, limit, size)
}

// restSearchBody is the common part of the legacy search requests.
type restSearchBody struct {
	restReadBody
	Vector         json.RawMessage `json:"vector"`
	ScoreThreshold *float32        `json:"score_threshold"`
}

// request converts the body to a nearest query.
func (b *restSearchBody) request(path string) (req engine.QueryRequest, withPayload bool, err error) {
	at := func(k string) string { return restJoin(path, k) }
	if restIsNull(b.Vector) {
		return req, false, restMissing(path, "vector")
	}
	using, vec, err := restNamedVector(b.Vector, at("vector"))
	if err != nil {
		return req, false, err
	}
	req.Query = &engine.Query{Nearest: &vec}
	req.Using = using
	req.ScoreThreshold = b.ScoreThreshold
	withPayload, err = b.convert(&req, nil, path)
	return req, withPayload, err
}

// restSearchRequest is Qdrant's SearchRequest.
type restSearchRequest struct {
	restSearchBody
	Limit  *uint64 `json:"limit"`
	Offset *uint64 `json:"offset"`
}

// prepSearch converts one legacy search.
func (s *restServer) prepSearch(ctx context.Context, coll string, q *restSearchRequest, path string) (engine.SearchRequest, bool, error) {
	qr, withPayload, err := q.request(path)
	if err != nil {
		return engine.SearchRequest{}, false, err
	}
	if qr.Limit, qr.Offset, err = s.bounds(ctx, coll, q.Limit, q.Offset, 0, path); err != nil {
		return engine.SearchRequest{}, false, err
	}
	return *searchRequestOf(&qr), withPayload, nil
}

// searchRequestOf is the legacy search a nearest query request stands for.
func searchRequestOf(q *engine.QueryRequest) *engine.SearchRequest {
	return &engine.SearchRequest{Vector: q.Query.Nearest.Vector, Sparse: q.Query.Nearest.Sparse, Using: q.Using, Filter: q.Filter,
		Limit: q.Limit, Offset: q.Offset, ScoreThreshold: q.ScoreThreshold, HnswEf: q.HnswEf, Exact: q.Exact,
		Oversampling: q.Oversampling, Quant: q.Quant, WithPayload: q.WithPayload, WithVectors: q.WithVectors}
}

// searches is the legacy search's route.
func (s *restServer) searches() restScoredRoute[restSearchRequest, engine.SearchRequest] {
	return restScoredRoute[restSearchRequest, engine.SearchRequest]{s: s, elem: "SearchRequest", prep: s.prepSearch, win: searchWindow,
		one: s.db.Search, batch: s.db.SearchBatch}
}

// search answers POST /collections/{c}/points/search.
func (s *restServer) search(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.searches().serve(w, r)
}

// searchBatch answers POST /collections/{c}/points/search/batch.
func (s *restServer) searchBatch(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.searches().serveBatch(w, r)
}

// restGroupsLimits reads the required limit and group_size of the legacy
// groups requests.
func restGroupsLimits(limit, groupSize *uint64) (uint64, uint64, error) {
	if limit == nil {
		return 0, 0, restMissing("", "limit")
	}
	if groupSize == nil {
		return 0, 0, restMissing("", "group_size")
	}
	l, err := restLimit(limit, "limit", 0)
	if err != nil {
		return 0, 0, err
	}
	g, err := restLimit(groupSize, "group_size", 0)
	return l, g, err
}

// searchGroups answers POST /collections/{c}/points/search/groups.
func (s *restServer) searchGroups(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		restSearchBody
		restGroupsBody
		Limit *uint64 `json:"limit"`
	}
	return s.serveGroups(r, &req, &req.restSearchBody, &req.restGroupsBody, func() (uint64, uint64, error) {
		return restGroupsLimits(req.Limit, req.GroupSize)
	})
}

// restRecommendBody is the common part of the recommend requests.
type restRecommendBody struct {
	restReadBody
	Positive       json.RawMessage `json:"positive"`
	Negative       json.RawMessage `json:"negative"`
	Strategy       json.RawMessage `json:"strategy"`
	ScoreThreshold *float32        `json:"score_threshold"`
	Using          *string         `json:"using"`
	LookupFrom     json.RawMessage `json:"lookup_from"`
}

// request converts the body to a recommend query.
func (b *restRecommendBody) request(path string) (req engine.QueryRequest, withPayload bool, err error) {
	at := func(k string) string { return restJoin(path, k) }
	rq := &engine.RecommendQuery{}
	if rq.Positive, err = restExamples(b.Positive, at("positive"), false); err != nil {
		return req, false, restEnum(err, at("positive"), restEnumRecommendExample)
	}
	if rq.Negative, err = restExamples(b.Negative, at("negative"), false); err != nil {
		return req, false, restEnum(err, at("negative"), restEnumRecommendExample)
	}
	if rq.Strategy, err = restStrategy(b.Strategy, at("strategy")); err != nil {
		return req, false, err
	}
	req.Query = &engine.Query{Recommend: rq}
	if b.Using != nil {
		req.Using = *b.Using
	}
	req.ScoreThreshold = b.ScoreThreshold
	withPayload, err = b.convert(&req, &b.LookupFrom, path)
	return req, withPayload, err
}

// restRecommendRequest is Qdrant's RecommendRequest.
type restRecommendRequest struct {
	restRecommendBody
	Limit  *uint64 `json:"limit"`
	Offset *uint64 `json:"offset"`
}

// prepRecommend converts one recommendation.
func (s *restServer) prepRecommend(ctx context.Context, coll string, q *restRecommendRequest, path string) (engine.RecommendRequest, bool, error) {
	req, withPayload, err := q.request(path)
	if err != nil {
		return engine.RecommendRequest{}, false, err
	}
	if req.Limit, req.Offset, err = s.bounds(ctx, coll, q.Limit, q.Offset, 0, path); err != nil {
		return engine.RecommendRequest{}, false, err
	}
	return *recommendRequestOf(&req), withPayload, nil
}

// recommendRequestOf is the legacy recommendation a recommend query request
// stands for.
func recommendRequestOf(q *engine.QueryRequest) *engine.RecommendRequest {
	rq := q.Query.Recommend
	return &engine.RecommendRequest{Positive: rq.Positive, Negative: rq.Negative, Strategy: rq.Strategy,
		Using: q.Using, Filter: q.Filter, Limit: q.Limit, Offset: q.Offset, ScoreThreshold: q.ScoreThreshold, HnswEf: q.HnswEf,
		Exact: q.Exact, Oversampling: q.Oversampling, Quant: q.Quant, WithPayload: q.WithPayload, WithVectors: q.WithVectors, LookupFrom: q.LookupFrom}
}

// recommendations is the legacy recommendation's route.
func (s *restServer) recommendations() restScoredRoute[restRecommendRequest, engine.RecommendRequest] {
	return restScoredRoute[restRecommendRequest, engine.RecommendRequest]{s: s, elem: "RecommendRequest", prep: s.prepRecommend, win: recommendWindow,
		one: s.db.Recommend, batch: s.db.RecommendBatch}
}

// recommend answers POST /collections/{c}/points/recommend.
func (s *restServer) recommend(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.recommendations().serve(w, r)
}

// recommendBatch answers POST /collections/{c}/points/recommend/batch.
func (s *restServer) recommendBatch(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.recommendations().serveBatch(w, r)
}

// recommendGroups answers POST /collections/{c}/points/recommend/groups.
func (s *restServer) recommendGroups(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		restRecommendBody
		restGroupsBody
		Limit *uint64 `json:"limit"`
	}
	return s.serveGroups(r, &req, &req.restRecommendBody, &req.restGroupsBody, func() (uint64, uint64, error) {
		return restGroupsLimits(req.Limit, req.GroupSize)
	})
}

// restDiscoverRequest is Qdrant's DiscoverRequest.
type restDiscoverRequest struct {
	restReadBody
	Target     json.RawMessage `json:"target"`
	Context    json.RawMessage `json:"context"`
	Limit      *uint64         `json:"limit"`
	Offset     *uint64         `json:"offset"`
	Using      *string         `json:"using"`
	LookupFrom json.RawMessage `json:"lookup_from"`
}

// prepDiscover converts one discovery.
func (s *restServer) prepDiscover(ctx context.Context, coll string, q *restDiscoverRequest, path string) (engine.QueryRequest, bool, error) {
	at := func(k string) string { return restJoin(path, k) }
	var req engine.QueryRequest
	var err error
	pairs, err := restContext(q.Context, at("context"), false)
	if err != nil {
		return req, false, restEnum(err, at("context"), restEnumRecommendExample)
	}
	if pairs == nil {
		pairs = []engine.ContextPair{}
	}
	if restIsNull(q.Target) {
		req.Query = &engine.Query{Context: pairs}
	} else {
		target, err := restExample(q.Target, at("target"), false)
		if err != nil {
			return req, false, restEnum(err, at("target"), restEnumRecommendExample)
		}
		req.Query = &engine.Query{Discover: &engine.DiscoverQuery{Target: target, Context: pairs}}
	}
	if q.Using != nil {
		req.Using = *q.Using
	}
	withPayload, err := q.convert(&req, &q.LookupFrom, path)
	if err != nil {
		return req, false, err
	}
	req.Limit, req.Offset, err = s.bounds(ctx, coll, q.Limit, q.Offset, 0, path)
	return req, withPayload, err
}

// discover answers POST /collections/{c}/points/discover: a discover query
// when there is a target, a context query otherwise.
func (s *restServer) discover(w http.ResponseWriter, r *http.Request) (any, error) {
	return restQueries(s, "DiscoverRequest", s.prepDiscover).serve(w, r)
}

// discoverBatch answers POST /collections/{c}/points/discover/batch.
func (s *restServer) discoverBatch(w http.ResponseWriter, r *http.Request) (any, error) {
	return restQueries(s, "DiscoverRequest", s.prepDiscover).serveBatch(w, r)
}

// matrix reads a SearchMatrixRequest and runs it.
func (s *restServer) matrix(r *http.Request) (*engine.Matrix, error) {
	var req struct {
		Filter   json.RawMessage `json:"filter"`
		Sample   *uint64         `json:"sample"`
		Limit    *uint64         `json:"limit"`
		Using    *string         `json:"using"`
		ShardKey json.RawMessage `json:"shard_key"`
	}
	if err := s.decodeRead(r, &req); err != nil {
		return nil, err
	}
	f, err := restFilter(req.Filter, "filter")
	if err != nil {
		return nil, err
	}
	sample := uint64(10)
	if req.Sample != nil {
		if *req.Sample < 2 {
			// Qdrant names the fields of its inner request (search_request).
			return nil, restValidationError("search_request.sample", "value %d invalid, must be 2 or larger", *req.Sample)
		}
		sample = *req.Sample
	}
	limit, err := restLimit(req.Limit, "search_request.limit", 3)
	if err != nil {
		return nil, err
	}
	if err := restShardKey(req.ShardKey, "shard_key"); err != nil {
		return nil, err
	}
	mr := &engine.MatrixRequest{Filter: f}
	if req.Using != nil {
		mr.Using = *req.Using
	}
	coll := r.PathValue("collection_name")
	if mr.Sample, mr.Limit, err = s.clamp(r.Context(), coll, sample, limit); err != nil {
		return nil, err
	}
	mr.Sample = max(mr.Sample, 2)
	// Absent values are left to the engine's defaults, which strict mode
	// does not bound.
	if req.Sample == nil {
		mr.Sample = 0
	}
	if req.Limit == nil {
		mr.Limit = 0
	}
	return s.db.SearchMatrix(r.Context(), coll, mr)
}

// matrixPairs answers POST /collections/{c}/points/search/matrix/pairs.
func (s *restServer) matrixPairs(w http.ResponseWriter, r *http.Request) (any, error) {
	m, err := s.matrix(r)
	if err != nil {
		return nil, err
	}
	type pair struct {
		A     filter.PointID `json:"a"`
		B     filter.PointID `json:"b"`
		Score restScore      `json:"score"`
	}
	out := make([]pair, len(m.Pairs))
	for i, p := range m.Pairs {
		out[i] = pair{p.A, p.B, restScore(p.Score)}
	}
	return map[string][]pair{"pairs": out}, nil
}

// matrixOffsets answers POST /collections/{c}/points/search/matrix/offsets:
// the pairs as a sparse matrix over the sampled ids.
func (s *restServer) matrixOffsets(w http.ResponseWriter, r *http.Request) (any, error) {
	m, err := s.matrix(r)
	if err != nil {
		return nil, err
	}
	index := make(map[filter.PointID]uint64, len(m.IDs))
	for i, id := range m.IDs {
		index[id] = uint64(i)
	}
	out := struct {
		OffsetsRow []uint64         `json:"offsets_row"`
		OffsetsCol []uint64         `json:"offsets_col"`
		Scores     []restScore      `json:"scores"`
		IDs        []filter.PointID `json:"ids"`
	}{make([]uint64, 0, len(m.Pairs)), make([]uint64, 0, len(m.Pairs)), make([]restScore, 0, len(m.Pairs)), m.IDs}
	if out.IDs == nil {
		out.IDs = []filter.PointID{}
	}
	for _, p := range m.Pairs {
		a, okA := index[p.A]
		b, okB := index[p.B]
		if !okA || !okB {
			continue
		}
		out.OffsetsRow = append(out.OffsetsRow, a)
		out.OffsetsCol = append(out.OffsetsCol, b)
		out.Scores = append(out.Scores, restScore(p.Score))
	}
	return out, nil
}
