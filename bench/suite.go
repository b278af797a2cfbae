package bench

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SuiteDatasets are the datasets Suite measures by default.
var SuiteDatasets = []string{"fashion-mnist-784-euclidean", "fashion-mnist-784-angular"}

// SuiteTargets are the targets Suite measures unfiltered by default.
var SuiteTargets = []string{"hnsw", "embedded", TargetServe, TargetQdrant, "qdrant-edge", "hnswlib", "hnswlib-native", "faiss"}

// SuiteFilterTargets are the targets Suite measures filtered by default:
// those with a filtered search of their own. hnswlib (Debian's 0.6) has
// none; its runners filter through its deletion mask, which at 0.1%
// selectivity walks nearly the whole graph (about 20 minutes per ef sweep
// on Fashion-MNIST), so the suite measures it filtered only when asked.
var SuiteFilterTargets = []string{"hnsw", "embedded", TargetServe, TargetQdrant, "qdrant-edge", "faiss"}

// SuiteQuantTargets are the targets that measure quantised collections
// (SuiteConfig.Quantization).
var SuiteQuantTargets = []string{"embedded", TargetServe, TargetQdrant, "qdrant-edge"}

// SuiteFilterSelectivity are the selectivities of the suite's filtered runs.
var SuiteFilterSelectivity = []float64{0.001, 0.01, 0.1, 0.5, 0.9}

// The sizes of a quick suite (SuiteConfig.Quick).
const (
	QuickPoints  = 5000
	QuickQueries = 200
)

// QuickEf is the ef sweep of a quick suite.
var QuickEf = []int{16, 64}

// SuiteConfig describes a suite of runs. Suite copies it and fills in the
// defaults given in each field's doc.
type SuiteConfig struct {
	// Dir receives one result JSON (and CSV) per run, one PNG chart per
	// dataset (and per filter of the filtered runs) and report.md. It is
	// created when missing. Required.
	Dir string
	// Quick measures QuickPoints base points, QuickQueries queries and ef
	// QuickEf, unless Points, Queries or Ef say otherwise. Default false:
	// the whole datasets, 1000 queries, DefaultEf.
	Quick bool

	// Datasets are measured unfiltered with every target of Targets.
	// Default SuiteDatasets.
	Datasets []string
	// Metric is the metric of "fvecs:DIR" datasets. Default Euclid.
	Metric string
	// Targets are the unfiltered targets, any of Targets. Default
	// SuiteTargets.
	Targets []string
	// FilterDatasets are measured with filters of selectivity
	// FilterSelectivity on every target of FilterTargets. Default:
	// Datasets.
	FilterDatasets []string
	// FilterTargets are the targets of the filtered runs. Default: those of
	// SuiteFilterTargets among Targets; empty after NoFilter.
	FilterTargets []string
	// FilterSelectivity defaults to SuiteFilterSelectivity.
	FilterSelectivity []float64
	// NoFilter skips the filtered runs.
	NoFilter bool

	// Quantization lists quantizations (Config.Quantization: scalar,
	// binary-1bit, binary-1.5bit, binary-2bit, pq-x4 ... pq-x64) each
	// measured on every dataset of Datasets with every target of
	// QuantTargets, the searches passing Oversampling and Rescore. Default
	// none.
	Quantization []string
	// QuantTargets default to those of SuiteQuantTargets among Targets.
	QuantTargets []string
	Oversampling float64
	Rescore      string

	// Points, Queries, Ef, Threads, Repeat and Seed are passed to every
	// run (see Config). Queries defaults to 1000 (QuickQueries when
	// Quick), Seed to 42.
	Points  int
	Queries int
	Ef      []int
	Threads int
	Repeat  int
	Seed    uint64

	// FashionMNISTDir, CacheDir and Python are passed to every run (see
	// Config).
	FashionMNISTDir string
	CacheDir        string
	Python          string

	// Exe is a qlite binary. When set, every run is made in a child process
	// (`Exe bench run`), so that each reports its own peak RSS, and the grpc
	// target's server is `Exe serve` in a process of its own, whose peak RSS
	// the run reports. Empty: the runs share the suite's process.
	Exe string
	// QdrantBin is the Qdrant server binary of target qdrant; without it
	// the target is skipped.
	QdrantBin string
	// Concurrency, when above 1, adds a throughput measurement with that
	// many query workers to the runs of the embedded and server targets.
	Concurrency int

	// Now stamps the report. Default time.Now.
	Now func() time.Time
	// Out receives one line per run as the suite goes. Default io.Discard.
	Out io.Writer
	// Log receives the runs' progress lines. Default io.Discard.
	Log io.Writer
}

func (c *SuiteConfig) withDefaults() (SuiteConfig, error) {
	o := *c
	if o.Dir == "" {
		return o, errors.New("bench: suite: no output directory given")
	}
	o.Datasets = slices.Clone(o.Datasets)
	if len(o.Datasets) == 0 {
		o.Datasets = slices.Clone(SuiteDatasets)
	}
	o.Targets = slices.Clone(o.Targets)
	if len(o.Targets) == 0 {
		o.Targets = slices.Clone(SuiteTargets)
	}
	o.FilterDatasets = slices.Clone(o.FilterDatasets)
	if len(o.FilterDatasets) == 0 {
		o.FilterDatasets = slices.Clone(o.Datasets)
	}
	o.FilterTargets = slices.Clone(o.FilterTargets)
	if len(o.FilterTargets) == 0 {
		for _, t := range o.Targets {
			if slices.Contains(SuiteFilterTargets, t) {
				o.FilterTargets = append(o.FilterTargets, t)
			}
		}
	}
	if o.NoFilter {
		o.FilterTargets = nil
	}
	o.Quantization = slices.Clone(o.Quantization)
	o.QuantTargets = slices.Clone(o.QuantTargets)
	if len(o.QuantTargets) == 0 {
		for _, t := range o.Targets {
			if slices.Contains(SuiteQuantTargets, t) {
				o.QuantTargets = append(o.QuantTargets, t)
			}
		}
	}
	for _, t := range o.QuantTargets {
		if !quantizationTarget(t) {
			return o, fmt.Errorf("bench: suite: target %s cannot measure quantization (known: %s)", t, strings.Join(SuiteQuantTargets, ", "))
		}
	}
	for _, q := range o.Quantization {
		if _, _, err := quantizationOf(&Config{Quantization: q, Oversampling: o.Oversampling, Rescore: o.Rescore}); err != nil {
			return o, fmt.Errorf("bench: suite: %w", err)
		}
	}
	o.FilterSelectivity = slices.Clone(o.FilterSelectivity)
	if len(o.FilterSelectivity) == 0 {
		o.FilterSelectivity = slices.Clone(SuiteFilterSelectivity)
	}
	o.Ef = slices.Clone(o.Ef)
	if o.Quick {
		if o.Points == 0 {
			o.Points = QuickPoints
		}
		if o.Queries == 0 {
			o.Queries = QuickQueries
		}
		if len(o.Ef) == 0 {
			o.Ef = slices.Clone(QuickEf)
		}
	}
	if o.Queries == 0 {
		o.Queries = 1000
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	if o.Python == "" {
		o.Python = "/usr/bin/python3"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	for _, t := range slices.Concat(o.Targets, o.FilterTargets, o.QuantTargets) {
		if !slices.Contains(Targets, t) {
			return o, fmt.Errorf("bench: suite: unknown target %q (known: %s)", t, strings.Join(Targets, ", "))
		}
	}
	return o, nil
}

// suiteRun is one run of a suite and what became of it.
type suiteRun struct {
	dataset  string
	target   string
	filtered bool
	quant    string // the collection's quantization, "" for none
	file     string // the result JSON, relative to the suite directory
	result   *Result
	skipped  string // why the run was not made, when it was not
	failed   error
}

func (r *suiteRun) name() string {
	n := r.target + " on " + r.dataset
	if r.filtered {
		n += ", filtered"
	}
	if r.quant != "" {
		n += ", quantization " + r.quant
	}
	return n
}

// Suite runs the standard set of benchmarks in process: every dataset of
// c.Datasets unfiltered on every target of c.Targets, and c.FilterDatasets
// with filters on c.FilterTargets. A target whose prerequisites are missing
// (Python modules, C++ compiler, hnswlib headers, a Python that can make the
// qdrant-edge virtualenv) and a dataset that is not
// installed are skipped, each with its reason in the report. Suite writes the
// result files, one chart per dataset, and report.md with the machine, the
// comparison tables, the charts and the skipped runs into c.Dir. It returns
// an error joining the failures of runs that were attempted, after writing
// the report.
func Suite(ctx context.Context, c *SuiteConfig) error {
	o, err := c.withDefaults()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("bench: suite: %w", err)
	}
	start := o.Now()

	var runs []*suiteRun
	for _, ds := range o.Datasets {
		for _, t := range o.Targets {
			runs = append(runs, &suiteRun{dataset: ds, target: t})
		}
	}
	for _, ds := range o.FilterDatasets {
		for _, t := range o.FilterTargets {
			runs = append(runs, &suiteRun{dataset: ds, target: t, filtered: true})
		}
	}
	for _, ds := range o.Datasets {
		for _, q := range o.Quantization {
			for _, t := range o.QuantTargets {
				runs = append(runs, &suiteRun{dataset: ds, target: t, quant: q})
			}
		}
	}

	avail := map[string]string{} // target -> reason it cannot run, "" when it can
	missing := map[string]string{}
	for _, r := range runs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if reason, ok := missing[r.dataset]; ok {
			r.skipped = reason
			continue
		}
		reason, ok := avail[r.target]
		if !ok {
			reason = targetUnavailable(ctx, &o, r.target)
			avail[r.target] = reason
		}
		if reason != "" {
			r.skipped = reason
			fmt.Fprintf(o.Out, "skip %s: %s\n", r.name(), reason)
			continue
		}
		r.file = suiteFileName(r)
		cfg := &Config{
			Dataset: r.dataset, Metric: o.Metric, FashionMNISTDir: o.FashionMNISTDir,
			Points: o.Points, Queries: o.Queries, Target: r.target,
			Ef: o.Ef, Repeat: o.Repeat, Threads: o.Threads, Seed: o.Seed,
			JSONPath: filepath.Join(o.Dir, r.file), CacheDir: o.CacheDir, Python: o.Python,
			QdrantBin: o.QdrantBin, Log: o.Log,
		}
		if r.target == "embedded" || r.target == TargetServe || r.target == TargetQdrant {
			cfg.Concurrency = o.Concurrency
		}
		if r.filtered {
			cfg.FilterSelectivity = o.FilterSelectivity
		}
		if r.quant != "" {
			cfg.Quantization, cfg.Oversampling, cfg.Rescore = r.quant, o.Oversampling, o.Rescore
		}
		runStart := time.Now()
		if o.Exe != "" {
			r.result, err = runChild(ctx, o.Exe, cfg)
		} else {
			r.result, err = Run(ctx, cfg)
		}
		switch {
		case errors.Is(err, ErrNotInstalled):
			missing[r.dataset] = strings.TrimPrefix(err.Error(), "bench: ")
			r.skipped, r.file = missing[r.dataset], ""
			fmt.Fprintf(o.Out, "skip %s: %v\n", r.name(), err)
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			r.failed, r.file = err, ""
			fmt.Fprintf(o.Out, "FAIL %s: %v\n", r.name(), err)
		default:
			fmt.Fprintf(o.Out, "done %s in %.1fs: %s\n", r.name(), time.Since(runStart).Seconds(), r.file)
		}
	}

	rep, errs := writeSuiteReport(&o, start, runs)
	if err := os.WriteFile(filepath.Join(o.Dir, "report.md"), rep, 0o644); err != nil {
		errs = append(errs, err)
	}
	for _, r := range runs {
		if r.failed != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.name(), r.failed))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("bench: suite: %w", errors.Join(errs...))
	}
	fmt.Fprintf(o.Out, "wrote %s\n", filepath.Join(o.Dir, "report.md"))
	return nil
}

// targetUnavailable returns why target cannot run on this machine, checking
// what its runner checks, or "" when it can.
func targetUnavailable(ctx context.Context, c *SuiteConfig, target string) string {
	var err error
	switch target {
	case "hnswlib":
		err = checkPythonHNSWLib(ctx, c.Python)
	case "faiss":
		err = checkPythonFaiss(ctx, c.Python)
	case "hnswlib-native":
		_, err = nativeRunner(ctx, &Config{CacheDir: c.CacheDir, Log: c.Log})
	case "qdrant-edge":
		err = checkEdgePrerequisites(ctx, c.CacheDir, c.Python)
	case TargetQdrant:
		if c.QdrantBin == "" {
			return "target qdrant needs the Qdrant server binary (--qdrant-bin or QDRANT_BIN)"
		}
		_, err = exec.LookPath(c.QdrantBin)
	}
	if err != nil {
		return strings.TrimPrefix(err.Error(), "bench: ")
	}
	return ""
}

// checkEdgePrerequisites returns nil when the qdrant-edge target can get its
// virtualenv: it exists already in the cache directory, or a python3 on PATH
// or python can make one (imports venv and ensurepip, which Debian's python3
// lacks without python3-venv). It does not make the virtualenv; the target
// does on first use, and reports a failure to (pip install needs the
// network).
func checkEdgePrerequisites(ctx context.Context, cacheDir, python string) error {
	if cacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cacheDir = filepath.Join(d, "qlite")
		}
	}
	if cacheDir != "" {
		stamp := []byte(fmt.Sprintln(qdrantEdgeRequirements))
		if _, err := checkEdgeVenv(ctx, filepath.Join(cacheDir, edgeVenvName), stamp); err == nil {
			return nil
		}
	}
	var candidates []string
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	if python != "" && !slices.Contains(candidates, python) {
		candidates = append(candidates, python)
	}
	var errs []error
	for _, py := range candidates {
		msg, err := exec.CommandContext(ctx, py, "-c", "import venv, ensurepip").CombinedOutput()
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("%s cannot make a virtualenv: %w: %s", py, err, tail(string(msg), 200)))
	}
	errs = append(errs, errors.New("target qdrant-edge needs a python3 with venv (apt-get install python3-venv, or put pyenv's python3 on PATH)"))
	return errors.Join(errs...)
}

// suiteFileName is the result file of a run: dataset and target, with
// "-filtered" for a filtered run and the quantization of a quantised one.
func suiteFileName(r *suiteRun) string {
	ds := r.dataset
	if dir, ok := strings.CutPrefix(ds, "fvecs:"); ok {
		ds = "fvecs-" + filepath.Base(filepath.Clean(dir))
	}
	name := fileSafe(ds) + "-" + fileSafe(r.target)
	if r.filtered {
		name += "-filtered"
	}
	if r.quant != "" {
		name += "-" + fileSafe(r.quant)
	}
	return name + ".json"
}

// writeSuiteReport draws the charts and returns report.md, with the errors
// of the charts that could not be drawn.
func writeSuiteReport(c *SuiteConfig, start time.Time, runs []*suiteRun) ([]byte, []error) {
	var b strings.Builder
	var errs []error
	bw := bufio.NewWriter(&b)
	title := "qlite benchmark suite"
	if c.Quick {
		title += " (quick)"
	}
	fmt.Fprintf(bw, "# %s\n\n", title)

	env := currentEnv()
	fmt.Fprintf(bw, "## Machine\n\n")
	fmt.Fprintf(bw, "- CPU: %s\n", orUnknown(env.CPU))
	fmt.Fprintf(bw, "- Cores: %d (GOMAXPROCS %d)\n", env.NumCPU, env.GOMAXPROCS)
	if mem := memTotal(); mem > 0 {
		fmt.Fprintf(bw, "- Memory: %.1f GiB\n", float64(mem)/(1<<30))
	} else {
		fmt.Fprintf(bw, "- Memory: unknown\n")
	}
	fmt.Fprintf(bw, "- Go: %s, %s/%s\n", runtime.Version(), env.OS, env.Arch)
	if env.LoadAvg != "" {
		fmt.Fprintf(bw, "- Load average at the end: %s\n", env.LoadAvg)
	}
	fmt.Fprintf(bw, "- Date: %s\n\n", start.UTC().Format(time.RFC3339))

	fmt.Fprintf(bw, "## Parameters\n\n")
	points := "all"
	if c.Points > 0 {
		points = strconv.Itoa(c.Points)
	}
	ef := c.Ef
	if len(ef) == 0 {
		ef = DefaultEf
	}
	fmt.Fprintf(bw, "M=16, ef_construct=100, k=10, base points: %s, queries: %d, ef: %s, seed %d, best of %d passes per ef.\n",
		points, c.Queries, joinInts(ef), c.Seed, max(c.Repeat, 1))
	if len(c.FilterTargets) > 0 {
		sel := make([]string, len(c.FilterSelectivity))
		for i, s := range c.FilterSelectivity {
			sel[i] = strconv.FormatFloat(s, 'g', -1, 64)
		}
		fmt.Fprintf(bw, "Filtered runs on %s with selectivity %s (a range filter on a uniform integer field,\n"+
			"payload indexes on for the qlite and Qdrant targets).\n", strings.Join(c.FilterDatasets, ", "), strings.Join(sel, ", "))
		var unfiltered []string
		for _, t := range c.Targets {
			if !slices.Contains(c.FilterTargets, t) {
				unfiltered = append(unfiltered, t)
			}
		}
		if len(unfiltered) > 0 {
			fmt.Fprintf(bw, "Not measured filtered: %s.", strings.Join(unfiltered, ", "))
			if slices.ContainsFunc(unfiltered, func(t string) bool { return strings.HasPrefix(t, "hnswlib") }) {
				fmt.Fprintf(bw, " hnswlib 0.6 has no filtered search; its deletion mask stands in and walks nearly\n"+
					"the whole graph at low selectivity (add it with --filter-target).")
			}
			fmt.Fprintln(bw)
		}
	}
	if len(c.Quantization) > 0 && len(c.QuantTargets) > 0 {
		fmt.Fprintf(bw, "Quantised runs of %s on %s: the collection's quantization_config kept in RAM, searches with\n"+
			"oversampling %s and rescore %s; recall against the exact float32 neighbours.\n", strings.Join(c.Quantization, ", "),
			strings.Join(c.QuantTargets, ", "), orDefault(c.Oversampling), cmp.Or(c.Rescore, "Qdrant's default"))
	}
	if slices.Contains(c.Targets, TargetQdrant) || slices.Contains(c.FilterTargets, TargetQdrant) || slices.Contains(c.QuantTargets, TargetQdrant) {
		fmt.Fprintf(bw, "Qdrant server: %s.\n", qdrantBinaryNote)
	}
	if c.Exe != "" {
		fmt.Fprintf(bw, "Each run is a process of its own (`qlite bench run`); its peak RSS is that process's, which for\n"+
			"the Go targets includes the dataset it loads. The grpc and qdrant targets are servers (`qlite serve`\n"+
			"and the Qdrant binary) each in a fresh process over a fresh directory, reached through go-client over\n"+
			"loopback gRPC: their peak RSS is the server process's.\n\n")
	} else {
		fmt.Fprintf(bw, "The runs share one process: the peak RSS of the in-process targets (hnsw, embedded, grpc) is the\n"+
			"suite's peak so far and includes earlier runs; measure memory with `qlite bench run` alone.\n\n")
	}

	section := func(heading, chartStem string, group []*suiteRun) {
		var files []string
		var results []*Result
		for _, r := range group {
			if r.result != nil {
				files = append(files, r.file)
				results = append(results, r.result)
			}
		}
		fmt.Fprintf(bw, "## %s\n\n", heading)
		if len(results) == 0 {
			fmt.Fprintf(bw, "No run completed.\n\n")
			return
		}
		fmt.Fprintf(bw, "Results: %s\n\n", strings.Join(mdLinks(files), ", "))
		fmt.Fprintf(bw, "```\n")
		if err := writeComparison(bw, files, results); err != nil {
			errs = append(errs, err)
		}
		fmt.Fprintf(bw, "```\n\n")
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = filepath.Base(f)
		}
		o := &PlotOptions{Names: names}
		chart := chartStem + ".png"
		if group[0].filtered {
			charts, err := PlotFiltered(filepath.Join(c.Dir, chart), results, o)
			if err != nil {
				errs = append(errs, err)
				fmt.Fprintf(bw, "Charts not drawn: %v\n\n", err)
			}
			for _, p := range charts {
				rel := filepath.Base(p)
				fmt.Fprintf(bw, "![%s](%s)\n\n", rel, rel)
			}
			return
		}
		if err := PlotWith(filepath.Join(c.Dir, chart), results, o); err != nil {
			errs = append(errs, err)
			fmt.Fprintf(bw, "Chart not drawn: %v\n\n", err)
			return
		}
		fmt.Fprintf(bw, "![recall against QPS](%s)\n\n", chart)
	}
	for _, ds := range c.Datasets {
		var group []*suiteRun
		for _, r := range runs {
			if r.dataset == ds && !r.filtered && r.quant == "" {
				group = append(group, r)
			}
		}
		stem := strings.TrimSuffix(suiteFileName(&suiteRun{dataset: ds, target: "x"}), "-x.json")
		section(ds+", unfiltered", stem, group)
	}
	for _, ds := range c.FilterDatasets {
		var filtered []*suiteRun
		for _, r := range runs {
			if r.dataset == ds && r.filtered {
				filtered = append(filtered, r)
			}
		}
		if len(filtered) > 0 {
			stem := strings.TrimSuffix(suiteFileName(&suiteRun{dataset: ds, target: "x"}), "-x.json") + "-filtered"
			section(ds+", filtered", stem, filtered)
		}
	}

	for _, ds := range c.Datasets {
		for _, q := range c.Quantization {
			var group []*suiteRun
			for _, r := range runs {
				if r.dataset == ds && r.quant == q {
					group = append(group, r)
				}
			}
			if len(group) > 0 {
				stem := strings.TrimSuffix(suiteFileName(&suiteRun{dataset: ds, target: "x", quant: q}), ".json")
				section(ds+", quantization "+q, strings.Replace(stem, "-x-", "-", 1), group)
			}
		}
	}

	fmt.Fprintf(bw, "## Skipped and failed runs\n\n")
	none := true
	for _, r := range runs {
		switch {
		case r.skipped != "":
			fmt.Fprintf(bw, "- skipped %s: %s\n", r.name(), oneLine(r.skipped))
			none = false
		case r.failed != nil:
			fmt.Fprintf(bw, "- FAILED %s: %s\n", r.name(), oneLine(r.failed.Error()))
			none = false
		}
	}
	if none {
		fmt.Fprintf(bw, "None: every run completed.\n")
	}
	bw.Flush()
	return []byte(b.String()), errs
}

func mdLinks(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = fmt.Sprintf("[%s](%s)", f, f)
	}
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// orDefault formats an oversampling factor, 0 as Qdrant's default.
func orDefault(f float64) string {
	if f == 0 {
		return "default (1)"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// memTotal returns MemTotal of /proc/meminfo in bytes, or 0.
func memTotal() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != "MemTotal" {
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
