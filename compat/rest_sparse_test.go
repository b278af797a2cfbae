package compat

import (
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload/bm25"
)

// TestRESTDocuments checks the wiring of BM25 documents against the model
// itself (payload/bm25, which is tested against Qdrant): an upserted
// document is stored as the model's document vector, and a query document
// scores points with the model's query vector.
func TestRESTDocuments(t *testing.T) {
	s := newRESTTest(t, nil)
	s.ok("PUT", "/collections/b", `{"sparse_vectors": {"t": {}}}`)
	texts := []string{"The quick brown fox jumps over the lazy dog", "Dogs and foxes, quick quick!", "brown bread"}
	for i, text := range texts {
		s.ok("PUT", "/collections/b/points?wait=true", fmt.Sprintf(`{"points": [{"id": %d, "vector": {"t": {"text": %q, "model": "Qdrant/BM25"}}}]}`, i, text))
	}
	model, err := bm25.New(bm25.DefaultOptions())
	require.NoError(t, err)
	type sparseOut struct {
		Indices []uint32  `json:"indices"`
		Values  []float32 `json:"values"`
	}
	var recs []struct {
		ID     int                  `json:"id"`
		Vector map[string]sparseOut `json:"vector"`
	}
	restInto(t, s.ok("POST", "/collections/b/points", `{"ids": [0, 1, 2], "with_vector": true}`), &recs)
	require.Len(t, recs, 3)
	docs := map[uint32]float32{}
	for i, r := range recs {
		ix, vals := model.Document(texts[i])
		require.Equal(t, ix, r.Vector["t"].Indices, texts[i])
		require.Equal(t, vals, r.Vector["t"].Values, texts[i])
		if i == 0 {
			for j := range ix {
				docs[ix[j]] = vals[j]
			}
		}
	}

	const q = "quick brown cats"
	qi, qv := model.Query(q)
	var want float64
	for j := range qi {
		want += float64(qv[j] * docs[qi[j]])
	}
	var res struct {
		Points []struct {
			ID    int     `json:"id"`
			Score float64 `json:"score"`
		} `json:"points"`
	}
	restInto(t, s.ok("POST", "/collections/b/points/query", fmt.Sprintf(`{"query": {"text": %q, "model": "qdrant/bm25"}, "using": "t"}`, q)), &res)
	require.NotEmpty(t, res.Points)
	var got float64
	for _, p := range res.Points {
		if p.ID == 0 {
			got = p.Score
		}
	}
	require.InDelta(t, want, got, 1e-5*math.Max(1, want))

	s.fail("PUT", "/collections/b/points?wait=true", `{"points": [{"id": 9, "vector": {"t": {"text": "a", "model": "qdrant/bm25", "options": {"k": "x"}}}}]}`,
		http.StatusBadRequest, `Wrong input: Invalid BM25 config: Error("invalid type: string \"x\", expected f64", line: 0, column: 0)`)
	s.fail("PUT", "/collections/b/points?wait=true", `{"batch": {"ids": [9], "vectors": [{"text": "a", "model": "qdrant/bm25"}]}}`,
		http.StatusBadRequest, "Direct Document processing is not supported in top-level batch vectors. Use named vectors.")
	s.fail("POST", "/collections/b/points/recommend", `{"positive": [{"text": "a", "model": "qdrant/bm25"}], "using": "t", "limit": 1}`,
		http.StatusBadRequest, "Format error in JSON body: data did not match any variant of untagged enum RecommendExample")
}
