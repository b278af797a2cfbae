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

	// With a buffer to append to, nothing: the results go after what dst
	// holds, which stays as it was.
	head := ScoredPoint{Record: Record{ID: numID(999)}, Score: -1}
	buf := make([]ScoredPoint, 1, 16)
	for _, f := range []struct {
		name string
		run  func(dst []ScoredPoint) ([]ScoredPoint, error)
	}{
		{"AppendSearch", func(dst []ScoredPoint) ([]ScoredPoint, error) { return db.AppendSearch(bg, dst, "c", search) }},
		{"AppendQuery", func(dst []ScoredPoint) ([]ScoredPoint, error) { return db.AppendQuery(bg, dst, "c", query) }},
	} {
		buf[0] = head
		res, err := f.run(buf[:1])
		require.NoError(t, err, f.name)
		require.Equal(t, head, res[0], f.name)
		check(res[1:])
		plain, err := db.Search(bg, "c", search)
		require.NoError(t, err)
		require.Equal(t, plain, res[1:], f.name)
		allocs := testing.AllocsPerRun(100, func() { res, _ = f.run(buf[:1]) })
		require.Zero(t, allocs, f.name+" allocations")
	}
}

// TestAppendQueryKinds checks that AppendQuery appends what Query returns
// for queries other than a search by vector (by id, by a stored point's
// vector, recommend, order_by, prefetch with fusion), after what dst held,
// and that an empty result appended to nothing is empty but not nil, as
// Query's is.
func TestAppendQueryKinds(t *testing.T) {
	const dim, n = 8, 60
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", dim, distance.Cosine, 1)
	rng := rand.New(rand.NewPCG(5, 5))
	op := &UpsertOp{}
	for i := range n {
		op.Points = append(op.Points, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": randVec(rng, dim)}})
	}
	_, err := db.Upsert(bg, "c", op, &WriteOptions{Wait: true})
	require.NoError(t, err)
	id := numID(7)
	q := randVec(rng, dim)
	reqs := []*QueryRequest{
		{Query: &Query{Nearest: &Example{Vector: q}}, Limit: 5},
		{Query: &Query{Nearest: &Example{ID: &id}}, Limit: 5},
		{Query: &Query{Recommend: &RecommendQuery{Positive: []Example{{ID: &id}}}}, Limit: 5},
		{Limit: 5},
		{Prefetch: []Prefetch{{Query: &Query{Nearest: &Example{Vector: q}}, Limit: 20}},
			Query: &Query{Fusion: &Fusion{Method: FusionRRF}}, Limit: 5},
		{Query: &Query{Nearest: &Example{Vector: q}}, Limit: 5, Offset: n},
	}
	head := ScoredPoint{Record: Record{ID: numID(999)}, Score: -1}
	for i, req := range reqs {
		want, err := db.Query(bg, "c", req)
		require.NoError(t, err, "request %d", i)
		got, err := db.AppendQuery(bg, []ScoredPoint{head}, "c", req)
		require.NoError(t, err, "request %d", i)
		require.Equal(t, append([]ScoredPoint{head}, want...), got, "request %d", i)
		got, err = db.AppendQuery(bg, nil, "c", req)
		require.NoError(t, err, "request %d", i)
		require.NotNil(t, got, "request %d", i)
		require.Equal(t, want, got, "request %d", i)
	}
	_, err = db.AppendQuery(bg, nil, "c", &QueryRequest{Query: &Query{Nearest: &Example{Vector: q[:3]}}})
	require.ErrorIs(t, err, ErrBadRequest)
}
