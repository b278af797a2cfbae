package filter

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload"
)

// check evaluates filter on a point with the payload and id 7 and vectors
// "" and "image".
func check(t *testing.T, payloadJSON, filterJSON string, want bool) {
	t.Helper()
	p := &testPoint{id: NumID(7), payload: mustPayload(t, payloadJSON), vectors: []string{"", "image"}}
	f := mustFilter(t, filterJSON)
	require.Equal(t, want, f.Matches(p), "payload %s filter %s", payloadJSON, filterJSON)
	// The same through an Evaluator without indexes, and after a JSON round
	// trip of the filter.
	require.Equal(t, want, NewEvaluator(nil).Matches(f, p))
	b, err := f.MarshalJSON()
	require.NoError(t, err)
	g := mustFilter(t, string(b))
	require.Equal(t, want, g.Matches(p), "round trip %s", b)
}

func TestClauses(t *testing.T) {
	p := `{"a": 1, "b": 2}`
	a1 := `{"key": "a", "match": {"value": 1}}`
	a2 := `{"key": "a", "match": {"value": 2}}`
	b2 := `{"key": "b", "match": {"value": 2}}`

	// must: every condition.
	check(t, p, `{"must": [`+a1+`,`+b2+`]}`, true)
	check(t, p, `{"must": [`+a2+`,`+b2+`]}`, false)
	// must_not: no condition.
	check(t, p, `{"must_not": [`+a2+`]}`, true)
	check(t, p, `{"must_not": [`+a2+`,`+b2+`]}`, false)
	// should: at least one.
	check(t, p, `{"should": [`+a2+`,`+b2+`]}`, true)
	check(t, p, `{"should": [`+a2+`]}`, false)
	// A single condition instead of an array.
	check(t, p, `{"must": `+a1+`}`, true)
	check(t, p, `{"should": `+a2+`}`, false)
	check(t, p, `{"must_not": `+a1+`}`, false)
	// Empty lists impose nothing on whole points (Qdrant drops them).
	check(t, p, `{"should": []}`, true)
	check(t, p, `{"should": [], "must": [`+a1+`]}`, true)
	check(t, p, `{"should": [], "must": [`+a2+`]}`, false)
	check(t, p, `{"should": [], "must_not": [`+a1+`]}`, false)
	check(t, p, `{"must": []}`, true)
	check(t, p, `{"must_not": []}`, true)
	check(t, p, `{}`, true)
	check(t, p, `{"must": null, "should": null}`, true)
	// All clauses at once: should AND min_should AND must AND must_not.
	check(t, p, `{"should": [`+a1+`], "must": [`+b2+`], "must_not": [`+a2+`]}`, true)
	check(t, p, `{"should": [`+a2+`], "must": [`+b2+`]}`, false)
	// Filters nest as conditions.
	check(t, p, `{"must": [{"should": [`+a2+`,`+b2+`]}]}`, true)
	check(t, p, `{"must_not": [{"must": [`+a1+`,`+b2+`]}]}`, false)
	check(t, p, `{"must": [{}]}`, true)
	check(t, p, `{"must": [{"should": []}]}`, true)
	check(t, p, `{"must_not": [{"should": []}]}`, false)
	check(t, p, `{"should": [{"should": []}]}`, true)
	check(t, p, `{"must_not": [{"must": []}]}`, false)
	check(t, p, `{"must_not": [{"should": [], "must": [`+a2+`]}]}`, true)
}

func TestMinShould(t *testing.T) {
	p := `{"a": 1, "b": 2, "c": 3}`
	conds := `[{"key": "a", "match": {"value": 1}}, {"key": "b", "match": {"value": 0}}, {"key": "c", "match": {"value": 3}}]`
	check(t, p, `{"min_should": {"conditions": `+conds+`, "min_count": 0}}`, true)
	check(t, p, `{"min_should": {"conditions": `+conds+`, "min_count": 1}}`, true)
	check(t, p, `{"min_should": {"conditions": `+conds+`, "min_count": 2}}`, true)
	check(t, p, `{"min_should": {"conditions": `+conds+`, "min_count": 3}}`, false)
	check(t, p, `{"min_should": {"conditions": `+conds+`, "min_count": 4}}`, false)
	check(t, p, `{"min_should": {"conditions": [], "min_count": 0}}`, true)
	check(t, p, `{"min_should": {"conditions": [], "min_count": 1}}`, true)
	check(t, p, `{"min_should": {"conditions": [], "min_count": 2}}`, true)
	check(t, p, `{"must_not": [{"min_should": {"conditions": [], "min_count": 1}}]}`, false)
	// Combined with must.
	check(t, p, `{"must": [{"key": "b", "match": {"value": 0}}], "min_should": {"conditions": `+conds+`, "min_count": 1}}`, false)
}

func TestMatchValue(t *testing.T) {
	// Keyword: string equality only.
	check(t, `{"c": "red"}`, `{"must": {"key": "c", "match": {"value": "red"}}}`, true)
	check(t, `{"c": "Red"}`, `{"must": {"key": "c", "match": {"value": "red"}}}`, false)
	check(t, `{"c": 1}`, `{"must": {"key": "c", "match": {"value": "1"}}}`, false)
	// Multi-values: any element.
	check(t, `{"c": ["blue", "red"]}`, `{"must": {"key": "c", "match": {"value": "red"}}}`, true)
	check(t, `{"c": ["blue", "green"]}`, `{"must": {"key": "c", "match": {"value": "red"}}}`, false)
	// Arrays inside arrays are not flattened.
	check(t, `{"c": [["red"]]}`, `{"must": {"key": "c", "match": {"value": "red"}}}`, false)
	// Integer: JSON integers only, never 1.0 or "1".
	check(t, `{"n": 1}`, `{"must": {"key": "n", "match": {"value": 1}}}`, true)
	check(t, `{"n": 1.0}`, `{"must": {"key": "n", "match": {"value": 1}}}`, false)
	check(t, `{"n": "1"}`, `{"must": {"key": "n", "match": {"value": 1}}}`, false)
	check(t, `{"n": [1.0, 2]}`, `{"must": {"key": "n", "match": {"value": 2}}}`, true)
	check(t, `{"n": -9223372036854775808}`, `{"must": {"key": "n", "match": {"value": -9223372036854775808}}}`, true)
	check(t, `{"n": 9223372036854775807}`, `{"must": {"key": "n", "match": {"value": 9223372036854775806}}}`, false)
	check(t, `{"n": 18446744073709551615}`, `{"must": {"key": "n", "match": {"value": -1}}}`, false)
	// Bool.
	check(t, `{"b": true}`, `{"must": {"key": "b", "match": {"value": true}}}`, true)
	check(t, `{"b": false}`, `{"must": {"key": "b", "match": {"value": true}}}`, false)
	check(t, `{"b": 1}`, `{"must": {"key": "b", "match": {"value": true}}}`, false)
	check(t, `{"b": [false, true]}`, `{"must": {"key": "b", "match": {"value": true}}}`, true)
	// Null never matches.
	check(t, `{"c": null}`, `{"must": {"key": "c", "match": {"value": "red"}}}`, false)
}

func TestMatchAny(t *testing.T) {
	check(t, `{"c": "red"}`, `{"must": {"key": "c", "match": {"any": ["red", "blue"]}}}`, true)
	check(t, `{"c": "pink"}`, `{"must": {"key": "c", "match": {"any": ["red", "blue"]}}}`, false)
	check(t, `{"c": ["pink", "blue"]}`, `{"must": {"key": "c", "match": {"any": ["red", "blue"]}}}`, true)
	check(t, `{"n": 2}`, `{"must": {"key": "n", "match": {"any": [1, 2]}}}`, true)
	check(t, `{"n": 2.0}`, `{"must": {"key": "n", "match": {"any": [1, 2]}}}`, false)
	check(t, `{"n": "2"}`, `{"must": {"key": "n", "match": {"any": [1, 2]}}}`, false)
	check(t, `{"c": "2"}`, `{"must": {"key": "c", "match": {"any": ["1", "2"]}}}`, true)
	check(t, `{"c": 2}`, `{"must": {"key": "c", "match": {"any": ["1", "2"]}}}`, false)
	// An empty list matches nothing.
	check(t, `{"c": "red"}`, `{"must": {"key": "c", "match": {"any": []}}}`, false)
	// Long lists use a set.
	long := `["a0","a1","a2","a3","a4","a5","a6","a7","a8","a9","b0","b1","b2","b3","b4","b5","b6","red"]`
	check(t, `{"c": "red"}`, `{"must": {"key": "c", "match": {"any": `+long+`}}}`, true)
	check(t, `{"c": "pink"}`, `{"must": {"key": "c", "match": {"any": `+long+`}}}`, false)
	check(t, `{"c": "pink"}`, `{"must": {"key": "c", "match": {"except": `+long+`}}}`, true)
	check(t, `{"n": 17}`, `{"must": {"key": "n", "match": {"any": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}}}`, true)
}

func TestMatchExcept(t *testing.T) {
	f := `{"must": {"key": "c", "match": {"except": ["red", "blue"]}}}`
	check(t, `{"c": "green"}`, f, true)
	check(t, `{"c": "red"}`, f, false)
	// A non-null value of another type passes.
	check(t, `{"c": 5}`, f, true)
	check(t, `{"c": true}`, f, true)
	check(t, `{"c": {"x": 1}}`, f, true)
	check(t, `{"c": [["red"]]}`, f, true)
	// Null fails, and a missing key fails.
	check(t, `{"c": null}`, f, false)
	check(t, `{}`, f, false)
	// Arrays need one element not in the list.
	check(t, `{"c": ["red", "blue"]}`, f, false)
	check(t, `{"c": ["red", "green"]}`, f, true)
	check(t, `{"c": ["red", null]}`, f, false)
	check(t, `{"c": ["red", 1]}`, f, true)
	check(t, `{"c": []}`, f, false)
	// Integers: floats and unsigned integers beyond int64 are "other" values.
	fi := `{"must": {"key": "n", "match": {"except": [1, 2]}}}`
	check(t, `{"n": 3}`, fi, true)
	check(t, `{"n": 2}`, fi, false)
	check(t, `{"n": 2.0}`, fi, true)
	check(t, `{"n": 18446744073709551615}`, fi, true)
	check(t, `{"n": "2"}`, fi, true)
	check(t, `{"n": null}`, fi, false)
	// An empty except list passes every non-null value.
	check(t, `{"n": 3}`, `{"must": {"key": "n", "match": {"except": []}}}`, true)
	check(t, `{"n": null}`, `{"must": {"key": "n", "match": {"except": []}}}`, false)
}

func TestMatchText(t *testing.T) {
	// Without a text index: substring tests.
	check(t, `{"t": "hello world"}`, `{"must": {"key": "t", "match": {"text": "lo wo"}}}`, true)
	check(t, `{"t": "hello world"}`, `{"must": {"key": "t", "match": {"text": "World"}}}`, false)
	check(t, `{"t": "hello world"}`, `{"must": {"key": "t", "match": {"phrase": "o w"}}}`, true)
	check(t, `{"t": "hello world"}`, `{"must": {"key": "t", "match": {"text": ""}}}`, true)
	check(t, `{"t": ["abc", "hello"]}`, `{"must": {"key": "t", "match": {"text": "ell"}}}`, true)
	check(t, `{"t": 5}`, `{"must": {"key": "t", "match": {"text": "5"}}}`, false)
	// text_any: any whitespace-separated word is a substring.
	check(t, `{"t": "hello world"}`, `{"must": {"key": "t", "match": {"text_any": "xyz orl"}}}`, true)
	check(t, `{"t": "hello world"}`, `{"must": {"key": "t", "match": {"text_any": "xyz  abc"}}}`, false)
	check(t, `{"t": "hello world"}`, `{"must": {"key": "t", "match": {"text_any": "  "}}}`, false)
	check(t, `{"t": "hello world"}`, `{"must": {"key": "t", "match": {"text_any": "\u3000wor\t"}}}`, true)
}

func TestRange(t *testing.T) {
	check(t, `{"p": 5}`, `{"must": {"key": "p", "range": {"gte": 5, "lt": 6}}}`, true)
	check(t, `{"p": 5.5}`, `{"must": {"key": "p", "range": {"gt": 5, "lt": 6}}}`, true)
	check(t, `{"p": 6}`, `{"must": {"key": "p", "range": {"gt": 5, "lt": 6}}}`, false)
	check(t, `{"p": 5}`, `{"must": {"key": "p", "range": {"gt": 5}}}`, false)
	check(t, `{"p": 5}`, `{"must": {"key": "p", "range": {"lte": 5}}}`, true)
	check(t, `{"p": [1, 10]}`, `{"must": {"key": "p", "range": {"gt": 5}}}`, true)
	check(t, `{"p": "7"}`, `{"must": {"key": "p", "range": {"gt": 5}}}`, false)
	check(t, `{"p": null}`, `{"must": {"key": "p", "range": {}}}`, false)
	check(t, `{"p": 1}`, `{"must": {"key": "p", "range": {}}}`, true)
	check(t, `{}`, `{"must": {"key": "p", "range": {}}}`, false)
	check(t, `{"p": 18446744073709551615}`, `{"must": {"key": "p", "range": {"gt": 1e19}}}`, true)
}

func TestDatetimeRange(t *testing.T) {
	f := `{"must": {"key": "d", "range": {"gte": "2020-03-01T00:00:00Z", "lt": "2020-03-02"}}}`
	check(t, `{"d": "2020-03-01T12:00:00Z"}`, f, true)
	check(t, `{"d": "2020-03-01 23:59:59"}`, f, true)
	check(t, `{"d": "2020-03-01T23:00:00-02:00"}`, f, false)
	check(t, `{"d": "2020-02-29"}`, f, false)
	check(t, `{"d": ["not a date", "2020-03-01 01:00"]}`, f, true)
	check(t, `{"d": "not a date"}`, f, false)
	check(t, `{"d": 1583020800}`, f, false)
	check(t, `{}`, f, false)
}

func TestGeo(t *testing.T) {
	box := `{"must": {"key": "g", "geo_bounding_box": {"top_left": {"lon": -1, "lat": 1}, "bottom_right": {"lon": 1, "lat": -1}}}}`
	check(t, `{"g": {"lon": 0.5, "lat": -0.5}}`, box, true)
	check(t, `{"g": {"lon": 1, "lat": 0}}`, box, false) // strict
	check(t, `{"g": {"lon": 1.5, "lat": 0}}`, box, false)
	check(t, `{"g": [{"lon": 5, "lat": 5}, {"lon": 0, "lat": 0}]}`, box, true)
	check(t, `{"g": {"lon": 0, "lat": 0, "name": "x"}}`, box, true)
	check(t, `{"g": {"lon": "0", "lat": 0}}`, box, false)
	check(t, `{"g": [0, 0]}`, box, false)
	// A box across the antimeridian.
	usa := `{"must": {"key": "g", "geo_bounding_box": {"top_left": {"lon": 167, "lat": 74.071028}, "bottom_right": {"lon": -66.885417, "lat": 18.7763}}}}`
	check(t, `{"g": {"lon": -73.991516, "lat": 40.75798}}`, usa, true)
	check(t, `{"g": {"lon": 13.41053, "lat": 52.52437}}`, usa, false)

	radius := `{"must": {"key": "g", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 80000}}}`
	check(t, `{"g": {"lon": 0.5, "lat": 0.5}}`, radius, true)
	check(t, `{"g": {"lon": 1.5, "lat": 1.5}}`, radius, false)

	poly := `{"must": {"key": "g", "geo_polygon": {
		"exterior": {"points": [{"lon": -1, "lat": -1}, {"lon": 1.5, "lat": -1}, {"lon": 1.5, "lat": 1.5}, {"lon": -1, "lat": 1.5}, {"lon": -1, "lat": -1}]},
		"interiors": [{"points": [{"lon": -0.5, "lat": -0.5}, {"lon": -0.5, "lat": 0.5}, {"lon": 0.5, "lat": 0.5}, {"lon": 0.5, "lat": -0.5}, {"lon": -0.5, "lat": -0.5}]}]}}}`
	check(t, `{"g": {"lon": 0.6, "lat": 0.6}}`, poly, true)
	check(t, `{"g": {"lon": 0, "lat": 0}}`, poly, false)
	check(t, `{"g": {"lon": 2, "lat": 0}}`, poly, false)
}

func TestValuesCount(t *testing.T) {
	f := func(gte int) string {
		return `{"must": {"key": "v", "values_count": {"gte": ` + itoa(gte) + `}}}`
	}
	check(t, `{"v": [1, 2, 3]}`, f(3), true)
	check(t, `{"v": [1, 2, 3]}`, f(4), false)
	check(t, `{"v": "x"}`, f(1), true)
	check(t, `{"v": "x"}`, f(2), false)
	check(t, `{"v": {"a": 1, "b": 2}}`, f(2), false) // an object counts 1
	check(t, `{"v": [[1, 2]]}`, f(2), false)         // one value: an array
	check(t, `{"v": []}`, `{"must": {"key": "v", "values_count": {"lt": 1}}}`, true)
	check(t, `{"v": null}`, `{"must": {"key": "v", "values_count": {"lt": 1}}}`, true)
	// A missing key fails values_count, even lt: 1 (Qdrant's
	// FieldCondition::check_empty).
	check(t, `{}`, `{"must": {"key": "v", "values_count": {"lt": 1}}}`, false)
	// Multi-valued paths count each value separately; any may pass.
	check(t, `{"a": [{"v": [1]}, {"v": [1, 2, 3]}]}`, `{"must": {"key": "a[].v", "values_count": {"gte": 3}}}`, true)
	check(t, `{"a": [{"v": [1]}, {"v": [1, 2]}]}`, `{"must": {"key": "a[].v", "values_count": {"gte": 3}}}`, false)
	check(t, `{"v": [1, 2]}`, `{"must": {"key": "v", "values_count": {"gt": 1, "lte": 2}}}`, true)
	check(t, `{"v": [1, 2]}`, `{"must": {"key": "v", "values_count": {"lt": 2}}}`, false)
}

func itoa(i int) string {
	b, _ := NumID(uint64(i)).MarshalJSON()
	return string(b)
}

func TestIsEmpty(t *testing.T) {
	f := `{"must": {"is_empty": {"key": "e"}}}`
	check(t, `{}`, f, true)
	check(t, `{"e": null}`, f, true)
	check(t, `{"e": []}`, f, true)
	check(t, `{"e": [null]}`, f, false)
	check(t, `{"e": 0}`, f, false)
	check(t, `{"e": ""}`, f, false)
	check(t, `{"e": {}}`, f, false)
	// Multi-valued paths: empty when every value is.
	check(t, `{"a": [{"e": null}, {"e": []}, {"x": 1}]}`, `{"must": {"is_empty": {"key": "a[].e"}}}`, true)
	check(t, `{"a": [{"e": null}, {"e": 1}]}`, `{"must": {"is_empty": {"key": "a[].e"}}}`, false)
	// Field-condition form: any value, missing -> is_empty.
	check(t, `{}`, `{"must": {"key": "e", "is_empty": true}}`, true)
	check(t, `{}`, `{"must": {"key": "e", "is_empty": false}}`, false)
	check(t, `{"e": 1}`, `{"must": {"key": "e", "is_empty": false}}`, true)
	check(t, `{"e": []}`, `{"must": {"key": "e", "is_empty": true}}`, true)
	check(t, `{"e": [null]}`, `{"must": {"key": "e", "is_empty": true}}`, false)
	check(t, `{"a": [{"e": null}, {"e": 1}]}`, `{"must": {"key": "a[].e", "is_empty": true}}`, true)
	// must_not is_empty selects points with a value.
	check(t, `{"e": 1}`, `{"must_not": {"is_empty": {"key": "e"}}}`, true)
}

func TestIsNull(t *testing.T) {
	f := `{"must": {"is_null": {"key": "n"}}}`
	check(t, `{"n": null}`, f, true)
	check(t, `{}`, f, false)
	check(t, `{"n": []}`, f, false)
	check(t, `{"n": 0}`, f, false)
	// The condition form sees the array, which is not null.
	check(t, `{"n": [null]}`, f, false)
	check(t, `{"a": [{"n": 1}, {"n": null}]}`, `{"must": {"is_null": {"key": "a[].n"}}}`, true)
	// Field-condition form: an array holding a null is null; missing ->
	// not is_null.
	check(t, `{"n": [null]}`, `{"must": {"key": "n", "is_null": true}}`, true)
	check(t, `{"n": [1, null]}`, `{"must": {"key": "n", "is_null": true}}`, true)
	check(t, `{"n": [1]}`, `{"must": {"key": "n", "is_null": false}}`, true)
	check(t, `{}`, `{"must": {"key": "n", "is_null": false}}`, true)
	check(t, `{}`, `{"must": {"key": "n", "is_null": true}}`, false)
	check(t, `{"n": null}`, `{"must": {"key": "n", "is_null": false}}`, false)
}

func TestMissingKey(t *testing.T) {
	// A missing key fails every field test except is_empty: true and
	// is_null: false.
	for _, cond := range []string{
		`{"match": {"value": "x"}}`, `{"match": {"value": 1}}`, `{"match": {"value": false}}`,
		`{"match": {"any": ["x"]}}`, `{"match": {"except": ["x"]}}`, `{"match": {"except": [1]}}`,
		`{"match": {"text": ""}}`, `{"match": {"text_any": "x"}}`, `{"match": {"phrase": "x"}}`,
		`{"range": {}}`, `{"range": {"gte": "2020-01-01"}}`, `{"values_count": {"lt": 5}}`,
		`{"geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 1e9}}`,
		`{"is_empty": false}`, `{"is_null": true}`,
	} {
		f := `{"must": [{"key": "m", ` + cond[1:] + `]}`
		check(t, `{"x": 1}`, f, false)
		// A path that leads through a non-object is missing too.
		check(t, `{"m": [{"a": 1}]}`, `{"must": [{"key": "m.a", `+cond[1:]+`]}`, false)
	}
	check(t, `{"x": 1}`, `{"must": {"key": "m", "is_empty": true}}`, true)
	check(t, `{"x": 1}`, `{"must": {"key": "m", "is_null": false}}`, true)
}

func TestSeveralTests(t *testing.T) {
	// match and range on one field: a value passes either.
	check(t, `{"x": 5}`, `{"must": {"key": "x", "match": {"value": "a"}, "range": {"gt": 1}}}`, true)
	check(t, `{"x": "a"}`, `{"must": {"key": "x", "match": {"value": "a"}, "range": {"gt": 1}}}`, true)
	check(t, `{"x": "b"}`, `{"must": {"key": "x", "match": {"value": "a"}, "range": {"gt": 1}}}`, false)
	// values_count decides alone.
	check(t, `{"x": "b"}`, `{"must": {"key": "x", "match": {"value": "a"}, "values_count": {"gte": 1}}}`, true)
	// is_empty decides over match.
	check(t, `{"x": "b"}`, `{"must": {"key": "x", "match": {"value": "a"}, "is_empty": false}}`, true)
}

func TestPaths(t *testing.T) {
	// a.b does not descend into arrays; a[].b does; a[0] takes an index.
	p := `{"a": [{"b": 1}, {"b": 2}], "o": {"b": {"c": "x"}}}`
	check(t, p, `{"must": {"key": "a.b", "match": {"value": 2}}}`, false)
	check(t, p, `{"must": {"key": "a[].b", "match": {"value": 2}}}`, true)
	check(t, p, `{"must": {"key": "a[0].b", "match": {"value": 2}}}`, false)
	check(t, p, `{"must": {"key": "a[1].b", "match": {"value": 2}}}`, true)
	check(t, p, `{"must": {"key": "o.b.c", "match": {"value": "x"}}}`, true)
	check(t, `{"a.b": 1}`, `{"must": {"key": "\"a.b\"", "match": {"value": 1}}}`, true)
}

func TestHasIDAndVector(t *testing.T) {
	// check uses id 7 and vectors "" and "image".
	check(t, `{}`, `{"must": {"has_id": [1, 7]}}`, true)
	check(t, `{}`, `{"must": {"has_id": [1, 2]}}`, false)
	check(t, `{}`, `{"must": {"has_id": []}}`, false)
	check(t, `{}`, `{"must": {"has_id": ["550e8400-e29b-41d4-a716-446655440000"]}}`, false)
	check(t, `{}`, `{"must": {"has_vector": ""}}`, true)
	check(t, `{}`, `{"must": {"has_vector": "image"}}`, true)
	check(t, `{}`, `{"must": {"has_vector": "text"}}`, false)

	u, err := ParseUUID("550E8400E29B41D4A716446655440000")
	require.NoError(t, err)
	p := &testPoint{id: u}
	f := mustFilter(t, `{"must": {"has_id": [1, "550e8400-e29b-41d4-a716-446655440000"]}}`)
	require.True(t, f.Matches(p))
	ids := make([]PointID, 40)
	for i := range ids {
		ids[i] = NumID(uint64(i))
	}
	ids[39] = u
	require.True(t, (&Filter{Must: []Condition{NewHasID(ids...)}}).Matches(p))
	require.False(t, (&Filter{Must: []Condition{NewHasID(ids[:39]...)}}).Matches(p))
}

func TestNested(t *testing.T) {
	p := `{"diet": [{"food": "meat", "likes": false}, {"food": "veg", "likes": true}], "x": {"food": "meat", "likes": true}}`
	// The inner filter applies to one element at a time.
	inner := `{"must": [{"key": "food", "match": {"value": "meat"}}, {"key": "likes", "match": {"value": true}}]}`
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": `+inner+`}}}`, false)
	check(t, p, `{"must": {"nested": {"key": "diet[]", "filter": `+inner+`}}}`, false)
	// Without nested, the conditions see all elements.
	check(t, p, `{"must": [{"key": "diet[].food", "match": {"value": "meat"}}, {"key": "diet[].likes", "match": {"value": true}}]}`, true)
	inner2 := `{"must": [{"key": "food", "match": {"value": "veg"}}, {"key": "likes", "match": {"value": true}}]}`
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": `+inner2+`}}}`, true)
	check(t, p, `{"must_not": {"nested": {"key": "diet", "filter": `+inner2+`}}}`, false)
	// must_not inside nested is per element.
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"must_not": [{"key": "food", "match": {"value": "meat"}}]}}}}`, true)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"must_not": [{"key": "food", "match": {"any": ["meat", "veg"]}}]}}}}`, false)
	// An object (not an array) at the key has no elements.
	check(t, p, `{"must": {"nested": {"key": "x", "filter": {}}}}`, false)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {}}}}`, true)
	check(t, `{"diet": []}`, `{"must": {"nested": {"key": "diet", "filter": {}}}}`, false)
	check(t, `{"diet": [1, "a", null]}`, `{"must": {"nested": {"key": "diet", "filter": {}}}}`, false)
	// Inside nested, an empty should (or a min_should of no conditions and
	// a positive min_count) holds for no element; must: [] for every one.
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"should": []}}}}`, false)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"must": [{"should": []}]}}}}`, false)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"must_not": [{"should": []}]}}}}`, true)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"must": []}}}}`, true)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"min_should": {"conditions": [], "min_count": 1}}}}}`, false)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"min_should": {"conditions": [], "min_count": 0}}}}}`, true)
	check(t, p, `{"must_not": {"nested": {"key": "diet", "filter": {"should": []}}}}`, true)
	// has_id and has_vector never match inside nested.
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"must": {"has_id": [7]}}}}}`, false)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"must": {"has_vector": ""}}}}}`, false)
	check(t, p, `{"must": {"nested": {"key": "diet", "filter": {"must_not": {"has_id": [7]}}}}}`, true)
	// Nested inside nested.
	pp := `{"a": [{"b": [{"c": 1, "d": 2}, {"c": 3, "d": 4}]}]}`
	check(t, pp, `{"must": {"nested": {"key": "a", "filter": {"must": {"nested": {"key": "b", "filter": {"must": [{"key": "c", "match": {"value": 1}}, {"key": "d", "match": {"value": 2}}]}}}}}}}`, true)
	check(t, pp, `{"must": {"nested": {"key": "a", "filter": {"must": {"nested": {"key": "b", "filter": {"must": [{"key": "c", "match": {"value": 1}}, {"key": "d", "match": {"value": 4}}]}}}}}}}`, false)
	// Nested through a path into arrays of arrays.
	check(t, `{"a": [{"b": [{"c": 1}]}, {"b": [{"c": 2}]}]}`, `{"must": {"nested": {"key": "a[].b", "filter": {"must": {"key": "c", "match": {"value": 2}}}}}}`, true)
}

func TestNilFilter(t *testing.T) {
	var f *Filter
	require.True(t, f.Matches(&testPoint{}))
	require.True(t, NewEvaluator(nil).Matches(nil, &testPoint{}))
}

type countingPoint struct {
	testPoint
	payloads int
}

func (p *countingPoint) Payload() payload.Value { p.payloads++; return p.testPoint.payload }

func TestPayloadFetchedOnce(t *testing.T) {
	p := &countingPoint{testPoint: testPoint{id: NumID(1), payload: mustPayload(t, `{"a": 1, "b": 2}`)}}
	f := mustFilter(t, `{"must": [{"key": "a", "match": {"value": 1}}, {"key": "b", "range": {"gt": 1}}, {"is_empty": {"key": "c"}}]}`)
	require.True(t, f.Matches(p))
	require.Equal(t, 1, p.payloads)
	p.payloads = 0
	require.True(t, mustFilter(t, `{"must": {"has_id": [1]}}`).Matches(p))
	require.Equal(t, 0, p.payloads)
}

func TestMatchesAllocs(t *testing.T) {
	p := &testPoint{id: NumID(1), payload: mustPayload(t,
		`{"color": "red", "n": [1, 2, 3], "price": 9.5, "tags": ["a", "b"], "diet": [{"food": "meat", "likes": true}], "g": {"lon": 1, "lat": 2}}`)}
	f := mustFilter(t, `{
		"must": [
			{"key": "color", "match": {"value": "red"}},
			{"key": "n", "match": {"any": [3, 4]}},
			{"key": "price", "range": {"gte": 1, "lt": 10}},
			{"nested": {"key": "diet", "filter": {"must": [{"key": "food", "match": {"value": "meat"}}, {"key": "likes", "match": {"value": true}}]}}},
			{"key": "g", "geo_radius": {"center": {"lon": 1, "lat": 2}, "radius": 10}}
		],
		"should": [{"key": "tags", "match": {"except": ["a"]}}, {"is_empty": {"key": "zzz"}}],
		"must_not": [{"has_id": [5]}, {"key": "color", "match": {"text": "blue"}}],
		"min_should": {"conditions": [{"key": "tags", "values_count": {"gte": 2}}, {"is_null": {"key": "color"}}], "min_count": 1}
	}`)
	e := NewEvaluator(nil)
	require.True(t, e.Matches(f, p))
	require.Zero(t, testing.AllocsPerRun(100, func() { e.Matches(f, p) }))
	require.True(t, f.Matches(p))
	if raceEnabled {
		// Filter.Matches pools its Evaluator, and sync.Pool drops items
		// under -race; the normal run checks it.
		return
	}
	require.Zero(t, testing.AllocsPerRun(100, func() { f.Matches(p) }))
}

func TestTextIndexInsideNested(t *testing.T) {
	pts := []*testPoint{{id: NumID(1), payload: mustPayload(t, `{"diet": [{"note": "Hello World"}], "a": [{"b": [{"t": "Big Cat"}]}]}`)}}
	idx := buildIndexes(t, pts, map[string]payload.IndexParams{
		"diet[].note": {Type: payload.TypeText},
		"a[].b[].t":   {Type: payload.TypeText, Text: payload.TextParams{PhraseMatching: true}},
	})
	f := mustFilter(t, `{"must": {"nested": {"key": "diet", "filter": {"must": {"key": "note", "match": {"text": "hello"}}}}}}`)
	require.True(t, NewEvaluator(idx).Matches(f, pts[0]))
	require.False(t, f.Matches(pts[0]))
	f = mustFilter(t, `{"must": {"nested": {"key": "a[]", "filter": {"must": {"nested": {"key": "b", "filter": {"must": {"key": "t", "match": {"phrase": "big cat"}}}}}}}}}`)
	require.True(t, NewEvaluator(idx).Matches(f, pts[0]))
	require.False(t, f.Matches(pts[0]))
	// Without phrase matching a phrase never matches through the index.
	f = mustFilter(t, `{"must": {"nested": {"key": "diet", "filter": {"must": {"key": "note", "match": {"phrase": "hello world"}}}}}}`)
	require.False(t, NewEvaluator(idx).Matches(f, pts[0]))
	require.False(t, f.Matches(pts[0]))
	// A query with no tokens matches nothing through the index.
	f = mustFilter(t, `{"must": {"nested": {"key": "diet", "filter": {"must": {"key": "note", "match": {"text": " "}}}}}}`)
	require.False(t, NewEvaluator(idx).Matches(f, pts[0]))
	require.True(t, f.Matches(pts[0]))
}

func TestMatchesConcurrent(t *testing.T) {
	f := mustFilter(t, `{"must": [{"key": "a", "match": {"any": ["x", "y"]}}, {"nested": {"key": "n", "filter": {"must": {"key": "v", "range": {"gt": 1}}}}}]}`)
	yes := &testPoint{payload: mustPayload(t, `{"a": "x", "n": [{"v": 2}]}`)}
	no := &testPoint{payload: mustPayload(t, `{"a": "x", "n": [{"v": 1}]}`)}
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 1000 {
				ok = ok && f.Matches(yes) && !f.Matches(no)
			}
			done <- ok
		}()
	}
	for range 4 {
		require.True(t, <-done)
	}
}
