package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// payloadIndexes are the payload fields a filtered hnsw run indexes, and
// their index types.
var payloadIndexes = []struct {
	key string
	typ payload.FieldType
}{
	{"class", payload.TypeInteger},
	{"class_name", payload.TypeKeyword},
	{"rnd", payload.TypeInteger},
	{"loc", payload.TypeGeo},
	{"ts", payload.TypeDatetime},
}

// runSegment is the filtered hnsw target: it loads the points with their
// payloads into a segment (package segment), builds the graph and, unless
// c.NoPayloadIndex, the payload indexes, then measures the queries
// unfiltered and under each filter case, letting the segment plan every
// query.
func runSegment(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, fw *filteredWorkload, res *Result) error {
	res.QueryMode = "single"
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapBefore := int64(ms.HeapAlloc)

	seg, err := buildSegment(ctx, c, ds, fw, res)
	if err != nil {
		return err
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.HeapDeltaBytes = int64(ms.HeapAlloc) - heapBefore

	nq := gt.Rows()
	none := make([]*filter.Filter, nq)
	runs, err := measureSegment(ctx, c, seg, ds, gt, none, "unfiltered")
	if err != nil {
		return err
	}
	res.Runs = append(res.Runs, runs...)
	for i, fc := range fw.cases {
		perQuery, err := fc.queryFilters(nq)
		if err != nil {
			return err
		}
		runs, err := measureSegment(ctx, c, seg, ds, fw.gts[i], perQuery, fc.Name)
		if err != nil {
			return err
		}
		for j := range runs {
			runs[j].Filter = fc.Name
			runs[j].Selectivity = fw.selectivity[i]
		}
		res.Runs = append(res.Runs, runs...)
	}
	runtime.KeepAlive(seg)
	return nil
}

// buildSegment loads the points of ds with the payloads of fw into a new
// segment, builds its graph and, unless c.NoPayloadIndex, its payload
// indexes, recording the times in res.
func buildSegment(ctx context.Context, c *Config, ds *Dataset, fw *filteredWorkload, res *Result) (*segment.Segment, error) {
	seg, err := segment.New(&segment.Options{
		Vectors: []segment.VectorSpec{{
			Dim:      ds.Dim,
			Metric:   ds.Metric,
			HNSW:     hnsw.Config{M: c.M, EfConstruct: c.EfConstruct, Seed: c.Seed},
			PayloadM: c.PayloadM,
		}},
		Capacity: max(ds.N, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("bench: segment: %w", err)
	}
	start := time.Now()
	var buf []byte
	for i := range ds.N {
		buf = fw.payloads[i].AppendJSON(buf[:0])
		p, err := payload.ParseObject(buf)
		if err != nil {
			return nil, fmt.Errorf("bench: payload of point %d (%s): %w", i, buf, err)
		}
		id, err := seg.Append(&segment.Point{
			ID:      filter.NumID(uint64(i)),
			Vectors: map[string][]float32{"": ds.BaseVector(i)},
			Payload: p,
		})
		if err != nil {
			return nil, fmt.Errorf("bench: append point %d: %w", i, err)
		}
		if id != uint32(i) {
			return nil, fmt.Errorf("bench: segment gave point %d the id %d", i, id)
		}
	}
	res.InsertSeconds = time.Since(start).Seconds()
	fmt.Fprintf(c.Log, "segment: appended %d points with payloads in %.2fs\n", ds.N, res.InsertSeconds)

	cpu0 := cpuSeconds()
	start = time.Now()
	if _, err := seg.BuildGraph(ctx, c.Threads); err != nil {
		return nil, fmt.Errorf("bench: segment graph: %w", err)
	}
	res.BuildSeconds = time.Since(start).Seconds()
	res.BuildCPUSeconds = cpuSeconds() - cpu0
	fmt.Fprintf(c.Log, "segment: graph over %d points in %.2fs (%.2fs CPU) on %d threads\n",
		ds.N, res.BuildSeconds, res.BuildCPUSeconds, c.Threads)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	if !c.NoPayloadIndex {
		start = time.Now()
		for _, f := range payloadIndexes {
			if err := seg.CreateFieldIndex(f.key, payload.IndexParams{Type: f.typ}); err != nil {
				return nil, fmt.Errorf("bench: index %s: %w", f.key, err)
			}
		}
		res.PayloadIndexSeconds = time.Since(start).Seconds()
		fmt.Fprintf(c.Log, "segment: payload indexes in %.2fs\n", res.PayloadIndexSeconds)

	}
	if !c.NoPayloadIndex && c.PayloadM > 0 {
		// The payload links come from the indexes: a part of the graph
		// build, counted in its times.
		cpu0 := cpuSeconds()
		st, err := seg.BuildPayloadLinks(ctx, c.Threads)
		if err != nil {
			return nil, fmt.Errorf("bench: payload links: %w", err)
		}
		cpu := cpuSeconds() - cpu0
		res.BuildSeconds += st.Seconds
		res.BuildCPUSeconds += cpu
		fmt.Fprintf(c.Log, "segment: payload links, %d blocks, %d links, in %.2fs (%.2fs CPU)\n", st.Blocks, st.Links, st.Seconds, cpu)
	}
	return seg, nil
}

// queryFilters returns the parsed filter of each of the first nq queries.
func (fc *filterCase) queryFilters(nq int) ([]*filter.Filter, error) {
	parsed := make([]*filter.Filter, len(fc.Groups))
	for g, grp := range fc.Groups {
		f, err := filter.ParseJSON([]byte(grp.JSON))
		if err != nil {
			return nil, fmt.Errorf("bench: filter %s: %w", grp.JSON, err)
		}
		parsed[g] = f
	}
	perQuery := make([]*filter.Filter, nq)
	for q := range perQuery {
		perQuery[q] = parsed[fc.QueryGroup[q]]
	}
	return perQuery, nil
}

// measureSegment runs, for each ef, a pass over the queries that records
// the plans (also a warm-up), then c.Repeat timed passes one query at a time
// on the calling goroutine, and reports the fastest with recall@k scored
// against gt. filters[i] is query i's filter, nil for none.
func measureSegment(ctx context.Context, c *Config, seg *segment.Segment, ds *Dataset, gt *GroundTruth, filters []*filter.Filter, what string) ([]Measurement, error) {
	nq, k := gt.Rows(), c.K
	lat := make([]time.Duration, nq)
	found := make([]int32, nq*k)
	runs := make([]Measurement, 0, len(c.Ef))
	for _, ef := range c.Ef {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		bar := sweepProgress(c, what, ef, nq)
		defer bar.Stop()
		plans := map[string]int{}
		var scored int
		for i := range nq {
			var st segment.SearchStats
			if _, err := seg.Search(ctx, "", ds.Query(i), k, &segment.SearchOptions{Filter: filters[i], Ef: ef, Stats: &st}); err != nil {
				return nil, fmt.Errorf("bench: search %s ef=%d query %d: %w", what, ef, i, err)
			}
			plans[st.Plan]++
			scored += st.Scored
			bar.Add(1)
		}
		run := Measurement{Ef: ef, Scored: float64(scored) / float64(max(nq, 1))}
		if plan, n := mostCommon(plans); n > 0 {
			run.Plan, run.PlanShare = plan, float64(n)/float64(nq)
		}
		err := timePasses(c.Repeat, k, found, lat, &run, func(i int, row []int32) error {
			hits, err := seg.Search(ctx, "", ds.Query(i), k, &segment.SearchOptions{Filter: filters[i], Ef: ef})
			if err != nil {
				return fmt.Errorf("bench: search %s ef=%d query %d: %w", what, ef, i, err)
			}
			for j := range hits {
				row[j] = int32(hits[j].Off)
			}
			bar.Add(1)
			return nil
		})
		bar.Stop()
		if err != nil {
			return nil, err
		}
		run.Recall = Recall(found, gt, k)
		fmt.Fprintf(c.Log, "%s ef=%d: recall@%d %.4f, %.0f qps, p50 %.3f ms, p99 %.3f ms, plan %s (%.0f%%), %.0f scored\n",
			what, ef, k, run.Recall, run.QPS, run.P50Ms, run.P99Ms, run.Plan, 100*run.PlanShare, run.Scored)
		runs = append(runs, run)
	}
	return runs, nil
}
