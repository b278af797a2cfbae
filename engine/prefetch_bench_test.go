package engine

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkPrefetchTree measures a hybrid query (a dense HNSW prefetch and
// a sparse BM25-like prefetch, 20 points each, fused with RRF, top 10) over
// 20k points in sealed segments, against its two parts run alone as
// queries of their own: dense and sparse. The tree's overhead is
// tree / (dense + sparse) - 1, which part=interleaved reports (overhead-%)
// from the three run one after the other on each query; compare with
//
//	go test ./engine -run '^$' -bench PrefetchTree -count=10 | tee /tmp/tree.txt
//	benchstat -col /part /tmp/tree.txt
func BenchmarkPrefetchTree(b *testing.B) {
	const n, dim = 20000, 64
	db := openTestDB(b, b.TempDir(), testOpts())
	var req CreateCollection
	require.NoError(b, json.Unmarshal([]byte(`{"vectors": {"d": {"size": 64, "distance": "Cosine"}}, "sparse_vectors": {"s": {}},
		"optimizers_config": {"indexing_threshold": 1}}`), &req))
	require.NoError(b, db.CreateCollection(bg, "c", &req))
	rng := rand.New(rand.NewPCG(16, 3))
	z := rand.NewZipf(rng, 1.1, 1, benchVocab-1)
	for i := 0; i < n; i += 500 {
		pts := make([]Point, 0, 500)
		for j := i; j < i+500; j++ {
			pts = append(pts, Point{ID: numID(uint64(j)), Vectors: map[string][]float32{"d": randVec(rng, dim)},
				Sparse: map[string]SparseVector{"s": bm25Doc(rng, z)}})
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(b, err)
	}
	require.NoError(b, db.Optimize(bg, "c"))
	require.NoError(b, db.WaitGreen(bg, "c", 50*time.Millisecond))

	type pair struct {
		dense  []float32
		sparse SparseVector
	}
	queries := make([]pair, 256)
	for i := range queries {
		queries[i] = pair{randVec(rng, dim), bm25Query(rng, z)}
	}
	dense := func(q *pair) Prefetch {
		return Prefetch{Query: &Query{Nearest: &Example{Vector: q.dense}}, Using: "d", Limit: 20}
	}
	sparse := func(q *pair) Prefetch {
		return Prefetch{Query: &Query{Nearest: &Example{Sparse: &q.sparse}}, Using: "s", Limit: 20}
	}
	// alone is a prefetch run as a query of its own.
	alone := func(p Prefetch) *QueryRequest {
		return &QueryRequest{Query: p.Query, Using: p.Using, Limit: p.Limit}
	}
	parts := []struct {
		name string
		req  func(q *pair) *QueryRequest
	}{
		{"dense", func(q *pair) *QueryRequest { return alone(dense(q)) }},
		{"sparse", func(q *pair) *QueryRequest { return alone(sparse(q)) }},
		{"tree", func(q *pair) *QueryRequest {
			return &QueryRequest{Prefetch: []Prefetch{dense(q), sparse(q)}, Query: &Query{Fusion: &Fusion{Method: FusionRRF}}, Limit: 10}
		}},
	}
	// part=interleaved runs the tree and its two parts one after the other
	// on each query, in turns, so that the load of the machine and the
	// caches weigh on both alike, and reports the tree's time over the
	// parts' as overhead-%.
	b.Run("part=interleaved", func(b *testing.B) {
		var tree, alone time.Duration
		run := func(q *pair, ps ...int) time.Duration {
			t0 := time.Now()
			for _, p := range ps {
				if _, err := db.Query(bg, "c", parts[p].req(q)); err != nil {
					b.Fatal(err)
				}
			}
			return time.Since(t0)
		}
		for i := range b.N {
			// Whichever runs second finds the query's data in the caches:
			// the order alternates.
			q := &queries[i%len(queries)]
			if i%2 == 0 {
				alone += run(q, 0, 1)
				tree += run(q, 2)
			} else {
				tree += run(q, 2)
				alone += run(q, 0, 1)
			}
		}
		b.ReportMetric(100*(float64(tree)/float64(alone)-1), "overhead-%")
	})
	for _, p := range parts {
		b.Run("part="+p.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				if _, err := db.Query(bg, "c", p.req(&queries[i%len(queries)])); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
