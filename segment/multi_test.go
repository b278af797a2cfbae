package segment

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
)

// randMulti returns between 1 and maxN random dim-long vectors, back to
// back.
func randMulti(rng *rand.Rand, dim, maxN int) []float32 {
	v := make([]float32, (1+rng.IntN(maxN))*dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// randMultiDocs returns n multivectors of randMulti.
func randMultiDocs(rng *rand.Rand, n, dim, maxN int) [][]float32 {
	docs := make([][]float32, n)
	for i := range docs {
		docs[i] = randMulti(rng, dim, maxN)
	}
	return docs
}

// bruteMulti returns the ids of the k points of docs closest to q by MaxSim,
// scored pair by pair (distance.Metric.MaxSimNaive), best first.
func bruteMulti(m distance.Metric, dim int, q []float32, docs [][]float32, k int) []uint32 {
	q = m.PreprocessMultiQuery(nil, q, dim)
	type hit struct {
		id uint32
		d  float32
	}
	hits := make([]hit, len(docs))
	for i, d := range docs {
		hits[i] = hit{uint32(i), m.MaxSimNaive(q, m.PreprocessMulti(nil, d, dim), dim)}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})
	out := make([]uint32, 0, k)
	for _, h := range hits[:min(k, len(hits))] {
		out = append(out, h.id)
	}
	return out
}

func newMultiSegment(t *testing.T, m distance.Metric, dim int, noGraph bool, docs [][]float32) *Segment {
	t.Helper()
	s, err := New(&Options{Capacity: len(docs) + 1, Vectors: []VectorSpec{{
		Name: "mv", Dim: dim, Metric: m, Multi: true, NoGraph: noGraph,
		HNSW: hnsw.Config{M: 16, EfConstruct: 100, Seed: 1},
	}}})
	require.NoError(t, err)
	for i, d := range docs {
		off, err := s.Append(&Point{ID: filter.NumID(uint64(i)), Version: 1, Vectors: map[string][]float32{"mv": d}, Payload: payload.ObjectValue()})
		require.NoError(t, err)
		require.Equal(t, uint32(i), off)
	}
	return s
}

func TestMultiExactMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const dim = 8
	for _, m := range []distance.Metric{distance.Cosine, distance.Dot, distance.Euclid, distance.Manhattan} {
		docs := randMultiDocs(rng, 300, dim, 6)
		s := newMultiSegment(t, m, dim, false, docs)
		for range 20 {
			q := randMulti(rng, dim, 4)
			hits, err := s.Search(context.Background(), "mv", q, 10, &SearchOptions{Exact: true})
			require.NoError(t, err)
			got := make([]uint32, len(hits))
			for i, h := range hits {
				got[i] = h.Off
				want := m.Score(m.MaxSimNaive(m.PreprocessMultiQuery(nil, q, dim), m.PreprocessMulti(nil, docs[h.Off], dim), dim))
				require.InDelta(t, want, h.Score, 1e-4*max(1, float64(want)), "%v", m)
			}
			require.Equal(t, bruteMulti(m, dim, q, docs, 10), got, "%v", m)
		}
		v, ok := s.Vector("mv", 5)
		require.True(t, ok)
		require.Equal(t, m.PreprocessMulti(nil, docs[5], dim), v)
	}
}

// topicMulti returns between 1 and maxN vectors near one of the topics'
// vectors (each vector of a point picks a topic vector and adds noise),
// as token embeddings of one document cluster around its subject.
func topicMulti(rng *rand.Rand, topics [][]float32, dim, maxN int) []float32 {
	topic := topics[rng.IntN(len(topics))]
	v := make([]float32, (1+rng.IntN(maxN))*dim)
	for i := 0; i < len(v); i += dim {
		base := topic[rng.IntN(len(topic)/dim)*dim:]
		for j := range dim {
			v[i+j] = base[j] + 0.5*float32(rng.NormFloat64())
		}
	}
	return v
}

func TestMultiGraphRecall(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const dim, n, k = 16, 3000, 10
	topics := make([][]float32, 100)
	for i := range topics {
		topics[i] = make([]float32, 4*dim)
		for j := range topics[i] {
			topics[i][j] = float32(rng.NormFloat64())
		}
	}
	for _, m := range []distance.Metric{distance.Euclid, distance.Cosine, distance.Dot} {
		docs := make([][]float32, n)
		for i := range docs {
			docs[i] = topicMulti(rng, topics, dim, 5)
		}
		s := newMultiSegment(t, m, dim, false, docs)
		_, err := s.BuildGraph(context.Background(), 2)
		require.NoError(t, err)
		require.NoError(t, s.CheckInvariants())
		found, total := 0, 0
		for range 50 {
			q := topicMulti(rng, topics, dim, 4)
			var st SearchStats
			hits, err := s.Search(context.Background(), "mv", q, k, &SearchOptions{Stats: &st})
			require.NoError(t, err)
			require.Equal(t, PlanGraph, st.Plan)
			want := bruteMulti(m, dim, q, docs, k)
			for _, h := range hits {
				if slices.Contains(want, h.Off) {
					found++
				}
			}
			total += len(want)
		}
		recall := float64(found) / float64(total)
		t.Logf("%v: MaxSim graph recall@%d = %.3f", m, k, recall)
		require.GreaterOrEqual(t, recall, 0.95, "%v", m)
	}
}

func TestMultiNoGraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	docs := randMultiDocs(rng, 200, 4, 3)
	s := newMultiSegment(t, distance.Dot, 4, true, docs)
	// The pages holding the multivectors count as vector memory.
	stored := 0
	for _, d := range docs {
		stored += 4 * len(d)
	}
	require.GreaterOrEqual(t, s.Memory().Vectors, int64(stored))
	require.Equal(t, int64(stored), s.spaces[0].multi.bytes.Load())
	_, err := s.BuildGraph(context.Background(), 1)
	require.NoError(t, err)
	require.Equal(t, s.Len(), s.Indexed())
	require.Equal(t, 0, s.spaces[0].graph.Load().Len())
	var st SearchStats
	q := randMulti(rng, 4, 2)
	hits, err := s.Search(context.Background(), "mv", q, 5, &SearchOptions{Stats: &st})
	require.NoError(t, err)
	require.Equal(t, PlanExact, st.Plan)
	got := make([]uint32, len(hits))
	for i, h := range hits {
		got[i] = h.Off
	}
	require.Equal(t, bruteMulti(distance.Dot, 4, q, docs, 5), got)
}

func TestMultiValidation(t *testing.T) {
	s := newMultiSegment(t, distance.Dot, 3, false, nil)
	_, err := s.Append(&Point{ID: filter.NumID(1), Vectors: map[string][]float32{"mv": {1, 2, 3, 4}}})
	require.ErrorIs(t, err, distance.ErrDimMismatch)
	_, err = s.Append(&Point{ID: filter.NumID(1), Vectors: map[string][]float32{"mv": {}}})
	require.ErrorIs(t, err, distance.ErrEmpty)
	_, err = s.Search(context.Background(), "mv", []float32{1, 2}, 1, nil)
	require.ErrorIs(t, err, distance.ErrDimMismatch)
	require.Equal(t, 0, s.Len())
}

// TestMultiVectorsCount checks that MultiVectors counts the vectors of the
// live points' multivectors, counted one by one from the documents, as
// points are deleted.
func TestMultiVectorsCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	docs := randMultiDocs(rng, 100, 4, 5)
	s := newMultiSegment(t, distance.Dot, 4, true, docs)
	want := func(deleted int) int {
		n := 0
		for _, d := range docs[deleted:] {
			n += len(d) / 4
		}
		return n
	}
	got, err := s.MultiVectors("mv")
	require.NoError(t, err)
	require.Equal(t, want(0), got)
	require.Greater(t, got, len(docs), "more vectors than points")
	for off := range uint32(30) {
		require.True(t, s.Delete(off))
		require.False(t, s.Delete(off))
	}
	got, err = s.MultiVectors("mv")
	require.NoError(t, err)
	require.Equal(t, want(30), got)
	_, err = s.MultiVectors("nope")
	require.ErrorIs(t, err, ErrUnknownVector)
}
