package engine

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// TestSearchAllocs checks what a search by vector that asks for ids and
// scores only allocates, through Search and Query, over an indexed segment
// and a growing one: its result, nothing else (the selectors, each
// segment's hits, their merge and their figures are not allocated). The answers are checked against a brute-force scan, as the
// scratch the searches share is pooled.
func TestSearchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("-race builds drop pooled scratch at random: allocation counts mean nothing")
	}
	const dim, n, extra = 16, 300, 20
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", dim, distance.Euclid, 1)
	rng := rand.New(rand.NewPCG(3, 3))
	vecs := make([][]float32, n+extra)
	upsert := func(from, to int) {
		op := &UpsertOp{}
		for i := from; i < to; i++ {
			vecs[i] = randVec(rng, dim)
			op.Points = append(op.Points, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": vecs[i]}})
		}
		_, err := db.Upsert(bg, "c", op, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	upsert(0, n)
	require.NoError(t, db.Optimize(bg, "c"))
	// Points the optimizer has not indexed: a second segment.
	upsert(n, n+extra)
	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.GreaterOrEqual(t, info.SegmentsCount, 2)

	q := randVec(rng, dim)
	ids := make([]int, len(vecs))
	for i := range ids {
		ids[i] = i
	}
	slices.SortFunc(ids, func(a, b int) int {
		da, db := distance.Euclid.Distance(q, vecs[a]), distance.Euclid.Distance(q, vecs[b])
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return a - b
	})
	want := ids[:10]
	check := func(res []ScoredPoint) {
		t.Helper()
		got := make([]int, len(res))
		for i, p := range res {
			num, _ := p.ID.Num()
			got[i] = int(num)
		}
		require.Equal(t, want, got)
	}
	search := &SearchRequest{Vector: q, Limit: 10, HnswEf: n + extra}
	query := &QueryRequest{Query: &Query{Nearest: &Example{Vector: q}}, Limit: 10, HnswEf: n + extra}
	var res []ScoredPoint
	for range 3 {
		res, err = db.Search(bg, "c", search)
		require.NoError(t, err)
		check(res)
		res, err = db.Query(bg, "c", query)
		require.NoError(t, err)
		check(res)
	}
	allocs := testing.AllocsPerRun(100, func() { res, _ = db.Search(bg, "c", search) })
	t.Logf("segments %v, Search allocs %v", info.SegmentsCount, allocs)
	require.LessOrEqual(t, allocs, 1.0, "Search allocations (the result)")
	allocs = testing.AllocsPerRun(100, func() { res, _ = db.Query(bg, "c", query) })
	require.LessOrEqual(t, allocs, 1.0, "Query allocations (the result)")
}
