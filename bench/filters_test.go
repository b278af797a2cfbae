package bench

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/qlite/qlite/distance"
)

func TestFilterJSON(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Fatalf("invalid JSON %s", got)
		}
	}
	f(rndFilterJSON(rndBound(0.001)), `{"must":[{"key":"rnd","range":{"lt":1000}}]}`)
	f(rndFilterJSON(rndBound(0.9)), `{"must":[{"key":"rnd","range":{"lt":900000}}]}`)
	f(rndFilterJSON(rndBound(0.0000015)), `{"must":[{"key":"rnd","range":{"lt":2}}]}`)
	f(classFilterJSON(7), `{"must":[{"key":"class","match":{"value":7}}]}`)
}

func TestBuildFilterCases(t *testing.T) {
	const n, nq = 20000, 50
	payloads := GeneratePayloads(n, nil, 7)
	qlabels := make([]uint8, nq)
	for i := range qlabels {
		qlabels[i] = uint8(i % 10)
	}
	sels := []float64{0.001, 0.01, 0.1, 0.5, 0.9}
	cases, err := buildFilterCases(FilterKindRnd, sels, payloads, qlabels)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		lt := int(math.Round(sels[i] * 1e6))
		if len(c.Groups) != 1 || c.Groups[0].JSON != rndFilterJSON(lt) || c.Requested != sels[i] || c.Name != "rnd<"+strconv.Itoa(lt) {
			t.Fatalf("case %d: %+v", i, c)
		}
		var want []uint32
		for id, p := range payloads {
			if int(p.Rnd) < lt {
				want = append(want, uint32(id))
			}
		}
		if !slices.Equal(c.Groups[0].IDs, want) {
			t.Fatalf("case %s: ids differ from a naive scan", c.Name)
		}
		got := c.Selectivity(nq)
		if got != float64(len(want))/n {
			t.Fatalf("case %s: selectivity %v, want %v", c.Name, got, float64(len(want))/n)
		}
		// The fraction is close to the request: within 5 standard
		// deviations of the binomial.
		if sd := math.Sqrt(sels[i] * (1 - sels[i]) / n); math.Abs(got-sels[i]) > 5*sd {
			t.Fatalf("case %s: selectivity %v, requested %v", c.Name, got, sels[i])
		}
		for _, g := range c.QueryGroup {
			if g != 0 {
				t.Fatalf("case %s: a query in group %d", c.Name, g)
			}
		}
	}
	if cases[0].Hash() == cases[1].Hash() || cases[0].Hash() != cases[0].Hash() {
		t.Fatal("hashes do not tell cases apart")
	}
	again, _ := buildFilterCases(FilterKindRnd, sels[:1], GeneratePayloads(n, nil, 8), qlabels)
	if again[0].Hash() == cases[0].Hash() {
		t.Fatal("a new seed matches other points, with the same hash")
	}

	cls, err := buildFilterCases(FilterKindClass, []float64{0.1}, payloads, qlabels)
	if err != nil {
		t.Fatal(err)
	}
	c := cls[0]
	if len(c.Groups) != 10 || c.Name != "class=label" {
		t.Fatalf("class case: %d groups, name %s", len(c.Groups), c.Name)
	}
	total := 0
	for l, g := range c.Groups {
		if g.JSON != classFilterJSON(uint8(l)) {
			t.Fatalf("group %d: %s", l, g.JSON)
		}
		for _, id := range g.IDs {
			if payloads[id].Class != uint8(l) {
				t.Fatalf("group %d holds point %d of class %d", l, id, payloads[id].Class)
			}
		}
		total += len(g.IDs)
	}
	if total != n {
		t.Fatalf("class groups cover %d of %d points", total, n)
	}
	for q, g := range c.QueryGroup {
		if g != int32(qlabels[q]) {
			t.Fatalf("query %d (label %d) in group %d", q, qlabels[q], g)
		}
	}
	if s := c.Selectivity(nq); math.Abs(s-0.1) > 0.01 {
		t.Fatalf("class selectivity %v", s)
	}
	byGroup := c.groupQueries(10, 30)
	if len(byGroup) != 10 || !slices.Equal(byGroup[3], []int{13, 23}) {
		t.Fatalf("groupQueries: %v", byGroup)
	}

	if _, err := buildFilterCases(FilterKindClass, []float64{0.5}, payloads, qlabels); err == nil {
		t.Fatal("class kind at selectivity 0.5")
	}
	if _, err := buildFilterCases("color", []float64{0.5}, payloads, qlabels); err == nil {
		t.Fatal("unknown kind accepted")
	}
}

func TestExactKNNSubsetMatchesNaive(t *testing.T) {
	const n, nq, dim, k = 700, 19, 12, 15
	for _, m := range []distance.Metric{distance.Euclid, distance.Cosine} {
		base := randomVectors(5, n, dim)
		queries := randomVectors(6, nq, dim)
		copy(base[70*dim:71*dim], base[20*dim:21*dim]) // a tie, broken by id
		for i := range n {
			m.Preprocess(base[i*dim:(i+1)*dim], base[i*dim:(i+1)*dim])
		}
		for i := range nq {
			m.Preprocess(queries[i*dim:(i+1)*dim], queries[i*dim:(i+1)*dim])
		}
		for _, every := range []int{1, 3, 97, 1000} {
			var ids []uint32
			for i := 0; i < n; i += every {
				ids = append(ids, uint32(i))
			}
			gt, err := ExactKNNSubset(context.Background(), m, base, queries, dim, k, 3, ids)
			if err != nil {
				t.Fatal(err)
			}
			want := naiveKNN(m, base, queries, dim, k, func(id uint32) bool { return int(id)%every == 0 })
			for i := range nq {
				if !slices.Equal(gt.Row(i), want[i]) {
					t.Fatalf("%v every %d query %d: got %v, want %v", m, every, i, gt.Row(i), want[i])
				}
			}
		}
	}
	if _, err := ExactKNNSubset(context.Background(), distance.Euclid, make([]float32, 8), make([]float32, 4), 4, 1, 1, []uint32{2}); err == nil {
		t.Fatal("an id outside the base was accepted")
	}
	gt, err := ExactKNNSubset(context.Background(), distance.Euclid, make([]float32, 8), make([]float32, 4), 4, 3, 1, nil)
	if err != nil || !slices.Equal(gt.Row(0), []int32{-1, -1, -1}) {
		t.Fatalf("no candidates: %v, %v", gt, err)
	}
}

func TestFilteredGroundTruth(t *testing.T) {
	dir := makeFvecsDir(t, 1500, 60, 16)
	ds, err := LoadDataset("fvecs:"+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	payloads := GeneratePayloads(ds.N, nil, 3)
	rnd, err := buildFilterCases(FilterKindRnd, []float64{0.02, 0.3}, payloads, queryLabels(ds, 3))
	if err != nil {
		t.Fatal(err)
	}
	cls, err := buildFilterCases(FilterKindClass, []float64{0.1}, payloads, queryLabels(ds, 3))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(rnd, cls...) {
		opts := &GroundTruthOptions{CacheDir: t.TempDir()}
		// A prefix first, then extended from the cache.
		part, err := filteredGroundTruth(context.Background(), ds, c, 25, 10, opts)
		if err != nil {
			t.Fatal(err)
		}
		gt, err := filteredGroundTruth(context.Background(), ds, c, 60, 10, opts)
		if err != nil {
			t.Fatal(err)
		}
		if gt.K != GroundTruthK || gt.Rows() != 60 || part.Rows() != 25 {
			t.Fatalf("%s: %d rows of %d", c.Name, gt.Rows(), gt.K)
		}
		for q := range 60 {
			ids := c.Groups[c.QueryGroup[q]].IDs
			want := naiveKNN(ds.Metric, ds.Base, ds.Query(q), ds.Dim, GroundTruthK, func(id uint32) bool {
				_, ok := slices.BinarySearch(ids, id)
				return ok
			})[0]
			if !slices.Equal(gt.Row(q), want) {
				t.Fatalf("%s query %d: got %v, want %v", c.Name, q, gt.Row(q), want)
			}
			if q < 25 && !slices.Equal(part.Row(q), want) {
				t.Fatalf("%s query %d of the prefix differs", c.Name, q)
			}
		}
		// The cache sits next to the data, keyed by the filter.
		files, _ := filepath.Glob(filepath.Join(dir, "groundtruth-euclid-100-filter-"+c.Hash()[:16]+".ivecs"))
		if len(files) != 1 {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("%s: no cache file among %v", c.Name, entries)
		}
		again, err := filteredGroundTruth(context.Background(), ds, c, 60, 10, opts)
		if err != nil || !slices.Equal(again.IDs, gt.IDs) {
			t.Fatalf("%s: cached ground truth differs: %v", c.Name, err)
		}
	}
	// The selective case has rows shorter than 100: padded with -1.
	gt, _ := filteredGroundTruth(context.Background(), ds, rnd[0], 60, 10, &GroundTruthOptions{})
	if n := len(rnd[0].Groups[0].IDs); n >= GroundTruthK || gt.Row(0)[n] != -1 || gt.Row(0)[n-1] < 0 {
		t.Fatalf("%d matching points, row %v", n, gt.Row(0))
	}
	if !strings.HasPrefix(rnd[0].Name, "rnd<") {
		t.Fatal(rnd[0].Name)
	}
}
