package compat

import (
	"context"
	"io"
	"math"
	"net/http"
	"path/filepath"
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
// in seconds: Qdrant's buckets (1 ms to 50 s) with finer ones below 5 ms,
// where most of qlite's searches answer.
var durationBounds = [...]float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5, 10, 50}

// recentDurations is how many of the latest timed responses the average
// covers, as in Qdrant.
const recentDurations = 128

// responseKey identifies a series of responses: the REST method, endpoint
// (route) and HTTP status, or the gRPC endpoint (full method) and code; per
// collection when collection is set.
type responseKey struct {
	collection       string
	method, endpoint string
	status           int
}

// durationStats are the counts and timings of one series.
type durationStats struct {
	count uint64
	last  time.Time // when the latest response was counted
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

// responseStats counts the responses of one API (REST or gRPC) per series:
// each response in its global series (no collection) and, when it names a
// collection, in that collection's series too.
type responseStats struct {
	// mu guards series.
	mu     sync.Mutex
	series map[responseKey]*durationStats
}

// observe counts a response that took d, at now. Timed responses add to
// the timings.
func (s *responseStats) observe(k responseKey, now time.Time, d time.Duration, timed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.series == nil {
		s.series = make(map[responseKey]*durationStats)
	}
	add := func(k responseKey) {
		st := s.series[k]
		if st == nil {
			st = new(durationStats)
			s.series[k] = st
		}
		st.count++
		st.last = now
		if timed {
			st.addTiming(d.Seconds())
		}
	}
	if k.collection != "" {
		add(k)
		k.collection = ""
	}
	add(k)
}

// snapshot returns a copy of the global series, or of the per-collection
// ones, sorted by key.
func (s *responseStats) snapshot(perCollection bool) ([]responseKey, []durationStats) {
	s.mu.Lock()
	keys := make([]responseKey, 0, len(s.series))
	for k := range s.series {
		if (k.collection != "") == perCollection {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b responseKey) int {
		if c := strings.Compare(a.collection, b.collection); c != 0 {
			return c
		}
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

// restMetricEndpoints are the REST routes /metrics reports, as Qdrant's
// REST_ENDPOINT_WHITELIST in src/common/metrics/requests.rs: searches,
// recommendations, scrolls and point updates.
var restMetricEndpoints = map[string]bool{
	"/collections/{collection_name}/index":                        true,
	"/collections/{collection_name}/points":                       true,
	"/collections/{collection_name}/points/batch":                 true,
	"/collections/{collection_name}/points/count":                 true,
	"/collections/{collection_name}/points/delete":                true,
	"/collections/{collection_name}/points/discover":              true,
	"/collections/{collection_name}/points/discover/batch":        true,
	"/collections/{collection_name}/points/facet":                 true,
	"/collections/{collection_name}/points/payload":               true,
	"/collections/{collection_name}/points/payload/clear":         true,
	"/collections/{collection_name}/points/payload/delete":        true,
	"/collections/{collection_name}/points/query":                 true,
	"/collections/{collection_name}/points/query/batch":           true,
	"/collections/{collection_name}/points/query/groups":          true,
	"/collections/{collection_name}/points/recommend":             true,
	"/collections/{collection_name}/points/recommend/batch":       true,
	"/collections/{collection_name}/points/recommend/groups":      true,
	"/collections/{collection_name}/points/scroll":                true,
	"/collections/{collection_name}/points/search":                true,
	"/collections/{collection_name}/points/search/batch":          true,
	"/collections/{collection_name}/points/search/groups":         true,
	"/collections/{collection_name}/points/search/matrix/offsets": true,
	"/collections/{collection_name}/points/search/matrix/pairs":   true,
	"/collections/{collection_name}/points/vectors":               true,
	"/collections/{collection_name}/points/vectors/delete":        true,
	"/collections/{collection_name}/vectors/{vector_name}":        true,
}

// grpcMetricEndpoints are the gRPC methods /metrics reports, as Qdrant's
// GRPC_ENDPOINT_WHITELIST (same file).
var grpcMetricEndpoints = map[string]bool{
	"/qdrant.Points/ClearPayload": true, "/qdrant.Points/Count": true,
	"/qdrant.Points/CreateVectorName": true, "/qdrant.Points/Delete": true,
	"/qdrant.Points/DeletePayload": true, "/qdrant.Points/DeleteVectorName": true,
	"/qdrant.Points/Discover": true, "/qdrant.Points/DiscoverBatch": true,
	"/qdrant.Points/Facet": true, "/qdrant.Points/Get": true,
	"/qdrant.Points/OverwritePayload": true, "/qdrant.Points/Query": true,
	"/qdrant.Points/QueryBatch": true, "/qdrant.Points/QueryGroups": true,
	"/qdrant.Points/Recommend": true, "/qdrant.Points/RecommendBatch": true,
	"/qdrant.Points/RecommendGroups": true, "/qdrant.Points/Scroll": true,
	"/qdrant.Points/Search": true, "/qdrant.Points/SearchBatch": true,
	"/qdrant.Points/SearchGroups": true, "/qdrant.Points/SetPayload": true,
	"/qdrant.Points/UpdateBatch": true, "/qdrant.Points/UpdateVectors": true,
	"/qdrant.Points/Upsert": true,
}

// snapshotStats counts the snapshot creations and recoveries of each
// collection, for the snapshot_* metrics. Like Qdrant's, the counts of a
// collection outlive it.
type snapshotStats struct {
	// mu guards m.
	mu sync.Mutex
	m  map[string]*snapshotCounts
}

type snapshotCounts struct {
	creating, recovering int
	created              uint64
}

// touch adds an entry for coll, as Qdrant does when a collection is
// created.
func (s *snapshotStats) touch(coll string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]*snapshotCounts)
	}
	if s.m[coll] == nil {
		s.m[coll] = new(snapshotCounts)
	}
}

// begin counts a creation (or a recovery) of coll as running; the
// returned func ends it, counting a creation as done when ok.
func (s *snapshotStats) begin(coll string, recovery bool) func(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]*snapshotCounts)
	}
	c := s.m[coll]
	if c == nil {
		c = new(snapshotCounts)
		s.m[coll] = c
	}
	if recovery {
		c.recovering++
	} else {
		c.creating++
	}
	return func(ok bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if recovery {
			c.recovering--
			return
		}
		c.creating--
		if ok {
			c.created++
		}
	}
}

// counts returns a copy of the counts, with an entry for each of names too.
func (s *snapshotStats) counts(names []string) ([]string, []snapshotCounts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := slices.Clone(names)
	for id := range s.m {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]snapshotCounts, len(ids))
	for i, id := range ids {
		if c := s.m[id]; c != nil {
			out[i] = *c
		}
	}
	return ids, out
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
	// perCollection reports the REST and gRPC responses per collection
	// (with a collection label) instead of globally, as Qdrant's
	// per_collection parameter does.
	perCollection bool
	// tel holds the response counts; nil writes none.
	tel *serverTelemetry
}

// collectionMetrics are what /metrics reports of one collection.
type collectionMetrics struct {
	name     string
	info     *engine.CollectionInfo
	vectors  []string
	excluded int // points that searches with indexed_only leave out
	hw       engine.HardwareUsage
}

// writeMetrics writes the metrics of db and the server to w in
// Prometheus' text format: Qdrant's metrics under Qdrant's names, in
// Qdrant's order, then qlite's per collection and the Go runtime's.
func writeMetrics(ctx context.Context, w io.Writer, db *engine.DB, o metricsOptions) error {
	names, err := db.ListCollections(ctx)
	if err != nil {
		return err
	}
	slices.Sort(names)
	var colls []collectionMetrics
	vectors := 0
	for _, n := range names {
		info, err := db.CollectionInfo(ctx, n)
		if err != nil {
			continue // deleted meanwhile
		}
		cm := collectionMetrics{name: n, info: info}
		cm.hw, _ = db.HardwareUsage(ctx, n)
		for v := range info.Config.Params.Vectors {
			cm.vectors = append(cm.vectors, v)
		}
		slices.Sort(cm.vectors)
		if segs, err := db.Segments(ctx, n); err == nil {
			// Points past the indexing threshold that no graph holds yet.
			if app := segs[len(segs)-1]; app.Optimizing {
				cm.excluded = max(0, app.Slots-app.IndexedVectors/max(1, len(cm.vectors)))
			}
		}
		vectors += info.PointsCount * len(cm.vectors)
		colls = append(colls, cm)
	}

	p := &promWriter{b: make([]byte, 0, 8192)}
	p.family("app_info", "gauge", "information about qdrant server")
	p.labels("name", "qdrant", "version", qdrantVersion)
	p.sample("app_info", "", 1)
	p.gauge("app_status_recovery_mode", "features enabled in qdrant server", 0)
	p.gauge("collections_total", "number of collections", float64(len(names)))
	p.gauge("collections_vector_total", "total number of vectors in all collections", float64(vectors))

	// perColl writes a family with a sample per collection (and vector).
	perColl := func(name, typ, help string, v func(*collectionMetrics) float64) {
		if len(colls) == 0 {
			return
		}
		p.family(name, typ, help)
		for i := range colls {
			p.labels("id", colls[i].name)
			p.sample(name, "", v(&colls[i]))
		}
	}
	perVector := func(name, label, help string, v func(*collectionMetrics) float64) {
		if len(colls) == 0 {
			return
		}
		p.family(name, "gauge", help)
		for i := range colls {
			for _, vn := range colls[i].vectors {
				p.labels(label, colls[i].name, "vector", vn)
				p.sample(name, "", v(&colls[i]))
			}
		}
	}
	// Every point of a collection has each of its vectors.
	perVector("collection_vectors", "collection", "amount of vectors grouped by vector name",
		func(c *collectionMetrics) float64 { return float64(c.info.PointsCount) })
	perVector("collection_indexed_only_excluded_points", "id", "amount of points excluded in indexed_only requests",
		func(c *collectionMetrics) float64 { return float64(c.excluded) })
	// One node holds the one replica of every collection's one shard.
	replicas := float64(min(len(colls), 1))
	p.gauge("collection_active_replicas_min", "minimum number of active replicas across all shards", replicas)
	p.gauge("collection_active_replicas_max", "maximum number of active replicas across all shards", replicas)
	perColl("collection_running_optimizations", "gauge", "number of currently running optimization tasks per collection",
		func(c *collectionMetrics) float64 { return float64(c.info.RunningOptimizations) })
	perColl("collection_points", "gauge", "approximate amount of points per collection",
		func(c *collectionMetrics) float64 { return float64(c.info.PointsCount) })
	p.gauge("collection_dead_replicas", "total amount of shard replicas in non-active state", 0)

	var snapNames []string
	var snaps []snapshotCounts
	if o.tel != nil {
		snapNames, snaps = o.tel.snapshots.counts(names)
	} else {
		snapNames, snaps = names, make([]snapshotCounts, len(names))
	}
	snap := func(name, typ, help string, v func(*snapshotCounts) float64) {
		if len(snapNames) == 0 {
			return
		}
		p.family(name, typ, help)
		for i, id := range snapNames {
			p.labels("id", id)
			p.sample(name, "", v(&snaps[i]))
		}
	}
	snap("snapshot_creation_running", "gauge", "amount of snapshot creations that are currently running",
		func(c *snapshotCounts) float64 { return float64(c.creating) })
	snap("snapshot_recovery_running", "gauge", "amount of snapshot recovery operations currently running",
		func(c *snapshotCounts) float64 { return float64(c.recovering) })
	snap("snapshot_created_total", "counter", "total amount of snapshots created",
		func(c *snapshotCounts) float64 { return float64(c.created) })

	// A single node transfers no shards.
	perColl("collection_shard_transfer_incoming", "gauge", "incoming shard transfers currently running",
		func(c *collectionMetrics) float64 { return 0 })
	perColl("collection_shard_transfer_outgoing", "gauge", "outgoing shard transfers currently running",
		func(c *collectionMetrics) float64 { return 0 })
	perColl("collection_update_queue_length", "gauge", "number of pending operations in update queues per collection",
		func(c *collectionMetrics) float64 { return float64(c.info.UpdateQueueLength) })
	// Points are hidden only under optimizers_config.prevent_unoptimized.
	perColl("collection_update_queue_deferred_points", "gauge",
		"number of points currently hidden during read operations as they're not yet optimized",
		func(c *collectionMetrics) float64 {
			if c.info.DeferredPoints == nil {
				return 0
			}
			return float64(*c.info.DeferredPoints)
		})
	p.gauge("cluster_enabled", "is cluster support enabled", 0)

	if o.tel != nil {
		writeResponses(p, "rest", &o.tel.rest, o.perCollection, func(k responseKey) ([]string, bool, bool) {
			l := []string{"method", k.method, "endpoint", k.endpoint, "status", strconv.Itoa(k.status)}
			if k.collection != "" {
				l = append(l, "collection", k.collection)
			}
			return l, restMetricEndpoints[k.endpoint], k.status == http.StatusOK
		})
		writeResponses(p, "grpc", &o.tel.grpc, o.perCollection, func(k responseKey) ([]string, bool, bool) {
			l := []string{"endpoint", k.endpoint, "status", strconv.Itoa(k.status)}
			if k.collection != "" {
				l = append(l, "collection", k.collection)
			}
			return l, grpcMetricEndpoints[k.endpoint], true
		})
	}

	// What each collection's operations cost (engine.HardwareUsage).
	for _, hw := range []struct {
		name, help string
		v          func(*engine.HardwareUsage) int64
	}{
		{"cpu", "CPU measurements of a collection", func(h *engine.HardwareUsage) int64 { return h.CPU }},
		{"payload_io_read", "Total IO payload read metrics of a collection", func(h *engine.HardwareUsage) int64 { return h.PayloadIORead }},
		{"payload_index_io_read", "Total IO payload index read metrics of a collection", func(h *engine.HardwareUsage) int64 { return h.PayloadIndexIORead }},
		{"payload_index_io_write", "Total IO payload index write metrics of a collection", func(h *engine.HardwareUsage) int64 { return h.PayloadIndexIOWrite }},
		{"payload_io_write", "Total IO payload write metrics of a collection", func(h *engine.HardwareUsage) int64 { return h.PayloadIOWrite }},
		{"vector_io_read", "Total IO vector read metrics of a collection", func(h *engine.HardwareUsage) int64 { return h.VectorIORead }},
		{"vector_io_write", "Total IO vector write metrics of a collection", func(h *engine.HardwareUsage) int64 { return h.VectorIOWrite }},
	} {
		v := hw.v
		perColl("collection_hardware_metric_"+hw.name, "counter", hw.help,
			func(c *collectionMetrics) float64 { return float64(v(&c.hw)) })
	}

	writeMemory(p)
	writeProcess(p)

	qliteOf := func(name, typ, help string, v func(*engine.CollectionInfo) int) {
		if len(colls) == 0 {
			return
		}
		p.family(name, typ, help)
		for _, c := range colls {
			p.labels("collection", c.name)
			p.sample(name, "", float64(v(c.info)))
		}
	}
	qlite := func(name, help string, v func(*engine.CollectionInfo) int) { qliteOf(name, "gauge", help, v) }
	qlite("qlite_collection_points", "number of points in the collection",
		func(c *engine.CollectionInfo) int { return c.PointsCount })
	qlite("qlite_collection_segments", "number of non-empty segments of the collection",
		func(c *engine.CollectionInfo) int { return c.SegmentsCount })
	qlite("qlite_collection_indexed_vectors", "number of vectors held in the collection's graphs",
		func(c *engine.CollectionInfo) int { return c.IndexedVectorsCount })
	if len(colls) > 0 {
		const name = "qlite_collection_memory_bytes"
		p.family(name, "gauge", "estimated bytes of heap the collection holds, by kind (vectors: vector chunks allocated; graph: HNSW links; payloads; payload_indexes; sparse: sparse vectors and their inverted indexes; other: ids, versions, bitmaps; payload_cache: its payloads on disk cached for point lookups)")
		for _, c := range colls {
			m := &c.info.Memory
			for _, k := range []struct {
				kind string
				v    int64
			}{{"vectors", m.Vectors}, {"graph", m.Graph}, {"payloads", m.Payloads}, {"payload_indexes", m.PayloadIndexes}, {"sparse", m.Sparse}, {"other", m.Other}, {"payload_cache", c.info.PayloadCache.Bytes}} {
				p.labels("collection", c.name, "kind", k.kind)
				p.sample(name, "", float64(k.v))
			}
		}
	}
	qliteOf("qlite_collection_payload_cache_hits_total", "counter", "point lookups of the collection's payloads on disk that the payload cache answered",
		func(c *engine.CollectionInfo) int { return int(c.PayloadCache.Hits) })
	qliteOf("qlite_collection_payload_cache_misses_total", "counter", "point lookups of the collection's payloads on disk that went to the store",
		func(c *engine.CollectionInfo) int { return int(c.PayloadCache.Misses) })
	qlite("qlite_collection_disk_bytes", "estimated bytes of the store's tables that hold the collection (writes still only in the write-ahead log not counted), and of its segment files",
		func(c *engine.CollectionInfo) int { return int(c.DiskBytes) })
	qlite("qlite_collection_vectors_on_disk_bytes", "bytes of the collection's vectors read in place from memory-mapped segment files (on_disk vectors): held by the page cache, not counted in qlite_collection_memory_bytes",
		func(c *engine.CollectionInfo) int { return int(c.Memory.MappedVectors) })
	qlite("qlite_collection_graph_on_disk_bytes", "bytes of the collection's HNSW graphs searched in place from memory-mapped segment files (hnsw_config.on_disk): held by the page cache, not counted in qlite_collection_memory_bytes",
		func(c *engine.CollectionInfo) int { return int(c.Memory.MappedGraph) })

	// The storage directory as a whole, and the room left on its file
	// system: what a disk alert needs.
	if n, err := db.DiskUsage(); err == nil {
		p.gauge("qlite_storage_disk_bytes", "bytes of the files in the storage directory (collections, write-ahead log, snapshots)", float64(n))
	}
	if free, ok := freeBytes(filepath.Dir(db.SnapshotsDir())); ok {
		p.gauge("qlite_storage_free_bytes", "bytes available to qlite on the file system that holds the storage directory", float64(free))
	}

	writeRuntime(p)
	_, err = w.Write(p.b)
	return err
}

// writeResponses writes the <prefix>_responses_* families of Qdrant: the
// count of every series that labels reports as listed, and the timings
// (average, minimum, maximum and histogram) of those it reports as timed.
func writeResponses(p *promWriter, prefix string, s *responseStats, perCollection bool, labels func(responseKey) (lbl []string, listed, timed bool)) {
	all, allStats := s.snapshot(perCollection)
	var lbls [][]string
	var stats []durationStats
	var timed []bool
	anyTimed := false
	for i, k := range all {
		l, listed, tm := labels(k)
		if !listed {
			continue
		}
		lbls = append(lbls, l)
		stats = append(stats, allStats[i])
		timed = append(timed, tm)
		anyTimed = anyTimed || tm
	}
	if len(lbls) == 0 {
		return
	}
	each := func(name, typ, help string, onlyTimed bool, v func(*durationStats) float64) {
		if onlyTimed && !anyTimed {
			return
		}
		name = prefix + name
		p.family(name, typ, help)
		for i := range lbls {
			if onlyTimed && !timed[i] {
				continue
			}
			p.labels(lbls[i]...)
			p.sample(name, "", v(&stats[i]))
		}
	}
	each("_responses_total", "counter", "total number of responses", false,
		func(d *durationStats) float64 { return float64(d.count) })
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
	for i := range lbls {
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

// runtimeSamples are the runtime/metrics read for the memory_* and go_*
// metrics.
var runtimeSamples = []string{
	"/sched/goroutines:goroutines",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/metadata/other:bytes",
	"/memory/classes/metadata/mspan/inuse:bytes",
	"/memory/classes/metadata/mcache/inuse:bytes",
	"/gc/gomemlimit:bytes",
}

// readRuntime reads runtimeSamples; reading them does not stop the world.
func readRuntime() []float64 {
	s := make([]metrics.Sample, len(runtimeSamples))
	for i, n := range runtimeSamples {
		s[i].Name = n
	}
	metrics.Read(s)
	out := make([]float64, len(s))
	for i := range s {
		if s[i].Value.Kind() == metrics.KindUint64 {
			out[i] = float64(s[i].Value.Uint64())
		}
	}
	return out
}

// writeMemory writes Qdrant's memory_* metrics (its allocator's
// statistics) from the Go heap's: allocated is the bytes of live objects,
// active adds the unused room in their spans, metadata the runtime's own
// structures, resident the memory the process holds (resident set), and
// retained the heap memory free or returned to the system.
func writeMemory(p *promWriter) {
	v := readRuntime()
	objects, unused, free, released := v[1], v[3], v[4], v[5]
	metadata := v[6] + v[7] + v[8]
	resident := v[2] - released
	if rss, ok := residentBytes(); ok {
		resident = rss
	}
	p.gauge("memory_active_bytes", "Total number of bytes in active pages allocated by the application", objects+unused)
	p.gauge("memory_allocated_bytes", "Total number of bytes allocated by the application", objects)
	p.gauge("memory_metadata_bytes", "Total number of bytes dedicated to metadata", metadata)
	p.gauge("memory_resident_bytes", "Maximum number of bytes in physically resident data pages mapped", resident)
	p.gauge("memory_retained_bytes", "Total number of bytes in virtual memory mappings", free+released)
}

// writeRuntime writes a few of the Go runtime's metrics under the names
// Prometheus' Go client uses.
func writeRuntime(p *promWriter) {
	v := readRuntime()
	p.family("go_info", "gauge", "Information about the Go environment.")
	p.labels("version", runtime.Version())
	p.sample("go_info", "", 1)
	p.gauge("go_goroutines", "Number of goroutines that currently exist.", v[0])
	p.gauge("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use.", v[1])
	p.gauge("go_memstats_sys_bytes", "Number of bytes obtained from system.", v[2])
	p.gauge("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", v[1]+v[3])
	p.gauge("go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used.", v[4]+v[5])
	p.gauge("go_memstats_heap_released_bytes", "Number of heap bytes released to OS.", v[5])
	p.gauge("go_gc_gomemlimit_bytes", "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function.", v[9])
	if rss, ok := residentBytes(); ok {
		p.gauge("process_resident_memory_bytes", "Resident memory size in bytes.", rss)
	}
	p.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
		float64(processStart.UnixNano())/1e9)
}
