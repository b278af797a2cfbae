package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunQdrantEdge(t *testing.T) {
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
