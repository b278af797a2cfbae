package payload

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// segString renders the parsed segments of p: <key>, [N] and [].
func segString(p Path) string {
	var sb strings.Builder
	for _, s := range p.segs {
		switch s.kind {
		case segKey:
			sb.WriteString("<" + s.key + ">")
		case segIndex:
			sb.WriteString("[" + strconv.Itoa(s.index) + "]")
		case segAll:
			sb.WriteString("[]")
		}
	}
	return sb.String()
}

func TestParsePath(t *testing.T) {
	f := func(s, want string) {
		t.Helper()
		p, err := ParsePath(s)
		require.NoError(t, err, "ParsePath(%q)", s)
		require.Equal(t, want, segString(p), "ParsePath(%q)", s)
		require.Equal(t, s, p.String())
		require.False(t, p.IsZero())
	}
	f("a", "<a>")
	f("color", "<color>")
	f("a_b-c9", "<a_b-c9>")
	f("9", "<9>")
	f("-", "<->")
	f("a.b", "<a><b>")
	f("a[0]", "<a>[0]")
	f("a[12]", "<a>[12]")
	f("a[007]", "<a>[7]")
	f("a[]", "<a>[]")
	f("a[][]", "<a>[][]")
	f("a[].b", "<a>[]<b>")
	f("a[1][2].b[]", "<a>[1][2]<b>[]")
	f("country.cities[].population", "<country><cities>[]<population>")
	f(`"a.b"`, "<a.b>")
	f(`"a.b".c`, "<a.b><c>")
	f(`a."b[0].c"`, "<a><b[0].c>")
	f(`a."b c"[]`, "<a><b c>[]")
	f(`""`, "<>")
	f(`a.""`, "<a><>")
	f(`"'"`, "<'>")
	f("ключ.значение", "<ключ><значение>")
	f("日本語", "<日本語>")
	f("Müesli", "<Müesli>")
	f("x²", "<x²>")   // No: a number
	f("Ⅻ", "<Ⅻ>")     // Nl: a letter number
	f("तेज", "<तेज>") // a vowel sign (Mn) that is alphabetic
	f("a[18446744073709551615]", "<a>["+strconv.Itoa(math.MaxInt)+"]")
}

func TestParsePathErrors(t *testing.T) {
	f := func(s string) {
		t.Helper()
		_, err := ParsePath(s)
		require.Error(t, err, "ParsePath(%q)", s)
		require.True(t, errors.Is(err, ErrBadPath), "%v", err)
		require.Contains(t, err.Error(), strconv.Quote(s))
	}
	f("")
	f(".")
	f("a.")
	f(".a")
	f("a..b")
	f("a[")
	f("a[0")
	f("a[x]")
	f("a[-1]")
	f("a[+1]")
	f("a[ 1]")
	f("a[1.5]")
	f("a[18446744073709551616]") // beyond usize
	f("[0]")                     // no first key
	f("[]")
	f("a[]b")
	f("a[0]b")
	f("a]")
	f("a b")
	f(" a")
	f("a ")
	f("a.b c")
	f("a/b")
	f("a:b")
	f("a$")
	f("a\x00")
	f(`"a`)
	f(`"a"b`)
	f(`a"b"`)
	f(`"a\"b"`)
	f(`"a\b"`) // quoted keys cannot hold a backslash
	f(`a.b."c`)
	f("a.🙂") // emoji are not alphanumeric
	f("a\xff")
	f("नमस्ते") // the virama is a mark that is not alphabetic
}

func TestMustParsePath(t *testing.T) {
	require.Equal(t, "a", MustParsePath("a.b").Head())
	require.Panics(t, func() { MustParsePath("a..b") })
	require.True(t, Path{}.IsZero())
	require.Equal(t, "", Path{}.Head())
}

func TestPathExtend(t *testing.T) {
	p := MustParsePath("a[]").Extend(MustParsePath(`"b.c"[0]`))
	require.Equal(t, `a[]."b.c"[0]`, p.String())
	require.Equal(t, "<a>[]<b.c>[0]", segString(p))
	q, err := ParsePath(p.String())
	require.NoError(t, err)
	require.Equal(t, segString(p), segString(q))
}

// findJSON returns the values at path in doc as a JSON array.
func findJSON(t *testing.T, doc Value, path string) string {
	t.Helper()
	return ArrayValue(MustParsePath(path).Find(doc, nil)...).String()
}

func TestPathFind(t *testing.T) {
	doc := mustJSON(t, `{
		"a": {"b": 1, "c": [1, 2, 3], "d": {"e": "x"}},
		"arr": [{"b": 1}, {"b": [2, 3]}, {"c": 4}, 5, {"b": null}],
		"nested": [[1, 2], [3], [], 4],
		"empty": [],
		"nil": null,
		"dotted.key": {"x": true},
		"ключ": "значение"
	}`)
	f := func(path, want string) {
		t.Helper()
		require.Equal(t, want, findJSON(t, doc, path), "path %s", path)
	}
	f("a", `[{"b":1,"c":[1,2,3],"d":{"e":"x"}}]`)
	f("a.b", `[1]`)
	f("a.d.e", `["x"]`)
	f("a.c", `[[1,2,3]]`) // a leaf array stays an array
	f("a.c[]", `[1,2,3]`)
	f("a.c[0]", `[1]`)
	f("a.c[2]", `[3]`)
	f("a.c[3]", `[]`)
	f("a.b.c", `[]`)  // no descent into a scalar
	f("a.b[]", `[]`)  // [] of a non-array
	f("a.b[0]", `[]`) // [N] of a non-array
	f("a[]", `[]`)    // [] of an object
	f("arr.b", `[]`)  // .key does not descend into arrays
	f("arr[].b", `[1,[2,3],null]`)
	f("arr[].b[]", `[2,3]`)
	f("arr[1].b", `[[2,3]]`)
	f("arr[1].b[1]", `[3]`)
	f("arr[3]", `[5]`)
	f("arr[].c", `[4]`)
	f("nested[]", `[[1,2],[3],[],4]`)
	f("nested[][]", `[1,2,3]`)
	f("nested[0][1]", `[2]`)
	f("nested[][0]", `[1,3]`)
	f("empty", `[[]]`)
	f("empty[]", `[]`)
	f("nil", `[null]`)
	f("nil[]", `[]`)
	f("nil.x", `[]`)
	f("missing", `[]`)
	f("missing[]", `[]`)
	f("missing.deeper[0]", `[]`)
	f(`"dotted.key".x`, `[true]`)
	f("dotted.key", `[]`)
	f("ключ", `["значение"]`)

	// dst is appended to.
	buf := MustParsePath("a.b").Find(doc, []Value{StringValue("keep")})
	require.Equal(t, `["keep",1]`, ArrayValue(buf...).String())
}

func TestPathFindRealistic(t *testing.T) {
	doc := mustJSON(t, `{
		"country": {
			"name": "Germany",
			"cities": [
				{"name": "Berlin", "population": 3.7, "sightseeing": ["Brandenburg Gate", "Reichstag"]},
				{"name": "Munich", "population": 1.5, "sightseeing": ["Marienplatz"]},
				{"name": "Hamburg"}
			]
		}
	}`)
	f := func(path, want string) {
		t.Helper()
		require.Equal(t, want, findJSON(t, doc, path), "path %s", path)
	}
	f("country.cities[].population", `[3.7,1.5]`)
	f("country.cities[].name", `["Berlin","Munich","Hamburg"]`)
	f("country.cities[].sightseeing", `[["Brandenburg Gate","Reichstag"],["Marienplatz"]]`)
	f("country.cities[].sightseeing[]", `["Brandenburg Gate","Reichstag","Marienplatz"]`)
	f("country.cities[1].name", `["Munich"]`)
	f("country.cities.population", `[]`)
	f("country.name", `["Germany"]`)
}

func TestPathSet(t *testing.T) {
	f := func(path, doc, x, want string) {
		t.Helper()
		v := mustJSON(t, doc)
		got, err := MustParsePath(path).Set(v, mustJSON(t, x))
		require.NoError(t, err)
		require.Equal(t, want, got.String(), "set %s in %s", path, doc)
		require.Equal(t, mustJSON(t, doc).String(), v.String(), "the input is unchanged")
	}
	// Missing keys become objects.
	f("a", `{}`, `{"x":1}`, `{"a":{"x":1}}`)
	f("a.b.c", `{}`, `{"x":1}`, `{"a":{"b":{"c":{"x":1}}}}`)
	f("a.b", `{"z":0}`, `{"x":1}`, `{"z":0,"a":{"b":{"x":1}}}`)
	// Merging into an existing object keeps its other fields.
	f("a", `{"a":{"x":1,"y":2},"b":3}`, `{"y":20,"z":30}`, `{"a":{"x":1,"y":20,"z":30},"b":3}`)
	f("a", `{"a":{"x":1,"y":2}}`, `{"x":null}`, `{"a":{"y":2}}`)
	f("a", `{"a":{"x":1}}`, `{}`, `{"a":{"x":1}}`)
	// Non-objects on the way or at the end are replaced by objects.
	f("a.b.c", `{"a":10}`, `{"x":1}`, `{"a":{"b":{"c":{"x":1}}}}`)
	f("a", `{"a":[1,2]}`, `{"x":1}`, `{"a":{"x":1}}`)
	f("a.b", `{"a":{"b":"s","c":1}}`, `{"x":1}`, `{"a":{"b":{"x":1},"c":1}}`)
	// [N] descends into that element only.
	f("a[1]", `{"a":[{"c":1},{"c":2},{"d":3}]}`, `{"c":5}`, `{"a":[{"c":1},{"c":5},{"d":3}]}`)
	f("a[1]", `{"a":[{"c":1},7]}`, `{"c":5}`, `{"a":[{"c":1},{"c":5}]}`)
	f("a[1].b", `{"a":[{},{}]}`, `{"x":1}`, `{"a":[{},{"b":{"x":1}}]}`)
	// An index past the end changes nothing; a non-array becomes [].
	f("a[3]", `{"a":[{"c":1}]}`, `{"c":5}`, `{"a":[{"c":1}]}`)
	f("a[0]", `{}`, `{"c":5}`, `{"a":[]}`)
	f("a.b[2]", `{"a":{"b":"s"}}`, `{"c":5}`, `{"a":{"b":[]}}`)
	// [] applies to every element.
	f("a[]", `{"a":[{"c":1},{"d":2},3]}`, `{"x":1}`, `{"a":[{"c":1,"x":1},{"d":2,"x":1},{"x":1}]}`)
	f("a[].b", `{"a":[{},5,{"b":{"y":2}}]}`, `{"x":1}`, `{"a":[{"b":{"x":1}},{"b":{"x":1}},{"b":{"y":2,"x":1}}]}`)
	f("a[].b", `{}`, `{"x":1}`, `{"a":[]}`)
	f("a.b[].c", `{}`, `{"x":1}`, `{"a":{"b":[]}}`)
	f("a[].b", `{"a":{"b":1}}`, `{"x":1}`, `{"a":[]}`)
	f("a[][]", `{"a":[[{}],[1]]}`, `{"x":1}`, `{"a":[[{"x":1}],[{"x":1}]]}`)
	// Quoted keys are single keys.
	f(`"a.b"`, `{}`, `{"x":1}`, `{"a.b":{"x":1}}`)
	// A null payload is an empty one.
	f("a", `null`, `{"x":1}`, `{"a":{"x":1}}`)

	// The zero Path merges into the payload itself.
	got, err := Path{}.Set(mustJSON(t, `{"a":1,"b":2}`), mustJSON(t, `{"b":null,"c":3}`))
	require.NoError(t, err)
	require.Equal(t, `{"a":1,"c":3}`, got.String())

	// Errors.
	_, err = MustParsePath("a").Set(mustJSON(t, `{}`), IntValue(1))
	require.ErrorContains(t, err, "must be an object")
	_, err = MustParsePath("a").Set(mustJSON(t, `[]`), mustJSON(t, `{}`))
	require.ErrorIs(t, err, ErrNotObject)
	deep := strings.Repeat("k.", MaxDepth-2) + "k"
	_, err = MustParsePath(deep).Set(mustJSON(t, `{}`), mustJSON(t, `{"x":1}`))
	require.NoError(t, err, "the merged object is at depth MaxDepth")
	_, err = MustParsePath(deep).Set(mustJSON(t, `{}`), mustJSON(t, `{"x":[1]}`))
	require.ErrorIs(t, err, ErrTooDeep)
}

func TestPathSetShares(t *testing.T) {
	v := mustJSON(t, `{"a":{"x":1},"big":[1,2,3]}`)
	got, err := MustParsePath("a").Set(v, mustJSON(t, `{"y":2}`))
	require.NoError(t, err)
	big, _ := got.Get("big")
	orig, _ := v.Get("big")
	require.Same(t, &orig.Array()[0], &big.Array()[0], "untouched values are shared")
}

func TestPathDelete(t *testing.T) {
	f := func(path, doc, want string) {
		t.Helper()
		v := mustJSON(t, doc)
		got, changed := MustParsePath(path).Delete(v)
		require.Equal(t, want, got.String(), "delete %s from %s", path, doc)
		require.Equal(t, want != doc, changed, "changed, deleting %s from %s", path, doc)
		require.Equal(t, doc, v.String(), "the input is unchanged")
	}
	f("a", `{"a":1,"b":2}`, `{"b":2}`)
	f("b", `{"a":1,"b":2,"c":3}`, `{"a":1,"c":3}`) // order kept
	f("z", `{"a":1}`, `{"a":1}`)
	f("a.b", `{"a":{"b":1,"c":2}}`, `{"a":{"c":2}}`)
	f("a.b", `{"a":{"c":2}}`, `{"a":{"c":2}}`)
	f("a.b", `{"a":[{"b":1}]}`, `{"a":[{"b":1}]}`) // .key does not descend into arrays
	f("a.b", `{"a":5}`, `{"a":5}`)
	f("a[].b", `{"a":[{"b":1,"c":1},{"b":2},3,{"c":4}]}`, `{"a":[{"c":1},{},3,{"c":4}]}`)
	f("a[].b", `{"a":[{"c":4}]}`, `{"a":[{"c":4}]}`)
	f("a[1].b", `{"a":[{"b":1},{"b":2}]}`, `{"a":[{"b":1},{}]}`)
	f("a[5].b", `{"a":[{"b":1}]}`, `{"a":[{"b":1}]}`)
	// [N] at the end does not delete elements, as in Qdrant.
	f("a[0]", `{"a":[1,2,3]}`, `{"a":[1,2,3]}`)
	f("a.b[1]", `{"a":{"b":[1,2,3]}}`, `{"a":{"b":[1,2,3]}}`)
	// [] at the end empties the array.
	f("a[]", `{"a":[1,2,3],"b":1}`, `{"a":[],"b":1}`)
	f("a[]", `{"a":[]}`, `{"a":[]}`)
	f("a[]", `{"a":{"b":1}}`, `{"a":{"b":1}}`)
	f("a[][]", `{"a":[[1],[2,3],4]}`, `{"a":[[],[],4]}`)
	f("a[].b[]", `{"a":[{"b":[1]},{"b":2}]}`, `{"a":[{"b":[]},{"b":2}]}`)
	f(`"a.b"`, `{"a.b":1,"a":{"b":2}}`, `{"a":{"b":2}}`)
	f("country.cities[].population",
		`{"country":{"cities":[{"name":"Berlin","population":3.7},{"name":"Munich","population":1.5}]}}`,
		`{"country":{"cities":[{"name":"Berlin"},{"name":"Munich"}]}}`)

	got, changed := Path{}.Delete(mustJSON(t, `{"a":1}`))
	require.False(t, changed)
	require.Equal(t, `{"a":1}`, got.String())
}
