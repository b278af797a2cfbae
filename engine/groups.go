package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// Group query defaults (Qdrant's query groups).
const (
	defaultGroupLimit = 10
	defaultGroupSize  = 3
	// maxGroupBatch bounds the number of points one round of a group
	// query asks for.
	maxGroupBatch = 1 << 20
)

// GroupsRequest is a universal query whose results are grouped by the value
// of a payload key (Qdrant's query groups).
type GroupsRequest struct {
	// QueryRequest is the query. Its Limit is the number of groups (default
	// 10); its Offset must be 0. WithPayload and WithVectors select what the
	// hits carry.
	QueryRequest
	// GroupBy is the payload key (a key path) to group by. A point joins one
	// group per distinct value at the key: each string or integer, the
	// elements of an array counting as values. Points without a value there,
	// or with any value of another type (a float, a bool, null, an object, a
	// nested array), are left out, as in Qdrant.
	GroupBy string
	// GroupSize is the number of hits per group, default 3.
	GroupSize int
}

// PointGroup is one group of a group query.
type PointGroup struct {
	// ID is the value the group's points share: a string or an integer.
	ID payload.Value
	// Hits are the group's best points, best first.
	Hits []ScoredPoint
}

// QueryGroups runs a query and groups its results: the Limit groups whose
// best point ranks highest, ordered by that point, each with its GroupSize
// best points. A point with several values appears in each of their groups.
//
// The query runs in rounds with a growing limit. Each round leaves out the
// points already seen, the points whose values all belong to groups that are
// already full and, once Limit groups are known, the points of none of the
// unfilled ones among them. Rounds stop when the Limit best groups are full
// or no point is left, so with an exact query (Exact, or any query kind that
// scans) the result is the grouping of the complete ranking.
func (db *DB) QueryGroups(ctx context.Context, coll string, req *GroupsRequest) (groups []PointGroup, err error) {
	ctx, op := db.tel.start(ctx, opQueryGroups, coll)
	defer func() { op.end(err, len(groups)) }()
	if req == nil {
		return nil, fmt.Errorf("%w: missing query groups request", ErrBadRequest)
	}
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if req.GroupBy == "" {
		return nil, fmt.Errorf("%w: group_by: must not be empty", ErrBadRequest)
	}
	path, err := payload.ParsePath(req.GroupBy)
	if err != nil {
		return nil, fmt.Errorf("%w: group_by: %w", ErrBadRequest, err)
	}
	limit, size := req.Limit, req.GroupSize
	if limit == 0 {
		limit = defaultGroupLimit
	}
	if size == 0 {
		size = defaultGroupSize
	}
	if limit < 1 {
		return nil, fmt.Errorf("%w: limit: must be at least 1", ErrBadRequest)
	}
	if size < 1 {
		return nil, fmt.Errorf("%w: group_size: must be at least 1", ErrBadRequest)
	}
	if req.Offset != 0 {
		return nil, fmt.Errorf("%w: offset: not supported by group queries", ErrBadRequest)
	}
	if err := req.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	if err := c.admit(ctx, req.strictCheck()); err != nil {
		return nil, err
	}
	sel, err := c.compileSelectors(req.WithPayload, req.WithVectors)
	if err != nil {
		return nil, err
	}

	g := &grouper{limit: limit, size: size, path: path, better: groupOrder(c, &req.QueryRequest), groups: map[groupKey]*group{}}
	round := req.QueryRequest
	round.Offset = 0
	round.Prefetch = groupPrefetches(round.Prefetch, limit)
	round.WithPayload = AllPayload
	batch := maxGroupBatch
	if limit <= maxGroupBatch/size {
		batch = limit * size
	}
	seen := map[PointID]bool{}
	var seenIDs []PointID
	for {
		round.Filter = g.roundFilter(req.Filter, seenIDs)
		round.Limit = batch
		pts, err := db.query(ctx, coll, &round, nil)
		if err != nil {
			return nil, err
		}
		added := 0
		for _, p := range pts {
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			seenIDs = append(seenIDs, p.ID)
			g.add(p)
			added++
		}
		if len(pts) < batch || added == 0 || g.done() {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch = min(2*batch, maxGroupBatch)
	}
	return g.result(&sel), nil
}

// groupOrder returns how the query's scores rank (better(a, b): a ranks
// first), or nil when its results are not ordered by score (by id, by a
// payload field, random).
func groupOrder(c *collection, r *QueryRequest) func(a, b float32) bool {
	q := r.Query
	switch {
	case q == nil || q.OrderBy != nil || q.Sample:
		return nil
	case q.Nearest != nil || (q.Recommend != nil && (q.Recommend.Strategy == "" || q.Recommend.Strategy == AverageVector)):
		vp, _, err := c.spaceParams(r.Using)
		if err != nil {
			return nil
		}
		return vp.Distance.BetterScore
	}
	return func(a, b float32) bool { return a > b }
}

// groupKey is a group's value: a string, an int64 or a uint64 above
// math.MaxInt64.
type groupKey struct {
	kind payload.Kind // payload.String, payload.Int or payload.Uint
	str  string
	num  uint64
}

func (k groupKey) value() payload.Value {
	switch k.kind {
	case payload.String:
		return payload.StringValue(k.str)
	case payload.Int:
		return payload.IntValue(int64(k.num))
	}
	return payload.UintValue(k.num)
}

// groupKeys appends to dst the distinct group values among vals (the values
// found at the key; arrays count as their elements). It reports false when
// some value cannot be a group value: then the point joins no group.
func groupKeys(dst []groupKey, vals []payload.Value) ([]groupKey, bool) {
	add := func(v payload.Value) bool {
		var k groupKey
		switch v.Kind() {
		case payload.String:
			s, _ := v.Str()
			k = groupKey{kind: payload.String, str: s}
		case payload.Int:
			i, _ := v.Int()
			k = groupKey{kind: payload.Int, num: uint64(i)}
		case payload.Uint:
			u, _ := v.Uint()
			k = groupKey{kind: payload.Uint, num: u}
		default:
			return false
		}
		if !slices.Contains(dst, k) {
			dst = append(dst, k)
		}
		return true
	}
	for _, v := range vals {
		if v.Kind() == payload.Array {
			for _, e := range v.Array() {
				if !add(e) {
					return dst, false
				}
			}
			continue
		}
		if !add(v) {
			return dst, false
		}
	}
	return dst, true
}

// rankedHit is a result of a group query with its rank in the order the
// rounds returned it.
type rankedHit struct {
	p    ScoredPoint
	rank int
}

// group collects the hits of one value.
type group struct {
	key  groupKey
	hits []rankedHit
	best rankedHit
}

// grouper aggregates the rounds of a group query.
type grouper struct {
	limit, size int
	path        payload.Path
	better      func(a, b float32) bool // nil: by rank only
	groups      map[groupKey]*group
	list        []*group // in order of creation
	rank        int
	keys        []groupKey
	buf         []payload.Value
}

// before reports whether hit a ranks before hit b: by score when the query
// orders by score, then by the order the rounds returned them.
func (g *grouper) before(a, b rankedHit) bool {
	if g.better != nil {
		if g.better(a.p.Score, b.p.Score) {
			return true
		}
		if g.better(b.p.Score, a.p.Score) {
			return false
		}
	}
	return a.rank < b.rank
}

// add files a point into the groups of its values.
func (g *grouper) add(p ScoredPoint) {
	h := rankedHit{p, g.rank}
	g.rank++
	g.buf = g.path.Find(p.Payload, g.buf[:0])
	keys, ok := groupKeys(g.keys[:0], g.buf)
	g.keys = keys
	if !ok {
		return
	}
	for _, k := range keys {
		gr := g.groups[k]
		if gr == nil {
			gr = &group{key: k, best: h}
			g.groups[k] = gr
			g.list = append(g.list, gr)
		} else if g.before(h, gr.best) {
			gr.best = h
		}
		gr.hits = append(gr.hits, h)
	}
}

// bestGroups returns the (up to) limit groups with the best best hits, in
// order.
func (g *grouper) bestGroups() []*group {
	best := slices.Clone(g.list)
	slices.SortStableFunc(best, func(a, b *group) int {
		switch {
		case g.before(a.best, b.best):
			return -1
		case g.before(b.best, a.best):
			return 1
		}
		return 0
	})
	return best[:min(len(best), g.limit)]
}

// done reports whether the result is settled: limit groups, all full.
func (g *grouper) done() bool {
	best := g.bestGroups()
	if len(best) < g.limit {
		return false
	}
	for _, gr := range best {
		if len(gr.hits) < g.size {
			return false
		}
	}
	return true
}

// roundFilter is the filter of the next round: the user's, a value at the
// key, none of the points already seen, not only values of full groups and,
// once limit groups are known, some value of an unfilled one among them.
func (g *grouper) roundFilter(user *filter.Filter, seen []PointID) *filter.Filter {
	f := &filter.Filter{MustNot: []filter.Condition{&filter.IsEmpty{Key: g.path}}}
	if user != nil {
		f.Must = append(f.Must, user)
	}
	if len(seen) > 0 {
		f.MustNot = append(f.MustNot, filter.NewHasID(seen...))
	}
	// A match except holds for a point with some value outside the list
	// (values of other types included), so it drops only points whose values
	// are all in full groups.
	var fullStr []string
	var fullInt []int64
	for _, gr := range g.list {
		if len(gr.hits) < g.size {
			continue
		}
		switch gr.key.kind {
		case payload.String:
			fullStr = append(fullStr, gr.key.str)
		case payload.Int:
			fullInt = append(fullInt, int64(gr.key.num))
		}
	}
	if len(fullStr) > 0 {
		f.Must = append(f.Must, &filter.Field{Key: g.path, Match: filter.NewMatchExceptKeywords(fullStr...)})
	}
	if len(fullInt) > 0 {
		f.Must = append(f.Must, &filter.Field{Key: g.path, Match: filter.NewMatchExceptIntegers(fullInt...)})
	}
	best := g.bestGroups()
	if len(best) < g.limit {
		return f
	}
	var wantStr []string
	var wantInt []int64
	for _, gr := range best {
		if len(gr.hits) >= g.size {
			continue
		}
		switch gr.key.kind {
		case payload.String:
			wantStr = append(wantStr, gr.key.str)
		case payload.Int:
			wantInt = append(wantInt, int64(gr.key.num))
		default:
			return f // a uint64 value has no match condition: keep every point
		}
	}
	want := &filter.Filter{}
	if len(wantStr) > 0 {
		want.Should = append(want.Should, &filter.Field{Key: g.path, Match: filter.NewMatchAnyKeywords(wantStr...)})
	}
	if len(wantInt) > 0 {
		want.Should = append(want.Should, &filter.Field{Key: g.path, Match: filter.NewMatchAnyIntegers(wantInt...)})
	}
	if len(want.Should) > 0 {
		f.Must = append(f.Must, want)
	}
	return f
}

// result returns the best groups with their best hits, the payloads
// projected as sel says.
func (g *grouper) result(sel *selectors) []PointGroup {
	best := g.bestGroups()
	out := make([]PointGroup, len(best))
	for i, gr := range best {
		hits := gr.hits
		slices.SortStableFunc(hits, func(a, b rankedHit) int {
			switch {
			case g.before(a, b):
				return -1
			case g.before(b, a):
				return 1
			}
			return 0
		})
		hits = hits[:min(len(hits), g.size)]
		pg := PointGroup{ID: gr.key.value(), Hits: make([]ScoredPoint, len(hits))}
		for j, h := range hits {
			p := h.p
			if sel.payload {
				p.Payload = sel.project(p.Payload)
			} else {
				p.Payload = payload.Value{}
			}
			pg.Hits[j] = p
		}
		out[i] = pg
	}
	return out
}
