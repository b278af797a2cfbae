package bench

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// edgeConfig returns smallConfig for the qdrant-edge target with the
// virtualenv in the user cache directory, so that test runs share it, and
// skips the test when the virtualenv cannot be made.
func edgeConfig(t *testing.T) *Config {
	t.Helper()
	if testing.Short() {
		t.Skip("installs qdrant-edge-py into a virtualenv")
	}
	cfg := smallConfig(t, "qdrant-edge")
	if d, err := os.UserCacheDir(); err == nil {
		// Reuse the virtualenv across test runs.
		cfg.CacheDir = filepath.Join(d, "qlite")
	}
	c, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qdrantEdgePython(context.Background(), &c); err != nil {
		t.Skipf("no qdrant-edge virtualenv (needs the network and a python3 with venv): %v", err)
	}
	return cfg
}

func TestRunQdrantEdge(t *testing.T) {
	cfg := edgeConfig(t)
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Points != 2000 || res.Dims != 32 || res.Queries != 200 || res.Metric != "Euclid" {
		t.Fatalf("result header: %+v", res)
	}
	if res.QueryMode != "single" || res.BuildSeconds <= 0 || res.BuildCPUSeconds <= 0 || res.RSSBytes <= 0 ||
		!strings.HasPrefix(res.Env.Reference, "qdrant-edge-py 0.9.0") {
		t.Fatalf("result: %+v", res)
	}
	lo, hi := runAt(t, res, res.Runs, 16), runAt(t, res, res.Runs, 64)
	if hi.Recall < 0.9 {
		t.Fatalf("recall@10 at ef=64 = %.4f, want >= 0.9", hi.Recall)
	}
	for _, m := range []Measurement{lo, hi} {
		if m.QPS <= 0 || m.P50Ms <= 0 || m.P99Ms < m.P50Ms || m.P50Ms > 1000 {
			t.Fatalf("bad timings: %+v", m)
		}
	}
	if lo.Recall > hi.Recall {
		t.Fatalf("recall falls with ef: %.4f at ef=16, %.4f at ef=64", lo.Recall, hi.Recall)
	}
}

// edgeFilterRuns returns the runs of res by filter name ("" for the
// unfiltered ones), checking that every name has a run at every ef of cfg,
// with sound timings.
func edgeFilterRuns(t *testing.T, cfg *Config, res *Result, names ...string) map[string][]Measurement {
	t.Helper()
	byName := map[string][]Measurement{}
	for _, m := range res.Runs {
		t.Logf("filter %q (selectivity %.4f) ef=%d: recall@10 %.4f, %.0f qps", m.Filter, m.Selectivity, m.Ef, m.Recall, m.QPS)
		if m.QPS <= 0 || m.P50Ms <= 0 || m.P99Ms < m.P50Ms {
			t.Errorf("bad timings: %+v", m)
		}
		byName[m.Filter] = append(byName[m.Filter], m)
	}
	if len(byName) != len(names) || len(res.Runs) != len(names)*len(cfg.Ef) {
		t.Fatalf("runs %+v, want %d per ef for each of %q", res.Runs, len(names), names)
	}
	for _, name := range names {
		var efs []int
		for _, m := range byName[name] {
			efs = append(efs, m.Ef)
		}
		if !slices.Equal(efs, cfg.Ef) {
			t.Fatalf("filter %q: runs at ef %v, want %v", name, efs, cfg.Ef)
		}
	}
	return byName
}

// TestRunQdrantEdgeFiltered runs the filtered workload on the qdrant-edge
// target: first as configured (Qdrant's default full-scan threshold, under
// which it searches every filter of this small base exactly over its
// payload indexes), then with the threshold at 1 KB, so that the filters
// go through the HNSW graph, for the rnd kind and the class kind (one
// filter per query label).
func TestRunQdrantEdgeFiltered(t *testing.T) {
	cfg := edgeConfig(t)
	cfg.FilterSelectivity = []float64{0.01, 0.5}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.QueryMode != "single" || res.BuildSeconds <= 0 || !strings.HasPrefix(res.Env.Reference, "qdrant-edge-py 0.9.0") {
		t.Fatalf("result: %+v", res)
	}
	if p := res.Params; !slices.Equal(p.FilterSelectivity, cfg.FilterSelectivity) || p.FilterKind != FilterKindRnd || p.ClassLabels != "generated" {
		t.Fatalf("params: %+v", p)
	}
	runs := edgeFilterRuns(t, cfg, res, "", "rnd<10000", "rnd<500000")
	checkSelectivity := func(runs map[string][]Measurement) {
		t.Helper()
		for _, m := range runs["rnd<500000"] {
			if math.Abs(m.Selectivity-0.5) > 0.05 {
				t.Errorf("rnd<500000: %+v, want selectivity 0.5", m)
			}
		}
		for _, m := range runs["rnd<10000"] {
			if m.Selectivity <= 0 || m.Selectivity > 0.02 {
				t.Errorf("rnd<10000: %+v, want selectivity 0.01", m)
			}
		}
		for _, m := range runs[""] {
			if m.Selectivity != 0 {
				t.Errorf("unfiltered: %+v", m)
			}
		}
	}
	checkSelectivity(runs)
	for _, name := range []string{"rnd<10000", "rnd<500000"} {
		for _, m := range runs[name] {
			if m.Recall < 0.99 {
				t.Errorf("%s at ef=%d: recall@10 %.4f, want an exact search (>= 0.99)", name, m.Ef, m.Recall)
			}
		}
	}
	if t.Failed() {
		return
	}

	// Through the graph: the same filters, and the class kind.
	old := edgeFilteredFullScanKB
	edgeFilteredFullScanKB = 1
	t.Cleanup(func() { edgeFilteredFullScanKB = old })
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	runs = edgeFilterRuns(t, cfg, res, "", "rnd<10000", "rnd<500000")
	checkSelectivity(runs)
	for _, name := range []string{"", "rnd<10000", "rnd<500000"} {
		if m := runAt(t, res, runs[name], 64); m.Recall < 0.9 {
			t.Errorf("filter %q through the graph at ef=64: recall@10 %.4f, want >= 0.9", name, m.Recall)
		}
	}

	cfg.FilterKind = FilterKindClass
	cfg.FilterSelectivity = []float64{classSelectivity}
	cfg.Ef = []int{64}
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	runs = edgeFilterRuns(t, cfg, res, "", "class=label")
	if m := runs["class=label"][0]; math.Abs(m.Selectivity-0.1) > 0.02 || m.Recall < 0.9 {
		t.Fatalf("class runs at ef=64: %+v, want selectivity 0.1 and recall@10 >= 0.9", m)
	}
}
