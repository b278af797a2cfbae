package bench

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestQPSAtRecall(t *testing.T) {
	curve := []Measurement{
		{Ef: 10, Recall: 0.80, QPS: 10000},
		{Ef: 20, Recall: 0.90, QPS: 8000},
		{Ef: 40, Recall: 0.96, QPS: 5000},
		{Ef: 80, Recall: 0.99, QPS: 2000},
	}
	f := func(runs []Measurement, recall, wantQPS float64, wantOK, wantAtLeast bool) {
		t.Helper()
		qps, ok, atLeast := QPSAtRecall(runs, recall)
		if ok != wantOK || atLeast != wantAtLeast || math.Abs(qps-wantQPS) > 1e-6 {
			t.Fatalf("QPSAtRecall(%v) = %v, %v, %v; want %v, %v, %v", recall, qps, ok, atLeast, wantQPS, wantOK, wantAtLeast)
		}
	}
	f(curve, 0.90, 8000, true, false) // on a point
	f(curve, 0.95, 5500, true, false) // between 0.90 and 0.96
	f(curve, 0.85, 9000, true, false) // midway
	f(curve, 0.99, 2000, true, false) // last point
	f(curve, 0.995, 0, false, false)  // beyond the curve
	f(curve, 0.50, 10000, true, true) // below the curve: a lower bound
	f(nil, 0.9, 0, false, false)      // empty
	f(curve[2:3], 0.96, 5000, true, false)

	// Order does not matter, and dominated points are ignored: ef=30 is
	// slower than ef=40 at lower recall.
	noisy := []Measurement{curve[3], {Ef: 30, Recall: 0.93, QPS: 4000}, curve[1], curve[2], curve[0]}
	f(noisy, 0.95, 5500, true, false)
	f(noisy, 0.93, 8000-3000*0.5, true, false)
	// Equal recall keeps the faster point.
	f([]Measurement{{Recall: 0.9, QPS: 100}, {Recall: 0.9, QPS: 300}, {Recall: 1, QPS: 50}}, 0.9, 300, true, false)
}

func TestParetoFront(t *testing.T) {
	front := paretoFront([]Measurement{
		{Ef: 1, Recall: 0.5, QPS: 100},
		{Ef: 2, Recall: 0.6, QPS: 120}, // dominates ef=1
		{Ef: 3, Recall: 0.9, QPS: 50},
		{Ef: 4, Recall: 0.8, QPS: 40}, // dominated by ef=3
	})
	var efs []int
	for _, p := range front {
		efs = append(efs, p.Ef)
	}
	if len(efs) != 2 || efs[0] != 2 || efs[1] != 3 {
		t.Fatalf("front = %v, want [2 3]", efs)
	}
}

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, r *Result) string {
		t.Helper()
		path := filepath.Join(dir, name)
		var buf bytes.Buffer
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("a.json", &Result{
		Dataset: "d", Target: "hnsw", Params: Params{K: 10, Threads: 2}, Points: 100, Metric: "Euclid",
		BuildSeconds: 2, GraphBytes: 1 << 20, RSSBytes: 100 << 20, QueryMode: "single",
		Runs: []Measurement{{Ef: 10, Recall: 0.9, QPS: 1000}, {Ef: 20, Recall: 0.99, QPS: 500}},
	})
	b := write("b.json", &Result{
		Dataset: "d", Target: "hnswlib", Params: Params{K: 10, Threads: 2}, Points: 100, Metric: "Euclid",
		BuildSeconds: 1, GraphBytes: 2 << 20, RSSBytes: 50 << 20, QueryMode: "batch",
		Runs: []Measurement{{Ef: 10, Recall: 0.92, QPS: 3000}, {Ef: 20, Recall: 0.98, QPS: 1500}},
	})
	var out bytes.Buffer
	if err := Compare(&out, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"qps@0.90", "qps@0.95", "qps@0.99", "hnswlib", "a.json", "b.json", ">=3000", "3.00x", "n/a", "0.50x", "2.00x", "build_s"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// qlite at 0.95: 1000 + (0.05/0.09)*(-500).
	if want := "722"; !strings.Contains(s, want) {
		t.Errorf("output lacks interpolated %s:\n%s", want, s)
	}
	if err := Compare(&out, nil); err == nil {
		t.Error("no error without files")
	}
	if err := Compare(&out, []string{filepath.Join(dir, "missing.json")}); err == nil {
		t.Error("no error for a missing file")
	}
}
