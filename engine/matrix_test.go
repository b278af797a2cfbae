package engine

import (
	"cmp"
	"context"
	"fmt"
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

// matrixSetup creates coll with vectors "a" (dim 3, Cosine) and "b" (dim
// 6, metric m) and n points; every 4th point has no "b".
func matrixSetup(t *testing.T, db *DB, coll string, m distance.Metric, n int, seed uint64) map[PointID][]float32 {
	t.Helper()
	require.NoError(t, db.CreateCollection(bg, coll, &CreateCollection{Vectors: VectorsConfig{
		"a": {Size: 3, Distance: distance.Cosine},
		"b": {Size: 6, Distance: m},
	}}))
	rng := rand.New(rand.NewPCG(seed, 9))
	withB := map[PointID][]float32{}
	var pts []Point
	for i := range n {
		id := numID(uint64(1000 - i)) // ids not in insertion order
		vecs := map[string][]float32{"a": randVec(rng, 3)}
		if i%4 != 0 {
			vecs["b"] = randVec(rng, 6)
			withB[id] = vecs["b"]
		}
		pts = append(pts, Point{ID: id, Vectors: vecs, Payload: obj("class", i%5)})
	}
	_, err := db.Upsert(bg, coll, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	return withB
}

// oracleScore is the metric's score in float64, from raw vectors.
func oracleScore(m distance.Metric, a, b []float32) float64 {
	var s float64
	switch m {
	case distance.Cosine:
		na, nb := 0.0, 0.0
		for i := range a {
			s += float64(a[i]) * float64(b[i])
			na += float64(a[i]) * float64(a[i])
			nb += float64(b[i]) * float64(b[i])
		}
		return s / math.Sqrt(na*nb)
	case distance.Dot:
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	case distance.Euclid:
		for i := range a {
			d := float64(a[i]) - float64(b[i])
			s += d * d
		}
		return math.Sqrt(s)
	}
	for i := range a {
		s += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return s
}

// bruteMatrix returns, for each id of ids (sorted), its limit nearest
// others, by the engine's metric score, ties by ascending id.
func bruteMatrix(m distance.Metric, vecs map[PointID][]float32, ids []PointID, limit int) []MatrixPair {
	var out []MatrixPair
	for _, a := range ids {
		pa := m.Preprocess(nil, vecs[a])
		type nb struct {
			id PointID
			s  float32
		}
		var row []nb
		for _, b := range ids {
			if b != a {
				row = append(row, nb{b, m.Score(m.Distance(pa, m.Preprocess(nil, vecs[b])))})
			}
		}
		slices.SortStableFunc(row, func(x, y nb) int {
			switch {
			case m.BetterScore(x.s, y.s):
				return -1
			case m.BetterScore(y.s, x.s):
				return 1
			}
			return x.id.Compare(y.id)
		})
		for _, r := range row[:min(len(row), limit)] {
			out = append(out, MatrixPair{A: a, B: r.id, Score: r.s})
		}
	}
	return out
}

func requireMatrix(t *testing.T, m distance.Metric, vecs map[PointID][]float32, ids []PointID, limit int, got *Matrix, msg string) {
	t.Helper()
	require.True(t, slices.IsSortedFunc(got.IDs, PointID.Compare), msg)
	require.Equal(t, ids, got.IDs, msg)
	want := bruteMatrix(m, vecs, ids, limit)
	require.Len(t, got.Pairs, len(want), msg)
	for i := range want {
		require.Equal(t, want[i].A, got.Pairs[i].A, "%s: pair %d", msg, i)
		require.Equal(t, want[i].B, got.Pairs[i].B, "%s: pair %d", msg, i)
		require.InDelta(t, oracleScore(m, vecs[want[i].A], vecs[want[i].B]), float64(got.Pairs[i].Score), 1e-4, "%s: pair %d", msg, i)
	}
}

func TestSearchMatrix(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	for mi, m := range extraMetrics {
		coll := "mx_" + m.String()
		withB := matrixSetup(t, db, coll, m, 60, uint64(mi))
		all := slices.SortedFunc(maps.Keys(withB), PointID.Compare)

		// A sample as large as the eligible points takes them all.
		for _, limit := range []int{0, 1, 5, 100} {
			got, err := db.SearchMatrix(bg, coll, &MatrixRequest{Sample: 1000, Limit: limit, Using: "b"})
			require.NoError(t, err)
			requireMatrix(t, m, withB, all, cmp.Or(limit, 3), got, fmt.Sprintf("%s all limit %d", m, limit))
		}

		// A smaller sample: distinct eligible points matching the filter,
		// each with its nearest among the sample.
		f := mustFilter(t, `{"must_not":[{"key":"class","match":{"value":1}}]}`)
		for range 5 {
			got, err := db.SearchMatrix(bg, coll, &MatrixRequest{Filter: f, Using: "b"})
			require.NoError(t, err)
			require.Len(t, got.IDs, 10)
			recs, err := db.Get(bg, coll, got.IDs, &ReadOptions{WithPayload: AllPayload})
			require.NoError(t, err)
			require.Len(t, recs, 10)
			for _, r := range recs {
				c, _ := r.Payload.Get("class")
				require.False(t, payload.Equal(c, payload.IntValue(1)))
				require.Contains(t, withB, r.ID)
			}
			requireMatrix(t, m, withB, got.IDs, 3, got, m.String()+" sample")
		}
	}
}

func TestSearchMatrixSampling(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	withB := matrixSetup(t, db, "mx", distance.Euclid, 40, 3)

	// Every eligible point gets sampled about equally often.
	counts := map[PointID]int{}
	const draws = 600
	for range draws {
		got, err := db.SearchMatrix(bg, "mx", &MatrixRequest{Sample: 5, Limit: 1, Using: "b"})
		require.NoError(t, err)
		require.Len(t, got.IDs, 5)
		for _, id := range got.IDs {
			counts[id]++
		}
	}
	expect := float64(draws*5) / float64(len(withB))
	chi2 := 0.0
	for id := range withB {
		d := float64(counts[id]) - expect
		chi2 += d * d / expect
	}
	require.Len(t, counts, len(withB))
	require.Less(t, chi2, 90.0, "29 degrees of freedom")

	// Fewer than two eligible points: an empty matrix.
	one := mustFilter(t, `{"must":[{"has_id":[999]}]}`)
	got, err := db.SearchMatrix(bg, "mx", &MatrixRequest{Filter: one, Using: "b"})
	require.NoError(t, err)
	require.Empty(t, got.IDs)
	require.Empty(t, got.Pairs)
	// Point 1000 has no "b" vector, so it is not eligible.
	two := mustFilter(t, `{"must":[{"has_id":[999, 1000]}]}`)
	got, err = db.SearchMatrix(bg, "mx", &MatrixRequest{Filter: two, Using: "b"})
	require.NoError(t, err)
	require.Empty(t, got.IDs)
	got, err = db.SearchMatrix(bg, "mx", &MatrixRequest{Filter: two, Using: "a"})
	require.NoError(t, err)
	require.Equal(t, []PointID{numID(999), numID(1000)}, got.IDs)
	require.Len(t, got.Pairs, 2)

	for _, req := range []*MatrixRequest{
		{Sample: 1, Using: "b"}, {Sample: -3, Using: "b"}, {Limit: -1, Using: "b"}, {Using: "zzz"}, nil,
		{Using: "b", Filter: &filter.Filter{Must: []filter.Condition{&filter.Field{}}}},
	} {
		_, err := db.SearchMatrix(bg, "mx", req)
		require.ErrorIs(t, err, ErrBadRequest, "%+v", req)
	}
	_, err = db.SearchMatrix(bg, "nope", &MatrixRequest{})
	require.ErrorIs(t, err, ErrNotFound)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err = db.SearchMatrix(ctx, "mx", &MatrixRequest{Using: "b"})
	require.ErrorIs(t, err, context.Canceled)
}
