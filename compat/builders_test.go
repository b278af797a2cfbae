package compat

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// TestFilterToProtoMatchesGoClient checks FilterToProto against go-client's
// own condition constructors: a built filter converts to the message they
// make.
func TestFilterToProtoMatchesGoClient(t *testing.T) {
	f := func(built *filter.Filter, want *qdrant.Filter) {
		t.Helper()
		got, err := FilterToProto(built)
		require.NoError(t, err)
		if !proto.Equal(got, want) {
			t.Fatalf("FilterToProto gives %v, want %v", got, want)
		}
	}
	f(filter.Must(filter.Key("lang").Match("en"), filter.Key("n").Match(3), filter.Key("ok").Match(true)),
		&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("lang", "en"), qdrant.NewMatchInt("n", 3), qdrant.NewMatchBool("ok", true)}})
	f(filter.Should(filter.Key("tags").MatchAny("a", "b"), filter.Key("ids").MatchExcept(1, 2)),
		&qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatchKeywords("tags", "a", "b"), qdrant.NewMatchExceptInts("ids", 1, 2)}})
	f(filter.MustNot(filter.Key("price").Range(filter.Gte(10), filter.Lt(20))),
		&qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewRange("price", &qdrant.Range{Gte: qdrant.PtrOf(10.0), Lt: qdrant.PtrOf(20.0)})}})
	f(filter.Must(filter.Key("body").MatchText("vector db"), filter.Key("tags").IsEmpty(), filter.Key("x").IsNull(),
		filter.HasIDs(7), &filter.HasVector{Name: "img"}),
		&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchText("body", "vector db"), qdrant.NewIsEmpty("tags"),
			qdrant.NewIsNull("x"), qdrant.NewHasID(qdrant.NewIDNum(7)), qdrant.NewHasVector("img")}})
	f(filter.Must(filter.Key("loc").GeoRadius(payload.GeoPoint{Lon: 13.4, Lat: 52.5}, 1000)),
		&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewGeoRadius("loc", 52.5, 13.4, 1000)}})
	f(filter.Must(filter.Key("reviews").Nested(filter.Must(filter.Key("stars").Match(5)))),
		&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewNestedFilter("reviews", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchInt("stars", 5)}})}})
	f(filter.AtLeast(1, filter.Key("a").Match("x")),
		&qdrant.Filter{MinShould: &qdrant.MinShould{Conditions: []*qdrant.Condition{qdrant.NewMatch("a", "x")}, MinCount: 1}})

	_, err := FilterToProto(filter.Must(filter.Key("a..b").Match("x")))
	require.True(t, errors.Is(err, filter.ErrInvalidFilter), "%v", err)
	got, err := FilterToProto(nil)
	require.NoError(t, err)
	require.Nil(t, got)
}

type protoDoc struct {
	Title string            `json:"title"`
	Year  int               `json:"year"`
	Score float64           `json:"score"`
	Tags  []string          `json:"tags"`
	Meta  map[string]string `json:"meta,omitempty"`
	At    time.Time         `json:"at"`
	Skip  string            `json:"-"`
}

// TestPayloadStructProto checks PayloadFromStruct against go-client's
// NewValueMap of the same fields, and that DecodePayload gives the struct
// back.
func TestPayloadStructProto(t *testing.T) {
	at := time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)
	doc := protoDoc{Title: "T", Year: 2025, Score: 0.5, Tags: []string{"a"}, Meta: map[string]string{"k": "v"}, At: at, Skip: "x"}
	got, err := PayloadFromStruct(doc)
	require.NoError(t, err)
	want := qdrant.NewValueMap(map[string]any{"title": "T", "year": 2025, "score": 0.5, "tags": []any{"a"},
		"meta": map[string]any{"k": "v"}, "at": "2025-06-07T08:09:10Z"})
	require.Equal(t, len(want), len(got))
	for k, v := range want {
		if !proto.Equal(v, got[k]) {
			t.Fatalf("%s: %v, want %v", k, got[k], v)
		}
	}
	var back protoDoc
	require.NoError(t, DecodePayload(got, &back))
	doc.Skip = ""
	require.True(t, reflect.DeepEqual(doc, back), "%+v", back)

	_, err = PayloadFromStruct([]int{1})
	require.True(t, errors.Is(err, payload.ErrNotObject), "%v", err)
	require.Error(t, DecodePayload(map[string]*qdrant.Value{"year": qdrant.NewValueString("x")}, &back))
}
