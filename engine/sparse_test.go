package engine

import (
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// randSparse returns a random sparse vector with up to maxNNZ Zipfian
// dimensions, in random order.
func randSparse(rng *rand.Rand, z *rand.Zipf, maxNNZ int) SparseVector {
	var v SparseVector
	seen := map[uint32]bool{}
	for range rng.IntN(maxNNZ + 1) {
		d := uint32(z.Uint64())
		if !seen[d] {
			seen[d] = true
			v.Indices = append(v.Indices, d)
			v.Values = append(v.Values, float32(rng.IntN(16)+1)/8)
		}
	}
	return v
}

// sparseModel is the brute-force oracle of a collection's sparse vectors:
// the live points' vectors and their rnd payload.
type sparseModel struct {
	vecs map[PointID]map[string]SparseVector
	rnd  map[PointID]int
}

func (m *sparseModel) search(name string, q SparseVector, idf bool, below, limit, offset int, threshold *float32) []ScoredPoint {
	weights := slices.Clone(q.Values)
	if idf {
		n := 0
		for _, vs := range m.vecs {
			if len(vs[name].Indices) > 0 {
				n++
			}
		}
		for i, d := range q.Indices {
			df := 0
			for _, vs := range m.vecs {
				if slices.Contains(vs[name].Indices, d) {
					df++
				}
			}
			weights[i] *= sparseIDF(df, n)
		}
	}
	var out []ScoredPoint
	for id, vs := range m.vecs {
		v, ok := vs[name]
		if !ok || below >= 0 && m.rnd[id] >= below {
			continue
		}
		var sum float64
		shared := false
		for i, d := range q.Indices {
			if j := slices.Index(v.Indices, d); j >= 0 {
				sum += float64(weights[i]) * float64(v.Values[j])
				shared = true
			}
		}
		if shared && (threshold == nil || float32(sum) > *threshold) {
			out = append(out, ScoredPoint{Record: Record{ID: id}, Score: float32(sum)})
		}
	}
	slices.SortFunc(out, func(a, b ScoredPoint) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return a.ID.Compare(b.ID)
	})
	return out
}

// requireSameScored compares got with the window [offset, offset+limit) of
// all, the oracle's full ranking: the same scores, and the same ids where
// no other point has the same score.
func requireSameScored(t *testing.T, all []ScoredPoint, offset, limit int, got []ScoredPoint, msg string) {
	want := all[min(offset, len(all)):min(len(all), offset+limit)]
	t.Helper()
	if os.Getenv("SPARSE_DEBUG") != "" {
		for i := range max(len(want), len(got)) {
			if i < len(want) {
				t.Logf("want %v %v", want[i].ID, want[i].Score)
			}
			if i < len(got) {
				t.Logf("got  %v %v", got[i].ID, got[i].Score)
			}
		}
	}
	require.Equal(t, len(want), len(got), msg)
	for i := range want {
		tol := 1e-4 * math.Max(1, math.Abs(float64(want[i].Score)))
		require.InDelta(t, want[i].Score, got[i].Score, tol, "%s: rank %d", msg, i)
		// Ids agree where the score is not tied with a neighbour.
		j := offset + i
		tied := j > 0 && math.Abs(float64(all[j].Score-all[j-1].Score)) < tol ||
			j+1 < len(all) && math.Abs(float64(all[j].Score-all[j+1].Score)) < tol
		if !tied {
			require.Equal(t, want[i].ID, got[i].ID, "%s: rank %d", msg, i)
		}
	}
}

// TestSparseOracle checks sparse searches (plain and IDF, filtered or not,
// with offsets and thresholds) against brute force over a collection of
// several segments, through upserts, vector updates and deletes, the
// optimizer, and a reopen.
func TestSparseOracle(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	thr := 0
	var req CreateCollection
	require.NoError(t, json.Unmarshal([]byte(`{"vectors": {"d": {"size": 2, "distance": "Dot"}},
		"sparse_vectors": {"s": {}, "i": {"modifier": "idf", "index": {"full_scan_threshold": 50}}}}`), &req))
	req.Optimizers = &OptimizersConfigDiff{IndexingThreshold: &thr}
	require.NoError(t, db.CreateCollection(bg, "c", &req))
	_, err := db.CreateFieldIndex(bg, "c", "rnd", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(3, 5))
	z := rand.NewZipf(rng, 1.3, 1, 500)
	m := &sparseModel{vecs: map[PointID]map[string]SparseVector{}, rnd: map[PointID]int{}}
	upsert := func(from, to int) {
		var pts []Point
		for i := from; i < to; i++ {
			id := numID(uint64(i))
			r := rng.IntN(100)
			p := Point{ID: id, Payload: obj("rnd", r), Vectors: map[string][]float32{"d": {1, 0}}, Sparse: map[string]SparseVector{}}
			if i%13 != 0 {
				v := randSparse(rng, z, 12)
				p.Sparse["s"], p.Sparse["i"] = v, v
			}
			pts = append(pts, p)
			m.vecs[id] = p.Sparse
			m.rnd[id] = r
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	check := func(stage string) {
		t.Helper()
		for qn := range 40 {
			q := randSparse(rng, z, 6)
			for _, name := range []string{"s", "i"} {
				for _, below := range []int{-1, 10, 90} {
					var f *filter.Filter
					if below >= 0 {
						f = mustFilter(t, `{"must":[{"key":"rnd","range":{"lt":`+itoa(below)+`}}]}`)
					}
					limit, offset := 1+rng.IntN(10), rng.IntN(3)
					var th *float32
					if qn%5 == 4 {
						x := float32(1)
						th = &x
					}
					got, err := db.Search(bg, "c", &SearchRequest{Using: name, Sparse: &q, Filter: f, Limit: limit, Offset: offset, ScoreThreshold: th})
					require.NoError(t, err)
					want := m.search(name, q, name == "i", below, limit, offset, th)
					requireSameScored(t, want, offset, limit, got, stage+" "+name)
				}
			}
		}
		// Stored vectors read back sorted by index.
		ids := make([]PointID, 0, len(m.vecs))
		for id := range m.vecs {
			ids = append(ids, id)
		}
		recs, err := db.Get(bg, "c", ids, &ReadOptions{WithVectors: VectorSelector{Names: []string{"s"}}})
		require.NoError(t, err)
		require.Len(t, recs, len(ids))
		for _, r := range recs {
			want, ok := m.vecs[r.ID]["s"]
			require.Equal(t, ok, r.Sparse != nil, stage)
			if !ok {
				continue
			}
			want = sparseSorted(want)
			got := r.Sparse["s"]
			require.Equal(t, len(want.Indices), len(got.Indices), stage)
			if len(want.Indices) > 0 {
				require.Equal(t, want, got, stage)
			}
			require.Nil(t, r.Vectors["d"], "only s was selected")
		}
		n, err := db.Count(bg, "c", mustFilter(t, `{"must":[{"has_vector":"s"}]}`), true)
		require.NoError(t, err)
		has := 0
		for _, vs := range m.vecs {
			if _, ok := vs["s"]; ok {
				has++
			}
		}
		require.Equal(t, has, n, stage)
	}

	upsert(0, 400)
	check("appendable")
	require.NoError(t, db.Optimize(bg, "c"))
	upsert(300, 600) // replaces points of the sealed segment
	// Update and delete vectors, delete points.
	var ups []PointVectors
	for i := 0; i < 600; i += 17 {
		v := randSparse(rng, z, 8)
		ups = append(ups, PointVectors{ID: numID(uint64(i)), Sparse: map[string]SparseVector{"s": v}})
		vs := maps_clone(m.vecs[numID(uint64(i))])
		vs["s"] = v
		m.vecs[numID(uint64(i))] = vs
	}
	_, err = db.UpdateVectors(bg, "c", &UpdateVectorsOp{Points: ups}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	var delIDs []PointID
	for i := 5; i < 600; i += 11 {
		delIDs = append(delIDs, numID(uint64(i)))
	}
	_, err = db.DeleteVectors(bg, "c", &DeleteVectorsOp{Selector: Selector{IDs: delIDs}, Names: []string{"i"}}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	for _, id := range delIDs {
		vs := maps_clone(m.vecs[id])
		delete(vs, "i")
		m.vecs[id] = vs
	}
	delIDs = delIDs[:0]
	for i := 3; i < 600; i += 7 {
		delIDs = append(delIDs, numID(uint64(i)))
		delete(m.vecs, numID(uint64(i)))
	}
	_, err = db.Delete(bg, "c", Selector{IDs: delIDs}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	check("two segments")

	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	check("reopened")
	require.NoError(t, db.Optimize(bg, "c"))
	check("optimized")
}

func maps_clone(m map[string]SparseVector) map[string]SparseVector {
	out := make(map[string]SparseVector, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
