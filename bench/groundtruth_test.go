package bench

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/qlite/qlite/distance"
)

// naiveKNN sorts every accepted base row by distance, ties by id.
func naiveKNN(m distance.Metric, base, queries []float32, dim, k int, accept func(uint32) bool) [][]int32 {
	n := len(base) / dim
	var out [][]int32
	for q := 0; q+dim <= len(queries); q += dim {
		type cand struct {
			d  float32
			id int32
		}
		var all []cand
		for i := range n {
			if accept == nil || accept(uint32(i)) {
				all = append(all, cand{m.Distance(queries[q:q+dim], base[i*dim:(i+1)*dim]), int32(i)})
			}
		}
		sort.Slice(all, func(a, b int) bool {
			if all[a].d != all[b].d {
				return all[a].d < all[b].d
			}
			return all[a].id < all[b].id
		})
		row := make([]int32, k)
		for j := range row {
			row[j] = -1
			if j < len(all) {
				row[j] = all[j].id
			}
		}
		out = append(out, row)
	}
	return out
}

func TestExactKNNMatchesNaive(t *testing.T) {
	const n, nq, dim, k = 300, 21, 12, 17
	for _, m := range []distance.Metric{distance.Euclid, distance.Cosine, distance.Dot, distance.Manhattan} {
		t.Run(m.String(), func(t *testing.T) {
			base := randomVectors(3, n, dim)
			queries := randomVectors(4, nq, dim)
			// Duplicate rows create exact ties that must break by id.
			copy(base[50*dim:51*dim], base[10*dim:11*dim])
			copy(queries[0:dim], base[10*dim:11*dim])
			for i := range n {
				m.Preprocess(base[i*dim:(i+1)*dim], base[i*dim:(i+1)*dim])
			}
			for i := range nq {
				m.Preprocess(queries[i*dim:(i+1)*dim], queries[i*dim:(i+1)*dim])
			}
			for _, workers := range []int{1, 3} {
				gt, err := ExactKNN(context.Background(), m, base, queries, dim, k, workers, nil)
				if err != nil {
					t.Fatal(err)
				}
				want := naiveKNN(m, base, queries, dim, k, nil)
				for i := range nq {
					if !slices.Equal(gt.Row(i), want[i]) {
						t.Fatalf("workers=%d query %d: got %v, want %v", workers, i, gt.Row(i), want[i])
					}
				}
			}
			even := func(id uint32) bool { return id%2 == 0 }
			gt, err := ExactKNN(context.Background(), m, base, queries, dim, k, 2, even)
			if err != nil {
				t.Fatal(err)
			}
			want := naiveKNN(m, base, queries, dim, k, even)
			for i := range nq {
				if !slices.Equal(gt.Row(i), want[i]) {
					t.Fatalf("accept even, query %d: got %v, want %v", i, gt.Row(i), want[i])
				}
			}
		})
	}
}

func TestExactKNNPadsShortRows(t *testing.T) {
	base := []float32{0, 1, 2}
	gt, err := ExactKNN(context.Background(), distance.Euclid, base, []float32{1.2}, 1, 5, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{1, 2, 0, -1, -1}; !slices.Equal(gt.Row(0), want) {
		t.Fatalf("got %v, want %v", gt.Row(0), want)
	}
}

func TestExactKNNCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ExactKNN(ctx, distance.Euclid, make([]float32, 40), make([]float32, 40), 4, 3, 1, nil); err != context.Canceled {
		t.Fatalf("err = %v", err)
	}
}

func TestGroundTruthCache(t *testing.T) {
	dir := makeFvecsDir(t, 200, 30, 8)
	ctx := context.Background()
	load := func() *Dataset {
		ds, err := LoadDataset("fvecs:"+dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	get := func(ds *Dataset, nq int) (*GroundTruth, string) {
		t.Helper()
		var log bytes.Buffer
		gt, err := ds.GroundTruth(ctx, nq, 10, &GroundTruthOptions{Log: &log, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return gt, log.String()
	}
	cache := filepath.Join(dir, "groundtruth-euclid-100.ivecs")

	ds := load()
	gt, log := get(ds, 10)
	if !strings.Contains(log, "no cache") || gt.Rows() != 10 || gt.K != 100 {
		t.Fatalf("first call: rows=%d K=%d log=%q", gt.Rows(), gt.K, log)
	}
	want := naiveKNN(ds.Metric, ds.Base, ds.Queries, ds.Dim, 100, nil)
	for i := range gt.Rows() {
		if !slices.Equal(gt.Row(i), want[i]) {
			t.Fatalf("query %d differs from brute force", i)
		}
	}
	if _, err := os.Stat(cache); err != nil {
		t.Fatalf("cache not written next to the data: %v", err)
	}

	// Fewer queries come from the cache; more extend it.
	if gt, log = get(load(), 5); !strings.Contains(log, "cached") || gt.Rows() != 5 {
		t.Fatalf("second call: rows=%d log=%q", gt.Rows(), log)
	}
	if gt, log = get(load(), 30); !strings.Contains(log, "extending") || gt.Rows() != 30 {
		t.Fatalf("third call: rows=%d log=%q", gt.Rows(), log)
	}
	for i := range 30 {
		if !slices.Equal(gt.Row(i), want[i]) {
			t.Fatalf("extended query %d differs from brute force", i)
		}
	}
	if _, log = get(load(), 0); !strings.Contains(log, "cached") {
		t.Fatalf("all queries: log=%q", log)
	}

	// Changed data makes the cache stale.
	base := randomVectors(9, 200, 8)
	writeTestFile(t, filepath.Join(dir, "base.fvecs"), func(w io.Writer) error { return WriteFvecs(w, base, 8) })
	ds = load()
	if gt, log = get(ds, 10); !strings.Contains(log, "stale") {
		t.Fatalf("after data change: log=%q", log)
	}
	want = naiveKNN(ds.Metric, ds.Base, ds.Queries, ds.Dim, 100, nil)
	if !slices.Equal(gt.Row(3), want[3]) {
		t.Fatal("recomputed ground truth is wrong")
	}

	// A damaged cache file is recomputed.
	raw, _ := os.ReadFile(cache)
	os.WriteFile(cache, raw[:len(raw)-8], 0o644)
	if _, log = get(load(), 10); !strings.Contains(log, "does not match") {
		t.Fatalf("after truncation: log=%q", log)
	}

	// Another metric has its own file.
	ds, _ = LoadDataset("fvecs:"+dir, &LoadOptions{Metric: "cosine"})
	if _, log = get(ds, 10); !strings.Contains(log, "no cache") {
		t.Fatalf("cosine: log=%q", log)
	}
	if _, err := os.Stat(filepath.Join(dir, "groundtruth-cosine-100.ivecs")); err != nil {
		t.Fatal(err)
	}
}

func TestGroundTruthUserCache(t *testing.T) {
	// Fashion-MNIST-like datasets never cache next to their files.
	dir := t.TempDir()
	pixels := make([]byte, 120*9)
	for i := range pixels {
		pixels[i] = byte(i * 31)
	}
	writeTestFile(t, filepath.Join(dir, "train-images-idx3-ubyte"), func(w io.Writer) error { return writeIDX(w, pixels, 120, 3, 3) })
	writeTestFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), func(w io.Writer) error { return writeIDX(w, pixels, 8, 3, 3) })
	cacheDir := t.TempDir()
	for i, want := range []string{"no cache", "cached"} {
		ds, err := LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{FashionMNISTDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		if _, err := ds.GroundTruth(context.Background(), 0, 10, &GroundTruthOptions{CacheDir: cacheDir, Log: &log}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(log.String(), want) {
			t.Fatalf("call %d: log=%q, want %q", i, log.String(), want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(cacheDir, "groundtruth", "fashion-mnist-784-euclidean-euclid-n120-q8-d9-k100-*.ivecs"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("files written next to the data: %v", entries)
	}
}

func TestShippedGroundTruth(t *testing.T) {
	dir := makeFvecsDir(t, 150, 12, 6)
	ds, _ := LoadDataset("fvecs:"+dir, nil)
	want := naiveKNN(ds.Metric, ds.Base, ds.Queries, ds.Dim, 100, nil)
	shipped := make([]int32, 0, 12*100)
	for _, row := range want {
		shipped = append(shipped, row...)
	}
	gtPath := filepath.Join(dir, "groundtruth.ivecs")
	writeTestFile(t, gtPath, func(w io.Writer) error { return WriteIvecs(w, shipped, 100) })

	var log bytes.Buffer
	ds, _ = LoadDataset("fvecs:"+dir, nil)
	gt, err := ds.GroundTruth(context.Background(), 12, 10, &GroundTruthOptions{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "using "+gtPath) || !slices.Equal(gt.Row(11), want[11]) {
		t.Fatalf("shipped file not used: %q", log.String())
	}

	// Under another metric the shipped file is wrong and is ignored.
	log.Reset()
	ds, _ = LoadDataset("fvecs:"+dir, &LoadOptions{Metric: "dot"})
	if _, err := ds.GroundTruth(context.Background(), 12, 10, &GroundTruthOptions{Log: &log}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "using") {
		t.Fatalf("shipped Euclid ground truth used for Dot: %q", log.String())
	}
}

func TestSurvivorGroundTruth(t *testing.T) {
	const n, nq, dim, k = 400, 25, 6, 10
	dir := makeFvecsDir(t, n, nq, dim)
	ds, _ := LoadDataset("fvecs:"+dir, nil)
	ctx := context.Background()
	full, err := ExactKNN(ctx, ds.Metric, ds.Base, ds.Queries, dim, 12, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	deleted := make([]bool, n)
	for i := range deleted {
		deleted[i] = i%3 == 0
	}
	// Delete the whole true top-12 of query 0 so that its row must be
	// recomputed by brute force.
	for _, id := range full.Row(0) {
		deleted[id] = true
	}
	got, err := survivorGroundTruth(ctx, ds, full, k, 2, deleted)
	if err != nil {
		t.Fatal(err)
	}
	want := naiveKNN(ds.Metric, ds.Base, ds.Queries, dim, k, func(id uint32) bool { return !deleted[id] })
	for i := range nq {
		if !slices.Equal(got.Row(i), want[i]) {
			t.Fatalf("query %d: got %v, want %v", i, got.Row(i), want[i])
		}
	}
}
