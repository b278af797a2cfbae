package filter

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload"
)

func TestEstimateFormulas(t *testing.T) {
	const total = 1000
	a := Estimate{100, 200, 300}
	b := Estimate{100, 100, 100}
	c := Estimate{0, 500, 1000}

	require.Equal(t, Estimate{0, 20, 100}, combineMust([]Estimate{a, b}, total))
	require.Equal(t, Estimate{total, total, total}, combineMust(nil, total))
	require.Equal(t, Estimate{100, 280, 400}, combineShould([]Estimate{a, b}, total))
	require.Equal(t, Estimate{0, 0, 0}, combineShould(nil, total))
	// ab {0,20,100}, ac {0,100,300}, bc {0,50,100}; union by complement:
	// 1000 * (1 - 0.98*0.9*0.95) = 162.1.
	require.Equal(t, Estimate{0, 162, 500}, combineMinShould([]Estimate{a, b, c}, 2, total))
	require.Equal(t, exactEstimate(0), combineMinShould([]Estimate{a, b}, 3, total))
	require.Equal(t, Estimate{total, total, total}, combineMinShould([]Estimate{a, b}, 0, total))
	require.Equal(t, combineShould([]Estimate{a, b, c}, total), combineMinShould([]Estimate{a, b, c}, 1, total))
	// Too many combinations: the union, with no lower bound.
	many := make([]Estimate, 40)
	for i := range many {
		many[i] = a
	}
	u := combineShould(many, total)
	require.Equal(t, Estimate{0, u.Exp, u.Max}, combineMinShould(many, 20, total))
	require.Equal(t, Estimate{700, 800, 900}, invertEstimate(a, total))
	require.Equal(t, Estimate{0, 500, 1001}, unknownEstimate(1001)) // integer division
	// An empty segment.
	require.Equal(t, Estimate{0, 0, 0}, combineMust([]Estimate{{0, 0, 0}}, 0))
	require.Equal(t, Estimate{0, 0, 0}, combineShould([]Estimate{{0, 0, 0}}, 0))

	require.True(t, combinationsAtMost(10, 3, 120))
	require.False(t, combinationsAtMost(10, 3, 119))
	require.False(t, combinationsAtMost(50, 25, 100_000))
	require.True(t, combinationsAtMost(3, 5, 0))
	require.False(t, combinationsAtMost(1<<62, 3, 1<<62))
	require.Equal(t, 3, roundCount(2.5))
	require.Equal(t, 0, roundCount(-1))
}

func TestPlanUnindexed(t *testing.T) {
	const total = 1000
	f := func(js string, want Estimate) {
		t.Helper()
		p := mustFilter(t, js).Plan(nil, total, nil)
		require.Equal(t, want, p.Estimate, js)
		require.Nil(t, p.Candidates, js)
		require.False(t, p.Exact, js)
	}
	a := `{"key": "a", "match": {"value": 1}}`
	// One unknown condition: {0, 500, 1000}, and the filter level combines
	// it again as a must.
	f(`{"must": [`+a+`]}`, Estimate{0, 500, 1000})
	f(`{"must": [`+a+`,`+a+`]}`, Estimate{0, 250, 1000})
	f(`{"should": [`+a+`,`+a+`]}`, Estimate{0, 750, 1000})
	f(`{"must_not": [`+a+`]}`, Estimate{0, 500, 1000})
	f(`{"must": [`+a+`], "must_not": [`+a+`]}`, Estimate{0, 250, 1000})
	f(`{"min_should": {"conditions": [`+a+`,`+a+`,`+a+`], "min_count": 2}}`, Estimate{0, 578, 1000})

	// No filter, empty filter and empty clauses: everything, exactly.
	for _, js := range []string{`{}`, `{"must": []}`, `{"must_not": []}`, `{"must": [{}]}`} {
		p := mustFilter(t, js).Plan(nil, total, nil)
		require.Equal(t, Estimate{total, total, total}, p.Estimate, js)
		require.Nil(t, p.Candidates)
		require.True(t, p.Exact, js)
	}
	p := (*Filter)(nil).Plan(nil, total, nil)
	require.Equal(t, &Plan{Estimate: Estimate{total, total, total}, Exact: true}, p)
	// Empty should and min_should clauses impose nothing on whole points,
	// as Qdrant's optimizer drops them.
	for _, js := range []string{`{"should": []}`, `{"min_should": {"conditions": [], "min_count": 2}}`, `{"must": [{"should": []}]}`} {
		p = mustFilter(t, js).Plan(nil, total, nil)
		require.Equal(t, Estimate{total, total, total}, p.Estimate, js)
		require.True(t, p.Exact, js)
		require.Nil(t, p.Candidates, js)
	}
	// must_not of everything is nothing.
	all := roaring.New()
	all.AddRange(0, total)
	p = mustFilter(t, `{"must_not": [{"should": []}]}`).Plan(nil, total, all)
	require.True(t, p.Exact)
	require.True(t, p.Candidates.IsEmpty())
	p = mustFilter(t, `{"must_not": [{}]}`).Plan(nil, total, nil)
	require.True(t, p.Exact)
	require.True(t, p.Candidates.IsEmpty())
}

func TestPlanIndexed(t *testing.T) {
	pts := []*testPoint{
		{id: NumID(10), payload: mustPayload(t, `{"c": "red", "n": 1, "t": "quick fox", "diet": [{"food": "meat", "likes": false}, {"food": "veg", "likes": true}]}`), vectors: []string{""}},
		{id: NumID(11), payload: mustPayload(t, `{"c": "blue", "n": 2, "t": ["quick", "fox"], "diet": [{"food": "meat", "likes": true}]}`)},
		{id: NumID(12), payload: mustPayload(t, `{"c": ["red", "blue"], "n": 3.5, "e": null}`), vectors: []string{"", "image"}},
		{id: NumID(13), payload: mustPayload(t, `{"n": "x", "t": "slow dog"}`)},
	}
	idx := buildIndexes(t, pts, map[string]payload.IndexParams{
		"c":              {Type: payload.TypeKeyword},
		"n":              {Type: payload.TypeFloat},
		"t":              {Type: payload.TypeText},
		"e":              {Type: payload.TypeKeyword},
		"diet[].food":    {Type: payload.TypeKeyword},
		"diet[].likes":   {Type: payload.TypeBool},
		"missing.in.all": {Type: payload.TypeKeyword},
	})
	all := roaring.New()
	all.AddRange(0, uint64(len(pts)))
	const total = 4
	ev := NewEvaluator(idx)
	plan := func(js string, cands []uint32, exact bool, est Estimate) {
		t.Helper()
		f := mustFilter(t, js)
		p := f.Plan(idx, total, all)
		require.Equal(t, exact, p.Exact, js)
		if cands == nil {
			require.Nil(t, p.Candidates, js)
		} else {
			require.NotNil(t, p.Candidates, js)
			require.Equal(t, cands, p.Candidates.ToArray(), js)
		}
		require.Equal(t, est, p.Estimate, js)
		for i, pt := range pts {
			require.Equal(t, ev.Matches(f, pt), p.Check(ev, uint32(i), pt), "%s point %d", js, i)
		}
	}
	red := `{"key": "c", "match": {"value": "red"}}`
	blue := `{"key": "c", "match": {"value": "blue"}}`
	plan(`{"must": [`+red+`]}`, []uint32{0, 2}, true, Estimate{2, 2, 2})
	plan(`{"must": [`+red+`,`+blue+`]}`, []uint32{2}, true, Estimate{0, 1, 2})
	plan(`{"should": [`+red+`,`+blue+`]}`, []uint32{0, 1, 2}, true, Estimate{2, 3, 4})
	plan(`{"must_not": [`+red+`]}`, []uint32{1, 3}, true, Estimate{2, 2, 2})
	plan(`{"must": [{"key": "c", "match": {"any": ["red", "pink"]}}], "must_not": [`+blue+`]}`, []uint32{0}, true, Estimate{0, 1, 2})
	plan(`{"must": [{"key": "n", "range": {"gt": 1.5}}]}`, []uint32{1, 2}, true, Estimate{2, 2, 2})
	// An unindexed condition keeps the candidates but needs the residual.
	plan(`{"must": [`+red+`, {"key": "zzz", "match": {"value": 1}}]}`, []uint32{0, 2}, false, Estimate{0, 1, 2})
	plan(`{"should": [`+red+`, {"key": "zzz", "match": {"value": 1}}]}`, nil, false, Estimate{2, 3, 4})
	plan(`{"must_not": [{"key": "zzz", "match": {"value": 1}}]}`, nil, false, Estimate{0, 2, 4})
	// Except is left to the residual.
	plan(`{"must": [{"key": "c", "match": {"except": ["red"]}}]}`, nil, false, Estimate{0, 2, 4})
	// min_should: at least k candidate sets.
	plan(`{"min_should": {"conditions": [`+red+`,`+blue+`, {"key": "n", "range": {"lt": 2}}], "min_count": 2}}`, []uint32{0, 2}, true, Estimate{0, 2, 4})
	// has_id and has_vector come from the resolvers.
	plan(`{"must": [{"has_id": [11, 13, 99]}]}`, []uint32{1, 3}, true, Estimate{2, 2, 2})
	plan(`{"must": [{"has_vector": ""}]}`, []uint32{0, 2}, true, Estimate{2, 2, 2})
	plan(`{"must": [{"has_vector": "nope"}]}`, []uint32{}, true, Estimate{0, 0, 0})
	// Full text: the index narrows, the residual checks each string.
	plan(`{"must": [{"key": "t", "match": {"text": "quick fox"}}]}`, []uint32{0, 1}, false, Estimate{0, 2, 2})
	require.True(t, ev.Matches(mustFilter(t, `{"must": [{"key": "t", "match": {"text": "Quick FOX"}}]}`), pts[0]))
	require.False(t, ev.Matches(mustFilter(t, `{"must": [{"key": "t", "match": {"text": "quick fox"}}]}`), pts[1]))
	require.False(t, mustFilter(t, `{"must": [{"key": "t", "match": {"text": "Quick FOX"}}]}`).Matches(pts[0]))
	// is_empty: points without indexed values.
	plan(`{"must": [{"is_empty": {"key": "e"}}]}`, []uint32{0, 1, 2, 3}, false, Estimate{0, 4, 4})
	plan(`{"must": [{"is_empty": {"key": "c"}}]}`, []uint32{3}, false, Estimate{0, 1, 1})
	// Nested: index answers on the joined paths narrow, never exactly.
	plan(`{"must": [{"nested": {"key": "diet", "filter": {"must": [{"key": "food", "match": {"value": "meat"}}, {"key": "likes", "match": {"value": true}}]}}}]}`,
		[]uint32{0, 1}, false, Estimate{0, 1, 2})
	plan(`{"must": [{"nested": {"key": "diet[]", "filter": {"must": [{"key": "food", "match": {"value": "fish"}}]}}}]}`,
		[]uint32{}, true, Estimate{0, 0, 0})
	plan(`{"must": [{"nested": {"key": "diet", "filter": {"must": [{"has_id": [10]}]}}}]}`,
		[]uint32{}, true, Estimate{1, 1, 1})
	plan(`{"must": [{"nested": {"key": "diet", "filter": {"must_not": [{"key": "food", "match": {"value": "meat"}}]}}}]}`,
		nil, false, Estimate{2, 2, 2})
	plan(`{"must_not": [{"nested": {"key": "diet", "filter": {"must": [{"key": "food", "match": {"value": "veg"}}]}}}]}`,
		nil, false, Estimate{3, 3, 3})
}

func TestPlanCandidatesOwned(t *testing.T) {
	pts := []*testPoint{
		{id: NumID(1), payload: mustPayload(t, `{"c": "red"}`), vectors: []string{"v"}},
		{id: NumID(2), payload: mustPayload(t, `{"c": "blue"}`)},
	}
	idx := buildIndexes(t, pts, map[string]payload.IndexParams{"c": {Type: payload.TypeKeyword}})
	all := roaring.New()
	all.AddRange(0, 2)
	for _, js := range []string{
		`{"must": [{"has_vector": "v"}]}`,
		`{"must": [{"is_empty": {"key": "c"}}]}`,
		`{"must": [{"must_not": [{"should": []}]}]}`,
		`{"min_should": {"conditions": [{"has_vector": "v"}, {"must_not": [{"should": []}]}], "min_count": 2}}`,
	} {
		p := mustFilter(t, js).Plan(idx, 2, all)
		require.NotNil(t, p.Candidates, js)
		p.Candidates.Clear()
	}
	require.Equal(t, uint64(2), all.GetCardinality())
	require.Equal(t, uint64(1), idx.vecs["v"].GetCardinality())
}
