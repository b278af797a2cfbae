package compat

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// FuzzRESTFormula reads random formula queries: reading never panics, and a
// formula that reads runs against a small collection with a clear answer,
// never a panic.
func FuzzRESTFormula(f *testing.F) {
	db, err := engine.Open(f.TempDir(), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	ctx := context.Background()
	if err := db.CreateCollection(ctx, "c", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: 2, Distance: distance.Dot}}}); err != nil {
		f.Fatal(err)
	}
	var pts []engine.Point
	for i, pl := range []string{`{"n": 2, "price": [1.5], "g": {"lat": 1, "lon": 2}, "d": "2024-01-01T00:00:00Z", "k": "v"}`,
		`{"n": "x", "a": [{"b": 1}, {"b": 2}]}`, `{}`} {
		v, err := payload.ParseJSON([]byte(pl))
		if err != nil {
			f.Fatal(err)
		}
		pts = append(pts, engine.Point{ID: filter.NumID(uint64(i + 1)), Vectors: map[string][]float32{"": {float32(i), 1}}, Payload: v})
	}
	if _, err := db.Upsert(ctx, "c", &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true}); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"formula": "n"}`,
		`{"formula": {"sum": ["$score", {"mult": [0.4, "price"]}, {"neg": {"abs": "$score[1]"}}]}, "defaults": {"price": 1}}`,
		`{"formula": {"div": {"left": 1, "right": "x", "by_zero_default": 3}}}`,
		`{"formula": {"pow": {"base": "a", "exponent": 0.5}}}`,
		`{"formula": {"lin_decay": {"x": {"geo_distance": {"origin": {"lat": 1, "lon": 2}, "to": "g"}}, "target": 3, "scale": 2, "midpoint": 0.1}}}`,
		`{"formula": {"gauss_decay": {"x": {"datetime_key": "d"}, "target": {"datetime": "2024-01-01T00:00:00Z"}}}}`,
		`{"formula": {"exp_decay": {"x": {"sqrt": {"ln": {"log10": {"exp": 1}}}}}}}`,
		`{"formula": {"key": "k", "match": {"value": "v"}}}`,
		`{"formula": {"must": [{"has_id": [1]}], "should": []}}`,
		`{"formula": {"nested": {"key": "a", "filter": {"must": {"key": "b", "range": {"gt": 1}}}}}}`,
		`{"formula": [1]}`, `{"formula": {}}`, `{"formula": null}`, `{"formula": "$score[99999999999999999999]"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			return
		}
		if _, err := restFormula(m, "query"); err != nil {
			return
		}
		q, err := restQueryInterface(body, "query")
		if err != nil || q == nil || q.Formula == nil {
			t.Fatalf("restFormula read %s but restQueryInterface did not: %v", body, err)
		}
		_, err = db.Query(ctx, "c", formulaFuzzRequest(q))
		if err != nil && !errors.Is(err, engine.ErrBadRequest) {
			t.Fatalf("%s: %v", body, err)
		}
	})
}

// formulaFuzzRequest is the request FuzzRESTFormula runs q in: over a
// prefetch of every point.
func formulaFuzzRequest(q *engine.Query) *engine.QueryRequest {
	return &engine.QueryRequest{Query: q, Limit: 3, Prefetch: []engine.Prefetch{
		{Query: &engine.Query{Nearest: &engine.Example{Vector: []float32{1, 1}}}}}}
}
