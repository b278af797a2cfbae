package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// smallConfig is a run over a generated 2000 x 32 fvecs dataset.
func smallConfig(t *testing.T, target string) *Config {
	t.Helper()
	dir := makeFvecsDir(t, 2000, 200, 32)
	out := t.TempDir()
	return &Config{
		Dataset:  "fvecs:" + dir,
		Target:   target,
		Ef:       []int{16, 64},
		Seed:     1,
		Repeat:   2,
		JSONPath: filepath.Join(out, "result.json"),
		CacheDir: filepath.Join(out, "cache"),
	}
}

func runAt(t *testing.T, r *Result, runs []Measurement, ef int) Measurement {
	t.Helper()
	for _, m := range runs {
		if m.Ef == ef {
			return m
		}
	}
	t.Fatalf("%s: no run at ef=%d", r.Target, ef)
	return Measurement{}
}

func TestRunHNSW(t *testing.T) {
	cfg := smallConfig(t, "hnsw")
	var table bytes.Buffer
	cfg.Out = &table
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Points != 2000 || res.Dims != 32 || res.Queries != 200 || res.Metric != "Euclid" || res.QueryMode != "single" {
		t.Fatalf("result header: %+v", res)
	}
	m := runAt(t, res, res.Runs, 64)
	if m.Recall < 0.95 {
		t.Fatalf("recall@10 at ef=64 = %.4f, want >= 0.95", m.Recall)
	}
	if m.QPS <= 0 || m.P50Ms <= 0 || m.P99Ms < m.P50Ms {
		t.Fatalf("bad timings: %+v", m)
	}
	if res.BuildSeconds <= 0 || res.GraphBytes <= 0 || res.RSSBytes <= 0 {
		t.Fatalf("bad build figures: build=%v graph=%d rss=%d", res.BuildSeconds, res.GraphBytes, res.RSSBytes)
	}

	raw, err := os.ReadFile(cfg.JSONPath)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.Target != "hnsw" || len(back.Runs) != 2 || back.Params.Repeat != 2 || back.Params.M != 16 || back.Params.EfConstruct != 100 || back.Params.K != 10 {
		t.Fatalf("JSON round trip: %+v", back)
	}
	csv, err := os.ReadFile(strings.TrimSuffix(cfg.JSONPath, ".json") + ".csv")
	if err != nil || strings.Count(string(csv), "\n") != 3 {
		t.Fatalf("csv: %v\n%s", err, csv)
	}
	if !strings.Contains(table.String(), "recall@10") {
		t.Fatalf("table:\n%s", table.String())
	}
}

func TestRunHNSWDeletion(t *testing.T) {
	cfg := smallConfig(t, "hnsw")
	cfg.Ef = []int{64}
	cfg.DeleteFraction = 0.1
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Deletion
	if d == nil || d.Deleted != 200 || d.Survivors != 1800 {
		t.Fatalf("deletion: %+v", d)
	}
	for name, runs := range map[string][]Measurement{
		"deleted": res.RunsDeleted, "repaired": res.RunsRepaired, "fresh": res.RunsFreshSurvivors,
	} {
		if m := runAt(t, res, runs, 64); m.Recall < 0.9 {
			t.Errorf("%s: recall@10 at ef=64 = %.4f", name, m.Recall)
		}
	}
}

func TestRunConfigErrors(t *testing.T) {
	f := func(cfg Config, want string) {
		t.Helper()
		_, err := Run(context.Background(), &cfg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to mention %q", err, want)
		}
	}
	f(Config{}, "no dataset")
	f(Config{Dataset: "x", Target: "nosuch"}, "unknown target")
	f(Config{Dataset: "x", FilterSelectivity: []float64{1}}, "in (0, 1)")
	f(Config{Dataset: "x", FilterSelectivity: []float64{0.1, 0.1}}, "twice")
	f(Config{Dataset: "x", FilterKind: "class", FilterSelectivity: []float64{0.5}}, "selectivity 0.1 only")
	f(Config{Dataset: "x", FilterKind: "color"}, "unknown filter kind")
	f(Config{Dataset: "x", FilterSelectivity: []float64{0.1}, DeleteFraction: 0.1}, "do not combine")
	f(Config{Dataset: "x", K: 101}, "at most 100")
	f(Config{Dataset: "x", Ef: []int{0}}, "ef must be positive")
	f(Config{Dataset: "x", DeleteFraction: 1}, "delete fraction")
	f(Config{Dataset: "x", Target: "hnswlib", DeleteFraction: 0.1}, "target hnsw only")
	f(Config{Dataset: "x", Target: "hnsw", Quantization: "scalar"}, "quantization runs on targets")
	f(Config{Dataset: "x", Target: TargetEngine, Quantization: "scalar"}, "quantization runs on targets")
	f(Config{Dataset: "x", Target: "http://127.0.0.1:1", Quantization: "scalar"}, "quantization runs on targets")
	f(Config{Dataset: "x", Target: "embedded", Oversampling: 2}, "need --quantization")
	f(Config{Dataset: "x", Target: "qdrant-edge", Quantization: "pq-x3"}, "pq-x4 to pq-x64")
	f(Config{Dataset: "x", Target: "grpc://127.0.0.1:1", Quantization: "binary-3bit"}, "binary-1bit")
}

func TestRunHNSWLib(t *testing.T) {
	if err := checkPythonHNSWLib(context.Background(), "/usr/bin/python3"); err != nil {
		t.Skipf("no hnswlib for /usr/bin/python3: %v", err)
	}
	cfg := smallConfig(t, "hnswlib")
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m := runAt(t, res, res.Runs, 64); m.Recall < 0.9 || m.QPS <= 0 {
		t.Fatalf("hnswlib at ef=64: %+v", m)
	}
	if res.QueryMode != "batch" || res.BuildSeconds <= 0 || !strings.HasPrefix(res.Env.Reference, "hnswlib-python") {
		t.Fatalf("result: %+v", res)
	}
}

// skipWithoutNative skips t when the native hnswlib runner cannot be
// compiled here, or in -short mode.
func skipWithoutNative(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++ (apt-get install g++)")
	}
	if _, err := os.Stat(hnswlibHeader); err != nil {
		t.Skip("no hnswlib headers (apt-get install libhnswlib-dev)")
	}
	if testing.Short() {
		t.Skip("compiles a C++ program")
	}
}

func TestRunHNSWLibNative(t *testing.T) {
	skipWithoutNative(t)
	cfg := smallConfig(t, "hnswlib-native")
	if d, err := os.UserCacheDir(); err == nil {
		// Reuse a compiled runner across test runs.
		cfg.CacheDir = filepath.Join(d, "qlite")
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m := runAt(t, res, res.Runs, 64); m.Recall < 0.9 || m.QPS <= 0 || m.P99Ms <= 0 {
		t.Fatalf("hnswlib-native at ef=64: %+v", m)
	}
	if res.LinksBytes <= 0 {
		t.Fatalf("links bytes %d", res.LinksBytes)
	}
}

func TestRunFashionMNISTPrefix(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultFashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
	}
	res, err := Run(context.Background(), &Config{
		Dataset:  "fashion-mnist-784-euclidean",
		Points:   2000,
		Queries:  100,
		Ef:       []int{64},
		CacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if m := runAt(t, res, res.Runs, 64); m.Recall < 0.95 {
		t.Fatalf("recall@10 at ef=64 = %.4f", m.Recall)
	}
}

func TestRunFaiss(t *testing.T) {
	if err := checkPythonFaiss(context.Background(), "/usr/bin/python3"); err != nil {
		t.Skipf("faiss unavailable, this test needs /usr/bin/python3 with faiss and numpy: %v", err)
	}
	cfg := smallConfig(t, "faiss")
	cfg.FilterSelectivity = []float64{0.01, 0.5}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.QueryMode != "batch" || res.BuildSeconds <= 0 || res.LinksBytes <= 0 || res.RSSBytes <= 0 || !strings.HasPrefix(res.Env.Reference, "faiss-python") {
		t.Fatalf("result: %+v", res)
	}
	if len(res.Runs) != 3*len(cfg.Ef) {
		t.Fatalf("%d runs, want %d", len(res.Runs), 3*len(cfg.Ef))
	}
	groups := groupRuns(res.Runs)
	if len(groups) != 3 || groups[0].key != "" || groups[1].key != "rnd<500000" || groups[2].key != "rnd<10000" {
		t.Fatalf("groups: %+v", groups)
	}
	if m := runAt(t, res, groups[0].runs, 64); m.Recall < 0.9 || m.QPS <= 0 || m.Selectivity != 0 {
		t.Fatalf("faiss unfiltered at ef=64: %+v", m)
	}
	if m := runAt(t, res, groups[1].runs, 64); m.Recall < 0.9 || m.QPS <= 0 || math.Abs(m.Selectivity-0.5) > 0.05 {
		t.Fatalf("faiss at selectivity 0.5, ef=64: %+v", m)
	}
	if m := runAt(t, res, groups[2].runs, 64); m.Recall <= 0 || m.QPS <= 0 || m.Selectivity <= 0 || m.Selectivity > 0.02 {
		t.Fatalf("faiss at selectivity 0.01, ef=64: %+v", m)
	}
	if p := res.Params; !slices.Equal(p.FilterSelectivity, cfg.FilterSelectivity) || p.FilterKind != FilterKindRnd || p.PayloadIndex != nil || p.ClassLabels != "generated" {
		t.Fatalf("params: %+v", p)
	}

	// The class kind: one filter per query label, grouped in the runner.
	cfg = smallConfig(t, "faiss")
	cfg.FilterKind = FilterKindClass
	cfg.Ef = []int{64}
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 || res.Runs[1].Filter != "class=label" || math.Abs(res.Runs[1].Selectivity-0.1) > 0.02 || res.Runs[1].Recall < 0.8 {
		t.Fatalf("class runs: %+v", res.Runs)
	}
}
