package bench

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

func TestLoadFvecsDir(t *testing.T) {
	dir := makeFvecsDir(t, 40, 5, 8)
	ds, err := LoadDataset("fvecs:"+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 40 || ds.NQ != 5 || ds.Dim != 8 || ds.Metric != distance.Euclid || ds.Partial {
		t.Fatalf("got N=%d NQ=%d Dim=%d %v partial=%v", ds.N, ds.NQ, ds.Dim, ds.Metric, ds.Partial)
	}
	want := randomVectors(1, 40, 8)
	for i, v := range ds.Base {
		if v != want[i] {
			t.Fatalf("base[%d] = %v, want %v", i, v, want[i])
		}
	}

	ds, err = LoadDataset("fvecs:"+dir, &LoadOptions{Metric: "cosine", MaxPoints: 10})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 10 || !ds.Partial || ds.Metric != distance.Cosine {
		t.Fatalf("got N=%d partial=%v %v", ds.N, ds.Partial, ds.Metric)
	}
	for i := range ds.N {
		v := ds.BaseVector(i)
		if n := distance.DotProduct(v, v); math.Abs(float64(n)-1) > 1e-5 {
			t.Fatalf("base %d has squared norm %v after cosine preprocessing", i, n)
		}
	}
	q := ds.Query(0)
	if n := distance.DotProduct(q, q); math.Abs(float64(n)-1) > 1e-5 {
		t.Fatalf("query 0 has squared norm %v", n)
	}
}

func TestLoadTexmexNames(t *testing.T) {
	dir := t.TempDir()
	base := randomVectors(1, 20, 4)
	writeTestFile(t, filepath.Join(dir, "sift_base.fvecs"), func(w io.Writer) error { return WriteFvecs(w, base, 4) })
	writeTestFile(t, filepath.Join(dir, "sift_query.bvecs"), func(w io.Writer) error { return writeBvecs(w, []byte{1, 2, 3, 4}, 4) })
	ds, err := LoadDataset("fvecs:"+dir, &LoadOptions{Metric: "dot"})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 20 || ds.NQ != 1 || ds.Metric != distance.Dot || ds.Queries[3] != 4 {
		t.Fatalf("got N=%d NQ=%d %v %v", ds.N, ds.NQ, ds.Metric, ds.Queries)
	}
}

func TestLoadDatasetErrors(t *testing.T) {
	f := func(name string, opts *LoadOptions, want string, sentinel error) {
		t.Helper()
		_, err := LoadDataset(name, opts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("LoadDataset(%q): err = %v, want it to mention %q", name, err, want)
		}
		if sentinel != nil && !errors.Is(err, sentinel) {
			t.Fatalf("LoadDataset(%q): err = %v, want %v", name, err, sentinel)
		}
	}
	empty := t.TempDir()
	f("fashion-mnist-784-euclidean", &LoadOptions{FashionMNISTDir: empty}, "apt-get install dataset-fashion-mnist", ErrNotInstalled)
	f("fashion-mnist-784-angular", &LoadOptions{Metric: "euclid"}, "is Cosine", nil)
	f("fvecs:"+empty, nil, "base.fvecs", ErrNotInstalled)
	f("fvecs:"+filepath.Join(empty, "nope"), nil, "no such directory", ErrNotInstalled)
	f("fvecs:", nil, "fvecs:DIR", nil)
	f("sift-128", nil, "unknown dataset", nil)
	f("fvecs:"+empty, &LoadOptions{Metric: "hamming"}, "unknown distance", nil)

	dir := makeFvecsDir(t, 10, 2, 4)
	writeTestFile(t, filepath.Join(dir, "query.fvecs"), func(w io.Writer) error { return WriteFvecs(w, make([]float32, 6), 3) })
	f("fvecs:"+dir, nil, "dimensions", nil)
}

func TestLoadFashionMNISTFiles(t *testing.T) {
	// A miniature Fashion-MNIST: the loader only cares about file names.
	dir := t.TempDir()
	pixels := make([]byte, 30*4*4)
	for i := range pixels {
		pixels[i] = byte(i)
	}
	writeTestFile(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), func(w io.Writer) error { return writeIDX(w, pixels, 30, 4, 4) })
	writeTestFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), func(w io.Writer) error { return writeIDX(w, pixels, 6, 4, 4) })
	ds, err := LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{FashionMNISTDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 30 || ds.NQ != 6 || ds.Dim != 16 || ds.Base[17] != 17 || ds.dir != "" {
		t.Fatalf("got N=%d NQ=%d Dim=%d base[17]=%v dir=%q", ds.N, ds.NQ, ds.Dim, ds.Base[17], ds.dir)
	}
	if ds.BaseLabels != nil || ds.QueryLabels != nil {
		t.Fatal("labels without label files")
	}

	// With label files, the labels of the loaded prefix come along.
	labels := func(n int) func(w io.Writer) error {
		return func(w io.Writer) error {
			if _, err := w.Write([]byte{0, 0, idxTypeUint8, 1, 0, 0, 0, byte(n)}); err != nil {
				return err
			}
			for i := range n {
				if _, err := w.Write([]byte{byte(i % 10)}); err != nil {
					return err
				}
			}
			return nil
		}
	}
	writeTestFile(t, filepath.Join(dir, "train-labels-idx1-ubyte.gz"), labels(30))
	writeTestFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), labels(6))
	ds, err = LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{FashionMNISTDir: dir, MaxPoints: 25})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.BaseLabels) != 25 || len(ds.QueryLabels) != 6 || ds.BaseLabels[13] != 3 || ds.QueryLabels[5] != 5 {
		t.Fatalf("labels %v / %v", ds.BaseLabels, ds.QueryLabels)
	}
	// Fewer labels than images is an error.
	writeTestFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), labels(5))
	if _, err := LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{FashionMNISTDir: dir}); err == nil {
		t.Fatal("loaded 6 queries with 5 labels")
	}
}

func TestFashionMNISTInstalled(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultFashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
	}
	ds, err := LoadDataset("fashion-mnist-784-angular", &LoadOptions{MaxPoints: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 2000 || ds.NQ != 10000 || ds.Dim != 784 || ds.Metric != distance.Cosine {
		t.Fatalf("got N=%d NQ=%d Dim=%d %v", ds.N, ds.NQ, ds.Dim, ds.Metric)
	}
}

func TestDatasetHash(t *testing.T) {
	dir := makeFvecsDir(t, 10, 2, 4)
	a, _ := LoadDataset("fvecs:"+dir, nil)
	b, _ := LoadDataset("fvecs:"+dir, nil)
	c, _ := LoadDataset("fvecs:"+dir, &LoadOptions{Metric: "cosine"})
	if a.Hash() != b.Hash() || len(a.Hash()) != 64 {
		t.Fatalf("same data, different hashes %s %s", a.Hash(), b.Hash())
	}
	if a.Hash() == c.Hash() {
		t.Fatal("different metric, same hash")
	}
}

func TestScaledDataset(t *testing.T) {
	if _, err := os.Stat(DefaultFashionMNISTDir); err != nil {
		t.Skip("dataset-fashion-mnist not installed")
	}
	base, err := LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{MaxPoints: 0})
	require.NoError(t, err)
	ds, err := LoadDataset("fashion-mnist-784-euclidean-x3", &LoadOptions{MaxPoints: base.N + 5})
	require.NoError(t, err)
	require.Equal(t, base.N+5, ds.N)
	require.True(t, ds.Partial)
	require.Equal(t, base.Queries, ds.Queries)
	require.Equal(t, base.Base, ds.Base[:len(base.Base)])
	again, err := LoadDataset("fashion-mnist-784-euclidean-x3", &LoadOptions{MaxPoints: base.N + 5})
	require.NoError(t, err)
	require.Equal(t, ds.Hash(), again.Hash(), "generation is deterministic")
	// A copy stays near its source row: the noise is ScaleNoise per pixel,
	// clamped, so the distance is at most ScaleNoise*sqrt(dim) give or take.
	for i := range 5 {
		d := distance.Euclid.Distance(ds.BaseVector(base.N+i), base.BaseVector(i))
		require.Greater(t, d, float32(0))
		require.Less(t, float64(d), 2*ScaleNoise*ScaleNoise*float64(ds.Dim))
	}
	_, err = LoadDataset("fashion-mnist-784-euclidean-x1", nil)
	require.Error(t, err)
}
