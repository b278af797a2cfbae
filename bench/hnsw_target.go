package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/hnsw"
)

// flatVectors stores vectors in one flat row-major slice; it is the
// hnsw.Vectors of the raw-index target.
type flatVectors struct {
	metric distance.Metric
	dim    int
	data   []float32
}

func newFlatVectors(m distance.Metric, data []float32, dim int) *flatVectors {
	return &flatVectors{metric: m, dim: dim, data: data}
}

func (v *flatVectors) Vector(id uint32) []float32 {
	o := int(id) * v.dim
	return v.data[o : o+v.dim : o+v.dim]
}

// NonMetric reports an inner product, as the engine's segments do
// (hnsw.NonMetric).
func (v *flatVectors) NonMetric() bool { return v.metric == distance.Dot }

// Distances scores q against the rows ids with the metric's gather kernel,
// which prefetches the next row while scoring one.
func (v *flatVectors) Distances(q []float32, ids []uint32, dst []float32) {
	v.metric.Gather(dst, q, v.data, v.dim, ids)
}

// runHNSW builds qlite's graph over the dataset in process and measures it.
func runHNSW(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, res *Result) error {
	res.QueryMode = "single"
	vecs := newFlatVectors(ds.Metric, ds.Base, ds.Dim)
	ids := make([]uint32, ds.N)
	for i := range ids {
		ids[i] = uint32(i)
	}

	g, st, err := buildGraph(ctx, c, vecs, ids, "build")
	if err != nil {
		return err
	}
	res.BuildSeconds = st.seconds
	res.BuildCPUSeconds = st.cpuSeconds
	res.HeapDeltaBytes = st.heapDelta
	res.GraphBytes = g.MemoryBytes()

	if res.Runs, err = measure(ctx, c, g, ds, gt, "search"); err != nil {
		return err
	}
	if c.DeleteFraction > 0 {
		if err := deletionExperiment(ctx, c, ds, gt, vecs, g, res); err != nil {
			return err
		}
	}
	runtime.KeepAlive(g)
	return nil
}

// buildStats are the figures of one graph build.
type buildStats struct {
	seconds    float64 // wall time
	cpuSeconds float64 // process CPU time over the build
	heapDelta  int64   // live heap after minus before, each after a GC
}

// buildGraph builds a graph over ids with c.Threads workers, reporting
// progress to c.Log.
func buildGraph(ctx context.Context, c *Config, vecs hnsw.Vectors, ids []uint32, what string) (*hnsw.Graph, buildStats, error) {
	var st buildStats
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := int64(ms.HeapAlloc)

	cpu0 := cpuSeconds()
	start := time.Now()
	g, err := hnsw.New(vecs, &hnsw.Config{M: c.M, EfConstruct: c.EfConstruct, Seed: c.Seed})
	if err != nil {
		return nil, st, err
	}
	bar := startProgress(c.Progress, what, len(ids), g.Len)
	defer bar.Stop()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n := g.Len()
				bar.Logf(c.Log, "%s: %d/%d nodes (%.0f%%), %.0fs", what, n, len(ids), 100*float64(n)/float64(len(ids)), time.Since(start).Seconds())
			}
		}
	}()
	err = g.Build(ids, c.Threads)
	st.seconds = time.Since(start).Seconds()
	st.cpuSeconds = cpuSeconds() - cpu0
	close(done)
	<-stopped
	bar.Stop()
	if err != nil {
		return nil, st, fmt.Errorf("bench: %s: %w", what, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, st, err
	}
	fmt.Fprintf(c.Log, "%s: %d nodes in %.2fs (%.2fs CPU) on %d threads\n", what, g.Len(), st.seconds, st.cpuSeconds, c.Threads)

	runtime.GC()
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(g)
	st.heapDelta = int64(ms.HeapAlloc) - before
	return g, st, nil
}

// measure runs, for each ef, a warm-up pass and then c.Repeat timed passes
// over the queries, one at a time on the calling goroutine, and reports the
// fastest pass with recall@k scored against gt.
func measure(ctx context.Context, c *Config, g *hnsw.Graph, ds *Dataset, gt *GroundTruth, what string) ([]Measurement, error) {
	nq, k := gt.Rows(), c.K
	buf := make([]hnsw.Result, 0, k)
	lat := make([]time.Duration, nq)
	found := make([]int32, nq*k)
	runs := make([]Measurement, 0, len(c.Ef))
	for _, ef := range c.Ef {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		bar := sweepProgress(c, what, ef, nq)
		for i := range nq {
			buf = g.SearchInto(buf, ds.Query(i), k, ef, nil)
			bar.Add(1)
		}
		run := Measurement{Ef: ef}
		_ = timePasses(c.Repeat, k, found, lat, &run, func(i int, row []int32) error {
			buf = g.SearchInto(buf, ds.Query(i), k, ef, nil)
			for j := range buf {
				row[j] = int32(buf[j].ID)
			}
			bar.Add(1)
			return nil
		})
		bar.Stop()
		run.Recall = Recall(found, gt, k)
		fmt.Fprintf(c.Log, "%s ef=%d: recall@%d %.4f, %.0f qps, p50 %.3f ms, p99 %.3f ms\n",
			what, ef, k, run.Recall, run.QPS, run.P50Ms, run.P99Ms)
		runs = append(runs, run)
	}
	return runs, nil
}

// sweepProgress shows the bar of the queries at one ef of a sweep: a
// warm-up pass and c.Repeat timed passes over nq queries.
// efSweep measures, for each ef of c.Ef, a warm-up pass and c.Repeat timed
// passes of search (one query at a time), with progress and a log line,
// and returns a Measurement per ef with recall@k scored against gt.
func efSweep(ctx context.Context, c *Config, gt *GroundTruth, search func(ef, i int, row []int32) error) ([]Measurement, error) {
	nq, k := gt.Rows(), c.K
	lat := make([]time.Duration, nq)
	found := make([]int32, nq*k)
	var runs []Measurement
	for _, ef := range c.Ef {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		bar := sweepProgress(c, "search", ef, nq)
		counted := func(i int, row []int32) error {
			bar.Add(1)
			return search(ef, i, row)
		}
		for i := range nq {
			if err := counted(i, found[:k]); err != nil {
				bar.Stop()
				return nil, err
			}
		}
		run := Measurement{Ef: ef}
		err := timePasses(c.Repeat, k, found, lat, &run, counted)
		bar.Stop()
		if err != nil {
			return nil, err
		}
		run.Recall = Recall(found, gt, k)
		fmt.Fprintf(c.Log, "search ef=%d: recall@%d %.4f, %.0f qps, p50 %.3f ms, p99 %.3f ms\n",
			ef, k, run.Recall, run.QPS, run.P50Ms, run.P99Ms)
		runs = append(runs, run)
	}
	return runs, nil
}

func sweepProgress(c *Config, what string, ef, nq int) *progress {
	return startProgress(c.Progress, fmt.Sprintf("%s ef=%d", what, ef), (1+c.Repeat)*nq, nil)
}

// timePasses runs the queries repeat times, timing each, and keeps in run
// the QPS and latency percentiles of the fastest pass. search runs query i
// and writes the ids it found into row (k slots, preset to -1); an error
// stops the passes.
func timePasses(repeat, k int, found []int32, lat []time.Duration, run *Measurement, search func(i int, row []int32) error) error {
	nq := len(lat)
	for range repeat {
		runtime.GC()
		start := time.Now()
		for i := range nq {
			row := found[i*k : (i+1)*k]
			for j := range row {
				row[j] = -1
			}
			t0 := time.Now()
			err := search(i, row)
			lat[i] = time.Since(t0)
			if err != nil {
				return err
			}
		}
		if qps := float64(nq) / time.Since(start).Seconds(); qps > run.QPS {
			run.QPS = qps
			run.P50Ms, run.P99Ms = percentileMs(lat, 0.50), percentileMs(lat, 0.99)
		}
	}
	return nil
}

// percentileMs returns the nearest-rank p-quantile of lat in milliseconds,
// sorting lat in place.
func percentileMs(lat []time.Duration, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	i := int(float64(len(lat))*p+0.999999) - 1
	i = min(max(i, 0), len(lat)-1)
	return float64(lat[i]) / float64(time.Millisecond)
}

// deletionExperiment deletes a seeded random fraction of the base from g and
// measures recall on the survivors three ways: the tombstoned graph, the same
// graph after Repair, and a fresh graph built over the survivors only.
func deletionExperiment(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, vecs *flatVectors, g *hnsw.Graph, res *Result) error {
	rng := rand.New(rand.NewPCG(c.Seed, 0xde1e7e))
	perm := rng.Perm(ds.N)
	nd := int(c.DeleteFraction * float64(ds.N))
	if nd == 0 || nd >= ds.N {
		return fmt.Errorf("bench: delete fraction %v of %d points deletes %d", c.DeleteFraction, ds.N, nd)
	}
	deleted := make([]bool, ds.N)
	start := time.Now()
	for _, id := range perm[:nd] {
		deleted[id] = true
		if err := g.Delete(uint32(id)); err != nil {
			return fmt.Errorf("bench: delete %d: %w", id, err)
		}
	}
	del := &Deletion{Fraction: c.DeleteFraction, Deleted: nd, Survivors: ds.N - nd, DeleteSeconds: time.Since(start).Seconds()}
	res.Deletion = del
	fmt.Fprintf(c.Log, "deleted %d points in %.2fs\n", nd, del.DeleteSeconds)

	sgt, err := survivorGroundTruth(ctx, ds, gt, c.K, c.Threads, deleted)
	if err != nil {
		return err
	}
	if res.RunsDeleted, err = measure(ctx, c, g, ds, sgt, "tombstoned"); err != nil {
		return err
	}

	start = time.Now()
	if err := g.Repair(c.Threads); err != nil {
		return fmt.Errorf("bench: repair: %w", err)
	}
	del.RepairSeconds = time.Since(start).Seconds()
	fmt.Fprintf(c.Log, "repaired in %.2fs\n", del.RepairSeconds)
	if res.RunsRepaired, err = measure(ctx, c, g, ds, sgt, "repaired"); err != nil {
		return err
	}

	survivors := make([]uint32, 0, ds.N-nd)
	for id, d := range deleted {
		if !d {
			survivors = append(survivors, uint32(id))
		}
	}
	fresh, st, err := buildGraph(ctx, c, vecs, survivors, "fresh build")
	if err != nil {
		return err
	}
	del.FreshBuildSeconds = st.seconds
	res.RunsFreshSurvivors, err = measure(ctx, c, fresh, ds, sgt, "fresh")
	return err
}
