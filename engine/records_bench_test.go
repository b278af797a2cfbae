package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// fillWide creates collection "c" with on_disk_payload onDisk and n points
// of dim random dimensions (Cosine) and a small payload: "tag" (i%50,
// unindexed), "itag" (the same, with an integer index) and a short
// string. With seal, the optimizer indexes them.
func fillWide(t testing.TB, db *DB, onDisk bool, n, dim int, seal bool) {
	t.Helper()
	require.NoError(t, db.CreateCollection(bg, "c", &CreateCollection{
		Vectors:       VectorsConfig{"": {Size: uint64(dim), Distance: distance.Cosine}},
		OnDiskPayload: &onDisk,
	}))
	_, err := db.CreateFieldIndex(bg, "c", "itag", payload.IndexParams{Type: payload.TypeInteger}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(7, uint64(dim)))
	const batch = 500
	for from := 0; from < n; from += batch {
		pts := make([]Point, 0, batch)
		for i := from; i < min(n, from+batch); i++ {
			v := make([]float32, dim)
			for k := range v {
				v[k] = rng.Float32()
			}
			pts = append(pts, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": v},
				Payload: obj("tag", i%50, "itag", i%50, "name", fmt.Sprintf("item-%06d", i))})
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
	}
	if seal {
		require.NoError(t, db.Optimize(bg, "c"))
	}
}

// BenchmarkWidePayloads compares payloads on disk with payloads in RAM in
// a collection of wide vectors (784 dimensions, Fashion-MNIST's) and small
// payloads, where a point's vector is 60 times the size of its payload: a
// search filtered on an unindexed field (which reads the payloads of every
// point it tests), the same filter on an indexed field, an unfiltered
// search, and the retrieval of 10 points with their payloads. Compare with
// benchstat -col /on_disk_payload.
func BenchmarkWidePayloads(b *testing.B) {
	const n, dim = 10000, 784
	for _, onDisk := range []bool{false, true} {
		b.Run(fmt.Sprint("on_disk_payload=", onDisk), func(b *testing.B) {
			db := openTestDB(b, b.TempDir(), testOpts())
			fillWide(b, db, onDisk, n, dim, true)
			rng := rand.New(rand.NewPCG(1, 2))
			q := make([]float32, dim)
			search := func(b *testing.B, f string) {
				var flt *filter.Filter
				if f != "" {
					flt = mustFilter(b, f)
				}
				b.ReportAllocs()
				for b.Loop() {
					for k := range q {
						q[k] = rng.Float32()
					}
					hits, err := db.Search(bg, "c", &SearchRequest{Vector: q, Filter: flt, Limit: 10, WithPayload: AllPayload})
					if err != nil || len(hits) != 10 {
						b.Fatal(err, len(hits))
					}
				}
			}
			b.Run("op=filtered_unindexed", func(b *testing.B) { search(b, `{"must":[{"key":"tag","match":{"value":3}}]}`) })
			b.Run("op=filtered_indexed", func(b *testing.B) { search(b, `{"must":[{"key":"itag","match":{"value":3}}]}`) })
			b.Run("op=unfiltered", func(b *testing.B) { search(b, "") })
			b.Run("op=get_with_payload", func(b *testing.B) { benchGetWithPayload(b, db, n) })
		})
	}
}

// BenchmarkWideReopen opens a database holding 60000 points of 784
// dimensions and a small payload (Fashion-MNIST's shape), payloads on
// disk, not indexed: the cost of reading every point record.
func BenchmarkWideReopen(b *testing.B) {
	const n, dim = 60000, 784
	dir := b.TempDir()
	db, err := Open(dir, testOpts())
	require.NoError(b, err)
	fillWide(b, db, true, n, dim, false)
	require.NoError(b, db.Close())
	b.Run("n=60k/dim=784", func(b *testing.B) {
		for b.Loop() {
			db, err := Open(dir, testOpts())
			require.NoError(b, err)
			require.NoError(b, db.Close())
		}
		b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "points/s")
	})
}

// benchGetWithPayload retrieves 10 of the n points of collection "c" with
// their payloads per iteration.
func benchGetWithPayload(b *testing.B, db *DB, n int) {
	b.ReportAllocs()
	ids := make([]PointID, 10)
	for i := 0; b.Loop(); i++ {
		for k := range ids {
			ids[k] = numID(uint64((i*7919 + k*104729) % n))
		}
		recs, err := db.Get(bg, "c", ids, &ReadOptions{WithPayload: AllPayload})
		if err != nil || len(recs) != len(ids) {
			b.Fatal(err, len(recs))
		}
	}
}
