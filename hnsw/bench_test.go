package hnsw

import (
	"fmt"
	"slices"
	"testing"

	"github.com/qlite/qlite/distance"
)

// BenchmarkSearch measures one-goroutine search on clustered synthetic data
// and reports recall@10 against brute force beside the time per query.
// The Fashion-MNIST figures come from `qlite bench run`.
func BenchmarkSearch(b *testing.B) {
	for _, dim := range []int{32, 128} {
		vecs := newVecs(31, 10000, dim, distance.Euclid)
		g, err := New(vecs, &Config{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if err := g.Build(ids(10000), 0); err != nil {
			b.Fatal(err)
		}
		queries := queriesFrom(32, 200, vecs)
		truth := make([][]uint32, len(queries))
		for i, q := range queries {
			truth[i] = bruteForce(vecs, q, 10, nil)
		}
		for _, ef := range []int{16, 64, 128} {
			b.Run(fmt.Sprintf("dim=%d/n=10k/ef=%d", dim, ef), func(b *testing.B) {
				b.ReportAllocs()
				dst := make([]Result, 0, 10)
				hits := 0
				i := 0
				for b.Loop() {
					qi := i % len(queries)
					dst = g.SearchInto(dst, queries[qi], 10, ef, nil)
					for _, r := range dst {
						if slices.Contains(truth[qi], r.ID) {
							hits++
						}
					}
					i++
				}
				b.ReportMetric(float64(hits)/float64(i*10), "recall")
			})
		}
	}
}

// BenchmarkBuild measures a parallel build of 10k clustered vectors.
func BenchmarkBuild(b *testing.B) {
	vecs := newVecs(33, 10000, 128, distance.Euclid)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("dim=128/n=10k/workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				g, _ := New(vecs, &Config{Seed: 1})
				if err := g.Build(ids(10000), workers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSearchLayout compares search on the same graph in RAM and opened
// in place from a buffer (what a mapped file gives), unfiltered and with a
// 10% filter; compare the layout=ram and layout=inplace rows with benchstat.
func BenchmarkSearchLayout(b *testing.B) {
	const n, dim = 20000, 64
	vecs := newVecs(35, n, dim, distance.Euclid)
	g, err := New(vecs, &Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Build(ids(n), 0); err != nil {
		b.Fatal(err)
	}
	ram := ramCopy(b, g, vecs)
	ip, err := OpenInPlace(inPlaceBytes(b, g, 0), vecs, &InPlaceOptions{Trusted: true})
	if err != nil {
		b.Fatal(err)
	}
	queries := queriesFrom(36, 500, vecs)
	tenth := func(id uint32) bool { return id%10 == 0 }
	for _, filter := range []string{"none", "10pct"} {
		for _, layout := range []struct {
			name string
			g    *Graph
		}{{"ram", ram}, {"inplace", ip}} {
			b.Run(fmt.Sprintf("filter=%s/layout=%s", filter, layout.name), func(b *testing.B) {
				b.ReportAllocs()
				dst := make([]Result, 0, 10)
				i := 0
				for b.Loop() {
					q := queries[i%len(queries)]
					if filter == "none" {
						dst = layout.g.SearchInto(dst, q, 10, 64, nil)
					} else {
						dst = layout.g.SearchFiltered(dst, q, 10, 64, tenth, 0.1)
					}
					i++
				}
			})
		}
	}
}
