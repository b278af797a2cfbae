package bench

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plotResult returns a result of target over a small made-up curve whose
// QPS scales with speed, plus a filtered curve at selectivity 0.01 when
// filtered is set.
func plotResult(target string, speed float64, filtered bool) *Result {
	r := &Result{
		Dataset: "fvecs:/data/test", Target: target, Points: 1000, Dims: 16, Metric: "Euclid",
		Params: Params{K: 10},
		Env:    Env{CPU: "Test CPU 3000", NumCPU: 2},
	}
	for i, ef := range []int{10, 20, 40, 80} {
		r.Runs = append(r.Runs, Measurement{Ef: ef, Recall: 0.8 + 0.05*float64(i), QPS: speed * 10000 / float64(ef)})
		if filtered {
			r.Runs = append(r.Runs, Measurement{Ef: ef, Recall: 0.7 + 0.07*float64(i), QPS: speed * 2000 / float64(ef),
				Filter: "rnd<10", Selectivity: 0.01})
		}
	}
	return r
}

func decodePNG(t *testing.T, path string) (w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	return b.Dx(), b.Dy()
}

func TestPlotWritesPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.png")
	results := []*Result{plotResult("hnsw", 1, false), plotResult("hnswlib", 0.8, false), plotResult("hnsw", 1.2, false)}
	if err := Plot(path, results); err != nil {
		t.Fatal(err)
	}
	w, h := decodePNG(t, path)
	if w != 768 || h != 480 {
		t.Fatalf("PNG is %dx%d, want 768x480", w, h)
	}
}

func TestPlotNoRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.png")
	empty := plotResult("faiss", 1, false)
	empty.Runs = nil
	err := Plot(path, []*Result{plotResult("hnsw", 1, false), empty})
	if err == nil || !strings.Contains(err.Error(), "faiss has no unfiltered runs") {
		t.Fatalf("Plot of a result without runs: err = %v, want one naming faiss", err)
	}
	if err := Plot(path, nil); err == nil || !strings.Contains(err.Error(), "no results") {
		t.Fatalf("Plot of no results: err = %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a failed plot left %s behind (stat: %v)", path, err)
	}
}

func TestPlotFiles(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for i, r := range []*Result{plotResult("hnsw", 1, true), plotResult("hnsw", 0.5, false), plotResult("faiss", 0.7, true)} {
		p := filepath.Join(dir, []string{"a.json", "b.json", "c.json"}[i])
		if err := writeFile(p, r.WriteJSON); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	out := filepath.Join(dir, "cmp.png")
	written, err := PlotFiles(out, files)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{out, filepath.Join(dir, "cmp-sel0.01.png")}
	if strings.Join(written, ",") != strings.Join(want, ",") {
		t.Fatalf("wrote %v, want %v", written, want)
	}
	for _, p := range written {
		if w, h := decodePNG(t, p); w != 768 || h != 480 {
			t.Fatalf("%s is %dx%d", p, w, h)
		}
	}
}

func TestPlotTitle(t *testing.T) {
	a, b := plotResult("hnsw", 1, false), plotResult("faiss", 1, false)
	b.Env = Env{CPU: "Other CPU", NumCPU: 8}
	got := plotTitle([]*Result{a, b}, "")
	want := "fvecs:/data/test, 1000 points, Euclid, k=10\nTest CPU 3000, 2 cores; Other CPU, 8 cores"
	if got != want {
		t.Fatalf("title %q, want %q", got, want)
	}
}
