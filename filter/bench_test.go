package filter

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

func BenchmarkMatches(b *testing.B) {
	p := &testPoint{id: NumID(1), payload: mustPayload(b,
		`{"color": "red", "n": [1, 2, 3], "price": 9.5, "tags": ["a", "b"], "diet": [{"food": "veg", "likes": false}, {"food": "meat", "likes": true}]}`)}
	for _, c := range []struct{ name, filter string }{
		{"match", `{"must": {"key": "color", "match": {"value": "red"}}}`},
		{"range", `{"must": {"key": "price", "range": {"gte": 1, "lt": 10}}}`},
		{"clauses", `{"must": [{"key": "color", "match": {"value": "red"}}, {"key": "n", "match": {"any": [3, 4]}}],
			"should": [{"key": "tags", "match": {"except": ["a"]}}], "must_not": [{"has_id": [5]}]}`},
		{"nested", `{"must": {"nested": {"key": "diet", "filter": {"must": [{"key": "food", "match": {"value": "meat"}}, {"key": "likes", "match": {"value": true}}]}}}}`},
	} {
		f := mustFilter(b, c.filter)
		e := NewEvaluator(nil)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.Matches(f, p)
			}
		})
	}
}

func BenchmarkPlan(b *testing.B) {
	g := gen{rand.New(rand.NewPCG(3, 4))}
	pts := g.points(10_000)
	idx := buildIndexes(b, pts, indexTypes)
	all := roaring.New()
	all.AddRange(0, uint64(len(pts)))
	f := mustFilter(b, `{"must": [{"key": "kw", "match": {"any": ["red", "blue"]}}, {"key": "n", "range": {"gte": 0}}],
		"must_not": [{"key": "b", "match": {"value": true}}]}`)
	b.ReportAllocs()
	for b.Loop() {
		f.Plan(idx, len(pts), all)
	}
}
