package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/qlite/qlite/examples/embed"
	"github.com/qlite/qlite/payload/bm25"
)

type line struct {
	id    int
	score float64
}

// parse reads the example's output into its three lists.
func parse(t *testing.T, out string) map[string][]line {
	lists := map[string][]line{}
	cur := ""
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "  ") {
			cur = strings.TrimSuffix(l, ":")
			lists[cur] = []line{}
			continue
		}
		f := strings.Fields(l)
		id, err1 := strconv.Atoi(f[0])
		s, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", l)
		}
		lists[cur] = append(lists[cur], line{id, s})
	}
	return lists
}

// bruteForce scores every product (at most maxPrice) for q: BM25 with
// Qdrant's IDF over the whole collection, and cosine of the toy embedding.
func bruteForce(q string, maxPrice float64) (keyword, dense map[int]float64) {
	m, _ := bm25.New(bm25.DefaultOptions())
	qi, qv := m.Query(q)
	df := map[uint32]int{}
	docs := make([]map[uint32]float32, len(products))
	for i, p := range products {
		idx, vals := m.Document(text(p))
		docs[i] = map[uint32]float32{}
		for j, x := range idx {
			docs[i][x] = vals[j]
			df[x]++
		}
	}
	h := embed.Hash{Size: denseDim}
	qd := h.Vector(q)
	keyword, dense = map[int]float64{}, map[int]float64{}
	n := float64(len(products))
	for i, p := range products {
		if maxPrice > 0 && p.Price > maxPrice {
			continue
		}
		var s float64
		hit := false
		for j, x := range qi {
			if w, ok := docs[i][x]; ok {
				idf := math.Log((n-float64(df[x])+0.5)/(float64(df[x])+0.5) + 1)
				s += float64(qv[j]) * idf * float64(w)
				hit = true
			}
		}
		if hit {
			keyword[i+1] = s
		}
		v := h.Vector(text(p))
		var d float64
		for j := range v {
			d += float64(v[j]) * float64(qd[j])
		}
		dense[i+1] = d
	}
	return keyword, dense
}

// checkRanked checks that got lists exactly the points of want, best first,
// with their scores.
func checkRanked(t *testing.T, name string, got []line, want map[int]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, brute force has %d", name, len(got), len(want))
	}
	for i, l := range got {
		w, ok := want[l.id]
		if !ok || math.Abs(w-l.score) > 1e-3*max(1, math.Abs(w)) {
			t.Fatalf("%s: point %d scores %v, brute force %v (%v)", name, l.id, l.score, w, ok)
		}
		if i > 0 && l.score > got[i-1].score {
			t.Fatalf("%s: not sorted: %v", name, got)
		}
	}
}

func TestHybrid(t *testing.T) {
	f := func(q string, maxPrice float64) {
		t.Helper()
		var out bytes.Buffer
		args := []string{"-k", "16", "-max-price", fmt.Sprint(maxPrice), q}
		if err := run(context.Background(), args, &out); err != nil {
			t.Fatal(err)
		}
		lists := parse(t, out.String())
		keyword, dense := bruteForce(q, maxPrice)
		checkRanked(t, "keyword", lists["keyword (bm25)"], keyword)
		checkRanked(t, "dense", lists["dense"], dense)

		// The fused list is the RRF of the two lists the query's parts
		// give (k = 2: 1 / (rank + 2)).
		rrf := map[int]float64{}
		for _, part := range []string{"keyword (bm25)", "dense"} {
			for rank, l := range lists[part] {
				rrf[l.id] += 1 / float64(rank+2)
			}
		}
		checkRanked(t, "hybrid", lists["hybrid (rrf)"], rrf)
		if len(keyword) == 0 {
			t.Fatalf("query %q matches no keyword: a weak test", q)
		}
		t.Logf("%v\n%s", args, out.String())
	}
	f("waterproof hiking boots", 0)
	f("warm winter walks", 0)
	f("trail", 150)

	if err := run(context.Background(), nil, &bytes.Buffer{}); err == nil {
		t.Fatal("no query accepted")
	}
}
