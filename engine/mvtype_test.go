package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// mvConvert returns the multivector v as a collection of datatype dt stores
// it, computed here independently of the segments: float16 rounds each
// element (after normalising each vector for Cosine), uint8 truncates
// toward zero and saturates at 0 and 255.
func mvConvert(dt string, m distance.Metric, v [][]float32) [][]float32 {
	out := make([][]float32, len(v))
	for i, x := range v {
		y := slices.Clone(x)
		if m == distance.Cosine && dt != "uint8" {
			var n float64
			for _, e := range y {
				n += float64(e) * float64(e)
			}
			for j := range y {
				y[j] = float32(float64(y[j]) / math.Sqrt(n))
			}
		}
		switch dt {
		case "float16":
			h := make([]uint16, len(y))
			distance.F16FromF32(h, y)
			distance.F32FromF16(y, h)
		case "uint8":
			for j, e := range y {
				y[j] = float32(max(0, min(255, math.Trunc(float64(e)))))
			}
		}
		out[i] = y
	}
	return out
}

// mvBrute scores q against every doc by MaxSim in float64, pair by pair,
// on the converted values (uint8 Cosine: the cosine of the integers), and
// returns the best k ids and scores.
func mvBrute(m distance.Metric, q [][]float32, docs map[PointID][][]float32, k int) ([]PointID, []float64) {
	sim := func(a, b []float32) float64 {
		var dot, na, nb, l2 float64
		for i := range a {
			dot += float64(a[i]) * float64(b[i])
			na += float64(a[i]) * float64(a[i])
			nb += float64(b[i]) * float64(b[i])
			l2 += (float64(a[i]) - float64(b[i])) * (float64(a[i]) - float64(b[i]))
		}
		switch m {
		case distance.Cosine:
			if na == 0 || nb == 0 {
				return 0
			}
			return dot / math.Sqrt(na*nb)
		case distance.Euclid:
			return -l2
		}
		return dot
	}
	type hit struct {
		id    PointID
		score float64
	}
	var hits []hit
	for id, d := range docs {
		var s float64
		for _, qi := range q {
			best := math.Inf(-1)
			for _, di := range d {
				best = max(best, sim(qi, di))
			}
			s += best
		}
		if m == distance.Euclid {
			s = math.Sqrt(-s)
		}
		hits = append(hits, hit{id, s})
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.score != b.score {
			if (m == distance.Euclid) == (a.score < b.score) {
				return -1
			}
			return 1
		}
		return a.id.Compare(b.id)
	})
	var ids []PointID
	var scores []float64
	for _, h := range hits[:k] {
		ids = append(ids, h.id)
		scores = append(scores, h.score)
	}
	return ids, scores
}

// TestMultivectorDatatypes checks float16 and uint8 multivectors against a
// brute-force oracle on the converted values: exact searches give its ids
// and scores, graph searches its neighbours (recall@10), before and after
// the segments are rebuilt and after the store is reopened; with_vector
// returns the converted values; and the rows take the datatype's bytes.
func TestMultivectorDatatypes(t *testing.T) {
	const dim, n, k = 16, 400, 10
	rows := map[string]int64{}
	for _, dt := range []string{"float32", "float16", "uint8"} {
		for _, m := range []distance.Metric{distance.Cosine, distance.Dot, distance.Euclid} {
			t.Run(fmt.Sprintf("%s/%v", dt, m), func(t *testing.T) {
				dir := t.TempDir()
				db := openTestDB(t, dir, testOpts())
				thr := 1
				require.NoError(t, db.CreateCollection(bg, "mv", &CreateCollection{
					Vectors: VectorsConfig{"": {Size: dim, Distance: m, Datatype: dt,
						Multivector: []byte(`{"comparator":"max_sim"}`)}},
					Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
				}))
				rng := rand.New(rand.NewPCG(7, 7))
				gen := func(maxN int) [][]float32 {
					v := randMultiVec(rng, dim, maxN)
					if dt == "uint8" {
						for _, x := range v {
							for j := range x {
								x[j] = 40 + 60*x[j]
							}
						}
					}
					return v
				}
				docs := map[PointID][][]float32{}
				var pts []Point
				for i := range n {
					id := numID(uint64(i))
					v := gen(4)
					docs[id] = mvConvert(dt, m, v)
					pts = append(pts, Point{ID: id, Multi: map[string][][]float32{"": v}})
				}
				_, err := db.Upsert(bg, "mv", &UpsertOp{Points: pts}, nil)
				require.NoError(t, err)
				qs := make([][][]float32, 20)
				for i := range qs {
					qs[i] = gen(3)
				}
				check := func(db *DB) {
					t.Helper()
					var found, total int
					for _, q := range qs {
						ids, scores := mvBrute(m, mvConvert(dt, m, q), docs, k)
						res, err := db.Query(bg, "mv", &QueryRequest{Query: &Query{Nearest: &Example{Multi: q}}, Limit: k, Exact: true})
						require.NoError(t, err)
						require.Len(t, res, k)
						for i, r := range res {
							require.InDelta(t, scores[i], r.Score, 2e-3*max(1, math.Abs(scores[i])), "rank %d", i)
						}
						res, err = db.Query(bg, "mv", &QueryRequest{Query: &Query{Nearest: &Example{Multi: q}}, Limit: k})
						require.NoError(t, err)
						for _, r := range res {
							found += min(1, slices.Index(ids, r.ID)+1)
						}
						total += k
					}
					require.GreaterOrEqual(t, float64(found)/float64(total), 0.9, "recall@%d", k)
					got, err := db.Get(bg, "mv", []PointID{numID(3), numID(11)}, &ReadOptions{WithVectors: AllVectors})
					require.NoError(t, err)
					for _, p := range got {
						if dt != "float32" {
							require.Equal(t, docs[p.ID], p.Multi[""])
							continue
						}
						require.Len(t, p.Multi[""], len(docs[p.ID]))
						for i, v := range p.Multi[""] {
							require.InDeltaSlice(t, docs[p.ID][i], v, 1e-6)
						}
					}
				}
				check(db)
				require.NoError(t, db.Optimize(bg, "mv"))
				check(db)
				if m != distance.Euclid {
					closeChecked(t, db)
					db = openTestDB(t, dir, testOpts())
					check(db)
					return
				}
				info, err := db.CollectionInfo(bg, "mv")
				require.NoError(t, err)
				rows[dt] = info.Memory.Vectors
				closeChecked(t, db)
				db = openTestDB(t, dir, testOpts())
				check(db)
			})
		}
	}
	t.Logf("multivector row bytes (Euclid, %d points): %v", n, rows)
	require.Less(t, rows["float16"], rows["float32"])
	require.Less(t, rows["uint8"], rows["float16"])
}
