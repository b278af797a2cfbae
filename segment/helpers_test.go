package segment

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
)

// newTestSegment returns a segment that checks its invariants at cleanup.
func newTestSegment(t testing.TB, opts *Options) *Segment {
	t.Helper()
	s, err := New(opts)
	require.NoError(t, err)
	checkAtCleanup(t, s)
	return s
}

func checkAtCleanup(t testing.TB, s *Segment) {
	t.Cleanup(func() {
		if err := s.CheckInvariants(); err != nil {
			t.Errorf("CheckInvariants: %v", err)
		}
	})
}

// twoSpaces are two vector spaces of different dimensions and metrics.
func twoSpaces() []VectorSpec {
	return []VectorSpec{
		{Name: "img", Dim: 16, Metric: distance.Euclid, HNSW: hnsw.Config{Seed: 1}},
		{Name: "txt", Dim: 6, Metric: distance.Cosine, HNSW: hnsw.Config{Seed: 2, M: 8}},
	}
}

// model is the oracle: every slot as the test wrote it, searched by brute
// force and filtered by plain evaluation.
type model struct {
	specs map[string]VectorSpec
	slots []modelSlot
}

type modelSlot struct {
	id      filter.PointID
	version uint64
	vecs    map[string][]float32 // preprocessed
	payload payload.Value
	live    bool
}

func newModel(specs []VectorSpec) *model {
	m := &model{specs: map[string]VectorSpec{}}
	for _, sp := range specs {
		m.specs[sp.Name] = sp
	}
	return m
}

func (m *model) append(p *Point) uint32 {
	sl := modelSlot{id: p.ID, version: p.Version, vecs: map[string][]float32{}, payload: p.Payload, live: true}
	for name, v := range p.Vectors {
		sl.vecs[name] = m.specs[name].Metric.Preprocess(nil, v)
	}
	m.slots = append(m.slots, sl)
	return uint32(len(m.slots) - 1)
}

type modelPoint struct {
	m   *model
	off uint32
}

func (p modelPoint) ID() filter.PointID     { return p.m.slots[p.off].id }
func (p modelPoint) Payload() payload.Value { return p.m.slots[p.off].payload }
func (p modelPoint) HasVector(name string) bool {
	_, ok := p.m.slots[p.off].vecs[name]
	return ok
}

func (m *model) matches(f *filter.Filter, off uint32) bool {
	return m.slots[off].live && (f == nil || f.Matches(modelPoint{m, off}))
}

// search returns the k best live slots with vector name matching f.
func (m *model) search(name string, q []float32, k int, f *filter.Filter) []Hit {
	spec := m.specs[name]
	q = spec.Metric.PreprocessQuery(nil, q)
	type cand struct {
		d   float32
		off uint32
	}
	var all []cand
	for off, sl := range m.slots {
		v, ok := sl.vecs[name]
		if !ok || !m.matches(f, uint32(off)) {
			continue
		}
		all = append(all, cand{spec.Metric.Distance(q, v), uint32(off)})
	}
	slices.SortFunc(all, func(a, b cand) int {
		if c := cmp.Compare(a.d, b.d); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off)
	})
	out := []Hit{}
	for _, c := range all[:min(k, len(all))] {
		sl := m.slots[c.off]
		out = append(out, Hit{Off: c.off, ID: sl.id, Version: sl.version, Score: spec.Metric.Score(c.d)})
	}
	return out
}

func (m *model) match(f *filter.Filter) []uint32 {
	out := []uint32{}
	for off := range m.slots {
		if m.matches(f, uint32(off)) {
			out = append(out, uint32(off))
		}
	}
	return out
}

func (m *model) lookup(id filter.PointID) (uint32, bool) {
	for off := len(m.slots) - 1; off >= 0; off-- {
		if sl := m.slots[off]; sl.live && sl.id == id {
			return uint32(off), true
		}
	}
	return 0, false
}

// fixture generates clustered points and appends them to a segment and its
// model in step.
type fixture struct {
	s       *Segment
	m       *model
	rng     *rand.Rand
	centres map[string][][]float32
	next    uint64 // next point id
	// src is the segment's PayloadSource, nil when payloads are in memory.
	src *mapSource
	// lack is the probability that a point lacks each vector (when the
	// segment has several).
	lack float64
}

// payloadsOnDisk makes every fixture read payloads from a PayloadSource:
// QLITE_PAYLOAD_SOURCE=1 runs the package's fixture tests that way.
var payloadsOnDisk = os.Getenv("QLITE_PAYLOAD_SOURCE") == "1"

// mapSource is a PayloadSource over the versions the fixture generated
// (each fixture point has its own version, whatever id a test gives it),
// counting its reads.
type mapSource struct {
	mu      sync.Mutex
	m       map[uint64]payload.Value
	reads   int   // payloads read
	batches int   // LoadPayloads calls
	fail    error // returned by every read when set
}

func (s *mapSource) put(ver uint64, p payload.Value) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[ver] = p
}

func (s *mapSource) LoadPayload(_ filter.PointID, ver uint64) (payload.Value, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fail != nil {
		return payload.Value{}, false, s.fail
	}
	p, ok := s.m[ver]
	return p, ok, nil
}

// LoadPayloads gives, as the engine's source does, only the top-level
// fields named in keys, so that a filter reading any other would fail the
// tests that use the source.
func (s *mapSource) LoadPayloads(refs []PayloadRef, keys []string, dst []payload.Value) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches++
	if s.fail != nil {
		return s.fail
	}
	for i, r := range refs {
		s.reads++
		p := s.m[r.Version]
		if keys != nil && p.Kind() == payload.Object {
			var fs []payload.Field
			for _, f := range p.Fields() {
				if slices.Contains(keys, f.Key) {
					fs = append(fs, f)
				}
			}
			p = payload.ObjectValue(fs...)
		}
		dst[i] = p
	}
	return nil
}

func newFixture(t testing.TB, opts *Options) *fixture {
	t.Helper()
	return newFixtureWith(t, opts, payloadsOnDisk)
}

// newFixtureWith is newFixture, with payloads read from a PayloadSource
// when onDisk.
func newFixtureWith(t testing.TB, opts *Options, onDisk bool) *fixture {
	t.Helper()
	var src *mapSource
	if onDisk && opts.Payloads == nil {
		src = &mapSource{m: map[uint64]payload.Value{}}
		o := *opts
		o.Payloads = src
		opts = &o
	}
	fx := &fixture{
		src:     src,
		s:       newTestSegment(t, opts),
		m:       newModel(opts.Vectors),
		rng:     rand.New(rand.NewPCG(1, 2)),
		centres: map[string][][]float32{},
	}
	for _, sp := range opts.Vectors {
		cs := make([][]float32, 30)
		for i := range cs {
			cs[i] = make([]float32, sp.Dim)
			for j := range cs[i] {
				cs[i][j] = float32(fx.rng.NormFloat64() * 3)
			}
		}
		fx.centres[sp.Name] = cs
	}
	if len(opts.Vectors) > 1 {
		fx.lack = 0.2
	}
	return fx
}

func (fx *fixture) vector(name string) []float32 {
	cs := fx.centres[name]
	c := cs[fx.rng.IntN(len(cs))]
	v := make([]float32, len(c))
	for j := range v {
		v[j] = c[j] + float32(fx.rng.NormFloat64())
	}
	return v
}

var tags = []string{"red", "green", "blue", "black"}

// point returns a new random point: payload {"rnd": [0, 1000), "class":
// id % 10, "tag": one of tags}; every third id is a UUID.
func (fx *fixture) point() *Point {
	i := fx.next
	fx.next++
	id := filter.NumID(i)
	if i%3 == 2 {
		var u [16]byte
		u[0], u[15] = 0xab, byte(i)
		u[14] = byte(i >> 8)
		id = filter.UUIDID(u)
	}
	p := &Point{ID: id, Version: 1000 + i, Vectors: map[string][]float32{}}
	for _, name := range slices.Sorted(maps.Keys(fx.centres)) {
		if fx.rng.Float64() >= fx.lack {
			p.Vectors[name] = fx.vector(name)
		}
	}
	p.Payload = payload.ObjectValue(
		payload.Field{Key: "rnd", Value: payload.IntValue(int64(fx.rng.IntN(1000)))},
		payload.Field{Key: "class", Value: payload.IntValue(int64(i % 10))},
		payload.Field{Key: "tag", Value: payload.StringValue(tags[fx.rng.IntN(len(tags))])},
	)
	if fx.src != nil {
		fx.src.put(p.Version, p.Payload)
	}
	return p
}

func (fx *fixture) append(t testing.TB, n int) {
	t.Helper()
	for range n {
		p := fx.point()
		off, err := fx.s.Append(p)
		require.NoError(t, err)
		require.Equal(t, fx.m.append(p), off)
	}
}

func (fx *fixture) delete(t testing.TB, off uint32) {
	t.Helper()
	require.Equal(t, fx.m.slots[off].live, fx.s.Delete(off), "delete %d", off)
	fx.m.slots[off].live = false
}

// deleteRandom deletes about frac of the slots in [from, to).
func (fx *fixture) deleteRandom(t testing.TB, from, to int, frac float64) {
	t.Helper()
	for off := from; off < to; off++ {
		if fx.rng.Float64() < frac {
			fx.delete(t, uint32(off))
		}
	}
}

func (fx *fixture) indexFields(t testing.TB) {
	t.Helper()
	require.NoError(t, fx.s.CreateFieldIndex("rnd", payload.IndexParams{Type: payload.TypeInteger}))
	require.NoError(t, fx.s.CreateFieldIndex("class", payload.IndexParams{Type: payload.TypeInteger}))
	require.NoError(t, fx.s.CreateFieldIndex("tag", payload.IndexParams{Type: payload.TypeKeyword}))
}

// fstr shows a filter as JSON in messages.
type fstr struct{ f *filter.Filter }

func (x fstr) String() string {
	if x.f == nil {
		return "none"
	}
	b, err := x.f.MarshalJSON()
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func mustFilter(t testing.TB, js string) *filter.Filter {
	t.Helper()
	f, err := filter.ParseJSON([]byte(js))
	require.NoError(t, err, js)
	return f
}

func rndBelow(t testing.TB, n int) *filter.Filter {
	return mustFilter(t, fmt.Sprintf(`{"must":[{"key":"rnd","range":{"lt":%d}}]}`, n))
}

// checkState compares everything but searches with the model: counts,
// matches, lookups, liveness and slot data.
func (fx *fixture) checkState(t testing.TB, filters ...*filter.Filter) {
	t.Helper()
	s, m := fx.s, fx.m
	require.Equal(t, len(m.slots), s.Len())
	live := 0
	for off, sl := range m.slots {
		o := uint32(off)
		require.Equal(t, sl.live, s.IsLive(o), "slot %d", off)
		id, version := s.PointAt(o)
		require.Equal(t, sl.id, id)
		require.Equal(t, sl.version, version)
		require.Equal(t, sl.payload.String(), mustOK(s.Payload(o)).String())
		for name := range m.specs {
			if !sl.live {
				break // a deleted slot's vectors only serve navigation
			}
			v, ok := s.Vector(name, o)
			want, has := sl.vecs[name]
			require.Equal(t, has, ok, "slot %d vector %q", off, name)
			require.Equal(t, want, v)
		}
		if sl.live {
			live++
		}
		got, ok := s.Lookup(sl.id)
		wantOff, wantOK := m.lookup(sl.id)
		require.Equal(t, wantOK, ok, "lookup %v", sl.id)
		if ok {
			require.Equal(t, wantOff, got, "lookup %v", sl.id)
		}
	}
	require.Equal(t, live, s.Live())
	for _, f := range append([]*filter.Filter{nil}, filters...) {
		want := m.match(f)
		require.Equal(t, len(want), mustOK(s.Count(f)), "count %v", fstr{f})
		got := []uint32{}
		require.NoError(t, s.Match(f, func(off uint32) bool { got = append(got, off); return true }))
		require.Equal(t, want, got, "match %v", fstr{f})
		for off := range m.slots {
			require.Equal(t, m.matches(f, uint32(off)), mustOK(s.Matches(f, uint32(off))), "matches %v slot %d", fstr{f}, off)
		}
		if len(want) > 3 {
			got = got[:0]
			require.NoError(t, s.Match(f, func(off uint32) bool { got = append(got, off); return len(got) < 3 }))
			require.Equal(t, want[:3], got, "match %v, stopped early", fstr{f})
		}
	}
}

// checkExact requires exact searches to equal the model's.
func (fx *fixture) checkExact(t testing.TB, name string, queries int, f *filter.Filter) {
	t.Helper()
	for range queries {
		q := fx.vector(name)
		want := fx.m.search(name, q, 10, f)
		got, err := fx.s.Search(t.Context(), name, q, 10, &SearchOptions{Filter: f, Exact: true})
		require.NoError(t, err)
		require.Equal(t, want, got, "exact search %q filter %v", name, fstr{f})
	}
}

// recall runs queries through the planner and returns recall@10 against
// the model, requiring every hit to be a valid result with the model's
// score and the hits to be distinct and ordered.
func (fx *fixture) recall(t testing.TB, name string, queries int, f *filter.Filter, ef int, plans map[string]int) float64 {
	t.Helper()
	var sum float64
	for range queries {
		q := fx.vector(name)
		want := fx.m.search(name, q, 10, f)
		var st SearchStats
		got, err := fx.s.Search(t.Context(), name, q, 10, &SearchOptions{Filter: f, Ef: ef, Stats: &st})
		require.NoError(t, err)
		if plans != nil {
			plans[st.Plan]++
		}
		wantScore := map[uint32]float32{}
		for _, h := range fx.m.search(name, q, len(fx.m.slots), f) {
			wantScore[h.Off] = h.Score
		}
		seen := map[uint32]bool{}
		hit := 0
		for i, h := range got {
			score, ok := wantScore[h.Off]
			require.True(t, ok, "hit %d (%v) is not a valid result", h.Off, h.ID)
			require.Equal(t, score, h.Score)
			require.False(t, seen[h.Off], "hit %d twice", h.Off)
			seen[h.Off] = true
			require.Equal(t, fx.m.slots[h.Off].id, h.ID)
			require.Equal(t, fx.m.slots[h.Off].version, h.Version)
			if i > 0 {
				if mt := fx.m.specs[name].Metric; mt == distance.Cosine || mt == distance.Dot {
					require.GreaterOrEqual(t, got[i-1].Score, h.Score)
				} else {
					require.LessOrEqual(t, got[i-1].Score, h.Score)
				}
			}
			if slices.ContainsFunc(want, func(w Hit) bool { return w.Off == h.Off }) {
				hit++
			}
		}
		if len(want) == 0 {
			sum++
			continue
		}
		require.Len(t, got, len(want), "search %q filter %v: %d hits, %d results exist", name, fstr{f}, len(got), len(want))
		sum += float64(hit) / float64(len(want))
	}
	return sum / float64(queries)
}

// mustOK returns v, panicking on err: for reads that cannot fail in a test
// (its payload source, if any, injects no fault).
func mustOK[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("segment test: unexpected error: %v", err))
	}
	return v
}
