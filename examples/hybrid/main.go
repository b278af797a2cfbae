// Hybrid search: a BM25 keyword query and a dense vector query over the same documents, fused with reciprocal rank fusion in one query.
//
//	go run ./examples/hybrid "waterproof hiking boots"
//
// The sparse vectors are Qdrant's qdrant/bm25 model (payload/bm25: the same
// vectors Qdrant makes for {"text": ..., "model": "qdrant/bm25"} documents)
// in a sparse vector with the IDF modifier; the dense ones come from the
// offline toy embedder (use a real model for meaning). Over the REST API
// the same query is {"prefetch": [{"query": {"text": "...", "model":
// "qdrant/bm25"}, "using": "bm25"}, {"query": [...], "using": "dense"}],
// "query": {"fusion": "rrf"}}.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/examples/embed"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/payload/bm25"
)

// Product is a product's payload.
type Product struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Price       float64 `json:"price"`
}

var products = []Product{
	{"Trail Runner 3", "Lightweight trail running shoes with a grippy sole for rocky paths.", 120},
	{"Summit GTX", "Waterproof hiking boots with ankle support for long mountain hikes.", 210},
	{"City Walker", "Leather shoes for walking in the city, comfortable all day.", 95},
	{"Rain Shell", "A waterproof jacket that packs into its own pocket, for rain on the trail.", 150},
	{"Down Parka", "A warm down parka for winter cities and cold mornings.", 260},
	{"Camp Stove", "A small gas stove that boils water in three minutes at camp.", 60},
	{"Trek Poles", "Carbon trekking poles that fold down for travel and steep descents.", 80},
	{"Wool Socks", "Merino wool hiking socks that stay warm when wet.", 22},
	{"Gaiters", "Waterproof gaiters keep snow and mud out of boots.", 45},
	{"Headlamp", "A bright headlamp for night hikes and camp chores.", 35},
	{"Sandals", "Hiking sandals for river crossings and hot summer trails.", 70},
	{"Approach Shoe", "A sticky rubber approach shoe for scrambling on rock.", 140},
	{"Bivy Sack", "A waterproof bivy sack for nights under the stars.", 180},
	{"Trail Map Set", "Paper maps of mountain trails, printed on waterproof paper.", 18},
	{"Water Filter", "A squeeze filter that makes stream water safe to drink.", 40},
	{"Snow Boots", "Insulated snow boots for deep snow and icy winter walks.", 175},
}

const denseDim = 128

func text(p Product) string { return p.Name + ". " + p.Description }

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hybrid:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hybrid", flag.ContinueOnError)
	k := fs.Int("k", 5, "results")
	maxPrice := fs.Float64("max-price", 0, "only products at most this price (0: any)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one query, got %d arguments", fs.NArg())
	}
	query := fs.Arg(0)
	model, err := bm25.New(bm25.DefaultOptions())
	if err != nil {
		return err
	}
	emb := embed.Hash{Size: denseDim}

	tmp, err := os.MkdirTemp("", "qlite-hybrid-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := engine.Open(tmp, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	err = db.CreateCollection(ctx, "products", &engine.CreateCollection{
		Vectors:       engine.VectorsConfig{"dense": {Size: denseDim, Distance: distance.Cosine}},
		SparseVectors: map[string]engine.SparseVectorParams{"bm25": {Modifier: "idf"}},
	})
	if err != nil {
		return err
	}
	pts := make([]engine.Point, len(products))
	for i, p := range products {
		pl, err := payload.FromStruct(p)
		if err != nil {
			return err
		}
		idx, vals := model.Document(text(p))
		pts[i] = engine.Point{
			ID:      filter.NumID(uint64(i + 1)),
			Vectors: map[string][]float32{"dense": emb.Vector(text(p))},
			Sparse:  map[string]engine.SparseVector{"bm25": {Indices: idx, Values: vals}},
			Payload: pl,
		}
	}
	if _, err := db.Upsert(ctx, "products", &engine.UpsertOp{Points: pts}, nil); err != nil {
		return err
	}

	var f *filter.Filter
	if *maxPrice > 0 {
		f = filter.Must(filter.Key("price").Range(filter.Lte(*maxPrice)))
	}
	qi, qv := model.Query(query)
	keyword := engine.Prefetch{Using: "bm25", Limit: 20,
		Query: &engine.Query{Nearest: &engine.Example{Sparse: &engine.SparseVector{Indices: qi, Values: qv}}}}
	dense := engine.Prefetch{Using: "dense", Limit: 20,
		Query: &engine.Query{Nearest: &engine.Example{Vector: emb.Vector(query)}}}
	for _, part := range []struct {
		name string
		req  *engine.QueryRequest
	}{
		// The two parts alone, for comparison: BM25 scores, then cosine.
		{"keyword (bm25)", &engine.QueryRequest{Query: keyword.Query, Using: keyword.Using}},
		{"dense", &engine.QueryRequest{Query: dense.Query, Using: dense.Using}},
		// Both, fused: each point scores the sum over the lists it is in
		// of 1 / (rank + 2), rank counted from 0.
		{"hybrid (rrf)", &engine.QueryRequest{Prefetch: []engine.Prefetch{keyword, dense}, Query: &engine.Query{Fusion: &engine.Fusion{Method: engine.FusionRRF}}}},
	} {
		part.req.Filter, part.req.Limit, part.req.WithPayload = f, *k, engine.AllPayload
		hits, err := db.Query(ctx, "products", part.req)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s:\n", part.name)
		for _, h := range hits {
			var p Product
			if err := h.Payload.Decode(&p); err != nil {
				return err
			}
			fmt.Fprintf(out, "  %s %.4f %s\n", h.ID, h.Score, p.Name)
		}
	}
	return nil
}
