package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// The go test -bench suites measure the first benchPoints base points of
// Fashion-MNIST (euclidean) and its first benchQueries queries, each search
// at the smallest ef of benchEfs reaching recall@benchK benchRecall. They
// report "recall" and "qps" (searches) or "points/s" (builds and uploads)
// next to ns/op, for benchstat:
//
//	go test ./bench -run XXX -bench . -count 10 > new.txt
//	benchstat old.txt new.txt
const (
	benchPoints  = 10000
	benchQueries = 200
	benchK       = 10
	benchRecall  = 0.95
)

// benchEfs are the candidate efs of a search benchmark, ascending.
var benchEfs = []int{10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}

// benchConfig is the build configuration of the benchmarks: the run
// defaults, all cores.
func benchConfig() *Config {
	return &Config{M: 16, EfConstruct: 100, K: benchK, Seed: 42, Repeat: 1, Threads: runtime.GOMAXPROCS(0)}
}

// loadBench loads the benchmark data and its exact ground truth, cached in
// a temporary directory, or skips b when Fashion-MNIST is not installed.
func loadBench(b *testing.B) (*Dataset, *GroundTruth) {
	b.Helper()
	ds, err := LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{MaxPoints: benchPoints})
	if errors.Is(err, ErrNotInstalled) {
		b.Skipf("Fashion-MNIST is not installed in %s (apt-get install dataset-fashion-mnist): %v", DefaultFashionMNISTDir, err)
	}
	if err != nil {
		b.Fatal(err)
	}
	if ds.N < benchPoints || ds.NQ < benchQueries {
		b.Fatalf("Fashion-MNIST has %d points and %d queries, want at least %d and %d", ds.N, ds.NQ, benchPoints, benchQueries)
	}
	gt, err := ds.GroundTruth(context.Background(), benchQueries, benchK, &GroundTruthOptions{CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	return ds, gt
}

// pickEf returns the smallest ef of benchEfs at which search reaches
// benchRecall over the queries, else the largest, with the recall there.
// search writes the ids query i found into row (benchK slots, preset to
// -1).
func pickEf(b *testing.B, gt *GroundTruth, search func(i, ef int, row []int32)) (int, float64) {
	b.Helper()
	nq := gt.Rows()
	found := make([]int32, nq*benchK)
	var ef int
	var recall float64
	for _, ef = range benchEfs {
		for i := range found {
			found[i] = -1
		}
		for i := range nq {
			search(i, ef, found[i*benchK:(i+1)*benchK])
		}
		if recall = Recall(found, gt, benchK); recall >= benchRecall {
			break
		}
	}
	return ef, recall
}

// reportSearch reports the recall and the searches per second of a
// benchmark whose every op is one search.
func reportSearch(b *testing.B, ef int, recall float64) {
	b.ReportMetric(recall, "recall")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
	b.ReportMetric(float64(ef), "ef")
}

// reportPoints reports the points per second of a benchmark whose every op
// writes n points.
func reportPoints(b *testing.B, n int) {
	b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "points/s")
}

func allIDs(n int) []uint32 {
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = uint32(i)
	}
	return ids
}

// BenchmarkSearch measures qlite's raw graph: one op is one query, on the
// calling goroutine.
func BenchmarkSearch(b *testing.B) {
	ds, gt := loadBench(b)
	c := benchConfig()
	g, err := hnsw.New(newFlatVectors(ds.Metric, ds.Base, ds.Dim), &hnsw.Config{M: c.M, EfConstruct: c.EfConstruct, Seed: c.Seed})
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Build(allIDs(ds.N), c.Threads); err != nil {
		b.Fatal(err)
	}
	buf := make([]hnsw.Result, 0, benchK)
	ef, recall := pickEf(b, gt, func(i, ef int, row []int32) {
		buf = g.SearchInto(buf, ds.Query(i), benchK, ef, nil)
		for j := range buf {
			row[j] = int32(buf[j].ID)
		}
	})
	nq := gt.Rows()

	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = g.SearchInto(buf, ds.Query(i%nq), benchK, ef, nil)
		i++
	}
	reportSearch(b, ef, recall)
}

// loadFilteredBench loads the benchmark data with the filtered workload of
// "rnd" range filters at each selectivity of sels, and the benchmarks'
// configuration asking for it.
func loadFilteredBench(b *testing.B, sels ...float64) (*Dataset, *Config, *filteredWorkload) {
	b.Helper()
	ds, _ := loadBench(b)
	c := benchConfig()
	c.FilterKind = FilterKindRnd
	c.FilterSelectivity = sels
	c.Log = benchLog{b}
	c.CacheDir = b.TempDir()
	fw, err := prepareFiltered(context.Background(), c, ds, benchQueries)
	if err != nil {
		b.Fatal(err)
	}
	return ds, c, fw
}

// BenchmarkFilteredSearch measures qlite's segment with payloads and
// payload indexes under a filter on the uniform "rnd" field matching each
// selectivity of the base, one query per op; the segment plans every query.
func BenchmarkFilteredSearch(b *testing.B) {
	ctx := context.Background()
	ds, c, fw := loadFilteredBench(b, 0.01, 0.1)
	seg, err := buildSegment(ctx, c, ds, fw, &Result{})
	if err != nil {
		b.Fatal(err)
	}
	for ci, fc := range fw.cases {
		b.Run(fmt.Sprintf("sel=%v", c.FilterSelectivity[ci]), func(b *testing.B) {
			filters, err := fc.queryFilters(benchQueries)
			if err != nil {
				b.Fatal(err)
			}
			search := func(i, ef int) []segment.Hit {
				hits, err := seg.Search(ctx, "", ds.Query(i), benchK, &segment.SearchOptions{Filter: filters[i], Ef: ef})
				if err != nil {
					b.Fatal(err)
				}
				return hits
			}
			ef, recall := pickEf(b, fw.gts[ci], func(i, ef int, row []int32) {
				for j, h := range search(i, ef) {
					row[j] = int32(h.Off)
				}
			})

			b.ReportAllocs()
			i := 0
			for b.Loop() {
				search(i%benchQueries, ef)
				i++
			}
			reportSearch(b, ef, recall)
		})
	}
	runtime.KeepAlive(seg)
}

// BenchmarkInsert measures the build of qlite's graph over the base on all
// cores; one op is one whole build.
func BenchmarkInsert(b *testing.B) {
	ds, _ := loadBench(b)
	c := benchConfig()
	vecs := newFlatVectors(ds.Metric, ds.Base, ds.Dim)
	ids := allIDs(ds.N)

	b.ReportAllocs()
	b.SetBytes(int64(ds.N) * int64(ds.Dim) * 4)
	for b.Loop() {
		g, err := hnsw.New(vecs, &hnsw.Config{M: c.M, EfConstruct: c.EfConstruct, Seed: c.Seed})
		if err != nil {
			b.Fatal(err)
		}
		if err := g.Build(ids, c.Threads); err != nil {
			b.Fatal(err)
		}
	}
	reportPoints(b, ds.N)
}

// BenchmarkUpsertEngine measures the embedded engine's upsert of the base
// into a new collection in batches of uploadBatch, each with Wait; one op is
// the whole upload. Background indexing is left to finish, and the
// collection dropped, outside the timer.
func BenchmarkUpsertEngine(b *testing.B) {
	ds, _ := loadBench(b)
	ctx := context.Background()
	db := openBenchEngine(b)
	batches := pointBatches(ds)
	m, efc := 16, 100

	b.ReportAllocs()
	b.SetBytes(int64(ds.N) * int64(ds.Dim) * 4)
	for b.Loop() {
		b.StopTimer()
		err := db.CreateCollection(ctx, "bench", &engine.CreateCollection{
			Vectors: engine.VectorsConfig{"": {Size: uint64(ds.Dim), Distance: ds.Metric}},
			HNSW:    &engine.HnswConfigDiff{M: &m, EfConstruct: &efc},
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, pts := range batches {
			if _, err := db.Upsert(ctx, "bench", &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if err := db.WaitGreen(ctx, "bench", 10*time.Millisecond); err != nil {
			b.Fatal(err)
		}
		if _, err := db.DeleteCollection(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportPoints(b, ds.N)
}

// BenchmarkUpsertGRPC measures the same upload as a client would: through
// compat's gRPC server on a loopback port and go-client, in batches of
// uploadBatch with wait; one op is the whole upload.
func BenchmarkUpsertGRPC(b *testing.B) {
	ds, _ := loadBench(b)
	ctx := context.Background()
	db := openBenchEngine(b)
	srv := compat.NewServer(db, &compat.ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			b.Error(err)
		}
	})
	_, grpcAddr, err := srv.Addrs(sctx)
	if err != nil {
		b.Fatal(err)
	}
	r, err := dialRemote("grpc://"+grpcAddr, "")
	if err != nil {
		b.Fatal(err)
	}
	defer r.close()
	type batch struct {
		ids  []uint64
		vecs [][]float32
	}
	var batches []batch
	for from := 0; from < ds.N; from += uploadBatch {
		var bt batch
		for i := from; i < min(ds.N, from+uploadBatch); i++ {
			bt.ids = append(bt.ids, uint64(i))
			bt.vecs = append(bt.vecs, ds.BaseVector(i))
		}
		batches = append(batches, bt)
	}

	b.ReportAllocs()
	b.SetBytes(int64(ds.N) * int64(ds.Dim) * 4)
	for b.Loop() {
		b.StopTimer()
		// create replaces the collection of the previous op.
		if err := r.create(ctx, ds.Dim, ds.Metric, 16, 100, onDisk{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, bt := range batches {
			if err := r.upload(ctx, bt.ids, bt.vecs); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if err := db.WaitGreen(ctx, remoteCollection, 10*time.Millisecond); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportPoints(b, ds.N)
}

// openBenchEngine opens a database in a temporary directory, closed with an
// invariant check when b ends.
func openBenchEngine(b *testing.B) *engine.DB {
	b.Helper()
	db, err := engine.Open(b.TempDir(), &engine.Options{IndexingWorkers: runtime.GOMAXPROCS(0)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := db.CheckInvariants(); err != nil {
			b.Error(err)
		}
		if err := db.Close(); err != nil {
			b.Error(err)
		}
	})
	return db
}

// pointBatches returns the base as engine points in batches of
// uploadBatch, each with the payload {"i": id} of the embedded target.
func pointBatches(ds *Dataset) [][]engine.Point {
	var batches [][]engine.Point
	for from := 0; from < ds.N; from += uploadBatch {
		pts := make([]engine.Point, 0, uploadBatch)
		for i := from; i < min(ds.N, from+uploadBatch); i++ {
			pts = append(pts, engine.Point{
				ID:      filter.NumID(uint64(i)),
				Vectors: map[string][]float32{"": ds.BaseVector(i)},
				Payload: payload.ObjectValue(payload.Field{Key: "i", Value: payload.IntValue(int64(i))}),
			})
		}
		batches = append(batches, pts)
	}
	return batches
}

// benchLog writes progress lines to the benchmark log, shown with -v.
type benchLog struct{ b *testing.B }

func (l benchLog) Write(p []byte) (int, error) {
	l.b.Log(string(p))
	return len(p), nil
}
