package engine

import (
	"cmp"
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

var extraMetrics = []distance.Metric{distance.Cosine, distance.Dot, distance.Euclid, distance.Manhattan}

// extraPoints is the data of a collection set up by setupExtra.
type extraPoints struct {
	vecs     map[PointID][]float32 // as written (not preprocessed)
	payloads map[PointID]payload.Value
}

// setupExtra creates coll (one unnamed vector of dim under m) and fills it
// so that its points span several segments, the first sealed with a graph:
// n points (n*dim >= 1024), an optimizer pass, n/2 more, and every 17th point
// deleted. Point
// i has payload pay(i) (default {"class": i%10, "i": i}).
func setupExtra(t *testing.T, db *DB, coll string, m distance.Metric, dim, n int, seed uint64, pay func(i int) payload.Value) extraPoints {
	t.Helper()
	if pay == nil {
		pay = func(i int) payload.Value { return obj("class", i%10, "i", i) }
	}
	createColl(t, db, coll, dim, m, 4)
	rng := rand.New(rand.NewPCG(seed, 7))
	ep := extraPoints{vecs: map[PointID][]float32{}, payloads: map[PointID]payload.Value{}}
	write := func(from, to int) {
		var pts []Point
		for i := from; i < to; i++ {
			id := numID(uint64(i))
			v := randVec(rng, dim)
			ep.vecs[id], ep.payloads[id] = v, pay(i)
			pts = append(pts, Point{ID: id, Vectors: map[string][]float32{"": v}, Payload: pay(i)})
		}
		_, err := db.Upsert(bg, coll, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	write(0, n)
	require.NoError(t, db.Optimize(bg, coll))
	write(n, n+n/2)
	var del []PointID
	for i := 0; i < n+n/2; i += 17 {
		del = append(del, numID(uint64(i)))
		delete(ep.vecs, numID(uint64(i)))
		delete(ep.payloads, numID(uint64(i)))
	}
	_, err := db.Delete(bg, coll, Selector{IDs: del}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	c, err := db.collection(coll)
	require.NoError(t, err)
	c.rw.RLock()
	segs, indexed := len(c.segs), c.segs[0].seg.Indexed()
	c.rw.RUnlock()
	require.GreaterOrEqual(t, segs, 2, "points should span several segments")
	require.Positive(t, indexed, "the first segment should have a graph")
	return ep
}

// oracleScored is a brute-force result.
type oracleScored struct {
	id PointID
	s  float32
}

// rankDesc sorts by score, highest first, ties by ascending id.
func rankDesc(all []oracleScored) {
	slices.SortFunc(all, func(a, b oracleScored) int {
		if a.s != b.s {
			return cmp.Compare(b.s, a.s)
		}
		return a.id.Compare(b.id)
	})
}

// page applies offset, limit and a threshold to a ranking of a query in
// the space of metric m: strictly greater for a similarity; for a distance,
// as Qdrant applies it, all of them while the best is below it, else none.
func pageOf(all []oracleScored, offset, limit int, threshold *float32, m distance.Metric) []oracleScored {
	var kept []oracleScored
	for _, x := range all {
		switch {
		case threshold == nil:
		case !m.HigherIsBetter() && !(all[0].s < *threshold):
			continue
		case m.HigherIsBetter() && !(x.s > *threshold):
			continue
		}
		kept = append(kept, x)
	}
	if offset >= len(kept) {
		return nil
	}
	return kept[offset:min(len(kept), offset+limit)]
}

func requireRanking(t *testing.T, want []oracleScored, got []ScoredPoint, msg string) {
	t.Helper()
	gotIDs := make([]PointID, len(got))
	wantIDs := make([]PointID, len(want))
	for i := range got {
		gotIDs[i] = got[i].ID
	}
	for i := range want {
		wantIDs[i] = want[i].id
	}
	require.Equal(t, wantIDs, gotIDs, msg)
	for i := range want {
		require.InDelta(t, want[i].s, got[i].Score, 1e-6, "%s: rank %d", msg, i)
	}
}

func idEx(id uint64) Example { x := numID(id); return Example{ID: &x} }

// oracleSigmoid is 0.5 * (x / (1 + |x|) + 1).
func oracleSigmoid(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	return 0.5*(x/(1+a)) + 0.5
}

func TestDiscoverQuery(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim = 8
	for mi, m := range extraMetrics {
		coll := "disc_" + m.String()
		ep := setupExtra(t, db, coll, m, dim, 300, uint64(10+mi), nil)
		other := "disc_other_" + m.String()
		oep := setupExtra(t, db, other, m, dim, 200, uint64(50+mi), nil)
		rng := rand.New(rand.NewPCG(uint64(mi), 3))
		freeVec := randVec(rng, dim)
		freeVec2 := randVec(rng, dim)
		pre := func(v []float32) []float32 { return m.Preprocess(nil, v) }

		// target: point 5; pairs: (point 7, a vector), (a vector, point 9),
		// (point 11, point 12).
		q := &DiscoverQuery{
			Target: idEx(5),
			Context: []ContextPair{
				{Positive: idEx(7), Negative: Example{Vector: freeVec}},
				{Positive: Example{Vector: freeVec2}, Negative: idEx(9)},
				{Positive: idEx(11), Negative: idEx(12)},
			},
		}
		oracle := func(vecs map[PointID][]float32, exclude []uint64, keep func(PointID) bool) []oracleScored {
			target := pre(vecs[numID(5)])
			pos := [][]float32{pre(vecs[numID(7)]), pre(freeVec2), pre(vecs[numID(11)])}
			neg := [][]float32{pre(freeVec), pre(vecs[numID(9)]), pre(vecs[numID(12)])}
			var all []oracleScored
			for id, v := range ep.vecs {
				n, _ := id.Num()
				if slices.Contains(exclude, n) || !keep(id) {
					continue
				}
				pv := pre(v)
				rank := 0
				for i := range pos {
					ps, ns := similarity(m, pv, pos[i]), similarity(m, pv, neg[i])
					switch {
					case ps > ns:
						rank++
					case ps < ns:
						rank--
					}
				}
				all = append(all, oracleScored{id, float32(rank) + oracleSigmoid(similarity(m, pv, target))})
			}
			rankDesc(all)
			return all
		}
		everyone := func(PointID) bool { return true }

		all := oracle(ep.vecs, []uint64{5, 7, 9, 11, 12}, everyone)
		res, err := db.Query(bg, coll, &QueryRequest{Query: &Query{Discover: q}, Limit: 15})
		require.NoError(t, err)
		requireRanking(t, pageOf(all, 0, 15, nil, m), res, m.String()+" discover")

		// Offset and a threshold equal to a score: strictly greater only
		// (for a distance: none, the best score is above it); one above the
		// best score (for a distance: all).
		for _, thr := range []float32{all[20].s, all[0].s + 1} {
			res, err = db.Query(bg, coll, &QueryRequest{Query: &Query{Discover: q}, Limit: 30, Offset: 4, ScoreThreshold: &thr})
			require.NoError(t, err)
			requireRanking(t, pageOf(all, 4, 30, &thr, m), res, m.String()+" discover offset+threshold")
		}

		// Filter.
		f := mustFilter(t, `{"must_not":[{"key":"class","match":{"any":[2,3]}}]}`)
		notClass23 := func(id PointID) bool {
			c, _ := ep.payloads[id].Get("class")
			k, _ := c.Int()
			return k != 2 && k != 3
		}
		res, err = db.Query(bg, coll, &QueryRequest{Query: &Query{Discover: q}, Filter: f, Limit: 1000,
			WithPayload: AllPayload, WithVectors: AllVectors})
		require.NoError(t, err)
		filtered := oracle(ep.vecs, []uint64{5, 7, 9, 11, 12}, notClass23)
		requireRanking(t, filtered, res, m.String()+" discover filtered")
		for _, p := range res {
			require.True(t, payload.Equal(ep.payloads[p.ID], p.Payload))
			require.Equal(t, pre(ep.vecs[p.ID]), p.Vectors[""])
		}

		// Examples read from another collection are not excluded.
		res, err = db.Query(bg, coll, &QueryRequest{Query: &Query{Discover: q}, Limit: 1000, LookupFrom: &LookupFrom{Collection: other}})
		require.NoError(t, err)
		requireRanking(t, oracle(oep.vecs, nil, everyone), res, m.String()+" discover lookup_from")

		// No context: the sigmoid of the similarity to the target alone.
		res, err = db.Query(bg, coll, &QueryRequest{Query: &Query{Discover: &DiscoverQuery{Target: idEx(5)}}, Limit: 10})
		require.NoError(t, err)
		var nearest []oracleScored
		t5 := pre(ep.vecs[numID(5)])
		for id, v := range ep.vecs {
			if id != numID(5) {
				nearest = append(nearest, oracleScored{id, oracleSigmoid(similarity(m, pre(v), t5))})
			}
		}
		rankDesc(nearest)
		requireRanking(t, nearest[:10], res, m.String()+" discover without context")
	}
}

func TestContextQuery(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim = 6
	for mi, m := range extraMetrics {
		coll := "ctx_" + m.String()
		ep := setupExtra(t, db, coll, m, dim, 400, uint64(20+mi), nil)
		rng := rand.New(rand.NewPCG(uint64(mi), 4))
		free := randVec(rng, dim)
		pre := func(v []float32) []float32 { return m.Preprocess(nil, v) }
		pairs := []ContextPair{
			{Positive: idEx(1), Negative: idEx(2)},
			{Positive: Example{Vector: free}, Negative: idEx(3)},
		}
		pos := [][]float32{pre(ep.vecs[numID(1)]), pre(free)}
		neg := [][]float32{pre(ep.vecs[numID(2)]), pre(ep.vecs[numID(3)])}
		var all []oracleScored
		zeros := 0
		for id, v := range ep.vecs {
			if n, _ := id.Num(); n <= 3 {
				continue
			}
			pv := pre(v)
			var s float32
			for i := range pos {
				d := similarity(m, pv, pos[i]) - similarity(m, pv, neg[i]) - float32(math.Nextafter32(1, 2)-1)
				if d > 0 {
					d = 0
				}
				a := d
				if a < 0 {
					a = -a
				}
				s += d / (1 + a)
			}
			if s == 0 {
				zeros++
			}
			all = append(all, oracleScored{id, s})
		}
		rankDesc(all)
		require.Greater(t, zeros, 20, "the test needs ties at the top score")

		// Ties at 0 come in ascending id order; the page crosses from the
		// tied zeros into the negative scores.
		for _, pg := range [][2]int{{0, 15}, {zeros - 5, 10}, {zeros + 3, 50}} {
			res, err := db.Query(bg, coll, &QueryRequest{Query: &Query{Context: pairs}, Offset: pg[0], Limit: pg[1]})
			require.NoError(t, err)
			requireRanking(t, pageOf(all, pg[0], pg[1], nil, m), res, m.String()+" context")
		}
		for _, r := range all[:zeros] {
			require.Equal(t, float32(0), r.s)
		}

		// A threshold below 0 keeps the points closer than that to the
		// context (for a distance: none, the best score is above it); one
		// at 0 keeps none (strictly greater; for a distance, not below).
		thr := all[zeros+10].s
		res, err := db.Query(bg, coll, &QueryRequest{Query: &Query{Context: pairs}, Limit: 1000, ScoreThreshold: &thr})
		require.NoError(t, err)
		requireRanking(t, pageOf(all, 0, 1000, &thr, m), res, m.String()+" context threshold")
		zero := float32(0)
		res, err = db.Query(bg, coll, &QueryRequest{Query: &Query{Context: pairs}, ScoreThreshold: &zero})
		require.NoError(t, err)
		require.Empty(t, res)

		// No pairs: every point scores 0, in id order.
		res, err = db.Query(bg, coll, &QueryRequest{Query: &Query{Context: []ContextPair{}}, Limit: 5})
		require.NoError(t, err)
		ids := slices.SortedFunc(maps.Keys(ep.vecs), PointID.Compare)
		require.Len(t, res, 5)
		for i, p := range res {
			require.Equal(t, ids[i], p.ID)
			require.Equal(t, float32(0), p.Score)
		}
	}
}

func TestContextScoreFunctions(t *testing.T) {
	// fast_sigmoid and total order, f-test style.
	fs := func(x, want float32) {
		t.Helper()
		require.InDelta(t, want, fastSigmoid(x), 1e-7)
	}
	fs(0, 0)
	fs(1, 0.5)
	fs(-1, -0.5)
	fs(-3, -0.75)
	fs(1e6, 1e6/(1+1e6))
	tc := func(a, b float32, want int) {
		t.Helper()
		require.Equal(t, want, totalCmp(a, b), "%v vs %v", a, b)
	}
	negZero := float32(math.Copysign(0, -1))
	tc(1, 2, -1)
	tc(2, 1, 1)
	tc(-1, -2, 1)
	tc(3, 3, 0)
	tc(negZero, 0, -1)
	tc(0, negZero, 1)
	tc(float32(math.Inf(1)), math.MaxFloat32, 1)
	tc(float32(math.NaN()), float32(math.Inf(1)), 1)
	require.Equal(t, float32(0x1p-23), contextMargin)
	require.Equal(t, math.Nextafter32(1, 2)-1, contextMargin)
}

func TestSampleQuery(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	ep := setupExtra(t, db, "s", distance.Cosine, 4, 300, 9, nil)
	f := mustFilter(t, `{"must":[{"key":"class","match":{"value":4}}]}`)
	var matching []PointID
	for id, p := range ep.payloads {
		if c, _ := p.Get("class"); payload.Equal(c, payload.IntValue(4)) {
			matching = append(matching, id)
		}
	}
	require.Greater(t, len(matching), 30)

	// A sample: distinct matching points, records as asked, score 1 and
	// version 0 as Qdrant answers points of a query that does not score.
	thr := float32(100) // not applied to samples
	res, err := db.Query(bg, "s", &QueryRequest{Query: &Query{Sample: true}, Filter: f, Limit: 12,
		ScoreThreshold: &thr, WithPayload: AllPayload})
	require.NoError(t, err)
	require.Len(t, res, 12)
	seen := map[PointID]bool{}
	for _, p := range res {
		require.False(t, seen[p.ID])
		seen[p.ID] = true
		require.Contains(t, matching, p.ID)
		require.Equal(t, float32(1), p.Score)
		require.True(t, payload.Equal(ep.payloads[p.ID], p.Payload))
		require.Zero(t, p.Version)
	}

	// Asking for more than match returns all of them.
	res, err = db.Query(bg, "s", &QueryRequest{Query: &Query{Sample: true}, Filter: f, Limit: 1000})
	require.NoError(t, err)
	got := make([]PointID, len(res))
	for i, p := range res {
		got[i] = p.ID
	}
	require.ElementsMatch(t, matching, got)
	res, err = db.Query(bg, "s", &QueryRequest{Query: &Query{Sample: true}, Filter: f, Limit: 10, Offset: len(matching) - 3})
	require.NoError(t, err)
	require.Len(t, res, 3)

	// Uniformity: each of the 20 points of class 4 among the first 200 ids
	// is drawn about equally often. Chi-square with 19 degrees of freedom;
	// 80 is exceeded with probability below 1e-9.
	small := mustFilter(t, `{"must":[{"key":"class","match":{"value":4}},{"key":"i","range":{"lt":200}}]}`)
	var pool []PointID
	for _, id := range matching {
		if n, _ := id.Num(); n < 200 {
			pool = append(pool, id)
		}
	}
	counts := map[PointID]int{}
	const draws, per = 1500, 4
	for range draws {
		res, err := db.Query(bg, "s", &QueryRequest{Query: &Query{Sample: true}, Filter: small, Limit: per})
		require.NoError(t, err)
		require.Len(t, res, per)
		for _, p := range res {
			counts[p.ID]++
		}
	}
	expect := float64(draws*per) / float64(len(pool))
	chi2 := 0.0
	for _, id := range pool {
		d := float64(counts[id]) - expect
		chi2 += d * d / expect
	}
	require.Len(t, counts, len(pool))
	require.Less(t, chi2, 80.0, "counts %v", counts)
}

func TestQueryOtherErrors(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	setupExtra(t, db, "e", distance.Euclid, 4, 300, 1, nil)
	missing := idEx(100000)
	disc := &Query{Discover: &DiscoverQuery{Target: idEx(1), Context: []ContextPair{{Positive: idEx(2), Negative: idEx(3)}}}}
	cases := []struct {
		name string
		req  *QueryRequest
		is   error
	}{
		{"empty query", &QueryRequest{Query: &Query{}}, ErrBadRequest},
		{"missing target", &QueryRequest{Query: &Query{Discover: &DiscoverQuery{Target: missing}}}, ErrNotFound},
		{"missing pair point", &QueryRequest{Query: &Query{Context: []ContextPair{{Positive: idEx(1), Negative: missing}}}}, ErrNotFound},
		{"empty example", &QueryRequest{Query: &Query{Context: []ContextPair{{Positive: idEx(1)}}}}, ErrBadRequest},
		{"wrong dimension", &QueryRequest{Query: &Query{Discover: &DiscoverQuery{Target: Example{Vector: []float32{1, 2}}}}}, ErrBadRequest},
		{"unknown vector", &QueryRequest{Query: disc, Using: "nope"}, ErrBadRequest},
		{"negative limit", &QueryRequest{Query: disc, Limit: -1}, ErrBadRequest},
		{"negative offset", &QueryRequest{Query: disc, Offset: -1}, ErrBadRequest},
		{"sample negative limit", &QueryRequest{Query: &Query{Sample: true}, Limit: -2}, ErrBadRequest},
		{"bad filter", &QueryRequest{Query: &Query{Sample: true}, Filter: &filter.Filter{Must: []filter.Condition{&filter.Field{}}}}, ErrBadRequest},
		{"unknown lookup collection", &QueryRequest{Query: disc, LookupFrom: &LookupFrom{Collection: "nope"}}, ErrNotFound},
	}
	for _, tc := range cases {
		_, err := db.Query(bg, "e", tc.req)
		require.ErrorIs(t, err, tc.is, tc.name)
	}
	_, err := db.Query(bg, "nope", &QueryRequest{Query: disc})
	require.ErrorIs(t, err, ErrNotFound)

	ctx, cancel := context.WithCancel(bg)
	cancel()
	for _, q := range []*Query{disc, {Context: []ContextPair{}}, {Sample: true}} {
		_, err := db.Query(ctx, "e", &QueryRequest{Query: q})
		require.ErrorIs(t, err, context.Canceled)
	}
}

// TestUnscoredQueries: the points of a query that does not score (none,
// order_by, sample) come with score 1 and version 0, as Qdrant answers
// them, while a nearest query keeps its scores and versions.
func TestUnscoredQueries(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	setupExtra(t, db, "s", distance.Cosine, 4, 300, 9, nil)
	_, err := db.CreateFieldIndex(bg, "s", "i", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)
	for name, q := range map[string]*Query{
		"none":     nil,
		"order_by": {OrderBy: &OrderBy{Key: "i", Descending: true}},
		"sample":   {Sample: true},
	} {
		res, err := db.Query(bg, "s", &QueryRequest{Query: q, Limit: 5, Offset: 2})
		require.NoError(t, err, name)
		require.Len(t, res, 5, name)
		for _, p := range res {
			require.Equal(t, float32(1), p.Score, name)
			require.Zero(t, p.Version, name)
		}
	}
	res, err := db.Query(bg, "s", &QueryRequest{Query: &Query{Nearest: &Example{Vector: []float32{1, 2, 3, 4}}}, Limit: 5})
	require.NoError(t, err)
	require.Len(t, res, 5)
	for _, p := range res {
		require.NotZero(t, p.Version)
	}
}
