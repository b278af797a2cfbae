package bench

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestRunQueries runs both Query API workloads on a slice of the corpus,
// on the real Qdrant server when QDRANT_BIN names its binary and on qlite
// (in process), and checks that the targets answer alike: the sparse and
// dense searches and the prefetch requests.
func TestRunQueries(t *testing.T) {
	bin := os.Getenv("QDRANT_BIN")
	targets := []string{ServerQlite, ServerEmbedded}
	if bin != "" {
		targets = append([]string{ServerQdrant}, targets...)
	} else {
		t.Log("QDRANT_BIN is unset: the real Qdrant server is not measured")
	}
	for _, wl := range Workloads {
		t.Run(wl, func(t *testing.T) {
			dir := t.TempDir()
			res, err := RunQueries(context.Background(), &QueryBenchConfig{
				Workload:      wl,
				CorpusRun:     CorpusRun{Dir: dir, Targets: targets, QdrantBin: bin, Docs: 1500, Queries: 40, Concurrency: 2, Log: testLog{t}},
				PrefetchLimit: 30, Dim: 64, TokenDim: 32, DocTokens: 16, QueryTokens: 8,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != len(targets) {
				t.Fatalf("%d results for %d targets", len(res), len(targets))
			}
			for _, r := range res {
				f := r.Query
				if r.Server == nil || f == nil || len(f.Agreement) != len(r.Runs) {
					t.Fatalf("%s: figures %+v %+v", r.Target, r.Server, f)
				}
				for _, a := range f.Agreement {
					// The dense searches are approximate on both sides:
					// most answers agree, not necessarily every one.
					if a.Overlap < 0.9 {
						t.Errorf("%s, %s queries: mean overlap %.3f with %s: %v", r.Target, a.Query, a.Overlap, f.Reference, a.Differing)
					}
					if a.MatchesModel >= 0 && a.MatchesModel != r.Queries {
						t.Errorf("%s, %s queries: %d of %d answers are what the request computes from the parts' answers", r.Target, a.Query, a.MatchesModel, r.Queries)
					}
					if a.Query == "sparse" && a.SameUpToTies != r.Queries {
						t.Errorf("%s, sparse queries: %d of %d answers are %s's up to ties: %v", r.Target, a.SameUpToTies, r.Queries, f.Reference, a.Differing)
					}
				}
				for _, m := range r.Runs {
					if m.QPS <= 0 || m.Query == "" {
						t.Errorf("%s: run %+v", r.Target, m)
					}
				}
				if len(f.TreeOverhead) != 1 {
					t.Errorf("%s: tree overhead %v", r.Target, f.TreeOverhead)
				}
				if _, err := ReadResult(filepath.Join(dir, wl+"-"+r.Target+".json")); err != nil {
					t.Error(err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
				t.Error(err)
			}
		})
	}
}

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

// TestHashedEmbedding checks that the embedding is deterministic, of unit
// length, and nearer for texts sharing words than for unrelated ones.
func TestHashedEmbedding(t *testing.T) {
	a := hashedEmbedding("Close closes the file, rendering it unusable for I/O.", 128)
	b := hashedEmbedding("Close closes the listener and unblocks any pending Accept.", 128)
	c := hashedEmbedding("Sqrt returns the square root of x.", 128)
	if n := cosine(a, a); math.Abs(n-1) > 1e-5 {
		t.Fatalf("norm %v", n)
	}
	if again := hashedEmbedding("Close closes the file, rendering it unusable for I/O.", 128); cosine(a, again) < 1-1e-6 {
		t.Fatal("not deterministic")
	}
	if cosine(a, b) <= cosine(a, c) {
		t.Fatalf("cos(shared words) %v <= cos(unrelated) %v", cosine(a, b), cosine(a, c))
	}
	if e := hashedEmbedding("", 16); math.Abs(cosine(e, e)-1) > 1e-5 {
		t.Fatalf("empty text: %v", e)
	}
}

// TestTokenVectors checks the multivector shapes: one unit vector per
// word up to the cap, and exactly n for a query, however short.
func TestTokenVectors(t *testing.T) {
	tt := newTokenTable(16)
	f := func(text string, maxTokens, want int) {
		t.Helper()
		v := tt.tokenVectors(text, maxTokens)
		if len(v) != want {
			t.Fatalf("%q: %d vectors, want %d", text, len(v), want)
		}
		for _, x := range v {
			if len(x) != 16 || math.Abs(cosine(x, x)-1) > 1e-5 {
				t.Fatalf("%q: vector %v", text, x)
			}
		}
	}
	f("a b c", 8, 1) // one-letter words are dropped: one vector for none
	f("read the whole file", 8, 4)
	f("read the whole file", 2, 2)
	for _, q := range []string{"", "one", "read the whole file and more words than asked for here"} {
		if v := tt.queryTokenVectors(q, 6); len(v) != 6 {
			t.Fatalf("query %q: %d vectors", q, len(v))
		}
	}
	// The same word in the same context gets the same vector.
	x, y := tt.tokenVectors("read the file", 8), tt.tokenVectors("read the file twice", 8)
	if cosine(x[0], y[0]) < 1-1e-6 {
		t.Fatal("context of the first word changed its vector")
	}
}
