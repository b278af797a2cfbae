package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/bench/cputime"
	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/hnsw"
)

// BenchmarkEmbeddedPaths measures one query at a time through the three
// ways a Go program searches in process, over the same data: the raw graph
// (hnsw), the engine (engine.DB.Search) and go-client's API over the engine
// (compat.NewEmbedded), each at the smallest ef of benchEfs reaching
// benchRecall on its own graph. The engine's graph is built by its
// optimizer from the same points with the same M and ef_construct.
//
//	go test ./bench -run XXX -bench EmbeddedPaths -count 10 | benchstat -col /path -
func BenchmarkEmbeddedPaths(b *testing.B) {
	ds, gt := loadBench(b)
	ctx := context.Background()
	c := benchConfig()

	g, err := hnsw.New(newFlatVectors(ds.Metric, ds.Base, ds.Dim), &hnsw.Config{M: c.M, EfConstruct: c.EfConstruct, Seed: c.Seed})
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Build(allIDs(ds.N), c.Threads); err != nil {
		b.Fatal(err)
	}

	db, cl := openBenchDB(b, c)
	coll := cl.coll
	if err := createCollection(ctx, c, cl, ds, nil); err != nil {
		b.Fatal(err)
	}
	if err := uploadBase(ctx, cl, ds, nil, nil); err != nil {
		b.Fatal(err)
	}
	if err := db.WaitGreen(ctx, coll, 20*time.Millisecond); err != nil {
		b.Fatal(err)
	}

	buf := make([]hnsw.Result, 0, benchK)
	raw := func(i, ef int, row []int32) {
		buf = g.SearchInto(buf, ds.Query(i), benchK, ef, nil)
		for j := range buf {
			row[j] = int32(buf[j].ID)
		}
	}
	eng := func(i, ef int, row []int32) {
		hits, err := db.Search(ctx, coll, &engine.SearchRequest{Vector: ds.Query(i), Limit: benchK, HnswEf: ef})
		if err != nil {
			b.Fatal(err)
		}
		for j, h := range hits {
			n, _ := h.ID.Num()
			row[j] = int32(n)
		}
	}
	emb := compat.NewEmbedded(db)
	viaClient := func(i, ef int, row []int32) {
		pts, err := emb.Query(ctx, &qdrant.QueryPoints{
			CollectionName: coll,
			Query:          qdrant.NewQueryDense(ds.Query(i)),
			Limit:          qdrant.PtrOf(uint64(benchK)),
			Params:         &qdrant.SearchParams{HnswEf: qdrant.PtrOf(uint64(ef))},
		})
		if err != nil {
			b.Fatal(err)
		}
		for j, p := range pts {
			row[j] = int32(p.GetId().GetNum())
		}
	}
	row := make([]int32, benchK)
	for _, p := range []struct {
		name   string
		search func(i, ef int, row []int32)
	}{{"hnsw", raw}, {"engine", eng}, {"compat", viaClient}} {
		b.Run("path="+p.name, func(b *testing.B) { benchPath(b, gt, p.search, row) })
	}
}

// BenchmarkServedQuery measures go-client queries to qlite's gRPC server in
// this process over loopback, over the whole of Fashion-MNIST (the database
// of BenchmarkSearchTelemetry) at the ef reaching benchRecall, with 1 and 8
// concurrent clients; one op is one query. With -cpuprofile it shows what
// the server spends beside the search (decoding, conversion, allocation,
// locks) under load.
//
//	go test ./bench -run XXX -bench ServedQuery -cpuprofile cpu.out
func BenchmarkServedQuery(b *testing.B) {
	tb := loadTelemetryBench(b)
	ctx := context.Background()
	db, err := engine.Open(tb.dir, &engine.Options{IndexingWorkers: benchConfig().Threads})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	srv := compat.NewServer(db, &compat.ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	_, addr, err := srv.Addrs(ctx)
	if err != nil {
		b.Fatal(err)
	}
	cl, err := dialGRPC(addr)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	nq := tb.gt.Rows()
	for _, workers := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var next atomic.Int64
			query := func() error {
				i := int(next.Add(1)) % nq
				_, err := cl.Query(ctx, &qdrant.QueryPoints{
					CollectionName: remoteCollection,
					Query:          qdrant.NewQueryDense(tb.ds.Query(i)),
					Limit:          qdrant.PtrOf(uint64(benchK)),
					Params:         &qdrant.SearchParams{HnswEf: qdrant.PtrOf(uint64(tb.ef))},
				})
				return err
			}
			b.ReportAllocs()
			if workers == 1 {
				for b.Loop() {
					if err := query(); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(max(1, workers/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := query(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
		})
	}
}

// BenchmarkEmbeddedFiltered measures filtered queries one at a time through
// the two embedded paths (engine.DB.Search and go-client's API over the
// engine, compat.NewEmbedded) with the filtered workload's "rnd" range
// filter at 0.1% and 1% of the base, payload indexes on: selectivities at
// which the segment scores the matching points exactly, so that what a
// query costs beside its few distances shows. Each case runs at the
// smallest ef of benchEfs reaching benchRecall against the case's exact
// filtered ground truth.
//
//	go test ./bench -run XXX -bench EmbeddedFiltered -cpuprofile cpu.out
func BenchmarkEmbeddedFiltered(b *testing.B) {
	ctx := context.Background()
	ds, c, fw := loadFilteredBench(b, 0.001, 0.01)
	db, cl := openBenchDB(b, c)
	coll := cl.coll
	if _, _, err := uploadEmbedded(ctx, c, db, cl, ds, fw, nil, nil); err != nil {
		b.Fatal(err)
	}
	row := make([]int32, benchK)
	for ci, fc := range fw.cases {
		filters, err := fc.queryFilters(benchQueries)
		if err != nil {
			b.Fatal(err)
		}
		groups, err := prepareGroups(cl, fc)
		if err != nil {
			b.Fatal(err)
		}
		eng := func(i, ef int, row []int32) {
			req := &engine.SearchRequest{Vector: ds.Query(i), Filter: filters[i], Limit: benchK, HnswEf: ef}
			if err := engineSearch(ctx, db, coll, req, row); err != nil {
				b.Fatal(err)
			}
		}
		viaClient := func(i, ef int, row []int32) {
			if err := cl.search(ctx, ds.Query(i), benchK, ef, groups[fc.QueryGroup[i]], row); err != nil {
				b.Fatal(err)
			}
		}
		for _, p := range []struct {
			name   string
			search func(i, ef int, row []int32)
		}{{"engine", eng}, {"compat", viaClient}} {
			b.Run(fmt.Sprintf("sel=%v/path=%s", c.FilterSelectivity[ci], p.name), func(b *testing.B) {
				benchPath(b, fw.gts[ci], p.search, row)
			})
		}
	}
}

// benchPath measures search, one query per op over gt's queries, at the
// smallest ef of benchEfs reaching benchRecall, with its allocations and
// the process's CPU time per query.
func benchPath(b *testing.B, gt *GroundTruth, search func(i, ef int, row []int32), row []int32) {
	ef, recall := pickEf(b, gt, search)
	nq := gt.Rows()
	b.ReportAllocs()
	i := 0
	cpu0 := cputime.Now()
	for b.Loop() {
		search(i%nq, ef, row)
		i++
	}
	cputime.Report(b, cputime.Now()-cpu0)
	reportSearch(b, ef, recall)
}

// openBenchDB opens an empty database in a temporary directory, closed
// when b ends, and go-client's API over it (compat.NewEmbedded) for
// collection "bench".
func openBenchDB(b *testing.B, c *Config) (*engine.DB, *grpcRemote) {
	b.Helper()
	db, err := engine.Open(b.TempDir(), &engine.Options{IndexingWorkers: c.Threads})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db, &grpcRemote{c: compat.NewEmbedded(db), coll: "bench"}
}

// BenchmarkPathFixedCost measures what a query costs beside its search on
// the two embedded paths of BenchmarkEmbeddedPaths (engine.DB.Search and
// go-client's API over the engine): over a collection of the first
// fixedCostPoints points of Fashion-MNIST, which the segment scores in
// full (no graph at that size), a query is ten results and the path's own
// work (checks, validation, ids and versions, the result and its
// conversion) is most of its cost. One op is one query.
//
//	go test ./bench -run XXX -bench PathFixedCost -count 10 | benchstat -col /path -
func BenchmarkPathFixedCost(b *testing.B) {
	const fixedCostPoints = 16
	ds, err := LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{MaxPoints: fixedCostPoints})
	if errors.Is(err, ErrNotInstalled) {
		b.Skipf("Fashion-MNIST is not installed in %s: %v", DefaultFashionMNISTDir, err)
	}
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c := benchConfig()
	db, cl := openBenchDB(b, c)
	if err := createCollection(ctx, c, cl, ds, nil); err != nil {
		b.Fatal(err)
	}
	if err := uploadBase(ctx, cl, ds, nil, nil); err != nil {
		b.Fatal(err)
	}
	emb := compat.NewEmbedded(db)
	nq := min(ds.NQ, benchQueries)
	for _, p := range []struct {
		name   string
		search func(i int) (int, error)
	}{
		{"engine", func(i int) (int, error) {
			hits, err := db.Search(ctx, cl.coll, &engine.SearchRequest{Vector: ds.Query(i), Limit: benchK, HnswEf: benchEfs[0]})
			return len(hits), err
		}},
		{"compat", func(i int) (int, error) {
			pts, err := emb.Query(ctx, &qdrant.QueryPoints{
				CollectionName: cl.coll,
				Query:          qdrant.NewQueryDense(ds.Query(i)),
				Limit:          qdrant.PtrOf(uint64(benchK)),
				Params:         &qdrant.SearchParams{HnswEf: qdrant.PtrOf(uint64(benchEfs[0]))},
			})
			return len(pts), err
		}},
	} {
		b.Run("path="+p.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			cpu0 := cputime.Now()
			for b.Loop() {
				n, err := p.search(i % nq)
				if err != nil {
					b.Fatal(err)
				}
				if n != benchK {
					b.Fatalf("query %d: %d results, want %d", i%nq, n, benchK)
				}
				i++
			}
			cputime.Report(b, cputime.Now()-cpu0)
		})
	}
}
