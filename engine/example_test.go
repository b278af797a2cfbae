package engine_test

import (
	"context"
	"fmt"
	"os"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

type Doc struct {
	Title string `json:"title"`
	Lang  string `json:"lang"`
}

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "qlite-example-")
	defer os.RemoveAll(dir)

	db, err := engine.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	err = db.CreateCollection(ctx, "docs", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: 3, Distance: distance.Cosine}},
	})
	if err != nil {
		panic(err)
	}
	docs := []struct {
		doc Doc
		vec []float32
	}{
		{Doc{"Graphs", "en"}, []float32{1, 0, 0}},
		{Doc{"Graphen", "de"}, []float32{0.9, 0.1, 0}},
		{Doc{"Filters", "en"}, []float32{0.7, 0.7, 0}},
		{Doc{"Payloads", "en"}, []float32{0, 0, 1}},
	}
	var pts []engine.Point
	for i, d := range docs {
		p, err := payload.FromStruct(d.doc)
		if err != nil {
			panic(err)
		}
		pts = append(pts, engine.Point{ID: filter.NumID(uint64(i + 1)), Vectors: map[string][]float32{"": d.vec}, Payload: p})
	}
	if _, err := db.Upsert(ctx, "docs", &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true}); err != nil {
		panic(err)
	}

	hits, err := db.Search(ctx, "docs", &engine.SearchRequest{
		Vector:      []float32{1, 0.2, 0},
		Filter:      filter.Must(filter.Key("lang").Match("en")),
		Limit:       2,
		WithPayload: engine.AllPayload,
	})
	if err != nil {
		panic(err)
	}
	for _, h := range hits {
		var d Doc
		if err := h.Payload.Decode(&d); err != nil {
			panic(err)
		}
		fmt.Printf("%s %.3f %s\n", h.ID, h.Score, d.Title)
	}
	// Output:
	// 1 0.981 Graphs
	// 3 0.832 Filters
}

// A query with prefetches: two searches, each with its own filter, fused
// by reciprocal rank fusion.
func ExampleDB_Query() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "qlite-example-")
	defer os.RemoveAll(dir)
	db, err := engine.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.CreateCollection(ctx, "c", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: 2, Distance: distance.Euclid}},
	}); err != nil {
		panic(err)
	}
	var pts []engine.Point
	for i := range 10 {
		pts = append(pts, engine.Point{
			ID:      filter.NumID(uint64(i)),
			Vectors: map[string][]float32{"": {float32(i), 0}},
			Payload: payload.ObjectValue(payload.Field{Key: "even", Value: payload.BoolValue(i%2 == 0)}),
		})
	}
	if _, err := db.Upsert(ctx, "c", &engine.UpsertOp{Points: pts}, nil); err != nil {
		panic(err)
	}
	near := func(x float32, f *filter.Filter) engine.Prefetch {
		return engine.Prefetch{Query: &engine.Query{Nearest: &engine.Example{Vector: []float32{x, 0}}}, Filter: f, Limit: 3}
	}
	hits, err := db.Query(ctx, "c", &engine.QueryRequest{
		Prefetch: []engine.Prefetch{
			near(0, filter.Must(filter.Key("even").Match(true))), // 0, 2, 4
			near(4, nil), // 4, 3 or 5, ...
		},
		Query: &engine.Query{Fusion: &engine.Fusion{Method: engine.FusionRRF}},
		Limit: 1,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %.3f\n", hits[0].ID, hits[0].Score)
	// Output: 4 0.750
}
