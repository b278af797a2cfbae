package filter

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload"
)

// FuzzParseJSON checks that parsing never panics and that whatever parses
// encodes to JSON that parses back to an equal filter, which evaluates and
// plans without panicking.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"should": []}`,
		`{"must": {"key": "a", "match": {"value": "x"}}}`,
		`{"must": [{"key": "a[].b", "match": {"any": [1, 2]}}, {"key": "c", "match": {"except": ["x"]}}]}`,
		`{"should": [{"key": "t", "match": {"text_any": "a b"}}, {"key": "t", "match": {"phrase": "a b"}}]}`,
		`{"must_not": [{"key": "r", "range": {"gt": 1.5, "lte": 1e10}}, {"key": "d", "range": {"gte": "2020-01-01T00:00:00Z"}}]}`,
		`{"must": [{"key": "g", "geo_radius": {"center": {"lon": 1, "lat": 2}, "radius": 3}}]}`,
		`{"must": [{"key": "g", "geo_bounding_box": {"top_left": {"lon": 1, "lat": 2}, "bottom_right": {"lon": 3, "lat": 1}}}]}`,
		`{"must": [{"key": "g", "geo_polygon": {"exterior": {"points": [{"lon":0,"lat":0},{"lon":1,"lat":0},{"lon":1,"lat":1},{"lon":0,"lat":0}]}, "interiors": []}}]}`,
		`{"must": [{"key": "v", "values_count": {"gt": 1}}, {"key": "e", "is_empty": true}, {"key": "n", "is_null": false}]}`,
		`{"must": [{"is_empty": {"key": "a"}}, {"is_null": {"key": "b"}}, {"has_id": [1, "550e8400-e29b-41d4-a716-446655440000"]}, {"has_vector": ""}]}`,
		`{"must": [{"nested": {"key": "diet", "filter": {"must": [{"key": "food", "match": {"value": "meat"}}]}}}]}`,
		`{"min_should": {"conditions": [{"has_id": [1]}, {"must": []}], "min_count": 1}}`,
		`{"must": [{"key": "b"}]}`, `{"must": [{"key": "a", "match": {"value": 1.5}}]}`,
	} {
		f.Add([]byte(s))
	}
	p1 := &testPoint{id: NumID(1), payload: payload.ObjectValue(
		payload.Field{Key: "a", Value: payload.StringValue("x")},
		payload.Field{Key: "diet", Value: payload.ArrayValue(payload.ObjectValue(payload.Field{Key: "food", Value: payload.StringValue("meat")}))},
	), vectors: []string{""}}
	p2 := &testPoint{id: NumID(2)}
	all := roaring.New()
	all.AddRange(0, 2)
	f.Fuzz(func(t *testing.T, b []byte) {
		flt, err := ParseJSON(b)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidFilter)
			return
		}
		out, err := flt.MarshalJSON()
		require.NoError(t, err)
		back, err := ParseJSON(out)
		require.NoError(t, err, "%s -> %s", b, out)
		require.Equal(t, flt, back, "%s -> %s", b, out)
		if flt != nil {
			require.NoError(t, flt.Validate())
		}
		for _, p := range []*testPoint{p1, p2} {
			flt.Matches(p)
		}
		flt.Plan(nil, 2, all)
	})
}
