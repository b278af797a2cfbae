package compat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMMRAgainstQdrant runs seeded random MMR queries (every dense metric,
// random diversity, candidates limit, limit, offset and filter) and random
// relevance feedback queries on the same points in Qdrant and in qlite,
// and requires the same ids in the same order, with scores within 1e-5
// relative.
func TestMMRAgainstQdrant(t *testing.T) {
	q := realQdrant(t)
	if err := q.reset(); err != nil {
		t.Fatal(err)
	}
	_, h, _ := startServer(t, nil)
	bases := []string{"http://" + q.httpAddr + "/collections/mmr", "http://" + h + "/collections/mmr"}
	metrics := []string{"Cosine", "Dot", "Euclid", "Manhattan"}
	const dim, n = 8, 300
	rng := rand.New(rand.NewPCG(16, 2026))
	vectors := map[string]any{}
	for _, m := range metrics {
		vectors[m] = map[string]any{"size": dim, "distance": m}
	}
	var points []any
	for id := 1; id <= n; id++ {
		vec := map[string]any{}
		for _, m := range metrics {
			vec[m] = randVec(rng, dim)
		}
		points = append(points, map[string]any{"id": id, "vector": vec, "payload": map[string]any{"g": rng.IntN(5)}})
	}
	for _, base := range bases {
		if st, res := bm25Call(t, "PUT", base, map[string]any{"vectors": vectors}); st != 200 {
			t.Fatalf("%s: create: %d %v", base, st, res)
		}
		if st, res := bm25Call(t, "PUT", base+"/points?wait=true", map[string]any{"points": points}); st != 200 {
			t.Fatalf("%s: upsert: %d %v", base, st, res)
		}
	}
	for i := range 60 {
		m := metrics[rng.IntN(len(metrics))]
		body := map[string]any{"using": m, "limit": 1 + rng.IntN(15), "params": map[string]any{"exact": true}}
		if rng.IntN(4) == 0 {
			body["offset"] = rng.IntN(5)
		}
		if rng.IntN(3) == 0 {
			body["filter"] = map[string]any{"must_not": []any{map[string]any{"key": "g", "match": map[string]any{"any": []int{rng.IntN(5), rng.IntN(5)}}}}}
		}
		var query any = randVec(rng, dim)
		if rng.IntN(5) == 0 {
			query = 1 + rng.IntN(n)
		}
		if i%4 == 3 {
			feedback := []any{}
			for range 1 + rng.IntN(4) {
				var ex any = randVec(rng, dim)
				if rng.IntN(2) == 0 {
					ex = 1 + rng.IntN(n)
				}
				feedback = append(feedback, map[string]any{"example": ex, "score": rng.Float32()})
			}
			body["query"] = map[string]any{"relevance_feedback": map[string]any{"target": query, "feedback": feedback,
				"strategy": map[string]any{"naive": map[string]any{"a": rng.Float32() * 2, "b": rng.Float32() * 2, "c": rng.Float32()*2 - 0.5}}}}
		} else {
			mmr := map[string]any{"diversity": float32(rng.IntN(101)) / 100}
			if rng.IntN(4) != 0 {
				mmr["candidates_limit"] = rng.IntN(60)
			}
			body["query"] = map[string]any{"nearest": query, "mmr": mmr}
		}
		var got [2][]any
		for j, base := range bases {
			st, res := bm25Call(t, "POST", base+"/points/query", body)
			if st != 200 {
				t.Fatalf("query %d %v: %s: %d %v", i, body, base, st, res)
			}
			got[j] = res["result"].(map[string]any)["points"].([]any)
		}
		if msg := sameInOrder(got[0], got[1]); msg != "" {
			t.Errorf("query %d %v: %s\nQdrant %v\nqlite  %v", i, body, msg, got[0], got[1])
		}
	}
}

func randVec(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

// sameInOrder compares two answers' points: ids in order, scores within
// 1e-5 relative; "" when they agree.
func sameInOrder(want, got []any) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d points, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i].(map[string]any), got[i].(map[string]any)
		if w["id"] != g["id"] {
			return fmt.Sprintf("point %d: id %v, want %v", i, g["id"], w["id"])
		}
		ws, gs := w["score"].(float64), g["score"].(float64)
		if math.Abs(ws-gs) > 1e-5*max(1, math.Abs(ws)) {
			return fmt.Sprintf("point %d: score %v, want %v", i, gs, ws)
		}
	}
	return ""
}
