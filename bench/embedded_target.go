package bench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/payload"
)

// EngineFigures are the figures of the embedded-engine target beyond the
// common ones.
type EngineFigures struct {
	// UploadSeconds is the time to upsert the base in batches of
	// UploadBatch with Wait; IndexSeconds the time from the last upsert
	// until the collection was green. BuildSeconds is their sum.
	UploadSeconds float64 `json:"upload_seconds"`
	IndexSeconds  float64 `json:"index_seconds"`
	UploadBatch   int     `json:"upload_batch"`
	// ReopenSeconds is the time to close and reopen the database, until the
	// collection is green again; ReopenGraphBuilds counts graph builds
	// during the reopen (0: every graph was loaded).
	ReopenSeconds     float64 `json:"reopen_seconds"`
	ReopenGraphBuilds int64   `json:"reopen_graph_builds"`
	// DiskBytes is the database directory after a full compaction;
	// RawBytes the vectors (4 bytes per dimension) plus the binary payloads.
	DiskBytes int64 `json:"disk_bytes"`
	RawBytes  int64 `json:"raw_bytes"`
	Segments  int   `json:"segments"`
	// Searches during a background build: p99 latency at ProbeEf with the
	// database idle, and while another collection of the same data is
	// uploaded and indexed in the background.
	ProbeEf         int     `json:"probe_ef"`
	IdleP99Ms       float64 `json:"idle_p99_ms"`
	DuringBuildP99  float64 `json:"during_build_p99_ms"`
	DuringBuildRuns int     `json:"during_build_queries"`
	// Phases are the peak resident set of each phase in order (upload,
	// index, close, reopen, search), the data and ground truth included: VmHWM
	// reset at the start of the phase, and RssAnon at its end. Without a
	// resettable peak (/proc/self/clear_refs) each peak is the process's
	// peak so far.
	Phases []PhasePeak `json:"phases,omitempty"`
	// RSSAnonBytes is the process's anonymous resident memory (RssAnon)
	// after the single-query sweep, the dataset and ground truth the
	// process holds included (Result.DataRSSBytes). RawVectorBytes is the
	// base's vectors at 4 bytes a component. WarmSeconds is the time to
	// read every file of the database once before the sweep (on-disk
	// runs).
	RSSAnonBytes   int64   `json:"rss_anon_bytes,omitempty"`
	RawVectorBytes int64   `json:"raw_vector_bytes,omitempty"`
	WarmSeconds    float64 `json:"warm_seconds,omitempty"`
	// Datatype is the vector's datatype (Config.Datatype; "" for float32),
	// VectorBytes the bytes of the collection's vector rows once reopened,
	// in the heap and mapped (its datatype's size a component, allocated
	// in chunks).
	Datatype    string `json:"datatype,omitempty"`
	VectorBytes int64  `json:"vector_bytes"`
}

// PhasePeak is the peak resident set of one phase of a run.
type PhasePeak struct {
	Phase       string `json:"phase"`
	PeakRSS     int64  `json:"peak_rss_bytes"`
	EndRSSAnon  int64  `json:"end_rss_anon_bytes"`
	EndHeapLive uint64 `json:"end_heap_live_bytes"`
}

// endPhase records the peak of the phase that ends now and starts the next.
func (e *EngineFigures) endPhase(name string) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	e.Phases = append(e.Phases, PhasePeak{Phase: name, PeakRSS: procStatus("VmHWM"), EndRSSAnon: procStatus("RssAnon"), EndHeapLive: ms.HeapAlloc})
	resetPeakRSS()
}

const uploadBatch = 256

// runEmbedded measures the embedded engine through go-client's API in
// process (compat.NewEmbedded), the code a Go program can point at a Qdrant
// server unchanged: upload, background indexing, reopen, disk, searches, and
// searches during a background build. The engine itself is used for what
// go-client has no call for (reopen, compaction, disk, plans). Target
// TargetEngine runs the same with every timed search through
// engine.DB.Search instead.
func runEmbedded(ctx context.Context, c *Config, ds *Dataset, gt *GroundTruth, fw *filteredWorkload, res *Result) error {
	res.QueryMode = "single"
	dir, err := os.MkdirTemp("", "qlite-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := &engine.Options{IndexingWorkers: c.Threads}
	db, err := engine.Open(dir, opts)
	if err != nil {
		return err
	}
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	fig := &EngineFigures{UploadBatch: uploadBatch}
	res.Engine = fig

	const coll = "bench"
	if fw != nil {
		indexed := !c.NoPayloadIndex
		res.Params.PayloadIndex = &indexed
	}
	qc, qs, err := quantizationOf(c)
	if err != nil {
		return err
	}
	dt, err := datatypeOf(c)
	if err != nil {
		return err
	}
	client := func(db *engine.DB, coll string) *grpcRemote {
		return &grpcRemote{c: compat.NewEmbedded(db), coll: coll, quant: qc, quantSearch: qs, datatype: dt}
	}
	upload := func(db *engine.DB, coll string, bar *progress, uploaded func()) (float64, float64, error) {
		return uploadEmbedded(ctx, c, db, client(db, coll), ds, fw, bar, uploaded)
	}
	cpu0 := cpuSeconds()
	bar := startProgress(c.Progress, "upload", ds.N, nil)
	resetPeakRSS()
	fig.UploadSeconds, fig.IndexSeconds, err = upload(db, coll, bar, func() { fig.endPhase("upload") })
	fig.endPhase("index")
	bar.Stop()
	if err != nil {
		return err
	}
	res.BuildSeconds = fig.UploadSeconds + fig.IndexSeconds
	res.BuildCPUSeconds = cpuSeconds() - cpu0
	fmt.Fprintf(c.Log, "upload %.2fs, indexed (green) %.2fs later: %.2fs in all\n", fig.UploadSeconds, fig.IndexSeconds, res.BuildSeconds)

	// Reopen. The closed database's memory goes back to the OS first, so
	// that the peak RSS holds one copy of the index, as a restarted process
	// would: nothing refers to it any more (a closed DB still holds its
	// collections), and the collections free it (the search scratch pools
	// of its segments and graphs keep them reachable through the runtime's
	// list of pools for two).
	if err := db.Close(); err != nil {
		return err
	}
	db = nil
	collectAll()
	fig.endPhase("close")
	start := time.Now()
	if db, err = engine.Open(dir, opts); err != nil {
		return err
	}
	if err := db.WaitGreen(ctx, coll, 5*time.Millisecond); err != nil {
		return err
	}
	fig.ReopenSeconds = time.Since(start).Seconds()
	fig.ReopenGraphBuilds = db.Stats().GraphBuilds
	fmt.Fprintf(c.Log, "reopen: %.3fs, %d graph builds\n", fig.ReopenSeconds, fig.ReopenGraphBuilds)
	fig.endPhase("reopen")

	if err := db.Compact(ctx); err != nil {
		return err
	}
	if fig.DiskBytes, err = db.DiskUsage(); err != nil {
		return err
	}
	fig.RawBytes = int64(ds.N) * int64(ds.Dim) * 4
	for i := range ds.N {
		p, err := pointPayload(fw, i)
		if err != nil {
			return err
		}
		fig.RawBytes += int64(len(p.AppendBinary(nil)))
	}
	info, err := db.CollectionInfo(ctx, coll)
	if err != nil {
		return err
	}
	fig.Segments = info.SegmentsCount
	fig.Datatype = c.Datatype
	fig.VectorBytes = info.Memory.Vectors + info.Memory.MappedVectors
	fmt.Fprintf(c.Log, "vector rows (%s): %s, %.3fx the raw float32 vectors\n", cmp.Or(c.Datatype, "float32"),
		mib(fig.VectorBytes), float64(fig.VectorBytes)/float64(int64(ds.N)*int64(ds.Dim)*4))
	fmt.Fprintf(c.Log, "disk after compaction: %.1f MiB, raw %.1f MiB (%.2fx), %d segments\n",
		float64(fig.DiskBytes)/(1<<20), float64(fig.RawBytes)/(1<<20), float64(fig.DiskBytes)/float64(fig.RawBytes), fig.Segments)
	if fw != nil {
		fmt.Fprintf(c.Log, "payload indexes: %d fields\n", len(info.PayloadSchema))
	}

	if c.OnDiskVectors || c.OnDiskGraph {
		start := time.Now()
		n := warmFiles(dir)
		fig.WarmSeconds = time.Since(start).Seconds()
		fmt.Fprintf(c.Log, "page cache warmed: %s read in %.2fs\n", mib(n), fig.WarmSeconds)
	}

	// Searches.
	nq, k := gt.Rows(), c.K
	lat := make([]time.Duration, nq)
	found := make([]int32, nq*k)
	cl := client(db, coll)
	viaEngine := c.Target == TargetEngine
	search := func(ef int) func(i int, row []int32) error {
		if viaEngine {
			return func(i int, row []int32) error {
				return engineSearch(ctx, db, coll, &engine.SearchRequest{Vector: ds.Query(i), Limit: k, HnswEf: ef}, row)
			}
		}
		return func(i int, row []int32) error { return cl.search(ctx, ds.Query(i), k, ef, nil, row) }
	}
	if res.Runs, err = efSweep(ctx, c, gt, func(ef, i int, row []int32) error { return search(ef)(i, row) }); err != nil {
		return err
	}
	fig.RSSAnonBytes = procStatus("RssAnon")
	fig.RawVectorBytes = int64(ds.N) * int64(ds.Dim) * 4
	fmt.Fprintf(c.Log, "RssAnon %s after the sweep, the %s held for data and ground truth included; raw vectors %s\n",
		mib(fig.RSSAnonBytes), mib(res.DataRSSBytes), mib(fig.RawVectorBytes))
	if fw != nil {
		runs, err := measureCases(ctx, c, fw, nq, func(fc *filterCase) (caseSearch, error) {
			filters, err := fc.queryFilters(nq)
			if err != nil {
				return nil, err
			}
			groups, err := prepareGroups(cl, fc)
			if err != nil {
				return nil, err
			}
			return func(ef, i int, row []int32, st *caseStats) error {
				if st == nil && !viaEngine {
					return cl.search(ctx, ds.Query(i), k, ef, groups[fc.QueryGroup[i]], row)
				}
				req := &engine.SearchRequest{Vector: ds.Query(i), Filter: filters[i], Limit: k, HnswEf: ef}
				if st == nil {
					return engineSearch(ctx, db, coll, req, row)
				}
				// The untimed pass asks the engine how it planned.
				var es engine.SearchStats
				req.Stats = &es
				if err := engineSearch(ctx, db, coll, req, row); err != nil {
					return err
				}
				st.plan, st.scored = es.Plan, es.Scored
				return nil
			}, nil
		})
		if err != nil {
			return err
		}
		res.Runs = append(res.Runs, runs...)
	}

	if c.Concurrency > 1 {
		runs, err := concurrentRuns(ctx, c, nq, func(i int, row []int32, ef int) error { return search(ef)(i, row) })
		if err != nil {
			return err
		}
		res.RunsConcurrent = runs
	}

	// The peak RSS of the process holding the index is taken before the
	// experiment below adds a second collection.
	fig.endPhase("search")
	for _, p := range fig.Phases {
		res.RSSBytes = max(res.RSSBytes, p.PeakRSS)
	}

	// Searches during a background build of a second collection.
	fig.ProbeEf = 64
	var idle Measurement
	if err := timePasses(1, k, found, lat, &idle, search(fig.ProbeEf)); err != nil {
		return err
	}
	fig.IdleP99Ms = idle.P99Ms
	done := make(chan error, 1)
	go func() {
		_, _, err := upload(db, "background", nil, nil)
		done <- err
	}()
	var during []time.Duration
	row := make([]int32, k)
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				return err
			}
			running = false
		default:
			i := len(during) % nq
			t0 := time.Now()
			if err := search(fig.ProbeEf)(i, row); err != nil {
				return err
			}
			during = append(during, time.Since(t0))
		}
	}
	fig.DuringBuildRuns = len(during)
	fig.DuringBuildP99 = percentileMs(during, 0.99)
	fmt.Fprintf(c.Log, "p99 at ef=%d: idle %.3f ms, during a background upload and build %.3f ms (%d queries, %.2fx)\n",
		fig.ProbeEf, fig.IdleP99Ms, fig.DuringBuildP99, fig.DuringBuildRuns, fig.DuringBuildP99/fig.IdleP99Ms)
	return db.Close()
}

// engineSearch runs req on coll of db and writes the ids found into row.
func engineSearch(ctx context.Context, db *engine.DB, coll string, req *engine.SearchRequest, row []int32) error {
	hits, err := db.Search(ctx, coll, req)
	if err != nil {
		return err
	}
	for j, h := range hits {
		n, _ := h.ID.Num()
		row[j] = int32(n)
	}
	return nil
}

// uploadEmbedded creates cl's collection and upserts the base of ds through
// cl (go-client's API over db, compat.NewEmbedded) in batches of
// uploadBatch with wait, counting the points on bar; it returns the upload
// time and the time from then until the collection was green. In a filtered
// run (fw not nil) every point carries its generated payload besides "i",
// and, unless c.NoPayloadIndex, the fields of payloadIndexes are indexed
// before the upload, with the types the hnsw target gives them. uploaded,
// when not nil, is called once the last batch is acknowledged.
func uploadEmbedded(ctx context.Context, c *Config, db *engine.DB, cl *grpcRemote, ds *Dataset, fw *filteredWorkload, bar *progress, uploaded func()) (float64, float64, error) {
	if err := createCollection(ctx, c, cl, ds, fw); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	payloadOf := func(i int) (payload.Value, error) { return pointPayload(fw, i) }
	if err := uploadBase(ctx, cl, ds, payloadOf, bar); err != nil {
		return 0, 0, err
	}
	up := time.Since(start).Seconds()
	bar.Stop()
	if uploaded != nil {
		uploaded()
	}
	if err := db.WaitGreen(ctx, cl.coll, 20*time.Millisecond); err != nil {
		return 0, 0, err
	}
	return up, time.Since(start).Seconds() - up, nil
}

// pointPayload returns the payload of base point i: {"i": i} and, in a
// filtered run, the fields of fw.payloads[i] as the hnsw target stores them
// (class, class_name, rnd, loc, ts).
func pointPayload(fw *filteredWorkload, i int) (payload.Value, error) {
	id := payload.Field{Key: "i", Value: payload.IntValue(int64(i))}
	if fw == nil {
		return payload.ObjectValue(id), nil
	}
	js := fw.payloads[i].AppendJSON(nil)
	p, err := payload.ParseObject(js)
	if err != nil {
		return payload.Value{}, fmt.Errorf("bench: payload of point %d (%s): %w", i, js, err)
	}
	return payload.ObjectValue(append([]payload.Field{id}, p.Fields()...)...), nil
}

// caseStats is how one filtered search ran, when the target reports it:
// the plan and the number of points scored.
type caseStats struct {
	plan   string
	scored int
}

// caseSearch runs query i at ef under the query's filter of one case and
// writes the ids found into row; st, when not nil, receives how it ran.
type caseSearch func(ef, i int, row []int32, st *caseStats) error

// measureCases measures every filter case of fw as the hnsw target does
// (measureSegment): for each ef, a pass recording the plans (also a warm-up),
// then c.Repeat timed passes, keeping the fastest, with recall@k scored
// against the case's exact filtered ground truth. prepare returns the
// search of a case. The runs carry the case's name and selectivity.
func measureCases(ctx context.Context, c *Config, fw *filteredWorkload, nq int, prepare func(fc *filterCase) (caseSearch, error)) ([]Measurement, error) {
	k := c.K
	lat := make([]time.Duration, nq)
	found := make([]int32, nq*k)
	var runs []Measurement
	for ci, fc := range fw.cases {
		search, err := prepare(fc)
		if err != nil {
			return nil, err
		}
		gt := fw.gts[ci]
		if gt.Rows() != nq {
			return nil, fmt.Errorf("bench: ground truth of %s has %d rows, want %d", fc.Name, gt.Rows(), nq)
		}
		for _, ef := range c.Ef {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			bar := sweepProgress(c, fc.Name, ef, nq)
			plans := map[string]int{}
			var scored int
			for i := range nq {
				var st caseStats
				if err := search(ef, i, found[:k], &st); err != nil {
					bar.Stop()
					return nil, fmt.Errorf("bench: search %s ef=%d query %d: %w", fc.Name, ef, i, err)
				}
				if st.plan != "" {
					plans[st.plan]++
				}
				scored += st.scored
				bar.Add(1)
			}
			run := Measurement{Ef: ef, Filter: fc.Name, Selectivity: fw.selectivity[ci]}
			run.Scored = float64(scored) / float64(max(nq, 1))
			if plan, n := mostCommon(plans); n > 0 {
				run.Plan, run.PlanShare = plan, float64(n)/float64(nq)
			}
			err := timePasses(c.Repeat, k, found, lat, &run, func(i int, row []int32) error {
				bar.Add(1)
				if err := search(ef, i, row, nil); err != nil {
					return fmt.Errorf("bench: search %s ef=%d query %d: %w", fc.Name, ef, i, err)
				}
				return nil
			})
			bar.Stop()
			if err != nil {
				return nil, err
			}
			run.Recall = Recall(found, gt, k)
			fmt.Fprintf(c.Log, "%s ef=%d: recall@%d %.4f, %.0f qps, p50 %.3f ms, p99 %.3f ms", fc.Name, ef, k, run.Recall, run.QPS, run.P50Ms, run.P99Ms)
			if run.Plan != "" {
				fmt.Fprintf(c.Log, ", plan %s (%.0f%%), %.0f scored", run.Plan, 100*run.PlanShare, run.Scored)
			}
			fmt.Fprintln(c.Log)
			runs = append(runs, run)
		}
	}
	return runs, nil
}
