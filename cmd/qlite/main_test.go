package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
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

func TestBenchRunFilteredFlags(t *testing.T) {
	if _, err := execute(t, "bench", "run", "--filter-kind", "class", "--filter-selectivity", "0.5", "-q"); err == nil || !strings.Contains(err.Error(), "0.1 only") {
		t.Errorf("class kind at 0.5: %v", err)
	}
	if _, err := execute(t, "bench", "run", "--filter-selectivity", "x", "-q"); err == nil {
		t.Error("a selectivity of x accepted")
	}
}

func TestBenchRunFilteredFaiss(t *testing.T) {
	if out, err := exec.Command("/usr/bin/python3", "-c", "import faiss, numpy").CombinedOutput(); err != nil {
		t.Skipf("faiss unavailable, this test needs /usr/bin/python3 with faiss and numpy: %v: %s", err, out)
	}
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	writeFvecs(t, filepath.Join(data, "base.fvecs"), rng, 1000, 8)
	writeFvecs(t, filepath.Join(data, "query.fvecs"), rng, 50, 8)
	out := t.TempDir()
	file := filepath.Join(out, "faiss.json")
	if _, err := execute(t, "bench", "run", "--dataset", "fvecs:"+data, "--target", "faiss",
		"--filter-selectivity", "0.1,0.5", "--ef", "32,64", "--queries", "50", "--threads", "2",
		"--cache-dir", filepath.Join(out, "cache"), "--json", file, "-q"); err != nil {
		t.Fatal(err)
	}
	r, err := bench.ReadResult(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Runs) != 6 || r.Params.FilterKind != "rnd" || len(r.Params.FilterSelectivity) != 2 || r.Params.PayloadIndex != nil {
		t.Fatalf("result: %+v", r)
	}
	stdout, err := execute(t, "bench", "compare", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"filtered search", "rnd<100000", "rnd<500000", "filt/unf"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("compare output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchRunFilteredHNSW(t *testing.T) {
	data := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	writeFvecs(t, filepath.Join(data, "base.fvecs"), rng, 1000, 8)
	writeFvecs(t, filepath.Join(data, "query.fvecs"), rng, 50, 8)
	out := t.TempDir()
	for _, indexed := range []bool{true, false} {
		file := filepath.Join(out, "hnsw-"+strconv.FormatBool(indexed)+".json")
		stdout, err := execute(t, "bench", "run", "--dataset", "fvecs:"+data, "--target", "hnsw",
			"--filter-selectivity", "0.05,0.5", "--payload-index="+strconv.FormatBool(indexed), "--ef", "64",
			"--queries", "50", "--cache-dir", filepath.Join(out, "cache"), "--json", file, "-q")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout, "plan") || !strings.Contains(stdout, "selectivity") {
			t.Fatalf("run output:\n%s", stdout)
		}
		r, err := bench.ReadResult(file)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Runs) != 3 || r.Params.PayloadIndex == nil || *r.Params.PayloadIndex != indexed {
			t.Fatalf("indexed=%v: result %+v", indexed, r)
		}
		for _, m := range r.Runs[1:] {
			if m.Selectivity <= 0 || m.Plan == "" || m.Recall < 0.9 {
				t.Fatalf("indexed=%v: run %+v", indexed, m)
			}
		}
	}
}
