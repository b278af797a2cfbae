package engine

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

type builtDoc struct {
	Lang    string    `json:"lang"`
	Price   float64   `json:"price"`
	Tags    []string  `json:"tags,omitempty"`
	Created time.Time `json:"created"`
	Draft   bool      `json:"-"`
}

// TestBuiltFiltersAndStructPayloads stores struct payloads and searches
// them with built filters: the answers equal those of the filters' JSON
// forms and of brute force over the structs, and the payloads decode back
// into the structs they came from.
func TestBuiltFiltersAndStructPayloads(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "docs", 4, distance.Euclid, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	docs := map[uint64]builtDoc{}
	vecs := map[uint64][]float32{}
	var pts []Point
	for i := range uint64(200) {
		d := builtDoc{
			Lang:    []string{"en", "de", "fr"}[i%3],
			Price:   float64(rng.IntN(4000)) / 100,
			Created: base.Add(time.Duration(i) * 7 * time.Hour),
		}
		if i%4 == 0 {
			d.Tags = []string{"sale"}
		}
		p, err := payload.FromStruct(d)
		require.NoError(t, err)
		docs[i], vecs[i] = d, randVec(rng, 4)
		pts = append(pts, Point{ID: numID(i), Vectors: map[string][]float32{"": vecs[i]}, Payload: p})
	}
	_, err := db.Upsert(bg, "docs", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)

	since := base.Add(300 * time.Hour)
	built := filter.And(
		filter.Must(
			filter.Key("lang").MatchAny("en", "de"),
			filter.Key("price").Range(filter.Gte(10), filter.Lt(30)),
			filter.Key("created").Range(filter.Gte(since)),
		),
		filter.MustNot(filter.Key("tags").Match("sale")),
	)
	parsed := mustFilter(t, `{"must":[{"key":"lang","match":{"any":["en","de"]}},
		{"key":"price","range":{"gte":10,"lt":30}},{"key":"created","range":{"gte":"`+since.Format(time.RFC3339)+`"}}],
		"must_not":[{"key":"tags","match":{"value":"sale"}}]}`)
	want := func(d builtDoc) bool {
		return (d.Lang == "en" || d.Lang == "de") && d.Price >= 10 && d.Price < 30 &&
			!d.Created.Before(since) && !slices.Contains(d.Tags, "sale")
	}
	q := randVec(rng, 4)
	var brute []uint64
	for id, d := range docs {
		if want(d) {
			brute = append(brute, id)
		}
	}
	slices.SortFunc(brute, func(a, b uint64) int {
		da, dbb := distance.SquaredL2(q, vecs[a]), distance.SquaredL2(q, vecs[b])
		switch {
		case da < dbb:
			return -1
		case da > dbb:
			return 1
		}
		return 0
	})
	require.NotEmpty(t, brute)

	for _, f := range []*filter.Filter{built, parsed} {
		hits, err := db.Search(bg, "docs", &SearchRequest{Vector: q, Limit: 5, Exact: true, Filter: f, WithPayload: AllPayload})
		require.NoError(t, err)
		var ids []uint64
		for _, h := range hits {
			id, _ := h.ID.Num()
			ids = append(ids, id)
			var got builtDoc
			require.NoError(t, h.Payload.Decode(&got))
			require.True(t, got.Created.Equal(docs[id].Created))
			got.Created = docs[id].Created
			require.True(t, reflect.DeepEqual(got, docs[id]), "payload of %d decodes as %+v, want %+v", id, got, docs[id])
		}
		require.Equal(t, brute[:min(5, len(brute))], ids)
		n, err := db.Count(bg, "docs", f, true)
		require.NoError(t, err)
		require.Equal(t, len(brute), n)
	}
}

// TestBuiltFilterErrors checks that a filter a builder could not build is
// refused by every request that takes a filter, before anything runs.
func TestBuiltFilterErrors(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 2, distance.Cosine, 0)
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 0}}}}}, nil)
	require.NoError(t, err)
	bad := filter.Must(filter.Key("a..b").Match("x"))
	id := numID(1)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, filter.ErrInvalidFilter) {
			t.Fatalf("%s: error %v, want ErrInvalidFilter", what, err)
		}
	}
	_, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 0}, Limit: 1, Filter: bad})
	check("Search", err)
	_, err = db.Count(bg, "c", bad, true)
	check("Count", err)
	_, err = db.Scroll(bg, "c", &ScrollRequest{Limit: 1, Filter: bad})
	check("Scroll", err)
	_, err = db.Recommend(bg, "c", &RecommendRequest{Positive: []Example{{ID: &id}}, Limit: 1, Filter: bad})
	check("Recommend", err)
	_, err = db.Query(bg, "c", &QueryRequest{Query: &Query{Nearest: &Example{Vector: []float32{1, 0}}}, Filter: bad})
	check("Query", err)
	_, err = db.Query(bg, "c", &QueryRequest{
		Prefetch: []Prefetch{{Query: &Query{Nearest: &Example{Vector: []float32{1, 0}}}, Filter: bad}},
		Query:    &Query{Fusion: &Fusion{Method: FusionRRF}}})
	check("Query prefetch", err)
	_, err = db.Query(bg, "c", &QueryRequest{
		Prefetch: []Prefetch{{Query: &Query{Nearest: &Example{Vector: []float32{1, 0}}}}},
		Query:    &Query{Fusion: &Fusion{Method: FusionRRF}}, Filter: bad})
	check("Query with prefetch and a filter", err)
	_, err = db.Delete(bg, "c", Selector{Filter: bad}, nil)
	check("Delete", err)
	n, err := db.Count(bg, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}
