package embed

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// fakeServer answers /v1/embeddings with Hash's vectors, in reverse order
// of the inputs (the index field says which is which), and checks the
// request's form.
func fakeServer(t *testing.T, h Hash) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad request line or key", http.StatusBadRequest)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "m" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i := len(req.Input) - 1; i >= 0; i-- {
			if req.Input[i] == "fail" {
				http.Error(w, `{"error":"model not loaded"}`, http.StatusInternalServerError)
				return
			}
			data = append(data, item{"embedding", i, h.Vector(req.Input[i])})
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenAI(t *testing.T) {
	h := Hash{Size: 32}
	srv := fakeServer(t, h)
	o := &OpenAI{BaseURL: srv.URL + "/", Model: "m", APIKey: "k", Size: 32}
	texts := []string{"the cat sat", "a dog ran", ""}
	got, err := o.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := h.Embed(context.Background(), texts)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("vectors out of order or changed")
	}
	if _, err := o.Embed(context.Background(), []string{"x", "fail"}); err == nil || !strings.Contains(err.Error(), "model not loaded") {
		t.Fatalf("server error not reported: %v", err)
	}
	o.Size = 16
	if _, err := o.Embed(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "32 dimensions, want 16") {
		t.Fatalf("dimension mismatch not reported: %v", err)
	}
	o.APIKey = "wrong"
	if _, err := o.Embed(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("HTTP error not reported: %v", err)
	}
}

func TestHash(t *testing.T) {
	h := Hash{}
	a, b, c := h.Vector("vector databases store embeddings"), h.Vector("embeddings stored in vector databases"), h.Vector("the weather in Paris")
	dot := func(x, y []float32) (s float32) {
		for i := range x {
			s += x[i] * y[i]
		}
		return s
	}
	if len(a) != 256 || dot(a, a) < 0.999 || dot(a, a) > 1.001 {
		t.Fatalf("not a unit vector of 256: %d, %v", len(a), dot(a, a))
	}
	if dot(a, b) <= dot(a, c) {
		t.Fatalf("texts sharing words are not closer: %v <= %v", dot(a, b), dot(a, c))
	}
	if !reflect.DeepEqual(a, h.Vector("Vector databases, store embeddings!")) {
		t.Fatal("case and punctuation change the vector")
	}
}
