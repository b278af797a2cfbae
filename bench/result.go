package bench

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the outcome of one run, in the JSON layout shared by every
// target (qlite and the reference runners), so that Compare can read any of
// them.
type Result struct {
	Dataset string `json:"dataset"`
	Target  string `json:"target"`
	Params  Params `json:"params"`

	// BuildSeconds is the wall time of the index build.
	BuildSeconds float64 `json:"build_seconds"`
	// BuildCPUSeconds is the CPU time (user + system, all threads) the
	// process spent during the build. Far less than BuildSeconds times
	// the threads means the machine was busy with other work.
	BuildCPUSeconds float64 `json:"build_cpu_seconds,omitempty"`
	// RSSBytes is the peak resident set size of the process that built and
	// queried the index (VmHWM), data and ground truth included. Where the
	// kernel lets the peak be reset (/proc/self/clear_refs), it is reset
	// once the data and ground truth are loaded, so that the garbage of
	// loading them does not count.
	RSSBytes int64 `json:"rss_bytes"`
	// DataRSSBytes is what the benchmark process holds for the dataset and
	// ground truth (and the filtered workload), measured: its resident set
	// once they are loaded minus before, each after a GC that returns free
	// memory to the OS. RSSBytes - DataRSSBytes is the peak of the index
	// under test in process (target embedded: the engine).
	DataRSSBytes int64 `json:"data_rss_bytes,omitempty"`
	// GraphBytes is the memory of the index structure without the
	// vectors: Graph.MemoryBytes for hnsw; for hnswlib and faiss the growth
	// of the resident set across the build minus the copied vectors; 0
	// when unknown (filtered hnsw runs, whose segment reports no size).
	GraphBytes int64 `json:"graph_bytes"`
	// HeapDeltaBytes cross-checks GraphBytes for hnsw: live Go heap after
	// the build minus before, each after a GC. For filtered hnsw runs it
	// is the whole segment: vectors, payloads, payload indexes and graph.
	HeapDeltaBytes int64 `json:"heap_delta_bytes,omitempty"`
	// LinksBytes is, for hnswlib-native and faiss, the bytes of links
	// (and labels, levels, offsets) counted from the index's own layout.
	LinksBytes int64 `json:"links_bytes,omitempty"`
	// InsertSeconds is, for filtered hnsw runs, the time to append the
	// points (vectors and payloads) to the segment before the graph build.
	InsertSeconds float64 `json:"insert_seconds,omitempty"`
	// PayloadIndexSeconds is the time to build the payload field indexes
	// of a filtered hnsw run.
	PayloadIndexSeconds float64 `json:"payload_index_seconds,omitempty"`

	Points  int    `json:"points"`
	Dims    int    `json:"dims"`
	Metric  string `json:"metric"`
	Queries int    `json:"queries"`
	// QueryMode is "single" when each query is issued and timed alone on
	// one thread, "batch" when the whole query set is one call on one
	// thread (the Python reference; latencies are then 0).
	QueryMode string `json:"query_mode"`

	Runs []Measurement `json:"runs"`

	// The deletion experiment (Params.DeleteFraction > 0).
	Deletion           *Deletion     `json:"deletion,omitempty"`
	RunsDeleted        []Measurement `json:"runs_deleted,omitempty"`
	RunsRepaired       []Measurement `json:"runs_repaired,omitempty"`
	RunsFreshSurvivors []Measurement `json:"runs_fresh_survivors,omitempty"`

	// RunsConcurrent are throughput measurements with Params.Concurrency
	// query workers.
	RunsConcurrent []Measurement `json:"runs_concurrent,omitempty"`

	// Engine holds the embedded-engine target's own figures.
	Engine *EngineFigures `json:"engine,omitempty"`

	// Server holds the figures of a server the run started (targets
	// TargetServe and TargetQdrant, and the servers of RunQueries).
	Server *ServerFigures `json:"server,omitempty"`

	// Query holds the figures of a Query API workload (RunQueries).
	Query *QueryFigures `json:"query,omitempty"`

	// BM25 holds the figures of a keyword-search run (RunBM25).
	BM25 *BM25Figures `json:"bm25,omitempty"`

	Env Env `json:"env"`
}

// ServerFigures are what a run read of the server process it started.
type ServerFigures struct {
	// Name says what served: "qdrant 1.17.1", "qlite serve", ...
	Name string `json:"name"`
	// Note qualifies the figures (the Qdrant binary's build profile).
	Note string `json:"note,omitempty"`
	// InProcess: the server ran in the benchmark's process, whose memory
	// and CPU include the client's.
	InProcess bool `json:"in_process,omitempty"`
	// PeakRSSBytes is the server process's VmHWM at the end of the run,
	// GreenRSSBytes once the collection was green, before any query.
	PeakRSSBytes  int64 `json:"peak_rss_bytes"`
	GreenRSSBytes int64 `json:"green_rss_bytes"`
	// DiskBytes is the space the server's storage directory takes once
	// green (allocated blocks, as du counts them).
	DiskBytes int64 `json:"disk_bytes"`
	// BuildCPUSeconds is the server's CPU time (user and system, every
	// thread) from the collection's creation until green.
	BuildCPUSeconds float64 `json:"build_cpu_seconds"`
	// CPUPerQueryMicros is the server's CPU time per query over the
	// unfiltered single-query sweep, ConcurrentCPUPerQueryMicros over the
	// concurrent measurement.
	CPUPerQueryMicros           float64 `json:"cpu_per_query_us"`
	ConcurrentCPUPerQueryMicros float64 `json:"concurrent_cpu_per_query_us,omitempty"`
	// RSSAnonBytes is the server process's anonymous resident memory
	// (RssAnon of /proc/PID/status: heap and other private memory, not
	// the page cache of mapped files) after the single-query sweep,
	// GreenRSSAnonBytes once green (after the restart, with Reopen).
	// RawVectorBytes is the base's vectors at 4 bytes a component.
	RSSAnonBytes      int64 `json:"rss_anon_bytes,omitempty"`
	GreenRSSAnonBytes int64 `json:"green_rss_anon_bytes,omitempty"`
	RawVectorBytes    int64 `json:"raw_vector_bytes,omitempty"`
	// ReopenSeconds is the time from stopping the server (Config.Reopen)
	// until it serves again with the collection green.
	ReopenSeconds float64 `json:"reopen_seconds,omitempty"`
	// WarmSeconds is the time to read every file of the storage once
	// before the sweep (on-disk runs).
	WarmSeconds float64 `json:"warm_seconds,omitempty"`
}

// Params are the parameters a run was made with.
type Params struct {
	M              int     `json:"m"`
	EfConstruct    int     `json:"ef_construct"`
	K              int     `json:"k"`
	Threads        int     `json:"threads"`
	QueryThreads   int     `json:"query_threads"`
	Repeat         int     `json:"repeat"`
	Seed           uint64  `json:"seed"`
	Ef             []int   `json:"ef"`
	DeleteFraction float64 `json:"delete_fraction,omitempty"`
	Concurrency    int     `json:"concurrency,omitempty"`

	// The filtered search benchmark (Config.FilterSelectivity).
	FilterSelectivity []float64 `json:"filter_selectivity,omitempty"`
	FilterKind        string    `json:"filter_kind,omitempty"`
	// PayloadIndex reports whether the payload fields were indexed (qlite's
	// targets; qdrant-edge always indexes them, hnswlib and faiss filter
	// with an id set).
	PayloadIndex *bool `json:"payload_index,omitempty"`
	// ClassLabels says where the payload's "class" came from: "dataset"
	// (its label files) or "generated" (seeded uniform draws).
	ClassLabels string `json:"class_labels,omitempty"`

	// The collection's quantization (Config.Quantization) and the
	// searches' oversampling and rescore, when asked for.
	Quantization string  `json:"quantization,omitempty"`
	Oversampling float64 `json:"oversampling,omitempty"`
	Rescore      string  `json:"rescore,omitempty"`
	// OnDiskVectors and OnDiskGraph record Config's flags of those names.
	OnDiskVectors bool `json:"on_disk_vectors,omitempty"`
	OnDiskGraph   bool `json:"on_disk_graph,omitempty"`
}

// Measurement is what was measured at one ef (and, in a filtered run, one
// filter).
type Measurement struct {
	Ef     int     `json:"ef"`
	Recall float64 `json:"recall"`
	QPS    float64 `json:"qps"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`

	// Filter names the filtered workload ("rnd<1000", "class=label");
	// empty for unfiltered searches.
	Filter string `json:"filter,omitempty"`
	// Selectivity is the exact fraction of the base the queries' filters
	// match, averaged over the queries; 0 (omitted) when unfiltered.
	Selectivity float64 `json:"selectivity,omitempty"`
	// Plan is the query plan the engine chose most often (target hnsw
	// with filters), PlanShare the fraction of queries that used it.
	Plan      string  `json:"plan,omitempty"`
	PlanShare float64 `json:"plan_share,omitempty"`
	// Scored is the mean number of points scored per query, when the
	// engine reports it.
	Scored float64 `json:"scored,omitempty"`
	// Concurrency is the number of concurrent query workers of a
	// throughput measurement (RunsConcurrent); 0 for one at a time.
	Concurrency int `json:"concurrency,omitempty"`
	// Query is how a keyword-search run sent its queries: "document" (a
	// qdrant/bm25 text) or "sparse" (its sparse vector); for a Query API
	// workload, the query kind.
	Query string `json:"query,omitempty"`
	// ServerCPUMicros is the server process's CPU time per query, in
	// microseconds, when the run measured it.
	ServerCPUMicros float64 `json:"server_cpu_us,omitempty"`
}

// Filtered reports whether m measured filtered searches: it names a filter
// or has a selectivity, and the selectivity is below 1.
func (m *Measurement) Filtered() bool {
	if m.Filter != "" {
		return m.Selectivity < 1
	}
	return m.Selectivity > 0 && m.Selectivity < 1
}

// filterKey groups the runs of one filtered workload: the filter's name,
// or its selectivity for results that carry no name.
func (m *Measurement) filterKey() string {
	if m.Filter != "" {
		return m.Filter
	}
	return strconv.FormatFloat(m.Selectivity, 'g', 4, 64)
}

// runGroup is the runs of one workload of a result: unfiltered, or one
// filter.
type runGroup struct {
	key         string // "" when unfiltered
	selectivity float64
	runs        []Measurement
}

// groupRuns splits runs by workload, unfiltered first, then filtered
// workloads by decreasing selectivity, keeping each group's runs in order.
func groupRuns(runs []Measurement) []runGroup {
	var groups []runGroup
	index := map[string]int{}
	for _, m := range runs {
		key := ""
		if m.Filtered() {
			key = m.filterKey()
		}
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, runGroup{key: key, selectivity: m.Selectivity})
			if key == "" {
				groups[i].selectivity = 1
			}
		}
		groups[i].runs = append(groups[i].runs, m)
	}
	slices.SortStableFunc(groups, func(a, b runGroup) int {
		switch {
		case (a.key == "") != (b.key == ""):
			if a.key == "" {
				return -1
			}
			return 1
		case a.selectivity > b.selectivity:
			return -1
		case a.selectivity < b.selectivity:
			return 1
		}
		return 0
	})
	return groups
}

// unfilteredRuns returns the runs of runs that measured unfiltered search.
func unfilteredRuns(runs []Measurement) []Measurement {
	var out []Measurement
	for _, m := range runs {
		if !m.Filtered() {
			out = append(out, m)
		}
	}
	return out
}

// Deletion summarises the deletion experiment.
type Deletion struct {
	Fraction          float64 `json:"fraction"`
	Deleted           int     `json:"deleted"`
	Survivors         int     `json:"survivors"`
	DeleteSeconds     float64 `json:"delete_seconds"`
	RepairSeconds     float64 `json:"repair_seconds"`
	FreshBuildSeconds float64 `json:"fresh_build_seconds"`
}

// Env records where a run was made.
type Env struct {
	Time       string `json:"time"`
	Host       string `json:"host,omitempty"`
	CPU        string `json:"cpu,omitempty"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	// LoadAvg is /proc/loadavg's 1, 5 and 15 minute load when the run
	// started: other work on the machine skews every figure.
	LoadAvg string `json:"loadavg,omitempty"`
	// Reference is the version of the reference library, when the target
	// is one.
	Reference string `json:"reference,omitempty"`
}

func currentEnv() Env {
	host, _ := os.Hostname()
	return Env{
		Time:       time.Now().UTC().Format(time.RFC3339),
		Host:       host,
		CPU:        cpuModel(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		LoadAvg:    loadAvg(),
	}
}

// ReadResult reads a result JSON file.
func ReadResult(path string) (*Result, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// series returns the run lists of r with their names, main runs first.
func (r *Result) series() []struct {
	name string
	runs []Measurement
} {
	all := []struct {
		name string
		runs []Measurement
	}{
		{"runs", r.Runs},
		{"runs_deleted", r.RunsDeleted},
		{"runs_repaired", r.RunsRepaired},
		{"runs_fresh_survivors", r.RunsFreshSurvivors},
	}
	out := all[:0]
	for _, s := range all {
		if len(s.runs) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// WriteCSV writes one line per measured ef of every run list of r.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"dataset", "target", "series", "m", "ef_construct", "k", "ef", "recall", "qps", "p50_ms", "p99_ms", "build_seconds", "graph_bytes", "rss_bytes",
		"filter", "selectivity", "plan"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, s := range r.series() {
		for _, run := range s.runs {
			cw.Write([]string{
				r.Dataset, r.Target, s.name,
				strconv.Itoa(r.Params.M), strconv.Itoa(r.Params.EfConstruct), strconv.Itoa(r.Params.K),
				strconv.Itoa(run.Ef), f(run.Recall), f(run.QPS), f(run.P50Ms), f(run.P99Ms),
				f(r.BuildSeconds), strconv.FormatInt(r.GraphBytes, 10), strconv.FormatInt(r.RSSBytes, 10),
				run.Filter, f(run.Selectivity), run.Plan,
			})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable prints r for people.
func (r *Result) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%s  target=%s  %d x %d %s  M=%d ef_construct=%d k=%d  %d queries (%s)\n",
		r.Dataset, r.Target, r.Points, r.Dims, r.Metric, r.Params.M, r.Params.EfConstruct, r.Params.K, r.Queries, r.QueryMode)
	fmt.Fprintf(bw, "build %.2fs on %d threads", r.BuildSeconds, r.Params.Threads)
	if r.BuildCPUSeconds > 0 {
		fmt.Fprintf(bw, " (%.2fs CPU)", r.BuildCPUSeconds)
	}
	if r.GraphBytes > 0 {
		fmt.Fprintf(bw, ", graph %s", mib(r.GraphBytes))
	} else {
		fmt.Fprint(bw, ", graph n/a")
	}
	if r.HeapDeltaBytes != 0 {
		fmt.Fprintf(bw, " (heap delta %s)", mib(r.HeapDeltaBytes))
	}
	if r.LinksBytes != 0 {
		fmt.Fprintf(bw, " (links %s)", mib(r.LinksBytes))
	}
	fmt.Fprintf(bw, ", peak RSS %s", mib(r.RSSBytes))
	if r.DataRSSBytes > 0 {
		fmt.Fprintf(bw, " (%s without the %s the benchmark holds for data and ground truth)", mib(r.RSSBytes-r.DataRSSBytes), mib(r.DataRSSBytes))
	}
	fmt.Fprintln(bw)
	if r.Env.LoadAvg != "" {
		fmt.Fprintf(bw, "load average at start %s on %d CPUs\n", r.Env.LoadAvg, r.Env.NumCPU)
	}
	if d := r.Deletion; d != nil {
		fmt.Fprintf(bw, "deleted %d of %d points (%.0f%%) in %.2fs, repair %.2fs, fresh build over survivors %.2fs\n",
			d.Deleted, d.Deleted+d.Survivors, 100*d.Fraction, d.DeleteSeconds, d.RepairSeconds, d.FreshBuildSeconds)
	}
	if r.InsertSeconds > 0 || r.PayloadIndexSeconds > 0 {
		fmt.Fprintf(bw, "insert %.2fs, payload indexes %.2fs\n", r.InsertSeconds, r.PayloadIndexSeconds)
	}
	if e := r.Engine; e != nil {
		fmt.Fprintf(bw, "upload %.2fs (batches of %d, wait), green %.2fs later", e.UploadSeconds, e.UploadBatch, e.IndexSeconds)
		if e.ReopenSeconds > 0 {
			fmt.Fprintf(bw, "; reopen %.3fs (%d graph builds)", e.ReopenSeconds, e.ReopenGraphBuilds)
		}
		fmt.Fprintln(bw)
		if len(e.Phases) > 0 {
			fmt.Fprint(bw, "peak RSS by phase:")
			for i, p := range e.Phases {
				sep := ","
				if i == 0 {
					sep = ""
				}
				fmt.Fprintf(bw, "%s %s %s (RssAnon %s, heap %s at its end)", sep, p.Phase, mib(p.PeakRSS), mib(p.EndRSSAnon), mib(int64(p.EndHeapLive)))
			}
			fmt.Fprintln(bw)
		}
		if e.DiskBytes > 0 {
			fmt.Fprintf(bw, "disk after compaction %s, raw vectors + payloads %s (%.2fx), %d segments\n",
				mib(e.DiskBytes), mib(e.RawBytes), float64(e.DiskBytes)/float64(e.RawBytes), e.Segments)
		}
		if e.IdleP99Ms > 0 {
			fmt.Fprintf(bw, "p99 at ef=%d: idle %.3f ms, during a background build %.3f ms (%.2fx)\n",
				e.ProbeEf, e.IdleP99Ms, e.DuringBuildP99, e.DuringBuildP99/e.IdleP99Ms)
		}
		if e.RSSAnonBytes > 0 {
			fmt.Fprintf(bw, "RssAnon after the sweep %s (%s without the data and ground truth), raw vectors %s\n",
				mib(e.RSSAnonBytes), mib(e.RSSAnonBytes-r.DataRSSBytes), mib(e.RawVectorBytes))
		}
	}
	if sf := r.Server; sf != nil {
		fmt.Fprintf(bw, "server %s: peak RSS %s (%s once green), disk %s, %.1fs CPU to green, CPU per query %.0f us",
			sf.Name, mib(sf.PeakRSSBytes), mib(sf.GreenRSSBytes), mib(sf.DiskBytes), sf.BuildCPUSeconds, sf.CPUPerQueryMicros)
		if sf.ConcurrentCPUPerQueryMicros > 0 {
			fmt.Fprintf(bw, " (%.0f us with %d workers)", sf.ConcurrentCPUPerQueryMicros, r.Params.Concurrency)
		}
		if sf.InProcess {
			fmt.Fprint(bw, "; in the benchmark's process")
		}
		fmt.Fprintln(bw)
		if sf.RSSAnonBytes > 0 {
			fmt.Fprintf(bw, "server RssAnon %s after the sweep (%s once green), raw vectors %s (%.1f%%)",
				mib(sf.RSSAnonBytes), mib(sf.GreenRSSAnonBytes), mib(sf.RawVectorBytes), 100*float64(sf.RSSAnonBytes)/float64(max(1, sf.RawVectorBytes)))
			if sf.ReopenSeconds > 0 {
				fmt.Fprintf(bw, "; restart to green %.3fs", sf.ReopenSeconds)
			}
			if sf.WarmSeconds > 0 {
				fmt.Fprintf(bw, "; page cache warmed in %.2fs", sf.WarmSeconds)
			}
			fmt.Fprintln(bw)
		}
		if sf.Note != "" {
			fmt.Fprintf(bw, "note: %s\n", sf.Note)
		}
	}
	for _, s := range r.series() {
		for _, g := range groupRuns(s.runs) {
			if g.key == "" {
				fmt.Fprintf(bw, "\n%s\n", s.name)
			} else {
				fmt.Fprintf(bw, "\n%s, filter %s, selectivity %.4f\n", s.name, g.key, g.selectivity)
			}
			writeRunTable(bw, r.Params.K, g.runs)
		}
	}
	if len(r.RunsConcurrent) > 0 {
		fmt.Fprintf(bw, "\nthroughput with %d concurrent query workers\n%5s %8s\n", r.Params.Concurrency, "ef", "qps")
		for _, m := range r.RunsConcurrent {
			fmt.Fprintf(bw, "%5d %8.0f\n", m.Ef, m.QPS)
		}
	}
	return bw.Flush()
}

// writeRunTable prints one table row per run, with the plan columns when
// any run has a plan.
func writeRunTable(w io.Writer, k int, runs []Measurement) {
	plans := slices.ContainsFunc(runs, func(m Measurement) bool { return m.Plan != "" })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "ef\trecall@%d\tqps\tp50_ms\tp99_ms\t", k)
	if plans {
		fmt.Fprint(tw, "plan\tshare\tscored\t")
	}
	fmt.Fprintln(tw)
	for _, run := range runs {
		fmt.Fprintf(tw, "%d\t%.4f\t%.0f\t%.3f\t%.3f\t", run.Ef, run.Recall, run.QPS, run.P50Ms, run.P99Ms)
		if plans {
			fmt.Fprintf(tw, "%s\t%.2f\t%.0f\t", run.Plan, run.PlanShare, run.Scored)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Recall returns recall@k averaged over queries: for query i, the fraction
// of the true top-k (gt.Row(i)[:k]) found among found[i*k:(i+1)*k]. Ids of
// -1 in either are ignored; a query whose true row is shorter than k is
// scored against the neighbours it has.
func Recall(found []int32, gt *GroundTruth, k int) float64 {
	nq := len(found) / k
	if nq == 0 {
		return 0
	}
	var sum float64
	for i := range nq {
		truth := gt.Row(i)[:k]
		got := found[i*k : (i+1)*k]
		n, hit := 0, 0
		for _, t := range truth {
			if t < 0 {
				continue
			}
			n++
			for _, f := range got {
				if f == t {
					hit++
					break
				}
			}
		}
		if n > 0 {
			sum += float64(hit) / float64(n)
		} else {
			sum++
		}
	}
	return sum / float64(nq)
}

// loadAvg returns the first three fields of /proc/loadavg, or "".
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// cpuModel returns the CPU model name from /proc/cpuinfo, or "".
func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// collectAll collects until a collection frees nothing more (at most 8),
// then returns free memory to the OS.
func collectAll() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for range 8 {
		prev := ms.HeapAlloc
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc >= prev {
			break
		}
	}
	debug.FreeOSMemory()
}

// freeRSS returns the process's resident set after collectAll.
func freeRSS() int64 {
	collectAll()
	return procStatus("VmRSS")
}

// resetPeakRSS resets the process's VmHWM to its current resident set
// (writing 5 to /proc/self/clear_refs) and reports whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// procStatus returns a size field (VmRSS, VmHWM, ...) of /proc/self/status in
// bytes, or 0 where unavailable.
func procStatus(field string) int64 { return procStatusFile("/proc/self/status", field) }

// procStatusFile returns a size field of a /proc/PID/status file in bytes,
// 0 when unknown.
func procStatusFile(path, field string) int64 {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != field {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		return n
	}
	return 0
}
