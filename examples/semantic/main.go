// Semantic document search: embed a small corpus, store it with struct payloads, search it with a filter.
//
//	go run ./examples/semantic "how are vectors indexed"
//	go run ./examples/semantic -topic cooking "what goes with pasta"
//	go run ./examples/semantic -embed-url http://localhost:11434 -model nomic-embed-text -dim 768 "..."
//
// By default texts are embedded with embed.Hash, a hashed bag of words that
// runs offline (it matches shared words, not meanings); -embed-url uses an
// OpenAI-compatible embeddings server such as a local Ollama.
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
)

// Doc is a document's payload.
type Doc struct {
	Title string `json:"title"`
	Topic string `json:"topic"`
	Body  string `json:"body"`
}

var corpus = []Doc{
	{"HNSW graphs", "databases", "HNSW indexes vectors in a layered graph and searches it greedily from the top layer down."},
	{"Payload filters", "databases", "A payload filter restricts a vector search to points whose JSON payload matches conditions."},
	{"Write-ahead logs", "databases", "A write-ahead log makes every write durable before the database acknowledges it."},
	{"Product quantization", "databases", "Product quantization compresses vectors into short codes so that more of them fit in memory."},
	{"Cosine similarity", "math", "Cosine similarity compares the direction of two vectors, ignoring their length."},
	{"Dot products", "math", "The dot product of two vectors sums the products of their components."},
	{"Matrix factorisation", "math", "Factorising a matrix writes it as a product of smaller matrices, as recommenders do with ratings."},
	{"Fresh pasta", "cooking", "Fresh pasta needs flour, eggs and a little salt, kneaded until smooth and rested for half an hour."},
	{"Tomato sauce", "cooking", "A tomato sauce for pasta simmers tomatoes, garlic and olive oil until thick."},
	{"Sourdough bread", "cooking", "Sourdough bread rises with a starter of wild yeast instead of baker's yeast."},
	{"Mountain hiking", "travel", "Hiking in the mountains needs good boots, water and a map of the trail."},
	{"Night trains", "travel", "Night trains cross Europe while passengers sleep, arriving in a new city by morning."},
}

var defaultQueries = []string{"how does a graph index vectors", "what goes into pasta"}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "semantic:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("semantic", flag.ContinueOnError)
	dir := fs.String("dir", "", "database directory (default: a temporary one, removed at exit)")
	topic := fs.String("topic", "", "search only the documents of this topic")
	k := fs.Int("k", 3, "results per query")
	embedURL := fs.String("embed-url", "", "OpenAI-compatible embeddings server (default: the offline toy embedder)")
	model := fs.String("model", "nomic-embed-text", "embedding model, with -embed-url")
	dim := fs.Int("dim", 768, "the model's vector length, with -embed-url")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var emb embed.Embedder = embed.Hash{}
	if *embedURL != "" {
		emb = &embed.OpenAI{BaseURL: *embedURL, Model: *model, Size: *dim, APIKey: os.Getenv("OPENAI_API_KEY")}
	}
	queries := fs.Args()
	if len(queries) == 0 {
		queries = defaultQueries
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "qlite-semantic-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}

	db, err := engine.Open(*dir, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := index(ctx, db, emb); err != nil {
		return err
	}

	var f *filter.Filter
	if *topic != "" {
		f = filter.Must(filter.Key("topic").Match(*topic))
	}
	qvecs, err := emb.Embed(ctx, queries)
	if err != nil {
		return err
	}
	for i, q := range queries {
		hits, err := db.Search(ctx, "docs", &engine.SearchRequest{
			Vector: qvecs[i], Limit: *k, Filter: f, WithPayload: engine.AllPayload,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s\n", q)
		for _, h := range hits {
			var d Doc
			if err := h.Payload.Decode(&d); err != nil {
				return err
			}
			fmt.Fprintf(out, "  %s %.4f %s (%s)\n", h.ID, h.Score, d.Title, d.Topic)
		}
	}
	return nil
}

// index creates the collection, unless it exists, and stores the corpus.
func index(ctx context.Context, db *engine.DB, emb embed.Embedder) error {
	if ok, err := db.CollectionExists(ctx, "docs"); err != nil || ok {
		return err
	}
	err := db.CreateCollection(ctx, "docs", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: uint64(emb.Dim()), Distance: distance.Cosine}},
	})
	if err != nil {
		return err
	}
	// A keyword index makes the topic filter an index lookup.
	if _, err := db.CreateFieldIndex(ctx, "docs", "topic", payload.IndexParams{Type: payload.TypeKeyword}, nil); err != nil {
		return err
	}
	texts := make([]string, len(corpus))
	for i, d := range corpus {
		texts[i] = d.Title + ". " + d.Body
	}
	vecs, err := emb.Embed(ctx, texts)
	if err != nil {
		return err
	}
	pts := make([]engine.Point, len(corpus))
	for i, d := range corpus {
		p, err := payload.FromStruct(d)
		if err != nil {
			return err
		}
		pts[i] = engine.Point{ID: filter.NumID(uint64(i + 1)), Vectors: map[string][]float32{"": vecs[i]}, Payload: p}
	}
	_, err = db.Upsert(ctx, "docs", &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true})
	return err
}
