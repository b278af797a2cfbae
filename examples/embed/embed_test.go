package embed

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// failing embeds like Hash, but fails on the text "fail".
type failing struct{ Hash }

func (f failing) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	for _, t := range texts {
		if t == "fail" {
			return nil, errors.New("embedding failed")
		}
	}
	return f.Hash.Embed(ctx, texts)
}

// fakeServer serves h through Handler, requiring the API key "k" and
// reversing the order of the answer's items (their index fields say which
// is which), as a server may.
func fakeServer(t *testing.T, h Hash) *httptest.Server {
	inner := Handler(failing{h}, "m")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "bad key", http.StatusUnauthorized)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		var body map[string]any
		json.Unmarshal(rec.Body.Bytes(), &body)
		data := body["data"].([]any)
		slices.Reverse(data)
		json.NewEncoder(w).Encode(body)
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
	if _, err := o.Embed(context.Background(), []string{"x", "fail"}); err == nil || !strings.Contains(err.Error(), "embedding failed") {
		t.Fatalf("server error not reported: %v", err)
	}
	o.Size = 16
	if _, err := o.Embed(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "32 dimensions, want 16") {
		t.Fatalf("dimension mismatch not reported: %v", err)
	}
	o.Model = "other"
	if _, err := o.Embed(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown model not reported: %v", err)
	}
	o.APIKey = "wrong"
	if _, err := o.Embed(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "401") {
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
