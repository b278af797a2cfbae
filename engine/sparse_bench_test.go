package engine

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload"
)

// bm25Doc returns a synthetic BM25-like document vector: 10 to 90 distinct
// terms drawn from a Zipfian vocabulary of vocab words (s = 1.1, as words
// of English text), each weighted as BM25 weighs a term frequency tf in a
// document of that length (k1 = 1.2, b = 0.75, average length 50).
func bm25Doc(rng *rand.Rand, z *rand.Zipf) SparseVector {
	length := 10 + rng.IntN(81)
	tf := map[uint32]int{}
	for range length {
		tf[uint32(z.Uint64())]++
	}
	v := SparseVector{Indices: make([]uint32, 0, len(tf)), Values: make([]float32, 0, len(tf))}
	norm := 1.2 * (1 - 0.75 + 0.75*float64(length)/50)
	for d, n := range tf {
		v.Indices = append(v.Indices, d)
		v.Values = append(v.Values, float32(float64(n)*2.2/(float64(n)+norm)))
	}
	return v
}

// bm25Query returns a query of 2 to 6 terms from the same vocabulary, each
// of weight 1 (as Qdrant's BM25 queries).
func bm25Query(rng *rand.Rand, z *rand.Zipf) SparseVector {
	var q SparseVector
	seen := map[uint32]bool{}
	for range 2 + rng.IntN(5) {
		d := uint32(z.Uint64())
		if !seen[d] {
			seen[d] = true
			q.Indices = append(q.Indices, d)
			q.Values = append(q.Values, 1)
		}
	}
	return q
}

const benchVocab = 50000

// newSparseBenchDB opens a database with a collection "c" of one sparse
// vector "s" whose segments the optimizer seals at once (indexing
// threshold 1 KB).
func newSparseBenchDB(b *testing.B, modifier string) (*DB, string) {
	dir := b.TempDir()
	db, err := Open(dir, testOpts())
	require.NoError(b, err)
	var req CreateCollection
	require.NoError(b, json.Unmarshal([]byte(`{"sparse_vectors": {"s": {"modifier": "`+modifier+`"}},
		"optimizers_config": {"indexing_threshold": 1}}`), &req))
	require.NoError(b, db.CreateCollection(bg, "c", &req))
	return db, dir
}

func uploadSparse(b *testing.B, db *DB, rng *rand.Rand, z *rand.Zipf, from, n int) int {
	nnz := 0
	const batch = 256
	for i := from; i < from+n; i += batch {
		pts := make([]Point, 0, batch)
		for j := i; j < min(i+batch, from+n); j++ {
			v := bm25Doc(rng, z)
			nnz += len(v.Indices)
			pts = append(pts, Point{ID: numID(uint64(j)), Sparse: map[string]SparseVector{"s": v}, Payload: obj("rnd", j%100)})
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(b, err)
	}
	return nnz
}

// BenchmarkSparseUpload measures upserting BM25-like sparse documents in
// batches of 256 (docs/s and stored entries/s).
func BenchmarkSparseUpload(b *testing.B) {
	db, _ := newSparseBenchDB(b, "idf")
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	z := rand.NewZipf(rng, 1.1, 1, benchVocab-1)
	b.ReportAllocs()
	b.ResetTimer()
	const perOp = 256
	nnz := 0
	for i := range b.N {
		nnz += uploadSparse(b, db, rng, z, i*perOp, perOp)
	}
	b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(nnz)/float64(b.N*perOp), "nnz/doc")
}

// BenchmarkSparseSearch measures top-10 searches of 2-6 term queries over
// 50k BM25-like documents in a sealed segment: plain, with IDF, and
// filtered (1%, 50% and 100% of the points: a filter stops the pruning of
// long posting lists, so 100% measures the walk without it).
func BenchmarkSparseSearch(b *testing.B) {
	for _, modifier := range []string{"none", "idf"} {
		db, _ := newSparseBenchDB(b, modifier)
		rng := rand.New(rand.NewPCG(2, 2))
		z := rand.NewZipf(rng, 1.1, 1, benchVocab-1)
		uploadSparse(b, db, rng, z, 0, 50000)
		_, err := db.CreateFieldIndex(bg, "c", "rnd", payload.IndexParams{Type: payload.TypeInteger}, nil)
		require.NoError(b, err)
		require.NoError(b, db.Optimize(bg, "c"))
		for _, sel := range []int{-1, 1, 50, 100} {
			name := fmt.Sprintf("modifier=%s/n=50k", modifier)
			req := SearchRequest{Using: "s", Limit: 10}
			if sel > 0 {
				name += fmt.Sprintf("/filter=%d%%", sel)
				req.Filter = mustFilter(b, fmt.Sprintf(`{"must":[{"key":"rnd","range":{"lt":%d}}]}`, sel))
			}
			queries := make([]SparseVector, 256)
			for i := range queries {
				queries[i] = bm25Query(rng, z)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for i := range b.N {
					r := req
					r.Sparse = &queries[i%len(queries)]
					if _, err := db.Search(bg, "c", &r); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
			})
		}
		require.NoError(b, db.Close())
	}
}

// BenchmarkSparseReopen measures opening a database holding 50k sealed
// BM25-like documents, which rebuilds their inverted index from the point
// records, against opening the same documents stored as payload only (the
// same records without sparse vectors): the difference is the cost of the
// rebuild.
func BenchmarkSparseReopen(b *testing.B) {
	for _, withSparse := range []bool{true, false} {
		db, dir := newSparseBenchDB(b, "none")
		rng := rand.New(rand.NewPCG(3, 3))
		z := rand.NewZipf(rng, 1.1, 1, benchVocab-1)
		const n = 50000
		for i := 0; i < n; i += 256 {
			pts := make([]Point, 0, 256)
			for j := i; j < min(i+256, n); j++ {
				v := bm25Doc(rng, z)
				p := Point{ID: numID(uint64(j))}
				if withSparse {
					p.Sparse = map[string]SparseVector{"s": v}
				} else {
					// The same bytes as a payload array.
					p.Payload = obj("pad", string(make([]byte, 8*len(v.Indices))))
				}
				pts = append(pts, p)
			}
			_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
			require.NoError(b, err)
		}
		require.NoError(b, db.Optimize(bg, "c"))
		segs, err := db.Segments(bg, "c")
		require.NoError(b, err)
		require.False(b, segs[0].Appendable, "the documents are sealed")
		require.NoError(b, db.Close())
		b.Run(fmt.Sprintf("sparse=%v/n=50k", withSparse), func(b *testing.B) {
			for range b.N {
				db, err := Open(dir, testOpts())
				require.NoError(b, err)
				require.NoError(b, db.Close())
			}
			b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "docs/s")
		})
	}
}
