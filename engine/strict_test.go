package engine

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// fakeClock is a settable clock for rate limit tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newStrictDB opens a DB on a fake clock with collection "c" (2-dim Dot)
// whose strict mode is strictJSON.
func newStrictDB(t *testing.T, strictJSON string) (*DB, *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	o := testOpts()
	o.Now = clk.Now
	db := openTestDB(t, t.TempDir(), o)
	req := &CreateCollection{Vectors: VectorsConfig{"": {Size: 2, Distance: distance.Dot}},
		StrictMode: json.RawMessage(strictJSON)}
	require.NoError(t, db.CreateCollection(bg, "c", req))
	return db, clk
}

// requireStrict asserts err is a strict mode refusal with Qdrant's detail.
func requireStrict(t *testing.T, err error, detail string) {
	t.Helper()
	require.ErrorIs(t, err, ErrStrictMode)
	require.Equal(t, ErrStrictMode.Error()+": "+detail, err.Error())
}

func upsertN(t *testing.T, db *DB, ids ...uint64) {
	t.Helper()
	var pts []Point
	for _, id := range ids {
		pts = append(pts, Point{ID: numID(id), Vectors: map[string][]float32{"": {1, float32(id)}}})
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, nil)
	require.NoError(t, err)
}

func TestStrictLimits(t *testing.T) {
	db, _ := newStrictDB(t, `{"enabled": true, "max_query_limit": 3, "search_max_hnsw_ef": 10,
		"search_allow_exact": false, "search_max_oversampling": 2.5, "search_max_batchsize": 2, "max_timeout": 5}`)
	upsertN(t, db, 1, 2)
	over := 3.0
	f := func(err error, detail string) {
		t.Helper()
		if detail == "" {
			require.NoError(t, err)
			return
		}
		requireStrict(t, err, detail)
	}
	_, err := db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 4})
	f(err, `Limit exceeded 4 > 3 for "limit". Help: Reduce the "limit" parameter to or below 3.`)
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 3})
	f(err, "")
	_, err = db.Query(bg, "c", &QueryRequest{Query: &Query{Nearest: &Example{Vector: []float32{1, 1}}}})
	f(err, `Limit exceeded 10 > 3 for "limit". Help: Reduce the "limit" parameter to or below 3.`)
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 1, HnswEf: 11, Exact: true})
	f(err, `Limit exceeded 11 > 10 for "hnsw_ef". Help: Reduce the "hnsw_ef" parameter to or below 10.`)
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 1, Oversampling: &over, HnswEf: 11})
	f(err, `Limit exceeded 3 > 2.5 for "oversampling". Help: Reduce the "oversampling" parameter to or below 2.5.`)
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 1, Exact: true})
	f(err, `Exact search disabled!. Help: Set exact=false.`)
	_, err = db.Count(bg, "c", nil, true)
	f(err, `Exact search disabled!. Help: Set exact=false.`)
	_, err = db.Count(bg, "c", nil, false)
	f(err, "")
	_, err = db.SearchBatch(bg, "c", make([]SearchRequest, 3))
	f(err, `Limit exceeded 3 > 2 for "search batch size". Help: Reduce the "search batch size" parameter to or below 2.`)
	_, err = db.QueryBatch(bg, "c", []QueryRequest{{Limit: 1}, {Limit: 4}})
	f(err, `Limit exceeded 4 > 3 for "limit". Help: Reduce the "limit" parameter to or below 3.`)
	// The scroll's default limit is not bounded; an asked-for one is.
	_, err = db.Scroll(bg, "c", &ScrollRequest{Limit: 10, DefaultLimit: true})
	f(err, "")
	_, err = db.Scroll(bg, "c", &ScrollRequest{Limit: 10})
	f(err, `Limit exceeded 10 > 3 for "limit". Help: Reduce the "limit" parameter to or below 3.`)
	// The distance matrix bounds sample × limit, when a sample is given.
	_, err = db.SearchMatrix(bg, "c", &MatrixRequest{Sample: 2, Limit: 2})
	f(err, `Limit exceeded 4 > 3 for "limit". Help: Reduce the "limit" parameter to or below 3.`)
	_, err = db.SearchMatrix(bg, "c", &MatrixRequest{Limit: 2})
	f(err, "")
	// Timeouts asked for are bounded.
	_, err = db.Count(WithRequestTimeout(bg, 6), "c", nil, false)
	f(err, `Limit exceeded 6 > 5 for "timeout". Help: Reduce the "timeout" parameter to or below 5.`)
	_, err = db.Count(WithRequestTimeout(bg, 5), "c", nil, false)
	f(err, "")
	// A server's own reads are not checked.
	_, err = db.Count(Internal(bg), "c", nil, true)
	f(err, "")
}

func TestStrictDisabled(t *testing.T) {
	db, _ := newStrictDB(t, `{"max_query_limit": 1, "read_rate_limit": 1}`)
	_, err := db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 5})
	require.NoError(t, err, "checks are off until enabled")
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 5})
	require.ErrorIs(t, err, ErrRateLimited, "rate limits apply whatever enabled says")
	require.NoError(t, db.UpdateCollection(bg, "c", &UpdateCollection{StrictMode: json.RawMessage(`{"enabled": true}`)}))
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 5})
	requireStrict(t, err, `Limit exceeded 5 > 1 for "limit". Help: Reduce the "limit" parameter to or below 1.`)
}

func TestStrictConditionCounts(t *testing.T) {
	f := func(js string, count, size int) {
		t.Helper()
		flt := mustFilter(t, js)
		require.Equal(t, count, conditionsCount(flt), "conditions of %s", js)
		require.Equal(t, size, maxConditionSize(flt), "size of %s", js)
	}
	f(`{}`, 0, 0)
	f(`{"must": [{"key": "a", "match": {"value": 1}}, {"has_id": [1, 2, 3]}]}`, 2, 3)
	f(`{"must": [{"must": []}, {"must": []}]}`, 0, 0)
	f(`{"must": [{"must": [{"key": "a", "match": {"any": ["x", "y"]}}]}], "should": [{"is_empty": {"key": "b"}}]}`, 2, 2)
	f(`{"must": [{"nested": {"key": "n", "filter": {"must": [{"has_id": [1]}, {"has_id": [1]}]}}}]}`, 2, 1)
	f(`{"min_should": {"conditions": [{"has_id": [1]}, {"must": [{"key": "a", "match": {"except": [1, 2, 3, 4]}}]}], "min_count": 1}}`, 2, 4)
	f(`{"must_not": [{"key": "t", "match": {"text": "a b c"}}]}`, 1, 0)
}

func TestStrictUnindexedKey(t *testing.T) {
	fields := map[string]payload.IndexParams{
		"k":       {Type: payload.TypeKeyword},
		"i":       {Type: payload.TypeInteger},
		"il":      {Type: payload.TypeInteger, Lookup: new(bool)},
		"f":       {Type: payload.TypeFloat},
		"t":       {Type: payload.TypeText},
		"tp":      {Type: payload.TypeText, Text: payload.TextParams{PhraseMatching: true}},
		"u":       {Type: payload.TypeUUID},
		"arr[].b": {Type: payload.TypeBool},
	}
	lookup := func(k string) (payload.IndexParams, bool) { p, ok := fields[k]; return p, ok }
	f := func(js, key string, schemas ...string) {
		t.Helper()
		gotKey, gotSchemas := oneUnindexedKey(mustFilter(t, js), lookup)
		require.Equal(t, key, gotKey, js)
		require.Equal(t, schemas, gotSchemas, js)
	}
	f(`{"must": [{"key": "k", "match": {"value": "x"}}, {"key": "i", "range": {"gt": 1}}, {"key": "f", "range": {"lt": 1}}]}`, "")
	f(`{"must": [{"key": "z", "match": {"value": "x"}}]}`, "z", "keyword")
	f(`{"must": [{"key": "z", "match": {"value": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}}]}`, "z", "keyword", "uuid")
	f(`{"must": [{"key": "z", "match": {"any": []}}]}`, "z", "keyword", "uuid")
	f(`{"must": [{"key": "k", "match": {"value": 1}}]}`, "k", "integer")
	f(`{"must": [{"key": "il", "match": {"value": 1}}]}`, "il", "integer")
	f(`{"must": [{"key": "il", "range": {"gt": 1}}]}`, "")
	f(`{"must": [{"key": "f", "match": {"value": 1}}]}`, "f", "integer")
	f(`{"must": [{"key": "z", "range": {"gt": 1.5}}]}`, "z", "float", "integer")
	f(`{"must": [{"key": "t", "match": {"phrase": "a b"}}]}`, "t", "text (with phrase_matching: true)")
	f(`{"must": [{"key": "tp", "match": {"phrase": "a b"}}, {"key": "tp", "match": {"text": "a"}}]}`, "")
	f(`{"must": [{"key": "u", "match": {"value": "6ba7b810-9dad-11d1-80b4-00c04fd430c8"}}]}`, "")
	f(`{"must": [{"key": "z", "range": {"gt": "2020-01-01T00:00:00Z"}}]}`, "z", "datetime")
	f(`{"must": [{"is_null": {"key": "z"}}]}`, "z", "bool", "datetime", "float", "geo", "integer", "keyword", "text",
		"text (with phrase_matching: true)", "uuid")
	f(`{"must": [{"is_empty": {"key": "k"}}, {"has_id": [1]}, {"has_vector": ""}]}`, "")
	f(`{"should": [{"must": [{"key": "deep.x", "match": {"value": true}}]}]}`, "deep.x", "bool")
	f(`{"must": [{"nested": {"key": "arr", "filter": {"must": [{"key": "b", "match": {"value": true}}]}}}]}`, "")
	f(`{"must": [{"nested": {"key": "arr[]", "filter": {"must": [{"key": "c", "match": {"value": 1}}]}}}]}`, "arr[].c", "integer")
	f(`{"must": [{"nested": {"key": "n", "filter": {"must": [{"nested": {"key": "m", "filter": {"must": [{"key": "z", "match": {"value": "x"}}]}}}]}}}]}`,
		"n[].m[].z", "keyword")
}

func TestStrictFilters(t *testing.T) {
	db, _ := newStrictDB(t, `{"enabled": true, "unindexed_filtering_retrieve": false, "unindexed_filtering_update": false,
		"filter_max_conditions": 2, "condition_max_size": 2}`)
	_, err := db.CreateFieldIndex(bg, "c", "a", payload.IndexParams{Type: payload.TypeKeyword}, nil)
	require.NoError(t, err)
	upsertN(t, db, 1, 2)
	unindexed := mustFilter(t, `{"must": [{"key": "z", "match": {"value": 1}}]}`)
	const msg = `Index required but not found for "z" of one of the following types: [integer]. Help: Create an index for this key or use a different filter.`
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 1}, Limit: 1, Filter: unindexed})
	requireStrict(t, err, msg)
	_, err = db.Delete(bg, "c", Selector{Filter: unindexed}, nil)
	requireStrict(t, err, msg)
	_, err = db.SetPayload(bg, "c", &SetPayloadOp{Payload: obj("x", 1), Selector: Selector{Filter: unindexed}}, nil)
	requireStrict(t, err, msg)
	_, err = db.BatchUpdate(bg, "c", []Operation{{Delete: &Selector{IDs: []PointID{numID(1)}}}, {ClearPayload: &Selector{Filter: unindexed}}}, nil)
	requireStrict(t, err, msg)
	n, err := db.Count(bg, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, 2, n, "a refused batch writes nothing")

	// The index check comes before the limits.
	_, err = db.Count(bg, "c", mustFilter(t, `{"must": [{"key": "z", "match": {"any": [1, 2, 3]}}, {"has_id": [1]}, {"has_id": [1]}]}`), true)
	requireStrict(t, err, msg)
	_, err = db.Count(bg, "c", mustFilter(t, `{"must": [{"key": "a", "match": {"any": ["x", "y", "z"]}}, {"has_id": [1]}, {"has_id": [1]}]}`), true)
	requireStrict(t, err, `Filter condition limit reached (3 > 2). Help: Reduce the amount of conditions of your filter.`)
	_, err = db.Count(bg, "c", mustFilter(t, `{"must": [{"key": "a", "match": {"any": ["x", "y", "z"]}}]}`), true)
	requireStrict(t, err, `Condition size limit reached (3 > 2). Help: Reduce the size of your condition.`)

	// group_by needs an index that serves match.
	_, err = db.QueryGroups(bg, "c", &GroupsRequest{QueryRequest: QueryRequest{Limit: 1}, GroupBy: "z", GroupSize: 1})
	requireStrict(t, err, "Index required but not found for \"z\". Help: Create an index supporting `match` for this key.")
	_, err = db.CreateFieldIndex(bg, "c", "t", payload.IndexParams{Type: payload.TypeText}, nil)
	require.NoError(t, err)
	_, err = db.QueryGroups(bg, "c", &GroupsRequest{QueryRequest: QueryRequest{Limit: 1}, GroupBy: "t", GroupSize: 1})
	requireStrict(t, err, "Index of type \"Text\" found for \"t\". Help: Create an index supporting `match` for this key.")
	_, err = db.QueryGroups(bg, "c", &GroupsRequest{QueryRequest: QueryRequest{Limit: 1}, GroupBy: "a", GroupSize: 1})
	require.NoError(t, err)
}

func TestStrictWrites(t *testing.T) {
	db, _ := newStrictDB(t, `{"enabled": true, "upsert_max_batchsize": 2, "max_points_count": 3, "max_payload_index_count": 1}`)
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{
		{ID: numID(1), Vectors: map[string][]float32{"": {1, 0}}},
		{ID: numID(2), Vectors: map[string][]float32{"": {1, 0}}},
		{ID: numID(3), Vectors: map[string][]float32{"": {1, 0}}}}}, nil)
	requireStrict(t, err, `Limit exceeded 3 > 2 for "upsert limit". Help: Reduce the "upsert limit" parameter to or below 2.`)
	_, err = db.UpdateVectors(bg, "c", &UpdateVectorsOp{Points: []PointVectors{{ID: numID(1)}, {ID: numID(2)}, {ID: numID(3)}}}, nil)
	requireStrict(t, err, `Limit exceeded 3 > 2 for "update limit". Help: Reduce the "update limit" parameter to or below 2.`)
	upsertN(t, db, 1, 2)
	upsertN(t, db, 3)
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(4), Vectors: map[string][]float32{"": {1, 0}}}}}, nil)
	requireStrict(t, err, `Max points count limit of 3 reached!`)
	_, err = db.Delete(bg, "c", Selector{IDs: []PointID{numID(3)}}, nil)
	require.NoError(t, err, "deletes are not limited")
	upsertN(t, db, 4)

	_, err = db.CreateFieldIndex(bg, "c", "a", payload.IndexParams{Type: payload.TypeKeyword}, nil)
	require.NoError(t, err)
	_, err = db.CreateFieldIndex(bg, "c", "b", payload.IndexParams{Type: payload.TypeKeyword}, nil)
	requireStrict(t, err, `Collection already has the maximum number of payload indices (1). Help: Please delete an existing index before creating a new one.`)
	_, err = db.DeleteFieldIndex(bg, "c", "a", nil)
	require.NoError(t, err)
	_, err = db.CreateFieldIndex(bg, "c", "b", payload.IndexParams{Type: payload.TypeKeyword}, nil)
	require.NoError(t, err)
}

func TestStrictStorageSize(t *testing.T) {
	// Two 2-dim float vectors are 16 bytes.
	db, _ := newStrictDB(t, `{"enabled": true, "max_collection_vector_size_bytes": 16, "max_collection_payload_size_bytes": 1048576}`)
	upsertN(t, db, 1, 2)
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(3), Vectors: map[string][]float32{"": {1, 0}}}}}, nil)
	requireStrict(t, err, `Max vector storage size limit of 0.000015258789MB reached!`)

	db, _ = newStrictDB(t, `{"enabled": true, "max_collection_payload_size_bytes": 10}`)
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 0}},
		Payload: obj("text", "a payload longer than ten bytes")}}}, nil)
	require.NoError(t, err)
	_, err = db.SetPayload(bg, "c", &SetPayloadOp{Payload: obj("x", 1), Selector: Selector{IDs: []PointID{numID(1)}}}, nil)
	requireStrict(t, err, `Max payload storage size limit of 0.000009536743MB reached!`)
	_, err = db.DeletePayload(bg, "c", &DeletePayloadOp{Keys: []string{"text"}, Selector: Selector{IDs: []PointID{numID(1)}}}, nil)
	require.NoError(t, err, "removing payload is not limited")
}

func TestStrictRateLimits(t *testing.T) {
	db, clk := newStrictDB(t, `{"read_rate_limit": 2, "write_rate_limit": 4}`)
	count := func() error { _, err := db.Count(bg, "c", nil, true); return err }
	require.NoError(t, count())
	require.NoError(t, count())
	err := count()
	var rl *RateLimitError
	require.ErrorAs(t, err, &rl)
	require.Equal(t, "Read rate limit exceeded: Operation requires 1 tokens but only 0.0 were available. Retry after 30s", rl.Detail)
	require.Equal(t, 30*time.Second, rl.RetryAfter)
	// The bucket refills at 2 a minute: after 15s half a token is there.
	clk.advance(15 * time.Second)
	require.ErrorAs(t, count(), &rl)
	require.Equal(t, "Read rate limit exceeded: Operation requires 1 tokens but only 0.5 were available. Retry after 15s", rl.Detail)
	clk.advance(15 * time.Second)
	require.NoError(t, count())
	// It never holds more than its capacity.
	clk.advance(time.Hour)
	require.NoError(t, count())
	require.NoError(t, count())
	require.ErrorIs(t, count(), ErrRateLimited)
	// A filter costs one token per condition; a request larger than the
	// bucket never passes.
	clk.advance(time.Minute)
	_, err = db.Count(bg, "c", mustFilter(t, `{"must": [{"has_id": [1]}, {"has_id": [2]}]}`), true)
	require.ErrorAs(t, err, &rl)
	require.Equal(t, "Read rate limit exceeded, request larger than rate limiter capacity, please try to split your request", rl.Detail)
	require.Zero(t, rl.RetryAfter)
	_, err = db.Get(bg, "c", []PointID{numID(1), numID(2)}, nil)
	require.NoError(t, err, "a retrieve costs one token per id")
	require.ErrorIs(t, count(), ErrRateLimited)

	// The first write to a collection created with a write limit takes its
	// tokens twice; later ones once.
	upsertN(t, db, 1)
	upsertN(t, db, 1)
	upsertN(t, db, 2)
	_, err = db.Delete(bg, "c", Selector{IDs: []PointID{numID(1)}}, nil)
	require.ErrorAs(t, err, &rl)
	require.Equal(t, "Write rate limit exceeded: Operation requires 1 tokens but only 0.0 were available. Retry after 15s", rl.Detail)

	// An update makes the buckets afresh, but only with strict mode
	// enabled: otherwise it drops them.
	require.NoError(t, db.UpdateCollection(bg, "c", &UpdateCollection{StrictMode: json.RawMessage(`{"enabled": true}`)}))
	require.NoError(t, count())
	require.NoError(t, count())
	require.ErrorIs(t, count(), ErrRateLimited)
	upsertN(t, db, 1)
	upsertN(t, db, 2)
	upsertN(t, db, 3)
	upsertN(t, db, 4)
	_, err = db.Delete(bg, "c", Selector{IDs: []PointID{numID(1)}}, nil)
	require.ErrorIs(t, err, ErrRateLimited, "an update does not double the first write")
	require.NoError(t, db.UpdateCollection(bg, "c", &UpdateCollection{StrictMode: json.RawMessage(`{"enabled": false}`)}))
	for range 5 {
		require.NoError(t, count())
	}
}

func TestStrictRefusalWritesNothing(t *testing.T) {
	db, _ := newStrictDB(t, `{"enabled": true, "write_rate_limit": 1}`)
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 0}}}}}, nil)
	require.True(t, errors.Is(err, ErrRateLimited), "the doubled first write is over a bucket of 1: %v", err)
	n, err := db.Count(bg, "c", (*filter.Filter)(nil), false)
	require.NoError(t, err)
	require.Zero(t, n)
}
