package segment

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// zipfSparse returns a random sparse vector of up to maxNNZ dimensions
// drawn from a Zipfian distribution over dims dimensions (as words of a
// text are), in random order, with positive values.
func zipfSparse(rng *rand.Rand, z *rand.Zipf, maxNNZ int) SparseVector {
	n := rng.IntN(maxNNZ + 1)
	seen := map[uint32]bool{}
	var v SparseVector
	for range n {
		d := uint32(z.Uint64())
		if seen[d] {
			continue
		}
		seen[d] = true
		v.Indices = append(v.Indices, d)
		v.Values = append(v.Values, float32(rng.IntN(8)+1)/4)
	}
	return v
}

// sparseOracle is a brute-force model of a segment's sparse vectors.
type sparseOracle struct {
	vecs map[uint32]SparseVector // live slots
	rnd  map[uint32]int64
}

func (o *sparseOracle) search(q SparseVector, k int, below int64) []Hit {
	var hits []Hit
	for off, v := range o.vecs {
		if below >= 0 && o.rnd[off] >= below {
			continue
		}
		var sum float32
		shared := false
		for i, d := range q.Indices {
			if j := slices.Index(v.Indices, d); j >= 0 {
				sum += q.Values[i] * v.Values[j]
				shared = true
			}
		}
		if shared {
			hits = append(hits, Hit{Off: off, Score: sum})
		}
	}
	slices.SortFunc(hits, func(a, b Hit) int { return cmp.Compare(b.Score, a.Score) })
	return hits[:min(k, len(hits))]
}

// requireSameHits compares scores in order (ties may order differently)
// and, where a score is unique, the slot.
func requireSameHits(t *testing.T, want, got []Hit, msg string) {
	t.Helper()
	require.Equal(t, len(want), len(got), msg)
	for i := range want {
		require.InDelta(t, want[i].Score, got[i].Score, 1e-4*math.Max(1, math.Abs(float64(want[i].Score))), msg)
	}
	wantSet := map[uint32]float32{}
	for _, h := range want {
		wantSet[h.Off] = h.Score
	}
	last := want[len(want)-1].Score
	for _, h := range got {
		if math.Abs(float64(h.Score-last)) < 1e-4 {
			continue // at the cut: another point of the same score may be in
		}
		s, ok := wantSet[h.Off]
		require.True(t, ok, "%s: slot %d not expected", msg, h.Off)
		require.InDelta(t, s, h.Score, 1e-4*math.Max(1, math.Abs(float64(s))), msg)
	}
}

func TestSparseSearchOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	z := rand.NewZipf(rng, 1.2, 1, 2000)
	s := newTestSegment(t, &Options{
		Vectors:  []VectorSpec{{Name: "d", Dim: 2, Metric: distance.Dot}},
		Sparse:   []SparseSpec{{Name: "s", FullScanThreshold: 300}},
		Capacity: 5000,
	})
	require.NoError(t, s.CreateFieldIndex("rnd", payload.IndexParams{Type: payload.TypeInteger}))
	o := &sparseOracle{vecs: map[uint32]SparseVector{}, rnd: map[uint32]int64{}}
	for i := range 3000 {
		p := &Point{ID: filter.NumID(uint64(i))}
		r := int64(rng.IntN(1000))
		p.Payload = payload.ObjectValue(payload.Field{Key: "rnd", Value: payload.IntValue(r)})
		var v SparseVector
		if i%10 != 9 { // some points lack the sparse vector
			v = zipfSparse(rng, z, 30)
			p.Sparse = map[string]SparseVector{"s": v}
		}
		off, err := s.Append(p)
		require.NoError(t, err)
		if p.Sparse != nil {
			o.vecs[off] = v
			o.rnd[off] = r
		}
	}
	// Deletes.
	for off := uint32(0); off < 3000; off += 7 {
		s.Delete(off)
		delete(o.vecs, off)
	}
	plans := map[string]int{}
	check := func(stage string) {
		for qn := range 60 {
			q := zipfSparse(rng, z, 8)
			for _, below := range []int64{-1, 50, 900} {
				var f *filter.Filter
				if below >= 0 {
					f = rndBelow(t, int(below))
				}
				var st SearchStats
				got, err := s.SearchSparse(context.Background(), "s", q, 10, &SearchOptions{Filter: f, Stats: &st})
				require.NoError(t, err)
				plans[st.Plan]++
				want := o.search(q, 10, below)
				if len(want) == 0 {
					require.Empty(t, got)
					continue
				}
				requireSameHits(t, want, got, stage)
				for _, h := range got {
					id, ver := s.PointAt(h.Off)
					require.Equal(t, id, h.ID)
					require.Equal(t, ver, h.Version)
				}
				if qn == 0 && below == 50 {
					require.Equal(t, PlanSparseFiltered, st.Plan)
				}
				if qn == 0 && below == 900 {
					require.Equal(t, PlanPostings, st.Plan)
				}
			}
		}
		// Stored vectors read back sorted, as given.
		for off, v := range o.vecs {
			got, ok := s.SparseVector("s", off)
			require.True(t, ok)
			w := SparseVector{Indices: slices.Clone(v.Indices), Values: slices.Clone(v.Values)}
			sortPairs(w.Indices, w.Values)
			if len(w.Indices) == 0 {
				require.Empty(t, got.Indices)
				continue
			}
			require.Equal(t, w, got)
		}
		// Document frequencies.
		dims := []uint32{1, 2, 3, 50, 1999}
		df := make([]int, len(dims))
		n, err := s.SparseStats("s", dims, df)
		require.NoError(t, err)
		wantN, wantDF := 0, make([]int, len(dims))
		for _, v := range o.vecs {
			if len(v.Indices) > 0 {
				wantN++
			}
			for i, d := range dims {
				if slices.Contains(v.Indices, d) {
					wantDF[i]++
				}
			}
		}
		require.Equal(t, wantN, n, stage)
		require.Equal(t, wantDF, df, stage)
		require.Equal(t, len(o.vecs), mustOK(s.Count(mustFilter(t, `{"must":[{"has_vector":"s"}]}`))))
	}
	check("appendable")
	s.Seal()
	check("sealed")
	for off := uint32(1); off < 3000; off += 11 {
		s.Delete(off)
		delete(o.vecs, off)
	}
	check("sealed, deletes after")
	require.Positive(t, s.Memory().Sparse)
	require.Positive(t, plans[PlanPostingsPruned], "plans: %v", plans)
}

func TestSparseValidation(t *testing.T) {
	s := newTestSegment(t, &Options{Sparse: []SparseSpec{{Name: "s"}}, Capacity: 10})
	bad := func(v SparseVector) {
		t.Helper()
		_, err := s.Append(&Point{ID: filter.NumID(1), Sparse: map[string]SparseVector{"s": v}})
		require.Error(t, err)
	}
	bad(SparseVector{Indices: []uint32{1, 1}, Values: []float32{1, 2}})
	bad(SparseVector{Indices: []uint32{1}, Values: []float32{1, 2}})
	bad(SparseVector{Indices: []uint32{1}, Values: []float32{float32(math.NaN())}})
	_, err := s.Append(&Point{ID: filter.NumID(1), Sparse: map[string]SparseVector{"x": {}}})
	require.ErrorIs(t, err, ErrUnknownVector)
	require.Equal(t, 0, s.Len(), "nothing stored on error")
	// A segment without any vector stores points.
	s2 := newTestSegment(t, &Options{Capacity: 10})
	_, err = s2.Append(&Point{ID: filter.NumID(1)})
	require.NoError(t, err)
	_, err = New(&Options{Vectors: []VectorSpec{{Name: "s", Dim: 2, Metric: distance.Dot}}, Sparse: []SparseSpec{{Name: "s"}}, Capacity: 10})
	require.ErrorIs(t, err, ErrBadOptions)
}

// TestSparseConcurrent runs sparse searches, reads, statistics and deletes
// beside appends and a Seal (run it with -race).
func TestSparseConcurrent(t *testing.T) {
	s := newTestSegment(t, &Options{Sparse: []SparseSpec{{Name: "s"}}, Capacity: 4000})
	rng := rand.New(rand.NewPCG(5, 5))
	z := rand.NewZipf(rng, 1.2, 1, 300)
	vecs := make([]SparseVector, 3000)
	for i := range vecs {
		vecs[i] = zipfSparse(rng, z, 10)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, v := range vecs {
			_, err := s.Append(&Point{ID: filter.NumID(uint64(i)), Sparse: map[string]SparseVector{"s": v}})
			if err != nil {
				t.Error(err)
				return
			}
			if i%5 == 4 {
				s.Delete(uint32(i - 2))
			}
		}
		s.Seal()
	}()
	q := SparseVector{Indices: []uint32{1, 2, 5}, Values: []float32{1, 1, 1}}
	for {
		select {
		case <-done:
			return
		default:
		}
		hits, err := s.SearchSparse(context.Background(), "s", q, 5, nil)
		require.NoError(t, err)
		for _, h := range hits {
			v, ok := s.SparseVector("s", h.Off)
			require.True(t, ok)
			d, shared := SparseDot(SparseVector{Indices: []uint32{1, 2, 5}, Values: []float32{1, 1, 1}}, v)
			require.True(t, shared)
			require.Equal(t, d, h.Score)
		}
		_, err = s.SparseStats("s", q.Indices, make([]int, 3))
		require.NoError(t, err)
	}
}
