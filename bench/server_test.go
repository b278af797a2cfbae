package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// qdrantBin returns the Qdrant server binary of QDRANT_BIN, skipping the
// test visibly when it is unset.
func qdrantBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("QDRANT_BIN")
	if bin == "" {
		t.Skip("QDRANT_BIN is unset: the real Qdrant server cannot be started")
	}
	return bin
}

// checkServerFigures checks what a server run read of the server process.
func checkServerFigures(t *testing.T, res *Result, inProcess bool) {
	t.Helper()
	sf := res.Server
	if sf == nil {
		t.Fatalf("%s: no server figures", res.Target)
	}
	if sf.InProcess != inProcess || sf.PeakRSSBytes <= 0 || sf.GreenRSSBytes <= 0 || sf.GreenRSSBytes > sf.PeakRSSBytes ||
		sf.DiskBytes <= 0 || sf.BuildCPUSeconds < 0 || sf.CPUPerQueryMicros < 0 {
		t.Errorf("%s: server figures %+v", res.Target, sf)
	}
	if !inProcess && res.RSSBytes != sf.PeakRSSBytes {
		t.Errorf("%s: peak RSS %d, the server's %d", res.Target, res.RSSBytes, sf.PeakRSSBytes)
	}
	if res.Engine == nil || res.BuildSeconds <= 0 {
		t.Errorf("%s: upload figures %+v, build %v", res.Target, res.Engine, res.BuildSeconds)
	}
}

// TestRunQdrantServer starts the real Qdrant server for a small filtered
// run with concurrent workers and checks its answers against the exact
// ground truth, and that the server was stopped and its directory removed.
func TestRunQdrantServer(t *testing.T) {
	bin := qdrantBin(t)
	sels := []float64{0.05, 0.9}
	cfg := filteredTargetConfig(t, TargetQdrant, sels)
	cfg.QdrantBin = bin
	cfg.Concurrency = 2
	cfg.Log = testLog{t}
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "qlite-bench-qdrant-*"))
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkFilteredRuns(t, res, sels, true, false, 0.9)
	checkServerFigures(t, res, false)
	if !strings.HasPrefix(res.Server.Name, "qdrant ") || res.Env.Reference != res.Server.Name || !strings.Contains(res.Server.Note, "perf profile") {
		t.Errorf("server %+v, reference %q", res.Server, res.Env.Reference)
	}
	if len(res.RunsConcurrent) != len(cfg.Ef) || res.RunsConcurrent[0].QPS <= 0 {
		t.Errorf("concurrent runs %+v", res.RunsConcurrent)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "qlite-bench-qdrant-*"))
	if len(after) > len(before) {
		t.Errorf("server directories left behind: %v (before: %v)", after, before)
	}
}

// TestRunServeInProcess measures target grpc without a qlite binary: the
// server runs in the test's process and says so.
func TestRunServeInProcess(t *testing.T) {
	cfg := smallConfig(t, TargetServe)
	cfg.Ef = []int{64}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r := runAt(t, res, res.Runs, 64); r.Recall < 0.9 {
		t.Errorf("recall %v at ef 64", r.Recall)
	}
	checkServerFigures(t, res, true)
}

func TestRunQdrantNeedsBinary(t *testing.T) {
	cfg := smallConfig(t, TargetQdrant)
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "QDRANT_BIN") {
		t.Fatalf("no binary: %v", err)
	}
}

// TestProcCPUSeconds checks /proc/PID/stat's CPU time against getrusage's
// for this process.
func TestProcCPUSeconds(t *testing.T) {
	deadline := time.Now().Add(200 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	_ = x
	before := cpuSeconds()
	got := procCPUSeconds(os.Getpid())
	after := cpuSeconds()
	// /proc counts in clock ticks of 10 ms.
	if got < before-0.02 || got > after+0.02 || got <= 0 {
		t.Fatalf("procCPUSeconds %v, getrusage %v..%v", got, before, after)
	}
	if procCPUSeconds(-1) != 0 {
		t.Fatal("CPU time of no process")
	}
}

// TestDiskUsage checks that the disk usage of a directory counts its
// files' data and not the holes of a sparse file.
func TestDiskUsage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "sub", "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if n := diskUsage(dir); n < 1<<20 || n > 1<<21 {
		t.Fatalf("disk usage %d, want about 1 MiB", n)
	}
}
