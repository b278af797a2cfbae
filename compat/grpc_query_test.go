package compat

import (
	"math"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return tm
}

func fieldCond(fc *qdrant.FieldCondition) *qdrant.Condition {
	return &qdrant.Condition{ConditionOneOf: &qdrant.Condition_Field{Field: fc}}
}

func ring(pts ...float64) *qdrant.GeoLineString {
	l := &qdrant.GeoLineString{}
	for i := 0; i < len(pts); i += 2 {
		l.Points = append(l.Points, &qdrant.GeoPoint{Lon: pts[i], Lat: pts[i+1]})
	}
	return l
}

// filterCases pairs gRPC filters with the same filter in Qdrant's REST JSON,
// which the engine's own parser reads: every kind of condition.
func filterCases(uuid string) []struct {
	name string
	pf   *qdrant.Filter
	js   string
} {
	must := func(cs ...*qdrant.Condition) *qdrant.Filter { return &qdrant.Filter{Must: cs} }
	return []struct {
		name string
		pf   *qdrant.Filter
		js   string
	}{
		{"keyword", must(qdrant.NewMatch("color", "red")), `{"must": [{"key": "color", "match": {"value": "red"}}]}`},
		{"integer", must(qdrant.NewMatchInt("n", 3)), `{"must": [{"key": "n", "match": {"value": 3}}]}`},
		{"integer does not match double", must(qdrant.NewMatchInt("one", 1)), `{"must": [{"key": "one", "match": {"value": 1}}]}`},
		{"bool", must(qdrant.NewMatchBool("ok", true)), `{"must": [{"key": "ok", "match": {"value": true}}]}`},
		{"keywords", must(qdrant.NewMatchKeywords("color", "red", "blue")), `{"must": [{"key": "color", "match": {"any": ["red", "blue"]}}]}`},
		{"integers", must(qdrant.NewMatchInts("n", 1, 2, 3, 30)), `{"must": [{"key": "n", "match": {"any": [1, 2, 3, 30]}}]}`},
		{"except keywords", must(qdrant.NewMatchExcept("color", "red")), `{"must": [{"key": "color", "match": {"except": ["red"]}}]}`},
		{"except integers", must(qdrant.NewMatchExceptInts("n", 1, 2)), `{"must": [{"key": "n", "match": {"except": [1, 2]}}]}`},
		{"text", must(qdrant.NewMatchText("text", "number 1")), `{"must": [{"key": "text", "match": {"text": "number 1"}}]}`},
		{"phrase", must(qdrant.NewMatchPhrase("text", "number 2")), `{"must": [{"key": "text", "match": {"phrase": "number 2"}}]}`},
		{"text any", must(qdrant.NewMatchTextAny("text", "zzz 4")), `{"must": [{"key": "text", "match": {"text_any": "zzz 4"}}]}`},
		{"range", must(qdrant.NewRange("f", &qdrant.Range{Gt: qdrant.PtrOf(2.5), Lte: qdrant.PtrOf(7.0)})),
			`{"must": [{"key": "f", "range": {"gt": 2.5, "lte": 7}}]}`},
		{"nested key range", must(qdrant.NewRange("city.pop", &qdrant.Range{Gte: qdrant.PtrOf(500.0)})),
			`{"must": [{"key": "city.pop", "range": {"gte": 500}}]}`},
		{"array key", must(qdrant.NewMatchInt("items[].a", 2)), `{"must": [{"key": "items[].a", "match": {"value": 2}}]}`},
		{"datetime range", must(qdrant.NewDatetimeRange("dt", &qdrant.DatetimeRange{
			Gte: timestamppb.New(time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)), Lt: timestamppb.New(time.Date(2024, 1, 20, 0, 0, 0, 0, time.UTC))})),
			`{"must": [{"key": "dt", "range": {"gte": "2024-01-10T00:00:00Z", "lt": "2024-01-20T00:00:00Z"}}]}`},
		{"geo bounding box", must(qdrant.NewGeoBoundingBox("loc", 2, -3, -2, 2)),
			`{"must": [{"key": "loc", "geo_bounding_box": {"top_left": {"lon": -3, "lat": 2}, "bottom_right": {"lon": 2, "lat": -2}}}]}`},
		{"geo radius", must(qdrant.NewGeoRadius("loc", 0, 0, 300000)),
			`{"must": [{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 300000}}]}`},
		{"geo polygon", must(qdrant.NewGeoPolygon("loc", ring(-3, -3, 3, -3, 3, 3, -3, 3, -3, -3), ring(-1, -1, 1, -1, 1, 1, -1, 1, -1, -1))),
			`{"must": [{"key": "loc", "geo_polygon": {"exterior": {"points": [{"lon": -3, "lat": -3}, {"lon": 3, "lat": -3}, {"lon": 3, "lat": 3}, {"lon": -3, "lat": 3}, {"lon": -3, "lat": -3}]},
			"interiors": [{"points": [{"lon": -1, "lat": -1}, {"lon": 1, "lat": -1}, {"lon": 1, "lat": 1}, {"lon": -1, "lat": 1}, {"lon": -1, "lat": -1}]}]}}]}`},
		{"values count", must(qdrant.NewValuesCount("maybe", &qdrant.ValuesCount{Gte: qdrant.PtrOf(uint64(1))})),
			`{"must": [{"key": "maybe", "values_count": {"gte": 1}}]}`},
		{"is empty", must(qdrant.NewIsEmpty("maybe")), `{"must": [{"is_empty": {"key": "maybe"}}]}`},
		{"is null", must(qdrant.NewIsNull("maybe")), `{"must": [{"is_null": {"key": "maybe"}}]}`},
		{"field is_empty", must(fieldCond(&qdrant.FieldCondition{Key: "maybe", IsEmpty: qdrant.PtrOf(false)})),
			`{"must": [{"key": "maybe", "is_empty": false}]}`},
		{"field is_null", must(fieldCond(&qdrant.FieldCondition{Key: "maybe", IsNull: qdrant.PtrOf(true)})),
			`{"must": [{"key": "maybe", "is_null": true}]}`},
		{"has id", must(qdrant.NewHasID(qdrant.NewIDNum(1), qdrant.NewIDNum(4), qdrant.NewIDUUID(uuid))),
			`{"must": [{"has_id": [1, 4, "` + uuid + `"]}]}`},
		{"has vector", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewHasVector("")}, Should: []*qdrant.Condition{qdrant.NewMatch("color", "red")}},
			`{"must": [{"has_vector": ""}], "should": [{"key": "color", "match": {"value": "red"}}]}`},
		{"nested", must(qdrant.NewNestedFilter("items", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchInt("a", 1), qdrant.NewMatch("b", "y")}})),
			`{"must": [{"nested": {"key": "items", "filter": {"must": [{"key": "a", "match": {"value": 1}}, {"key": "b", "match": {"value": "y"}}]}}}]}`},
		{"min should", &qdrant.Filter{MinShould: &qdrant.MinShould{MinCount: 2, Conditions: []*qdrant.Condition{
			qdrant.NewMatch("color", "red"), qdrant.NewMatchBool("ok", true), qdrant.NewRange("n", &qdrant.Range{Lt: qdrant.PtrOf(10.0)})}}},
			`{"min_should": {"min_count": 2, "conditions": [{"key": "color", "match": {"value": "red"}}, {"key": "ok", "match": {"value": true}}, {"key": "n", "range": {"lt": 10}}]}}`},
		{"nested filter", &qdrant.Filter{
			Must:    []*qdrant.Condition{qdrant.NewFilterAsCondition(&qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatch("color", "red"), qdrant.NewMatch("color", "blue")}})},
			MustNot: []*qdrant.Condition{qdrant.NewMatchBool("ok", false)}},
			`{"must": [{"should": [{"key": "color", "match": {"value": "red"}}, {"key": "color", "match": {"value": "blue"}}]}], "must_not": [{"key": "ok", "match": {"value": false}}]}`},
		// gRPC drops empty conditions and lists: this should is absent, not
		// a clause that nothing satisfies.
		{"empty should", &qdrant.Filter{Should: []*qdrant.Condition{{}}, Must: []*qdrant.Condition{qdrant.NewMatch("color", "green")}},
			`{"must": [{"key": "color", "match": {"value": "green"}}]}`},
	}
}

func TestGRPCFilters(t *testing.T) {
	e := newGRPCEnv(t)
	pts := e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 40)
	total := len(pts)
	for _, tc := range filterCases(pts[6].GetId().GetUuid()) {
		t.Run(tc.name, func(t *testing.T) {
			ef := mustParseFilter(t, tc.js)
			want, err := e.db.Scroll(bg, "coll", &engine.ScrollRequest{Limit: 1000, Filter: ef})
			require.NoError(t, err)
			require.NotEmpty(t, want.Points, "the case should select some points")
			require.Less(t, len(want.Points), total, "the case should leave some points out")

			got, err := e.client.Scroll(bg, &qdrant.ScrollPoints{CollectionName: "coll", Filter: tc.pf, Limit: qdrant.PtrOf(uint32(1000)),
				WithPayload: qdrant.NewWithPayload(false)})
			require.NoError(t, err)
			requireRecordsEqual(t, want.Points, got)

			n, err := e.client.Count(bg, &qdrant.CountPoints{CollectionName: "coll", Filter: tc.pf})
			require.NoError(t, err)
			require.EqualValues(t, len(want.Points), n)

			// The conversion back to protobuf gives the same filter.
			f, err := filterFromProto(tc.pf)
			require.NoError(t, err)
			back, err := filterFromProto(filterToProto(f))
			require.NoError(t, err)
			requireFiltersEqual(t, f, back)
		})
	}
}

func TestGRPCQuery(t *testing.T) {
	e := newGRPCEnv(t)
	pts := e.loadTestPoints(t, "coll", qdrant.Distance_Cosine, 40)
	c := e.client
	q := []float32{0.3, -0.2, 0.5, 0.1}
	id5 := filter.NumID(5)
	uid := mustUUID(t, pts[13].GetId().GetUuid())
	red := mustParseFilter(t, `{"must": {"key": "color", "match": {"value": "red"}}}`)

	cases := []struct {
		name string
		req  *qdrant.QueryPoints
		want engine.QueryRequest
	}{
		{"nearest vector", &qdrant.QueryPoints{Query: qdrant.NewQuery(q...), Limit: qdrant.PtrOf(uint64(7)), WithPayload: qdrant.NewWithPayload(true)},
			engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}, Limit: 7, WithPayload: engine.AllPayload}},
		{"defaults", &qdrant.QueryPoints{Query: qdrant.NewQuery(q...)},
			engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}, Limit: 10}},
		{"nearest id, filter, offset, vectors", &qdrant.QueryPoints{Query: qdrant.NewQueryID(qdrant.NewIDNum(5)), Offset: qdrant.PtrOf(uint64(2)),
			Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "red")}}, WithVectors: qdrant.NewWithVectors(true)},
			engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{ID: &id5}}, Limit: 10, Offset: 2, Filter: red, WithVectors: engine.AllVectors}},
		{"score threshold, exact", &qdrant.QueryPoints{Query: qdrant.NewQuery(q...), ScoreThreshold: qdrant.PtrOf(float32(0.2)),
			Params: &qdrant.SearchParams{Exact: qdrant.PtrOf(true), HnswEf: qdrant.PtrOf(uint64(64))}, Limit: qdrant.PtrOf(uint64(100))},
			engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}, Limit: 100, ScoreThreshold: qdrant.PtrOf(float32(0.2)), Exact: true, HnswEf: 64}},
		{"recommend average", &qdrant.QueryPoints{Query: qdrant.NewQueryRecommend(&qdrant.RecommendInput{
			Positive: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDNum(5)), qdrant.NewVectorInput(q...)},
			Negative: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDUUID(uid.String()))}})},
			engine.QueryRequest{Query: &engine.Query{Recommend: &engine.RecommendQuery{
				Positive: []engine.Example{{ID: &id5}, {Vector: q}}, Negative: []engine.Example{{ID: &uid}}}}, Limit: 10}},
		{"recommend best score", &qdrant.QueryPoints{Query: qdrant.NewQueryRecommend(&qdrant.RecommendInput{
			Positive: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDNum(5))},
			Negative: []*qdrant.VectorInput{qdrant.NewVectorInput(q...)}, Strategy: qdrant.RecommendStrategy_BestScore.Enum()})},
			engine.QueryRequest{Query: &engine.Query{Recommend: &engine.RecommendQuery{
				Positive: []engine.Example{{ID: &id5}}, Negative: []engine.Example{{Vector: q}}, Strategy: engine.BestScore}}, Limit: 10}},
		{"recommend sum scores", &qdrant.QueryPoints{Query: qdrant.NewQueryRecommend(&qdrant.RecommendInput{
			Positive: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDNum(5)), qdrant.NewVectorInputID(qdrant.NewIDNum(9))},
			Strategy: qdrant.RecommendStrategy_SumScores.Enum()}), Limit: qdrant.PtrOf(uint64(4))},
			engine.QueryRequest{Query: &engine.Query{Recommend: &engine.RecommendQuery{
				Positive: []engine.Example{{ID: &id5}, {ID: ptrTo(filter.NumID(9))}}, Strategy: engine.SumScores}}, Limit: 4}},
		{"discover", &qdrant.QueryPoints{Query: qdrant.NewQueryDiscover(&qdrant.DiscoverInput{Target: qdrant.NewVectorInput(q...),
			Context: &qdrant.ContextInput{Pairs: []*qdrant.ContextInputPair{{Positive: qdrant.NewVectorInputID(qdrant.NewIDNum(2)), Negative: qdrant.NewVectorInputID(qdrant.NewIDNum(3))}}}})},
			engine.QueryRequest{Query: &engine.Query{Discover: &engine.DiscoverQuery{Target: engine.Example{Vector: q},
				Context: []engine.ContextPair{{Positive: engine.Example{ID: ptrTo(filter.NumID(2))}, Negative: engine.Example{ID: ptrTo(filter.NumID(3))}}}}}, Limit: 10}},
		{"context", &qdrant.QueryPoints{Query: qdrant.NewQueryContext(&qdrant.ContextInput{Pairs: []*qdrant.ContextInputPair{
			{Positive: qdrant.NewVectorInputID(qdrant.NewIDNum(2)), Negative: qdrant.NewVectorInput(q...)}}}), Limit: qdrant.PtrOf(uint64(5))},
			engine.QueryRequest{Query: &engine.Query{Context: []engine.ContextPair{{Positive: engine.Example{ID: ptrTo(filter.NumID(2))}, Negative: engine.Example{Vector: q}}}}, Limit: 5}},
		{"no query", &qdrant.QueryPoints{Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "red")}}, Offset: qdrant.PtrOf(uint64(1)), WithPayload: qdrant.NewWithPayloadInclude("n")},
			engine.QueryRequest{Filter: red, Offset: 1, Limit: 10, WithPayload: engine.PayloadSelector{Include: []string{"n"}}}},
		{"lookup from", &qdrant.QueryPoints{Query: qdrant.NewQueryID(qdrant.NewIDNum(5)), LookupFrom: &qdrant.LookupLocation{CollectionName: "other"}},
			engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{ID: &id5}}, Limit: 10, LookupFrom: &engine.LookupFrom{Collection: "other"}}},
	}
	e.loadTestPoints(t, "other", qdrant.Distance_Cosine, 8)
	var batch []*qdrant.QueryPoints
	var wants [][]engine.ScoredPoint
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.CollectionName = "coll"
			got, err := c.Query(bg, tc.req)
			require.NoError(t, err)
			want, err := e.db.Query(bg, "coll", &tc.want)
			require.NoError(t, err)
			require.NotEmpty(t, want)
			requireScoredEqual(t, want, got)
			batch = append(batch, tc.req)
			wants = append(wants, want)
		})
	}
	res, err := c.QueryBatch(bg, &qdrant.QueryBatchPoints{CollectionName: "coll", QueryPoints: batch})
	require.NoError(t, err)
	require.Len(t, res, len(wants))
	for i := range wants {
		requireScoredEqual(t, wants[i], res[i].GetResult())
	}

	// The point queried by id is excluded from its results.
	got, err := c.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Query: qdrant.NewQueryID(qdrant.NewIDNum(5)), Limit: qdrant.PtrOf(uint64(40))})
	require.NoError(t, err)
	require.Len(t, got, 39)
	require.NotContains(t, protoScoredIDs(got), "5")

	// A random sample: distinct points among those the filter selects.
	got, err = c.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Query: qdrant.NewQuerySample(qdrant.Sample_Random),
		Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "red")}}, Limit: qdrant.PtrOf(uint64(5))})
	require.NoError(t, err)
	require.Len(t, got, 5)
	seen := map[string]bool{}
	for _, p := range got {
		id := idString(p.GetId())
		require.False(t, seen[id])
		seen[id] = true
		ps, err := e.db.Get(bg, "coll", []filter.PointID{mustPointID(t, id)}, &engine.ReadOptions{WithPayload: engine.AllPayload})
		require.NoError(t, err)
		color, _ := ps[0].Payload.Get("color")
		require.Equal(t, "red", payloadToGo(color))
	}
}

func mustPointID(t *testing.T, s string) filter.PointID {
	t.Helper()
	id, err := filter.ParsePointID(s)
	require.NoError(t, err)
	return id
}

func TestGRPCQueryOrderBy(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 30)
	_, err := e.client.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: "f",
		FieldType: qdrant.FieldType_FieldTypeFloat.Enum(), Wait: qdrant.PtrOf(true)})
	require.NoError(t, err)
	got, err := e.client.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Limit: qdrant.PtrOf(uint64(5)), Offset: qdrant.PtrOf(uint64(2)),
		Query: qdrant.NewQueryOrderBy(&qdrant.OrderBy{Key: "f", Direction: qdrant.Direction_Desc.Enum()})})
	require.NoError(t, err)
	want, err := e.db.Query(bg, "coll", &engine.QueryRequest{Limit: 5, Offset: 2, Query: &engine.Query{OrderBy: &engine.OrderBy{Key: "f", Descending: true}}})
	require.NoError(t, err)
	requireScoredEqual(t, want, got)
	for i, p := range got {
		f, _ := want[i].OrderValue.Number()
		require.Equal(t, f, p.GetOrderValue().GetFloat())
	}
}

func TestGRPCLegacySearch(t *testing.T) {
	e := newGRPCEnv(t)
	pts := e.loadTestPoints(t, "coll", qdrant.Distance_Euclid, 40)
	c := e.client.GetPointsClient()
	q := []float32{0.3, -0.2, 0.5, 0.1}
	uid := mustUUID(t, pts[20].GetId().GetUuid())

	sr := &qdrant.SearchPoints{CollectionName: "coll", Vector: q, Limit: 6, Offset: qdrant.PtrOf(uint64(1)),
		Filter: &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewMatch("color", "blue")}}, WithPayload: qdrant.NewWithPayloadExclude("text"),
		ScoreThreshold: qdrant.PtrOf(float32(1.5))}
	resp, err := c.Search(bg, sr)
	require.NoError(t, err)
	swant, err := e.db.Search(bg, "coll", &engine.SearchRequest{Vector: q, Limit: 6, Offset: 1,
		Filter: mustParseFilter(t, `{"must_not": [{"key": "color", "match": {"value": "blue"}}]}`), ScoreThreshold: qdrant.PtrOf(float32(1.5)),
		WithPayload: engine.PayloadSelector{Enable: true, Exclude: []string{"text"}}})
	require.NoError(t, err)
	require.NotEmpty(t, swant)
	requireScoredEqual(t, swant, resp.GetResult())
	for _, p := range resp.GetResult() {
		require.Less(t, p.GetScore(), float32(1.5), "euclid thresholds keep smaller distances")
	}

	sr2 := &qdrant.SearchPoints{CollectionName: "coll", Vector: []float32{1, 1, 1, 1}, Limit: 3, WithVectors: qdrant.NewWithVectors(true)}
	bresp, err := c.SearchBatch(bg, &qdrant.SearchBatchPoints{CollectionName: "coll", SearchPoints: []*qdrant.SearchPoints{sr, sr2}})
	require.NoError(t, err)
	require.Len(t, bresp.GetResult(), 2)
	requireScoredEqual(t, swant, bresp.GetResult()[0].GetResult())
	swant2, err := e.db.Search(bg, "coll", &engine.SearchRequest{Vector: []float32{1, 1, 1, 1}, Limit: 3, WithVectors: engine.AllVectors})
	require.NoError(t, err)
	requireScoredEqual(t, swant2, bresp.GetResult()[1].GetResult())

	// Recommend, with ids and vectors on both sides.
	rr := &qdrant.RecommendPoints{CollectionName: "coll", Positive: []*qdrant.PointId{qdrant.NewIDNum(3), qdrant.NewIDUUID(uid.String())},
		PositiveVectors: []*qdrant.Vector{qdrant.NewVector(q...)}, Negative: []*qdrant.PointId{qdrant.NewIDNum(8)},
		Strategy: qdrant.RecommendStrategy_BestScore.Enum(), Limit: 5, WithPayload: qdrant.NewWithPayload(true)}
	rresp, err := c.Recommend(bg, rr)
	require.NoError(t, err)
	rwant, err := e.db.Recommend(bg, "coll", &engine.RecommendRequest{
		Positive: []engine.Example{{ID: ptrTo(filter.NumID(3))}, {ID: &uid}, {Vector: q}}, Negative: []engine.Example{{ID: ptrTo(filter.NumID(8))}},
		Strategy: engine.BestScore, Limit: 5, WithPayload: engine.AllPayload})
	require.NoError(t, err)
	requireScoredEqual(t, rwant, rresp.GetResult())
	rr2 := &qdrant.RecommendPoints{CollectionName: "coll", Positive: []*qdrant.PointId{qdrant.NewIDNum(3)}, Limit: 4}
	rbresp, err := c.RecommendBatch(bg, &qdrant.RecommendBatchPoints{CollectionName: "coll", RecommendPoints: []*qdrant.RecommendPoints{rr, rr2}})
	require.NoError(t, err)
	requireScoredEqual(t, rwant, rbresp.GetResult()[0].GetResult())
	rwant2, err := e.db.Recommend(bg, "coll", &engine.RecommendRequest{Positive: []engine.Example{{ID: ptrTo(filter.NumID(3))}}, Limit: 4})
	require.NoError(t, err)
	requireScoredEqual(t, rwant2, rbresp.GetResult()[1].GetResult())
	_, err = c.Recommend(bg, &qdrant.RecommendPoints{CollectionName: "coll", Positive: []*qdrant.PointId{qdrant.NewIDNum(9999)}, Limit: 3})
	requireCode(t, err, codes.NotFound, "No point with id 9999 found")

	// Discover with a target, and without (a context search).
	ctxPair := []*qdrant.ContextExamplePair{{Positive: &qdrant.VectorExample{Example: &qdrant.VectorExample_Id{Id: qdrant.NewIDNum(2)}},
		Negative: &qdrant.VectorExample{Example: &qdrant.VectorExample_Vector{Vector: qdrant.NewVector(q...)}}}}
	dr := &qdrant.DiscoverPoints{CollectionName: "coll", Target: qdrant.NewTargetID(qdrant.NewIDNum(4)), Context: ctxPair, Limit: 5}
	dresp, err := c.Discover(bg, dr)
	require.NoError(t, err)
	pair := []engine.ContextPair{{Positive: engine.Example{ID: ptrTo(filter.NumID(2))}, Negative: engine.Example{Vector: q}}}
	dwant, err := e.db.Query(bg, "coll", &engine.QueryRequest{Limit: 5, Query: &engine.Query{Discover: &engine.DiscoverQuery{
		Target: engine.Example{ID: ptrTo(filter.NumID(4))}, Context: pair}}})
	require.NoError(t, err)
	requireScoredEqual(t, dwant, dresp.GetResult())
	dr2 := &qdrant.DiscoverPoints{CollectionName: "coll", Context: ctxPair, Limit: 3}
	dbresp, err := c.DiscoverBatch(bg, &qdrant.DiscoverBatchPoints{CollectionName: "coll", DiscoverPoints: []*qdrant.DiscoverPoints{dr, dr2}})
	require.NoError(t, err)
	requireScoredEqual(t, dwant, dbresp.GetResult()[0].GetResult())
	dwant2, err := e.db.Query(bg, "coll", &engine.QueryRequest{Limit: 3, Query: &engine.Query{Context: pair}})
	require.NoError(t, err)
	requireScoredEqual(t, dwant2, dbresp.GetResult()[1].GetResult())
	_, err = c.Discover(bg, &qdrant.DiscoverPoints{CollectionName: "coll", Limit: 3, Context: []*qdrant.ContextExamplePair{{}}})
	requireCode(t, err, codes.InvalidArgument, "Both positive and negative are required in a context pair")
}

// requireGroupsEqual asserts that groups from gRPC match the engine's.
func requireGroupsEqual(t *testing.T, want []engine.PointGroup, got []*qdrant.PointGroup) {
	t.Helper()
	require.Len(t, got, len(want))
	for i, g := range want {
		switch g.ID.Kind() {
		case payload.String:
			s, _ := g.ID.Str()
			require.Equal(t, s, got[i].GetId().GetStringValue())
		case payload.Int:
			n, _ := g.ID.Int()
			if n >= 0 {
				require.EqualValues(t, n, got[i].GetId().GetUnsignedValue())
			} else {
				require.Equal(t, n, got[i].GetId().GetIntegerValue())
			}
		}
		requireScoredEqual(t, g.Hits, got[i].GetHits())
	}
}

func TestGRPCGroups(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 40)
	c := e.client
	q := []float32{0.3, -0.2, 0.5, 0.1}

	// Legacy search groups.
	sg, err := c.GetPointsClient().SearchGroups(bg, &qdrant.SearchPointGroups{CollectionName: "coll", Vector: q, GroupBy: "color", Limit: 2, GroupSize: 3,
		WithPayload: qdrant.NewWithPayload(true)})
	require.NoError(t, err)
	want, err := e.db.QueryGroups(bg, "coll", &engine.GroupsRequest{QueryRequest: engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}},
		Limit: 2, WithPayload: engine.AllPayload}, GroupBy: "color", GroupSize: 3})
	require.NoError(t, err)
	require.Len(t, want, 2)
	requireGroupsEqual(t, want, sg.GetResult().GetGroups())

	// Recommend groups by an integer key.
	rg, err := c.GetPointsClient().RecommendGroups(bg, &qdrant.RecommendPointGroups{CollectionName: "coll", Positive: []*qdrant.PointId{qdrant.NewIDNum(2)},
		GroupBy: "city.pop", Limit: 4, GroupSize: 1})
	require.NoError(t, err)
	want, err = e.db.QueryGroups(bg, "coll", &engine.GroupsRequest{QueryRequest: engine.QueryRequest{Query: &engine.Query{Recommend: &engine.RecommendQuery{
		Positive: []engine.Example{{ID: ptrTo(filter.NumID(2))}}}}, Limit: 4}, GroupBy: "city.pop", GroupSize: 1})
	require.NoError(t, err)
	requireGroupsEqual(t, want, rg.GetResult().GetGroups())

	// Query groups with defaults and a lookup of the group ids.
	e.createTestCollection(t, "owners", qdrant.Distance_Dot)
	_, err = c.Upsert(bg, &qdrant.UpsertPoints{CollectionName: "owners", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(0), Vectors: qdrant.NewVectors(1, 0, 0, 0), Payload: qdrant.NewValueMap(map[string]any{"owner": "zero"})},
		{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectors(0, 1, 0, 0), Payload: qdrant.NewValueMap(map[string]any{"owner": "two"})},
	}})
	require.NoError(t, err)
	groups, err := c.QueryGroups(bg, &qdrant.QueryPointGroups{CollectionName: "coll", Query: qdrant.NewQuery(q...), GroupBy: "items[].a",
		WithLookup: &qdrant.WithLookup{Collection: "owners"}})
	require.NoError(t, err)
	want, err = e.db.QueryGroups(bg, "coll", &engine.GroupsRequest{QueryRequest: engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}},
		GroupBy: "items[].a"})
	require.NoError(t, err)
	requireGroupsEqual(t, want, groups)
	lookedUp := 0
	for _, g := range groups {
		require.LessOrEqual(t, len(g.GetHits()), 3, "default group size")
		switch g.GetId().GetUnsignedValue() {
		case 0, 2:
			require.NotNil(t, g.GetLookup())
			require.Equal(t, g.GetId().GetUnsignedValue(), g.GetLookup().GetId().GetNum())
			require.NotEmpty(t, g.GetLookup().GetPayload(), "lookups carry payload by default")
			lookedUp++
		default:
			require.Nil(t, g.GetLookup())
		}
	}
	require.Equal(t, 2, lookedUp)

	_, err = c.GetPointsClient().SearchGroups(bg, &qdrant.SearchPointGroups{CollectionName: "coll", Vector: q, GroupBy: "color", Limit: 2})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body", "group_size")
}

func TestGRPCFacet(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 40)
	c := e.client
	for field, ft := range map[string]qdrant.FieldType{"color": qdrant.FieldType_FieldTypeKeyword, "n": qdrant.FieldType_FieldTypeInteger, "ok": qdrant.FieldType_FieldTypeBool} {
		_, err := c.CreateFieldIndex(bg, &qdrant.CreateFieldIndexCollection{CollectionName: "coll", FieldName: field, FieldType: ft.Enum(), Wait: qdrant.PtrOf(true)})
		require.NoError(t, err)
	}
	cases := []struct {
		req  *qdrant.FacetCounts
		want engine.FacetRequest
	}{
		{&qdrant.FacetCounts{Key: "color"}, engine.FacetRequest{Key: "color"}},
		{&qdrant.FacetCounts{Key: "n", Limit: qdrant.PtrOf(uint64(3)), Exact: qdrant.PtrOf(true),
			Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("n", &qdrant.Range{Gt: qdrant.PtrOf(30.0)})}}},
			engine.FacetRequest{Key: "n", Limit: 3, Exact: true, Filter: mustParseFilter(t, `{"must": {"key": "n", "range": {"gt": 30}}}`)}},
		{&qdrant.FacetCounts{Key: "ok"}, engine.FacetRequest{Key: "ok"}},
	}
	for _, tc := range cases {
		tc.req.CollectionName = "coll"
		got, err := c.Facet(bg, tc.req)
		require.NoError(t, err)
		want, err := e.db.Facet(bg, "coll", &tc.want)
		require.NoError(t, err)
		require.NotEmpty(t, want)
		require.Len(t, got, len(want))
		for i, h := range want {
			require.EqualValues(t, h.Count, got[i].GetCount())
			switch v := got[i].GetValue().GetVariant().(type) {
			case *qdrant.FacetValue_StringValue:
				require.Equal(t, payloadToGo(h.Value), v.StringValue)
			case *qdrant.FacetValue_IntegerValue:
				require.Equal(t, payloadToGo(h.Value), v.IntegerValue)
			case *qdrant.FacetValue_BoolValue:
				require.Equal(t, payloadToGo(h.Value), v.BoolValue)
			default:
				t.Fatalf("facet value with nothing set")
			}
		}
	}
}

func TestGRPCSearchMatrix(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 40)
	c := e.client
	// The sample is larger than the points the filter selects, so it takes
	// them all and the matrix is deterministic.
	pf := &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("n", &qdrant.Range{Lt: qdrant.PtrOf(8.0)})}}
	req := &qdrant.SearchMatrixPoints{CollectionName: "coll", Filter: pf, Sample: qdrant.PtrOf(uint64(20)), Limit: qdrant.PtrOf(uint64(2))}
	want, err := e.db.SearchMatrix(bg, "coll", &engine.MatrixRequest{Filter: mustParseFilter(t, `{"must": {"key": "n", "range": {"lt": 8}}}`), Sample: 20, Limit: 2})
	require.NoError(t, err)
	require.Len(t, want.IDs, 8)

	pairs, err := c.SearchMatrixPairs(bg, req)
	require.NoError(t, err)
	require.Len(t, pairs.GetPairs(), len(want.Pairs))
	for i, p := range want.Pairs {
		require.Equal(t, p.A.String(), idString(pairs.GetPairs()[i].GetA()))
		require.Equal(t, p.B.String(), idString(pairs.GetPairs()[i].GetB()))
		require.Equal(t, p.Score, pairs.GetPairs()[i].GetScore())
	}

	offs, err := c.SearchMatrixOffsets(bg, req)
	require.NoError(t, err)
	require.Len(t, offs.GetIds(), len(want.IDs))
	for i, id := range want.IDs {
		require.Equal(t, id.String(), idString(offs.GetIds()[i]))
	}
	require.Len(t, offs.GetScores(), len(want.Pairs))
	for i, p := range want.Pairs {
		require.Equal(t, p.A.String(), idString(offs.GetIds()[offs.GetOffsetsRow()[i]]))
		require.Equal(t, p.B.String(), idString(offs.GetIds()[offs.GetOffsetsCol()[i]]))
		require.Equal(t, p.Score, offs.GetScores()[i])
	}

	_, err = c.SearchMatrixPairs(bg, &qdrant.SearchMatrixPoints{CollectionName: "coll", Sample: qdrant.PtrOf(uint64(1))})
	requireCode(t, err, codes.InvalidArgument, "Validation error in body", "sample")
}

// TestGRPCLargeLimits checks that limits and offsets far beyond the
// collection's size answer as small ones do.
func TestGRPCLargeLimits(t *testing.T) {
	e := newGRPCEnv(t)
	e.loadTestPoints(t, "coll", qdrant.Distance_Dot, 12)
	c := e.client
	q := []float32{1, 0, 0, 0}
	huge := uint64(1) << 40

	got, err := c.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Query: qdrant.NewQuery(q...), Limit: &huge})
	require.NoError(t, err)
	want, err := e.db.Query(bg, "coll", &engine.QueryRequest{Query: &engine.Query{Nearest: &engine.Example{Vector: q}}, Limit: 100})
	require.NoError(t, err)
	requireScoredEqual(t, want, got)

	got, err = c.Query(bg, &qdrant.QueryPoints{CollectionName: "coll", Query: qdrant.NewQuery(q...), Offset: &huge})
	require.NoError(t, err)
	require.Empty(t, got)

	sr, err := c.GetPointsClient().Search(bg, &qdrant.SearchPoints{CollectionName: "coll", Vector: q, Limit: math.MaxUint64, Offset: qdrant.PtrOf(uint64(3))})
	require.NoError(t, err)
	require.Len(t, sr.GetResult(), 9)

	recs, err := c.Scroll(bg, &qdrant.ScrollPoints{CollectionName: "coll", Limit: qdrant.PtrOf(uint32(math.MaxUint32))})
	require.NoError(t, err)
	require.Len(t, recs, 12)

	rr, err := c.GetPointsClient().Recommend(bg, &qdrant.RecommendPoints{CollectionName: "coll", Positive: []*qdrant.PointId{qdrant.NewIDNum(1)},
		Strategy: qdrant.RecommendStrategy_SumScores.Enum(), Limit: huge})
	require.NoError(t, err)
	require.Len(t, rr.GetResult(), 11)
}
