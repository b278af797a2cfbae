package engine

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// The metamorphic test: random operation logs applied to the engine and to
// a plain in-memory model must leave the same points, payloads, counts and
// exact search results, across optimizer runs and reopens.

type modelPoint struct {
	vectors map[string][]float32
	multi   map[string][][]float32
	sparse  map[string]SparseVector // as given (unsorted)
	payload payload.Value
}

type model struct {
	points map[PointID]*modelPoint
	specs  map[string]VectorParams
}

func (m *model) clone(id PointID) *modelPoint {
	p := m.points[id]
	q := &modelPoint{vectors: map[string][]float32{}, multi: maps.Clone(p.multi), sparse: map[string]SparseVector{}, payload: p.payload}
	if q.multi == nil {
		q.multi = map[string][][]float32{}
	}
	for k, v := range p.vectors {
		q.vectors[k] = v
	}
	for k, v := range p.sparse {
		q.sparse[k] = v
	}
	return q
}

type modelView struct {
	id PointID
	p  *modelPoint
}

func (v modelView) ID() PointID            { return v.id }
func (v modelView) Payload() payload.Value { return v.p.payload }
func (v modelView) HasVector(n string) bool {
	_, ok := v.p.vectors[n]
	_, sparse := v.p.sparse[n]
	return ok || sparse
}

func (m *model) matching(f *filter.Filter) []PointID {
	var out []PointID
	for id, p := range m.points {
		if f.Matches(modelView{id, p}) {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b PointID) int { return a.Compare(b) })
	return out
}

var modelSpecs = map[string]VectorParams{
	"a": {Size: 6, Distance: distance.Cosine},
	"b": {Size: 3, Distance: distance.Euclid},
}

func newModelColl(t testing.TB, db *DB, name string, onDiskPayload bool) {
	t.Helper()
	thr := 1    // KB: 1024/36 = 28 points
	maxSeg := 4 // KB: 113 points per segment
	del := 0.1
	vmin := 100
	req := &CreateCollection{
		Vectors: VectorsConfig{"a": modelSpecs["a"], "b": modelSpecs["b"],
			"m": {Size: 2, Distance: distance.Dot, Multivector: []byte(`{"comparator": "max_sim"}`)}},
		SparseVectors: map[string]SparseVectorParams{"s": {Modifier: "idf", Index: &SparseIndexParams{FullScanThreshold: new(uint64(20))}}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr, MaxSegmentSize: &maxSeg,
			DeletedThreshold: &del, VacuumMinVectorNumber: &vmin},
		OnDiskPayload: &onDiskPayload,
	}
	require.NoError(t, db.CreateCollection(bg, name, req))
}

type modelRun struct {
	t     *testing.T
	rng   *rand.Rand
	dir   string
	db    *DB
	m     *model
	coll  string
	steps []string
}

func (r *modelRun) randID() PointID {
	if r.rng.IntN(8) == 0 {
		var u [16]byte
		u[0] = byte(r.rng.IntN(4)) // few distinct UUIDs, so they repeat
		u[15] = byte(r.rng.IntN(8))
		return filter.UUIDID(u)
	}
	return numID(uint64(r.rng.IntN(300)))
}

func (r *modelRun) randVectors(all bool) map[string][]float32 {
	v := map[string][]float32{}
	for name, vp := range modelSpecs {
		if all || r.rng.IntN(4) != 0 {
			v[name] = randVec(r.rng, int(vp.Size))
		}
	}
	return v
}

// randMulti returns the multivector "m" (1 to 3 vectors), or none.
func (r *modelRun) randMulti() map[string][][]float32 {
	if r.rng.IntN(3) == 0 {
		return nil
	}
	var mv [][]float32
	for range 1 + r.rng.IntN(3) {
		mv = append(mv, randVec(r.rng, 2))
	}
	return map[string][][]float32{"m": mv}
}

// randSparse returns the sparse vector "s" (sometimes empty), or none.
func (r *modelRun) randSparse() map[string]SparseVector {
	if r.rng.IntN(4) == 0 {
		return nil
	}
	var v SparseVector
	for range r.rng.IntN(6) {
		d := uint32(r.rng.IntN(30))
		if !slices.Contains(v.Indices, d) {
			v.Indices = append(v.Indices, d)
			v.Values = append(v.Values, float32(r.rng.IntN(9)-2)/2)
		}
	}
	return map[string]SparseVector{"s": v}
}

func (r *modelRun) randPayload() payload.Value {
	fs := []payload.Field{
		{Key: "class", Value: payload.IntValue(int64(r.rng.IntN(5)))},
		{Key: "tag", Value: payload.StringValue([]string{"x", "y", "z"}[r.rng.IntN(3)])},
	}
	if r.rng.IntN(3) == 0 {
		fs = append(fs, payload.Field{Key: "nested", Value: obj("v", r.rng.IntN(10), "w", r.rng.Float64())})
	}
	if r.rng.IntN(5) == 0 {
		return payload.NullValue()
	}
	return payload.ObjectValue(fs...)
}

var modelFilters = []string{
	`{"must":[{"key":"class","match":{"value":1}}]}`,
	`{"should":[{"key":"tag","match":{"value":"x"}},{"key":"class","range":{"gte":3}}]}`,
	`{"must_not":[{"key":"class","match":{"any":[0,2]}}]}`,
	`{"must":[{"key":"nested.v","range":{"lt":5}}]}`,
	`{"must":[{"is_empty":{"key":"class"}}]}`,
	`{"must":[{"has_vector":"b"}]}`,
	`{"must":[{"has_vector":"s"}]}`,
	`{"must":[{"has_id":[1,2,3,50,99,150,250]}]}`,
	`{"must":[{"key":"tag","match":{"except":["y"]}}]}`,
}

func (r *modelRun) randFilter() *filter.Filter {
	return mustFilter(r.t, modelFilters[r.rng.IntN(len(modelFilters))])
}

func (r *modelRun) randSelector() (Selector, []PointID) {
	if r.rng.IntN(2) == 0 {
		f := r.randFilter()
		return Selector{Filter: f}, r.m.matching(f)
	}
	var ids []PointID
	for range 1 + r.rng.IntN(5) {
		ids = append(ids, r.randID())
	}
	var exist []PointID
	for _, id := range ids {
		if _, ok := r.m.points[id]; ok && !slices.Contains(exist, id) {
			exist = append(exist, id)
		}
	}
	return Selector{IDs: ids}, exist
}

func (r *modelRun) log(format string, args ...any) {
	r.steps = append(r.steps, fmt.Sprintf(format, args...))
}

// step applies one random operation to both sides.
func (r *modelRun) step() {
	t, rng, m := r.t, r.rng, r.m
	switch op := rng.IntN(100); {
	case op < 35: // upsert
		n := 1 + rng.IntN(20)
		pts := make([]Point, n)
		for i := range pts {
			pts[i] = Point{ID: r.randID(), Vectors: r.randVectors(false), Multi: r.randMulti(), Sparse: r.randSparse(), Payload: r.randPayload()}
		}
		bad := rng.IntN(15) == 0
		if bad {
			pts[rng.IntN(n)].Vectors["a"] = []float32{1, 2}
		}
		mode := UpdateMode(0)
		if rng.IntN(6) == 0 {
			mode = UpdateMode(1 + rng.IntN(2))
		}
		r.log("upsert %d points mode %d bad %v", n, mode, bad)
		_, err := r.db.Upsert(bg, r.coll, &UpsertOp{Points: pts, Mode: mode}, &WriteOptions{Wait: true})
		if bad {
			require.ErrorIs(t, err, ErrBadRequest)
			return
		}
		require.NoError(t, err)
		for _, p := range pts {
			_, exists := m.points[p.ID]
			if (mode == ModeInsertOnly && exists) || (mode == ModeUpdateOnly && !exists) {
				continue
			}
			mp := &modelPoint{vectors: map[string][]float32{}, multi: p.Multi, sparse: p.Sparse, payload: p.Payload}
			for k, v := range p.Vectors {
				mp.vectors[k] = modelSpecs[k].Distance.Preprocess(nil, v)
			}
			m.points[p.ID] = mp
		}
	case op < 45:
		sel, ids := r.randSelector()
		r.log("delete %d", len(ids))
		_, err := r.db.Delete(bg, r.coll, sel, nil)
		require.NoError(t, err)
		for _, id := range ids {
			delete(m.points, id)
		}
	case op < 55:
		sel, ids := r.randSelector()
		p := obj("class", rng.IntN(5), "extra", rng.IntN(3))
		if rng.IntN(3) == 0 {
			p = obj("tag", nil) // null deletes
		}
		key := ""
		if rng.IntN(3) == 0 {
			key = "nested"
		}
		r.log("set_payload %d key %q", len(ids), key)
		_, err := r.db.SetPayload(bg, r.coll, &SetPayloadOp{Payload: p, Selector: sel, Key: key}, nil)
		if sel.IDs != nil && len(ids) < len(uniq(sel.IDs)) {
			require.ErrorIs(t, err, ErrNotFound)
			return
		}
		require.NoError(t, err)
		path, _ := payload.ParsePath(key)
		for _, id := range ids {
			q := m.clone(id)
			if key == "" {
				q.payload = payload.Merge(q.payload, p)
			} else {
				q.payload, err = path.Set(q.payload, p)
				require.NoError(t, err)
			}
			m.points[id] = q
		}
	case op < 60:
		sel, ids := r.randSelector()
		p := r.randPayload()
		if p.Kind() != payload.Object {
			p = payload.ObjectValue()
		}
		r.log("overwrite_payload %d", len(ids))
		_, err := r.db.OverwritePayload(bg, r.coll, &SetPayloadOp{Payload: p, Selector: sel}, nil)
		if sel.IDs != nil && len(ids) < len(uniq(sel.IDs)) {
			require.ErrorIs(t, err, ErrNotFound)
			return
		}
		require.NoError(t, err)
		for _, id := range ids {
			q := m.clone(id)
			q.payload = p
			m.points[id] = q
		}
	case op < 65:
		sel, ids := r.randSelector()
		keys := []string{"class", "nested.v"}[:1+rng.IntN(2)]
		r.log("delete_payload %d %v", len(ids), keys)
		_, err := r.db.DeletePayload(bg, r.coll, &DeletePayloadOp{Keys: keys, Selector: sel}, nil)
		if sel.IDs != nil && len(ids) < len(uniq(sel.IDs)) {
			require.ErrorIs(t, err, ErrNotFound)
			return
		}
		require.NoError(t, err)
		for _, id := range ids {
			q := m.clone(id)
			for _, k := range keys {
				p, _ := payload.ParsePath(k)
				q.payload, _ = p.Delete(q.payload)
			}
			m.points[id] = q
		}
	case op < 68:
		sel, ids := r.randSelector()
		r.log("clear_payload %d", len(ids))
		_, err := r.db.ClearPayload(bg, r.coll, sel, nil)
		if sel.IDs != nil && len(ids) < len(uniq(sel.IDs)) {
			require.ErrorIs(t, err, ErrNotFound)
			return
		}
		require.NoError(t, err)
		for _, id := range ids {
			q := m.clone(id)
			q.payload = payload.ObjectValue()
			m.points[id] = q
		}
	case op < 73:
		ids := m.matching(nil)
		if len(ids) == 0 {
			return
		}
		id := ids[rng.IntN(len(ids))]
		v := r.randVectors(false)
		if len(v) == 0 {
			v["b"] = randVec(rng, 3)
		}
		sp := r.randSparse()
		mv := r.randMulti()
		r.log("update_vectors %s", id)
		_, err := r.db.UpdateVectors(bg, r.coll, &UpdateVectorsOp{Points: []PointVectors{{ID: id, Vectors: v, Multi: mv, Sparse: sp}}}, nil)
		require.NoError(t, err)
		q := m.clone(id)
		maps.Copy(q.multi, mv)
		for k, x := range v {
			q.vectors[k] = modelSpecs[k].Distance.Preprocess(nil, x)
		}
		for k, x := range sp {
			q.sparse[k] = x
		}
		m.points[id] = q
	case op < 76:
		sel, ids := r.randSelector()
		name := []string{"b", "s", "m"}[rng.IntN(3)]
		r.log("delete_vectors %s %d", name, len(ids))
		_, err := r.db.DeleteVectors(bg, r.coll, &DeleteVectorsOp{Selector: sel, Names: []string{name}}, nil)
		if sel.IDs != nil && len(ids) < len(uniq(sel.IDs)) {
			require.ErrorIs(t, err, ErrNotFound)
			return
		}
		require.NoError(t, err)
		for _, id := range ids {
			q := m.clone(id)
			delete(q.vectors, name)
			delete(q.sparse, name)
			delete(q.multi, name)
			m.points[id] = q
		}
	case op < 80:
		field := []string{"class", "tag", "nested.v"}[rng.IntN(3)]
		typ := map[string]payload.FieldType{"class": payload.TypeInteger, "tag": payload.TypeKeyword, "nested.v": payload.TypeInteger}[field]
		if rng.IntN(3) == 0 {
			r.log("delete index %s", field)
			_, err := r.db.DeleteFieldIndex(bg, r.coll, field, nil)
			require.NoError(t, err)
		} else {
			r.log("create index %s", field)
			_, err := r.db.CreateFieldIndex(bg, r.coll, field, payload.IndexParams{Type: typ}, nil)
			require.NoError(t, err)
		}
	case op < 90:
		r.log("optimize")
		require.NoError(t, r.db.Optimize(bg, r.coll))
	case op < 94:
		r.log("reopen")
		r.reopen()
	case op < 96:
		r.log("snapshot-restore")
		r.snapshotRestore()
	default:
		r.log("batch")
		r.batch()
	}
}

// batch runs a BatchUpdate of an upsert and a payload change of the same
// point, and a failing one that must change nothing.
func (r *modelRun) batch() {
	id := r.randID()
	p := obj("class", 4, "tag", "x")
	ops := []Operation{
		{Upsert: &UpsertOp{Points: []Point{{ID: id, Vectors: r.randVectors(true), Sparse: r.randSparse(), Payload: p}}}},
		{SetPayload: &SetPayloadOp{Payload: obj("extra", 7), Selector: Selector{IDs: []PointID{id}}}},
	}
	_, err := r.db.BatchUpdate(bg, r.coll, ops, nil)
	require.NoError(r.t, err)
	mp := &modelPoint{vectors: map[string][]float32{}, sparse: ops[0].Upsert.Points[0].Sparse, payload: payload.Merge(p, obj("extra", 7))}
	for k, v := range ops[0].Upsert.Points[0].Vectors {
		mp.vectors[k] = modelSpecs[k].Distance.Preprocess(nil, v)
	}
	r.m.points[id] = mp

	bad := []Operation{
		{Delete: &Selector{IDs: []PointID{id}}},
		{UpdateVectors: &UpdateVectorsOp{Points: []PointVectors{{ID: numID(1 << 40), Vectors: map[string][]float32{"b": {1, 2, 3}}}}}},
	}
	_, err = r.db.BatchUpdate(bg, r.coll, bad, nil)
	require.ErrorIs(r.t, err, ErrNotFound)
}

func uniq(ids []PointID) []PointID {
	var out []PointID
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// snapshotRestore snapshots the collection, restores it into a new
// database directory and goes on there.
func (r *modelRun) snapshotRestore() {
	t := r.t
	d, err := r.db.CreateSnapshot(bg, r.coll)
	require.NoError(t, err)
	path, err := r.db.SnapshotPath(bg, r.coll, d.Name)
	require.NoError(t, err)
	list, err := r.db.ListSnapshots(bg, r.coll)
	require.NoError(t, err)
	require.Contains(t, list, *d)
	dir := t.TempDir()
	db := openTestDB(t, dir, modelOpts())
	require.NoError(t, db.RestoreSnapshot(bg, path, r.coll))
	require.NoError(t, r.db.DeleteSnapshot(bg, r.coll, d.Name))
	closeChecked(t, r.db)
	r.db, r.dir = db, dir
}

func (r *modelRun) reopen() {
	closeChecked(r.t, r.db)
	r.db = openTestDB(r.t, r.dir, modelOpts())
}

// modelOpts are testOpts with a small payload cache, so that payload reads
// go to the store.
func modelOpts() *Options {
	o := testOpts()
	o.PayloadCacheBytes = 4 << 10
	return o
}

// verify compares the engine with the model.
func (r *modelRun) verify() {
	t, m := r.t, r.m
	require.NoError(t, r.db.CheckInvariants(), "after %v", r.steps)
	n, err := r.db.Count(bg, r.coll, nil, true)
	require.NoError(t, err)
	require.Equal(t, len(m.points), n, "count after %v", r.steps)

	// Scroll everything in pages of 7: ids in order, records equal.
	all := m.matching(nil)
	var got []Record
	var offset *PointID
	for {
		res, err := r.db.Scroll(bg, r.coll, &ScrollRequest{Limit: 7, Offset: offset, WithPayload: AllPayload, WithVectors: AllVectors})
		require.NoError(t, err)
		got = append(got, res.Points...)
		if res.NextPageOffset == nil {
			break
		}
		offset = res.NextPageOffset
	}
	require.Len(t, got, len(all))
	for i, rec := range got {
		require.Equal(t, all[i], rec.ID)
		mp := m.points[rec.ID]
		require.True(t, payload.Equal(normPayload(mp.payload), rec.Payload), "payload of %s: %v vs %v after %v", rec.ID, mp.payload, rec.Payload, r.steps)
		require.Equal(t, len(mp.vectors), len(rec.Vectors), "vectors of %s", rec.ID)
		for k, v := range mp.vectors {
			require.Equal(t, v, rec.Vectors[k], "vector %s of %s", k, rec.ID)
		}
		require.Equal(t, len(mp.multi), len(rec.Multi), "multivectors of %s after %v", rec.ID, r.steps)
		for k, v := range mp.multi {
			require.Equal(t, v, rec.Multi[k], "multivector %s of %s", k, rec.ID)
		}
		require.Equal(t, len(mp.sparse), len(rec.Sparse), "sparse vectors of %s after %v", rec.ID, r.steps)
		for k, v := range mp.sparse {
			want := sparseSorted(v)
			got := rec.Sparse[k]
			require.Equal(t, len(want.Indices), len(got.Indices), "sparse vector %s of %s", k, rec.ID)
			if len(want.Indices) > 0 {
				require.Equal(t, want, got, "sparse vector %s of %s", k, rec.ID)
			}
		}
	}

	// Filtered counts and scrolls.
	for _, js := range modelFilters {
		f := mustFilter(t, js)
		want := m.matching(f)
		n, err := r.db.Count(bg, r.coll, f, true)
		require.NoError(t, err)
		require.Equal(t, len(want), n, "count %s after %v", js, r.steps)
		res, err := r.db.Scroll(bg, r.coll, &ScrollRequest{Filter: f, Limit: 1000})
		require.NoError(t, err)
		var ids []PointID
		for _, p := range res.Points {
			ids = append(ids, p.ID)
		}
		if len(want) == 0 {
			want = nil
		}
		require.Equal(t, want, ids, "scroll %s", js)
	}

	// Exact search against brute force, both vectors, with and without filters.
	for _, using := range []string{"a", "b"} {
		vp := modelSpecs[using]
		for i := range 3 {
			q := randVec(r.rng, int(vp.Size))
			var f *filter.Filter
			if i > 0 {
				f = r.randFilter()
			}
			res, err := r.db.Search(bg, r.coll, &SearchRequest{Vector: q, Using: using, Filter: f, Limit: 10, Exact: true})
			require.NoError(t, err)
			want := bruteForce(m, using, q, f, 10)
			require.Len(t, res, len(want), "search %s", using)
			for j := range res {
				require.InDelta(t, want[j].score, res[j].Score, 1e-4, "rank %d", j)
				mp := m.points[res[j].ID]
				require.NotNil(t, mp)
				require.InDelta(t, vp.Distance.Score(vp.Distance.Distance(vp.Distance.Preprocess(nil, q), mp.vectors[using])), res[j].Score, 1e-4)
			}
		}
	}

	// Sparse search (IDF) against brute force.
	for i := range 3 {
		var q SparseVector
		for range 1 + r.rng.IntN(4) {
			if d := uint32(r.rng.IntN(30)); !slices.Contains(q.Indices, d) {
				q.Indices = append(q.Indices, d)
				q.Values = append(q.Values, 1)
			}
		}
		var f *filter.Filter
		if i > 0 {
			f = r.randFilter()
		}
		res, err := r.db.Search(bg, r.coll, &SearchRequest{Sparse: &q, Using: "s", Filter: f, Limit: 10})
		require.NoError(t, err)
		requireSameScored(t, bruteForceSparse(m, q, f), 0, 10, res, fmt.Sprintf("sparse search after %v", r.steps))
	}
}

// bruteForceSparse ranks the points matching f that share an index with q
// by their dot product with q weighted by Qdrant's IDF over the model.
func bruteForceSparse(m *model, q SparseVector, f *filter.Filter) []ScoredPoint {
	n := 0
	df := make([]float64, len(q.Indices))
	for _, p := range m.points {
		v := p.sparse["s"]
		if len(v.Indices) > 0 {
			n++
		}
		for i, d := range q.Indices {
			if slices.Contains(v.Indices, d) {
				df[i]++
			}
		}
	}
	var all []ScoredPoint
	for _, id := range m.matching(f) {
		v, ok := m.points[id].sparse["s"]
		if !ok {
			continue
		}
		var s float64
		shared := false
		for i, d := range q.Indices {
			if j := slices.Index(v.Indices, d); j >= 0 {
				idf := math.Log(1 + (float64(n)-df[i]+0.5)/(df[i]+0.5))
				s += float64(q.Values[i]) * idf * float64(v.Values[j])
				shared = true
			}
		}
		if shared {
			all = append(all, ScoredPoint{Record: Record{ID: id}, Score: float32(s)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Score != all[j].Score {
			return all[i].Score > all[j].Score
		}
		return all[i].ID.Compare(all[j].ID) < 0
	})
	return all
}

type scoredID struct {
	id    PointID
	score float32
}

func bruteForce(m *model, using string, q []float32, f *filter.Filter, k int) []scoredID {
	vp := modelSpecs[using]
	q = vp.Distance.Preprocess(nil, q)
	var all []scoredID
	for _, id := range m.matching(f) {
		v, ok := m.points[id].vectors[using]
		if !ok {
			continue
		}
		all = append(all, scoredID{id, vp.Distance.Score(vp.Distance.Distance(q, v))})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if vp.Distance.HigherIsBetter() {
			return all[i].score > all[j].score
		}
		return all[i].score < all[j].score
	})
	return all[:min(k, len(all))]
}

func TestMetamorphic(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	steps := 300
	if testing.Short() {
		seeds, steps = seeds[:1], 100
	}
	for _, onDisk := range []bool{true, false} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("on_disk_payload=%v/seed=%d", onDisk, seed), func(t *testing.T) {
				dir := t.TempDir()
				r := &modelRun{t: t, rng: rand.New(rand.NewPCG(seed, 7)), dir: dir, coll: "m",
					m: &model{points: map[PointID]*modelPoint{}, specs: modelSpecs}}
				o := testOpts()
				// A small payload cache, so that reads go to the store.
				o.PayloadCacheBytes = 4 << 10
				r.db = openTestDB(t, dir, o)
				newModelColl(t, r.db, r.coll, onDisk)
				for i := range steps {
					r.step()
					if i%10 == 9 {
						r.verify()
					}
				}
				r.verify()
				_ = math.Abs
			})
		}
	}
}
