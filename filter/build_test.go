package filter

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qlite/qlite/payload"
)

type lang string

// TestBuildersMatchJSON checks each builder against ParseJSON of the JSON it
// stands for: the two filters must be structurally equal, and the builder's
// filter must write that JSON back.
func TestBuildersMatchJSON(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 600, time.FixedZone("X", 3600))
	tokyo := payload.GeoPoint{Lon: 139.69, Lat: 35.68}
	ring := []payload.GeoPoint{{Lon: 0, Lat: 0}, {Lon: 1, Lat: 0}, {Lon: 1, Lat: 1}, {Lon: 0, Lat: 0}}
	hole := []payload.GeoPoint{{Lon: 0.2, Lat: 0.2}, {Lon: 0.4, Lat: 0.2}, {Lon: 0.4, Lat: 0.4}, {Lon: 0.2, Lat: 0.2}}
	f := func(got *Filter, js string) {
		t.Helper()
		want, err := ParseJSON([]byte(js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("%s: builder's filter invalid: %v", js, err)
		}
		if !reflect.DeepEqual(got, want) {
			gj, _ := got.MarshalJSON()
			wj, _ := want.MarshalJSON()
			t.Fatalf("builder gives %s (%#v)\nParseJSON gives %s (%#v)", gj, got, wj, want)
		}
		gj, err := got.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseJSON(gj)
		if err != nil || !reflect.DeepEqual(back, want) {
			t.Fatalf("builder's JSON %s reads back as %v, %v", gj, back, err)
		}
	}
	f(Must(Key("lang").Match("en")), `{"must":[{"key":"lang","match":{"value":"en"}}]}`)
	f(Must(Key("lang").Match(lang("en"))), `{"must":[{"key":"lang","match":{"value":"en"}}]}`)
	f(Must(), `{"must":[]}`)
	f(Should(Key("n").Match(3), Key("n").Match(uint8(4)), Key("ok").Match(true)),
		`{"should":[{"key":"n","match":{"value":3}},{"key":"n","match":{"value":4}},{"key":"ok","match":{"value":true}}]}`)
	f(MustNot(Key("a.b[0].c").Match(int64(-9))), `{"must_not":[{"key":"a.b[0].c","match":{"value":-9}}]}`)
	f(AtLeast(2, Key("a").Match("x"), Key("b").Match("y"), Key("c").Match("z")),
		`{"min_should":{"conditions":[{"key":"a","match":{"value":"x"}},{"key":"b","match":{"value":"y"}},{"key":"c","match":{"value":"z"}}],"min_count":2}}`)
	f(Must(Key("price").Range(Gte(10), Lt(20))), `{"must":[{"key":"price","range":{"gte":10,"lt":20}}]}`)
	f(Must(Key("price").Range(Gt(float32(0.1)), Lte(99.5))), `{"must":[{"key":"price","range":{"gt":0.1,"lte":99.5}}]}`)
	f(Must(Key("at").Range(Gte(ts), Lt("2025-01-01T00:00:00Z"))),
		`{"must":[{"key":"at","range":{"gte":"2024-01-02T02:04:05.0000006Z","lt":"2025-01-01"}}]}`)
	f(Must(Key("tags").MatchAny("a", "b", "a")), `{"must":[{"key":"tags","match":{"any":["a","b"]}}]}`)
	f(Must(Key("tags").MatchAny([]string{"a", "b"})), `{"must":[{"key":"tags","match":{"any":["a","b"]}}]}`)
	f(Must(Key("n").MatchAny(1, 2, 3)), `{"must":[{"key":"n","match":{"any":[1,2,3]}}]}`)
	f(Must(Key("n").MatchAny([]int{1, 2})), `{"must":[{"key":"n","match":{"any":[1,2]}}]}`)
	f(Must(Key("tags").MatchAny()), `{"must":[{"key":"tags","match":{"any":[]}}]}`)
	f(Must(Key("tags").MatchExcept("x")), `{"must":[{"key":"tags","match":{"except":["x"]}}]}`)
	f(Must(Key("n").MatchExcept(uint16(7))), `{"must":[{"key":"n","match":{"except":[7]}}]}`)
	f(Must(Key("body").MatchText("vector search")), `{"must":[{"key":"body","match":{"text":"vector search"}}]}`)
	f(Must(Key("body").MatchPhrase("vector search")), `{"must":[{"key":"body","match":{"phrase":"vector search"}}]}`)
	f(Must(Key("body").MatchTextAny("vector search")), `{"must":[{"key":"body","match":{"text_any":"vector search"}}]}`)
	f(Must(Key("tags").ValuesCount(Gte(1), Lt(uint(5)))), `{"must":[{"key":"tags","values_count":{"gte":1,"lt":5}}]}`)
	f(Must(Key("loc").GeoRadius(tokyo, 5000)), `{"must":[{"key":"loc","geo_radius":{"center":{"lon":139.69,"lat":35.68},"radius":5000}}]}`)
	f(Must(Key("loc").GeoBoundingBox(payload.GeoPoint{Lon: 1, Lat: 5}, payload.GeoPoint{Lon: 3, Lat: 2})),
		`{"must":[{"key":"loc","geo_bounding_box":{"top_left":{"lon":1,"lat":5},"bottom_right":{"lon":3,"lat":2}}}]}`)
	f(Must(Key("loc").GeoPolygon(ring)),
		`{"must":[{"key":"loc","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},{"lon":1,"lat":1},{"lon":0,"lat":0}]}}}]}`)
	f(Must(Key("loc").GeoPolygon(ring, hole)),
		`{"must":[{"key":"loc","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},{"lon":1,"lat":1},{"lon":0,"lat":0}]},"interiors":[{"points":[{"lon":0.2,"lat":0.2},{"lon":0.4,"lat":0.2},{"lon":0.4,"lat":0.4},{"lon":0.2,"lat":0.2}]}]}}]}`)
	f(Must(Key("tags").IsEmpty(), Key("x").IsNull()), `{"must":[{"is_empty":{"key":"tags"}},{"is_null":{"key":"x"}}]}`)
	f(Must(HasIDs(1, uint64(2), "936DA01F-9ABD-4D9D-80C7-02AF85C822A8", NumID(1))),
		`{"must":[{"has_id":[1,2,"936da01f-9abd-4d9d-80c7-02af85c822a8"]}]}`)
	f(Must(&HasVector{Name: "img"}), `{"must":[{"has_vector":"img"}]}`)
	f(Must(Key("reviews").Nested(Must(Key("stars").Range(Gte(4)), Key("lang").Match("en")))),
		`{"must":[{"nested":{"key":"reviews","filter":{"must":[{"key":"stars","range":{"gte":4}},{"key":"lang","match":{"value":"en"}}]}}}]}`)
	f(Must(Should(Key("a").Match(1), Key("b").Match(2)), MustNot(Key("c").Match(3))),
		`{"must":[{"should":[{"key":"a","match":{"value":1}},{"key":"b","match":{"value":2}}]},{"must_not":[{"key":"c","match":{"value":3}}]}]}`)
	f(And(Must(Key("a").Match(1)), Should(Key("b").Match(2), Key("c").Match(3)), MustNot(Key("d").Match(4)), nil,
		Must(Key("e").Match(5))),
		`{"must":[{"key":"a","match":{"value":1}},{"key":"e","match":{"value":5}}],"should":[{"key":"b","match":{"value":2}},{"key":"c","match":{"value":3}}],"must_not":[{"key":"d","match":{"value":4}}]}`)
	f(And(Should(Key("a").Match(1)), Should(Key("b").Match(2)), AtLeast(1, Key("c").Match(3)), AtLeast(2, Key("d").Match(4))),
		`{"should":[{"key":"a","match":{"value":1}}],"min_should":{"conditions":[{"key":"c","match":{"value":3}}],"min_count":1},"must":[{"should":[{"key":"b","match":{"value":2}}]},{"min_should":{"conditions":[{"key":"d","match":{"value":4}}],"min_count":2}}]}`)
	f(And(), `{}`)
}

// TestAndMeansAll checks And against the conjunction of its parts on
// random points: the combined filter matches exactly the points every part
// matches.
func TestAndMeansAll(t *testing.T) {
	parts := []*Filter{
		Should(Key("a").Match(1), Key("b").Match(1)),
		Should(Key("c").Match(1), Key("d").Match(1)),
		MustNot(Key("a").Match(0)),
		AtLeast(2, Key("a").Match(1), Key("b").Match(1), Key("c").Match(1)),
		AtLeast(1, Key("d").Match(0), Key("b").Match(0)),
		Must(Key("c").MatchAny(0, 1)),
	}
	all := And(parts...)
	for bits := range 16 {
		obj := payload.ObjectValue(
			payload.Field{Key: "a", Value: payload.IntValue(int64(bits & 1))},
			payload.Field{Key: "b", Value: payload.IntValue(int64(bits >> 1 & 1))},
			payload.Field{Key: "c", Value: payload.IntValue(int64(bits >> 2 & 1))},
			payload.Field{Key: "d", Value: payload.IntValue(int64(bits >> 3 & 1))},
		)
		pt := &testPoint{payload: obj}
		want := true
		for _, p := range parts {
			want = want && p.Matches(pt)
		}
		if got := all.Matches(pt); got != want {
			t.Fatalf("point %s: And matches %v, its parts %v", obj, got, want)
		}
	}
}

// TestBuilderErrors checks that input the JSON form would reject gives a
// filter that Validate and MarshalJSON refuse with the builder call and
// the problem, and that it matches nothing rather than panicking.
func TestBuilderErrors(t *testing.T) {
	f := func(c Condition, want string) {
		t.Helper()
		flt := Must(Key("ok").Match(1), c)
		err := flt.Validate()
		if err == nil || !errors.Is(err, ErrInvalidFilter) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate: %v, want an ErrInvalidFilter containing %q", err, want)
		}
		if !strings.Contains(err.Error(), "filter.must[1]") {
			t.Fatalf("Validate: %v does not locate the condition", err)
		}
		if _, bad := c.(*invalid); !bad {
			return // a field condition with bad values: Validate's to catch
		}
		if _, err := flt.MarshalJSON(); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("MarshalJSON: %v, want an error containing %q", err, want)
		}
		if flt.Matches(&testPoint{payload: payload.ObjectValue(payload.Field{Key: "ok", Value: payload.IntValue(1)})}) {
			t.Fatal("an invalid condition matched")
		}
	}
	f(Key("a..b").Match("x"), `Key("a..b").Match: Invalid json path: 'a..b'`)
	f(Key("").IsEmpty(), `Key("").IsEmpty: Invalid json path`)
	f(Key("[").IsNull(), `Key("[").IsNull`)
	f(Key("a[").Nested(Must()), `Key("a[").Nested`)
	f(Key("a").Nested(nil), "missing filter")
	f(Key("a").Match(1.5), "use Range for floats")
	f(Key("a").Match(uint64(1<<63)), "does not fit int64")
	f(Key("a").Match(nil), "is not a string, an integer or a bool")
	f(Key("a").MatchAny("x", 1), "strings and integers mixed")
	f(Key("a").MatchExcept(1, "x"), "strings and integers mixed")
	f(Key("a").MatchAny(2.5), "value 0")
	f(Key("a").Range(Gte("yesterday")), "'yesterday' does not match accepted datetime format")
	f(Key("a").Range(Gte(1), Lt(time.Now())), "not both")
	f(Key("a").Range(Gte(1), Gte(2)), "gte given twice")
	f(Key("a").Range(Lt([]int{1})), "is not a number")
	f(Key("a").Range(Lt((*time.Time)(nil))), "nil time")
	f(Key("a").ValuesCount(Gte(-1)), "unsigned integer")
	f(Key("a").ValuesCount(Gte(1.5)), "unsigned integer")
	f(HasIDs(1, -2), "id 1")
	f(HasIDs("not-a-uuid"), "id 0")
	f(Key("g").GeoRadius(payload.GeoPoint{Lon: 200, Lat: 0}, 1), "GeoPoint")
	f(Key("g").GeoPolygon([]payload.GeoPoint{{Lon: 0, Lat: 0}}), "at least 4")
	f(AtLeast(-1, Key("a").Match(1)), "must not be negative")
}
