package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qlite/qlite/bench"
)

func writeFvecs(t *testing.T, path string, rng *rand.Rand, n, dim int) {
	t.Helper()
	data := make([]float32, n*dim)
	for i := range data {
		data[i] = rng.Float32()
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := bench.WriteFvecs(f, data, dim); err != nil {
		t.Fatal(err)
	}
}

func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestBenchRunAndCompare(t *testing.T) {
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	writeFvecs(t, filepath.Join(data, "base.fvecs"), rng, 500, 8)
	writeFvecs(t, filepath.Join(data, "query.fvecs"), rng, 50, 8)
	out := t.TempDir()

	var files []string
	for _, m := range []string{"8", "16"} {
		file := filepath.Join(out, "m"+m+".json")
		stdout, err := execute(t, "bench", "run", "--dataset", "fvecs:"+data, "--metric", "cosine",
			"--m", m, "--ef", "16,64", "--k", "5", "--queries", "20", "--threads", "2",
			"--cache-dir", filepath.Join(out, "cache"), "--json", file, "-q")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, "recall@5") {
			t.Fatalf("run output:\n%s", stdout)
		}
		r, err := bench.ReadResult(file)
		if err != nil {
			t.Fatal(err)
		}
		if strconv.Itoa(r.Params.M) != m || r.Params.K != 5 || r.Queries != 20 || r.Metric != "Cosine" || len(r.Runs) != 2 {
			t.Fatalf("result: %+v", r)
		}
		files = append(files, file)
	}

	stdout, err := execute(t, append([]string{"bench", "compare"}, files...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"qps@0.95", "m8.json", "m16.json", "build_s"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("compare output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchErrors(t *testing.T) {
	if _, err := execute(t, "bench", "compare"); err == nil {
		t.Error("compare without files succeeded")
	}
	if _, err := execute(t, "bench", "run", "--dataset", "nope", "-q"); err == nil || !strings.Contains(err.Error(), "unknown dataset") {
		t.Errorf("unknown dataset: %v", err)
	}
	if _, err := execute(t, "bench", "run", "--bogus"); err == nil {
		t.Error("unknown flag accepted")
	}
}
