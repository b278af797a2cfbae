package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMultivectorRandomDifferential sends the same seeded random
// multivector collection and queries (query, legacy search, recommend, with
// and without filters) to the real Qdrant server and to qlite serve, and
// compares ids, order and scores (within 1e-5 relative; points whose scores
// tie may come in either order). The Cosine vector has a graph (queried
// exact), the Euclid one m = 0 (always scanned), the Dot one a graph
// queried through it, compared as a set of the best results.
func TestMultivectorRandomDifferential(t *testing.T) {
	q := realQdrant(t)
	require.NoError(t, q.reset())
	_, h, _ := startServer(t, nil)
	bases := []string{"http://" + q.httpAddr, "http://" + h}
	call := func(base, method, path string, body any) (int, map[string]any) {
		t.Helper()
		b, err := json.Marshal(body)
		require.NoError(t, err)
		req, err := http.NewRequest(method, base+path, bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var out map[string]any
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
		return resp.StatusCode, out
	}
	both := func(method, path string, body any) [2]map[string]any {
		t.Helper()
		var out [2]map[string]any
		for i, base := range bases {
			code, ans := call(base, method, path, body)
			require.Equal(t, http.StatusOK, code, "%s %s on %s: %v", method, path, base, ans)
			out[i] = ans
		}
		return out
	}
	const dim = 6
	rng := rand.New(rand.NewPCG(16, 6))
	num := func() float64 { return math.Round(rng.NormFloat64()*1e4) / 1e4 }
	multi := func(maxN int) [][]float64 {
		out := make([][]float64, 1+rng.IntN(maxN))
		for i := range out {
			out[i] = make([]float64, dim)
			for j := range out[i] {
				out[i][j] = num()
			}
		}
		return out
	}
	mv := map[string]any{"comparator": "max_sim"}
	both(http.MethodPut, "/collections/mv", map[string]any{"vectors": map[string]any{
		"c": map[string]any{"size": dim, "distance": "Cosine", "multivector_config": mv},
		"d": map[string]any{"size": dim, "distance": "Dot", "multivector_config": mv},
		"e": map[string]any{"size": dim, "distance": "Euclid", "multivector_config": mv, "hnsw_config": map[string]any{"m": 0}},
	}, "optimizers_config": map[string]any{"indexing_threshold": 1}})
	const n = 400
	for start := 0; start < n; start += 100 {
		var pts []any
		for id := start; id < start+100; id++ {
			pts = append(pts, map[string]any{"id": id, "payload": map[string]any{"k": id % 5},
				"vector": map[string]any{"c": multi(5), "d": multi(5), "e": multi(5)}})
		}
		both(http.MethodPut, "/collections/mv/points?wait=true", map[string]any{"points": pts})
	}

	type hit struct {
		id    float64
		score float64
	}
	hits := func(ans map[string]any) []hit {
		res := ans["result"]
		if m, ok := res.(map[string]any); ok {
			res = m["points"]
		}
		var out []hit
		for _, p := range res.([]any) {
			pm := p.(map[string]any)
			out = append(out, hit{pm["id"].(float64), pm["score"].(float64)})
		}
		return out
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-5*math.Max(1, math.Max(math.Abs(a), math.Abs(b))) }
	for i := range 80 {
		using := []string{"c", "d", "e"}[rng.IntN(3)]
		body := map[string]any{"using": using, "limit": 1 + rng.IntN(10)}
		path := "/collections/mv/points/query"
		if using != "d" {
			body["params"] = map[string]any{"exact": true}
		}
		if rng.IntN(2) == 0 {
			body["filter"] = map[string]any{"must": []any{map[string]any{"key": "k", "match": map[string]any{"any": []int{rng.IntN(5), rng.IntN(5)}}}}}
		}
		switch kind := rng.IntN(4); kind {
		case 0, 1:
			body["query"] = multi(4)
		case 2:
			strategies := []string{"average_vector", "best_score", "sum_scores"}
			body["query"] = map[string]any{"recommend": map[string]any{
				"positive": []any{rng.IntN(n), multi(3)}, "negative": []any{rng.IntN(n)},
				"strategy": strategies[rng.IntN(len(strategies))]}}
		case 3:
			path = "/collections/mv/points/search"
			body["vector"] = map[string]any{"name": using, "vector": multi(1)[0]}
			delete(body, "using")
		}
		ans := both(http.MethodPost, path, body)
		want, got := hits(ans[0]), hits(ans[1])
		desc := fmt.Sprintf("query %d: %s %v", i, path, body)
		require.Len(t, got, len(want), desc)
		if using == "d" {
			// A graph search: the best results as a set, scores of the
			// points both found equal.
			ws := map[float64]float64{}
			for _, w := range want {
				ws[w.id] = w.score
			}
			for _, g := range got {
				if s, ok := ws[g.id]; ok {
					require.True(t, close(s, g.score), "%s: point %v: Qdrant %v, qlite %v", desc, g.id, s, g.score)
				}
			}
			continue
		}
		for j := range want {
			require.True(t, close(want[j].score, got[j].score), "%s: rank %d: Qdrant %v, qlite %v", desc, j, want[j], got[j])
			if want[j].id != got[j].id {
				require.True(t, close(want[j].score, got[j].score), "%s: rank %d: Qdrant %v, qlite %v", desc, j, want[j], got[j])
			}
		}
	}
}
