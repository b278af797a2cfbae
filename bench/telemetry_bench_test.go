package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
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
var telemetryBench telemetryDB

// telemetryDB is the benchmark database of the telemetry benchmarks, its
// dataset and ground truth, and the ef that reaches benchRecall on it.
type telemetryDB struct {
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
	loadTelemetryBench(b)
	for _, m := range []telemetryMode{telemetryOff, telemetryNeverSample, telemetryAlwaysOn} {
		b.Run("telemetry="+m.name, func(b *testing.B) { searchWithTelemetry(b, m) })
	}
}

// loadTelemetryBench builds telemetryBench once per process and returns it;
// it skips b when Fashion-MNIST is not installed.
func loadTelemetryBench(b *testing.B) *telemetryDB {
	tb := &telemetryBench
	tb.once.Do(func() { tb.err = buildTelemetryBench(b) })
	if errors.Is(tb.err, ErrNotInstalled) {
		b.Skipf("Fashion-MNIST is not installed in %s (apt-get install dataset-fashion-mnist): %v", DefaultFashionMNISTDir, tb.err)
	}
	if tb.err != nil {
		b.Fatal(tb.err)
	}
	return tb
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

// telemetryMode is a way of running the engine: its OTEL_* variables, or
// nil for telemetry off.
type telemetryMode struct {
	name string
	env  map[string]string
}

var (
	telemetryOff         = telemetryMode{"off", nil}
	telemetryNeverSample = telemetryMode{"never_sample", map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}}
	telemetryAlwaysOn    = telemetryMode{"always_on", map[string]string{"OTEL_TRACES_SAMPLER": "always_on"}}
)

// tracedDB is a benchmark database opened in a telemetry mode.
type tracedDB struct {
	db    *engine.DB
	prov  *telemetry.Providers // nil when off
	rcv   *otlptest.Receiver   // nil when off
	once  sync.Once
	spans int // received, once closed
}

// close closes the database, then shuts its providers down (exporting
// what is pending) and counts the spans received.
func (t *tracedDB) close() {
	t.once.Do(func() {
		t.db.Close()
		if t.prov != nil {
			t.prov.Shutdown(context.Background())
			t.spans = t.rcv.SpanCount()
		}
	})
}

// openTraced opens the database in dir with providers set up from env
// pointed at a fresh receiver that counts what it receives (no providers
// when env is nil), and waits until it is indexed. Cleanup closes it.
func openTraced(b *testing.B, dir string, env map[string]string) *tracedDB {
	ctx := context.Background()
	opts := &engine.Options{IndexingWorkers: benchConfig().Threads}
	t := &tracedDB{}
	if env != nil {
		t.rcv = otlptest.Start(b)
		t.rcv.Discard()
		vars := map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + t.rcv.Endpoint(),
			"OTEL_SERVICE_NAME":           "qlite-bench",
		}
		for k, v := range env {
			vars[k] = v
		}
		var err error
		t.prov, err = telemetry.Setup(ctx, telemetry.Config{Getenv: func(k string) string { return vars[k] }})
		if err != nil {
			b.Fatal(err)
		}
		t.prov.EngineOptions(opts)
	}
	db, err := engine.Open(dir, opts)
	if err != nil {
		t.prov.Shutdown(ctx)
		b.Fatal(err)
	}
	t.db = db
	b.Cleanup(t.close)
	if err := db.WaitGreen(ctx, remoteCollection, 5*time.Millisecond); err != nil {
		b.Fatal(err)
	}
	return t
}

// checkExported flushes t's spans and reports the spans received per
// search (below 1: the batch processor dropped spans).
func (t *tracedDB) checkExported(b *testing.B, searches int) {
	if err := t.prov.ForceFlush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(t.rcv.SpanCount())/float64(searches), "exported")
}

// searchWithTelemetry measures searches of the benchmark database opened
// in mode m.
func searchWithTelemetry(b *testing.B, m telemetryMode) {
	tb := &telemetryBench
	ctx := context.Background()
	t := openTraced(b, tb.dir, m.env)
	// What earlier runs left in the heap goes back to the OS before the
	// timed loop.
	debug.FreeOSMemory()
	nq := tb.gt.Rows()
	req := engine.SearchRequest{Limit: benchK, HnswEf: tb.ef}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req.Vector = tb.ds.Query(i % nq)
		if _, err := t.db.Search(ctx, remoteCollection, &req); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportSearch(b, tb.ef, tb.rec)
	if m.name == telemetryAlwaysOn.name {
		t.checkExported(b, i)
	}
}

// pairedRound is the number of searches BenchmarkSearchTelemetryPaired
// runs in one mode before it moves to the next: four of the batch
// processor's default batches, so that most of a round's exports run
// during its searches.
const pairedRound = 2048

// pairedOrder are the orders in which BenchmarkSearchTelemetryPaired's
// cycles run its four modes, one after the other: a balanced Latin square,
// in which every mode comes first, second, third and last once, and right
// after every other mode once, so that what one mode leaves behind (the
// caches, the exporter's garbage) weighs on every other mode alike.
var pairedOrder = [4][4]int{{0, 1, 3, 2}, {1, 2, 0, 3}, {2, 3, 1, 0}, {3, 0, 2, 1}}

// pairedEpoch is the number of cycles after which
// BenchmarkSearchTelemetryPaired reopens its databases.
const pairedEpoch = 8

// BenchmarkSearchTelemetryPaired measures the same searches as
// BenchmarkSearchTelemetry in one process, on four copies of the database
// open side by side: telemetry off, off again (the control), a
// never-sampling provider and always-on sampling with OTLP export. It
// alternates between them in rounds of pairedRound searches, each cycle
// of four rounds in one of the orders of pairedOrder, so that what drifts
// during a run (the VM's neighbours, the CPU's clock) weighs on every mode
// alike. After an always-on round the spans still queued are exported
// before the next round starts, outside the timed loop.
//
// Where a copy's memory lies makes its searches a few percent faster or
// slower for as long as it is open (the control shows it), so every
// pairedEpoch cycles the databases are closed and reopened (untimed) with
// each mode on the next copy: over four epochs every mode has searched
// every copy.
//
// It reports each mode's time per search and, for the three modes other
// than off, the median over cycles of the round's time against the off
// round's of the same cycle, in percent ("overhead-%"). The control's
// figure shows what two copies of one configuration differ by in this
// process: an overhead is resolved only beyond it.
//
//	go test ./bench -run XXX -bench SearchTelemetryPaired -benchtime 60s -count 8 > paired.txt
//	benchstat paired.txt
func BenchmarkSearchTelemetryPaired(b *testing.B) {
	tb := loadTelemetryBench(b)
	ctx := context.Background()
	control := telemetryMode{"off_control", nil}
	modes := []telemetryMode{telemetryOff, control, telemetryNeverSample, telemetryAlwaysOn}
	const on = 3 // always_on's index
	copies := make([]string, len(modes))
	for i := range copies {
		copies[i] = filepath.Join(b.TempDir(), strconv.Itoa(i))
		if err := os.CopyFS(copies[i], os.DirFS(tb.dir)); err != nil {
			b.Fatal(err)
		}
	}
	dbs := make([]*tracedDB, len(modes))
	epoch, spans := 0, 0
	// open opens the copies in order, copy k in mode k-epoch.
	open := func() {
		for k, dir := range copies {
			m := (k - epoch%len(modes) + len(modes)) % len(modes)
			dbs[m] = openTraced(b, dir, modes[m].env)
		}
	}
	closeAll := func() {
		for _, t := range dbs {
			t.close()
		}
		spans += dbs[on].spans
	}
	open()

	nq := tb.gt.Rows()
	req := engine.SearchRequest{Limit: benchK, HnswEf: tb.ef}
	var (
		total    = make([]time.Duration, len(modes))
		searches = make([]int, len(modes))
		cycle    = make([]time.Duration, len(modes)) // this cycle's rounds
		ratios   = make([][]float64, len(modes))
		q        int
		n        int // searches in the current round
		round    int // rounds started
		cur      = -1
		start    time.Time
	)
	// endRound ends the current round.
	endRound := func() {
		d := time.Since(start)
		total[cur] += d
		searches[cur] += n
		cycle[cur] = d
		n = 0
	}
	// next ends the current round and starts the next one.
	next := func() {
		endRound()
		b.StopTimer()
		if cur == on {
			if err := dbs[cur].prov.ForceFlush(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if round%len(modes) == 0 {
			for i := 1; i < len(modes); i++ {
				ratios[i] = append(ratios[i], 100*(float64(cycle[i])/float64(cycle[0])-1))
			}
			if c := round / len(modes); c%pairedEpoch == 0 {
				closeAll()
				// The closed databases' memory is free for the next ones
				// and for the searches' allocations, as in a process that
				// has run for a while.
				runtime.GC()
				epoch++
				open()
			}
		}
		b.StartTimer()
		cur = pairedOrder[(round/len(modes))%len(modes)][round%len(modes)]
		round++
		start = time.Now()
	}
	b.ReportAllocs()
	cur, round, start = pairedOrder[0][0], 1, time.Now()
	for b.Loop() {
		if n == pairedRound {
			next()
		}
		req.Vector = tb.ds.Query(q % nq)
		q++
		if _, err := dbs[cur].db.Search(ctx, remoteCollection, &req); err != nil {
			b.Fatal(err)
		}
		n++
	}
	endRound()
	closeAll()
	if len(ratios[1]) == 0 {
		b.Fatalf("no whole cycle of %d searches per mode: give a longer -benchtime", pairedRound)
	}
	for i, m := range modes {
		b.ReportMetric(float64(total[i].Nanoseconds())/float64(max(searches[i], 1)), m.name+"-ns/search")
		if i > 0 {
			b.ReportMetric(median(ratios[i]), m.name+"-overhead-%")
		}
	}
	b.ReportMetric(float64(spans)/float64(searches[on]), "exported")
	b.ReportMetric(float64(len(ratios[1])), "cycles")
	b.ReportMetric(float64(epoch), "epochs")
}

// median returns the median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}
