package engine

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

func TestCollections(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	createColl(t, db, "a", 4, distance.Cosine, 10000)
	createColl(t, db, "b", 4, distance.Euclid, 10000)

	err := db.CreateCollection(bg, "a", &CreateCollection{Vectors: VectorsConfig{"": {Size: 4, Distance: distance.Dot}}})
	require.ErrorIs(t, err, ErrConflict)
	require.ErrorIs(t, db.CreateCollection(bg, "bad/name", &CreateCollection{Vectors: VectorsConfig{"": {Size: 4, Distance: distance.Dot}}}), ErrBadRequest)
	require.ErrorIs(t, db.CreateCollection(bg, "c", &CreateCollection{Vectors: VectorsConfig{"": {Size: 0, Distance: distance.Dot}}}), ErrBadRequest)

	names, err := db.ListCollections(bg)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, names)

	require.NoError(t, db.UpdateAliases(bg, []AliasOp{{Create: &CreateAlias{Collection: "a", Alias: "x"}}, {Create: &CreateAlias{Collection: "b", Alias: "y"}}}))
	ok, err := db.CollectionExists(bg, "x")
	require.NoError(t, err)
	require.True(t, ok)
	// All or nothing: the second op fails (renaming a missing alias; deleting
	// one succeeds, as in Qdrant 1.17), so the rename does not happen.
	err = db.UpdateAliases(bg, []AliasOp{{Rename: &RenameAlias{Old: "x", New: "z"}}, {Rename: &RenameAlias{Old: "nope", New: "w"}}})
	require.ErrorIs(t, err, ErrNotFound)
	al, err := db.ListAliases(bg, "")
	require.NoError(t, err)
	require.Equal(t, []AliasDesc{{"x", "a"}, {"y", "b"}}, al)
	require.NoError(t, db.UpdateAliases(bg, []AliasOp{{Rename: &RenameAlias{Old: "x", New: "z"}}}))

	// Writes through an alias land in the collection.
	_, err = db.Upsert(bg, "z", &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 0, 0, 0}}}}}, nil)
	require.NoError(t, err)
	n, err := db.Count(bg, "a", nil, true)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	al, err = db.ListAliases(bg, "a")
	require.NoError(t, err)
	require.Equal(t, []AliasDesc{{"z", "a"}}, al)

	existed, err := db.DeleteCollection(bg, "a")
	require.NoError(t, err)
	require.True(t, existed)
	_, err = db.Count(bg, "a", nil, true)
	require.ErrorIs(t, err, ErrNotFound)
	al, err = db.ListAliases(bg, "")
	require.NoError(t, err)
	require.Equal(t, []AliasDesc{{"y", "b"}}, al)
	// Created again, it starts empty.
	createColl(t, db, "a", 4, distance.Cosine, 10000)
	n, err = db.Count(bg, "a", nil, true)
	require.NoError(t, err)
	require.Zero(t, n)

	info, err := db.CollectionInfo(bg, "a")
	require.NoError(t, err)
	require.Equal(t, StatusGreen, info.Status)
	require.Equal(t, 16, info.Config.HNSW.M)
	require.Equal(t, 100, info.Config.HNSW.EfConstruct)
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	_, err := Open(dir, testOpts())
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, db.Close())
	require.NoError(t, db.Close(), "Close is idempotent")
	_, err = db.Count(bg, "x", nil, true)
	require.ErrorIs(t, err, ErrClosed)
}

func TestWriteValidation(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 3, distance.Euclid, 10000)
	good := Point{ID: numID(1), Vectors: map[string][]float32{"": {1, 2, 3}}}
	f := func(p Point, want error, msg string) {
		t.Helper()
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{good, p}}, nil)
		require.ErrorIs(t, err, want)
		require.ErrorContains(t, err, msg)
		n, err := db.Count(bg, "c", nil, true)
		require.NoError(t, err)
		require.Zero(t, n, "nothing written")
	}
	f(Point{ID: numID(2), Vectors: map[string][]float32{"": {1, 2}}}, ErrBadRequest, "expected dim: 3, got 2")
	f(Point{ID: numID(2), Vectors: map[string][]float32{"x": {1, 2, 3}}}, ErrBadRequest, "Not existing vector name error: x")
	f(Point{ID: numID(2), Vectors: map[string][]float32{"": {1, float32(math.NaN()), 3}}}, ErrBadRequest, "points[1]")
	f(Point{ID: numID(2), Vectors: map[string][]float32{"": {1, 2, 3}}, Payload: payload.IntValue(3)}, ErrBadRequest, "payload must be a JSON object")

	_, err := db.Upsert(bg, "nope", &UpsertOp{Points: []Point{good}}, nil)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = db.SetPayload(bg, "c", &SetPayloadOp{Payload: obj("a", 1), Selector: Selector{IDs: []PointID{numID(9)}}}, nil)
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorContains(t, err, "No point with id 9 found")
	_, err = db.Delete(bg, "c", Selector{}, nil)
	require.ErrorIs(t, err, ErrBadRequest)

	r, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{good}}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	require.Equal(t, StatusCompleted, r.Status)
	r2, err := db.Delete(bg, "c", Selector{IDs: []PointID{numID(5)}}, nil)
	require.NoError(t, err)
	require.Equal(t, StatusAcknowledged, r2.Status)
	require.Greater(t, r2.OperationID, r.OperationID)
}

// testPoints upserts n random points with payload {"class": i%10, "i": i}.
func testPoints(t testing.TB, db *DB, coll string, n, dim int, seed uint64) map[PointID][]float32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	vecs := map[PointID][]float32{}
	for start := 0; start < n; start += 256 {
		var pts []Point
		for i := start; i < min(n, start+256); i++ {
			v := randVec(rng, dim)
			vecs[numID(uint64(i))] = v
			pts = append(pts, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": v}, Payload: obj("class", i%10, "i", i)})
		}
		_, err := db.Upsert(bg, coll, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	return vecs
}

func TestSearchReopenNoRebuild(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	const dim, n = 16, 3000
	createColl(t, db, "c", dim, distance.Euclid, 20) // 20 KB: 320 points
	vecs := testPoints(t, db, "c", n, dim, 1)
	require.NoError(t, db.Optimize(bg, "c"))
	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Equal(t, StatusGreen, info.Status)
	require.Equal(t, n, info.PointsCount)
	require.Equal(t, n, info.IndexedVectorsCount)
	require.Positive(t, db.Stats().GraphBuilds)

	rng := rand.New(rand.NewPCG(9, 9))
	queries := make([][]float32, 30)
	for i := range queries {
		queries[i] = randVec(rng, dim)
	}
	search := func(db *DB) [][]ScoredPoint {
		var out [][]ScoredPoint
		for _, q := range queries {
			res, err := db.Search(bg, "c", &SearchRequest{Vector: q, Limit: 10, HnswEf: 64, WithPayload: AllPayload})
			require.NoError(t, err)
			out = append(out, res)
		}
		return out
	}
	before := search(db)
	// Recall against brute force.
	hits := 0
	for i, q := range queries {
		type pd struct {
			id PointID
			d  float32
		}
		var all []pd
		for id, v := range vecs {
			all = append(all, pd{id, distance.SquaredL2(q, v)})
		}
		sort.Slice(all, func(a, b int) bool { return all[a].d < all[b].d })
		for _, r := range before[i] {
			for _, want := range all[:10] {
				if want.id == r.ID {
					hits++
				}
			}
		}
	}
	require.GreaterOrEqual(t, float64(hits)/float64(10*len(queries)), 0.95)

	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	require.Zero(t, db.Stats().GraphBuilds, "reopen rebuilt a graph")
	info, err = db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Equal(t, StatusGreen, info.Status)
	require.Equal(t, n, info.IndexedVectorsCount)
	require.Equal(t, before, search(db))
}

func TestSearchSemantics(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "e", 2, distance.Euclid, 10000)
	createColl(t, db, "d", 2, distance.Dot, 10000)
	for _, coll := range []string{"e", "d"} {
		var pts []Point
		for i := range 10 {
			pts = append(pts, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": {float32(i), 0}},
				Payload: obj("i", i, "sub", obj("a", i, "b", "x"))})
		}
		_, err := db.Upsert(bg, coll, &UpsertOp{Points: pts}, nil)
		require.NoError(t, err)
	}
	ids := func(res []ScoredPoint) []uint64 {
		var out []uint64
		for _, r := range res {
			n, _ := r.ID.Num()
			out = append(out, n)
		}
		return out
	}
	// Euclid: distances, ascending; threshold strict.
	thr := float32(3)
	res, err := db.Search(bg, "e", &SearchRequest{Vector: []float32{0, 0}, Limit: 10, ScoreThreshold: &thr})
	require.NoError(t, err)
	require.Equal(t, []uint64{0, 1, 2}, ids(res))
	require.Equal(t, float32(2), res[2].Score)
	res, err = db.Search(bg, "e", &SearchRequest{Vector: []float32{0, 0}, Limit: 3, Offset: 2})
	require.NoError(t, err)
	require.Equal(t, []uint64{2, 3, 4}, ids(res))
	// Dot: similarity, descending; threshold strict.
	thr = 16 // point 8 scores exactly 16: excluded
	res, err = db.Search(bg, "d", &SearchRequest{Vector: []float32{2, 0}, Limit: 10, ScoreThreshold: &thr})
	require.NoError(t, err)
	require.Equal(t, []uint64{9}, ids(res))
	_, err = db.Search(bg, "d", &SearchRequest{Vector: []float32{2, 0}, Limit: 0})
	require.ErrorContains(t, err, "Limit cannot be 0")
	_, err = db.Search(bg, "d", &SearchRequest{Vector: []float32{2}, Limit: 1})
	require.ErrorContains(t, err, "expected dim: 2, got 1")

	// Payload selectors.
	res, err = db.Search(bg, "e", &SearchRequest{Vector: []float32{0, 0}, Limit: 1,
		WithPayload: PayloadSelector{Include: []string{"sub.a"}}, WithVectors: AllVectors})
	require.NoError(t, err)
	require.True(t, payload.Equal(obj("sub", obj("a", 0)), res[0].Payload), "%v", res[0].Payload)
	require.Equal(t, []float32{0, 0}, res[0].Vectors[""])
	res, err = db.Search(bg, "e", &SearchRequest{Vector: []float32{0, 0}, Limit: 1, WithPayload: PayloadSelector{Exclude: []string{"sub"}}})
	require.NoError(t, err)
	require.True(t, payload.Equal(obj("i", 0), res[0].Payload), "%v", res[0].Payload)

	// Scroll order_by needs a range index.
	_, err = db.Scroll(bg, "e", &ScrollRequest{Limit: 3, OrderBy: &OrderBy{Key: "i"}})
	require.ErrorContains(t, err, "No range index for `order_by` key: `i`")
	_, err = db.CreateFieldIndex(bg, "e", "i", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)
	from := 4.0
	sc, err := db.Scroll(bg, "e", &ScrollRequest{Limit: 3, OrderBy: &OrderBy{Key: "i", Descending: true, StartFrom: &from}})
	require.NoError(t, err)
	require.Nil(t, sc.NextPageOffset)
	var got []int64
	for _, p := range sc.Points {
		v, _ := p.OrderValue.Int()
		got = append(got, v)
	}
	require.Equal(t, []int64{4, 3, 2}, got)
}

func TestRecommend(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim = 8
	for _, m := range []distance.Metric{distance.Cosine, distance.Euclid} {
		coll := m.String()
		createColl(t, db, coll, dim, m, 10000)
		vecs := testPoints(t, db, coll, 300, dim, 3)
		pos := []PointID{numID(1), numID(2)}
		neg := []PointID{numID(3)}
		ex := func(ids []PointID) []Example {
			var out []Example
			for _, id := range ids {
				out = append(out, Example{ID: &id})
			}
			return out
		}
		prep := func(id PointID) []float32 { return m.Preprocess(nil, vecs[id]) }
		for _, strategy := range []RecommendStrategy{AverageVector, BestScore, SumScores} {
			res, err := db.Recommend(bg, coll, &RecommendRequest{Positive: ex(pos), Negative: ex(neg), Strategy: strategy, Limit: 5, Exact: true})
			require.NoError(t, err)
			require.Len(t, res, 5)
			// Oracle: score every other point.
			type sc struct {
				id PointID
				s  float32
			}
			var all []sc
			for id, v := range vecs {
				if slices.Contains(pos, id) || slices.Contains(neg, id) {
					continue
				}
				v = m.Preprocess(nil, v)
				var s float32
				switch strategy {
				case AverageVector:
					q := make([]float32, dim)
					for i := range q {
						ap := (prep(pos[0])[i] + prep(pos[1])[i]) / 2
						q[i] = ap + ap - prep(neg[0])[i]
					}
					s = -m.Distance(m.Preprocess(nil, q), v)
				case BestScore:
					mp := max(similarity(m, v, prep(pos[0])), similarity(m, v, prep(pos[1])))
					mn := similarity(m, v, prep(neg[0]))
					if mp > mn {
						s = scaledSigmoid(mp)
					} else {
						s = -scaledSigmoid(mn)
					}
				case SumScores:
					s = similarity(m, v, prep(pos[0])) + similarity(m, v, prep(pos[1])) - similarity(m, v, prep(neg[0]))
				}
				all = append(all, sc{id, s})
			}
			sort.Slice(all, func(a, b int) bool { return all[a].s > all[b].s })
			for i, r := range res {
				require.Equal(t, all[i].id, r.ID, "%s %s rank %d", coll, strategy, i)
			}
		}
		_, err := db.Recommend(bg, coll, &RecommendRequest{Positive: ex([]PointID{numID(100000)}), Limit: 5})
		require.ErrorIs(t, err, ErrNotFound)
	}
}

func TestFilteredSearchAndPayloadOps(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 8, distance.Cosine, 4)
	testPoints(t, db, "c", 1000, 8, 5)
	require.NoError(t, db.Optimize(bg, "c"))
	f := mustFilter(t, `{"must":[{"key":"class","match":{"value":3}}]}`)
	n, err := db.Count(bg, "c", f, true)
	require.NoError(t, err)
	require.Equal(t, 100, n)
	res, err := db.Search(bg, "c", &SearchRequest{Vector: randVec(rand.New(rand.NewPCG(1, 1)), 8), Filter: f, Limit: 200, WithPayload: AllPayload})
	require.NoError(t, err)
	require.Len(t, res, 100)
	for _, r := range res {
		c, _ := r.Payload.Get("class")
		v, _ := c.Int()
		require.Equal(t, int64(3), v)
	}
	// set_payload by filter, with a null that deletes a key.
	_, err = db.SetPayload(bg, "c", &SetPayloadOp{Payload: obj("class", 33, "i", nil), Selector: Selector{Filter: f}}, nil)
	require.NoError(t, err)
	n, err = db.Count(bg, "c", f, true)
	require.NoError(t, err)
	require.Zero(t, n)
	recs, err := db.Get(bg, "c", []PointID{numID(3), numID(4), numID(99999)}, &ReadOptions{WithPayload: AllPayload})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.True(t, payload.Equal(obj("class", 33), recs[0].Payload), "%v", recs[0].Payload)
	require.True(t, payload.Equal(obj("class", 4, "i", 4), recs[1].Payload), "%v", recs[1].Payload)
	_, err = db.Delete(bg, "c", Selector{Filter: mustFilter(t, `{"must":[{"key":"class","match":{"value":33}}]}`)}, nil)
	require.NoError(t, err)
	n, err = db.Count(bg, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, 900, n)
	_ = filter.NumID
}

func TestPayloadTooDeep(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 2, distance.Dot, 10000)
	deep := payload.IntValue(1)
	for range payload.MaxDepth {
		deep = payload.ArrayValue(deep)
	}
	p := obj("a", deep) // one level more than allowed
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 2}}, Payload: p}}}, nil)
	require.ErrorIs(t, err, ErrBadRequest)
	require.ErrorContains(t, err, "nests")
	ok := obj("a", payload.ArrayValue(payload.IntValue(1)))
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 2}}, Payload: ok}}}, nil)
	require.NoError(t, err)
	_, err = db.SetPayload(bg, "c", &SetPayloadOp{Payload: p, Selector: Selector{IDs: []PointID{numID(1)}}}, nil)
	require.ErrorIs(t, err, ErrBadRequest)
}

func TestSnapshots(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "..", 4, distance.Cosine, 10000)
	testPoints(t, db, "..", 500, 4, 1)
	_, err := db.CreateFieldIndex(bg, "..", "class", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)
	d, err := db.CreateSnapshot(bg, "..")
	require.NoError(t, err)
	require.Regexp(t, `^\.\.-0-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$`, d.Name)
	require.Len(t, d.Checksum, 64)
	path, err := db.SnapshotPath(bg, "..", d.Name)
	require.NoError(t, err)
	require.Contains(t, path, "snapshots")
	// Later writes are not in the snapshot.
	_, err = db.Delete(bg, "..", Selector{Filter: mustFilter(t, `{"must":[{"key":"class","match":{"value":1}}]}`)}, nil)
	require.NoError(t, err)
	require.NoError(t, db.RestoreSnapshot(bg, path, "copy"))
	n, err := db.Count(bg, "copy", nil, true)
	require.NoError(t, err)
	require.Equal(t, 500, n)
	info, err := db.CollectionInfo(bg, "copy")
	require.NoError(t, err)
	require.Contains(t, info.PayloadSchema, "class")
	require.Equal(t, 500, info.PayloadSchema["class"].Points)
	require.ErrorIs(t, db.RestoreSnapshot(bg, path, "copy"), ErrConflict)
	_, err = db.SnapshotPath(bg, "..", "../../etc/passwd")
	require.ErrorIs(t, err, ErrNotFound, "a path is not a snapshot name")
	require.NoError(t, db.DeleteSnapshot(bg, "..", d.Name))
	list, err := db.ListSnapshots(bg, "..")
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestStatusGreyWithoutOptimizer(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts()) // background optimizer off
	createColl(t, db, "c", 8, distance.Dot, 1)
	testPoints(t, db, "c", 300, 8, 1)
	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Equal(t, StatusGrey, info.Status, "work pending, nothing runs it")
	require.NoError(t, db.Optimize(bg, "c"))
	info, err = db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Equal(t, StatusGreen, info.Status)
}

func TestHugeLimits(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 4, distance.Dot, 10000)
	testPoints(t, db, "c", 50, 4, 1)
	huge := math.MaxInt
	res, err := db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 0, 0, 0}, Limit: huge, Offset: huge - 1})
	require.NoError(t, err)
	require.Empty(t, res)
	res, err = db.Search(bg, "c", &SearchRequest{Vector: []float32{1, 0, 0, 0}, Limit: huge})
	require.NoError(t, err)
	require.Len(t, res, 50)
	sc, err := db.Scroll(bg, "c", &ScrollRequest{Limit: huge})
	require.NoError(t, err)
	require.Len(t, sc.Points, 50)
	q, err := db.Query(bg, "c", &QueryRequest{Limit: huge, Offset: huge})
	require.NoError(t, err)
	require.Empty(t, q)
	one := numID(1)
	rec, err := db.Recommend(bg, "c", &RecommendRequest{Positive: []Example{{ID: &one}}, Strategy: BestScore, Limit: huge, Offset: 1})
	require.NoError(t, err)
	require.Len(t, rec, 48)
}

// TestDiskUsageWhileFilesComeAndGo: Pebble deletes obsolete files in the
// background; a file that vanishes between the listing and its stat is not
// an error.
func TestDiskUsageWhileFilesComeAndGo(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	churn := filepath.Join(dir, "churn")
	require.NoError(t, os.MkdirAll(churn, 0o755))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := filepath.Join(churn, strconv.Itoa(i%64))
			_ = os.WriteFile(p, []byte("x"), 0o644)
			_ = os.Remove(filepath.Join(churn, strconv.Itoa((i+32)%64)))
		}
	}()
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		n, err := db.DiskUsage()
		require.NoError(t, err)
		require.Greater(t, n, int64(0))
	}
	close(stop)
	<-done
}

// TestUnnamedVectorNamedForm checks that a collection whose unnamed vector
// was created in the map form ({"": {...}}) reports it in that form, after
// a reopen and in a restored snapshot, and that one created with the bare
// form keeps the bare form.
func TestUnnamedVectorNamedForm(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	create := func(name, body string) {
		t.Helper()
		var req CreateCollection
		require.NoError(t, json.Unmarshal([]byte(body), &req))
		require.NoError(t, db.CreateCollection(bg, name, &req))
	}
	create("named", `{"vectors": {"": {"size": 2, "distance": "Cosine"}}, "sparse_vectors": {}}`)
	create("bare", `{"vectors": {"size": 2, "distance": "Cosine"}}`)
	for _, name := range []string{"named", "bare"} {
		_, err := db.Upsert(bg, name, &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 2}}}}}, nil)
		require.NoError(t, err)
	}
	vectors := func(db *DB, name string) string {
		t.Helper()
		info, err := db.CollectionInfo(bg, name)
		require.NoError(t, err)
		require.Equal(t, 1, info.PointsCount)
		b, err := json.Marshal(info.Config.Params)
		require.NoError(t, err)
		var p struct{ Vectors json.RawMessage }
		require.NoError(t, json.Unmarshal(b, &p))
		return string(p.Vectors)
	}
	const named, bare = `{"":{"size":2,"distance":"Cosine"}}`, `{"size":2,"distance":"Cosine"}`
	require.JSONEq(t, named, vectors(db, "named"))
	require.JSONEq(t, bare, vectors(db, "bare"))
	// An update keeps the form.
	var upd UpdateCollection
	require.NoError(t, json.Unmarshal([]byte(`{"vectors": {"": {"on_disk": true}}}`), &upd))
	require.NoError(t, db.UpdateCollection(bg, "named", &upd))
	require.JSONEq(t, `{"":{"size":2,"distance":"Cosine","on_disk":true}}`, vectors(db, "named"))

	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	require.JSONEq(t, `{"":{"size":2,"distance":"Cosine","on_disk":true}}`, vectors(db, "named"))
	require.JSONEq(t, bare, vectors(db, "bare"))

	for _, name := range []string{"named", "bare"} {
		d, err := db.CreateSnapshot(bg, name)
		require.NoError(t, err)
		path, err := db.SnapshotPath(bg, name, d.Name)
		require.NoError(t, err)
		require.NoError(t, db.RestoreSnapshot(bg, path, name+"-copy"))
	}
	require.JSONEq(t, `{"":{"size":2,"distance":"Cosine","on_disk":true}}`, vectors(db, "named-copy"))
	require.JSONEq(t, bare, vectors(db, "bare-copy"))
}

// TestScrollOrderByRefusesOffset: an ordered scroll pages with
// OrderBy.StartFrom; an id offset is refused as Qdrant does.
func TestScrollOrderByRefusesOffset(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "e", 2, distance.Dot, 4)
	_, err := db.Upsert(bg, "e", &UpsertOp{Points: []Point{{ID: numID(1), Vectors: map[string][]float32{"": {1, 0}}, Payload: obj("i", 1)}}}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	_, err = db.CreateFieldIndex(bg, "e", "i", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)
	off := numID(1)
	_, err = db.Scroll(bg, "e", &ScrollRequest{Limit: 3, Offset: &off, OrderBy: &OrderBy{Key: "i"}})
	require.ErrorIs(t, err, ErrBadRequest)
	require.ErrorContains(t, err, "Cannot use an `offset` when using `order_by`")
	res, err := db.Scroll(bg, "e", &ScrollRequest{Limit: 3, OrderBy: &OrderBy{Key: "i"}})
	require.NoError(t, err)
	require.Len(t, res.Points, 1)
}

// TestIntegerIndexKeepsLookupOrRange: an integer index with neither lookup
// nor range is refused, as Qdrant refuses it.
func TestIntegerIndexKeepsLookupOrRange(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "e", 2, distance.Dot, 4)
	off := false
	_, err := db.CreateFieldIndex(bg, "e", "i", payload.IndexParams{Type: payload.TypeInteger, Lookup: &off, Range: &off}, nil)
	require.ErrorIs(t, err, ErrBadRequest)
	require.ErrorIs(t, err, payload.ErrLookupAndRangeOff)
	info, err := db.CollectionInfo(bg, "e")
	require.NoError(t, err)
	require.Empty(t, info.PayloadSchema)
	_, err = db.CreateFieldIndex(bg, "e", "i", payload.IndexParams{Type: payload.TypeInteger, Lookup: &off}, nil)
	require.NoError(t, err)
}
