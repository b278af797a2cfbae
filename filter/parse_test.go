package filter

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload"
)

func TestParseErrors(t *testing.T) {
	f := func(js, wantPath, wantMsg string) {
		t.Helper()
		got, err := ParseJSON([]byte(js))
		require.Error(t, err, js)
		require.Nil(t, got)
		require.ErrorIs(t, err, ErrInvalidFilter)
		var fe *Error
		require.True(t, errors.As(err, &fe), "%T", err)
		require.Equal(t, wantPath, fe.Path, "%s: %v", js, err)
		require.Contains(t, fe.Msg, wantMsg, js)
		require.False(t, fe.Validation, js)
		require.True(t, strings.HasPrefix(err.Error(), wantPath+": "))
	}
	// Malformed JSON.
	f(``, "filter", "EOF")
	f(`{`, "filter", "EOF")
	f(`{"must": [}`, "filter", "invalid character")
	f(`{} {}`, "filter", "trailing")
	f(strings.Repeat("[", 200)+strings.Repeat("]", 200), "filter", "recursion limit")
	// Filter objects.
	f(`[]`, "filter", "expected a filter object, got an array")
	f(`{"wrong": "query"}`, "filter", "unknown field `wrong`")
	f(`{"must": [], "must": []}`, "filter", "duplicate field `must`")
	f(`{"must": 5}`, "filter.must", "expected a condition, an array of conditions or null")
	f(`{"must": [5]}`, "filter.must[0]", "expected a condition object, got a number")
	f(`{"must": [{}, {"foo": 1}]}`, "filter.must[1]", "unknown field `foo`: expected a condition")
	f(`{"should": [{"must": [{"key": "a"}], "x": 1}]}`, "filter.should[0]", "unknown field `x`")
	// Field conditions.
	f(`{"must": [{"key": 5, "match": {"value": 1}}]}`, "filter.must[0].key", "expected a string, got a number")
	f(`{"must": [{"key": "a..b", "match": {"value": 1}}]}`, "filter.must[0].key", "Invalid json path: 'a..b'")
	f(`{"must": [{"key": "", "match": {"value": 1}}]}`, "filter.must[0].key", "Invalid json path: ''")
	f(`{"must": [{"key": "a", "key": "b", "match": {"value": 1}}]}`, "filter.must[0]", "duplicate field `key`")
	f(`{"must": [{"key": "a", "match": 1}]}`, "filter.must[0].match", "expected an object, got a number")
	f(`{"must": [{"key": "a", "match": {}}]}`, "filter.must[0].match", "data did not match any variant of untagged enum MatchInterface")
	f(`{"must": [{"key": "a", "match": {"foo": 1}}]}`, "filter.must[0].match", "data did not match any variant of untagged enum MatchInterface")
	f(`{"must": [{"key": "a", "match": {"value": 1.5}}]}`, "filter.must[0].match.value", "floats are not allowed")
	f(`{"must": [{"key": "a", "match": {"value": 1.0}}]}`, "filter.must[0].match.value", "floats are not allowed")
	f(`{"must": [{"key": "a", "match": {"value": 9223372036854775808}}]}`, "filter.must[0].match.value", "expected a string, an integer or a boolean")
	f(`{"must": [{"key": "a", "match": {"value": null}}]}`, "filter.must[0].match.value", "got null")
	f(`{"must": [{"key": "a", "match": {"value": [1]}}]}`, "filter.must[0].match.value", "got an array")
	f(`{"must": [{"key": "a", "match": {"any": ["a", 1]}}]}`, "filter.must[0].match.any", "not mixed")
	f(`{"must": [{"key": "a", "match": {"any": [1.5]}}]}`, "filter.must[0].match.any", "not mixed")
	f(`{"must": [{"key": "a", "match": {"any": "a"}}]}`, "filter.must[0].match.any", "expected an array")
	f(`{"must": [{"key": "a", "match": {"except": [true]}}]}`, "filter.must[0].match.except", "array of strings or an array of integers")
	f(`{"must": [{"key": "a", "match": {"text": 5}}]}`, "filter.must[0].match.text", "expected a string")
	f(`{"must": [{"key": "a", "match": {"phrase": null}}]}`, "filter.must[0].match.phrase", "expected a string")
	f(`{"must": [{"key": "a", "match": {"text_any": []}}]}`, "filter.must[0].match.text_any", "expected a string")
	f(`{"must": [{"key": "a", "range": 5}]}`, "filter.must[0].range", "expected an object")
	f(`{"must": [{"key": "a", "range": {"gt": true}}]}`, "filter.must[0].range.gt", "expected a number or a datetime string")
	f(`{"must": [{"key": "a", "range": {"gt": 1e400}}]}`, "filter.must[0].range.gt", "expected a number")
	f(`{"must": [{"key": "a", "range": {"gt": "2020-01-01", "lt": 5}}]}`, "filter.must[0].range.lt", "expected a datetime string")
	f(`{"must": [{"key": "a", "range": {"gte": "2014-01-01T00:00:00BAD"}}]}`, "filter.must[0].range.gte", "'2014-01-01T00:00:00BAD' does not match accepted datetime format (RFC3339)")
	f(`{"must": [{"key": "a", "values_count": {"gt": -1}}]}`, "filter.must[0].values_count.gt", "expected an unsigned integer, got -1")
	f(`{"must": [{"key": "a", "values_count": {"gt": 1.0}}]}`, "filter.must[0].values_count.gt", "expected an unsigned integer")
	f(`{"must": [{"key": "a", "values_count": []}]}`, "filter.must[0].values_count", "expected an object")
	f(`{"must": [{"key": "a", "is_empty": "yes"}]}`, "filter.must[0].is_empty", "expected a boolean")
	f(`{"must": [{"key": "a", "is_null": 1}]}`, "filter.must[0].is_null", "expected a boolean")
	// Geo.
	f(`{"must": [{"key": "g", "geo_bounding_box": {"top_left": {"lon": 1113.4, "lat": 52.5}, "bottom_right": {"lon": 13.4, "lat": 52.5}}}]}`,
		"filter.must[0].geo_bounding_box.top_left", "Wrong format of GeoPoint payload")
	f(`{"must": [{"key": "g", "geo_bounding_box": {"top_left": {"lon": 1, "lat": 2}}}]}`, "filter.must[0].geo_bounding_box", "missing field `bottom_right`")
	f(`{"must": [{"key": "g", "geo_bounding_box": {"top_left": {"lon": 1}, "bottom_right": {"lon": 1, "lat": 2}}}]}`, "filter.must[0].geo_bounding_box.top_left", "missing field `lat`")
	f(`{"must": [{"key": "g", "geo_radius": {"center": {"lon": 1, "lat": 2}}}]}`, "filter.must[0].geo_radius", "missing field `radius`")
	f(`{"must": [{"key": "g", "geo_radius": {"center": {"lon": 1, "lat": 91}, "radius": 1}}]}`, "filter.must[0].geo_radius.center", "within [-90;90]")
	f(`{"must": [{"key": "g", "geo_radius": {"center": {"lon": 1, "lat": 2}, "radius": "1"}}]}`, "filter.must[0].geo_radius.radius", "expected a number")
	f(`{"must": [{"key": "g", "geo_polygon": {"exterior": {}, "interiors": []}}]}`, "filter.must[0].geo_polygon.exterior", "missing field `points`")
	f(`{"must": [{"key": "g", "geo_polygon": {"exterior": {"points": [{"lon": -12, "lat": -34}, {"lon": 11, "lat": -22}, {"lon": -32, "lat": -14}]}}}]}`,
		"filter.must[0].geo_polygon.exterior", "polygon invalid, the size must be at least 4, got 3")
	f(`{"must": [{"key": "g", "geo_polygon": {"exterior": {"points": [{"lon": -12, "lat": -34}, {"lon": 11, "lat": -22}, {"lon": -32, "lat": -14}, {"lon": -12, "lat": -33}]}}}]}`,
		"filter.must[0].geo_polygon.exterior", "the first and the last points should be the same")
	f(`{"must": [{"key": "g", "geo_polygon": {"exterior": {"points": [{"lon": -12, "lat": -34}, {"lon": 11, "lat": -22}, {"lon": -32, "lat": -14}, {"lon": -12, "lat": -34}]},
		"interiors": [{"points": [{"lon": -12, "lat": -34}, {"lon": 11, "lat": -22}, {"lon": -32, "lat": -14}]}]}}]}`,
		"filter.must[0].geo_polygon.interiors[0]", "the size must be at least 4, got 3")
	f(`{"must": [{"key": "g", "geo_polygon": {"exterior": {"points": []}, "interiors": 5}}]}`, "filter.must[0].geo_polygon.exterior", "got 0")
	// Other conditions.
	f(`{"must": [{"is_empty": {"key": 1}}]}`, "filter.must[0].is_empty.key", "expected a string")
	f(`{"must": [{"is_empty": "a"}]}`, "filter.must[0].is_empty", "expected an object {key}")
	f(`{"must": [{"is_null": {}}]}`, "filter.must[0].is_null", "missing field `key`")
	f(`{"must": [{"has_id": 1}]}`, "filter.must[0].has_id", "expected an array of point ids")
	f(`{"must": [{"has_id": [-1]}]}`, "filter.must[0].has_id[0]", "value -1 is not a valid point ID")
	f(`{"must": [{"has_id": [1, "42"]}]}`, "filter.must[0].has_id[1]", `value "42" is not a valid point ID`)
	f(`{"must": [{"has_id": [1.5]}]}`, "filter.must[0].has_id[0]", "valid values are either an unsigned integer or a UUID")
	f(`{"must": [{"has_vector": 1}]}`, "filter.must[0].has_vector", "expected a vector name string")
	f(`{"must": [{"nested": {"key": "a"}}]}`, "filter.must[0].nested", "missing field `filter`")
	f(`{"must": [{"nested": {"filter": {}}}]}`, "filter.must[0].nested", "missing field `key`")
	f(`{"must": [{"nested": {"key": "a", "filter": {"must": [{"bad": 1}]}}}]}`, "filter.must[0].nested.filter.must[0]", "unknown field `bad`")
	f(`{"must": [{"nested": {"key": "a", "filter": {"oops": []}}}]}`, "filter.must[0].nested.filter", "unknown field `oops`")
	f(`{"min_should": 1}`, "filter.min_should", "expected an object")
	f(`{"min_should": {"min_count": 1}}`, "filter.min_should", "missing field `conditions`")
	f(`{"min_should": {"conditions": []}}`, "filter.min_should", "missing field `min_count`")
	f(`{"min_should": {"conditions": {"has_id": [1]}, "min_count": 1}}`, "filter.min_should.conditions", "expected an array of conditions")
	f(`{"min_should": {"conditions": [], "min_count": -1}}`, "filter.min_should.min_count", "expected an unsigned integer")
	f(`{"min_should": {"conditions": [{"x": 1}], "min_count": 1}}`, "filter.min_should.conditions[0]", "unknown field `x`")
	// Deep paths.
	f(`{"must": [{"should": [{"must_not": {"key": "a", "match": {"value": 1.5}}}]}]}`, "filter.must[0].should[0].must_not.match.value", "floats")
}

func TestParseValidationError(t *testing.T) {
	_, err := ParseJSON([]byte(`{"must": [{"key": "a", "match": {"value": 1}}, {"key": "b"}]}`))
	var fe *Error
	require.ErrorAs(t, err, &fe)
	require.ErrorIs(t, err, ErrInvalidFilter)
	require.True(t, fe.Validation)
	require.Equal(t, "filter.must[1]", fe.Path)
	require.Equal(t, "At least one field condition must be specified", fe.Msg)
	// A format error anywhere wins over a validation error, as Qdrant
	// validates only what it could deserialize.
	_, err = ParseJSON([]byte(`{"must": [{"key": "b"}, {"key": "a", "match": {"value": 1.5}}]}`))
	require.ErrorAs(t, err, &fe)
	require.False(t, fe.Validation)
	require.Equal(t, "filter.must[1].match.value", fe.Path)
	// Unknown fields only: still a field condition with no test.
	_, err = ParseJSON([]byte(`{"must": {"key": "a", "color": "red"}}`))
	require.ErrorAs(t, err, &fe)
	require.True(t, fe.Validation)
	require.Equal(t, "filter.must", fe.Path)
}

func TestParseShapes(t *testing.T) {
	f := mustFilter(t, `{
		"should": {"key": "a", "match": {"value": "x"}},
		"must": [
			{"key": "i", "match": {"value": -5}},
			{"key": "b", "match": {"value": false}},
			{"key": "s", "match": {"any": ["x", "y", "x"]}},
			{"key": "n", "match": {"except": [3, 1, 3]}},
			{"key": "e", "match": {"any": []}},
			{"key": "t", "match": {"text": "hello"}},
			{"key": "t", "match": {"phrase": "hello w"}},
			{"key": "t", "match": {"text_any": "a b"}},
			{"key": "r", "range": {"gt": 1, "lte": 2.5, "lt": null}},
			{"key": "d", "range": {"gte": "2020-01-01T00:00:00+01:00", "lt": null}},
			{"key": "v", "values_count": {"gte": 1, "lt": 18446744073709551615}},
			{"key": "z", "is_empty": true, "is_null": false, "extra": {"ignored": true}},
			{"is_empty": {"key": "ie", "extra": 1}},
			{"is_null": {"key": "in"}},
			{"has_id": [1, "550E8400-E29B-41D4-A716-446655440000", 1]},
			{"has_vector": ""},
			{"nested": {"key": "arr", "filter": {"must": {"key": "x", "match": {"value": 1}}}, "extra": 2}},
			{"must": [], "must_not": null}
		],
		"must_not": [],
		"min_should": {"conditions": [{"has_id": [2]}], "min_count": 1, "extra": 3}
	}`)
	require.Len(t, f.Should, 1)
	require.NotNil(t, f.MustNot)
	require.Empty(t, f.MustNot)
	require.Equal(t, 1, f.MinShould.MinCount)
	require.Len(t, f.Must, 18)
	field := func(i int) *Field { return f.Must[i].(*Field) }
	require.Equal(t, MatchInteger, field(0).Match.Kind)
	require.Equal(t, int64(-5), field(0).Match.Integer)
	require.Equal(t, MatchBool, field(1).Match.Kind)
	require.False(t, field(1).Match.Bool)
	require.Equal(t, MatchAnyKeywords, field(2).Match.Kind)
	require.Equal(t, []string{"x", "y"}, field(2).Match.Keywords)
	require.Equal(t, MatchExceptIntegers, field(3).Match.Kind)
	require.Equal(t, []int64{3, 1}, field(3).Match.Integers)
	require.Equal(t, MatchAnyKeywords, field(4).Match.Kind)
	require.Empty(t, field(4).Match.Keywords)
	require.Equal(t, MatchText, field(5).Match.Kind)
	require.Equal(t, MatchPhrase, field(6).Match.Kind)
	require.Equal(t, "hello w", field(6).Match.Text)
	require.Equal(t, MatchTextAny, field(7).Match.Kind)
	require.Equal(t, &payload.Range{GT: ptr(1.0), LTE: ptr(2.5)}, field(8).Range)
	require.Nil(t, field(8).DatetimeRange)
	require.Nil(t, field(9).Range)
	require.Equal(t, time.Date(2019, 12, 31, 23, 0, 0, 0, time.UTC), *field(9).DatetimeRange.GTE)
	require.Nil(t, field(9).DatetimeRange.LT)
	require.Equal(t, &ValuesCount{GTE: ptr(uint64(1)), LT: ptr(uint64(18446744073709551615))}, field(10).ValuesCount)
	require.Equal(t, ptr(true), field(11).IsEmpty)
	require.Equal(t, ptr(false), field(11).IsNull)
	require.Equal(t, "ie", f.Must[12].(*IsEmpty).Key.String())
	require.Equal(t, "in", f.Must[13].(*IsNull).Key.String())
	u, _ := ParseUUID("550e8400-e29b-41d4-a716-446655440000")
	require.Equal(t, []PointID{NumID(1), u}, f.Must[14].(*HasID).IDs)
	require.Equal(t, "", f.Must[15].(*HasVector).Name)
	n := f.Must[16].(*Nested)
	require.Equal(t, "arr", n.Key.String())
	require.Len(t, n.Filter.Must, 1)
	inner := f.Must[17].(*Filter)
	require.NotNil(t, inner.Must)
	require.Empty(t, inner.Must)
	require.Nil(t, inner.MustNot)

	// null is no filter.
	g, err := ParseJSON([]byte(` null `))
	require.NoError(t, err)
	require.Nil(t, g)
}

func TestParseUntaggedOrder(t *testing.T) {
	// With "key" it is a field condition, whatever else is there.
	f := mustFilter(t, `{"must": {"key": "a", "is_empty": true, "has_id": [1]}}`)
	require.IsType(t, &Field{}, f.Must[0])
	// is_empty before has_id; an invalid variant falls through to the next.
	f = mustFilter(t, `{"must": {"is_empty": {"key": "a"}, "has_id": [1]}}`)
	require.IsType(t, &IsEmpty{}, f.Must[0])
	f = mustFilter(t, `{"must": {"is_empty": 5, "has_id": [1]}}`)
	require.IsType(t, &HasID{}, f.Must[0])
	f = mustFilter(t, `{"must": {"has_vector": "v", "nested": {"key": "a", "filter": {}}}}`)
	require.IsType(t, &HasVector{}, f.Must[0])
	// A filter is the last resort.
	f = mustFilter(t, `{"must": {"must": {"has_id": [1]}}}`)
	require.IsType(t, &Filter{}, f.Must[0])
	// Match variant order: value, text, text_any, phrase, any, except.
	f = mustFilter(t, `{"must": {"key": "a", "match": {"except": ["x"], "any": ["y"], "phrase": "p", "text": "t", "value": "v"}}}`)
	require.Equal(t, MatchKeyword, f.Must[0].(*Field).Match.Kind)
	f = mustFilter(t, `{"must": {"key": "a", "match": {"except": ["x"], "any": ["y"], "phrase": "p", "text_any": "t"}}}`)
	require.Equal(t, MatchTextAny, f.Must[0].(*Field).Match.Kind)
	f = mustFilter(t, `{"must": {"key": "a", "match": {"value": 1.5, "any": [1]}}}`)
	require.Equal(t, MatchAnyIntegers, f.Must[0].(*Field).Match.Kind)
	// A range with a string bound is a datetime range; numbers only, a
	// numeric one.
	f = mustFilter(t, `{"must": {"key": "a", "range": {"gt": null, "lt": "2020-01-01"}}}`)
	require.NotNil(t, f.Must[0].(*Field).DatetimeRange)
	f = mustFilter(t, `{"must": {"key": "a", "range": {"gt": null, "x": "2020-01-01"}}}`)
	require.NotNil(t, f.Must[0].(*Field).Range)
}

func TestRoundTrip(t *testing.T) {
	for _, js := range []string{
		`{}`,
		`{"should":[]}`,
		`{"must":[],"must_not":[]}`,
		`{"should":[{"key":"a","match":{"value":"x\"\\\n\u0001é"}}],"min_should":{"conditions":[{"has_id":[1,18446744073709551615,"550e8400-e29b-41d4-a716-446655440000"]}],"min_count":1},"must":[{"key":"b","match":{"value":-9223372036854775808}},{"key":"c","match":{"value":true}}],"must_not":[{"key":"d","match":{"any":[1,2]}}]}`,
		`{"must":[{"key":"a","match":{"except":["x"]}},{"key":"a","match":{"except":[5]}},{"key":"a","match":{"any":[]}},{"key":"t","match":{"text":"x"}},{"key":"t","match":{"phrase":"x y"}},{"key":"t","match":{"text_any":"x y"}}]}`,
		`{"must":[{"key":"r","range":{"lt":1.5,"gt":-1e+300,"gte":0.1,"lte":5}},{"key":"d","range":{"gte":"2020-03-01T00:00:00.123456Z","lt":"2021-01-01T00:00:00Z"}}]}`,
		`{"must":[{"key":"g","geo_bounding_box":{"top_left":{"lon":-1,"lat":1},"bottom_right":{"lon":1,"lat":-1}}},{"key":"g","geo_radius":{"center":{"lon":13.4,"lat":52.5},"radius":1000.5}}]}`,
		`{"must":[{"key":"g","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},{"lon":1,"lat":1},{"lon":0,"lat":0}]},"interiors":[]}}]}`,
		`{"must":[{"key":"g","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},{"lon":1,"lat":1},{"lon":0,"lat":0}]}}}]}`,
		`{"must":[{"key":"v","values_count":{"lt":3,"gt":0,"gte":1,"lte":18446744073709551615}},{"key":"e","is_empty":false},{"key":"n","is_null":true}]}`,
		`{"must":[{"is_empty":{"key":"a[].b"}},{"is_null":{"key":"\"x.y\".z"}},{"has_vector":"image"},{"nested":{"key":"diet[]","filter":{"must":[{"key":"food","match":{"value":"meat"}}],"should":[]}}},{"must_not":[{"has_id":[]}]}]}`,
	} {
		f := mustFilter(t, js)
		b, err := f.MarshalJSON()
		require.NoError(t, err)
		require.JSONEq(t, js, string(b))
		g := mustFilter(t, string(b))
		require.Equal(t, f, g, js)
		// encoding/json uses the same methods.
		var h Filter
		require.NoError(t, json.Unmarshal(b, &h))
		require.Equal(t, *f, h)
		out, err := json.Marshal(&h)
		require.NoError(t, err)
		require.JSONEq(t, js, string(out))
	}
	b, err := (*Filter)(nil).MarshalJSON()
	require.NoError(t, err)
	require.Equal(t, "null", string(b))
}

func TestMarshalErrors(t *testing.T) {
	k := payload.MustParsePath("a")
	for _, f := range []*Filter{
		{Must: []Condition{nil}},
		{Must: []Condition{(*Field)(nil)}},
		{Must: []Condition{&Field{Key: k, Match: &Match{}}}},
		{Must: []Condition{&Field{Key: k, Range: &payload.Range{}, DatetimeRange: &payload.DatetimeRange{}}}},
	} {
		_, err := f.MarshalJSON()
		require.ErrorIs(t, err, ErrInvalidFilter)
	}
}

func TestValidate(t *testing.T) {
	k := payload.MustParsePath("a")
	ok := []*Filter{
		nil, {},
		{Must: []Condition{&Field{Key: k, Match: NewMatchKeyword("x")}}},
		{MinShould: &MinShould{Conditions: []Condition{NewHasID(NumID(1))}, MinCount: 1}},
		{Should: []Condition{&Nested{Key: k, Filter: &Filter{}}, &IsEmpty{Key: k}, &IsNull{Key: k}, &HasVector{}}},
	}
	for _, f := range ok {
		require.NoError(t, f.Validate())
	}
	bad := []struct {
		f    *Filter
		path string
	}{
		{&Filter{Must: []Condition{&Field{Key: k}}}, "filter.must[0]"},
		{&Filter{Must: []Condition{&Field{Match: NewMatchKeyword("x")}}}, "filter.must[0].key"},
		{&Filter{Should: []Condition{nil}}, "filter.should[0]"},
		{&Filter{MustNot: []Condition{&IsEmpty{}}}, "filter.must_not[0].is_empty.key"},
		{&Filter{MinShould: &MinShould{MinCount: -1}}, "filter.min_should.min_count"},
		{&Filter{Must: []Condition{&Nested{Key: k}}}, "filter.must[0].nested.filter"},
		{&Filter{Must: []Condition{&Nested{Key: k, Filter: &Filter{Must: []Condition{&Field{Key: k}}}}}}, "filter.must[0].nested.filter.must[0]"},
		{&Filter{Must: []Condition{&Field{Key: k, GeoRadius: &payload.GeoRadius{Center: payload.GeoPoint{Lon: 200}}}}}, "filter.must[0].geo_radius.center"},
		{&Filter{Must: []Condition{&Field{Key: k, GeoPolygon: &payload.GeoPolygon{Exterior: []payload.GeoPoint{{}, {}, {}}}}}}, "filter.must[0].geo_polygon.exterior"},
	}
	for _, b := range bad {
		err := b.f.Validate()
		var fe *Error
		require.ErrorAs(t, err, &fe)
		require.Equal(t, b.path, fe.Path, "%v", err)
	}
}
