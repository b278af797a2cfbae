package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// groupPayload gives point i a "g" value: mostly one dominant string, a few
// other strings, integers (and the string "1" next to the integer 1),
// multi-valued arrays, uint64 values above MaxInt64, and values that keep a
// point out of every group (a float, an array holding a bool, null, no key).
func groupPayload(i int) payload.Value {
	r := i * 7919 % 100
	var g payload.Value
	switch {
	case r < 50:
		g = payload.StringValue("big")
	case r < 60:
		g = payload.StringValue(fmt.Sprintf("s%d", i%7))
	case r < 67:
		g = payload.IntValue(int64(i % 5))
	case r < 71:
		g = payload.ArrayValue(payload.StringValue(fmt.Sprintf("s%d", i%7)), payload.IntValue(int64(i%5)), payload.StringValue("big"))
	case r < 74:
		g = payload.ArrayValue(payload.StringValue("s1"), payload.StringValue("s1"))
	case r < 77:
		g = payload.UintValue(1<<63 + uint64(i%2))
	case r < 80:
		g = payload.FloatValue(1.5)
	case r < 83:
		g = payload.ArrayValue(payload.StringValue("s2"), payload.BoolValue(true))
	case r < 86:
		g = payload.NullValue()
	case r < 90:
		g = payload.StringValue("1")
	case r < 93:
		g = payload.ArrayValue()
	default:
		return obj("class", i%10, "i", i)
	}
	return obj("class", i%10, "i", i, "g", g)
}

// bruteGroups groups a complete ranking: each point joins the group of each
// distinct string or integer at key (none if some value is of another
// type); groups come in the order of their first point, with their first
// size points.
func bruteGroups(ranking []ScoredPoint, payloads map[PointID]payload.Value, key string, limit, size int) []PointGroup {
	var groups []PointGroup
	find := func(v payload.Value) int {
		for i := range groups {
			if payload.Equal(groups[i].ID, v) {
				return i
			}
		}
		return -1
	}
	seen := map[PointID]bool{}
	for _, p := range ranking {
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		v, ok := payloads[p.ID].Get(key)
		if !ok {
			continue
		}
		vals := []payload.Value{v}
		if v.Kind() == payload.Array {
			vals = v.Array()
		}
		var uniq []payload.Value
		good := true
		for _, x := range vals {
			switch x.Kind() {
			case payload.String, payload.Int, payload.Uint:
			default:
				good = false
			}
			dup := false
			for _, u := range uniq {
				dup = dup || payload.Equal(u, x)
			}
			if !dup {
				uniq = append(uniq, x)
			}
		}
		if !good {
			continue
		}
		for _, x := range uniq {
			gi := find(x)
			if gi < 0 {
				groups = append(groups, PointGroup{ID: x})
				gi = len(groups) - 1
			}
			if len(groups[gi].Hits) < size {
				groups[gi].Hits = append(groups[gi].Hits, p)
			}
		}
	}
	return groups[:min(len(groups), limit)]
}

func requireGroups(t *testing.T, want, got []PointGroup, msg string) {
	t.Helper()
	ids := func(gs []PointGroup) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.ID.String()+fmt.Sprint(g.ID.Kind()))
		}
		return out
	}
	require.Equal(t, ids(want), ids(got), msg)
	for i := range want {
		var w, g []PointID
		for _, h := range want[i].Hits {
			w = append(w, h.ID)
		}
		for _, h := range got[i].Hits {
			g = append(g, h.ID)
		}
		require.Equal(t, w, g, "%s: group %d", msg, i)
		for j := range want[i].Hits {
			require.InDelta(t, want[i].Hits[j].Score, got[i].Hits[j].Score, 1e-6, "%s: group %d hit %d", msg, i, j)
		}
	}
}

func TestQueryGroupsExact(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim = 8
	for mi, m := range extraMetrics {
		coll := "grp_" + m.String()
		ep := setupExtra(t, db, coll, m, dim, 300, uint64(30+mi), groupPayload)
		_, err := db.CreateFieldIndex(bg, coll, "i", payload.IndexParams{Type: payload.TypeInteger}, &WriteOptions{Wait: true})
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(uint64(mi), 5))
		qv := randVec(rng, dim)
		queries := map[string]*Query{
			"nearest vector": {Nearest: &Example{Vector: qv}},
			"nearest id":     {Nearest: refOf(idEx(5))},
			"recommend avg":  {Recommend: &RecommendQuery{Positive: []Example{idEx(7), idEx(8)}, Negative: []Example{idEx(9)}}},
			"recommend best": {Recommend: &RecommendQuery{Positive: []Example{idEx(7)}, Negative: []Example{idEx(9)}, Strategy: BestScore}},
			"discover":       {Discover: &DiscoverQuery{Target: idEx(4), Context: []ContextPair{{Positive: idEx(10), Negative: idEx(11)}}}},
			"context":        {Context: []ContextPair{{Positive: idEx(10), Negative: idEx(11)}, {Positive: idEx(12), Negative: Example{Vector: qv}}}},
			"by id":          nil,
			"order by":       {OrderBy: &OrderBy{Key: "i", Descending: true}},
		}
		f := mustFilter(t, `{"must_not":[{"key":"class","match":{"value":3}}]}`)
		for name, q := range queries {
			for _, shape := range [][2]int{{0, 0}, {3, 2}, {5, 1}, {30, 4}} {
				for _, filt := range []*filter.Filter{nil, f} {
					base := QueryRequest{Query: q, Filter: filt, Exact: true}
					full := base
					full.Limit = 100000
					ranking, err := db.Query(bg, coll, &full)
					require.NoError(t, err)
					limit, size := shape[0], shape[1]
					if limit == 0 {
						limit, size = 10, 3
					}
					want := bruteGroups(ranking, ep.payloads, "g", limit, size)
					req := &GroupsRequest{QueryRequest: base, GroupBy: "g", GroupSize: shape[1]}
					req.Limit = shape[0]
					got, err := db.QueryGroups(bg, coll, req)
					require.NoError(t, err)
					msg := fmt.Sprintf("%s %s limit %d size %d filter %v", m, name, limit, size, filt != nil)
					requireGroups(t, want, got, msg)
					if limit == 3 && size == 2 {
						require.Len(t, got, 3, msg)
					}
				}
			}
		}

		// A score threshold cuts the ranking before grouping.
		full := QueryRequest{Query: queries["nearest vector"], Exact: true, Limit: 100000}
		ranking, err := db.Query(bg, coll, &full)
		require.NoError(t, err)
		thr := ranking[120].Score
		full.ScoreThreshold = &thr
		ranking, err = db.Query(bg, coll, &full)
		require.NoError(t, err)
		req := &GroupsRequest{QueryRequest: QueryRequest{Query: queries["nearest vector"], Exact: true, ScoreThreshold: &thr, Limit: 40}, GroupBy: "g", GroupSize: 6}
		got, err := db.QueryGroups(bg, coll, req)
		require.NoError(t, err)
		requireGroups(t, bruteGroups(ranking, ep.payloads, "g", 40, 6), got, m.String()+" threshold")
	}
}

func refOf[T any](v T) *T { return &v }

func TestQueryGroupsSelectors(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim = 8
	ep := setupExtra(t, db, "sel", distance.Cosine, dim, 300, 3, groupPayload)
	q := &Query{Nearest: &Example{Vector: ep.vecs[numID(1)]}}
	bare, err := db.QueryGroups(bg, "sel", &GroupsRequest{QueryRequest: QueryRequest{Query: q, Exact: true}, GroupBy: "g"})
	require.NoError(t, err)
	require.Len(t, bare, 10)
	withSel, err := db.QueryGroups(bg, "sel", &GroupsRequest{QueryRequest: QueryRequest{Query: q, Exact: true,
		WithPayload: PayloadSelector{Include: []string{"i"}}, WithVectors: AllVectors}, GroupBy: "g"})
	require.NoError(t, err)
	requireGroups(t, bare, withSel, "selectors do not change the groups")
	for gi, g := range withSel {
		for hi, h := range g.Hits {
			require.Equal(t, payload.Null, bare[gi].Hits[hi].Payload.Kind(), "no payload unless asked")
			require.Nil(t, bare[gi].Hits[hi].Vectors)
			i, _ := ep.payloads[h.ID].Get("i")
			require.True(t, payload.Equal(obj("i", i), h.Payload), "payload %s", h.Payload)
			require.Equal(t, distance.Cosine.Preprocess(nil, ep.vecs[h.ID]), h.Vectors[""])
			require.NotZero(t, h.Version)
		}
	}
	_, err = db.QueryGroups(bg, "sel", &GroupsRequest{QueryRequest: QueryRequest{Query: q,
		WithPayload: PayloadSelector{Include: []string{"a["}}}, GroupBy: "g"})
	require.ErrorIs(t, err, ErrBadRequest)
}

// TestQueryGroupsApproximate checks the shape of groups over a graph search
// and a random sample, whose rankings cannot be reproduced.
func TestQueryGroupsApproximate(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim = 8
	ep := setupExtra(t, db, "apx", distance.Euclid, dim, 600, 4, groupPayload)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, q := range []*Query{{Nearest: &Example{Vector: randVec(rng, dim)}}, {Sample: true}} {
		got, err := db.QueryGroups(bg, "apx", &GroupsRequest{QueryRequest: QueryRequest{Query: q, Limit: 8}, GroupBy: "g", GroupSize: 4})
		require.NoError(t, err)
		require.Len(t, got, 8)
		for i, g := range got {
			for _, o := range got[:i] {
				require.False(t, payload.Equal(o.ID, g.ID), "groups are distinct")
			}
			require.NotEmpty(t, g.Hits)
			require.LessOrEqual(t, len(g.Hits), 4)
			seen := map[PointID]bool{}
			for j, h := range g.Hits {
				require.False(t, seen[h.ID])
				seen[h.ID] = true
				v, ok := ep.payloads[h.ID].Get("g")
				require.True(t, ok)
				in := payload.Equal(v, g.ID)
				for _, e := range v.Array() {
					in = in || payload.Equal(e, g.ID)
				}
				require.True(t, in, "hit %s belongs to group %s", h.ID, g.ID)
				if q.Nearest != nil && j > 0 {
					require.LessOrEqual(t, g.Hits[j-1].Score, h.Score, "hits best first")
				}
			}
			if q.Nearest != nil && i > 0 {
				require.LessOrEqual(t, got[i-1].Hits[0].Score, g.Hits[0].Score, "groups by best hit")
			}
		}
	}
}

func TestQueryGroupsErrors(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	setupExtra(t, db, "e", distance.Dot, 8, 200, 1, groupPayload)
	q := QueryRequest{Query: &Query{Nearest: &Example{Vector: make([]float32, 8)}}}
	cases := []struct {
		name string
		req  *GroupsRequest
		is   error
	}{
		{"nil", nil, ErrBadRequest},
		{"no key", &GroupsRequest{QueryRequest: q}, ErrBadRequest},
		{"bad key", &GroupsRequest{QueryRequest: q, GroupBy: "a["}, ErrBadRequest},
		{"negative size", &GroupsRequest{QueryRequest: q, GroupBy: "g", GroupSize: -1}, ErrBadRequest},
		{"negative limit", &GroupsRequest{QueryRequest: QueryRequest{Query: q.Query, Limit: -1}, GroupBy: "g"}, ErrBadRequest},
		{"offset", &GroupsRequest{QueryRequest: QueryRequest{Query: q.Query, Offset: 2}, GroupBy: "g"}, ErrBadRequest},
		{"bad filter", &GroupsRequest{QueryRequest: QueryRequest{Query: q.Query, Filter: &filter.Filter{Must: []filter.Condition{&filter.Field{}}}}, GroupBy: "g"}, ErrBadRequest},
		{"wrong dimension", &GroupsRequest{QueryRequest: QueryRequest{Query: &Query{Nearest: &Example{Vector: []float32{1}}}}, GroupBy: "g"}, ErrBadRequest},
		{"missing example", &GroupsRequest{QueryRequest: QueryRequest{Query: &Query{Nearest: refOf(idEx(99999))}}, GroupBy: "g"}, ErrNotFound},
	}
	for _, tc := range cases {
		_, err := db.QueryGroups(bg, "e", tc.req)
		require.ErrorIs(t, err, tc.is, tc.name)
	}
	_, err := db.QueryGroups(bg, "nope", &GroupsRequest{QueryRequest: q, GroupBy: "g"})
	require.ErrorIs(t, err, ErrNotFound)

	// A key no point has: no groups.
	got, err := db.QueryGroups(bg, "e", &GroupsRequest{QueryRequest: q, GroupBy: "none"})
	require.NoError(t, err)
	require.Empty(t, got)
}
