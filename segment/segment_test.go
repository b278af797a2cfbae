package segment

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
)

// testSegment builds a segment of n clustered points with payload
// {"rnd": i-th random int in [0, 1000), "class": id % 10}.
func testSegment(t testing.TB, n, dim int, indexed bool) (*Segment, [][]float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	centres := make([][]float32, 30)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range centres[i] {
			centres[i][j] = float32(rng.NormFloat64() * 3)
		}
	}
	point := func() []float32 {
		c := centres[rng.IntN(len(centres))]
		v := make([]float32, dim)
		for j := range v {
			v[j] = c[j] + float32(rng.NormFloat64())
		}
		return v
	}
	s, err := New(&Options{Dim: dim, Metric: distance.Euclid, HNSW: hnsw.Config{Seed: 1}, FullScanThreshold: n / 50})
	require.NoError(t, err)
	if indexed {
		require.NoError(t, s.CreateFieldIndex("rnd", payload.IndexParams{Type: payload.TypeInteger}))
		require.NoError(t, s.CreateFieldIndex("class", payload.IndexParams{Type: payload.TypeInteger}))
	}
	for i := range n {
		p := payload.ObjectValue(
			payload.Field{Key: "rnd", Value: payload.IntValue(int64(rng.IntN(1000)))},
			payload.Field{Key: "class", Value: payload.IntValue(int64(i % 10))},
		)
		id, err := s.Append(point(), p)
		require.NoError(t, err)
		require.Equal(t, uint32(i), id)
	}
	require.NoError(t, s.BuildGraph(0))
	qs := make([][]float32, 40)
	for i := range qs {
		qs[i] = point()
	}
	return s, qs
}

// bruteForce returns the k ids closest to q among the points f matches.
func bruteForce(s *Segment, q []float32, k int, f *filter.Filter) []uint32 {
	type pair struct {
		d  float32
		id uint32
	}
	var all []pair
	for id := range uint32(len(s.payloads)) {
		if f == nil || f.Matches(point{s, id}) {
			all = append(all, pair{distance.SquaredL2(q, s.vector(id)), id})
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a].d < all[b].d })
	out := []uint32{}
	for i := 0; i < k && i < len(all); i++ {
		out = append(out, all[i].id)
	}
	return out
}

func TestFilteredSearchRecall(t *testing.T) {
	for _, indexed := range []bool{true, false} {
		s, qs := testSegment(t, 4000, 16, indexed)
		for _, sel := range []int{1, 10, 100, 500, 900} {
			f, err := filter.ParseJSON(fmt.Appendf(nil, `{"must":[{"key":"rnd","range":{"lt":%d}}]}`, sel))
			require.NoError(t, err)
			plans := map[string]int{}
			var sum float64
			for _, q := range qs {
				var st SearchStats
				hits, err := s.Search(q, 10, &SearchOptions{Filter: f, Ef: 64, Stats: &st})
				require.NoError(t, err)
				plans[st.Plan]++
				want := bruteForce(s, q, 10, f)
				require.LessOrEqual(t, len(hits), 10)
				hit := 0
				for i, h := range hits {
					require.True(t, f.Matches(point{s, h.ID}), "hit %d does not match the filter", h.ID)
					if i > 0 {
						require.LessOrEqual(t, hits[i-1].Score, h.Score)
					}
					if slices.Contains(want, h.ID) {
						hit++
					}
				}
				if len(want) > 0 {
					sum += float64(hit) / float64(len(want))
				} else {
					sum++
				}
			}
			r := sum / float64(len(qs))
			t.Logf("indexed=%v selectivity=%.3f recall@10=%.4f plans=%v", indexed, float64(sel)/1000, r, plans)
			require.GreaterOrEqual(t, r, 0.95, "indexed=%v selectivity %d/1000", indexed, sel)
		}
	}
}

func TestSearchUnfilteredAndTail(t *testing.T) {
	s, qs := testSegment(t, 2000, 8, false)
	// Points appended after the build are found by exact scan.
	v := slices.Clone(qs[0])
	id, err := s.Append(v, payload.NullValue())
	require.NoError(t, err)
	hits, err := s.Search(qs[0], 3, nil)
	require.NoError(t, err)
	require.Equal(t, id, hits[0].ID)
	require.Zero(t, hits[0].Score)

	_, err = s.Search(qs[0][:3], 3, nil)
	require.ErrorIs(t, err, distance.ErrDimMismatch)
	_, err = s.Search(qs[0], 0, nil)
	require.Error(t, err)
	_, err = s.Append(qs[0][:2], payload.NullValue())
	require.ErrorIs(t, err, distance.ErrDimMismatch)
	_, err = s.Append(qs[0], payload.IntValue(1))
	require.Error(t, err)
}

func TestConcurrentAppendSearch(t *testing.T) {
	s, qs := testSegment(t, 1500, 8, true)
	f, err := filter.ParseJSON([]byte(`{"must":[{"key":"rnd","range":{"lt":300}}]}`))
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 300 {
			p := payload.ObjectValue(payload.Field{Key: "rnd", Value: payload.IntValue(int64(i % 1000))})
			if _, err := s.Append(qs[i%len(qs)], p); err != nil {
				t.Error(err)
				return
			}
			if i%100 == 99 {
				if err := s.BuildGraph(2); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	for w := range 2 {
		wg.Go(func() {
			for i := range 200 {
				o := &SearchOptions{Ef: 32}
				if (i+w)%2 == 0 {
					o.Filter = f
				}
				hits, err := s.Search(qs[(i+w)%len(qs)], 5, o)
				if err != nil {
					t.Error(err)
					return
				}
				s.mu.RLock()
				for _, h := range hits {
					if o.Filter != nil && !f.Matches(point{s, h.ID}) {
						t.Errorf("hit %d does not match", h.ID)
					}
				}
				s.mu.RUnlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1800, s.Len())
}
