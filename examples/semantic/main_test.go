package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/qlite/qlite/examples/embed"
)

// bruteForce ranks the corpus for q by cosine similarity (the vectors are
// unit length), keeping documents of topic ("" for all).
func bruteForce(q, topic string, k int) []string {
	h := embed.Hash{}
	qv := h.Vector(q)
	type hit struct {
		i     int
		score float64
	}
	var hits []hit
	for i, d := range corpus {
		if topic != "" && d.Topic != topic {
			continue
		}
		v := h.Vector(d.Title + ". " + d.Body)
		var s float64
		for j := range v {
			s += float64(v[j]) * float64(qv[j])
		}
		hits = append(hits, hit{i, s})
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if a.score > b.score {
			return -1
		}
		if a.score < b.score {
			return 1
		}
		return 0
	})
	var out []string
	for _, h := range hits[:min(k, len(hits))] {
		d := corpus[h.i]
		out = append(out, fmt.Sprintf("  %d %.4f %s (%s)", h.i+1, h.score, d.Title, d.Topic))
	}
	return out
}

func TestSemantic(t *testing.T) {
	f := func(args []string, queries []string, topic string, k int) {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), append(args, queries...), &out); err != nil {
			t.Fatal(err)
		}
		var want []string
		if len(queries) == 0 {
			queries = defaultQueries
		}
		for _, q := range queries {
			want = append(want, q)
			want = append(want, bruteForce(q, topic, k)...)
		}
		got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if !slices.Equal(got, want) {
			t.Fatalf("run %v printed\n%s\nbrute force gives\n%s", args, out.String(), strings.Join(want, "\n"))
		}
		t.Logf("%s", out.String())
	}
	f(nil, nil, "", 3)
	f([]string{"-topic", "cooking", "-k", "2"}, []string{"vectors in memory", "bread with yeast"}, "cooking", 2)
	dir := t.TempDir()
	f([]string{"-dir", dir, "-topic", "databases", "-k", "4"}, []string{"durable writes"}, "databases", 4)
	f([]string{"-dir", dir, "-k", "1"}, []string{"trains across Europe"}, "", 1) // reopens the stored corpus

	if err := run(context.Background(), []string{"-k"}, &bytes.Buffer{}); err == nil {
		t.Fatal("a flag without its value was accepted")
	}
}
