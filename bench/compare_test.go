package bench

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
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

func TestCompareFiltered(t *testing.T) {
	yes, no := true, false
	curve := func(filter string, sel float64, plan string, qps ...float64) []Measurement {
		var runs []Measurement
		for i, q := range qps {
			runs = append(runs, Measurement{Ef: 10 * (i + 1), Recall: 0.9 + 0.05*float64(i), QPS: q, Filter: filter, Selectivity: sel, Plan: plan})
		}
		return runs
	}
	hnsw := &Result{
		Dataset: "d", Target: "hnsw", Params: Params{K: 10, PayloadIndex: &yes, FilterKind: "rnd"}, Points: 100, Metric: "Euclid",
		Runs: slices.Concat(
			curve("", 0, "graph", 2000, 1000, 500),
			curve("rnd<1000", 0.001, "exact-filter", 800, 600),
			curve("rnd<900000", 0.9, "graph", 1800, 900, 450),
		),
	}
	noIndex := &Result{
		Dataset: "d", Target: "hnsw", Params: Params{K: 10, PayloadIndex: &no}, Points: 100, Metric: "Euclid",
		Runs: slices.Concat(
			curve("", 0, "graph", 2000, 1000),
			curve("rnd<1000", 0.001, "exact-filter", 200, 150),
		),
	}
	faiss := &Result{
		Dataset: "d", Target: "faiss", Params: Params{K: 10}, Points: 100, Metric: "Euclid",
		Runs: slices.Concat(
			curve("rnd<900000", 0.9, "", 3600, 1800),
			curve("rnd<1000", 0.001, "", 300, 120),
		),
	}
	unfiltered := &Result{
		Dataset: "d", Target: "hnsw", Params: Params{K: 10}, Points: 100, Metric: "Euclid",
		Runs: curve("", 0, "", 4000, 2000),
	}
	var out bytes.Buffer
	files := []string{"hnsw.json", "noindex.json", "faiss.json", "plain.json"}
	if err := writeComparison(&out, files, []*Result{hnsw, noIndex, faiss, unfiltered}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	lines := strings.Split(s, "\n")
	find := func(parts ...string) string {
		t.Helper()
		for _, l := range lines {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l, p)
			}
			if ok {
				return l
			}
		}
		t.Fatalf("no line with %q in:\n%s", parts, s)
		return ""
	}
	// The unfiltered table ignores filtered runs: hnsw's unfiltered
	// curve is 1000 qps at 0.95, the plain file's 2000.
	find("plain.json", "2000", "2.00x")
	find("filtered search, qps at recall 0.95")
	// Selectivity 0.9 before 0.001; per selectivity the ratio to the first
	// file and to the file's own unfiltered qps.
	if strings.Index(s, "rnd<900000") > strings.Index(s, "rnd<1000 ") {
		t.Fatalf("selectivities out of order:\n%s", s)
	}
	find("rnd<900000", "0.9000", "hnsw.json", "yes", "graph", "900", "1.00x", "1000", "0.90x", "met")
	find("rnd<900000", "faiss.json", "1800", "2.00x", "n/a")
	find("rnd<1000", "0.0010", "hnsw.json", "exact-filter", "600", "1.00x", "0.60x", "met")
	find("rnd<1000", "noindex.json", "no", "150", "0.25x", "0.15x", "missed")
	find("rnd<1000", "faiss.json", "120", "0.20x")
	t.Log("\n" + s)
	if strings.Count(s, "plain.json") != 2 { // the unfiltered and the build tables
		t.Fatalf("the unfiltered file appears in the filtered table:\n%s", s)
	}
	find("goal: >= 0.5x")

	// Without filtered runs there is no filtered table.
	out.Reset()
	if err := writeComparison(&out, files[3:], []*Result{unfiltered}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "filtered") {
		t.Fatalf("filtered table without filtered runs:\n%s", out.String())
	}
}

// TestCompareServers checks the tables of server runs: QPS at recall with
// concurrent workers, and the servers' memory, disk and CPU with ratios.
func TestCompareServers(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, r := range []*Result{
		{Dataset: "d", Target: "qdrant", Params: Params{K: 10, Concurrency: 8}, Points: 100, Metric: "Euclid", BuildSeconds: 20,
			Runs:           []Measurement{{Ef: 16, Recall: 0.95, QPS: 1000}},
			RunsConcurrent: []Measurement{{Ef: 16, Recall: 0.95, QPS: 3000, Concurrency: 8}},
			Server: &ServerFigures{Name: "qdrant 1.17.1", Note: "slower build", PeakRSSBytes: 800 << 20, DiskBytes: 200 << 20,
				CPUPerQueryMicros: 400, ConcurrentCPUPerQueryMicros: 500}},
		{Dataset: "d", Target: "grpc", Params: Params{K: 10, Concurrency: 8}, Points: 100, Metric: "Euclid", BuildSeconds: 10,
			Runs:           []Measurement{{Ef: 16, Recall: 0.95, QPS: 2500}},
			RunsConcurrent: []Measurement{{Ef: 16, Recall: 0.95, QPS: 9000, Concurrency: 8}},
			Server: &ServerFigures{Name: "qlite serve", PeakRSSBytes: 400 << 20, DiskBytes: 50 << 20,
				CPUPerQueryMicros: 100, ConcurrentCPUPerQueryMicros: 125}},
	} {
		path := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		if err := writeFile(path, r.WriteJSON); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	var out bytes.Buffer
	if err := Compare(&out, files); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{"concurrent query workers", "9000  3.00x", "qlite serve", "0.50x", "0.25x", "note: qdrant 1.17.1: slower build"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
