package segment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// TestExactScanBelow checks the exact scans that stop reading a row once
// its partial distance reaches the k-th best (scoreBelow) against the
// same scans scoring every row in full: the same hits in the same order,
// ties included, unfiltered and filtered (candidates from an index, and
// a filter no index answers), with deleted points. Rows of small integers
// make ties common; the scores are also checked against brute force.
// (distance.TestChunksBelow checks that the kernels do leave rows early.)
func TestExactScanBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, metric := range []distance.Metric{distance.Euclid, distance.Manhattan, distance.Cosine} {
		for _, dim := range []int{64, 100, 784} {
			t.Run(fmt.Sprintf("%v/dim=%d", metric, dim), func(t *testing.T) {
				const n = 1500
				specs := []VectorSpec{{Dim: dim, Metric: metric}}
				s := newTestSegment(t, &Options{Vectors: specs, Capacity: n})
				m := newModel(specs)
				for i := range n {
					v := make([]float32, dim)
					for j := range v {
						v[j] = float32(r.IntN(3))
					}
					v[0] += 0.5 // never the zero vector (Cosine)
					p := &Point{ID: filter.NumID(uint64(i)), Vectors: map[string][]float32{"": v},
						Payload: payload.ObjectValue(
							payload.Field{Key: "rnd", Value: payload.IntValue(int64(r.IntN(1000)))},
							payload.Field{Key: "free", Value: payload.IntValue(int64(r.IntN(1000)))})}
					off, err := s.Append(p)
					require.NoError(t, err)
					require.Equal(t, m.append(p), off)
				}
				require.NoError(t, s.CreateFieldIndex("rnd", payload.IndexParams{Type: payload.TypeInteger}))
				for off := range uint32(n) {
					if r.IntN(10) == 0 {
						require.True(t, s.Delete(off))
						m.slots[off].live = false
					}
				}
				filters := []*filter.Filter{nil, rndBelow(t, 400),
					mustFilter(t, `{"must":[{"key":"free","range":{"lt":600}}]}`)}
				for range 20 {
					q := make([]float32, dim)
					for j := range q {
						q[j] = float32(r.IntN(3))
					}
					q[0] += 0.5
					for _, f := range filters {
						for _, k := range []int{1, 10, 100} {
							var st SearchStats
							o := &SearchOptions{Filter: f, Exact: true, Stats: &st}
							got, err := s.Search(t.Context(), "", q, k, o)
							require.NoError(t, err)
							belowMin = math.MaxInt
							want, err := s.Search(t.Context(), "", q, k, o)
							belowMin = 128
							require.NoError(t, err)
							require.Equal(t, want, got, "k=%d filter %v", k, fstr{f})
							require.Greater(t, st.Scored, belowMin, "the scan must be long enough to take bounds")

							model := m.search("", q, k, f)
							require.Equal(t, scores(model), scores(got), "k=%d filter %v", k, fstr{f})
						}
					}
				}
			})
		}
	}
}

func scores(hits []Hit) []float32 {
	out := make([]float32, len(hits))
	for i, h := range hits {
		out[i] = h.Score
	}
	return out
}

// TestScoreBelowAllocs checks that a bounded exact scan into a reused
// result slice allocates nothing.
func TestScoreBelowAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	r := rand.New(rand.NewPCG(8, 8))
	s := newTestSegment(t, &Options{Vectors: []VectorSpec{{Dim: 128, Metric: distance.Euclid}}, Capacity: 1000})
	for i := range 1000 {
		v := make([]float32, 128)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		_, err := s.Append(&Point{ID: filter.NumID(uint64(i)), Vectors: map[string][]float32{"": v}})
		require.NoError(t, err)
	}
	q := slices.Repeat([]float32{0.5}, 128)
	var hits []Hit
	search := func() {
		var err error
		hits, err = s.AppendSearch(t.Context(), hits[:0], "", q, 10, &SearchOptions{Exact: true})
		require.NoError(t, err)
	}
	search()
	require.Zero(t, testing.AllocsPerRun(50, search))
}
