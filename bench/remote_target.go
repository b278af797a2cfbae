package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/payload"
)

// A remote target is any Qdrant-compatible server: qlite serve or a real
// Qdrant. "grpc://HOST:PORT" talks gRPC through go-client; "http://HOST:PORT"
// talks REST with plain JSON. The run creates collection "qlite_bench"
// (replacing one of that name), uploads the base in batches of 256 with
// wait, waits until the collection is green, then queries. In a filtered
// run it first creates the payload indexes of the hnsw target (unless
// NoPayloadIndex), uploads every point with its generated payload and, after
// the unfiltered queries, runs each filter case, every query with the filter
// of its group.

const remoteCollection = "qlite_bench"

// remote is what the runner needs from a server.
type remote interface {
	create(ctx context.Context, dim int, m distance.Metric, hnswM, efc int, od onDisk) error
	// createIndex indexes a payload field, waiting until it is done.
	createIndex(ctx context.Context, field string, typ payload.FieldType) error
	upload(ctx context.Context, ids []uint64, vecs [][]float32) error
	// uploadPayloads uploads points with payloads (object values).
	uploadPayloads(ctx context.Context, ids []uint64, vecs [][]float32, payloads []payload.Value) error
	green(ctx context.Context) (bool, error)
	// prepareFilter translates a filter in Qdrant's REST JSON syntax into
	// what search takes.
	prepareFilter(js string) (remoteFilter, error)
	// search writes the ids of the k nearest points into row; f, when not
	// nil, is a filter from prepareFilter.
	search(ctx context.Context, q []float32, k, ef int, f remoteFilter, row []int32) error
	close() error
}

// onDisk says what a collection keeps on disk (Config.OnDiskVectors,
// Config.OnDiskGraph).
type onDisk struct{ vectors, graph bool }

// remoteFilter is a filter prepared by a remote for its searches.
type remoteFilter any

// isRemoteTarget reports whether target names a server.
func isRemoteTarget(target string) bool {
	return strings.HasPrefix(target, "grpc://") || strings.HasPrefix(target, "http://")
}

func dialRemote(target, apiKey string) (remote, error) {
	switch {
	case strings.HasPrefix(target, "grpc://"):
		host, port, err := net.SplitHostPort(strings.TrimPrefix(target, "grpc://"))
		if err != nil {
			return nil, fmt.Errorf("bench: target %s: %w", target, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("bench: target %s: port: %w", target, err)
		}
		c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, APIKey: apiKey, SkipCompatibilityCheck: true})
		if err != nil {
			return nil, err
		}
		return &grpcRemote{c: c, coll: remoteCollection}, nil
	case strings.HasPrefix(target, "http://"):
		return &restRemote{base: strings.TrimSuffix(target, "/"), key: apiKey,
			hc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}, nil
	}
	return nil, fmt.Errorf("bench: unknown target %q", target)
}

// runRemote measures a server already running at c.Target.
func runRemote(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, fw *filteredWorkload, res *Result) error {
	r, err := dialRemote(c.Target, c.APIKey)
	if err != nil {
		return err
	}
	defer r.close()
	if g, ok := r.(*grpcRemote); ok {
		if g.quant, g.quantSearch, err = quantizationOf(c); err != nil {
			return err
		}
	} else if c.Quantization != "" {
		return fmt.Errorf("bench: --quantization needs a grpc:// target, not %s", c.Target)
	}
	return measureRemote(ctx, c, r, nil, ds, gt, fw, res)
}

// runServer starts the server of target TargetServe or TargetQdrant over a
// fresh directory, measures it through go-client over gRPC with its
// process's figures, and stops it.
func runServer(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, fw *filteredWorkload, res *Result) error {
	kind := ServerQdrant
	if c.Target == TargetServe {
		kind = ServerQlite
	}
	qc, qs, err := quantizationOf(c)
	if err != nil {
		return err
	}
	s, err := openServer(ctx, serverSpec{qdrantBin: c.QdrantBin, exe: c.Exe, threads: c.Threads, log: c.Log}, kind)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Log, "started %s (pid %d)\n", s.name, s.pid)
	if s.qdrant {
		fmt.Fprintf(c.Log, "note: %s\n", qdrantBinaryNote)
	}
	err = measureRemote(ctx, c, &grpcRemote{c: s.c, coll: remoteCollection, quant: qc, quantSearch: qs}, s, ds, gt, fw, res)
	return errors.Join(err, s.stop())
}

// measureRemote measures a server: upload, time to green, single-query
// sweep and, with Concurrency > 1, throughput with that many concurrent
// clients. With srv, a server the run started, it also records the
// server's figures (ServerFigures).
func measureRemote(ctx context.Context, c *Config, r remote, srv *served, ds *Dataset, gt *GroundTruth, fw *filteredWorkload, res *Result) error {
	res.QueryMode = "single"
	if fw != nil {
		indexed := !c.NoPayloadIndex
		res.Params.PayloadIndex = &indexed
	}
	var payloadOf func(int) (payload.Value, error)
	if fw != nil {
		payloadOf = func(i int) (payload.Value, error) { return pointPayload(fw, i) }
	}
	var sf *ServerFigures
	if srv != nil {
		sf = &ServerFigures{Name: srv.name, InProcess: srv.inProcess}
		if srv.qdrant {
			sf.Note = qdrantBinaryNote
			res.Env.Reference = srv.name
		}
		res.Server = sf
	}
	cpu0 := srv.cpuSeconds()
	if err := createCollection(ctx, c, r, ds, fw); err != nil {
		return err
	}
	start := time.Now()
	bar := startProgress(c.Progress, "upload", ds.N, nil)
	defer bar.Stop()
	if err := uploadBase(ctx, r, ds, payloadOf, bar); err != nil {
		return err
	}
	bar.Stop()
	fig := &EngineFigures{UploadBatch: uploadBatch}
	res.Engine = fig
	fig.UploadSeconds = time.Since(start).Seconds()
	if err := awaitGreen(ctx, r); err != nil {
		return err
	}
	res.BuildSeconds = time.Since(start).Seconds()
	fig.IndexSeconds = res.BuildSeconds - fig.UploadSeconds
	fmt.Fprintf(c.Log, "upload %.2fs, green %.2fs later\n", fig.UploadSeconds, fig.IndexSeconds)
	if sf != nil {
		sf.BuildCPUSeconds = srv.cpuSeconds() - cpu0
		res.BuildCPUSeconds = sf.BuildCPUSeconds
		sf.DiskBytes = srv.diskBytes()
		sf.GreenRSSBytes = srv.peakRSS()
		fmt.Fprintf(c.Log, "%s: %.1fs CPU to green, disk %s, VmHWM %s\n", srv.name, sf.BuildCPUSeconds, mib(sf.DiskBytes), mib(sf.GreenRSSBytes))
		sf.RawVectorBytes = int64(ds.N) * int64(ds.Dim) * 4
		if c.Reopen && srv.restart != nil {
			start := time.Now()
			if err := srv.restart(ctx); err != nil {
				return fmt.Errorf("bench: restart %s: %w", srv.name, err)
			}
			if gr, ok := r.(*grpcRemote); ok {
				gr.c = srv.c
			}
			if err := awaitGreen(ctx, r); err != nil {
				return err
			}
			sf.ReopenSeconds = time.Since(start).Seconds()
			fmt.Fprintf(c.Log, "%s: restarted, green after %.3fs\n", srv.name, sf.ReopenSeconds)
		}
		sf.GreenRSSAnonBytes = srv.rssAnon()
		if (c.OnDiskVectors || c.OnDiskGraph) && srv.storage != "" {
			start := time.Now()
			n := warmFiles(srv.storage)
			sf.WarmSeconds = time.Since(start).Seconds()
			fmt.Fprintf(c.Log, "page cache warmed: %s read in %.2fs\n", mib(n), sf.WarmSeconds)
		}
	}

	nq, k := gt.Rows(), c.K
	var calls atomic.Int64
	search := func(ef, i int, f remoteFilter, row []int32) error {
		calls.Add(1)
		return r.search(ctx, ds.Query(i), k, ef, f, row)
	}
	// cpuPerQuery runs fn and returns the server's CPU time per query it
	// asked, in microseconds.
	cpuPerQuery := func(fn func() error) (float64, error) {
		n0, t0 := calls.Load(), srv.cpuSeconds()
		err := fn()
		if n := calls.Load() - n0; n > 0 && srv != nil {
			return 1e6 * (srv.cpuSeconds() - t0) / float64(n), err
		}
		return 0, err
	}
	var err error
	perQuery, err := cpuPerQuery(func() (err error) {
		res.Runs, err = efSweep(ctx, c, gt, func(ef, i int, row []int32) error { return search(ef, i, nil, row) })
		return err
	})
	if err != nil {
		return err
	}
	if sf != nil {
		sf.CPUPerQueryMicros = perQuery
	}
	if fw != nil {
		runs, err := measureCases(ctx, c, fw, nq, func(fc *filterCase) (caseSearch, error) {
			groups, err := prepareGroups(r, fc)
			if err != nil {
				return nil, err
			}
			return func(ef, i int, row []int32, _ *caseStats) error {
				return search(ef, i, groups[fc.QueryGroup[i]], row)
			}, nil
		})
		if err != nil {
			return err
		}
		res.Runs = append(res.Runs, runs...)
	}
	if c.Concurrency > 1 {
		perQuery, err := cpuPerQuery(func() (err error) {
			res.RunsConcurrent, err = concurrentRuns(ctx, c, nq, func(i int, row []int32, ef int) error {
				return search(ef, i, nil, row)
			})
			return err
		})
		if err != nil {
			return err
		}
		// The same ef finds the same points whatever the workers.
		for i := range res.RunsConcurrent {
			for _, m := range res.Runs {
				if m.Ef == res.RunsConcurrent[i].Ef && !m.Filtered() {
					res.RunsConcurrent[i].Recall = m.Recall
				}
			}
		}
		if sf != nil {
			sf.ConcurrentCPUPerQueryMicros = perQuery
		}
	}
	if sf != nil {
		sf.PeakRSSBytes = srv.peakRSS()
		sf.RSSAnonBytes = srv.rssAnon()
		fmt.Fprintf(c.Log, "%s: RssAnon %s after the sweep (%s once green), raw vectors %s: %.1f%%\n", srv.name,
			mib(sf.RSSAnonBytes), mib(sf.GreenRSSAnonBytes), mib(sf.RawVectorBytes), 100*float64(sf.RSSAnonBytes)/float64(max(1, sf.RawVectorBytes)))
		if !srv.inProcess {
			res.RSSBytes = sf.PeakRSSBytes
		}
		fmt.Fprintf(c.Log, "%s: CPU per query %.0f us one at a time", srv.name, sf.CPUPerQueryMicros)
		if sf.ConcurrentCPUPerQueryMicros > 0 {
			fmt.Fprintf(c.Log, ", %.0f us with %d workers", sf.ConcurrentCPUPerQueryMicros, c.Concurrency)
		}
		fmt.Fprintf(c.Log, "; peak RSS %s\n", mib(sf.PeakRSSBytes))
	}
	return nil
}

// awaitGreen polls r until its collection is green.
func awaitGreen(ctx context.Context, r remote) error {
	for {
		ok, err := r.green(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// warmFiles reads every regular file under dir once, so that the page
// cache holds them, and returns the bytes read.
func warmFiles(dir string) int64 {
	var n int64
	buf := make([]byte, 1<<20)
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		for {
			m, err := f.Read(buf)
			n += int64(m)
			if err != nil {
				return nil
			}
		}
	})
	return n
}

// createCollection creates r's collection with c's graph parameters and
// indexes the payload fields of payloadIndexes when fw is set and
// c.NoPayloadIndex is not.
func createCollection(ctx context.Context, c *Config, r remote, ds *Dataset, fw *filteredWorkload) error {
	if err := r.create(ctx, ds.Dim, ds.Metric, c.M, c.EfConstruct, onDisk{c.OnDiskVectors, c.OnDiskGraph}); err != nil {
		return fmt.Errorf("bench: create collection: %w", err)
	}
	if fw != nil && !c.NoPayloadIndex {
		for _, f := range payloadIndexes {
			if err := r.createIndex(ctx, f.key, f.typ); err != nil {
				return fmt.Errorf("bench: index %s: %w", f.key, err)
			}
		}
	}
	return nil
}

// uploadBase upserts the base of ds into r's collection in batches of
// uploadBatch, counting the points on bar. payloadOf gives each point's
// payload; nil uploads none.
func uploadBase(ctx context.Context, r remote, ds *Dataset, payloadOf func(int) (payload.Value, error), bar *progress) error {
	ids := make([]uint64, 0, uploadBatch)
	vecs := make([][]float32, 0, uploadBatch)
	var pls []payload.Value
	for from := 0; from < ds.N; from += uploadBatch {
		ids, vecs, pls = ids[:0], vecs[:0], pls[:0]
		for i := from; i < min(ds.N, from+uploadBatch); i++ {
			ids = append(ids, uint64(i))
			vecs = append(vecs, ds.Base[i*ds.Dim:(i+1)*ds.Dim])
			if payloadOf != nil {
				p, err := payloadOf(i)
				if err != nil {
					return err
				}
				pls = append(pls, p)
			}
		}
		var err error
		if payloadOf == nil {
			err = r.upload(ctx, ids, vecs)
		} else {
			err = r.uploadPayloads(ctx, ids, vecs, pls)
		}
		if err != nil {
			return fmt.Errorf("bench: upload: %w", err)
		}
		bar.Add(len(ids))
	}
	return nil
}

// prepareGroups prepares the filter of every group of fc for r's searches.
func prepareGroups(r remote, fc *filterCase) ([]remoteFilter, error) {
	groups := make([]remoteFilter, len(fc.Groups))
	for g, grp := range fc.Groups {
		f, err := r.prepareFilter(grp.JSON)
		if err != nil {
			return nil, fmt.Errorf("bench: filter %s: %w", grp.JSON, err)
		}
		groups[g] = f
	}
	return groups, nil
}

// concurrentRuns measures, for each ef, the throughput of c.Concurrency
// workers each issuing queries one after another, over c.Repeat passes of
// the query set (the fastest pass is kept).
func concurrentRuns(ctx context.Context, c *Config, nq int, search func(i int, row []int32, ef int) error) ([]Measurement, error) {
	var runs []Measurement
	for _, ef := range c.Ef {
		run := Measurement{Ef: ef, Concurrency: c.Concurrency}
		bar := startProgress(c.Progress, fmt.Sprintf("concurrency %d ef=%d", c.Concurrency, ef), c.Repeat*nq, nil)
		for range c.Repeat {
			var next atomic.Int64
			var wg sync.WaitGroup
			var firstErr error
			var once sync.Once
			start := time.Now()
			for range c.Concurrency {
				wg.Go(func() {
					row := make([]int32, c.K)
					for {
						i := int(next.Add(1) - 1)
						if i >= nq || ctx.Err() != nil {
							return
						}
						if err := search(i, row, ef); err != nil {
							once.Do(func() { firstErr = err })
							return
						}
						bar.Add(1)
					}
				})
			}
			wg.Wait()
			if firstErr != nil {
				bar.Stop()
				return nil, firstErr
			}
			run.QPS = max(run.QPS, float64(nq)/time.Since(start).Seconds())
		}
		bar.Stop()
		fmt.Fprintf(c.Log, "concurrency %d ef=%d: %.0f qps\n", c.Concurrency, ef, run.QPS)
		runs = append(runs, run)
	}
	return runs, nil
}

// grpcRemote talks to a server through go-client.
// grpcRemote drives collection coll through go-client's API: a gRPC
// connection (*qdrant.Client) or qlite in process (compat.NewEmbedded).
type grpcRemote struct {
	c    compat.Client
	coll string
	// quant, when set, is the collection's quantization config, and
	// quantSearch the searches' quantization parameters.
	quant       *qdrant.QuantizationConfig
	quantSearch *qdrant.QuantizationSearchParams
	// datatype, when set, is the vector's datatype.
	datatype *qdrant.Datatype
}

// datatypeOf returns the vector datatype c asks for (nil for the default).
func datatypeOf(c *Config) (*qdrant.Datatype, error) {
	switch c.Datatype {
	case "":
		return nil, nil
	case "float32":
		return qdrant.Datatype_Float32.Enum(), nil
	case "float16":
		return qdrant.Datatype_Float16.Enum(), nil
	case "uint8":
		return qdrant.Datatype_Uint8.Enum(), nil
	}
	return nil, fmt.Errorf("bench: datatype %q: float32, float16 or uint8", c.Datatype)
}

// quantizationOf returns the quantization config and search parameters c
// asks for (nil, nil for none).
func quantizationOf(c *Config) (*qdrant.QuantizationConfig, *qdrant.QuantizationSearchParams, error) {
	var qc *qdrant.QuantizationConfig
	switch q := c.Quantization; {
	case q == "":
		return nil, nil, nil
	case q == "scalar":
		qc = qdrant.NewQuantizationScalar(&qdrant.ScalarQuantization{Type: qdrant.QuantizationType_Int8, AlwaysRam: qdrant.PtrOf(true)})
	case strings.HasPrefix(q, "binary-"):
		enc, ok := map[string]qdrant.BinaryQuantizationEncoding{"1bit": qdrant.BinaryQuantizationEncoding_OneBit,
			"1.5bit": qdrant.BinaryQuantizationEncoding_OneAndHalfBits, "2bit": qdrant.BinaryQuantizationEncoding_TwoBits}[strings.TrimPrefix(q, "binary-")]
		if !ok {
			return nil, nil, fmt.Errorf("bench: quantization %q: binary-1bit, binary-1.5bit or binary-2bit", q)
		}
		qc = qdrant.NewQuantizationBinary(&qdrant.BinaryQuantization{Encoding: &enc, AlwaysRam: qdrant.PtrOf(true)})
	case strings.HasPrefix(q, "pq-"):
		v, ok := qdrant.CompressionRatio_value[strings.TrimPrefix(q, "pq-")]
		if !ok {
			return nil, nil, fmt.Errorf("bench: quantization %q: pq-x4 to pq-x64", q)
		}
		qc = qdrant.NewQuantizationProduct(&qdrant.ProductQuantization{Compression: qdrant.CompressionRatio(v), AlwaysRam: qdrant.PtrOf(true)})
	default:
		return nil, nil, fmt.Errorf("bench: unknown quantization %q", q)
	}
	qs := &qdrant.QuantizationSearchParams{}
	if c.Oversampling > 1 {
		qs.Oversampling = qdrant.PtrOf(c.Oversampling)
	}
	switch c.Rescore {
	case "":
	case "true", "false":
		qs.Rescore = qdrant.PtrOf(c.Rescore == "true")
	default:
		return nil, nil, fmt.Errorf("bench: rescore %q: true, false or empty", c.Rescore)
	}
	return qc, qs, nil
}

func (g *grpcRemote) create(ctx context.Context, dim int, m distance.Metric, hnswM, efc int, od onDisk) error {
	if ok, err := g.c.CollectionExists(ctx, g.coll); err != nil {
		return err
	} else if ok {
		if err := g.c.DeleteCollection(ctx, g.coll); err != nil {
			return err
		}
	}
	dist := map[distance.Metric]qdrant.Distance{distance.Cosine: qdrant.Distance_Cosine, distance.Euclid: qdrant.Distance_Euclid,
		distance.Dot: qdrant.Distance_Dot, distance.Manhattan: qdrant.Distance_Manhattan}[m]
	return g.c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName:     g.coll,
		VectorsConfig:      qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: uint64(dim), Distance: dist, OnDisk: qdrant.PtrOf(od.vectors), Datatype: g.datatype}),
		HnswConfig:         &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(hnswM)), EfConstruct: qdrant.PtrOf(uint64(efc)), OnDisk: qdrant.PtrOf(od.graph)},
		QuantizationConfig: g.quant,
	})
}

func (g *grpcRemote) createIndex(ctx context.Context, field string, typ payload.FieldType) error {
	// payload.FieldType is numbered as gRPC's FieldType. No index params:
	// Qdrant's defaults (an integer index serves both match and range) are
	// the segment's.
	_, err := g.c.CreateFieldIndex(ctx, &qdrant.CreateFieldIndexCollection{
		CollectionName: g.coll,
		FieldName:      field,
		FieldType:      qdrant.PtrOf(qdrant.FieldType(typ)),
		Wait:           qdrant.PtrOf(true),
	})
	return err
}

func (g *grpcRemote) upload(ctx context.Context, ids []uint64, vecs [][]float32) error {
	return g.uploadPayloads(ctx, ids, vecs, nil)
}

func (g *grpcRemote) uploadPayloads(ctx context.Context, ids []uint64, vecs [][]float32, payloads []payload.Value) error {
	pts := make([]*qdrant.PointStruct, len(ids))
	for i, id := range ids {
		pts[i] = &qdrant.PointStruct{Id: qdrant.NewIDNum(id), Vectors: qdrant.NewVectorsDense(vecs[i])}
		if payloads != nil {
			pts[i].Payload = compat.PayloadToProto(payloads[i])
		}
	}
	_, err := g.c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: g.coll, Points: pts, Wait: qdrant.PtrOf(true)})
	return err
}

func (g *grpcRemote) green(ctx context.Context) (bool, error) {
	info, err := g.c.GetCollectionInfo(ctx, g.coll)
	if err != nil {
		return false, err
	}
	return info.GetStatus() == qdrant.CollectionStatus_Green, nil
}

func (g *grpcRemote) prepareFilter(js string) (remoteFilter, error) { return grpcFilter(js) }

func (g *grpcRemote) search(ctx context.Context, q []float32, k, ef int, f remoteFilter, row []int32) error {
	var flt *qdrant.Filter
	if f != nil {
		flt = f.(*qdrant.Filter)
	}
	pts, err := g.c.Query(ctx, &qdrant.QueryPoints{
		CollectionName: g.coll,
		Query:          qdrant.NewQueryDense(q),
		Filter:         flt,
		Limit:          qdrant.PtrOf(uint64(k)),
		Params:         &qdrant.SearchParams{HnswEf: qdrant.PtrOf(uint64(ef)), Quantization: g.quantSearch},
	})
	if err != nil {
		return err
	}
	for j, p := range pts {
		row[j] = int32(p.GetId().GetNum())
	}
	return nil
}

func (g *grpcRemote) close() error { return g.c.Close() }

// grpcFilter translates a filter of the filtered workload, in Qdrant's REST
// JSON syntax, into gRPC's: a "must" list of range conditions
// ({"key": K, "range": {"lt": N, ...}}) and match conditions on one value
// ({"key": K, "match": {"value": V}}, V an integer, string or boolean).
// Anything else is an error.
func grpcFilter(js string) (*qdrant.Filter, error) {
	var f struct {
		Must []struct {
			Key   string `json:"key"`
			Range *struct {
				Lt  *float64 `json:"lt"`
				Gt  *float64 `json:"gt"`
				Gte *float64 `json:"gte"`
				Lte *float64 `json:"lte"`
			} `json:"range"`
			Match *struct {
				Value json.RawMessage `json:"value"`
			} `json:"match"`
		} `json:"must"`
	}
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("bench: filter %s: not a must list of range and match-value conditions: %w", js, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("bench: filter %s: trailing data", js)
	}
	if len(f.Must) == 0 {
		return nil, fmt.Errorf("bench: filter %s: no must conditions", js)
	}
	out := &qdrant.Filter{}
	for _, c := range f.Must {
		switch {
		case c.Key == "":
			return nil, fmt.Errorf("bench: filter %s: a condition without a key", js)
		case (c.Range == nil) == (c.Match == nil):
			return nil, fmt.Errorf("bench: filter %s: condition on %q is neither a range nor a match", js, c.Key)
		case c.Range != nil:
			r := c.Range
			if r.Lt == nil && r.Gt == nil && r.Gte == nil && r.Lte == nil {
				return nil, fmt.Errorf("bench: filter %s: range on %q has no bound", js, c.Key)
			}
			out.Must = append(out.Must, qdrant.NewRange(c.Key, &qdrant.Range{Lt: r.Lt, Gt: r.Gt, Gte: r.Gte, Lte: r.Lte}))
		default:
			cond, err := grpcMatch(c.Key, c.Match.Value)
			if err != nil {
				return nil, fmt.Errorf("bench: filter %s: %w", js, err)
			}
			out.Must = append(out.Must, cond)
		}
	}
	return out, nil
}

// grpcMatch returns the condition matching key to one JSON value: an
// integer, a string or a boolean.
func grpcMatch(key string, raw json.RawMessage) (*qdrant.Condition, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("match on %q: %w", key, err)
	}
	switch v := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(v.String(), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("match on %q: value %s is not an integer", key, v)
		}
		return qdrant.NewMatchInt(key, n), nil
	case string:
		return qdrant.NewMatchKeyword(key, v), nil
	case bool:
		return qdrant.NewMatchBool(key, v), nil
	}
	return nil, fmt.Errorf("match on %q: value %s is not an integer, string or boolean", key, raw)
}

// restRemote talks to a server's REST API with plain JSON.
type restRemote struct {
	base, key string
	hc        *http.Client
}

func (r *restRemote) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.key != "" {
		req.Header.Set("api-key", r.key)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (r *restRemote) create(ctx context.Context, dim int, m distance.Metric, hnswM, efc int, od onDisk) error {
	_ = r.do(ctx, http.MethodDelete, "/collections/"+remoteCollection, nil, nil)
	return r.do(ctx, http.MethodPut, "/collections/"+remoteCollection, map[string]any{
		"vectors":     map[string]any{"size": dim, "distance": m.String(), "on_disk": od.vectors},
		"hnsw_config": map[string]any{"m": hnswM, "ef_construct": efc, "on_disk": od.graph},
	}, nil)
}

func (r *restRemote) createIndex(ctx context.Context, field string, typ payload.FieldType) error {
	return r.do(ctx, http.MethodPut, "/collections/"+remoteCollection+"/index?wait=true", map[string]any{
		"field_name": field, "field_schema": typ.String(),
	}, nil)
}

func (r *restRemote) upload(ctx context.Context, ids []uint64, vecs [][]float32) error {
	return r.uploadPayloads(ctx, ids, vecs, nil)
}

func (r *restRemote) uploadPayloads(ctx context.Context, ids []uint64, vecs [][]float32, payloads []payload.Value) error {
	pts := make([]map[string]any, len(ids))
	for i, id := range ids {
		pts[i] = map[string]any{"id": id, "vector": vecs[i]}
		if payloads != nil {
			pts[i]["payload"] = payloads[i]
		}
	}
	return r.do(ctx, http.MethodPut, "/collections/"+remoteCollection+"/points?wait=true", map[string]any{"points": pts}, nil)
}

func (r *restRemote) green(ctx context.Context) (bool, error) {
	var out struct {
		Result struct {
			Status string `json:"status"`
		} `json:"result"`
	}
	if err := r.do(ctx, http.MethodGet, "/collections/"+remoteCollection, nil, &out); err != nil {
		return false, err
	}
	return out.Result.Status == "green", nil
}

// prepareFilter checks that js is JSON; the REST API takes the workload's
// filters as they are.
func (r *restRemote) prepareFilter(js string) (remoteFilter, error) {
	if !json.Valid([]byte(js)) {
		return nil, fmt.Errorf("bench: filter %s is not JSON", js)
	}
	return json.RawMessage(js), nil
}

func (r *restRemote) search(ctx context.Context, q []float32, k, ef int, f remoteFilter, row []int32) error {
	var out struct {
		Result struct {
			Points []struct {
				ID uint64 `json:"id"`
			} `json:"points"`
		} `json:"result"`
	}
	body := map[string]any{"query": q, "limit": k, "params": map[string]any{"hnsw_ef": ef}}
	if f != nil {
		body["filter"] = f.(json.RawMessage)
	}
	err := r.do(ctx, http.MethodPost, "/collections/"+remoteCollection+"/points/query", body, &out)
	if err != nil {
		return err
	}
	for j, p := range out.Result.Points {
		row[j] = int32(p.ID)
	}
	return nil
}

func (r *restRemote) close() error { r.hc.CloseIdleConnections(); return nil }
