package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// restSame checks that REST results are the engine's: same ids, order,
// versions and scores.
func restSame(t *testing.T, want []engine.ScoredPoint, got []restOutPoint, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		require.Equal(t, want[i].ID, got[i].pointID(t), "%s: rank %d", msg, i)
		require.NotNil(t, got[i].Score, msg)
		require.InDelta(t, float64(want[i].Score), *got[i].Score, 1e-6, "%s: rank %d", msg, i)
		require.NotNil(t, got[i].Version, msg)
		require.Equal(t, fmt.Sprint(want[i].Version), got[i].Version.String(), msg)
	}
}

// restVectors reads every stored vector of a collection with the unnamed
// vector, for brute-force oracles.
func restVectors(t *testing.T, db *engine.DB, coll string, ids []filter.PointID) map[filter.PointID][]float32 {
	t.Helper()
	recs, err := db.Get(context.Background(), coll, ids, &engine.ReadOptions{WithVectors: engine.AllVectors})
	require.NoError(t, err)
	out := map[filter.PointID][]float32{}
	for _, r := range recs {
		out[r.ID] = r.Vectors[""]
	}
	return out
}

func restDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestRESTSearch(t *testing.T) {
	s := newRESTTest(t, nil)
	ctx := context.Background()
	ids := restTestPoints(t, s, "c", "Dot", 80, 4)
	vecs := restVectors(t, s.db, "c", ids)
	q := []float32{0.3, -0.2, 0.9, 0.1}

	// Exact search against brute force.
	var got []restOutPoint
	restInto(t, s.ok("POST", "/collections/c/points/search", `{"vector": [0.3, -0.2, 0.9, 0.1], "limit": 7, "params": {"exact": true}}`), &got)
	brute := slices.Clone(ids)
	slices.SortStableFunc(brute, func(a, b filter.PointID) int {
		da, db := restDot(vecs[a], q), restDot(vecs[b], q)
		switch {
		case da > db:
			return -1
		case da < db:
			return 1
		}
		return a.Compare(b)
	})
	require.Equal(t, brute[:7], restIDsOf(t, got))
	for i, p := range got {
		require.InDelta(t, restDot(vecs[brute[i]], q), *p.Score, 1e-4)
	}

	// The same requests through the engine are the oracle for the rest.
	f, err := filter.ParseJSON([]byte(`{"must": [{"key": "color", "match": {"value": "blue"}}]}`))
	require.NoError(t, err)
	thr := float32(0.1)
	want, err := s.db.Search(ctx, "c", &engine.SearchRequest{Vector: q, Filter: f, Limit: 5, Offset: 2, ScoreThreshold: &thr, Exact: true,
		WithPayload: engine.AllPayload})
	require.NoError(t, err)
	restInto(t, s.ok("POST", "/collections/c/points/search", `{"vector": [0.3, -0.2, 0.9, 0.1], "limit": 5, "offset": 2,
		"score_threshold": 0.1, "filter": {"must": [{"key": "color", "match": {"value": "blue"}}]}, "with_payload": true,
		"params": {"exact": true, "hnsw_ef": 64, "quantization": {"ignore": true}, "indexed_only": false}}`), &got)
	restSame(t, want, got, "filtered search")
	for _, p := range got {
		require.NotNil(t, p.Payload)
		require.Contains(t, string(*p.Payload), `"color":"blue"`)
		require.Greater(t, *p.Score, 0.1)
	}

	// Batch: each search answers as alone.
	var batch [][]restOutPoint
	restInto(t, s.ok("POST", "/collections/c/points/search/batch", `{"searches": [
		{"vector": [0.3, -0.2, 0.9, 0.1], "limit": 7, "params": {"exact": true}},
		{"vector": [0.3, -0.2, 0.9, 0.1], "limit": 5, "offset": 2, "score_threshold": 0.1, "params": {"exact": true},
		 "filter": {"must": [{"key": "color", "match": {"value": "blue"}}]}}]}`), &batch)
	require.Len(t, batch, 2)
	require.Equal(t, brute[:7], restIDsOf(t, batch[0]))
	restSame(t, want, batch[1], "batch")

	// A large limit is clamped to the collection's size.
	restInto(t, s.ok("POST", "/collections/c/points/search", `{"vector": [0.3, -0.2, 0.9, 0.1], "limit": 18446744073709551615, "params": {"exact": true}}`), &got)
	require.Len(t, got, len(ids))
	restInto(t, s.ok("POST", "/collections/c/points/search", `{"vector": [0.3, -0.2, 0.9, 0.1], "limit": 3, "offset": 1000000000000}`), &got)
	require.Empty(t, got)

	s.fail("POST", "/collections/c/points/search", `{"vector": [1, 2, 3, 4], "limit": 0}`, http.StatusUnprocessableEntity,
		"Validation error in JSON body: [search_request.limit: value 0 invalid, must be 1 or larger]")
	s.fail("POST", "/collections/c/points/search", `{"vector": [1, 2, 3, 4]}`, http.StatusBadRequest, "Format error in JSON body: missing field `limit`")
	s.fail("POST", "/collections/c/points/search", `{"limit": 3}`, http.StatusBadRequest, "Format error in JSON body: missing field `vector`")
	s.fail("POST", "/collections/c/points/search", `{"vector": [], "limit": 3}`, http.StatusBadRequest, "Wrong input: Vector dimension error: expected dim: 4, got 0")
	s.fail("POST", "/collections/c/points/search", `{"vector": [1, 2], "limit": 3}`, http.StatusBadRequest, "Wrong input: ")
	s.fail("POST", "/collections/c/points/search", `{"vector": {"name": "other", "vector": [1, 2, 3, 4]}, "limit": 3}`, http.StatusBadRequest, "Wrong input: ")
	s.fail("POST", "/collections/c/points/search", `{"vector": {"name": "s", "vector": {"indices": [1], "values": [1]}}, "limit": 3}`, http.StatusBadRequest,
		"Wrong input: Not existing vector name error: s")
	s.fail("POST", "/collections/c/points/search", `{"vector": {"name": "s", "vector": {"indices": [1, 1], "values": [1, 1]}}, "limit": 3}`, http.StatusUnprocessableEntity,
		"Validation error in JSON body: [search_request.vector.vector.indices: Validation error: must be unique [{}]]")
	s.fail("POST", "/collections/c/points/search/batch", `{"searches": [{"vector": [1, 2, 3, 4], "limit": 1}, {"vector": [1, 2, 3, 4], "limit": 0}]}`,
		http.StatusUnprocessableEntity, "Validation error in JSON body: [searches[1].search_request.limit: ")
	s.fail("POST", "/collections/nope/points/search", `{"vector": [1, 2, 3, 4], "limit": 3}`, http.StatusNotFound, "Not found: ")
}

func TestRESTQuery(t *testing.T) {
	s := newRESTTest(t, nil)
	ctx := context.Background()
	ids := restTestPoints(t, s, "c", "Cosine", 60, 5)
	q := []float32{0.1, 0.7, -0.3, 0.2}

	query := func(body string) []restOutPoint {
		t.Helper()
		var res struct {
			Points []restOutPoint `json:"points"`
		}
		restInto(t, s.ok("POST", "/collections/c/points/query", body), &res)
		require.NotNil(t, res.Points)
		return res.Points
	}
	engineQuery := func(req engine.QueryRequest) []engine.ScoredPoint {
		t.Helper()
		res, err := s.db.Query(ctx, "c", &req)
		require.NoError(t, err)
		return res
	}

	// A bare vector, and {"nearest": ...}.
	want := engineQuery(engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}, Limit: 6, Exact: true})
	restSame(t, want, query(`{"query": [0.1, 0.7, -0.3, 0.2], "limit": 6, "params": {"exact": true}}`), "bare vector")
	restSame(t, want, query(`{"query": {"nearest": [0.1, 0.7, -0.3, 0.2]}, "limit": 6, "params": {"exact": true}}`), "nearest")
	// Defaults: limit 10, no payload, no vectors.
	def := query(`{"query": [0.1, 0.7, -0.3, 0.2], "params": {"exact": true}}`)
	require.Len(t, def, 10)
	require.Nil(t, def[0].Payload)
	require.Nil(t, def[0].Vector)

	// By point id: the point itself is excluded.
	id := ids[3]
	want = engineQuery(engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{ID: &id}}, Limit: 5, Exact: true})
	got := query(`{"query": ` + string(id.AppendJSON(nil)) + `, "limit": 5, "params": {"exact": true}, "with_vector": true}`)
	restSame(t, want, got, "by id")
	require.NotContains(t, restIDsOf(t, got), id)
	var v []float64
	require.NoError(t, json.Unmarshal(*got[0].Vector, &v))
	norm := 0.0
	for _, x := range v {
		norm += x * x
	}
	require.InDelta(t, 1, norm, 1e-5, "Cosine vectors come back normalised")

	// Recommend.
	pos, neg := ids[0], ids[1]
	for _, strategy := range []engine.RecommendStrategy{engine.AverageVector, engine.BestScore, engine.SumScores} {
		want = engineQuery(engine.QueryRequest{Query: &engine.Query{Recommend: &engine.RecommendQuery{
			Positive: []engine.Example{{ID: &pos}, {Vector: q}}, Negative: []engine.Example{{ID: &neg}}, Strategy: strategy}}, Limit: 5, Exact: true})
		got = query(fmt.Sprintf(`{"query": {"recommend": {"positive": [%s, [0.1, 0.7, -0.3, 0.2]], "negative": [%s], "strategy": %q}}, "limit": 5, "params": {"exact": true}}`,
			pos.AppendJSON(nil), neg.AppendJSON(nil), strategy))
		restSame(t, want, got, string(strategy))
		require.NotContains(t, restIDsOf(t, got), pos)
		require.NotContains(t, restIDsOf(t, got), neg)
	}

	// Discover and context.
	pair := fmt.Sprintf(`{"positive": %s, "negative": %s}`, ids[4].AppendJSON(nil), ids[5].AppendJSON(nil))
	p4, p5 := ids[4], ids[5]
	want = engineQuery(engine.QueryRequest{Query: &engine.Query{Discover: &engine.DiscoverQuery{Target: engine.Example{Vector: q},
		Context: []engine.ContextPair{{Positive: engine.Example{ID: &p4}, Negative: engine.Example{ID: &p5}}}}}, Limit: 5, Exact: true})
	restSame(t, want, query(`{"query": {"discover": {"target": [0.1, 0.7, -0.3, 0.2], "context": [`+pair+`]}}, "limit": 5, "params": {"exact": true}}`), "discover")
	want = engineQuery(engine.QueryRequest{Query: &engine.Query{Context: []engine.ContextPair{{Positive: engine.Example{ID: &p4}, Negative: engine.Example{ID: &p5}}}},
		Limit: 5, Exact: true})
	restSame(t, want, query(`{"query": {"context": `+pair+`}, "limit": 5, "params": {"exact": true}}`), "context")

	// No query: points by id, as a scroll.
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, func(a, b filter.PointID) int { return a.Compare(b) })
	require.Equal(t, sorted[2:9], restIDsOf(t, query(`{"limit": 7, "offset": 2}`)))

	// order_by.
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "price", "field_schema": "float"}`)
	got = query(`{"query": {"order_by": {"key": "price", "direction": "desc"}}, "limit": 8, "with_payload": ["price"]}`)
	require.Len(t, got, 8)
	prev := math.Inf(1)
	for _, p := range got {
		require.NotNil(t, p.OrderValue)
		var ov float64
		require.NoError(t, json.Unmarshal(*p.OrderValue, &ov))
		pv, err := payload.ParseJSON(*p.Payload)
		require.NoError(t, err)
		price, _ := pv.Get("price")
		f, _ := price.Number()
		require.Equal(t, f, ov)
		require.LessOrEqual(t, ov, prev)
		prev = ov
	}

	// Sample: distinct points of the collection.
	got = query(`{"query": {"sample": "random"}, "limit": 12}`)
	require.Len(t, got, 12)
	seen := map[filter.PointID]bool{}
	for _, id := range restIDsOf(t, got) {
		require.Contains(t, ids, id)
		require.False(t, seen[id])
		seen[id] = true
	}

	// Batch.
	var batch []struct {
		Points []restOutPoint `json:"points"`
	}
	restInto(t, s.ok("POST", "/collections/c/points/query/batch", `{"searches": [{"limit": 3}, {"query": [0.1, 0.7, -0.3, 0.2], "limit": 2, "params": {"exact": true}}]}`), &batch)
	require.Len(t, batch, 2)
	require.Equal(t, sorted[:3], restIDsOf(t, batch[0].Points))
	want = engineQuery(engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}, Limit: 2, Exact: true})
	restSame(t, want, batch[1].Points, "query batch")

	// What qlite does not have is refused naming it.
	unsupported := []struct{ body, feature string }{
		{`{"query": [1, 2, 3, 4], "shard_key": "a"}`, "custom sharding"},
	}
	for _, u := range unsupported {
		msg := s.fail("POST", "/collections/c/points/query", u.body, http.StatusBadRequest, "Wrong input: ")
		require.Contains(t, msg, u.feature, u.body)
		require.Contains(t, msg, "not supported", u.body)
	}
	s.fail("POST", "/collections/c/points/query", `{"query": {"sample": "first"}}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/c/points/query", `{"query": {"discover": {"context": []}}}`, http.StatusBadRequest, "Format error in JSON body: missing field `target`")
	s.fail("POST", "/collections/c/points/query", `{"query": true}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/c/points/query", `{"limit": 0}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [internal.limit: ")
	s.fail("POST", "/collections/c/points/query", `{"query": 123456789}`, http.StatusNotFound, "Not found: No point with id 123456789 found")
	s.fail("POST", "/collections/c/points/query/batch", `{}`, http.StatusBadRequest, "Format error in JSON body: missing field `searches`")
	s.fail("POST", "/collections/c/points/query/batch", `{"searches": [{}, {"query": {"fusion": "rrf"}}]}`, http.StatusBadRequest, "Wrong input: Validation failed: cannot apply Fusion without prefetches")
}

func TestRESTRecommendAndDiscover(t *testing.T) {
	s := newRESTTest(t, nil)
	ctx := context.Background()
	ids := restTestPoints(t, s, "c", "Euclid", 50, 6)
	a, b, c := ids[0], ids[1], ids[2]
	js := func(id filter.PointID) string { return string(id.AppendJSON(nil)) }

	want, err := s.db.Recommend(ctx, "c", &engine.RecommendRequest{Positive: []engine.Example{{ID: &a}, {ID: &b}}, Negative: []engine.Example{{ID: &c}},
		Limit: 4, Offset: 1, Exact: true, WithPayload: engine.AllPayload})
	require.NoError(t, err)
	var got []restOutPoint
	restInto(t, s.ok("POST", "/collections/c/points/recommend", fmt.Sprintf(`{"positive": [%s, %s], "negative": [%s], "limit": 4, "offset": 1,
		"params": {"exact": true}, "with_payload": true}`, js(a), js(b), js(c))), &got)
	restSame(t, want, got, "recommend")
	require.NotNil(t, got[0].Payload)

	want2, err := s.db.Recommend(ctx, "c", &engine.RecommendRequest{Positive: []engine.Example{{Vector: []float32{1, 0, 0, 0}}}, Strategy: engine.BestScore,
		Limit: 3, Exact: true})
	require.NoError(t, err)
	var batch [][]restOutPoint
	restInto(t, s.ok("POST", "/collections/c/points/recommend/batch", fmt.Sprintf(`{"searches": [
		{"positive": [%s, %s], "negative": [%s], "limit": 4, "offset": 1, "params": {"exact": true}},
		{"positive": [[1, 0, 0, 0]], "strategy": "best_score", "limit": 3, "params": {"exact": true}}]}`, js(a), js(b), js(c))), &batch)
	require.Len(t, batch, 2)
	restSame(t, want, batch[0], "recommend batch 0")
	restSame(t, want2, batch[1], "recommend batch 1")

	s.fail("POST", "/collections/c/points/recommend", `{"limit": 3}`, http.StatusBadRequest, "Wrong input: ")
	s.fail("POST", "/collections/c/points/recommend", `{"positive": [1], "limit": 3, "strategy": "vibes"}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/c/points/recommend", `{"positive": [`+js(a)+`]}`, http.StatusBadRequest, "Format error in JSON body: missing field `limit`")

	// Discover with a target, and without one (a context query).
	d, e := ids[3], ids[4]
	ctxPair := []engine.ContextPair{{Positive: engine.Example{ID: &d}, Negative: engine.Example{ID: &e}}}
	wantD, err := s.db.Query(ctx, "c", &engine.QueryRequest{Query: &engine.Query{Discover: &engine.DiscoverQuery{Target: engine.Example{ID: &a}, Context: ctxPair}},
		Limit: 5, Exact: true})
	require.NoError(t, err)
	wantC, err := s.db.Query(ctx, "c", &engine.QueryRequest{Query: &engine.Query{Context: ctxPair}, Limit: 5, Exact: true})
	require.NoError(t, err)
	pair := fmt.Sprintf(`[{"positive": %s, "negative": %s}]`, js(d), js(e))
	restInto(t, s.ok("POST", "/collections/c/points/discover", `{"target": `+js(a)+`, "context": `+pair+`, "limit": 5, "params": {"exact": true}}`), &got)
	restSame(t, wantD, got, "discover")
	restInto(t, s.ok("POST", "/collections/c/points/discover/batch", `{"searches": [
		{"target": `+js(a)+`, "context": `+pair+`, "limit": 5, "params": {"exact": true}},
		{"context": `+pair+`, "limit": 5, "params": {"exact": true}}]}`), &batch)
	restSame(t, wantD, batch[0], "discover batch 0")
	restSame(t, wantC, batch[1], "discover batch 1")
	s.fail("POST", "/collections/c/points/discover", `{"target": `+js(a)+`, "context": [{"positive": 1}], "limit": 5}`, http.StatusBadRequest,
		"Format error in JSON body: missing field `negative`")
}

func TestRESTGroups(t *testing.T) {
	s := newRESTTest(t, nil)
	ctx := context.Background()
	restTestPoints(t, s, "c", "Dot", 70, 7)
	s.ok("PUT", "/collections/lookup", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/lookup/points?wait=true", `{"points": [{"id": 3, "vector": [1, 0], "payload": {"name": "three"}},
		{"id": 7, "vector": [0, 1], "payload": {"name": "seven"}}]}`)
	q := []float32{0.5, 0.5, -0.1, 0.2}

	type group struct {
		ID     json.RawMessage `json:"id"`
		Hits   []restOutPoint  `json:"hits"`
		Lookup *restOutPoint   `json:"lookup"`
	}
	check := func(want []engine.PointGroup, got []group, msg string) {
		t.Helper()
		require.Len(t, got, len(want), msg)
		for i := range want {
			require.Equal(t, want[i].ID.String(), string(got[i].ID), msg)
			restSame(t, want[i].Hits, got[i].Hits, msg)
		}
	}
	groupsOf := func(req engine.GroupsRequest) []engine.PointGroup {
		t.Helper()
		res, err := s.db.QueryGroups(ctx, "c", &req)
		require.NoError(t, err)
		return res
	}
	var res struct{ Groups []group }

	want := groupsOf(engine.GroupsRequest{QueryRequest: engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}, Limit: 4, Exact: true},
		GroupBy: "n", GroupSize: 2})
	restInto(t, s.ok("POST", "/collections/c/points/search/groups", `{"vector": [0.5, 0.5, -0.1, 0.2], "group_by": "n", "group_size": 2, "limit": 4,
		"params": {"exact": true}}`), &res)
	check(want, res.Groups, "search groups")
	for _, g := range res.Groups {
		require.Nil(t, g.Lookup)
	}
	// Every value of n has a group with limit 20; groups 3 and 7 find
	// their points in the lookup collection.
	res.Groups = nil
	restInto(t, s.ok("POST", "/collections/c/points/search/groups", `{"vector": [0.5, 0.5, -0.1, 0.2], "group_by": "n", "group_size": 1, "limit": 20,
		"params": {"exact": true}, "with_lookup": "lookup"}`), &res)
	found := 0
	for _, g := range res.Groups {
		switch string(g.ID) {
		case "3", "7":
			require.NotNil(t, g.Lookup, "group %s", g.ID)
			require.Equal(t, string(g.ID), string(g.Lookup.ID))
			require.Contains(t, string(*g.Lookup.Payload), "name")
			require.Nil(t, g.Lookup.Vector)
			found++
		default:
			require.Nil(t, g.Lookup, "group %s", g.ID)
		}
	}
	require.Equal(t, 2, found)

	res.Groups = nil
	want = groupsOf(engine.GroupsRequest{QueryRequest: engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}, Exact: true,
		WithPayload: engine.AllPayload}, GroupBy: "color"})
	restInto(t, s.ok("POST", "/collections/c/points/query/groups", `{"query": [0.5, 0.5, -0.1, 0.2], "group_by": "color", "with_payload": true,
		"params": {"exact": true}, "with_lookup": {"collection": "lookup", "with_payload": false, "with_vectors": true}}`), &res)
	check(want, res.Groups, "query groups (defaults)")
	for _, g := range res.Groups {
		require.LessOrEqual(t, len(g.Hits), 3, "default group size")
		require.NotNil(t, g.Hits[0].Payload)
		require.Nil(t, g.Lookup, "string group ids are not UUIDs here")
	}

	res.Groups = nil
	want = groupsOf(engine.GroupsRequest{QueryRequest: engine.QueryRequest{Query: &engine.Query{Recommend: &engine.RecommendQuery{
		Positive: []engine.Example{{Vector: q}}}}, Limit: 3, Exact: true}, GroupBy: "tags", GroupSize: 4})
	restInto(t, s.ok("POST", "/collections/c/points/recommend/groups", `{"positive": [[0.5, 0.5, -0.1, 0.2]], "group_by": "tags", "group_size": 4,
		"limit": 3, "params": {"exact": true}}`), &res)
	check(want, res.Groups, "recommend groups")

	s.fail("POST", "/collections/c/points/search/groups", `{"vector": [1, 2, 3, 4], "group_by": "n", "limit": 3}`, http.StatusBadRequest,
		"Format error in JSON body: missing field `group_size`")
	s.fail("POST", "/collections/c/points/search/groups", `{"vector": [1, 2, 3, 4], "group_by": "n", "limit": 3, "group_size": 0}`,
		http.StatusUnprocessableEntity, "Validation error in JSON body: [search_group_request.group_request.group_size: ")
	s.fail("POST", "/collections/c/points/query/groups", `{"query": [1, 2, 3, 4]}`, http.StatusBadRequest, "Format error in JSON body: missing field `group_by`")
	s.fail("POST", "/collections/c/points/query/groups", `{"query": [1, 2, 3, 4], "group_by": ""}`, http.StatusBadRequest, "Format error in JSON body: Invalid json path: '' at line 1 column 39")
	s.fail("POST", "/collections/c/points/query/groups", `{"query": [1, 2, 3, 4], "group_by": "n", "with_lookup": "nope"}`, http.StatusNotFound, "Not found: ")
}

func TestRESTSearchMatrix(t *testing.T) {
	s := newRESTTest(t, nil)
	ctx := context.Background()
	ids := restTestPoints(t, s, "c", "Dot", 12, 8)
	// With a sample at least as large as the collection every point is
	// sampled, so the answer is determined: the engine's, and brute force.
	want, err := s.db.SearchMatrix(ctx, "c", &engine.MatrixRequest{Sample: 50, Limit: 2})
	require.NoError(t, err)
	require.Len(t, want.IDs, len(ids))

	var pairs struct {
		Pairs []struct {
			A, B  json.RawMessage
			Score float64
		}
	}
	restInto(t, s.ok("POST", "/collections/c/points/search/matrix/pairs", `{"sample": 50, "limit": 2}`), &pairs)
	require.Len(t, pairs.Pairs, len(want.Pairs))
	vecs := restVectors(t, s.db, "c", ids)
	for i, p := range pairs.Pairs {
		var a, b filter.PointID
		require.NoError(t, a.UnmarshalJSON(p.A))
		require.NoError(t, b.UnmarshalJSON(p.B))
		require.Equal(t, want.Pairs[i].A, a)
		require.Equal(t, want.Pairs[i].B, b)
		require.InDelta(t, float64(want.Pairs[i].Score), p.Score, 1e-6)
		require.InDelta(t, restDot(vecs[a], vecs[b]), p.Score, 1e-4)
	}

	var off struct {
		OffsetsRow []int             `json:"offsets_row"`
		OffsetsCol []int             `json:"offsets_col"`
		Scores     []float64         `json:"scores"`
		IDs        []json.RawMessage `json:"ids"`
	}
	restInto(t, s.ok("POST", "/collections/c/points/search/matrix/offsets", `{"sample": 50, "limit": 2}`), &off)
	require.Len(t, off.IDs, len(want.IDs))
	require.Len(t, off.OffsetsRow, len(want.Pairs))
	require.Len(t, off.OffsetsCol, len(want.Pairs))
	require.Len(t, off.Scores, len(want.Pairs))
	for i := range off.Scores {
		var a, b filter.PointID
		require.NoError(t, a.UnmarshalJSON(off.IDs[off.OffsetsRow[i]]))
		require.NoError(t, b.UnmarshalJSON(off.IDs[off.OffsetsCol[i]]))
		require.Equal(t, want.Pairs[i].A, a)
		require.Equal(t, want.Pairs[i].B, b)
		require.InDelta(t, float64(want.Pairs[i].Score), off.Scores[i], 1e-6)
	}

	// Defaults (sample 10, limit 3) and a filter.
	restInto(t, s.ok("POST", "/collections/c/points/search/matrix/pairs", `{"filter": {"must": [{"key": "color", "match": {"value": "red"}}]}}`), &pairs)
	for _, p := range pairs.Pairs {
		var a filter.PointID
		require.NoError(t, a.UnmarshalJSON(p.A))
		recs, err := s.db.Get(ctx, "c", []filter.PointID{a}, &engine.ReadOptions{WithPayload: engine.AllPayload})
		require.NoError(t, err)
		color, _ := recs[0].Payload.Get("color")
		require.Equal(t, `"red"`, color.String())
	}
	s.fail("POST", "/collections/c/points/search/matrix/pairs", `{"sample": 1}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [search_request.sample: value 1 invalid, must be 2 or larger]")
	s.fail("POST", "/collections/c/points/search/matrix/offsets", `{"limit": 0}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [search_request.limit: ")
	s.fail("POST", "/collections/c/points/search/matrix/pairs", `{"using": "zz"}`, http.StatusBadRequest, "Wrong input: Vector with name zz is not configured in this collection")
}

// TestRESTQueryPlanHeader checks the Qlite-Query-Plan header: present only
// when asked for, and holding the figures the engine reports for the same
// query.
func TestRESTQueryPlanHeader(t *testing.T) {
	s := newRESTTest(t, nil)
	restTestPoints(t, s, "c", "Cosine", 50, 3)
	post := func(body string, explain bool) (int, http.Header) {
		t.Helper()
		req, err := http.NewRequest("POST", s.srv.URL+"/collections/c/points/query", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if explain {
			req.Header.Set("Qlite-Explain", "1")
		}
		resp, err := s.srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	plan := func(h http.Header) map[string]any {
		t.Helper()
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(h.Get("Qlite-Query-Plan")), &m), "%q", h.Get("Qlite-Query-Plan"))
		return m
	}

	code, h := post(`{"query": [0.1, 0.7, -0.3, 0.2], "limit": 4, "params": {"exact": true}}`, false)
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, h.Values("Qlite-Query-Plan"), "not asked for")

	// An exact query scores every point.
	code, h = post(`{"query": [0.1, 0.7, -0.3, 0.2], "limit": 4, "params": {"exact": true}}`, true)
	require.Equal(t, http.StatusOK, code)
	m := plan(h)
	require.Equal(t, "exact", m["qlite.plan"])
	require.EqualValues(t, 50, m["qlite.vectors_scored"])
	require.EqualValues(t, 4, m["qlite.limit"])
	require.NotContains(t, m, "qlite.filter.estimated_cardinality")

	// A filtered one reports the filter's figures, as the engine does.
	body := `{"query": [0.1, 0.7, -0.3, 0.2], "limit": 3, "filter": {"must": [{"key": "color", "match": {"value": "red"}}]}}`
	var st engine.SearchStats
	_, err := s.db.Query(context.Background(), "c", &engine.QueryRequest{
		Query: &engine.Query{Nearest: &engine.Example{Vector: []float32{0.1, 0.7, -0.3, 0.2}}}, Limit: 3,
		Filter: mustParseFilter(t, `{"must": [{"key": "color", "match": {"value": "red"}}]}`), Stats: &st})
	require.NoError(t, err)
	code, h = post(body, true)
	require.Equal(t, http.StatusOK, code)
	m = plan(h)
	require.Equal(t, st.Plan, m["qlite.plan"])
	require.EqualValues(t, st.Scored, m["qlite.vectors_scored"])
	require.EqualValues(t, st.Estimated, m["qlite.filter.estimated_cardinality"])

	// A query that searches no vectors says so; a failed one has no plan.
	code, h = post(`{"query": {"sample": "random"}, "limit": 2}`, true)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"qlite.segments": 0.0}, plan(h))
	code, h = post(`{"query": [1, 2], "limit": 2}`, true)
	require.Equal(t, http.StatusBadRequest, code)
	require.Empty(t, h.Values("Qlite-Query-Plan"))
}
