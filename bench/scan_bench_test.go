package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/qlite/qlite/bench/cputime"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// BenchmarkExactScan measures the segment's exact scans over the whole of
// Fashion-MNIST (60,000 rows of 3,136 bytes, more than a last-level
// cache): the "rnd" range filters at 1% and 0.1% (plan exact-filter, the
// matching rows read from DRAM) and the unfiltered exact scan. There is no
// graph, so every query scores every matching point. One op is one query;
// "scored" is the points scored per query.
//
//	go test ./bench -run XXX -bench ExactScan -count 6 -cpu 1
func BenchmarkExactScan(b *testing.B) {
	ctx := context.Background()
	ds, err := LoadDataset("fashion-mnist-784-euclidean", nil)
	if errors.Is(err, ErrNotInstalled) {
		b.Skipf("Fashion-MNIST is not installed in %s: %v", DefaultFashionMNISTDir, err)
	}
	if err != nil {
		b.Fatal(err)
	}
	c := benchConfig()
	c.FilterKind = FilterKindRnd
	c.FilterSelectivity = []float64{0.01, 0.001}
	c.Log = benchLog{b}
	c.CacheDir = b.TempDir()
	fw, err := prepareFiltered(ctx, c, ds, benchQueries)
	if err != nil {
		b.Fatal(err)
	}
	seg, err := segment.New(&segment.Options{
		Vectors:  []segment.VectorSpec{{Dim: ds.Dim, Metric: ds.Metric, HNSW: hnsw.Config{M: c.M, EfConstruct: c.EfConstruct}}},
		Capacity: ds.N,
	})
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	for i := range ds.N {
		buf = fw.payloads[i].AppendJSON(buf[:0])
		p, err := payload.ParseObject(buf)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := seg.Append(&segment.Point{ID: filter.NumID(uint64(i)), Vectors: map[string][]float32{"": ds.BaseVector(i)}, Payload: p}); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range payloadIndexes {
		if err := seg.CreateFieldIndex(f.key, payload.IndexParams{Type: f.typ}); err != nil {
			b.Fatal(err)
		}
	}
	run := func(name string, filters []*filter.Filter) {
		b.Run(name, func(b *testing.B) {
			var st segment.SearchStats
			var hits []segment.Hit
			search := func(i int) {
				o := &segment.SearchOptions{Exact: true, Stats: &st}
				if filters != nil {
					o.Filter = filters[i]
				}
				hits, err = seg.AppendSearch(ctx, hits[:0], "", ds.Query(i), benchK, o)
				if err != nil {
					b.Fatal(err)
				}
			}
			search(0)
			b.ReportAllocs()
			scored, i := 0, 0
			cpu0 := cputime.Now()
			for b.Loop() {
				search(i % benchQueries)
				scored += st.Scored
				i++
			}
			cputime.Report(b, cputime.Now()-cpu0)
			b.ReportMetric(float64(scored)/float64(b.N), "scored")
		})
	}
	for ci, fc := range fw.cases {
		filters, err := fc.queryFilters(benchQueries)
		if err != nil {
			b.Fatal(err)
		}
		run(fmt.Sprintf("sel=%v", c.FilterSelectivity[ci]), filters)
	}
	run("sel=1", nil)
	runtime.KeepAlive(seg)
}
