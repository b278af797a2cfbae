package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/qlite/qlite/bench"
)

// TestBenchBM25ServesQliteInAChildProcess runs `qlite bench bm25` on a slice
// of the corpus with target qlite as a child `qlite serve` (this test
// binary) and the embedded engine, and checks that the server's memory is
// its own process's and that both targets answer every query with the
// exact BM25 top k.
func TestBenchBM25ServesQliteInAChildProcess(t *testing.T) {
	t.Setenv("QLITE_TEST_MAIN", "1")
	out := filepath.Join(t.TempDir(), "bm25")
	stdout, err := execute(t, "bench", "bm25", "--out", out, "-q",
		"--target", "qlite,embedded", "--docs", "500", "--queries", "20", "--concurrency", "2")
	if err != nil && strings.Contains(err.Error(), "not supported by qlite") {
		t.Skipf("qlite refuses sparse vectors in this build: %v", err)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	for _, target := range []string{"qlite", "embedded"} {
		r, err := bench.ReadResult(filepath.Join(out, "bm25-"+target+".json"))
		if err != nil {
			t.Fatal(err)
		}
		f := r.BM25
		if f == nil || f.Docs != 500 || r.Queries != 20 || f.VmHWMBytes <= 0 || f.RSSAnonBytes <= 0 {
			t.Fatalf("%s: figures %+v", target, f)
		}
		if f.InProcess != (target == "embedded") {
			t.Errorf("%s: in process %v", target, f.InProcess)
		}
		for _, a := range f.Agreement {
			if a.TieEqual != r.Queries {
				t.Errorf("%s, %s queries: %d of %d exact answers: %v", target, a.Query, a.TieEqual, r.Queries, a.Differing)
			}
		}
	}
	if !strings.Contains(stdout, "embedded") {
		t.Errorf("no table on stdout:\n%s", stdout)
	}
}
