package compat

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/qlite/qlite/engine"
)

// BenchmarkFormulaQuery measures a business-rule formula query (a dense
// prefetch of 1000 re-scored by the prefetch score, a payload number, a
// gaussian decay of a geo distance and a keyword condition) over REST on
// qlite (its REST handler in process) and on the real Qdrant server, on
// the same 20,000 points; the answers are checked to agree first. The same
// request scored by "$score" alone is measured beside it, so that the
// difference is the formula's cost.
//
//	QDRANT_BIN=... go test ./compat -run XXX -bench BenchmarkFormulaQuery
func BenchmarkFormulaQuery(b *testing.B) {
	q := realQdrant(b)
	if err := q.reset(); err != nil {
		b.Fatal(err)
	}
	base := "http://" + q.httpAddr + "/collections/fb"
	s := newRESTBench(b)
	rng := rand.New(rand.NewPCG(16, 3))
	const n, dim = 20000, 32
	put := func(path string, body any) {
		raw, _ := json.Marshal(body)
		if st, res := benchCall(b, "PUT", base+path, raw); st != 200 {
			b.Fatalf("Qdrant PUT %s: %d %s", path, st, res)
		}
		if st, res := benchCall(b, "PUT", s+"/collections/fb"+path, raw); st != 200 {
			b.Fatalf("qlite PUT %s: %d %s", path, st, res)
		}
	}
	put("", map[string]any{"vectors": map[string]any{"size": dim, "distance": "Cosine"}})
	for lo := 0; lo < n; lo += 1000 {
		pts := make([]any, 0, 1000)
		for i := lo; i < lo+1000; i++ {
			v := make([]float32, dim)
			for j := range v {
				v[j] = float32(rng.NormFloat64())
			}
			pts = append(pts, map[string]any{"id": i + 1, "vector": v, "payload": map[string]any{
				"rating": rng.IntN(50) / 10.0, "tag": []string{"sale", "new", "old"}[rng.IntN(3)],
				"loc": map[string]any{"lat": 52 + rng.Float64(), "lon": 13 + rng.Float64()}}})
		}
		put("/points?wait=true", map[string]any{"points": pts})
	}
	qv := make([]float32, dim)
	for j := range qv {
		qv[j] = float32(rng.NormFloat64())
	}
	body, _ := json.Marshal(map[string]any{
		"prefetch": map[string]any{"query": qv, "limit": 1000, "params": map[string]any{"exact": true}},
		"query": map[string]any{"formula": map[string]any{"sum": []any{
			"$score",
			map[string]any{"mult": []any{0.1, "rating"}},
			map[string]any{"gauss_decay": map[string]any{"x": map[string]any{"geo_distance": map[string]any{
				"origin": map[string]any{"lat": 52.5, "lon": 13.4}, "to": "loc"}}, "scale": 20000}},
			map[string]any{"mult": []any{0.5, map[string]any{"key": "tag", "match": map[string]any{"value": "sale"}}}},
		}}},
		"limit": 10,
	})
	stQ, wantRaw := benchCall(b, "POST", base+"/points/query", body)
	stL, gotRaw := benchCall(b, "POST", s+"/collections/fb/points/query", body)
	var want, got map[string]any
	_ = json.Unmarshal(wantRaw, &want)
	_ = json.Unmarshal(gotRaw, &got)
	if stQ != 200 || stL != 200 {
		b.Fatalf("statuses %d (Qdrant) %d (qlite): %s / %s", stQ, stL, wantRaw, gotRaw)
	}
	if msg := sameScored(formulaScored(want), formulaScored(got)); msg != "" {
		b.Fatalf("answers differ: %s", msg)
	}
	// The same request scored by "$score" alone is the cost of the rest.
	var plain map[string]any
	_ = json.Unmarshal(body, &plain)
	plain["query"] = map[string]any{"formula": "$score"}
	plainBody, _ := json.Marshal(plain)
	for _, target := range []struct{ name, url string }{{"qlite", s + "/collections/fb"}, {"qdrant", base}} {
		for _, q := range []struct {
			name string
			body []byte
		}{{"formula", body}, {"score-only", plainBody}} {
			b.Run(target.name+"/"+q.name, func(b *testing.B) {
				for range b.N {
					if st, res := benchCall(b, "POST", target.url+"/points/query", q.body); st != 200 {
						b.Fatalf("%d %s", st, res)
					}
				}
			})
		}
	}
}

// newRESTBench starts qlite's REST handler over a new database for a
// benchmark and returns its URL.
func newRESTBench(b *testing.B) string {
	db, err := engine.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(NewREST(db, nil))
	b.Cleanup(func() {
		srv.Close()
		_ = db.Close()
	})
	return srv.URL
}

// benchCall sends a JSON request and returns the status and body.
func benchCall(b *testing.B, method, url string, body []byte) (int, []byte) {
	b.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return resp.StatusCode, raw
}
