package payload

import "testing"

// The expectations are Qdrant 1.17's answers to with_payload include and
// exclude lists over the same payload.
func TestIncludeExclude(t *testing.T) {
	doc := mustJSON(t, `{"country":{"name":"DE","cities":[{"name":"Berlin","pop":3},{"name":"Bonn","pop":1},{"pop":5}]},"a":{"b":1,"c":2},"tags":["x","y"],"n":7,"arr":[[1,2],[3]]}`)
	f := func(include bool, paths []string, want string) {
		t.Helper()
		ps := make([]Path, len(paths))
		for i, s := range paths {
			ps[i] = MustParsePath(s)
		}
		var got Value
		if include {
			got = Include(doc, ps)
		} else {
			got = Exclude(doc, ps)
		}
		if w := mustJSON(t, want); !Equal(got, w) {
			t.Errorf("include=%v %q: got %s, want %s", include, paths, got, w)
		}
	}
	f(true, []string{"country.cities[].name"}, `{"country":{"cities":[{"name":"Berlin"},{"name":"Bonn"},{}]}}`)
	f(true, []string{"country.cities[0].name"}, `{"country":{"cities":[]}}`)
	f(true, []string{"country.cities[5].name"}, `{"country":{"cities":[]}}`)
	f(true, []string{"country.cities[].name", "a.b", "missing", "a.zz"}, `{"country":{"cities":[{"name":"Berlin"},{"name":"Bonn"},{}]},"a":{"b":1}}`)
	f(true, []string{"a.b", "country.cities[].pop"}, `{"country":{"cities":[{"pop":3},{"pop":1},{"pop":5}]},"a":{"b":1}}`)
	f(true, []string{"tags[0]", "tags[]", "arr[]"}, `{"tags":["x","y"],"arr":[[1,2],[3]]}`)
	f(true, []string{"tags[0]"}, `{"tags":[]}`)
	f(true, []string{"arr[][0]"}, `{"arr":[[],[]]}`)
	f(true, []string{"country.cities"}, `{"country":{"cities":[{"name":"Berlin","pop":3},{"name":"Bonn","pop":1},{"pop":5}]}}`)
	f(true, []string{"n.x"}, `{"n":7}`)
	f(true, []string{"a.zz"}, `{"a":{}}`)
	f(true, nil, `{}`)
	f(false, []string{"country.cities[].name"}, `{"country":{"name":"DE","cities":[{"pop":3},{"pop":1},{"pop":5}]},"a":{"b":1,"c":2},"tags":["x","y"],"n":7,"arr":[[1,2],[3]]}`)
	f(false, []string{"country.cities[0].name", "a.b"}, `{"country":{"name":"DE","cities":[{"name":"Berlin","pop":3},{"name":"Bonn","pop":1},{"pop":5}]},"a":{"c":2},"tags":["x","y"],"n":7,"arr":[[1,2],[3]]}`)
	f(false, []string{"tags[1]"}, `{"country":{"name":"DE","cities":[{"name":"Berlin","pop":3},{"name":"Bonn","pop":1},{"pop":5}]},"a":{"b":1,"c":2},"tags":["x","y"],"n":7,"arr":[[1,2],[3]]}`)
	f(false, []string{"country", "tags[]", "arr"}, `{"a":{"b":1,"c":2},"tags":[],"n":7}`)
}
