package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/bench/cputime"
	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
)

func TestOptionsValidation(t *testing.T) {
	f := func(opts *Options) {
		t.Helper()
		_, err := New(opts)
		require.ErrorIs(t, err, ErrBadOptions)
	}
	spec := VectorSpec{Dim: 4, Metric: distance.Dot}
	f(nil)
	f(&Options{Vectors: []VectorSpec{spec}, Sparse: []SparseSpec{{Name: ""}}, Capacity: 10})
	f(&Options{Sparse: []SparseSpec{{Name: "s", FullScanThreshold: -1}}, Capacity: 10})
	f(&Options{Vectors: []VectorSpec{spec}})
	f(&Options{Vectors: []VectorSpec{spec}, Capacity: -1})
	f(&Options{Vectors: []VectorSpec{spec}, Capacity: math.MaxUint32})
	f(&Options{Vectors: []VectorSpec{spec, spec}, Capacity: 10})
	f(&Options{Vectors: []VectorSpec{{Dim: 0, Metric: distance.Dot}}, Capacity: 10})
	f(&Options{Vectors: []VectorSpec{{Dim: 4}}, Capacity: 10})
	f(&Options{Vectors: []VectorSpec{{Dim: 4, Metric: distance.Dot, HNSW: hnsw.Config{M: 1}}}, Capacity: 10})
	f(&Options{Vectors: []VectorSpec{{Dim: 4, Metric: distance.Dot, FullScanThreshold: -1}}, Capacity: 10})

	s := newTestSegment(t, &Options{Vectors: []VectorSpec{spec, {Name: "b", Dim: 1000, Metric: distance.Cosine}}, Capacity: 10})
	specs := s.Specs()
	require.Len(t, specs, 2)
	require.Equal(t, 10000*1024/16, specs[0].FullScanThreshold)
	require.Equal(t, 10000*1024/4000, specs[1].FullScanThreshold)
	require.Equal(t, 16, specs[0].HNSW.M)
	require.Equal(t, 100, specs[0].HNSW.EfConstruct)
	require.Equal(t, 10, s.Capacity())
	require.False(t, s.Sealed())
}

func TestAppendErrors(t *testing.T) {
	s := newTestSegment(t, &Options{Vectors: twoSpaces(), Capacity: 3})
	good := func(id uint64) *Point {
		return &Point{ID: filter.NumID(id), Version: id, Vectors: map[string][]float32{
			"img": make([]float32, 16), "txt": {1, 2, 3, 4, 5, 6},
		}}
	}
	bad := func(name string, v []float32) *Point {
		p := good(99)
		p.Vectors[name] = v
		return p
	}
	unchanged := func() {
		t.Helper()
		require.Equal(t, 0, s.Len())
		require.Equal(t, 0, s.Live())
		_, ok := s.Lookup(filter.NumID(99))
		require.False(t, ok)
		require.NoError(t, s.CheckInvariants())
	}

	_, err := s.Append(bad("audio", []float32{1}))
	require.ErrorIs(t, err, ErrUnknownVector)
	require.ErrorContains(t, err, `"audio"`)
	unchanged()
	_, err = s.Append(bad("txt", []float32{1, 2}))
	require.ErrorIs(t, err, ErrDimMismatch)
	require.ErrorContains(t, err, `"txt"`)
	unchanged()
	_, err = s.Append(bad("img", make([]float32, 17)))
	require.ErrorIs(t, err, ErrDimMismatch)
	require.ErrorContains(t, err, `"img"`)
	unchanged()
	_, err = s.Append(bad("txt", []float32{1, 2, float32(math.NaN()), 4, 5, 6}))
	require.ErrorIs(t, err, distance.ErrNotFinite)
	require.ErrorContains(t, err, `"txt"`)
	unchanged()
	p := good(99)
	p.Payload = payload.IntValue(1)
	_, err = s.Append(p)
	require.Error(t, err)
	unchanged()

	// A point whose img vector was valid but whose txt vector was not left
	// nothing behind: the next point, lacking img, does not inherit it.
	p = good(1)
	delete(p.Vectors, "img")
	off, err := s.Append(p)
	require.NoError(t, err)
	require.Equal(t, uint32(0), off)
	_, ok := s.Vector("img", 0)
	require.False(t, ok)
	v, ok := s.Vector("txt", 0)
	require.True(t, ok)
	require.InDelta(t, 1, distance.DotProduct(v, v), 1e-6, "Cosine vectors are stored normalised")

	for id := uint64(2); id <= 3; id++ {
		_, err = s.Append(good(id))
		require.NoError(t, err)
	}
	_, err = s.Append(good(4))
	require.ErrorIs(t, err, ErrFull)
	require.Equal(t, 3, s.Len())
	_, ok = s.Lookup(filter.NumID(4))
	require.False(t, ok)

	s2 := newTestSegment(t, &Options{Vectors: twoSpaces(), Capacity: 10})
	_, err = s2.Append(good(1))
	require.NoError(t, err)
	s2.Seal()
	s2.Seal()
	require.True(t, s2.Sealed())
	_, err = s2.Append(good(2))
	require.ErrorIs(t, err, ErrSealed)
	require.Equal(t, 1, s2.Len())
	require.True(t, s2.Delete(0), "Delete is allowed on sealed segments")
	require.False(t, s2.Delete(0))
	require.False(t, s2.Delete(5))
	require.Equal(t, 0, s2.Live())
}

func TestSearchErrors(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: twoSpaces(), Capacity: 100})
	fx.append(t, 50)
	q := fx.vector("img")
	_, err := fx.s.Search(t.Context(), "img", q[:3], 3, nil)
	require.ErrorIs(t, err, ErrDimMismatch)
	_, err = fx.s.Search(t.Context(), "img", q, 0, nil)
	require.Error(t, err)
	_, err = fx.s.Search(t.Context(), "nope", q, 3, nil)
	require.ErrorIs(t, err, ErrUnknownVector)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = fx.s.Search(ctx, "img", q, 3, nil)
	require.ErrorIs(t, err, context.Canceled)
	_, err = fx.s.WriteGraph("nope", &bytes.Buffer{})
	require.ErrorIs(t, err, ErrUnknownVector)
}

// TestNamedVectors searches two spaces of different dimensions and metrics
// whose points may lack either vector.
func TestNamedVectors(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: twoSpaces(), Capacity: 3000})
	fx.indexFields(t)
	fx.append(t, 2000)
	lacking := 0
	for _, sl := range fx.m.slots {
		lacking += 2 - len(sl.vecs)
	}
	require.Greater(t, lacking, 300, "the fixture leaves vectors out")

	hasImg := mustFilter(t, `{"must":[{"has_vector":"img"}]}`)
	fx.checkState(t, hasImg, mustFilter(t, `{"must_not":[{"has_vector":"txt"}]}`))
	for _, name := range []string{"img", "txt"} {
		fx.checkExact(t, name, 10, nil)
		fx.checkExact(t, name, 10, rndBelow(t, 300))
	}
	n, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	require.Equal(t, 2000, n)
	require.Equal(t, 2000, fx.s.Indexed())
	fx.append(t, 100) // a tail the graphs do not cover
	for _, name := range []string{"img", "txt"} {
		fx.checkExact(t, name, 10, nil)
		r := fx.recall(t, name, 30, nil, 64, nil)
		require.GreaterOrEqual(t, r, 0.95, "space %q", name)
		r = fx.recall(t, name, 30, rndBelow(t, 500), 64, nil)
		require.GreaterOrEqual(t, r, 0.95, "space %q, filtered", name)
	}
}

// TestDeleteOracle deletes before and after the build and in the unindexed
// tail, then compares searches, counts, matches and lookups with brute
// force over the live points.
func TestDeleteOracle(t *testing.T) {
	for _, c := range []struct{ indexed, onDisk bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		indexed := c.indexed
		t.Run(fmt.Sprintf("indexed=%v/payloads_on_disk=%v", indexed, c.onDisk), func(t *testing.T) {
			fx := newFixtureWith(t, &Options{Vectors: []VectorSpec{{Dim: 12, Metric: distance.Euclid, HNSW: hnsw.Config{Seed: 3}, FullScanThreshold: 40}}, Capacity: 4000}, c.onDisk || payloadsOnDisk)
			if indexed {
				fx.indexFields(t)
			}
			fx.append(t, 2500)
			fx.deleteRandom(t, 0, 2500, 0.1) // before the build: never in the graph
			_, err := fx.s.BuildGraph(t.Context(), 2)
			require.NoError(t, err)
			fx.deleteRandom(t, 0, 2500, 0.2) // tombstones
			fx.append(t, 300)
			fx.deleteRandom(t, 2500, 2800, 0.3) // in the tail
			if !indexed {
				// An index created now covers the live points only.
				fx.indexFields(t)
				require.True(t, fx.s.DeleteFieldIndex("class"))
				require.False(t, fx.s.DeleteFieldIndex("class"))
			}

			filters := []*filter.Filter{
				rndBelow(t, 10), rndBelow(t, 100), rndBelow(t, 700),
				mustFilter(t, `{"must":[{"key":"tag","match":{"value":"red"}}]}`),
				mustFilter(t, `{"must_not":[{"key":"class","match":{"value":3}}]}`),
				mustFilter(t, `{"should":[{"key":"class","match":{"value":1}},{"key":"rnd","range":{"gte":950}}]}`),
			}
			fx.checkState(t, filters...)
			for _, f := range append([]*filter.Filter{nil}, filters...) {
				fx.checkExact(t, "", 5, f)
				plans := map[string]int{}
				r := fx.recall(t, "", 30, f, 64, plans)
				t.Logf("filter %v: recall@10 %.4f plans %v", fstr{f}, r, plans)
				require.GreaterOrEqual(t, r, 0.95, "filter %v", fstr{f})
			}

			// Deleting everything leaves nothing to find.
			for off := range fx.m.slots {
				if fx.m.slots[off].live {
					fx.delete(t, uint32(off))
				}
			}
			hits, err := fx.s.Search(t.Context(), "", fx.vector(""), 10, nil)
			require.NoError(t, err)
			require.Empty(t, hits)
			fx.checkState(t, filters[1])
			if fx.src != nil {
				// Unindexed filters were evaluated on payloads read
				// from the source, and the segment kept none.
				require.Positive(t, fx.src.reads)
				require.Zero(t, fx.s.Memory().Payloads)
			}
		})
	}
}

// TestReplaceVersion follows the engine's upsert: the new version is
// appended and the old one deleted, in either order.
func TestReplaceVersion(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: twoSpaces(), Capacity: 100})
	fx.append(t, 10)
	id := fx.m.slots[4].id
	p := fx.point()
	p.ID = id
	off, err := fx.s.Append(p)
	require.NoError(t, err)
	require.Equal(t, fx.m.append(p), off)
	got, ok := fx.s.Lookup(id)
	require.True(t, ok)
	require.Equal(t, off, got)
	fx.delete(t, 4)
	got, ok = fx.s.Lookup(id)
	require.True(t, ok, "deleting the old slot keeps the new one")
	require.Equal(t, off, got)

	id = fx.m.slots[5].id
	fx.delete(t, 5)
	p = fx.point()
	p.ID = id
	off, err = fx.s.Append(p)
	require.NoError(t, err)
	require.Equal(t, fx.m.append(p), off)
	fx.checkState(t, mustFilter(t, fmt.Sprintf(`{"must":[{"has_id":[%s]}]}`, id.AppendJSON(nil))))
}

// TestHasIDHasVector compares has_id and has_vector filters, resolved
// through the segment, with plain evaluation.
func TestHasIDHasVector(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: twoSpaces(), Capacity: 1000})
	fx.indexFields(t)
	fx.append(t, 600)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	fx.deleteRandom(t, 0, 600, 0.25)
	fx.append(t, 50)

	var ids []string
	for i := 0; i < len(fx.m.slots); i += 7 {
		ids = append(ids, string(fx.m.slots[i].id.AppendJSON(nil)))
	}
	ids = append(ids, "123456789", `"00000000-0000-0000-0000-000000000000"`) // absent
	idList := "[" + joinStrings(ids, ",") + "]"
	filters := []*filter.Filter{
		mustFilter(t, `{"must":[{"has_id":`+idList+`}]}`),
		mustFilter(t, `{"must_not":[{"has_id":`+idList+`}]}`),
		mustFilter(t, `{"must":[{"has_id":`+idList+`},{"key":"tag","match":{"value":"blue"}}]}`),
		mustFilter(t, `{"should":[{"has_id":`+idList+`},{"has_vector":"txt"}]}`),
		mustFilter(t, `{"must":[{"has_vector":"img"}]}`),
		mustFilter(t, `{"must":[{"has_vector":"txt"}],"must_not":[{"has_vector":"img"}]}`),
		mustFilter(t, `{"must":[{"has_vector":"audio"}]}`),
		mustFilter(t, `{"must_not":[{"has_vector":"audio"}]}`),
	}
	fx.checkState(t, filters...)
	for _, f := range filters {
		for _, name := range []string{"img", "txt"} {
			fx.checkExact(t, name, 3, f)
			r := fx.recall(t, name, 10, f, 64, nil)
			require.GreaterOrEqual(t, r, 0.95, "space %q filter %v", name, fstr{f})
		}
	}
}

func joinStrings(ss []string, sep string) string {
	var b []byte
	for i, s := range ss {
		if i > 0 {
			b = append(b, sep...)
		}
		b = append(b, s...)
	}
	return string(b)
}

func TestFilteredSearchRecall(t *testing.T) {
	for _, indexed := range []bool{true, false} {
		fx := newFixture(t, &Options{Vectors: []VectorSpec{{Dim: 16, Metric: distance.Euclid, HNSW: hnsw.Config{Seed: 1}, FullScanThreshold: 80}}, Capacity: 4000})
		if indexed {
			fx.indexFields(t)
		}
		fx.append(t, 4000)
		_, err := fx.s.BuildGraph(t.Context(), 0)
		require.NoError(t, err)
		fx.deleteRandom(t, 0, 4000, 0.1)
		for _, sel := range []int{1, 10, 100, 500, 900} {
			plans := map[string]int{}
			r := fx.recall(t, "", 40, rndBelow(t, sel), 64, plans)
			t.Logf("indexed=%v selectivity=%.3f recall@10=%.4f plans=%v", indexed, float64(sel)/1000, r, plans)
			require.GreaterOrEqual(t, r, 0.95, "indexed=%v selectivity %d/1000", indexed, sel)
		}
	}
}

// TestUnfilteredRecall compares graph searches with brute force.
func TestUnfilteredRecall(t *testing.T) {
	for _, metric := range []distance.Metric{distance.Euclid, distance.Cosine, distance.Dot, distance.Manhattan} {
		fx := newFixture(t, &Options{Vectors: []VectorSpec{{Dim: 24, Metric: metric, HNSW: hnsw.Config{Seed: 5}}}, Capacity: 3000})
		fx.append(t, 3000)
		_, err := fx.s.BuildGraph(t.Context(), 0)
		require.NoError(t, err)
		plans := map[string]int{}
		r := fx.recall(t, "", 200, nil, 64, plans)
		t.Logf("%v: recall@10 %.4f plans %v", metric, r, plans)
		require.GreaterOrEqual(t, r, 0.95, "%v", metric)
		require.Equal(t, map[string]int{PlanGraph: 200}, plans)
	}
}

// blockingHook makes BuildGraph wait, between batches, until release is
// closed; entered is closed at the first wait.
func blockingHook(s *Segment) (entered, release chan struct{}) {
	entered, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.buildHook = func() {
		once.Do(func() { close(entered) })
		<-release
	}
	return entered, release
}

// within fails the test unless fn returns within d.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not complete within %v", what, d)
	}
}

// TestAppendDuringBuild holds a build in progress and requires appends,
// searches, deletes and reads to complete meanwhile.
func TestAppendDuringBuild(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: twoSpaces(), Capacity: 4000})
	fx.indexFields(t)
	fx.append(t, 3000)
	entered, release := blockingHook(fx.s)
	type result struct {
		n   int
		err error
	}
	built := make(chan result, 1)
	go func() {
		n, err := fx.s.BuildGraph(context.Background(), 2)
		built <- result{n, err}
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("BuildGraph did not start")
	}

	f := rndBelow(t, 300)
	within(t, 10*time.Second, "Append during BuildGraph", func() { fx.append(t, 20) })
	within(t, 10*time.Second, "Delete during BuildGraph", func() {
		fx.delete(t, 7)
		fx.delete(t, 3005)
	})
	within(t, 10*time.Second, "reads during BuildGraph", func() {
		fx.checkExact(t, "img", 3, nil)
		fx.checkExact(t, "txt", 3, f)
		require.GreaterOrEqual(t, fx.recall(t, "img", 5, nil, 64, nil), 0.9)
		require.Equal(t, len(fx.m.match(f)), mustOK(fx.s.Count(f)))
	})
	select {
	case r := <-built:
		t.Fatalf("BuildGraph finished while held: %+v", r)
	default:
	}
	close(release)
	var r result
	within(t, 60*time.Second, "BuildGraph", func() { r = <-built })
	require.NoError(t, r.err)
	require.Equal(t, 3000, r.n)
	fx.s.buildHook = nil
	n, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	require.Equal(t, 20, n)
	fx.checkState(t, f)
	require.GreaterOrEqual(t, fx.recall(t, "img", 30, nil, 64, nil), 0.95)
}

// TestConcurrentAppendBuildSearch runs appends, builds, deletes and
// searches at once (a race test), then compares the final state with a
// model assembled from what each writer did.
func TestConcurrentAppendBuildSearch(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: twoSpaces(), Capacity: 3000})
	fx.indexFields(t)
	fx.append(t, 1500)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	points := make([]*Point, 600)
	for i := range points {
		points[i] = fx.point()
	}
	queries := make([][]float32, 40)
	for i := range queries {
		queries[i] = fx.vector("img")
	}
	f := rndBelow(t, 300)
	s := fx.s

	var (
		wg        sync.WaitGroup
		appending atomic.Bool
		deleted   sync.Map // slot -> true
	)
	appending.Store(true)
	within(t, 120*time.Second, "concurrent workload", func() {
		wg.Go(func() {
			defer appending.Store(false)
			for i, p := range points {
				if _, err := s.Append(p); err != nil {
					t.Error(err)
					return
				}
				if i%150 == 149 {
					if _, err := s.BuildGraph(context.Background(), 2); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
		wg.Go(func() {
			for i := uint32(0); appending.Load(); i += 13 {
				off := (i * 7919) % uint32(s.Len())
				if s.Delete(off) {
					deleted.Store(off, true)
				}
				time.Sleep(100 * time.Microsecond)
			}
		})
		for w := range 2 {
			wg.Go(func() {
				for i := 0; appending.Load() || i < 50; i++ {
					o := &SearchOptions{Ef: 32}
					if (i+w)%2 == 0 {
						o.Filter = f
					}
					hits, err := s.Search(context.Background(), "img", queries[(i+w)%len(queries)], 5, o)
					if err != nil {
						t.Error(err)
						return
					}
					seen := map[uint32]bool{}
					for _, h := range hits {
						if seen[h.Off] {
							t.Errorf("hit %d twice", h.Off)
						}
						seen[h.Off] = true
						if _, ok := s.Vector("img", h.Off); !ok {
							t.Errorf("hit %d lacks the vector", h.Off)
						}
						if o.Filter != nil && !o.Filter.Matches(segPoint{s, h.Off}) {
							t.Errorf("hit %d does not match", h.Off)
						}
					}
				}
			})
		}
		wg.Wait()
	})
	if t.Failed() {
		return
	}
	for _, p := range points {
		fx.m.append(p)
	}
	deleted.Range(func(k, _ any) bool {
		fx.m.slots[k.(uint32)].live = false
		return true
	})
	require.Equal(t, 2100, s.Len())
	_, err = s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	fx.checkState(t, f)
	fx.checkExact(t, "txt", 5, f)
	require.GreaterOrEqual(t, fx.recall(t, "img", 30, f, 64, nil), 0.95)
}

// segPoint is a slot seen through the segment's exported accessors.
type segPoint struct {
	s   *Segment
	off uint32
}

func (p segPoint) ID() filter.PointID         { id, _ := p.s.PointAt(p.off); return id }
func (p segPoint) Payload() payload.Value     { return mustOK(p.s.Payload(p.off)) }
func (p segPoint) HasVector(name string) bool { _, ok := p.s.Vector(name, p.off); return ok }

// TestBuildGraphCancel cancels a build part way and requires a searchable
// segment whose next build completes.
func TestBuildGraphCancel(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: []VectorSpec{{Dim: 16, Metric: distance.Cosine, HNSW: hnsw.Config{Seed: 9}}}, Capacity: 6000})
	fx.indexFields(t)
	fx.append(t, 5000)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n, err := fx.s.BuildGraph(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
	require.Zero(t, n)
	require.Zero(t, fx.s.Indexed())

	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	var calls atomic.Int32
	fx.s.buildHook = func() {
		if calls.Add(1) == 3 {
			cancel()
		}
	}
	n, err = fx.s.BuildGraph(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 3*buildBatch, n, "the batches claimed before the cancellation are finished")
	require.Equal(t, n, fx.s.Indexed())
	require.NoError(t, fx.s.CheckInvariants())

	f := rndBelow(t, 200)
	fx.append(t, 100)
	fx.deleteRandom(t, 0, 5100, 0.1)
	fx.checkExact(t, "", 5, nil)
	fx.checkExact(t, "", 5, f)
	require.GreaterOrEqual(t, fx.recall(t, "", 20, nil, 64, nil), 0.95)
	require.GreaterOrEqual(t, fx.recall(t, "", 20, f, 64, nil), 0.95)

	fx.s.buildHook = nil
	before := fx.s.Indexed()
	n, err = fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	require.Equal(t, 5100-before, n)
	require.Equal(t, 5100, fx.s.Indexed())
	require.False(t, fx.s.spaces[0].dirty.Load())
	require.GreaterOrEqual(t, fx.recall(t, "", 30, nil, 64, nil), 0.95)
	require.GreaterOrEqual(t, fx.recall(t, "", 30, f, 64, nil), 0.95)
	n, err = fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestPersistenceRoundTrip writes a segment's graphs, loads the segment
// from its slots (deleted ones masked) and graphs, and requires identical
// results.
func TestPersistenceRoundTrip(t *testing.T) {
	specs := twoSpaces()
	specs[0].FullScanThreshold = 30
	fx := newFixture(t, &Options{Vectors: specs, Capacity: 3000})
	fx.indexFields(t)
	fx.append(t, 2000)
	fx.deleteRandom(t, 0, 2000, 0.05) // not in the graphs
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	fx.deleteRandom(t, 0, 2000, 0.15) // tombstones
	fx.append(t, 60)                  // not indexed
	fx.deleteRandom(t, 2000, 2060, 0.2)
	orig := fx.s
	orig.Seal()

	graphs := map[string][]byte{}
	for _, sp := range specs {
		var buf bytes.Buffer
		n, err := orig.WriteGraph(sp.Name, &buf)
		require.NoError(t, err)
		require.Equal(t, int64(buf.Len()), n)
		graphs[sp.Name] = buf.Bytes()
	}

	// inGraph reports whether a slot is a node (live or tombstone) of some
	// graph, read from the serialised graphs' state bytes.
	inGraph := func(off uint32) bool {
		for _, b := range graphs {
			slots := binary.LittleEndian.Uint32(b[hnswSlotsOffset:])
			if off < slots && b[hnswSlotsOffset+12+int(off)] != 0 {
				return true
			}
		}
		return false
	}
	load := func(t *testing.T) *Segment {
		ids := make([]filter.PointID, orig.Len())
		versions := make([]uint64, orig.Len())
		for off := range ids {
			ids[off], versions[off] = orig.PointAt(uint32(off))
		}
		s, err := NewLoading(&Options{Vectors: specs}, ids, versions)
		require.NoError(t, err)
		checkAtCleanup(t, s)
		_, err = s.Append(fx.point())
		require.ErrorIs(t, err, ErrSealed, "a loading segment takes no appends")
		for off := range ids {
			o := uint32(off)
			live := orig.IsLive(o)
			vecs := map[string][]float32{}
			for _, sp := range specs {
				if v, ok := orig.Vector(sp.Name, o); ok {
					vecs[sp.Name] = slices.Clone(v)
				}
			}
			if !live && !inGraph(o) {
				// Deleted before the build: no graph holds it, so its
				// vectors are not needed.
				vecs = nil
			}
			require.NoError(t, s.Fill(o, vecs, nil, mustOK(orig.Payload(o)), live))
		}
		require.Error(t, s.Fill(0, nil, nil, payload.Value{}, false), "a slot is filled once")
		require.Error(t, s.Fill(uint32(len(ids)), nil, nil, payload.Value{}, false))
		for _, sp := range specs {
			require.NoError(t, s.LoadGraph(sp.Name, bytes.NewReader(graphs[sp.Name])))
		}
		s.Seal()
		require.ErrorIs(t, s.Fill(1, nil, nil, payload.Value{}, false), ErrSealed)
		require.ErrorIs(t, s.LoadGraph("img", bytes.NewReader(graphs["img"])), ErrSealed)
		require.NoError(t, s.CreateFieldIndex("rnd", payload.IndexParams{Type: payload.TypeInteger}))
		require.NoError(t, s.CreateFieldIndex("class", payload.IndexParams{Type: payload.TypeInteger}))
		require.NoError(t, s.CreateFieldIndex("tag", payload.IndexParams{Type: payload.TypeKeyword}))
		return s
	}
	loaded := load(t)
	require.NoError(t, loaded.CheckInvariants())
	require.GreaterOrEqual(t, loaded.Indexed(), orig.Indexed())
	require.Less(t, loaded.Indexed(), loaded.Len(), "the tail is not indexed")
	require.Equal(t, orig.Live(), loaded.Live())

	filters := []*filter.Filter{nil, rndBelow(t, 5), rndBelow(t, 100), rndBelow(t, 600),
		mustFilter(t, `{"must":[{"key":"tag","match":{"value":"green"}}]}`),
		mustFilter(t, `{"must":[{"has_vector":"txt"}]}`)}
	for _, f := range filters {
		require.Equal(t, mustOK(orig.Count(f)), mustOK(loaded.Count(f)))
		for _, sp := range specs {
			for range 10 {
				q := fx.vector(sp.Name)
				for _, exact := range []bool{false, true} {
					var st1, st2 SearchStats
					want, err := orig.Search(t.Context(), sp.Name, q, 10, &SearchOptions{Filter: f, Exact: exact, Ef: 40, Stats: &st1})
					require.NoError(t, err)
					got, err := loaded.Search(t.Context(), sp.Name, q, 10, &SearchOptions{Filter: f, Exact: exact, Ef: 40, Stats: &st2})
					require.NoError(t, err)
					require.Equal(t, want, got, "space %q filter %v exact %v", sp.Name, fstr{f}, exact)
					require.Equal(t, st1, st2)
				}
			}
		}
	}
	fx.s = loaded
	fx.checkState(t, filters[1:]...)

	// The loaded segment goes on: deletes, and a build of the tail.
	fx.delete(t, 2001)
	fx.delete(t, 3)
	before := loaded.Indexed()
	n, err := loaded.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	require.Equal(t, loaded.Len()-before, n)
	require.GreaterOrEqual(t, fx.recall(t, "img", 20, nil, 64, nil), 0.95)

	// Bad graphs.
	s, err := NewLoading(&Options{Vectors: specs}, make([]filter.PointID, 10), make([]uint64, 10))
	require.NoError(t, err)
	checkAtCleanup(t, s)
	bad := slices.Clone(graphs["img"])
	bad[len(bad)/2] ^= 1
	require.ErrorIs(t, s.LoadGraph("img", bytes.NewReader(bad)), hnsw.ErrCorrupt)
	require.ErrorIs(t, s.LoadGraph("img", bytes.NewReader(graphs["img"])), hnsw.ErrCorrupt, "graph larger than the segment")
	require.ErrorIs(t, s.LoadGraph("nope", bytes.NewReader(graphs["img"])), ErrUnknownVector)
	s.Seal()
	_, err = NewLoading(&Options{Vectors: specs, Capacity: 5}, make([]filter.PointID, 10), make([]uint64, 10))
	require.ErrorIs(t, err, ErrBadOptions)
	_, err = NewLoading(&Options{Vectors: specs}, make([]filter.PointID, 10), make([]uint64, 9))
	require.ErrorIs(t, err, ErrBadOptions)
}

func TestMemoryBytes(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: twoSpaces(), Capacity: 100000})
	empty := fx.s.MemoryBytes()
	require.Less(t, empty, int64(1<<20), "unused capacity is not counted")
	fx.indexFields(t)
	fx.append(t, 1000)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	require.Greater(t, fx.s.MemoryBytes(), empty+1000*(16+6)*4)
}

func TestUnfilteredSearchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	fx := newFixture(t, &Options{Vectors: []VectorSpec{{Dim: 16, Metric: distance.Euclid}}, Capacity: 2000})
	fx.append(t, 2000)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	q := fx.vector("")
	ctx := t.Context()
	search := func() {
		if _, err := fx.s.Search(ctx, "", q, 10, nil); err != nil {
			t.Fatal(err)
		}
	}
	search()
	require.LessOrEqual(t, testing.AllocsPerRun(100, search), 1.0, "only the result slice")
	fx.deleteRandom(t, 0, 2000, 0.1)
	search()
	require.LessOrEqual(t, testing.AllocsPerRun(100, search), 1.0, "with tombstones too")
}

// TestAppendSearch checks that AppendSearch appends Search's hits after
// what dst holds, allocating nothing once dst has room, and that on error
// it returns dst as it was.
func TestAppendSearch(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: []VectorSpec{{Dim: 16, Metric: distance.Euclid}}, Capacity: 500})
	fx.append(t, 500)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	ctx := t.Context()
	q := fx.vector("")
	want, err := fx.s.Search(ctx, "", q, 10, nil)
	require.NoError(t, err)
	require.Len(t, want, 10)
	first := Hit{Off: 12345, Score: -1}
	dst := make([]Hit, 1, 32)
	dst[0] = first
	got, err := fx.s.AppendSearch(ctx, dst, "", q, 10, &SearchOptions{Checked: true})
	require.NoError(t, err)
	require.Equal(t, append([]Hit{first}, want...), got)
	if !raceEnabled {
		allocs := testing.AllocsPerRun(100, func() { got, _ = fx.s.AppendSearch(ctx, dst[:0], "", q, 10, nil) })
		require.Zero(t, allocs)
	}
	dst[0] = first
	got, err = fx.s.AppendSearch(ctx, dst[:1], "", q[:3], 10, nil)
	require.ErrorIs(t, err, ErrDimMismatch)
	require.Equal(t, []Hit{first}, got)
}

func BenchmarkSearch(b *testing.B) {
	for _, del := range []float64{0, 0.1} {
		b.Run(fmt.Sprintf("dim=64/n=20k/deleted=%v", del), func(b *testing.B) {
			fx := newFixture(b, &Options{Vectors: []VectorSpec{{Dim: 64, Metric: distance.Euclid, HNSW: hnsw.Config{Seed: 1}}}, Capacity: 20000})
			fx.append(b, 20000)
			if _, err := fx.s.BuildGraph(context.Background(), 0); err != nil {
				b.Fatal(err)
			}
			fx.deleteRandom(b, 0, 20000, del)
			qs := make([][]float32, 40)
			for i := range qs {
				qs[i] = fx.vector("")
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(64 * 4)
			b.ResetTimer()
			start := cputime.Now()
			for i := 0; b.Loop(); i++ {
				if _, err := fx.s.Search(ctx, "", qs[i%len(qs)], 10, &SearchOptions{Ef: 64}); err != nil {
					b.Fatal(err)
				}
			}
			cputime.Report(b, cputime.Now()-start)
		})
	}
}
