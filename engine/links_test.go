package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/payload"
)

// TestPayloadLinksReopen indexes a payload field before the points come,
// in a collection with payload_m set, so that the optimizer's segments get
// payload links, and requires a
// filtered search to use them, recall to hold against brute force, and a
// reopened database (graphs in the store or in graph files) to give the
// same answers through the same plan without rebuilding a graph.
func TestPayloadLinksReopen(t *testing.T) {
	for _, onDisk := range []bool{false, true} {
		t.Run(map[bool]string{false: "graph-in-store", true: "graph-files"}[onDisk], func(t *testing.T) {
			dir := t.TempDir()
			db := openTestDB(t, dir, testOpts())
			const dim, n = 64, 3000
			// full_scan_threshold 10 KB is 40 points: a 10% filter searches the graph.
			thr, fst, off, pm := 240, 10, false, 16
			require.NoError(t, db.CreateCollection(bg, "c", &CreateCollection{
				Vectors:    VectorsConfig{"": {Size: dim, Distance: distance.Euclid, OnDisk: &off}},
				HNSW:       &HnswConfigDiff{OnDisk: &onDisk, FullScanThreshold: &fst, PayloadM: &pm},
				Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
			}))
			_, err := db.CreateFieldIndex(bg, "c", "class", payload.IndexParams{Type: payload.TypeInteger}, &WriteOptions{Wait: true})
			require.NoError(t, err)
			vecs := testPoints(t, db, "c", n, dim, 3)
			require.NoError(t, db.Optimize(bg, "c"))

			qs := randVecs(4, 30, dim)
			f := mustFilter(t, `{"must":[{"key":"class","match":{"value":3}}]}`)
			search := func(db *DB) ([][]ScoredPoint, string) {
				var out [][]ScoredPoint
				var plans []string
				for _, q := range qs {
					var st SearchStats
					res, err := db.Search(bg, "c", &SearchRequest{Vector: q, Limit: 10, HnswEf: 64, Filter: f, Stats: &st})
					require.NoError(t, err)
					out = append(out, res)
					plans = append(plans, st.Plan)
				}
				return out, strings.Join(plans, ";")
			}
			before, plans := search(db)
			require.Contains(t, plans, "graph-links")
			class3 := map[PointID][]float32{}
			for id, v := range vecs {
				if k, _ := id.Num(); k%10 == 3 {
					class3[id] = v
				}
			}
			require.GreaterOrEqual(t, l2Recall(t, class3, qs, before), 0.95)

			closeChecked(t, db)
			db = openTestDB(t, dir, testOpts())
			require.Zero(t, db.Stats().GraphBuilds, "reopen rebuilt a graph")
			after, plansAfter := search(db)
			require.Equal(t, before, after)
			require.Equal(t, plans, plansAfter)
		})
	}
}

// TestPayloadLinksConfig checks payload_m: unset builds payload links with
// M (Qdrant's default), 0 builds none, and a value hnsw cannot build is
// refused as m is.
func TestPayloadLinksConfig(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	thr, fst, one, zero := 240, 10, 1, 0
	err := db.CreateCollection(bg, "bad", &CreateCollection{
		Vectors: VectorsConfig{"": {Size: 64, Distance: distance.Euclid}},
		HNSW:    &HnswConfigDiff{PayloadM: &one},
	})
	require.ErrorContains(t, err, "payload_m")
	for _, tc := range []struct {
		payloadM *int
		plan     string
	}{{nil, "graph-links"}, {&zero, "graph-two-hop"}} {
		require.NoError(t, db.CreateCollection(bg, "c", &CreateCollection{
			Vectors:    VectorsConfig{"": {Size: 64, Distance: distance.Euclid}},
			HNSW:       &HnswConfigDiff{FullScanThreshold: &fst, PayloadM: tc.payloadM},
			Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
		}))
		_, err = db.CreateFieldIndex(bg, "c", "class", payload.IndexParams{Type: payload.TypeInteger}, &WriteOptions{Wait: true})
		require.NoError(t, err)
		testPoints(t, db, "c", 3000, 64, 3)
		require.NoError(t, db.Optimize(bg, "c"))
		var st SearchStats
		_, err = db.Search(bg, "c", &SearchRequest{Vector: randVecs(5, 1, 64)[0], Limit: 10,
			Filter: mustFilter(t, `{"must":[{"key":"class","match":{"value":3}}]}`), Stats: &st})
		require.NoError(t, err)
		require.Equal(t, tc.plan, st.Plan, "payload_m %v", tc.payloadM)
		_, err = db.DeleteCollection(bg, "c")
		require.NoError(t, err)
	}
}
