package engine

import (
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// randSparse returns a random sparse vector with up to maxNNZ Zipfian
// dimensions, in random order.
func randSparse(rng *rand.Rand, z *rand.Zipf, maxNNZ int) SparseVector {
	var v SparseVector
	seen := map[uint32]bool{}
	for range rng.IntN(maxNNZ + 1) {
		d := uint32(z.Uint64())
		if !seen[d] {
			seen[d] = true
			v.Indices = append(v.Indices, d)
			v.Values = append(v.Values, float32(rng.IntN(16)+1)/8)
		}
	}
	return v
}

// sparseModel is the brute-force oracle of a collection's sparse vectors:
// the live points' vectors and their rnd payload.
type sparseModel struct {
	vecs map[PointID]map[string]SparseVector
	rnd  map[PointID]int
}

func (m *sparseModel) search(name string, q SparseVector, idf bool, below, limit, offset int, threshold *float32) []ScoredPoint {
	weights := slices.Clone(q.Values)
	if idf {
		n := 0
		for _, vs := range m.vecs {
			if len(vs[name].Indices) > 0 {
				n++
			}
		}
		for i, d := range q.Indices {
			df := 0
			for _, vs := range m.vecs {
				if slices.Contains(vs[name].Indices, d) {
					df++
				}
			}
			weights[i] *= sparseIDF(df, n)
		}
	}
	var out []ScoredPoint
	for id, vs := range m.vecs {
		v, ok := vs[name]
		if !ok || below >= 0 && m.rnd[id] >= below {
			continue
		}
		var sum float64
		shared := false
		for i, d := range q.Indices {
			if j := slices.Index(v.Indices, d); j >= 0 {
				sum += float64(weights[i]) * float64(v.Values[j])
				shared = true
			}
		}
		if shared && (threshold == nil || float32(sum) > *threshold) {
			out = append(out, ScoredPoint{Record: Record{ID: id}, Score: float32(sum)})
		}
	}
	slices.SortFunc(out, func(a, b ScoredPoint) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return a.ID.Compare(b.ID)
	})
	return out
}

// requireSameScored compares got with the window [offset, offset+limit) of
// all, the oracle's full ranking: the same scores, and the same ids where
// no other point has the same score.
func requireSameScored(t *testing.T, all []ScoredPoint, offset, limit int, got []ScoredPoint, msg string) {
	want := all[min(offset, len(all)):min(len(all), offset+limit)]
	t.Helper()
	if os.Getenv("SPARSE_DEBUG") != "" {
		for i := range max(len(want), len(got)) {
			if i < len(want) {
				t.Logf("want %v %v", want[i].ID, want[i].Score)
			}
			if i < len(got) {
				t.Logf("got  %v %v", got[i].ID, got[i].Score)
			}
		}
	}
	require.Equal(t, len(want), len(got), msg)
	for i := range want {
		tol := 1e-4 * math.Max(1, math.Abs(float64(want[i].Score)))
		require.InDelta(t, want[i].Score, got[i].Score, tol, "%s: rank %d", msg, i)
		// Ids agree where the score is not tied with a neighbour.
		j := offset + i
		tied := j > 0 && math.Abs(float64(all[j].Score-all[j-1].Score)) < tol ||
			j+1 < len(all) && math.Abs(float64(all[j].Score-all[j+1].Score)) < tol
		if !tied {
			require.Equal(t, want[i].ID, got[i].ID, "%s: rank %d", msg, i)
		}
	}
}

// TestSparseOracle checks sparse searches (plain and IDF, filtered or not,
// with offsets and thresholds) against brute force over a collection of
// several segments, through upserts, vector updates and deletes, the
// optimizer, and a reopen.
func TestSparseOracle(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	thr := 0
	var req CreateCollection
	require.NoError(t, json.Unmarshal([]byte(`{"vectors": {"d": {"size": 2, "distance": "Dot"}},
		"sparse_vectors": {"s": {}, "i": {"modifier": "idf", "index": {"full_scan_threshold": 50}}}}`), &req))
	req.Optimizers = &OptimizersConfigDiff{IndexingThreshold: &thr}
	require.NoError(t, db.CreateCollection(bg, "c", &req))
	_, err := db.CreateFieldIndex(bg, "c", "rnd", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(3, 5))
	z := rand.NewZipf(rng, 1.3, 1, 500)
	m := &sparseModel{vecs: map[PointID]map[string]SparseVector{}, rnd: map[PointID]int{}}
	upsert := func(from, to int) {
		var pts []Point
		for i := from; i < to; i++ {
			id := numID(uint64(i))
			r := rng.IntN(100)
			p := Point{ID: id, Payload: obj("rnd", r), Vectors: map[string][]float32{"d": {1, 0}}, Sparse: map[string]SparseVector{}}
			if i%13 != 0 {
				v := randSparse(rng, z, 12)
				p.Sparse["s"], p.Sparse["i"] = v, v
			}
			pts = append(pts, p)
			m.vecs[id] = p.Sparse
			m.rnd[id] = r
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	check := func(stage string) {
		t.Helper()
		for qn := range 40 {
			q := randSparse(rng, z, 6)
			for _, name := range []string{"s", "i"} {
				for _, below := range []int{-1, 10, 90} {
					var f *filter.Filter
					if below >= 0 {
						f = mustFilter(t, `{"must":[{"key":"rnd","range":{"lt":`+itoa(below)+`}}]}`)
					}
					limit, offset := 1+rng.IntN(10), rng.IntN(3)
					var th *float32
					if qn%5 == 4 {
						x := float32(1)
						th = &x
					}
					got, err := db.Search(bg, "c", &SearchRequest{Using: name, Sparse: &q, Filter: f, Limit: limit, Offset: offset, ScoreThreshold: th})
					require.NoError(t, err)
					want := m.search(name, q, name == "i", below, limit, offset, th)
					requireSameScored(t, want, offset, limit, got, stage+" "+name)
				}
			}
		}
		// Stored vectors read back sorted by index.
		ids := make([]PointID, 0, len(m.vecs))
		for id := range m.vecs {
			ids = append(ids, id)
		}
		recs, err := db.Get(bg, "c", ids, &ReadOptions{WithVectors: VectorSelector{Names: []string{"s"}}})
		require.NoError(t, err)
		require.Len(t, recs, len(ids))
		for _, r := range recs {
			want, ok := m.vecs[r.ID]["s"]
			require.Equal(t, ok, r.Sparse != nil, stage)
			if !ok {
				continue
			}
			want = sparseSorted(want)
			got := r.Sparse["s"]
			require.Equal(t, len(want.Indices), len(got.Indices), stage)
			if len(want.Indices) > 0 {
				require.Equal(t, want, got, stage)
			}
			require.Nil(t, r.Vectors["d"], "only s was selected")
		}
		n, err := db.Count(bg, "c", mustFilter(t, `{"must":[{"has_vector":"s"}]}`), true)
		require.NoError(t, err)
		has := 0
		for _, vs := range m.vecs {
			if _, ok := vs["s"]; ok {
				has++
			}
		}
		require.Equal(t, has, n, stage)
	}

	upsert(0, 400)
	check("appendable")
	require.NoError(t, db.Optimize(bg, "c"))
	upsert(300, 600) // replaces points of the sealed segment
	// Update and delete vectors, delete points.
	var ups []PointVectors
	for i := 0; i < 600; i += 17 {
		v := randSparse(rng, z, 8)
		ups = append(ups, PointVectors{ID: numID(uint64(i)), Sparse: map[string]SparseVector{"s": v}})
		vs := maps_clone(m.vecs[numID(uint64(i))])
		vs["s"] = v
		m.vecs[numID(uint64(i))] = vs
	}
	_, err = db.UpdateVectors(bg, "c", &UpdateVectorsOp{Points: ups}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	var delIDs []PointID
	for i := 5; i < 600; i += 11 {
		delIDs = append(delIDs, numID(uint64(i)))
	}
	_, err = db.DeleteVectors(bg, "c", &DeleteVectorsOp{Selector: Selector{IDs: delIDs}, Names: []string{"i"}}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	for _, id := range delIDs {
		vs := maps_clone(m.vecs[id])
		delete(vs, "i")
		m.vecs[id] = vs
	}
	delIDs = delIDs[:0]
	for i := 3; i < 600; i += 7 {
		delIDs = append(delIDs, numID(uint64(i)))
		delete(m.vecs, numID(uint64(i)))
	}
	_, err = db.Delete(bg, "c", Selector{IDs: delIDs}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	check("two segments")

	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	check("reopened")
	require.NoError(t, db.Optimize(bg, "c"))
	check("optimized")
}

func maps_clone(m map[string]SparseVector) map[string]SparseVector {
	out := make(map[string]SparseVector, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// mapDot is the oracle's sparse dot product.
func mapDot(a, b SparseVector) float32 {
	m := map[uint32]float32{}
	for i, d := range a.Indices {
		m[d] = a.Values[i]
	}
	var s float32
	for i, d := range b.Indices {
		s += m[d] * b.Values[i]
	}
	return s
}

// TestSparseQueryForms checks every query form on a sparse vector against
// brute force: nearest by vector and by id, recommend with each strategy,
// discover and context. Points that share no index with a nearest query
// are not returned; the scoring strategies score every point with the
// vector.
func TestSparseQueryForms(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	var req CreateCollection
	require.NoError(t, json.Unmarshal([]byte(`{"sparse_vectors": {"s": {}}}`), &req))
	require.NoError(t, db.CreateCollection(bg, "c", &req))
	rng := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(rng, 1.1, 1, 60)
	vecs := map[PointID]SparseVector{}
	var pts []Point
	for i := range 200 {
		p := Point{ID: numID(uint64(i)), Payload: obj("g", i%3)}
		if i%9 != 0 {
			v := randSparse(rng, z, 6)
			p.Sparse = map[string]SparseVector{"s": v}
			vecs[p.ID] = v
		}
		pts = append(pts, p)
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	nonEmpty := 0
	for _, v := range vecs {
		if len(v.Indices) > 0 {
			nonEmpty++
		}
	}
	require.Equal(t, nonEmpty, info.IndexedVectorsCount, "Qdrant counts the non-empty sparse vectors as indexed")
	require.Positive(t, info.Memory.Sparse)

	rank := func(score func(v SparseVector) (float32, bool), exclude ...PointID) []ScoredPoint {
		var out []ScoredPoint
		for id, v := range vecs {
			if slices.Contains(exclude, id) {
				continue
			}
			if s, ok := score(v); ok {
				out = append(out, ScoredPoint{Record: Record{ID: id}, Score: s})
			}
		}
		slices.SortFunc(out, func(a, b ScoredPoint) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			return a.ID.Compare(b.ID)
		})
		return out
	}
	shares := func(a, b SparseVector) bool {
		for _, d := range a.Indices {
			if slices.Contains(b.Indices, d) {
				return true
			}
		}
		return false
	}
	query := func(q *Query, limit int) []ScoredPoint {
		t.Helper()
		res, err := db.Query(bg, "c", &QueryRequest{Query: q, Using: "s", Limit: limit})
		require.NoError(t, err)
		return res
	}
	sig := func(x float32) float32 { return 0.5 * (x/(1+float32(math.Abs(float64(x)))) + 1) }
	for round := range 40 {
		if round == 20 {
			// Sealed and persisted by the optimizer, then reopened.
			require.NoError(t, db.Optimize(bg, "c"))
			dir := db.dir
			closeChecked(t, db)
			db = openTestDB(t, dir, testOpts())
		}
		q := randSparse(rng, z, 4)
		a, b, c := numID(uint64(1+rng.IntN(8))), numID(uint64(10+rng.IntN(8))), numID(uint64(19+rng.IntN(8)))
		va, vb, vc := vecs[a], vecs[b], vecs[c]

		requireSameScored(t, rank(func(v SparseVector) (float32, bool) { return mapDot(q, v), shares(q, v) }), 0, 10,
			query(&Query{Nearest: &Example{Sparse: &q}}, 10), "nearest vector")
		requireSameScored(t, rank(func(v SparseVector) (float32, bool) { return mapDot(va, v), shares(va, v) }, a), 0, 10,
			query(&Query{Nearest: &Example{ID: &a}}, 10), "nearest id")

		// average_vector: 2 * avg(positive) - avg(negative).
		avg := func(v SparseVector) (float32, bool) {
			s := mapDot(va, v) + mapDot(vb, v) - mapDot(vc, v)
			return s, shares(va, v) || shares(vb, v) || shares(vc, v)
		}
		requireSameScored(t, rank(avg, a, b, c), 0, 10,
			query(&Query{Recommend: &RecommendQuery{Positive: []Example{{ID: &a}, {ID: &b}}, Negative: []Example{{ID: &c}}}}, 10), "average")
		best := func(v SparseVector) (float32, bool) {
			mp, mn := max(mapDot(va, v), mapDot(vb, v)), mapDot(vc, v)
			if mp > mn {
				return sig(mp), true
			}
			return -sig(mn), true
		}
		requireSameScored(t, rank(best, a, b, c), 0, 10,
			query(&Query{Recommend: &RecommendQuery{Positive: []Example{{ID: &a}, {ID: &b}}, Negative: []Example{{ID: &c}}, Strategy: BestScore}}, 10), "best")
		sum := func(v SparseVector) (float32, bool) { return mapDot(va, v) + mapDot(vb, v) - mapDot(vc, v), true }
		requireSameScored(t, rank(sum, a, b, c), 0, 10,
			query(&Query{Recommend: &RecommendQuery{Positive: []Example{{ID: &a}, {ID: &b}}, Negative: []Example{{ID: &c}}, Strategy: SumScores}}, 10), "sum")
		disc := func(v SparseVector) (float32, bool) {
			r := float32(cmp.Compare(mapDot(va, v), mapDot(vc, v)))
			return r + sig(mapDot(q, v)), true
		}
		requireSameScored(t, rank(disc, a, c), 0, 10,
			query(&Query{Discover: &DiscoverQuery{Target: Example{Sparse: &q}, Context: []ContextPair{{Positive: Example{ID: &a}, Negative: Example{ID: &c}}}}}, 10), "discover")
		ctxq := func(v SparseVector) (float32, bool) {
			x := min(mapDot(va, v)-mapDot(vc, v)-float32(math.Nextafter32(1, 2)-1), 0)
			return x / (1 + float32(math.Abs(float64(x)))), true
		}
		requireSameScored(t, rank(ctxq, a, c), 0, 10,
			query(&Query{Context: []ContextPair{{Positive: Example{ID: &a}, Negative: Example{ID: &c}}}}, 10), "context")
	}
	// The distance matrix samples every point with the vector (here all of
	// them) and lists each one's nearest, as a sparse search finds them.
	mx, err := db.SearchMatrix(bg, "c", &MatrixRequest{Using: "s", Sample: 1000, Limit: 3})
	require.NoError(t, err)
	require.Len(t, mx.IDs, len(vecs))
	byA := map[PointID][]ScoredPoint{}
	for _, p := range mx.Pairs {
		byA[p.A] = append(byA[p.A], ScoredPoint{Record: Record{ID: p.B}, Score: p.Score})
	}
	for _, a := range mx.IDs {
		va := vecs[a]
		requireSameScored(t, rank(func(v SparseVector) (float32, bool) { return mapDot(va, v), shares(va, v) }, a), 0, 3, byA[a], "matrix")
	}

	// Groups of a sparse query: each group's hits are the group's best
	// points, best first (the points' payload "g" is their id mod 3).
	q := SparseVector{Indices: []uint32{1, 2, 3}, Values: []float32{1, 1, 1}}
	groups, err := db.QueryGroups(bg, "c", &GroupsRequest{QueryRequest: QueryRequest{Query: &Query{Nearest: &Example{Sparse: &q}}, Using: "s", Limit: 3}, GroupBy: "g", GroupSize: 2})
	require.NoError(t, err)
	require.NotEmpty(t, groups)
	for _, g := range groups {
		gv, _ := g.ID.Int()
		want := rank(func(v SparseVector) (float32, bool) { return mapDot(q, v), shares(q, v) })
		var inGroup []ScoredPoint
		for _, p := range want {
			if n, _ := p.ID.Num(); int64(n%3) == gv {
				inGroup = append(inGroup, p)
			}
		}
		requireSameScored(t, inGroup, 0, 2, g.Hits, "group")
	}

	// A dense query on a sparse vector, and the other way round.
	_, err = db.Query(bg, "c", &QueryRequest{Query: &Query{Nearest: &Example{Vector: []float32{1}}}, Using: "s"})
	require.ErrorContains(t, err, "Conversion between sparse and regular vectors failed")
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Sparse: map[string]SparseVector{"s": {Indices: []uint32{1, 1}, Values: []float32{1, 2}}}}}}, nil)
	require.ErrorContains(t, err, "indices: must be unique")
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Sparse: map[string]SparseVector{"s": {Indices: []uint32{1}, Values: []float32{1, 2}}}}}}, nil)
	require.ErrorContains(t, err, "values: must be the same length as indices")
}

// TestSparseSnapshots round-trips sparse vectors through a collection
// snapshot and a full snapshot.
func TestSparseSnapshots(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	var req CreateCollection
	require.NoError(t, json.Unmarshal([]byte(`{"vectors": {"d": {"size": 2, "distance": "Dot"}}, "sparse_vectors": {"s": {"modifier": "idf"}}}`), &req))
	require.NoError(t, db.CreateCollection(bg, "c", &req))
	rng := rand.New(rand.NewPCG(9, 9))
	z := rand.NewZipf(rng, 1.1, 1, 100)
	var pts []Point
	var ids []PointID
	for i := range 100 {
		p := Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"d": {1, 2}}}
		if i%4 != 0 {
			p.Sparse = map[string]SparseVector{"s": randSparse(rng, z, 5)}
		}
		pts = append(pts, p)
		ids = append(ids, p.ID)
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	want, err := db.Get(bg, "c", ids, &ReadOptions{WithVectors: AllVectors})
	require.NoError(t, err)
	d, err := db.CreateSnapshot(bg, "c")
	require.NoError(t, err)
	path, err := db.SnapshotPath(bg, "c", d.Name)
	require.NoError(t, err)
	require.NoError(t, db.RestoreSnapshot(bg, path, "copy"))
	got, err := db.Get(bg, "copy", ids, &ReadOptions{WithVectors: AllVectors})
	require.NoError(t, err)
	require.Equal(t, want, got)
	info, err := db.CollectionInfo(bg, "copy")
	require.NoError(t, err)
	require.Equal(t, "idf", info.Config.Params.SparseVectors["s"].Modifier)

	fd, err := db.CreateFullSnapshot(bg)
	require.NoError(t, err)
	fpath, err := db.FullSnapshotPath(bg, fd.Name)
	require.NoError(t, err)
	other := openTestDB(t, t.TempDir(), testOpts())
	require.NoError(t, other.RestoreFullSnapshot(bg, fpath, false))
	got, err = other.Get(bg, "c", ids, &ReadOptions{WithVectors: AllVectors})
	require.NoError(t, err)
	require.Equal(t, want, got)
}

// TestSparseStrictMode checks strict mode's sparse_config.max_length on
// upserts and vector updates (queries are not limited, as in Qdrant).
func TestSparseStrictMode(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	var req CreateCollection
	require.NoError(t, json.Unmarshal([]byte(`{"sparse_vectors": {"s": {}},
		"strict_mode_config": {"enabled": true, "sparse_config": {"s": {"max_length": 2}}}}`), &req))
	require.NoError(t, db.CreateCollection(bg, "c", &req))
	three := SparseVector{Indices: []uint32{1, 2, 3}, Values: []float32{1, 1, 1}}
	two := SparseVector{Indices: []uint32{1, 2}, Values: []float32{1, 1}}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Sparse: map[string]SparseVector{"s": three}}}}, nil)
	require.ErrorIs(t, err, ErrStrictMode)
	require.ErrorContains(t, err, "Sparse vector 's' has a limit of 2 indices, but 3 were provided!")
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Sparse: map[string]SparseVector{"s": two}}}}, nil)
	require.NoError(t, err)
	_, err = db.UpdateVectors(bg, "c", &UpdateVectorsOp{Points: []PointVectors{{ID: numID(1), Sparse: map[string]SparseVector{"s": three}}}}, nil)
	require.ErrorContains(t, err, "Sparse vector 's' has a limit of 2 indices, but 3 were provided!")
	res, err := db.Search(bg, "c", &SearchRequest{Using: "s", Sparse: &three, Limit: 3})
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, float32(2), res[0].Score)
}
