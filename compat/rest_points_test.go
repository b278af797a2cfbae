package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// restOutPoint is a Record or ScoredPoint with its parts kept raw.
type restOutPoint struct {
	ID         json.RawMessage  `json:"id"`
	Version    *json.Number     `json:"version"`
	Score      *float64         `json:"score"`
	Payload    *json.RawMessage `json:"payload"`
	Vector     *json.RawMessage `json:"vector"`
	OrderValue *json.RawMessage `json:"order_value"`
}

// pointID parses the id of an answer exactly.
func (p restOutPoint) pointID(t *testing.T) filter.PointID {
	t.Helper()
	var id filter.PointID
	require.NoError(t, id.UnmarshalJSON(p.ID), "%s", p.ID)
	return id
}

func restIDsOf(t *testing.T, ps []restOutPoint) []filter.PointID {
	out := make([]filter.PointID, len(ps))
	for i, p := range ps {
		out[i] = p.pointID(t)
	}
	return out
}

func TestRESTPointIDsExact(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	// 2^53+1 and 2^64-1 cannot pass through float64; the UUID is given in
	// the simple upper-case form and comes back canonical.
	s.ok("PUT", "/collections/c/points?wait=true", `{"points": [
		{"id": 9007199254740993, "vector": [1, 0], "payload": {"big": 9007199254740993, "max": 18446744073709551615, "neg": -9223372036854775808, "i": 1, "f": 1.0, "g": 2.5e-8}},
		{"id": 18446744073709551615, "vector": [0, 1]},
		{"id": "550E8400E29B41D4A716446655440000", "vector": [1, 1]}]}`)

	raw := s.ok("POST", "/collections/c/points", `{"ids": [18446744073709551615, 9007199254740993, "550e8400-e29b-41d4-a716-446655440000", 9007199254740992], "with_payload": true}`)
	var recs []restOutPoint
	restInto(t, raw, &recs)
	require.Len(t, recs, 3)
	require.Equal(t, "18446744073709551615", string(recs[0].ID))
	require.Equal(t, "9007199254740993", string(recs[1].ID))
	require.Equal(t, `"550e8400-e29b-41d4-a716-446655440000"`, string(recs[2].ID))

	p, err := payload.ParseJSON(*recs[1].Payload)
	require.NoError(t, err)
	want, err := payload.ParseJSON([]byte(`{"big": 9007199254740993, "max": 18446744073709551615, "neg": -9223372036854775808, "i": 1, "f": 1.0, "g": 2.5e-8}`))
	require.NoError(t, err)
	require.True(t, payload.Equal(want, p), "%s", *recs[1].Payload)
	f, _ := p.Get("f")
	require.Equal(t, payload.Float, f.Kind(), "a float payload value stays a float")
	i, _ := p.Get("i")
	require.Equal(t, payload.Int, i.Kind(), "an integer payload value stays an integer")

	// Through the URL path, scroll offsets and next_page_offset too.
	var one restOutPoint
	restInto(t, s.ok("GET", "/collections/c/points/18446744073709551615", ""), &one)
	require.Equal(t, "18446744073709551615", string(one.ID))
	require.JSONEq(t, `[0, 1]`, string(*one.Vector))
	require.JSONEq(t, `{}`, string(*one.Payload))
	var page struct {
		Points         []restOutPoint  `json:"points"`
		NextPageOffset json.RawMessage `json:"next_page_offset"`
	}
	restInto(t, s.ok("POST", "/collections/c/points/scroll", `{"limit": 1, "offset": 9007199254740993}`), &page)
	require.Equal(t, "9007199254740993", string(page.Points[0].ID))
	require.Equal(t, "18446744073709551615", string(page.NextPageOffset))

	// Bad ids.
	s.fail("POST", "/collections/c/points", `{"ids": [-1]}`, http.StatusBadRequest, "Format error in JSON body: value -1 is not a valid point ID")
	s.fail("POST", "/collections/c/points", `{"ids": ["42"]}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/c/points", `{"ids": [1.5]}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/c/points", `{}`, http.StatusBadRequest, "Format error in JSON body: missing field `ids`")
	s.fail("GET", "/collections/c/points/abc", "", http.StatusBadRequest, `Wrong input: Can not recognize "abc" as point id`)
	s.fail("GET", "/collections/c/points/77", "", http.StatusNotFound, "Not found: Point with id 77 does not exists!")
	s.fail("GET", "/collections/nope/points/77", "", http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
}

func TestRESTUpsertForms(t *testing.T) {
	s := newRESTTest(t, nil)
	ctx := context.Background()
	s.ok("PUT", "/collections/list", `{"vectors": {"a": {"size": 2, "distance": "Dot"}, "b": {"size": 3, "distance": "Euclid"}}}`)
	s.ok("PUT", "/collections/batch", `{"vectors": {"a": {"size": 2, "distance": "Dot"}, "b": {"size": 3, "distance": "Euclid"}}}`)

	var res struct {
		OperationID uint64 `json:"operation_id"`
		Status      string `json:"status"`
	}
	restInto(t, s.ok("PUT", "/collections/list/points?wait=true", `{"points": [
		{"id": 1, "vector": {"a": [1, 2], "b": [1, 2, 3]}, "payload": {"k": "x"}},
		{"id": 2, "vector": {"a": [3, 4], "b": [4, 5, 6]}, "payload": null},
		{"id": 3, "vector": {"a": [5, 6], "b": [7, 8, 9]}}]}`), &res)
	require.Equal(t, "completed", res.Status)
	restInto(t, s.ok("PUT", "/collections/batch/points", `{"batch": {"ids": [1, 2, 3],
		"vectors": {"a": [[1, 2], [3, 4], [5, 6]], "b": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}, "payloads": [{"k": "x"}, null, null]}}`), &res)
	require.Equal(t, "acknowledged", res.Status)

	// Both forms store the same points (the engine's own reads are the
	// oracle).
	ids := []filter.PointID{filter.NumID(1), filter.NumID(2), filter.NumID(3)}
	ro := &engine.ReadOptions{WithPayload: engine.AllPayload, WithVectors: engine.AllVectors}
	a, err := s.db.Get(ctx, "list", ids, ro)
	require.NoError(t, err)
	b, err := s.db.Get(ctx, "batch", ids, ro)
	require.NoError(t, err)
	require.Len(t, a, 3)
	require.Equal(t, len(a), len(b))
	for i := range a {
		require.Equal(t, a[i].ID, b[i].ID)
		require.Equal(t, a[i].Vectors, b[i].Vectors)
		require.True(t, payload.Equal(a[i].Payload, b[i].Payload), "%v %v", a[i].Payload, b[i].Payload)
	}
	require.Equal(t, []float32{1, 2}, a[0].Vectors["a"])

	// A point may lack some named vectors, or all of them.
	s.ok("PUT", "/collections/list/points?wait=true", `{"points": [{"id": 2, "vector": {"a": [3, 4]}}, {"id": 3, "vector": {}}]}`)
	a, err = s.db.Get(ctx, "list", ids, ro)
	require.NoError(t, err)
	require.NotContains(t, a[1].Vectors, "b")
	require.Empty(t, a[2].Vectors)

	// update_mode and update_filter.
	s.ok("PUT", "/collections/list/points?wait=true", `{"points": [{"id": 1, "vector": {"a": [9, 9]}}, {"id": 4, "vector": {"a": [4, 4]}}], "update_mode": "insert_only"}`)
	got, err := s.db.Get(ctx, "list", []filter.PointID{filter.NumID(1), filter.NumID(4)}, ro)
	require.NoError(t, err)
	require.Equal(t, []float32{1, 2}, got[0].Vectors["a"], "insert_only leaves existing points")
	require.Equal(t, []float32{4, 4}, got[1].Vectors["a"])
	s.ok("PUT", "/collections/list/points?wait=true", `{"points": [{"id": 4, "vector": {"a": [5, 5]}}, {"id": 5, "vector": {"a": [5, 5]}}], "update_mode": "update_only"}`)
	got, err = s.db.Get(ctx, "list", []filter.PointID{filter.NumID(4), filter.NumID(5)}, ro)
	require.NoError(t, err)
	require.Len(t, got, 1, "update_only inserts nothing")
	require.Equal(t, []float32{5, 5}, got[0].Vectors["a"])
	s.ok("PUT", "/collections/list/points?wait=true", `{"points": [{"id": 1, "vector": {"a": [7, 7]}}, {"id": 2, "vector": {"a": [7, 7]}}],
		"update_filter": {"must": [{"key": "k", "match": {"value": "x"}}]}}`)
	got, err = s.db.Get(ctx, "list", []filter.PointID{filter.NumID(1), filter.NumID(2)}, ro)
	require.NoError(t, err)
	require.Equal(t, []float32{7, 7}, got[0].Vectors["a"])
	require.Equal(t, []float32{3, 4}, got[1].Vectors["a"], "update_filter leaves points that do not match")

	// Errors, with the field named.
	s.ok("PUT", "/collections/plain", `{"vectors": {"size": 3, "distance": "Cosine"}}`)
	cases := []struct {
		body   string
		code   int
		prefix string
	}{
		{`{"points": [{"id": 1, "vector": [1, 2]}]}`, 400, "Wrong input: Vector dimension error: expected dim: 3, got 2"},
		{`{"points": [{"id": 1, "vector": []}]}`, 422, "Validation error in JSON body: [points[0].vector: "},
		{`{"points": [{"id": 1, "vector": [[1, 2, 3], [4, 5, 6]]}]}`, 400, "Wrong input: Conversion between multi and regular vectors failed"},
		{`{"points": [{"id": 1, "vector": {"s": {"indices": [1], "values": [0.5]}}}]}`, 400, "Wrong input: Not existing vector name error: s"},
		{`{"points": [{"id": 1, "vector": {"s": {"indices": [1, 1], "values": [0.5, 1]}}}]}`, 422, "Validation error in JSON body: [points[0].vector.?.indices: Validation error: must be unique [{}]]"},
		{`{"points": [{"id": 1, "vector": {"text": "hello", "model": "qdrant/bm25"}}]}`, 400, "Bad request: Sparse vector from document inference should be named"},
		{`{"points": [{"id": 1, "vector": {"text": "hello", "model": "bm25"}}]}`, 500, "Service internal error: InferenceService URL not configured"},
		{`{"points": [{"id": 1, "vector": {"x": {"image": "u", "model": "clip"}}}]}`, 500, "Service internal error: InferenceService URL not configured"},
		{`{"points": [{"id": 1}]}`, 400, "Format error in JSON body: missing field `vector`"},
		{`{"points": [{"vector": [1, 2, 3]}]}`, 400, "Format error in JSON body: missing field `id`"},
		{`{"points": [{"id": "nope", "vector": [1, 2, 3]}]}`, 400, "Format error in JSON body: "},
		{`{"points": [{"id": 1, "vector": [1, 2, "x"]}]}`, 400, "Format error in JSON body: data did not match any variant of untagged enum VectorStruct"},
		{`{"points": [{"id": 1, "vector": [1, 2, 3], "payload": [1]}]}`, 400, "Format error in JSON body: "},
		{`{"points": [{"id": 1, "vector": [1, 2, 3]}], "update_mode": "sometimes"}`, 400, "Format error in JSON body: unknown variant"},
		{`{"points": [{"id": 1, "vector": [1, 2, 3]}], "shard_key": "k"}`, 400, "Wrong input: shard_key (custom sharding) is not supported"},
		{`{"batch": {"ids": [1, 2], "vectors": [[1, 2, 3]]}}`, 422, "Validation error in JSON body: [batch.batch: number of ids and vectors must be equal (2 != 1)]"},
		{`{"batch": {"ids": [1], "vectors": [[1, 2, 3]], "payloads": [{}, {}]}}`, 422, "Validation error in JSON body: [batch.batch: number of ids and payloads must be equal (1 != 2)]"},
		{`{"batch": {"ids": [1], "vectors": [[[1, 2, 3]]]}}`, 400, "Wrong input: Conversion between multi and regular vectors failed"},
		{`{}`, 400, "Format error in JSON body: data did not match any variant of untagged enum PointInsertOperations"},
		{`{"points": [{"id": 1, "vector": {"nope": [1, 2, 3]}}]}`, 400, "Wrong input: Not existing vector name error: nope"},
	}
	for _, c := range cases {
		s.fail("PUT", "/collections/plain/points", c.body, c.code, c.prefix)
	}
	var cnt struct{ Count int }
	restInto(t, s.ok("POST", "/collections/plain/points/count", `{}`), &cnt)
	require.Zero(t, cnt.Count, "failed upserts write nothing")
	s.fail("PUT", "/collections/nope/points", `{"points": []}`, http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
}

func TestRESTWithPayloadAndVector(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/u", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/n", `{"vectors": {"a": {"size": 2, "distance": "Dot"}, "b": {"size": 2, "distance": "Dot"}}}`)
	pl := `{"x": 1, "y": {"z": 2, "w": 3}, "s": "t"}`
	s.ok("PUT", "/collections/u/points?wait=true", `{"points": [{"id": 1, "vector": [0.5, 1], "payload": `+pl+`}]}`)
	s.ok("PUT", "/collections/n/points?wait=true", `{"points": [{"id": 1, "vector": {"a": [1, 2], "b": [3, 4]}, "payload": `+pl+`}]}`)

	get := func(coll, body string) restOutPoint {
		t.Helper()
		var recs []restOutPoint
		restInto(t, s.ok("POST", "/collections/"+coll+"/points", body), &recs)
		require.Len(t, recs, 1)
		return recs[0]
	}
	search := func(coll, body string) restOutPoint {
		t.Helper()
		var pts []restOutPoint
		restInto(t, s.ok("POST", "/collections/"+coll+"/points/search", body), &pts)
		require.Len(t, pts, 1)
		return pts[0]
	}

	// Retrieve: neither by default, as Qdrant 1.17.
	r := get("u", `{"ids": [1]}`)
	require.Nil(t, r.Payload)
	require.Nil(t, r.Vector)
	r = get("u", `{"ids": [1], "with_payload": true}`)
	require.JSONEq(t, pl, string(*r.Payload))
	// Search: neither by default.
	sp := search("u", `{"vector": [1, 1], "limit": 1}`)
	require.Nil(t, sp.Payload)
	require.Nil(t, sp.Vector)
	require.NotNil(t, sp.Version)
	require.NotNil(t, sp.Score)

	payloadCases := []struct{ sel, want string }{
		{`true`, pl},
		{`["x", "y.z"]`, `{"x": 1, "y": {"z": 2}}`},
		{`{"include": ["s"]}`, `{"s": "t"}`},
		{`{"exclude": ["y", "s"]}`, `{"x": 1}`},
		{`{"exclude": ["y.w"]}`, `{"x": 1, "y": {"z": 2}, "s": "t"}`},
		{`[]`, `{}`},
	}
	for _, c := range payloadCases {
		r := get("u", `{"ids": [1], "with_payload": `+c.sel+`}`)
		require.JSONEq(t, c.want, string(*r.Payload), c.sel)
		sp := search("u", `{"vector": [1, 1], "limit": 1, "with_payload": `+c.sel+`}`)
		require.JSONEq(t, c.want, string(*sp.Payload), c.sel)
	}
	require.Nil(t, get("u", `{"ids": [1], "with_payload": false}`).Payload)

	// A collection with only the unnamed vector answers an array, one with
	// named vectors a map.
	require.JSONEq(t, `[0.5, 1]`, string(*get("u", `{"ids": [1], "with_vector": true}`).Vector))
	require.JSONEq(t, `{"a": [1, 2], "b": [3, 4]}`, string(*get("n", `{"ids": [1], "with_vector": true}`).Vector))
	require.JSONEq(t, `{"b": [3, 4]}`, string(*get("n", `{"ids": [1], "with_vector": ["b"]}`).Vector))
	require.JSONEq(t, `{"a": [1, 2]}`, string(*get("n", `{"ids": [1], "with_vectors": ["a"]}`).Vector))
	require.JSONEq(t, `{"a": [1, 2]}`, string(*search("n", `{"vector": {"name": "b", "vector": [1, 1]}, "limit": 1, "with_vector": ["a"]}`).Vector))
	require.Nil(t, get("n", `{"ids": [1], "with_vector": false}`).Vector)

	s.fail("POST", "/collections/u/points", `{"ids": [1], "with_payload": 5}`, http.StatusBadRequest, "Format error in JSON body: Expected a boolean, an array of strings, or an object with an include/exclude field at line 1 column 31")
	s.fail("POST", "/collections/u/points", `{"ids": [1], "with_vector": "a"}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/n/points", `{"ids": [1], "with_vector": ["c"]}`, http.StatusBadRequest, "Wrong input: ")
}

// restTestPoints fills collection c (dim 4, the given distance) with n
// points with random ids (numbers and UUIDs) and payloads, and returns the
// ids.
func restTestPoints(t *testing.T, s *restTestServer, coll, dist string, n int, seed uint64) []filter.PointID {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	s.ok("PUT", "/collections/"+coll, fmt.Sprintf(`{"vectors": {"size": 4, "distance": %q}}`, dist))
	var pts []string
	var ids []filter.PointID
	seen := map[filter.PointID]bool{}
	colors := []string{"red", "green", "blue"}
	for len(ids) < n {
		var id filter.PointID
		if rng.IntN(4) == 0 {
			var u [16]byte
			for i := range u {
				u[i] = byte(rng.IntN(256))
			}
			id = filter.UUIDID(u)
		} else {
			id = filter.NumID(rng.Uint64N(1 << 62))
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		vec := fmt.Sprintf("[%.3f, %.3f, %.3f, %.3f]", rng.Float64()*2-1, rng.Float64()*2-1, rng.Float64()*2-1, rng.Float64()*2-1)
		pl := fmt.Sprintf(`{"color": %q, "n": %d, "price": %.2f, "tags": ["t%d", "t%d"]}`,
			colors[rng.IntN(3)], rng.IntN(20), rng.Float64()*100, rng.IntN(3), rng.IntN(3))
		pts = append(pts, fmt.Sprintf(`{"id": %s, "vector": %s, "payload": %s}`, id.AppendJSON(nil), vec, pl))
	}
	s.ok("PUT", "/collections/"+coll+"/points?wait=true", `{"points": [`+strings.Join(pts, ",")+`]}`)
	return ids
}

func TestRESTScrollPagination(t *testing.T) {
	s := newRESTTest(t, nil)
	ids := restTestPoints(t, s, "c", "Dot", 57, 1)
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, func(a, b filter.PointID) int { return a.Compare(b) })

	scrollAll := func(body string) []filter.PointID {
		var all []filter.PointID
		offset := ""
		for page := 0; ; page++ {
			require.Less(t, page, 100)
			b := `{"limit": 10` + body
			if offset != "" {
				b += `, "offset": ` + offset
			}
			var res struct {
				Points         []restOutPoint  `json:"points"`
				NextPageOffset json.RawMessage `json:"next_page_offset"`
			}
			restInto(t, s.ok("POST", "/collections/c/points/scroll", b+`}`), &res)
			require.LessOrEqual(t, len(res.Points), 10)
			for _, p := range res.Points {
				require.NotNil(t, p.Payload, "scroll returns payloads by default")
				require.Nil(t, p.Vector, "and no vectors")
			}
			all = append(all, restIDsOf(t, res.Points)...)
			require.NotNil(t, res.NextPageOffset, "next_page_offset is always present")
			if string(res.NextPageOffset) == "null" {
				return all
			}
			offset = string(res.NextPageOffset)
		}
	}
	require.Equal(t, sorted, scrollAll(""))

	// With a filter, against the engine's own filter evaluation.
	f, err := filter.ParseJSON([]byte(`{"must": [{"key": "color", "match": {"value": "red"}}]}`))
	require.NoError(t, err)
	var want []filter.PointID
	recs, err := s.db.Get(context.Background(), "c", sorted, &engine.ReadOptions{WithPayload: engine.AllPayload})
	require.NoError(t, err)
	for _, r := range recs {
		if restMatches(f, r) {
			want = append(want, r.ID)
		}
	}
	require.NotEmpty(t, want)
	require.Equal(t, want, scrollAll(`, "filter": {"must": [{"key": "color", "match": {"value": "red"}}]}`))

	// order_by needs a range index; values come back with order_value.
	s.fail("POST", "/collections/c/points/scroll", `{"order_by": "n"}`, http.StatusBadRequest, "Wrong input: No range index for `order_by` key: `n`")
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "n", "field_schema": "integer"}`)
	var res struct {
		Points         []restOutPoint  `json:"points"`
		NextPageOffset json.RawMessage `json:"next_page_offset"`
	}
	restInto(t, s.ok("POST", "/collections/c/points/scroll", `{"limit": 100, "order_by": {"key": "n", "direction": "desc", "start_from": 10}}`), &res)
	require.Equal(t, "null", string(res.NextPageOffset))
	prev := int64(10)
	for _, p := range res.Points {
		require.NotNil(t, p.OrderValue)
		var v int64
		require.NoError(t, json.Unmarshal(*p.OrderValue, &v))
		require.LessOrEqual(t, v, prev)
		prev = v
	}
	var cnt struct{ Count int }
	restInto(t, s.ok("POST", "/collections/c/points/count", `{"filter": {"must": [{"key": "n", "range": {"lte": 10}}]}}`), &cnt)
	require.Equal(t, cnt.Count, len(res.Points))
	s.fail("POST", "/collections/c/points/scroll", `{"order_by": {"direction": "up", "key": "n"}}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/c/points/scroll", `{"offset": "x"}`, http.StatusBadRequest, "Format error in JSON body: ")
}

// restMatches evaluates f on a record (the filter package is the oracle).
func restMatches(f *filter.Filter, r engine.Record) bool {
	return f.Matches(restRecordPoint{r})
}

type restRecordPoint struct{ r engine.Record }

func (p restRecordPoint) ID() filter.PointID      { return p.r.ID }
func (p restRecordPoint) Payload() payload.Value  { return p.r.Payload }
func (p restRecordPoint) HasVector(n string) bool { return n == "" }

func TestRESTCountAndEmptyShould(t *testing.T) {
	s := newRESTTest(t, nil)
	ids := restTestPoints(t, s, "c", "Dot", 40, 2)
	recs, err := s.db.Get(context.Background(), "c", ids, &engine.ReadOptions{WithPayload: engine.AllPayload})
	require.NoError(t, err)
	filters := []string{
		`{}`,
		`{"should": []}`,
		`{"must": []}`,
		`{"must_not": []}`,
		`{"should": [], "must": [{"key": "color", "match": {"value": "red"}}]}`,
		`{"should": [{"key": "color", "match": {"value": "red"}}, {"key": "n", "range": {"gte": 15}}]}`,
		`{"must": {"key": "tags", "match": {"any": ["t0"]}}}`,
		`{"must_not": [{"key": "price", "range": {"lt": 50}}]}`,
		`{"must": [{"has_id": [` + string(ids[0].AppendJSON(nil)) + `, ` + string(ids[1].AppendJSON(nil)) + `]}]}`,
	}
	for _, fj := range filters {
		f, err := filter.ParseJSON([]byte(fj))
		require.NoError(t, err, fj)
		want := 0
		for _, r := range recs {
			if restMatches(f, r) {
				want++
			}
		}
		for _, exact := range []string{"", `, "exact": true`, `, "exact": false`} {
			var cnt struct{ Count int }
			restInto(t, s.ok("POST", "/collections/c/points/count", `{"filter": `+fj+exact+`}`), &cnt)
			require.Equal(t, want, cnt.Count, fj)
		}
	}
	// An empty should imposes nothing, as in Qdrant.
	var cnt struct{ Count int }
	restInto(t, s.ok("POST", "/collections/c/points/count", `{"filter": {"should": []}}`), &cnt)
	require.Equal(t, len(ids), cnt.Count)
	restInto(t, s.ok("POST", "/collections/c/points/count", ``), &cnt)
	require.Equal(t, len(ids), cnt.Count)

	s.fail("POST", "/collections/c/points/count", `{"filter": {"must": [{"key": "n", "rnage": {"gt": 1}}]}}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [filter.must[0]")
	s.fail("POST", "/collections/c/points/count", `{"filter": {"must": 7}}`, http.StatusBadRequest, "Format error in JSON body: expected a condition")
	s.fail("POST", "/collections/nope/points/count", `{}`, http.StatusNotFound, "Not found: ")
}

func TestRESTPayloadOps(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/c/points?wait=true", `{"points": [
		{"id": 1, "vector": [1, 0], "payload": {"a": 1, "b": {"c": 2}, "keep": true}},
		{"id": 2, "vector": [0, 1], "payload": {"a": 2, "tag": "x"}},
		{"id": 3, "vector": [1, 1], "payload": {"a": 3, "tag": "x"}}]}`)
	payloadOf := func(id int) string {
		t.Helper()
		var r restOutPoint
		restInto(t, s.ok("GET", fmt.Sprintf("/collections/c/points/%d", id), ""), &r)
		return string(*r.Payload)
	}

	// set_payload merges; null removes a key; key merges into a nested object.
	s.ok("POST", "/collections/c/points/payload?wait=true", `{"payload": {"a": 10, "keep": null, "new": [1, 2]}, "points": [1]}`)
	require.JSONEq(t, `{"a": 10, "b": {"c": 2}, "new": [1, 2]}`, payloadOf(1))
	s.ok("POST", "/collections/c/points/payload?wait=true", `{"payload": {"d": 4}, "points": [1], "key": "b"}`)
	require.JSONEq(t, `{"a": 10, "b": {"c": 2, "d": 4}, "new": [1, 2]}`, payloadOf(1))
	// By filter; and by ids and filter together: the listed points that match.
	s.ok("POST", "/collections/c/points/payload?wait=true", `{"payload": {"seen": true}, "filter": {"must": [{"key": "tag", "match": {"value": "x"}}]}}`)
	require.JSONEq(t, `{"a": 2, "tag": "x", "seen": true}`, payloadOf(2))
	require.JSONEq(t, `{"a": 3, "tag": "x", "seen": true}`, payloadOf(3))
	s.ok("POST", "/collections/c/points/payload?wait=true", `{"payload": {"both": 1}, "points": [1, 2], "filter": {"must": [{"key": "tag", "match": {"value": "x"}}]}}`)
	require.NotContains(t, payloadOf(1), "both")
	require.Contains(t, payloadOf(2), "both")
	require.NotContains(t, payloadOf(3), "both")

	// overwrite replaces, delete removes keys, clear empties.
	s.ok("PUT", "/collections/c/points/payload?wait=true", `{"payload": {"only": "this"}, "points": [2]}`)
	require.JSONEq(t, `{"only": "this"}`, payloadOf(2))
	s.ok("POST", "/collections/c/points/payload/delete?wait=true", `{"keys": ["a", "b.c"], "points": [1]}`)
	require.JSONEq(t, `{"b": {"d": 4}, "new": [1, 2]}`, payloadOf(1))
	s.ok("POST", "/collections/c/points/payload/clear?wait=true", `{"points": [3]}`)
	require.JSONEq(t, `{}`, payloadOf(3))
	s.ok("POST", "/collections/c/points/payload/clear?wait=true", `{"filter": {"must": [{"has_id": [2]}]}}`)
	require.JSONEq(t, `{}`, payloadOf(2))

	s.fail("POST", "/collections/c/points/payload", `{"payload": {"z": 1}, "points": [99]}`, http.StatusNotFound, "Not found: No point with id 99 found")
	s.fail("POST", "/collections/c/points/payload", `{"payload": {"z": 1}}`, http.StatusBadRequest, "Format error in JSON body: Either list of point ids or filter must be provided")
	s.fail("POST", "/collections/c/points/payload", `{"points": [1]}`, http.StatusBadRequest, "Format error in JSON body: missing field `payload`")
	s.fail("POST", "/collections/c/points/payload", `{"payload": [1], "points": [1]}`, http.StatusBadRequest, "Format error in JSON body: ")
	s.fail("POST", "/collections/c/points/payload/delete", `{"points": [1]}`, http.StatusBadRequest, "Format error in JSON body: missing field `keys`")
	s.fail("POST", "/collections/c/points/payload/clear", `{}`, http.StatusBadRequest, "Format error in JSON body: data did not match any variant of untagged enum PointsSelector")

	// A key must be a key path: "" is not one (it would write at the root).
	before := payloadOf(1)
	for body, want := range map[string]string{
		`{"payload": {"z": 1}, "points": [1], "key": ""}`:       "Format error in JSON body: Invalid json path: '' at line 1 column 47",
		`{"payload": {"z": 1}, "key": ""  , "points": [1]}`:     "Format error in JSON body: Invalid json path: '' at line 1 column 33",
		`{"payload": {"z": 1}, "points": [1], "key": "a..b"  }`: "Format error in JSON body: Invalid json path: 'a..b' at line 1 column 53",
	} {
		for _, method := range []string{"POST", "PUT"} {
			require.Equal(t, want, s.fail(method, "/collections/c/points/payload", body, http.StatusBadRequest, want))
		}
	}
	require.JSONEq(t, before, payloadOf(1), "nothing is written")
}

func TestRESTDeleteAndVectors(t *testing.T) {
	s := newRESTTest(t, nil)
	ctx := context.Background()
	s.ok("PUT", "/collections/c", `{"vectors": {"a": {"size": 2, "distance": "Dot"}, "b": {"size": 2, "distance": "Dot"}}}`)
	s.ok("PUT", "/collections/c/points?wait=true", `{"points": [
		{"id": 1, "vector": {"a": [1, 0], "b": [1, 1]}, "payload": {"g": 1}},
		{"id": 2, "vector": {"a": [0, 1], "b": [2, 2]}, "payload": {"g": 2}},
		{"id": 3, "vector": {"a": [1, 1], "b": [3, 3]}, "payload": {"g": 2}},
		{"id": 4, "vector": {"a": [1, 1], "b": [3, 3]}, "payload": {"g": 3}}]}`)
	ro := &engine.ReadOptions{WithVectors: engine.AllVectors}

	s.ok("PUT", "/collections/c/points/vectors?wait=true", `{"points": [{"id": 1, "vector": {"b": [9, 9]}}]}`)
	got, err := s.db.Get(ctx, "c", []filter.PointID{filter.NumID(1)}, ro)
	require.NoError(t, err)
	require.Equal(t, map[string][]float32{"a": {1, 0}, "b": {9, 9}}, got[0].Vectors)
	s.ok("PUT", "/collections/c/points/vectors?wait=true", `{"points": [{"id": 2, "vector": {"b": [8, 8]}}, {"id": 3, "vector": {"b": [8, 8]}}],
		"update_filter": {"must": [{"has_id": [3]}]}}`)
	got, err = s.db.Get(ctx, "c", []filter.PointID{filter.NumID(2), filter.NumID(3)}, ro)
	require.NoError(t, err)
	require.Equal(t, []float32{2, 2}, got[0].Vectors["b"])
	require.Equal(t, []float32{8, 8}, got[1].Vectors["b"])
	s.fail("PUT", "/collections/c/points/vectors", `{"points": [{"id": 99, "vector": {"b": [1, 1]}}]}`, http.StatusNotFound, "Not found: No point with id 99 found")
	s.fail("PUT", "/collections/c/points/vectors", `{"points": [{"id": 1}]}`, http.StatusBadRequest, "Format error in JSON body: missing field `vector`")

	s.ok("POST", "/collections/c/points/vectors/delete?wait=true", `{"points": [1], "vector": ["a"]}`)
	got, err = s.db.Get(ctx, "c", []filter.PointID{filter.NumID(1)}, ro)
	require.NoError(t, err)
	require.Equal(t, map[string][]float32{"b": {9, 9}}, got[0].Vectors)
	s.ok("POST", "/collections/c/points/vectors/delete?wait=true", `{"filter": {"must": [{"key": "g", "match": {"value": 2}}]}, "vector": ["b"]}`)
	got, err = s.db.Get(ctx, "c", []filter.PointID{filter.NumID(2), filter.NumID(3)}, ro)
	require.NoError(t, err)
	require.NotContains(t, got[0].Vectors, "b")
	require.NotContains(t, got[1].Vectors, "b")
	s.fail("POST", "/collections/c/points/vectors/delete", `{"points": [1]}`, http.StatusBadRequest, "Format error in JSON body: missing field `vector`")
	s.fail("POST", "/collections/c/points/vectors/delete", `{"points": [1], "vector": []}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [vector: ")
	s.fail("POST", "/collections/c/points/vectors/delete", `{"points": [1], "vector": ["zz"]}`, http.StatusBadRequest, "Wrong input: ")

	// Delete by ids (missing ids are ignored) and by filter.
	s.ok("POST", "/collections/c/points/delete?wait=true", `{"points": [1, 77]}`)
	s.ok("POST", "/collections/c/points/delete?wait=true", `{"filter": {"must": [{"key": "g", "match": {"value": 2}}]}}`)
	n, err := s.db.Count(ctx, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	s.fail("POST", "/collections/c/points/delete", `{"points": "all"}`, http.StatusBadRequest, "Format error in JSON body: ")
}

func TestRESTBatchUpdate(t *testing.T) {
	s := newRESTTest(t, nil)
	ctx := context.Background()
	s.ok("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	var res []struct {
		OperationID uint64 `json:"operation_id"`
		Status      string `json:"status"`
	}
	restInto(t, s.ok("POST", "/collections/c/points/batch?wait=true", `{"operations": [
		{"upsert": {"points": [{"id": 1, "vector": [1, 0], "payload": {"a": 1}}, {"id": 2, "vector": [0, 1]}]}},
		{"upsert": {"batch": {"ids": [3], "vectors": [[1, 1]]}}},
		{"set_payload": {"payload": {"b": 2}, "points": [1]}},
		{"overwrite_payload": {"payload": {"c": 3}, "points": [2]}},
		{"delete_payload": {"keys": ["a"], "points": [1]}},
		{"clear_payload": {"points": [2]}},
		{"update_vectors": {"points": [{"id": 3, "vector": [5, 5]}]}},
		{"delete": {"points": [2]}}]}`), &res)
	require.Len(t, res, 8)
	for i := range res {
		require.Equal(t, "completed", res[i].Status)
		if i > 0 {
			require.Equal(t, res[i-1].OperationID+1, res[i].OperationID)
		}
	}
	recs, err := s.db.Get(ctx, "c", []filter.PointID{filter.NumID(1), filter.NumID(2), filter.NumID(3)},
		&engine.ReadOptions{WithPayload: engine.AllPayload, WithVectors: engine.AllVectors})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.Equal(t, `{"b":2}`, recs[0].Payload.String())
	require.Equal(t, []float32{5, 5}, recs[1].Vectors[""])

	// All or nothing.
	s.fail("POST", "/collections/c/points/batch", `{"operations": [
		{"delete": {"points": [1]}},
		{"set_payload": {"payload": {"x": 1}, "points": [404]}}]}`, http.StatusNotFound, "Not found: No point with id 404 found")
	n, err := s.db.Count(ctx, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	s.fail("POST", "/collections/c/points/batch", `{"operations": [{"explode": {}}]}`, http.StatusBadRequest, "Format error in JSON body: data did not match any variant of untagged enum UpdateOperation at line 1 column 32")
	s.fail("POST", "/collections/c/points/batch", `{"operations": [{"upsert": {"points": [{"id": 1, "vector": []}]}}]}`, http.StatusUnprocessableEntity,
		"Validation error in JSON body: [operations[0].upsert.points[0].vector: ")
	s.fail("POST", "/collections/c/points/batch", `{}`, http.StatusBadRequest, "Format error in JSON body: missing field `operations`")
}

func TestRESTFacet(t *testing.T) {
	s := newRESTTest(t, nil)
	ids := restTestPoints(t, s, "c", "Dot", 60, 3)
	s.fail("POST", "/collections/c/facet", `{"key": "color"}`, http.StatusBadRequest, "Wrong input: ")
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "color", "field_schema": "keyword"}`)
	s.ok("PUT", "/collections/c/index?wait=true", `{"field_name": "n", "field_schema": "integer"}`)

	recs, err := s.db.Get(context.Background(), "c", ids, &engine.ReadOptions{WithPayload: engine.AllPayload})
	require.NoError(t, err)
	brute := func(key string, f *filter.Filter) map[string]int {
		out := map[string]int{}
		for _, r := range recs {
			if f != nil && !restMatches(f, r) {
				continue
			}
			v, _ := r.Payload.Get(key)
			out[v.String()]++
		}
		return out
	}
	type hit struct {
		Value json.RawMessage `json:"value"`
		Count int             `json:"count"`
	}
	var res struct{ Hits []hit }
	restInto(t, s.ok("POST", "/collections/c/facet", `{"key": "color", "exact": true}`), &res)
	want := brute("color", nil)
	require.Len(t, res.Hits, len(want))
	for i, h := range res.Hits {
		require.Equal(t, want[string(h.Value)], h.Count, "%s", h.Value)
		if i > 0 {
			require.GreaterOrEqual(t, res.Hits[i-1].Count, h.Count)
		}
	}
	f, err := filter.ParseJSON([]byte(`{"must": [{"key": "color", "match": {"value": "red"}}]}`))
	require.NoError(t, err)
	res.Hits = nil
	restInto(t, s.ok("POST", "/collections/c/facet", `{"key": "n", "limit": 3, "filter": {"must": [{"key": "color", "match": {"value": "red"}}]}}`), &res)
	want = brute("n", f)
	require.LessOrEqual(t, len(res.Hits), 3)
	for _, h := range res.Hits {
		require.Equal(t, want[string(h.Value)], h.Count, "%s", h.Value)
		var n int64
		require.NoError(t, json.Unmarshal(h.Value, &n), "integer facet values are numbers")
	}
	s.fail("POST", "/collections/c/facet", `{"key": "color", "limit": 0}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [facet_request.limit: ")
	s.fail("POST", "/collections/c/facet", `{}`, http.StatusBadRequest, "Format error in JSON body: missing field `key`")
}

// TestRESTNullVectorElements: a vector with a null element (how the Python
// client sends NaN) is not a vector, wherever it appears; Qdrant names the
// enum it was reading and, where the value came from a buffered member,
// the position of the end of that member.
func TestRESTNullVectorElements(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/c", `{"vectors": {"size": 4, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/c/points?wait=true", `{"points": [{"id": 1, "vector": [1, 1, 1, 1]}]}`)
	const pre = "Format error in JSON body: data did not match any variant of untagged enum "
	const query = "Format error in JSON body: Expected some form of vector, id, or a type of query"
	cases := []struct{ method, path, body, want string }{
		{"PUT", "/points?wait=true", `{"points":[{"id":2,"vector":[null,1,1,1]}]}`, pre + "VectorStruct"},
		{"PUT", "/points?wait=true", `{"points":[{"id":2,"vector":{"":[1,null,1,1]}}]}`, pre + "VectorStruct"},
		{"PUT", "/points?wait=true", `{"points":[{"id":2,"vector":[1,"x",1,1]}]}`, pre + "VectorStruct"},
		{"PUT", "/points?wait=true", `{"batch":{"ids":[2],"vectors":[[null,1,1,1]]}}`, pre + "BatchVectorStruct"},
		{"PUT", "/points/vectors?wait=true", `{"points":[{"id":1,"vector":[null,1,1,1]}]}`, pre + "VectorStruct at line 1 column 41"},
		{"POST", "/points/batch", `{"operations":[{"upsert":{"points":[{"id":1,"vector":[null,1,1,1]}]}} ,  {"delete":{"points":[1]}}]}`, pre + "UpdateOperation at line 1 column 73"},
		{"POST", "/points/batch", `{"operations":[{"update_vectors":{"points":[{"id":1,"vector":[null,1,1,1]}]}}]}`, pre + "UpdateOperation at line 1 column 78"},
		{"POST", "/points/search", `{"vector":[null,1,1,1],"limit":1}`, pre + "NamedVectorStruct at line 1 column 33"},
		{"POST", "/points/search/batch", `{"searches":[{"vector":[null,1,1,1],"limit":1}]}`, pre + "NamedVectorStruct at line 1 column 46"},
		{"POST", "/points/query", "{\"query\":\n[null,1,1,1]}", query + " at line 2 column 13"},
		{"POST", "/points/query", `{"query":{"recommend":{"positive":[[null,1,1,1]]}}}`, query + " at line 1 column 51"},
		{"POST", "/points/query", `{"query":{"context":[{"positive":[null,1,1,1],"negative":[1,1,1,1]}]}}`, query + " at line 1 column 70"},
		{"POST", "/points/query/batch", `{"searches":[{"query":[null,1,1,1]}]}`, query + " at line 1 column 35"},
		{"POST", "/points/recommend", `{"positive":[[null,1,1,1]],"limit":1}`, pre + "RecommendExample at line 1 column 37"},
		{"POST", "/points/discover", `{"target":[null,1,1,1],"context":[],"limit":1}`, pre + "RecommendExample at line 1 column 46"},
	}
	for _, c := range cases {
		msg := s.fail(c.method, "/collections/c"+c.path, c.body, http.StatusBadRequest, c.want)
		require.Equal(t, c.want, msg, "%s %s", c.path, c.body)
	}
	var pt struct {
		Vector []float32 `json:"vector"`
	}
	restInto(t, s.ok("GET", "/collections/c/points/1", ``), &pt)
	require.Equal(t, []float32{1, 1, 1, 1}, pt.Vector, "failed writes change nothing")
	var cnt struct{ Count int }
	restInto(t, s.ok("POST", "/collections/c/points/count", `{}`), &cnt)
	require.Equal(t, 1, cnt.Count)
}

// TestRESTWithPayloadPaths: include and exclude lists of key paths shape
// the payload on every read route; a selector that is none of Qdrant's
// forms, or names a path that does not parse, is Qdrant's format error.
func TestRESTWithPayloadPaths(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	s.ok("PUT", "/collections/c/points?wait=true", `{"points": [{"id": 1, "vector": [1, 0], "payload": {"c": {"n": "DE", "cities": [{"name": "B", "pop": 3}, {"pop": 5}]}, "a": 1}}]}`)
	var got []struct {
		Payload json.RawMessage `json:"payload"`
	}
	restInto(t, s.ok("POST", "/collections/c/points", `{"ids": [1], "with_payload": {"include": ["c.cities[].name"]}}`), &got)
	require.JSONEq(t, `{"c": {"cities": [{"name": "B"}, {}]}}`, string(got[0].Payload))
	restInto(t, s.ok("POST", "/collections/c/points/search", `{"vector": [1, 0], "limit": 1, "with_payload": ["c.cities[0].name", "a"]}`), &got)
	require.JSONEq(t, `{"c": {"cities": []}, "a": 1}`, string(got[0].Payload))
	restInto(t, s.ok("POST", "/collections/c/points", `{"ids": [1], "with_payload": {"exclude": ["c.cities[].pop", "a"]}}`), &got)
	require.JSONEq(t, `{"c": {"n": "DE", "cities": [{"name": "B"}, {}]}}`, string(got[0].Payload))
	const bad = "Format error in JSON body: Expected a boolean, an array of strings, or an object with an include/exclude field"
	for _, wp := range []string{`{"include": ["a..b"]}`, `{"include": ["a"], "exclude": ["b"]}`, `{}`, `{"include": null}`, `5`, `["a b"]`} {
		body := `{"ids": [1], "with_payload": ` + wp + `}`
		msg := s.fail("POST", "/collections/c/points", body, http.StatusBadRequest, bad)
		require.Equal(t, fmt.Sprintf("%s at line 1 column %d", bad, len(body)), msg)
	}
}
