package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/telemetry"
	"github.com/qlite/qlite/telemetry/otlptest"
)

// telemetryBench is the database BenchmarkSearchTelemetry searches: all of
// Fashion-MNIST (euclidean), uploaded and indexed once into the user's cache
// directory and reused by later processes, so that each mode can be
// measured in processes of its own (see BenchmarkSearchTelemetry).
var telemetryBench struct {
	once sync.Once
	dir  string
	ds   *Dataset
	gt   *GroundTruth
	ef   int
	rec  float64
	err  error
}

// telemetryQueries is the number of queries BenchmarkSearchTelemetry cycles
// through.
const telemetryQueries = 1000

// BenchmarkSearchTelemetry measures engine searches over the whole of
// Fashion-MNIST at the smallest ef reaching recall benchRecall, one query
// per op, with telemetry off, with providers from telemetry.Setup whose
// sampler never samples, and with every span sampled and exported by the
// batch span processor over OTLP/gRPC to an in-process receiver (metrics
// exported too). It reports "exported" (spans received per search: a value
// below 1 means the batch processor dropped spans) for the sampled run.
//
// Searches over a 190 MB graph are sensitive to where the process's memory
// lies and to what earlier runs left in its heap, so measure each mode in
// fresh processes, alternating:
//
//	for i in $(seq 10); do for m in off never_sample always_on; do
//	  go test ./bench -run XXX -bench "SearchTelemetry/telemetry=$m\$" -benchtime 2s
//	done; done > tel.txt
//	benchstat -col /telemetry tel.txt
func BenchmarkSearchTelemetry(b *testing.B) {
	tb := &telemetryBench
	tb.once.Do(func() { tb.err = buildTelemetryBench(b) })
	if errors.Is(tb.err, ErrNotInstalled) {
		b.Skipf("Fashion-MNIST is not installed in %s (apt-get install dataset-fashion-mnist): %v", DefaultFashionMNISTDir, tb.err)
	}
	if tb.err != nil {
		b.Fatal(tb.err)
	}
	modes := []struct {
		name string
		env  map[string]string // nil: telemetry off
	}{
		{"off", nil},
		{"never_sample", map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}},
		{"always_on", map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}},
	}
	for _, m := range modes {
		b.Run("telemetry="+m.name, func(b *testing.B) { searchWithTelemetry(b, m.env) })
	}
}

// buildTelemetryBench loads Fashion-MNIST, builds its database unless an
// earlier process has, and picks the ef.
func buildTelemetryBench(b *testing.B) error {
	tb := &telemetryBench
	ctx := context.Background()
	ds, err := LoadDataset("fashion-mnist-784-euclidean", nil)
	if err != nil {
		return err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	cache = filepath.Join(cache, "qlite")
	gt, err := ds.GroundTruth(ctx, min(telemetryQueries, ds.NQ), benchK, &GroundTruthOptions{CacheDir: cache})
	if err != nil {
		return err
	}
	tb.dir = filepath.Join(cache, "telemetry-bench-"+ds.Name)
	if _, err := os.Stat(filepath.Join(tb.dir, "complete")); err != nil {
		if err := buildTelemetryDB(ctx, tb.dir, ds); err != nil {
			return err
		}
	}
	db, err := engine.Open(tb.dir, &engine.Options{IndexingWorkers: benchConfig().Threads})
	if err != nil {
		return err
	}
	defer db.Close()
	tb.ds, tb.gt = ds, gt
	tb.ef, tb.rec = pickEf(b, gt, func(i, ef int, row []int32) {
		hits, err := db.Search(ctx, remoteCollection, &engine.SearchRequest{Vector: ds.Query(i), Limit: benchK, HnswEf: ef})
		if err != nil {
			b.Fatal(err)
		}
		for j, h := range hits {
			n, _ := h.ID.Num()
			row[j] = int32(n)
		}
	})
	return nil
}

// buildTelemetryDB uploads ds into a new database in dir, marked complete
// once indexed.
func buildTelemetryDB(ctx context.Context, dir string, ds *Dataset) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	db, err := engine.Open(dir, &engine.Options{IndexingWorkers: benchConfig().Threads})
	if err != nil {
		return err
	}
	c := benchConfig()
	err = db.CreateCollection(ctx, remoteCollection, &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: uint64(ds.Dim), Distance: ds.Metric}},
		HNSW:    &engine.HnswConfigDiff{M: &c.M, EfConstruct: &c.EfConstruct},
	})
	for _, pts := range pointBatches(ds) {
		if err != nil {
			break
		}
		_, err = db.Upsert(ctx, remoteCollection, &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true})
	}
	if err == nil {
		err = db.WaitGreen(ctx, remoteCollection, 20*time.Millisecond)
	}
	if err := errors.Join(err, db.Close()); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644)
}

// searchWithTelemetry opens the benchmark database with providers set up
// from env pointed at a fresh receiver (no providers when env is nil) and
// measures searches.
func searchWithTelemetry(b *testing.B, env map[string]string) {
	tb := &telemetryBench
	ctx := context.Background()
	opts := &engine.Options{IndexingWorkers: benchConfig().Threads}
	var rcv *otlptest.Receiver
	var prov *telemetry.Providers
	if env != nil {
		rcv = otlptest.Start(b)
		rcv.Discard()
		vars := map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + rcv.Endpoint(),
			"OTEL_SERVICE_NAME":           "qlite-bench",
		}
		for k, v := range env {
			vars[k] = v
		}
		var err error
		prov, err = telemetry.Setup(ctx, telemetry.Config{Getenv: func(k string) string { return vars[k] }})
		if err != nil {
			b.Fatal(err)
		}
		defer prov.Shutdown(ctx)
		prov.EngineOptions(opts)
	}
	db, err := engine.Open(tb.dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.WaitGreen(ctx, remoteCollection, 5*time.Millisecond); err != nil {
		b.Fatal(err)
	}
	// What earlier runs left in the heap goes back to the OS before the
	// timed loop.
	debug.FreeOSMemory()
	nq := tb.gt.Rows()
	req := engine.SearchRequest{Limit: benchK, HnswEf: tb.ef}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req.Vector = tb.ds.Query(i % nq)
		if _, err := db.Search(ctx, remoteCollection, &req); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportSearch(b, tb.ef, tb.rec)
	if rcv != nil && env["OTEL_TRACES_SAMPLER"] == "always_on" {
		if err := prov.ForceFlush(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rcv.SpanCount())/float64(i), "exported")
	}
}
