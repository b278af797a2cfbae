package compat

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// grpcClient returns a go-client connected to the gRPC address g.
func grpcClient(t *testing.T, g string, cfg qdrant.Config) *qdrant.Client {
	t.Helper()
	host, port, err := net.SplitHostPort(g)
	require.NoError(t, err)
	cfg.Host = host
	cfg.Port, err = strconv.Atoi(port)
	require.NoError(t, err)
	cfg.SkipCompatibilityCheck = true
	c, err := qdrant.NewClient(&cfg)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// scrape gets url and parses it as Prometheus' text format, with the
// legacy (strict) metric names.
func scrape(t *testing.T, url string, header map[string]string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err, "%s", body)
	return fams
}

// sample returns the sample of family name whose labels are exactly
// labels (name, value pairs), or nil.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			found := false
			for i := 0; i < len(labels); i += 2 {
				if labels[i] == l.GetName() && labels[i+1] == l.GetValue() {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

// value returns the value of a counter or gauge sample, failing the test
// when there is none.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	m := sample(fams, name, labels...)
	require.NotNil(t, m, "no %s%v", name, labels)
	switch fams[name].GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s is a %s", name, fams[name].GetType())
	return 0
}

func TestMetricsEndpoint(t *testing.T) {
	db, h, g := startServer(t, &ServerConfig{APIKey: "k"})
	base := "http://" + h
	key := map[string]string{"api-key": "k"}
	ctx := context.Background()

	code, body := httpDo(t, "PUT", base+"/collections/m", `{"vectors":{"size":2,"distance":"Dot"}}`, key)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "PUT", base+"/collections/m/points?wait=true",
		`{"points":[{"id":1,"vector":[1,0]},{"id":2,"vector":[0,1]},{"id":3,"vector":[1,1]}]}`, key)
	require.Equal(t, 200, code, body)
	for range 3 {
		code, body = httpDo(t, "POST", base+"/collections/m/points/query", `{"query":[1,0],"limit":2}`, key)
		require.Equal(t, 200, code, body)
	}
	code, _ = httpDo(t, "POST", base+"/collections/nope/points/query", `{"query":[1,0]}`, key)
	require.Equal(t, 404, code)
	code, _ = httpDo(t, "GET", base+"/collections", "", nil) // no key
	require.Equal(t, 401, code)
	code, _ = httpDo(t, "GET", base+"/no/such/route", "", key)
	require.Equal(t, 404, code)

	c := grpcClient(t, g, qdrant.Config{APIKey: "k"})
	for range 2 {
		_, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: "m", Query: qdrant.NewQuery(1, 0)})
		require.NoError(t, err)
	}
	_, err := c.Query(ctx, &qdrant.QueryPoints{CollectionName: "nope", Query: qdrant.NewQuery(1, 0)})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	_, err = c.ListCollections(ctx)
	require.NoError(t, err)

	require.NoError(t, db.Optimize(ctx, "m"))
	info, err := db.CollectionInfo(ctx, "m")
	require.NoError(t, err)

	fams := scrape(t, base+"/metrics", key)

	// Qdrant's service metrics.
	require.Equal(t, "information about qdrant server", fams["app_info"].GetHelp())
	require.Equal(t, dto.MetricType_GAUGE, fams["app_info"].GetType())
	require.Equal(t, 1.0, value(t, fams, "app_info", "name", "qdrant", "version", qdrantVersion))
	require.Equal(t, 1.0, value(t, fams, "collections_total"))
	require.Equal(t, 3.0, value(t, fams, "collections_vector_total"))
	require.Equal(t, 3.0, value(t, fams, "collection_points", "id", "m"))
	require.Equal(t, 3.0, value(t, fams, "collection_vectors", "collection", "m", "vector", ""))
	require.Equal(t, 0.0, value(t, fams, "collection_update_queue_length", "id", "m"))
	require.Equal(t, 1.0, value(t, fams, "collection_active_replicas_min"))

	// REST responses of Qdrant's listed routes, per method, route and
	// status, as Qdrant names them.
	const query = "/collections/{collection_name}/points/query"
	rest := func(name, method, endpoint string, status int, extra ...string) float64 {
		t.Helper()
		return value(t, fams, name, append([]string{"method", method, "endpoint", endpoint, "status", strconv.Itoa(status)}, extra...)...)
	}
	require.Equal(t, 3.0, rest("rest_responses_total", "POST", query, 200))
	require.Equal(t, 1.0, rest("rest_responses_total", "POST", query, 404))
	require.Equal(t, 1.0, rest("rest_responses_total", "PUT", "/collections/{collection_name}/points", 200))
	require.Nil(t, fams["rest_responses_fail_total"], "Qdrant 1.17 has no fail counts")
	require.Nil(t, sample(fams, "rest_responses_total", "method", "PUT", "endpoint", "/collections/{collection_name}", "status", "200"),
		"collection changes are not a listed route")
	for _, m := range fams["rest_responses_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			require.NotContains(t, l.GetValue(), "/no/such", "unrouted requests are not counted")
			require.NotEqual(t, "/metrics", l.GetValue(), "scrapes are not counted")
		}
	}

	// Timings: only for 200 responses, as in Qdrant.
	minD := rest("rest_responses_min_duration_seconds", "POST", query, 200)
	avgD := rest("rest_responses_avg_duration_seconds", "POST", query, 200)
	maxD := rest("rest_responses_max_duration_seconds", "POST", query, 200)
	require.Greater(t, minD, 0.0)
	require.LessOrEqual(t, minD, avgD)
	require.LessOrEqual(t, avgD, maxD)
	require.Nil(t, sample(fams, "rest_responses_avg_duration_seconds", "method", "POST", "endpoint", query, "status", "404"))
	checkHistogram(t, fams, "rest_responses_duration_seconds", 3, minD, maxD,
		"method", "POST", "endpoint", query, "status", "200")

	// gRPC responses of Qdrant's listed methods, per full method and code.
	const grpcQuery = "/qdrant.Points/Query"
	require.Equal(t, 2.0, value(t, fams, "grpc_responses_total", "endpoint", grpcQuery, "status", "0"))
	require.Equal(t, 1.0, value(t, fams, "grpc_responses_total", "endpoint", grpcQuery, "status", "5"))
	require.Nil(t, sample(fams, "grpc_responses_total", "endpoint", "/qdrant.Collections/List", "status", "0"))
	gmin := value(t, fams, "grpc_responses_min_duration_seconds", "endpoint", grpcQuery, "status", "0")
	gmax := value(t, fams, "grpc_responses_max_duration_seconds", "endpoint", grpcQuery, "status", "0")
	require.LessOrEqual(t, gmin, value(t, fams, "grpc_responses_avg_duration_seconds", "endpoint", grpcQuery, "status", "0"))
	checkHistogram(t, fams, "grpc_responses_duration_seconds", 2, gmin, gmax, "endpoint", grpcQuery, "status", "0")

	// qlite's own, from the engine.
	require.Equal(t, float64(info.PointsCount), value(t, fams, "qlite_collection_points", "collection", "m"))
	require.Equal(t, 3.0, value(t, fams, "qlite_collection_points", "collection", "m"))
	require.Equal(t, float64(info.SegmentsCount), value(t, fams, "qlite_collection_segments", "collection", "m"))
	require.Equal(t, float64(info.IndexedVectorsCount), value(t, fams, "qlite_collection_indexed_vectors", "collection", "m"))
	require.Greater(t, value(t, fams, "go_goroutines"), 0.0)
	require.Greater(t, value(t, fams, "go_memstats_heap_alloc_bytes"), 0.0)

	// per_collection reports the responses per collection instead.
	fams = scrape(t, base+"/metrics?per_collection=true", key)
	require.Equal(t, 3.0, rest("rest_responses_total", "POST", query, 200, "collection", "m"))
	require.Equal(t, 1.0, rest("rest_responses_total", "POST", query, 404, "collection", "nope"))
	require.Nil(t, sample(fams, "rest_responses_total", "method", "POST", "endpoint", query, "status", "200"))
	require.Equal(t, 2.0, value(t, fams, "grpc_responses_total", "endpoint", grpcQuery, "status", "0", "collection", "m"))
	require.Nil(t, sample(fams, "grpc_responses_total", "endpoint", grpcQuery, "status", "5", "collection", "nope"),
		"failed calls count globally only, as in Qdrant")
	checkHistogram(t, fams, "rest_responses_duration_seconds", 3, minD, maxD,
		"method", "POST", "endpoint", query, "status", "200", "collection", "m")
	require.Equal(t, 3.0, value(t, fams, "collection_points", "id", "m"))
}

// checkHistogram checks the histogram sample of name with labels: count
// observations, cumulative buckets ending at +Inf with count, and a sum
// between count*min and count*max.
func checkHistogram(t *testing.T, fams map[string]*dto.MetricFamily, name string, count uint64, minD, maxD float64, labels ...string) {
	t.Helper()
	require.Equal(t, dto.MetricType_HISTOGRAM, fams[name].GetType())
	m := sample(fams, name, labels...)
	require.NotNil(t, m, "no %s%v", name, labels)
	hist := m.GetHistogram()
	require.Equal(t, count, hist.GetSampleCount())
	eps := 1e-9
	require.GreaterOrEqual(t, hist.GetSampleSum(), float64(count)*minD-eps)
	require.LessOrEqual(t, hist.GetSampleSum(), float64(count)*maxD+eps)
	var prev uint64
	for _, b := range hist.GetBucket() {
		require.GreaterOrEqual(t, b.GetCumulativeCount(), prev, "buckets are cumulative")
		prev = b.GetCumulativeCount()
		if b.GetUpperBound() >= maxD {
			require.Equal(t, count, b.GetCumulativeCount(), "le=%v covers every observation", b.GetUpperBound())
		}
		if b.GetUpperBound() < minD {
			require.Zero(t, b.GetCumulativeCount(), "le=%v is below every observation", b.GetUpperBound())
		}
	}
	require.Len(t, hist.GetBucket(), len(durationBounds)+1)
}

func TestDurationStats(t *testing.T) {
	var d durationStats
	f := func(sec float64, bucket int) {
		t.Helper()
		before := d.buckets
		d.addTiming(sec)
		for i := range d.buckets {
			want := before[i]
			if i == bucket {
				want++
			}
			require.Equal(t, want, d.buckets[i], "%vs: bucket %d", sec, i)
		}
	}
	f(0.0005, 3)
	f(0.001, 4) // upper bounds are inclusive
	f(0.0011, 5)
	f(0.00007, 1) // sub-millisecond searches get buckets of their own
	f(0.75, 12)
	f(50, 15)
	f(60, -1) // only in +Inf
	require.Equal(t, uint64(7), d.timed)
	require.Equal(t, 0.00007, d.min)
	require.Equal(t, 60.0, d.max)
	require.InDelta(t, (0.0005+0.001+0.0011+0.00007+0.75+50+60)/7, d.avg(), 1e-12)

	// The average covers the latest recentDurations timings only.
	for range recentDurations {
		d.addTiming(2)
	}
	require.Equal(t, 2.0, d.avg())
	require.Equal(t, 0.00007, d.min)
}

func TestPromText(t *testing.T) {
	f := func(kv []string, want string) {
		t.Helper()
		p := &promWriter{}
		p.labels(kv...)
		p.sample("x", "", 1.5)
		require.Equal(t, want, string(p.b))
	}
	f(nil, "x 1.5\n")
	f([]string{"a", "b"}, "x{a=\"b\"} 1.5\n")
	f([]string{"a", `q"\`, "c", "line\nbreak"}, `x{a="q\"\\",c="line\nbreak"} 1.5`+"\n")
	f([]string{"collection", "коллекция"}, "x{collection=\"коллекция\"} 1.5\n")

	g := func(v float64, want string) {
		t.Helper()
		require.Equal(t, want, string(appendFloat(nil, v)))
	}
	g(3, "3")
	g(0.001, "0.001")
	g(1e21, "1e+21")
	g(math.Inf(1), "+Inf")
}

// TestMetricsMemory checks qlite's memory and disk gauges against their
// oracles: each collection's bytes by kind are those of its info, the
// vector bytes those of the vectors upserted rounded up to a chunk; the
// gauges of a deleted collection go away; the Go heap figures bracket
// runtime.MemStats read around the scrape, the memory limit is the
// runtime's, and the resident size brackets the VmRSS of /proc/self/status
// read around it.
func TestMetricsMemory(t *testing.T) {
	const (
		n, dim = 2000, 64
		raw    = n * dim * 4
		chunk  = 1024 * dim * 4
	)
	db, h, _ := startServer(t, nil)
	base := "http://" + h
	ctx := context.Background()
	require.NoError(t, db.CreateCollection(ctx, "m", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: dim, Distance: distance.Dot}}}))
	require.NoError(t, db.CreateCollection(ctx, "keep", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: 4, Distance: distance.Dot}}}))
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]engine.Point, n)
	for i := range pts {
		v := make([]float32, dim)
		for j := range v {
			v[j] = rng.Float32()
		}
		pts[i] = engine.Point{ID: filter.NumID(uint64(i)), Vectors: map[string][]float32{"": v},
			Payload: payload.ObjectValue(payload.Field{Key: "i", Value: payload.IntValue(int64(i))})}
	}
	_, err := db.Upsert(ctx, "m", &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true})
	require.NoError(t, err)
	// Payloads are on disk (Qdrant's default): reading some twice misses
	// the payload cache, then hits it.
	for range 2 {
		_, err = db.Get(ctx, "m", []filter.PointID{filter.NumID(1), filter.NumID(2), filter.NumID(3)}, &engine.ReadOptions{WithPayload: engine.AllPayload})
		require.NoError(t, err)
	}
	info, err := db.CollectionInfo(ctx, "m")
	require.NoError(t, err)
	require.Positive(t, info.PayloadCache.Bytes)
	require.GreaterOrEqual(t, info.PayloadCache.Misses, int64(3))
	require.GreaterOrEqual(t, info.PayloadCache.Hits, int64(3))

	vmRSS := func() float64 { // bytes, from /proc/self/status (kB)
		v, ok := procField("/proc/self/status", "VmRSS:")
		if !ok {
			return math.NaN()
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
		require.NoError(t, err)
		return kb * 1024
	}
	var before, after runtime.MemStats
	rssBefore := vmRSS()
	runtime.ReadMemStats(&before)
	fams := scrape(t, base+"/metrics", nil)
	runtime.ReadMemStats(&after)
	rssAfter := vmRSS()

	mem := func(kind string) float64 {
		return value(t, fams, "qlite_collection_memory_bytes", "collection", "m", "kind", kind)
	}
	vecs := mem("vectors")
	require.GreaterOrEqual(t, vecs, float64(raw))
	require.Less(t, vecs, float64(raw+info.SegmentsCount*chunk))
	// The background optimizer may seal the segment meanwhile: the gauges
	// are the info's before the scrape or after it.
	later, err := db.CollectionInfo(ctx, "m")
	require.NoError(t, err)
	for _, k := range []struct {
		kind          string
		before, after int64
	}{
		{"vectors", info.Memory.Vectors, later.Memory.Vectors},
		{"graph", info.Memory.Graph, later.Memory.Graph},
		{"payloads", info.Memory.Payloads, later.Memory.Payloads},
		{"payload_indexes", info.Memory.PayloadIndexes, later.Memory.PayloadIndexes},
		{"sparse", info.Memory.Sparse, later.Memory.Sparse},
		{"other", info.Memory.Other, later.Memory.Other},
	} {
		require.Contains(t, []float64{float64(k.before), float64(k.after)}, mem(k.kind), k.kind)
	}
	// A rebuild meanwhile reads payloads too: the counters lie between the
	// info's before and after the scrape.
	hits := value(t, fams, "qlite_collection_payload_cache_hits_total", "collection", "m")
	misses := value(t, fams, "qlite_collection_payload_cache_misses_total", "collection", "m")
	require.GreaterOrEqual(t, hits, float64(info.PayloadCache.Hits))
	require.LessOrEqual(t, hits, float64(later.PayloadCache.Hits))
	require.GreaterOrEqual(t, misses, float64(info.PayloadCache.Misses))
	require.LessOrEqual(t, misses, float64(later.PayloadCache.Misses))
	cached := mem("payload_cache") // the cache is far from full: it only grows
	require.GreaterOrEqual(t, cached, float64(info.PayloadCache.Bytes))
	require.LessOrEqual(t, cached, float64(later.PayloadCache.Bytes))
	require.NotNil(t, sample(fams, "qlite_collection_disk_bytes", "collection", "m"))

	inuse := value(t, fams, "go_memstats_heap_inuse_bytes")
	lo, hi := min(before.HeapInuse, after.HeapInuse), max(before.HeapInuse, after.HeapInuse)
	require.GreaterOrEqual(t, inuse, 0.9*float64(lo))
	require.LessOrEqual(t, inuse, 1.1*float64(hi))
	require.Equal(t, float64(debug.SetMemoryLimit(-1)), value(t, fams, "go_gc_gomemlimit_bytes"))
	if !math.IsNaN(rssBefore) {
		rss := value(t, fams, "process_resident_memory_bytes")
		require.GreaterOrEqual(t, rss, 0.9*min(rssBefore, rssAfter))
		require.LessOrEqual(t, rss, 1.1*max(rssBefore, rssAfter))
	}

	_, err = db.DeleteCollection(ctx, "m")
	require.NoError(t, err)
	fams = scrape(t, base+"/metrics", nil)
	require.Nil(t, sample(fams, "qlite_collection_memory_bytes", "collection", "m", "kind", "vectors"))
	require.Nil(t, sample(fams, "qlite_collection_disk_bytes", "collection", "m"))
	require.NotNil(t, sample(fams, "qlite_collection_memory_bytes", "collection", "keep", "kind", "vectors"))
}

// TestMetricsVectorsOnDisk: the vectors of an on-disk collection's sealed
// segments count as on disk (qlite_collection_vectors_on_disk_bytes, the
// raw bytes of its rows rounded up to whole rows of the segments' slots),
// not as heap vectors; GET /collections/{name} reports the same under
// result.qlite.
func TestMetricsVectorsOnDisk(t *testing.T) {
	const n, dim = 3000, 32
	db, h, _ := startServer(t, nil)
	base := "http://" + h
	ctx := context.Background()
	on, thr := true, 10
	require.NoError(t, db.CreateCollection(ctx, "d", &engine.CreateCollection{
		Vectors:    engine.VectorsConfig{"": {Size: dim, Distance: distance.Dot, OnDisk: &on}},
		Optimizers: &engine.OptimizersConfigDiff{IndexingThreshold: &thr}}))
	upsertUniform(t, db, "d", n, dim)
	require.NoError(t, db.Optimize(ctx, "d"))
	info, err := db.CollectionInfo(ctx, "d")
	require.NoError(t, err)
	segs, err := db.Segments(ctx, "d")
	require.NoError(t, err)
	sealed := 0
	for _, s := range segs {
		if !s.Appendable {
			sealed += s.Slots
		}
	}
	require.Equal(t, int64(sealed*dim*4), info.Memory.MappedVectors)
	fams := scrape(t, base+"/metrics", nil)
	require.Equal(t, float64(info.Memory.MappedVectors), value(t, fams, "qlite_collection_vectors_on_disk_bytes", "collection", "d"))
	require.Equal(t, float64(info.Memory.Vectors), value(t, fams, "qlite_collection_memory_bytes", "collection", "d", "kind", "vectors"))
	require.Less(t, info.Memory.Vectors, int64(sealed*dim*4), "sealed vectors counted on the heap")

	resp, err := http.Get(base + "/collections/d")
	require.NoError(t, err)
	defer resp.Body.Close()
	var got struct {
		Result struct {
			Qlite struct {
				DiskBytes          int64 `json:"disk_bytes"`
				VectorsOnDiskBytes int64 `json:"vectors_on_disk_bytes"`
			} `json:"qlite"`
		} `json:"result"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Equal(t, info.Memory.MappedVectors, got.Result.Qlite.VectorsOnDiskBytes)
	require.Greater(t, got.Result.Qlite.DiskBytes, info.Memory.MappedVectors, "disk bytes count the segment files")
}

// TestMetricsGraphOnDisk: the graphs of a collection with hnsw_config.on_disk
// count as on disk (qlite_collection_graph_on_disk_bytes, the bytes of its
// graph files' in-place layout), not as heap graphs; GET
// /collections/{name} reports the same under result.qlite.
func TestMetricsGraphOnDisk(t *testing.T) {
	const n, dim = 3000, 16
	db, h, _ := startServer(t, nil)
	ctx := context.Background()
	on, thr := true, 10
	for _, name := range []string{"g", "r"} {
		req := &engine.CreateCollection{
			Vectors:    engine.VectorsConfig{"": {Size: dim, Distance: distance.Dot}},
			Optimizers: &engine.OptimizersConfigDiff{IndexingThreshold: &thr}}
		if name == "g" {
			req.HNSW = &engine.HnswConfigDiff{OnDisk: &on}
		}
		require.NoError(t, db.CreateCollection(ctx, name, req))
		upsertUniform(t, db, name, n, dim)
		require.NoError(t, db.Optimize(ctx, name))
	}
	g, err := db.CollectionInfo(ctx, "g")
	require.NoError(t, err)
	r, err := db.CollectionInfo(ctx, "r")
	require.NoError(t, err)
	require.Positive(t, g.Memory.MappedGraph)
	require.Zero(t, r.Memory.MappedGraph)
	require.Less(t, g.Memory.Graph, r.Memory.Graph/4, "sealed graphs counted on the heap")
	fams := scrape(t, "http://"+h+"/metrics", nil)
	require.Equal(t, float64(g.Memory.MappedGraph), value(t, fams, "qlite_collection_graph_on_disk_bytes", "collection", "g"))
	require.Equal(t, float64(0), value(t, fams, "qlite_collection_graph_on_disk_bytes", "collection", "r"))
	resp, err := http.Get("http://" + h + "/collections/g")
	require.NoError(t, err)
	defer resp.Body.Close()
	var got struct {
		Result struct {
			Qlite struct {
				GraphOnDiskBytes int64 `json:"graph_on_disk_bytes"`
			} `json:"qlite"`
		} `json:"result"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	require.Equal(t, g.Memory.MappedGraph, got.Result.Qlite.GraphOnDiskBytes)
}

// upsertUniform upserts n points with ids 0 to n-1 and seeded uniform
// vectors of dimension dim into coll.
func upsertUniform(t *testing.T, db *engine.DB, coll string, n, dim int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]engine.Point, n)
	for i := range pts {
		v := make([]float32, dim)
		for j := range v {
			v[j] = rng.Float32()
		}
		pts[i] = engine.Point{ID: filter.NumID(uint64(i)), Vectors: map[string][]float32{"": v}}
	}
	_, err := db.Upsert(context.Background(), coll, &engine.UpsertOp{Points: pts}, &engine.WriteOptions{Wait: true})
	require.NoError(t, err)
}
