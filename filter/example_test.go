package filter_test

import (
	"fmt"
	"time"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

func ExampleMust() {
	f := filter.Must(
		filter.Key("lang").Match("en"),
		filter.Key("price").Range(filter.Gte(10), filter.Lt(20)),
		filter.Key("tags").MatchAny("sale", "new"),
	)
	b, _ := f.MarshalJSON()
	fmt.Println(string(b))
	// Output: {"must":[{"key":"lang","match":{"value":"en"}},{"key":"price","range":{"lt":20,"gte":10}},{"key":"tags","match":{"any":["sale","new"]}}]}
}

func ExampleAnd() {
	f := filter.And(
		filter.Must(filter.Key("published").Range(filter.Gte(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))),
		filter.Should(filter.Key("author").Match("ann"), filter.Key("author").Match("bob")),
		filter.MustNot(filter.Key("reviews").Nested(filter.Must(filter.Key("stars").Range(filter.Lt(2))))),
		filter.Must(filter.Key("location").GeoRadius(payload.GeoPoint{Lon: 13.4, Lat: 52.5}, 5000)),
	)
	b, _ := f.MarshalJSON()
	fmt.Println(string(b))
	// Output: {"should":[{"key":"author","match":{"value":"ann"}},{"key":"author","match":{"value":"bob"}}],"must":[{"key":"published","range":{"gte":"2025-01-01T00:00:00Z"}},{"key":"location","geo_radius":{"center":{"lon":13.4,"lat":52.5},"radius":5000}}],"must_not":[{"nested":{"key":"reviews","filter":{"must":[{"key":"stars","range":{"lt":2}}]}}}]}
}

// A builder given input the JSON form would refuse reports it through
// Validate, and through the engine's requests that use the filter.
func ExampleKey_invalid() {
	f := filter.Must(filter.Key("a..b").Match("x"), filter.Key("n").Match(1.5))
	fmt.Println(f.Validate())
	// Output: filter.must[0]: Key("a..b").Match: Invalid json path: 'a..b'
}
