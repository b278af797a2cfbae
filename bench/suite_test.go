package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSuiteQuick(t *testing.T) {
	data := makeFvecsDir(t, 1500, 60, 16)
	out := filepath.Join(t.TempDir(), "suite")
	var progress bytes.Buffer
	err := Suite(context.Background(), &SuiteConfig{
		Dir:               out,
		Quick:             true,
		Datasets:          []string{"fvecs:" + data},
		Targets:           []string{"hnsw", "embedded", "grpc", "faiss"},
		FilterTargets:     []string{"hnsw", "faiss"},
		FilterSelectivity: []float64{0.1, 0.5},
		Threads:           2,
		CacheDir:          t.TempDir(),
		Python:            filepath.Join(t.TempDir(), "no-python"),
		Now:               func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
		Out:               &progress,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}

	stem := "fvecs-" + filepath.Base(data)
	for _, f := range []string{stem + "-hnsw.json", stem + "-embedded.json", stem + "-grpc.json", stem + "-hnsw-filtered.json"} {
		r, err := ReadResult(filepath.Join(out, f))
		if err != nil {
			t.Fatal(err)
		}
		if r.Points != 1500 || r.Queries != 60 || len(unfilteredRuns(r.Runs)) != len(QuickEf) {
			t.Errorf("%s: %d points, %d queries, %d unfiltered runs", f, r.Points, r.Queries, len(unfilteredRuns(r.Runs)))
		}
	}
	for _, f := range []string{stem + "-faiss.json", stem + "-faiss-filtered.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); !os.IsNotExist(err) {
			t.Errorf("%s of a skipped target: stat %v", f, err)
		}
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, f := range []string{stem + ".png", stem + "-filtered-sel0.5.png", stem + "-filtered-sel0.1.png"} {
		if !slices.Contains(names, f) {
			t.Fatalf("no %s among %v", f, names)
		}
		if w, h := decodePNG(t, filepath.Join(out, f)); w != 768 || h != 480 {
			t.Errorf("%s is %dx%d", f, w, h)
		}
	}

	raw, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(raw)
	for _, want := range []string{
		"# qlite benchmark suite (quick)",
		"- CPU: ", "- Cores: ", "- Memory: ", "- Go: go", "- Date: 2025-01-02T03:04:05Z",
		"[" + stem + "-hnsw.json](" + stem + "-hnsw.json)",
		"[" + stem + "-embedded.json](" + stem + "-embedded.json)",
		"qps@0.95",
		"filtered search, qps at recall 0.95",
		"![recall against QPS](" + stem + ".png)",
		"](" + stem + "-filtered-sel0.1.png)",
		"- skipped faiss on fvecs:" + data + ": ",
		"- skipped faiss on fvecs:" + data + ", filtered: ",
		"no-python",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report.md lacks %q:\n%s", want, report)
		}
	}
	for _, target := range []string{"hnsw", "embedded", "grpc"} {
		if !strings.Contains(report, "  "+target+"  ") {
			t.Errorf("report.md has no comparison row for %s:\n%s", target, report)
		}
	}
	if strings.Contains(report, "FAILED") {
		t.Errorf("report.md lists failures:\n%s", report)
	}
	if !strings.Contains(progress.String(), "skip faiss on fvecs:") {
		t.Errorf("progress output does not mention the skipped target:\n%s", progress.String())
	}
}

func TestSuiteMissingDataset(t *testing.T) {
	out := t.TempDir()
	missing := filepath.Join(t.TempDir(), "nothing-here")
	err := Suite(context.Background(), &SuiteConfig{
		Dir: out, Quick: true, Datasets: []string{"fvecs:" + missing},
		Targets: []string{"hnsw", "embedded"}, NoFilter: true, CacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"hnsw", "embedded"} {
		want := "- skipped " + target + " on fvecs:" + missing + ": dataset not installed"
		if !strings.Contains(string(raw), want) {
			t.Errorf("report.md lacks %q:\n%s", want, raw)
		}
	}
}

func TestSuiteConfigErrors(t *testing.T) {
	f := func(c SuiteConfig, want string) {
		t.Helper()
		err := Suite(context.Background(), &c)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Suite(%+v) = %v, want an error containing %q", c, err, want)
		}
	}
	f(SuiteConfig{}, "no output directory")
	f(SuiteConfig{Dir: t.TempDir(), Targets: []string{"nosuch"}}, "unknown target")
	f(SuiteConfig{Dir: t.TempDir(), Quantization: []string{"scalar"}, QuantTargets: []string{"hnsw"}}, "cannot measure quantization")
	f(SuiteConfig{Dir: t.TempDir(), Quantization: []string{"pq-x5"}}, "pq-x4 to pq-x64")
}

// TestSuiteQuantized runs a quick suite with quantised runs on the
// in-process qlite targets and checks their files, their recorded
// quantization and their section of the report.
func TestSuiteQuantized(t *testing.T) {
	data := makeFvecsDir(t, 1500, 60, 16)
	out := filepath.Join(t.TempDir(), "suite")
	var progress bytes.Buffer
	err := Suite(context.Background(), &SuiteConfig{
		Dir: out, Quick: true, Datasets: []string{"fvecs:" + data},
		Targets: []string{"embedded", "grpc"}, NoFilter: true,
		Quantization: []string{"scalar"}, Oversampling: 2,
		Threads: 2, CacheDir: t.TempDir(), Out: &progress,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	stem := "fvecs-" + filepath.Base(data)
	for _, target := range []string{"embedded", "grpc"} {
		r, err := ReadResult(filepath.Join(out, stem+"-"+target+"-scalar.json"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Params.Quantization != "scalar" || r.Params.Oversampling != 2 {
			t.Errorf("%s: params %+v", target, r.Params)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## fvecs:" + data + ", quantization scalar", "Quantised runs of scalar on embedded, grpc",
		"![recall against QPS](" + stem + "-scalar.png)"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("report.md lacks %q:\n%s", want, raw)
		}
	}
}
