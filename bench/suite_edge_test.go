package bench

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakePython puts on PATH (and nothing else) a python3 that succeeds at
// "-c CODE" and fails at everything else, such as "-m venv", with a
// message; it returns its path.
func fakePython(t *testing.T, importOK bool) string {
	t.Helper()
	dir := t.TempDir()
	code := "1"
	if importOK {
		code = "0"
	}
	script := "#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then echo no module named ensurepip >&2; exit " + code + "; fi\n" +
		"echo 'fake: venv creation refused' >&2\nexit 1\n"
	py := filepath.Join(dir, "python3")
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	return py
}

func TestSuiteTargetsQdrantEdge(t *testing.T) {
	if !slices.Contains(SuiteTargets, "qdrant-edge") {
		t.Fatalf("SuiteTargets %v lack qdrant-edge", SuiteTargets)
	}
}

func TestCheckEdgePrerequisites(t *testing.T) {
	ctx := context.Background()
	noPython := filepath.Join(t.TempDir(), "no-python")

	t.Run("none", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		cache := t.TempDir()
		err := checkEdgePrerequisites(ctx, cache, noPython)
		if err == nil || !strings.Contains(err.Error(), "python3-venv") || !strings.Contains(err.Error(), "no-python") {
			t.Fatalf("no python: %v, want an error naming the python tried and python3-venv", err)
		}
	})
	t.Run("without venv", func(t *testing.T) {
		py := fakePython(t, false)
		err := checkEdgePrerequisites(ctx, t.TempDir(), noPython)
		if err == nil || !strings.Contains(err.Error(), py+" cannot make a virtualenv") || !strings.Contains(err.Error(), "ensurepip") {
			t.Fatalf("python3 without venv: %v", err)
		}
	})
	t.Run("with venv", func(t *testing.T) {
		fakePython(t, true)
		cache := t.TempDir()
		if err := checkEdgePrerequisites(ctx, cache, noPython); err != nil {
			t.Fatalf("python3 with venv: %v", err)
		}
		if entries, _ := os.ReadDir(cache); len(entries) != 0 {
			t.Errorf("the check wrote into the cache directory: %v", entries)
		}
	})
}

// TestSuiteQdrantEdgeVenvFails checks that qdrant-edge, available by its
// check, is reported as failed, with the reason, when its virtualenv cannot
// be made.
func TestSuiteQdrantEdgeVenvFails(t *testing.T) {
	fakePython(t, true)
	data := makeFvecsDir(t, 300, 10, 8)
	out := t.TempDir()
	cache := t.TempDir()
	err := Suite(context.Background(), &SuiteConfig{
		Dir: out, Quick: true, Datasets: []string{"fvecs:" + data},
		Targets: []string{"hnsw", "qdrant-edge"}, NoFilter: true, Threads: 2,
		CacheDir: cache, Python: filepath.Join(t.TempDir(), "no-python"),
	})
	if err == nil || !strings.Contains(err.Error(), "qdrant-edge on fvecs:") || !strings.Contains(err.Error(), "venv creation refused") {
		t.Fatalf("Suite = %v, want the qdrant-edge failure with its reason", err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(raw)
	want := "- FAILED qdrant-edge on fvecs:" + data + ": "
	i := strings.Index(report, want)
	if i < 0 {
		t.Fatalf("report.md lacks %q:\n%s", want, report)
	}
	if line, _, _ := strings.Cut(report[i:], "\n"); !strings.Contains(line, "venv creation refused") {
		t.Errorf("the failure line gives no reason: %s", line)
	}
	if strings.Contains(report, "skipped qdrant-edge") {
		t.Errorf("qdrant-edge was skipped, not attempted:\n%s", report)
	}
	if _, err := os.Stat(filepath.Join(cache, edgeVenvName)); !os.IsNotExist(err) {
		t.Errorf("a failed virtualenv was left in the cache: %v", err)
	}
}
