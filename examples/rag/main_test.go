package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/qlite/qlite/examples/embed"
	"net/http"
)

func TestSplit(t *testing.T) {
	f := func(text string, size, overlap int, want ...string) {
		t.Helper()
		if got := Split(text, size, overlap); !slices.Equal(got, want) {
			t.Fatalf("Split(%q, %d, %d) = %q, want %q", text, size, overlap, got, want)
		}
	}
	f("a b c d e f g", 3, 1, "a b c", "c d e", "e f g")
	f("a b c d e f", 3, 1, "a b c", "c d e", "e f")
	f("a b", 3, 1, "a b")
	f("", 3, 1)
	f("a b c", 2, 5, "a b", "b c") // overlap beyond size still advances
	f("a  b\nc", 1, 0, "a", "b", "c")
}

// TestRAG runs the example against a fake embedding server (the toy
// embedder behind embed.Handler) and checks the retrieved chunks against
// brute force over the same chunks.
func TestRAG(t *testing.T) {
	var requests atomic.Int64
	inner := embed.Handler(embed.Hash{Size: 64}, "test-model")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		inner.ServeHTTP(w, r)
	}))
	defer srv.Close()

	dir := t.TempDir()
	for name, text := range handbook {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "ignored.bin"), []byte("how do I rotate the keys"), 0o644)

	f := func(question, source string, k int, args ...string) {
		t.Helper()
		requests.Store(0)
		var out bytes.Buffer
		args = append([]string{"-embed-url", srv.URL, "-model", "test-model", "-dim", "64", "-k", fmt.Sprint(k)}, args...)
		if source != "" {
			args = append(args, "-source", source)
		}
		if err := run(context.Background(), append(args, question), &out); err != nil {
			t.Fatal(err)
		}
		// Brute force: every chunk, scored by cosine with the question.
		h := embed.Hash{Size: 64}
		qv := h.Vector(question)
		type hit struct {
			line  string
			score float64
		}
		var hits []hit
		nchunks := 0
		for _, name := range sortedKeys(handbook) {
			for i, text := range Split(handbook[name], 24, 6) {
				nchunks++
				if source != "" && name != source {
					continue
				}
				v := h.Vector(text)
				var s float64
				for j := range v {
					s += float64(v[j]) * float64(qv[j])
				}
				hits = append(hits, hit{fmt.Sprintf("[%s#%d %.4f] %s", name, i, s, text), s})
			}
		}
		slices.SortStableFunc(hits, func(a, b hit) int {
			switch {
			case a.score > b.score:
				return -1
			case a.score < b.score:
				return 1
			}
			return 0
		})
		var want []string
		for _, h := range hits[:min(k, len(hits))] {
			want = append(want, h.line)
		}
		got := strings.Split(strings.TrimSpace(out.String()), "\n")
		got = got[slices.Index(got, "Context:")+1:]
		if !slices.Equal(got, want) {
			t.Fatalf("retrieved\n%s\nbrute force\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := requests.Load(); n != int64((nchunks+63)/64+1) {
			t.Fatalf("%d embedding requests for %d chunks and a question", n, nchunks)
		}
	}
	f("how do I rotate the API keys", "", 3)
	f("how do I rotate the API keys", "deploy.md", 2)
	f("when is the incident report due", "", 1, "-docs", dir)

	// Errors come back: a server that fails, a model it does not have, no question.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-embed-url", srv.URL, "-model", "missing", "q"}, &out); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown model: %v", err)
	}
	if err := run(context.Background(), []string{"-embed-url", srv.URL, "-model", "test-model", "-dim", "32", "q"}, &out); err == nil || !strings.Contains(err.Error(), "want 32") {
		t.Fatalf("wrong dimension: %v", err)
	}
	if err := run(context.Background(), nil, &out); err == nil {
		t.Fatal("no question accepted")
	}
}
