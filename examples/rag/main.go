// Retrieval for RAG: chunk documents, embed the chunks through an OpenAI-compatible endpoint, retrieve the top k for a question.
//
//	ollama pull nomic-embed-text
//	go run ./examples/rag -embed-url http://localhost:11434 -model nomic-embed-text -dim 768 "how do I rotate the keys"
//	go run ./examples/rag -docs ./handbook -source security.md "..."
//
// It prints the retrieved chunks as the context block of a prompt, to be
// sent to a language model with the question. Without -embed-url it uses
// the offline toy embedder (embed.Hash).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/examples/embed"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// Chunk is a chunk's payload.
type Chunk struct {
	Source string `json:"source"`
	Index  int    `json:"index"`
	Text   string `json:"text"`
}

// handbook is the corpus used when no -docs directory is given.
var handbook = map[string]string{
	"security.md": `API keys are stored hashed. To rotate the keys, create a new key in the console,
deploy it to every client, then revoke the old key; both keys work during the rotation. Keys that
leak must be revoked at once. Access to production needs a hardware token and is logged.`,
	"oncall.md": `The on-call engineer answers pages within fifteen minutes. A page names the alert, the
dashboard and the runbook. Escalate to the team lead after thirty minutes without progress. Write the
incident report within two days, with the timeline and what will prevent a repeat.`,
	"deploy.md": `Deploys run from the main branch after the tests pass. A deploy rolls out to one zone
first and waits ten minutes for the error rate to stay flat before the other zones. Roll back by
deploying the previous release; never edit servers by hand.`,
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rag:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rag", flag.ContinueOnError)
	embedURL := fs.String("embed-url", "", "OpenAI-compatible embeddings server, e.g. http://localhost:11434 (default: the offline toy embedder)")
	model := fs.String("model", "nomic-embed-text", "embedding model")
	dim := fs.Int("dim", 768, "the model's vector length")
	docs := fs.String("docs", "", "directory of .txt and .md files to index (default: a built-in handbook)")
	source := fs.String("source", "", "retrieve only from this file")
	k := fs.Int("k", 3, "chunks to retrieve")
	size := fs.Int("chunk", 24, "words per chunk")
	overlap := fs.Int("overlap", 6, "words shared by consecutive chunks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one question, got %d arguments", fs.NArg())
	}
	question := fs.Arg(0)
	var emb embed.Embedder = embed.Hash{}
	if *embedURL != "" {
		emb = &embed.OpenAI{BaseURL: *embedURL, Model: *model, Size: *dim, APIKey: os.Getenv("OPENAI_API_KEY")}
	}
	texts := handbook
	if *docs != "" {
		var err error
		if texts, err = readDocs(*docs); err != nil {
			return err
		}
	}

	tmp, err := os.MkdirTemp("", "qlite-rag-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := engine.Open(tmp, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := index(ctx, db, emb, texts, *size, *overlap); err != nil {
		return err
	}
	chunks, scores, err := retrieve(ctx, db, emb, question, *source, *k)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Answer the question from the context.\n\nQuestion: %s\n\nContext:\n", question)
	for i, c := range chunks {
		fmt.Fprintf(out, "[%s#%d %.4f] %s\n", c.Source, c.Index, scores[i], c.Text)
	}
	return nil
}

// Split cuts text into chunks of size words, each sharing overlap words
// with the one before.
func Split(text string, size, overlap int) []string {
	words := strings.Fields(text)
	if size <= 0 {
		size = 1
	}
	step := max(1, size-overlap)
	var out []string
	for start := 0; start < len(words); start += step {
		end := min(start+size, len(words))
		out = append(out, strings.Join(words[start:end], " "))
		if end == len(words) {
			break
		}
	}
	return out
}

func readDocs(dir string) (map[string]string, error) {
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); e.IsDir() || (ext != ".txt" && ext != ".md") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = string(b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no .txt or .md files in %s", dir)
	}
	return out, nil
}

func index(ctx context.Context, db *engine.DB, emb embed.Embedder, docs map[string]string, size, overlap int) error {
	err := db.CreateCollection(ctx, "chunks", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: uint64(emb.Dim()), Distance: distance.Cosine}},
	})
	if err != nil {
		return err
	}
	if _, err := db.CreateFieldIndex(ctx, "chunks", "source", payload.IndexParams{Type: payload.TypeKeyword}, nil); err != nil {
		return err
	}
	var chunks []Chunk
	for _, name := range sortedKeys(docs) {
		for i, text := range Split(docs[name], size, overlap) {
			chunks = append(chunks, Chunk{Source: name, Index: i, Text: text})
		}
	}
	// Embed and store in batches, as an embedding server limits a
	// request's inputs.
	const batch = 64
	for start := 0; start < len(chunks); start += batch {
		part := chunks[start:min(start+batch, len(chunks))]
		texts := make([]string, len(part))
		for i, c := range part {
			texts[i] = c.Text
		}
		vecs, err := emb.Embed(ctx, texts)
		if err != nil {
			return err
		}
		pts := make([]engine.Point, len(part))
		for i, c := range part {
			p, err := payload.FromStruct(c)
			if err != nil {
				return err
			}
			pts[i] = engine.Point{ID: filter.NumID(uint64(start + i)), Vectors: map[string][]float32{"": vecs[i]}, Payload: p}
		}
		if _, err := db.Upsert(ctx, "chunks", &engine.UpsertOp{Points: pts}, nil); err != nil {
			return err
		}
	}
	return nil
}

// retrieve returns the k chunks closest to the question, from source only
// when it is set, with their scores.
func retrieve(ctx context.Context, db *engine.DB, emb embed.Embedder, question, source string, k int) ([]Chunk, []float32, error) {
	qv, err := emb.Embed(ctx, []string{question})
	if err != nil {
		return nil, nil, err
	}
	var f *filter.Filter
	if source != "" {
		f = filter.Must(filter.Key("source").Match(source))
	}
	hits, err := db.Search(ctx, "chunks", &engine.SearchRequest{Vector: qv[0], Limit: k, Filter: f, WithPayload: engine.AllPayload})
	if err != nil {
		return nil, nil, err
	}
	chunks := make([]Chunk, len(hits))
	scores := make([]float32, len(hits))
	for i, h := range hits {
		if err := h.Payload.Decode(&chunks[i]); err != nil {
			return nil, nil, err
		}
		scores[i] = h.Score
	}
	return chunks, scores, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
