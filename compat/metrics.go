package compat

import (
	"context"
	"io"
	"math"
	"net/http"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qlite/qlite/engine"
)

// durationBounds are the upper bounds of the response duration histograms,
// in seconds: Qdrant's buckets, from 1 ms to 50 s.
var durationBounds = [...]float64{0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5, 10, 50}

// recentDurations is how many of the latest timed responses the average
// covers, as in Qdrant.
const recentDurations = 128

// responseKey identifies a series of responses: the REST method, endpoint
// (route) and status, or the gRPC endpoint (full method) alone.
type responseKey struct {
	method, endpoint string
	status           int
}

// durationStats are the counts and timings of one series.
type durationStats struct {
	count, fail uint64
	// The timings cover timed responses only (see responseStats.observe).
	timed    uint64
	sum      float64
	min, max float64
	buckets  [len(durationBounds)]uint64 // not cumulative
	recent   [recentDurations]float64    // a ring of the latest timings
}

func (d *durationStats) addTiming(sec float64) {
	if d.timed == 0 || sec < d.min {
		d.min = sec
	}
	if sec > d.max {
		d.max = sec
	}
	d.recent[d.timed%recentDurations] = sec
	d.timed++
	d.sum += sec
	if i, _ := slices.BinarySearch(durationBounds[:], sec); i < len(durationBounds) {
		d.buckets[i]++
	}
}

// avg returns the mean of the latest recentDurations timings.
func (d *durationStats) avg() float64 {
	n := min(d.timed, recentDurations)
	if n == 0 {
		return 0
	}
	var s float64
	for _, v := range d.recent[:n] {
		s += v
	}
	return s / float64(n)
}

// responseStats counts the responses of one API (REST or gRPC) per series.
type responseStats struct {
	// mu guards series.
	mu     sync.Mutex
	series map[responseKey]*durationStats
}

// observe counts a response that took d. Failed responses count in fail
// as well; timed responses add to the timings.
func (s *responseStats) observe(k responseKey, d time.Duration, failed, timed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.series == nil {
		s.series = make(map[responseKey]*durationStats)
	}
	st := s.series[k]
	if st == nil {
		st = new(durationStats)
		s.series[k] = st
	}
	st.count++
	if failed {
		st.fail++
	}
	if timed {
		st.addTiming(d.Seconds())
	}
}

// snapshot returns a copy of every series, sorted by key.
func (s *responseStats) snapshot() ([]responseKey, []durationStats) {
	s.mu.Lock()
	keys := make([]responseKey, 0, len(s.series))
	for k := range s.series {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b responseKey) int {
		if c := strings.Compare(a.endpoint, b.endpoint); c != 0 {
			return c
		}
		if c := strings.Compare(a.method, b.method); c != 0 {
			return c
		}
		return a.status - b.status
	})
	stats := make([]durationStats, len(keys))
	for i, k := range keys {
		stats[i] = *s.series[k]
	}
	s.mu.Unlock()
	return keys, stats
}

// promWriter writes Prometheus' text exposition format (version 0.0.4).
type promWriter struct {
	b   []byte
	lbl []byte // scratch for a label set
}

func (p *promWriter) family(name, typ, help string) {
	p.b = append(p.b, "# HELP "...)
	p.b = append(p.b, name...)
	p.b = append(p.b, ' ')
	p.b = append(p.b, help...)
	p.b = append(p.b, "\n# TYPE "...)
	p.b = append(p.b, name...)
	p.b = append(p.b, ' ')
	p.b = append(p.b, typ...)
	p.b = append(p.b, '\n')
}

// labels sets the label set of the samples that follow from name, value
// pairs.
func (p *promWriter) labels(kv ...string) {
	p.lbl = p.lbl[:0]
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			p.lbl = append(p.lbl, ',')
		}
		p.lbl = append(p.lbl, kv[i]...)
		p.lbl = append(p.lbl, '=', '"')
		p.lbl = appendLabelValue(p.lbl, kv[i+1])
		p.lbl = append(p.lbl, '"')
	}
}

// sample writes name with the current labels, plus extra (already
// formatted, e.g. `le="0.5"`) when not empty.
func (p *promWriter) sample(name, extra string, v float64) {
	p.b = append(p.b, name...)
	if len(p.lbl) > 0 || extra != "" {
		p.b = append(p.b, '{')
		p.b = append(p.b, p.lbl...)
		if len(p.lbl) > 0 && extra != "" {
			p.b = append(p.b, ',')
		}
		p.b = append(p.b, extra...)
		p.b = append(p.b, '}')
	}
	p.b = append(p.b, ' ')
	p.b = appendFloat(p.b, v)
	p.b = append(p.b, '\n')
}

// gauge writes a family of one unlabelled sample.
func (p *promWriter) gauge(name, help string, v float64) {
	p.family(name, "gauge", help)
	p.lbl = p.lbl[:0]
	p.sample(name, "", v)
}

func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendLabelValue escapes a label value: backslash, double quote and line
// feed are the only escapes of the text format.
func appendLabelValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// metricsOptions are the parts of GET /metrics beyond the database.
type metricsOptions struct {
	// perCollection adds Qdrant's collection_points per collection.
	perCollection bool
	// tel holds the response counts; nil writes none.
	tel *serverTelemetry
}

// writeMetrics writes the metrics of db and the server to w in
// Prometheus' text format: Qdrant's metrics under Qdrant's names, then
// qlite's per collection and the Go runtime's.
func writeMetrics(ctx context.Context, w io.Writer, db *engine.DB, o metricsOptions) error {
	names, err := db.ListCollections(ctx)
	if err != nil {
		return err
	}
	slices.Sort(names)
	infos := make([]*engine.CollectionInfo, len(names))
	vectors := 0
	for i, n := range names {
		info, err := db.CollectionInfo(ctx, n)
		if err != nil {
			continue // deleted meanwhile
		}
		infos[i] = info
		vectors += info.PointsCount * len(info.Config.Params.Vectors)
	}

	p := &promWriter{b: make([]byte, 0, 4096)}
	p.family("app_info", "gauge", "information about qdrant server")
	p.labels("name", "qdrant", "version", qdrantVersion)
	p.sample("app_info", "", 1)
	p.gauge("app_status_recovery_mode", "features enabled in qdrant server", 0)
	p.gauge("cluster_enabled", "is cluster support enabled", 0)
	p.gauge("collections_total", "number of collections", float64(len(names)))
	p.gauge("collections_vector_total", "total number of vectors in all collections", float64(vectors))
	if o.perCollection && len(names) > 0 {
		p.family("collection_points", "gauge", "approximate amount of points per collection")
		for i, n := range names {
			if infos[i] != nil {
				p.labels("collection", n)
				p.sample("collection_points", "", float64(infos[i].PointsCount))
			}
		}
	}
	if o.tel != nil {
		writeResponses(p, "rest", &o.tel.rest, func(k responseKey) ([]string, bool) {
			return []string{"method", k.method, "endpoint", k.endpoint, "status", strconv.Itoa(k.status)}, k.status == http.StatusOK
		})
		writeResponses(p, "grpc", &o.tel.grpc, func(k responseKey) ([]string, bool) {
			return []string{"endpoint", k.endpoint}, true
		})
	}

	qlite := func(name, help string, v func(*engine.CollectionInfo) int) {
		if len(names) == 0 {
			return
		}
		p.family(name, "gauge", help)
		for i, n := range names {
			if infos[i] != nil {
				p.labels("collection", n)
				p.sample(name, "", float64(v(infos[i])))
			}
		}
	}
	qlite("qlite_collection_points", "number of points in the collection",
		func(c *engine.CollectionInfo) int { return c.PointsCount })
	qlite("qlite_collection_segments", "number of non-empty segments of the collection",
		func(c *engine.CollectionInfo) int { return c.SegmentsCount })
	qlite("qlite_collection_indexed_vectors", "number of vectors held in the collection's graphs",
		func(c *engine.CollectionInfo) int { return c.IndexedVectorsCount })

	writeRuntime(p)
	_, err = w.Write(p.b)
	return err
}

// writeResponses writes the <prefix>_responses_* families of Qdrant: total
// and failed counts for every series, and the timings (average, minimum,
// maximum and histogram) of the series labels reports as timed.
func writeResponses(p *promWriter, prefix string, s *responseStats, labels func(responseKey) ([]string, bool)) {
	keys, stats := s.snapshot()
	if len(keys) == 0 {
		return
	}
	lbls := make([][]string, len(keys))
	timed := make([]bool, len(keys))
	anyTimed := false
	for i, k := range keys {
		lbls[i], timed[i] = labels(k)
		anyTimed = anyTimed || timed[i]
	}
	each := func(name, typ, help string, onlyTimed bool, v func(*durationStats) float64) {
		if onlyTimed && !anyTimed {
			return
		}
		name = prefix + name
		p.family(name, typ, help)
		for i := range keys {
			if onlyTimed && !timed[i] {
				continue
			}
			p.labels(lbls[i]...)
			p.sample(name, "", v(&stats[i]))
		}
	}
	each("_responses_total", "counter", "total number of responses", false,
		func(d *durationStats) float64 { return float64(d.count) })
	each("_responses_fail_total", "counter", "total number of failed responses", false,
		func(d *durationStats) float64 { return float64(d.fail) })
	each("_responses_avg_duration_seconds", "gauge", "average response duration", true,
		(*durationStats).avg)
	each("_responses_min_duration_seconds", "gauge", "minimum response duration", true,
		func(d *durationStats) float64 { return d.min })
	each("_responses_max_duration_seconds", "gauge", "maximum response duration", true,
		func(d *durationStats) float64 { return d.max })
	if !anyTimed {
		return
	}
	name := prefix + "_responses_duration_seconds"
	p.family(name, "histogram", "response duration histogram")
	var le []byte
	for i := range keys {
		if !timed[i] {
			continue
		}
		d := &stats[i]
		p.labels(lbls[i]...)
		var cum uint64
		for j, bound := range durationBounds {
			cum += d.buckets[j]
			le = appendFloat(append(le[:0], `le="`...), bound)
			le = append(le, '"')
			p.sample(name+"_bucket", string(le), float64(cum))
		}
		p.sample(name+"_bucket", `le="+Inf"`, float64(d.timed))
		p.sample(name+"_sum", "", d.sum)
		p.sample(name+"_count", "", float64(d.timed))
	}
}

// processStart is when the process started serving metrics, near enough
// to its start.
var processStart = time.Now()

// runtimeSamples are the runtime/metrics read for the go_* metrics.
var runtimeSamples = []string{
	"/sched/goroutines:goroutines",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
}

// writeRuntime writes a few of the Go runtime's metrics under the names
// Prometheus' Go client uses. Reading them does not stop the world.
func writeRuntime(p *promWriter) {
	s := make([]metrics.Sample, len(runtimeSamples))
	for i, n := range runtimeSamples {
		s[i].Name = n
	}
	metrics.Read(s)
	val := func(i int) float64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return float64(s[i].Value.Uint64())
	}
	p.family("go_info", "gauge", "Information about the Go environment.")
	p.labels("version", runtime.Version())
	p.sample("go_info", "", 1)
	p.gauge("go_goroutines", "Number of goroutines that currently exist.", val(0))
	p.gauge("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use.", val(1))
	p.gauge("go_memstats_sys_bytes", "Number of bytes obtained from system.", val(2))
	p.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
		float64(processStart.UnixNano())/1e9)
}
