package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestRecall(t *testing.T) {
	gt := &GroundTruth{K: 4, IDs: []int32{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, -1, -1, -1,
	}}
	f := func(found []int32, k int, want float64) {
		t.Helper()
		if got := Recall(found, gt, k); math.Abs(got-want) > 1e-9 {
			t.Fatalf("Recall(%v, k=%d) = %v, want %v", found, k, got, want)
		}
	}
	f([]int32{1, 2, 5, 6, 9, 0}, 2, 1)
	f([]int32{2, 1, 6, 0, 0, 9}, 2, (1+0.5+1)/3.0)
	f([]int32{3, 4, 7, 8, 1, 2}, 2, 0)
	f([]int32{4, 3, 2, 1, 8, -1, -1, -1, -1, -1, -1, 9}, 4, (1+0.25+1)/3.0)
	f(nil, 2, 0)
}

func TestPercentileMs(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(100-i) * time.Millisecond
	}
	if got := percentileMs(lat, 0.5); got != 50 {
		t.Fatalf("p50 = %v", got)
	}
	if got := percentileMs(lat, 0.99); got != 99 {
		t.Fatalf("p99 = %v", got)
	}
	if got := percentileMs([]time.Duration{time.Millisecond}, 0.99); got != 1 {
		t.Fatalf("p99 of one = %v", got)
	}
	if got := percentileMs(nil, 0.5); got != 0 {
		t.Fatalf("p50 of none = %v", got)
	}
}

func TestResultJSONShape(t *testing.T) {
	r := &Result{
		Dataset: "fashion-mnist-784-euclidean", Target: "hnsw",
		Params:       Params{M: 16, EfConstruct: 100, K: 10, Threads: 2, QueryThreads: 1, Ef: []int{10}},
		BuildSeconds: 1.5, RSSBytes: 1, GraphBytes: 2, Points: 3, Dims: 4, Metric: "Euclid",
		Runs: []Measurement{{Ef: 10, Recall: 0.9, QPS: 100, P50Ms: 0.1, P99Ms: 0.2}},
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"dataset", "target", "params", "build_seconds", "rss_bytes", "graph_bytes", "points", "dims", "metric", "runs"} {
		if _, ok := m[key]; !ok {
			t.Errorf("JSON lacks %q: %s", key, buf.String())
		}
	}
	for _, key := range []string{"runs_deleted", "runs_repaired", "runs_fresh_survivors", "deletion"} {
		if _, ok := m[key]; ok {
			t.Errorf("JSON has %q without a deletion experiment", key)
		}
	}
	params := m["params"].(map[string]any)
	for _, key := range []string{"m", "ef_construct", "k", "threads", "seed"} {
		if _, ok := params[key]; !ok {
			t.Errorf("params lack %q", key)
		}
	}
	run := m["runs"].([]any)[0].(map[string]any)
	for _, key := range []string{"ef", "recall", "qps", "p50_ms", "p99_ms"} {
		if _, ok := run[key]; !ok {
			t.Errorf("run lacks %q", key)
		}
	}

	r.RunsRepaired = r.Runs
	var csv bytes.Buffer
	if err := r.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "dataset,target,series") || !strings.Contains(lines[2], "runs_repaired") {
		t.Fatalf("csv:\n%s", csv.String())
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "recall@10") || !strings.Contains(table.String(), "runs_repaired") {
		t.Fatalf("table:\n%s", table.String())
	}
}

func TestProcStatus(t *testing.T) {
	if procStatus("VmHWM") <= 0 {
		t.Skip("no /proc/self/status")
	}
	if procStatus("NoSuchField") != 0 {
		t.Fatal("unknown field not 0")
	}
}
