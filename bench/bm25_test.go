package bench

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBM25Smoke runs the keyword-search benchmark on a slice of the corpus
// (2000 documents, 60 queries) and checks that every target answers every
// query with the exact BM25 top k, and that the targets agree with each
// other up to the order of equal scores: on qlite in process and through its gRPC server, and on the real
// Qdrant server when QDRANT_BIN names its binary.
func TestBM25Smoke(t *testing.T) {
	targets := []string{BM25TargetQlite, BM25TargetEmbedded}
	bin := os.Getenv("QDRANT_BIN")
	if bin != "" {
		targets = append([]string{BM25TargetQdrant}, targets...)
	} else {
		t.Log("QDRANT_BIN is unset: the real Qdrant server is not measured")
	}
	dir := t.TempDir()
	res, err := RunBM25(context.Background(), &BM25Config{CorpusRun{
		Dir: dir, Targets: targets, QdrantBin: bin,
		Docs: 2000, Queries: 60, Concurrency: 2, Log: testLog{t},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(targets) {
		t.Fatalf("%d results for %d targets", len(res), len(targets))
	}
	for _, r := range res {
		f := r.BM25
		if f.DocVectorsDiffering != 0 || f.QueryVectorsDiffering != 0 {
			t.Errorf("%s: %d document and %d query vectors differ from %s's", r.Target, f.DocVectorsDiffering, f.QueryVectorsDiffering, f.Reference)
		}
		if len(f.Agreement) != len(bm25QueryKinds) {
			t.Fatalf("%s: agreement for %d query kinds", r.Target, len(f.Agreement))
		}
		for _, a := range f.Agreement {
			if a.TieEqual != r.Queries {
				t.Errorf("%s, %s queries: %d of %d answers are the exact top k: %v", r.Target, a.Query, a.TieEqual, r.Queries, a.Differing)
			}
			if a.SameAsReferenceUpToTies != r.Queries {
				t.Errorf("%s, %s queries: %d of %d answers are %s's up to ties", r.Target, a.Query, a.SameAsReferenceUpToTies, r.Queries, f.Reference)
			}
		}
		if r.Runs[0].QPS <= 0 || r.RunsConcurrent[0].QPS <= 0 || f.DocsPerSecond <= 0 {
			t.Errorf("%s: figures missing: %+v %+v", r.Target, r.Runs, f)
		}
		if _, err := ReadResult(filepath.Join(dir, "bm25-"+r.Target+".json")); err != nil {
			t.Error(err)
		}
	}
	rep, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if !slices.ContainsFunc(strings.Split(string(rep), "\n"), func(l string) bool { return strings.HasPrefix(l, "## "+tg) }) {
			t.Errorf("report.md has no section for %s:\n%s", tg, rep)
		}
	}
}

// testLog writes each line to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
