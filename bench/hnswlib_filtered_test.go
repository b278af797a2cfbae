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

func TestRunHNSWLibFiltered(t *testing.T) {
	if err := checkPythonHNSWLib(context.Background(), "/usr/bin/python3"); err != nil {
		t.Skipf("no hnswlib for /usr/bin/python3: %v", err)
	}
	testHNSWLibFiltered(t, "hnswlib", nil)
}

func TestRunHNSWLibNativeFiltered(t *testing.T) {
	skipWithoutNative(t)
	testHNSWLibFiltered(t, "hnswlib-native", func(cfg *Config) {
		if d, err := os.UserCacheDir(); err == nil {
			// Reuse a compiled runner across test runs.
			cfg.CacheDir = filepath.Join(d, "qlite")
		}
	})
}

// testHNSWLibFiltered runs target over a small synthetic dataset filtered at
// two selectivities, then with the class kind (one group per query label),
// then at a selectivity matching fewer than k points, and checks that every
// case gets its runs, named and scored against the case's exact filtered
// ground truth.
func testHNSWLibFiltered(t *testing.T, target string, adjust func(*Config)) {
	config := func() *Config {
		cfg := smallConfig(t, target)
		cfg.Ef = []int{16, 128}
		if adjust != nil {
			adjust(cfg)
		}
		return cfg
	}
	native := target == "hnswlib-native"

	cfg := config()
	cfg.FilterSelectivity = []float64{0.5, 0.01}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 3*len(cfg.Ef) {
		t.Fatalf("%d runs, want %d: %+v", len(res.Runs), 3*len(cfg.Ef), res.Runs)
	}
	groups := groupRuns(res.Runs)
	if len(groups) != 3 || groups[0].key != "" || groups[1].key != "rnd<500000" || groups[2].key != "rnd<10000" {
		t.Fatalf("groups: %+v", groups)
	}
	if m := runAt(t, res, groups[0].runs, 128); m.Recall < 0.95 || m.QPS <= 0 || m.Filtered() {
		t.Fatalf("%s unfiltered at ef=128: %+v", target, m)
	}
	for i, want := range []struct {
		name string
		sel  float64
	}{{"rnd<500000", 0.5}, {"rnd<10000", 0.01}} {
		runs := groups[i+1].runs
		if len(runs) != len(cfg.Ef) {
			t.Fatalf("%s: %d runs, want %d", want.name, len(runs), len(cfg.Ef))
		}
		for _, m := range runs {
			if m.Filter != want.name || math.Abs(m.Selectivity-want.sel) > want.sel/2 || m.QPS <= 0 || m.Recall <= 0 {
				t.Fatalf("%s %s at ef=%d: %+v", target, want.name, m.Ef, m)
			}
			if native && m.P99Ms <= 0 {
				t.Fatalf("%s %s at ef=%d: no latencies: %+v", target, want.name, m.Ef, m)
			}
		}
		// A search that ignored the filter would score near the
		// selectivity against the filtered ground truth.
		if m := runAt(t, res, runs, 128); m.Recall < 0.95 {
			t.Fatalf("%s %s at ef=128: recall %.4f against the filtered ground truth", target, want.name, m.Recall)
		}
	}
	if p := res.Params; !slices.Equal(p.FilterSelectivity, cfg.FilterSelectivity) || p.FilterKind != FilterKindRnd || p.ClassLabels != "generated" {
		t.Fatalf("params: %+v", p)
	}
	if want := map[bool]string{false: "hnswlib-python", true: "hnswlib-native"}[native]; !strings.HasPrefix(res.Env.Reference, want) {
		t.Fatalf("reference %q, want %s...", res.Env.Reference, want)
	}

	// The class kind: ten groups, each with its own excluded points, so a
	// group's exclusions must be undone before the next.
	cfg = config()
	cfg.FilterKind = FilterKindClass
	cfg.Ef = []int{128}
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 || res.Runs[1].Filter != "class=label" || math.Abs(res.Runs[1].Selectivity-0.1) > 0.02 || res.Runs[1].Recall < 0.95 || res.Runs[1].QPS <= 0 {
		t.Fatalf("%s class runs: %+v", target, res.Runs)
	}

	// Fewer matching points than k: the runner returns those it finds,
	// padded.
	cfg = config()
	cfg.FilterSelectivity = []float64{0.002}
	res, err = Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	groups = groupRuns(res.Runs)
	if len(groups) != 2 || groups[1].key != "rnd<2000" {
		t.Fatalf("groups: %+v", groups)
	}
	if m := runAt(t, res, groups[1].runs, 128); m.Selectivity <= 0 || m.Selectivity*float64(res.Points) >= float64(res.Params.K) || m.Recall < 0.95 {
		t.Fatalf("%s rnd<2000 at ef=128: %+v", target, m)
	}
}
