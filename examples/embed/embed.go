// Package embed turns text into vectors for the examples: an Embedder
// interface, Hash, a deterministic toy embedder that runs offline, and
// OpenAI, a client of OpenAI-compatible embedding endpoints (OpenAI, a
// local Ollama, vLLM, LM Studio, llama.cpp's server...).
package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"strings"
	"unicode"
)

// Embedder embeds texts: one vector of Dim() components per text, in the
// order given.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dim is the length of the vectors, known before the first call (the
	// collection is created with it).
	Dim() int
}

// Hash is a toy embedder: a hashed bag of words. Each lower-cased word and
// each pair of adjacent words adds a hashed sign to a few hashed
// coordinates; the vector is then normalised. Texts that share words get
// close vectors. It knows no synonyms, so it stands in for a model only in
// tests and demos that must run offline.
type Hash struct {
	// Size is the vector length (default 256).
	Size int
}

// Dim returns the vector length.
func (h Hash) Dim() int {
	if h.Size <= 0 {
		return 256
	}
	return h.Size
}

// Embed embeds each text.
func (h Hash) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = h.Vector(t)
	}
	return out, nil
}

// Vector embeds one text.
func (h Hash) Vector(text string) []float32 {
	v := make([]float32, h.Dim())
	words := Words(text)
	add := func(term string, weight float32) {
		for k := range 4 {
			f := fnv.New64a()
			fmt.Fprintf(f, "%d\x00%s", k, term)
			x := f.Sum64()
			sign := float32(1)
			if x>>63 == 1 {
				sign = -1
			}
			v[x%uint64(len(v))] += sign * weight
		}
	}
	for i, w := range words {
		add(w, 1)
		if i > 0 {
			add(words[i-1]+" "+w, 0.5)
		}
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n > 0 {
		s := float32(1 / math.Sqrt(n))
		for i := range v {
			v[i] *= s
		}
	}
	return v
}

// Words splits text into lower-case words of letters and digits.
func Words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// OpenAI calls an OpenAI-compatible embeddings endpoint: POST
// {BaseURL}/v1/embeddings with {"model": Model, "input": [texts]}. For a
// local Ollama: BaseURL "http://localhost:11434", Model "nomic-embed-text",
// Size 768.
type OpenAI struct {
	// BaseURL is the server, without /v1 (e.g. "https://api.openai.com").
	BaseURL string
	// Model names the embedding model.
	Model string
	// APIKey, when set, is sent as "Authorization: Bearer APIKey".
	APIKey string
	// Size is the model's vector length.
	Size int
	// Client is the HTTP client (default http.DefaultClient).
	Client *http.Client
}

// Dim returns Size.
func (o *OpenAI) Dim() int { return o.Size }

// Embed sends texts in one request and returns their vectors in order.
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}{o.Model, texts})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.BaseURL, "/")+"/v1/embeddings", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if o.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+o.APIKey)
	}
	c := o.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("embed: %s: %s", resp.Status, bytes.TrimSpace(b[:min(len(b), 512)]))
	}
	var r struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("embed: decoding the answer: %w", err)
	}
	if len(r.Data) != len(texts) {
		return nil, fmt.Errorf("embed: %d embeddings for %d texts", len(r.Data), len(texts))
	}
	out := make([][]float32, len(texts))
	for _, d := range r.Data {
		if d.Index < 0 || d.Index >= len(texts) || out[d.Index] != nil {
			return nil, fmt.Errorf("embed: bad or repeated index %d in the answer", d.Index)
		}
		if o.Size > 0 && len(d.Embedding) != o.Size {
			return nil, fmt.Errorf("embed: model %s gave %d dimensions, want %d", o.Model, len(d.Embedding), o.Size)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}

// Handler serves e as an OpenAI-compatible embeddings endpoint (POST
// /v1/embeddings), the server side of OpenAI: a stand-in for a model
// server in tests and offline demos. Requests for another model than model
// are refused with 404, as model servers do.
func Handler(e Embedder, model string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"message":"bad request body"}}`, http.StatusBadRequest)
			return
		}
		if req.Model != model {
			http.Error(w, fmt.Sprintf(`{"error":{"message":"model %q not found"}}`, req.Model), http.StatusNotFound)
			return
		}
		vecs, err := e.Embed(r.Context(), req.Input)
		if err != nil {
			http.Error(w, `{"error":{"message":"embedding failed"}}`, http.StatusInternalServerError)
			return
		}
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		data := make([]item, len(vecs))
		for i, v := range vecs {
			data[i] = item{"embedding", i, v}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": model})
	})
	return mux
}
