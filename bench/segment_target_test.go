package bench

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/qlite/qlite/filter"
)

// TestFilterJSONParses checks that the benchmark's filters are filters to
// package filter.
func TestFilterJSONParses(t *testing.T) {
	for _, js := range []string{rndFilterJSON(1000), rndFilterJSON(0), classFilterJSON(9)} {
		if _, err := filter.ParseJSON([]byte(js)); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
	}
}

func TestRunFilteredHNSW(t *testing.T) {
	dir := makeFvecsDir(t, 3000, 100, 32)
	out := t.TempDir()
	sels := []float64{0.01, 0.1, 0.5, 0.9}
	for _, indexed := range []bool{true, false} {
		cfg := &Config{
			Dataset:           "fvecs:" + dir,
			Target:            "hnsw",
			Ef:                []int{64},
			Seed:              1,
			FilterSelectivity: sels,
			NoPayloadIndex:    !indexed,
			CacheDir:          out,
		}
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if p := res.Params.PayloadIndex; p == nil || *p != indexed || res.Params.FilterKind != FilterKindRnd {
			t.Fatalf("params: %+v", res.Params)
		}
		groups := groupRuns(res.Runs)
		if len(groups) != 1+len(sels) || groups[0].key != "" {
			t.Fatalf("indexed=%v: %d groups: %+v", indexed, len(groups), groups)
		}
		if m := groups[0].runs[0]; m.Recall < 0.95 || m.Filtered() {
			t.Fatalf("indexed=%v unfiltered: %+v", indexed, m)
		}
		for i, g := range groups[1:] {
			want := sels[len(sels)-1-i]
			m := g.runs[0]
			if math.Abs(m.Selectivity-want) > 0.2*want || m.Filter != g.key || !strings.HasPrefix(m.Filter, "rnd<") {
				t.Fatalf("indexed=%v: run %+v for selectivity %v", indexed, m, want)
			}
			if m.Recall < 0.95 {
				t.Errorf("indexed=%v selectivity %v: recall@10 at ef=64 = %.4f (plan %s)", indexed, want, m.Recall, m.Plan)
			}
			if m.Plan == "" || m.PlanShare <= 0 || m.QPS <= 0 || m.P99Ms < m.P50Ms {
				t.Errorf("indexed=%v selectivity %v: %+v", indexed, want, m)
			}
		}
		if indexed && res.PayloadIndexSeconds <= 0 {
			t.Errorf("no payload index time")
		}
	}

	// The correlated kind: each query filtered by its own class.
	res, err := Run(context.Background(), &Config{
		Dataset: "fvecs:" + dir, Target: "hnsw", Ef: []int{64}, Seed: 1,
		FilterKind: FilterKindClass, CacheDir: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 || res.Runs[1].Filter != "class=label" || res.Runs[1].Recall < 0.95 {
		t.Fatalf("class runs: %+v", res.Runs)
	}
}
