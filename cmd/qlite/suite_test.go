package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qlite/qlite/bench"
)

// TestMain lets the test binary stand in for the qlite binary: run with
// QLITE_TEST_MAIN=1 it is qlite, so that the suite's child processes can be
// tested without building the command.
func TestMain(m *testing.M) {
	if os.Getenv("QLITE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSuiteRunsEachTargetInAChildProcess(t *testing.T) {
	t.Setenv("QLITE_TEST_MAIN", "1")
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	writeFvecs(t, filepath.Join(data, "base.fvecs"), rng, 800, 8)
	writeFvecs(t, filepath.Join(data, "query.fvecs"), rng, 40, 8)
	out := filepath.Join(t.TempDir(), "suite")
	stdout, err := execute(t, "bench", "suite", "--out", out, "--quick", "-q",
		"--dataset", "fvecs:"+data+",fashion-mnist-784-euclidean", "--fashion-mnist-dir", filepath.Join(t.TempDir(), "none"),
		"--target", "hnsw,embedded,grpc", "--filter-target", "embedded", "--filter-selectivity", "0.5",
		"--threads", "2", "--cache-dir", t.TempDir(), "--python", filepath.Join(t.TempDir(), "no-python"))
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	stem := "fvecs-" + filepath.Base(data)
	results := map[string]*bench.Result{}
	for _, target := range []string{"hnsw", "embedded", "grpc", "embedded-filtered"} {
		r, err := bench.ReadResult(filepath.Join(out, stem+"-"+target+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Points != 800 || r.Queries != 40 || r.RSSBytes <= 0 {
			t.Errorf("%s: %d points, %d queries, peak RSS %d", target, r.Points, r.Queries, r.RSSBytes)
		}
		results[target] = r
	}
	if results["grpc"].Target != "grpc" {
		t.Errorf("grpc result names target %q", results["grpc"].Target)
	}
	filtered := 0
	for _, run := range results["embedded-filtered"].Runs {
		if run.Filter != "" {
			filtered++
		}
	}
	if filtered == 0 {
		t.Errorf("the filtered embedded run has no filtered runs: %+v", results["embedded-filtered"].Runs)
	}
	rep, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"process of its own", "skipped hnsw on fashion-mnist-784-euclidean: dataset not installed"} {
		if !strings.Contains(string(rep), want) {
			t.Errorf("report.md lacks %q:\n%s", want, rep)
		}
	}
}
