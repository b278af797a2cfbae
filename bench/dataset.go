package bench

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/qlite/qlite/distance"
)

// ErrNotInstalled reports that the files of a named dataset are missing.
var ErrNotInstalled = errors.New("bench: dataset not installed")

// DefaultFashionMNISTDir is where the Debian package dataset-fashion-mnist
// installs its files.
const DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// Dataset is a base set and a query set of equal dimension, with the metric
// they are compared under, held in memory as flat row-major slices. Base and
// Queries are already preprocessed for Metric (normalised for Cosine).
//
// A Dataset is immutable once loaded and safe for concurrent readers.
type Dataset struct {
	// Name identifies the dataset in results and cache keys, e.g.
	// "fashion-mnist-784-euclidean" or "fvecs:/data/sift".
	Name   string
	Metric distance.Metric
	Dim    int

	Base []float32 // N rows of Dim
	N    int

	Queries []float32 // NQ rows of Dim: every query the dataset ships
	NQ      int

	// BaseLabels and QueryLabels are the class labels of the base and
	// query rows when the dataset ships them (Fashion-MNIST's idx1 label
	// files), nil otherwise. They feed the generated payload's "class".
	BaseLabels, QueryLabels []uint8

	// Partial reports that Base holds only a prefix of the shipped base set
	// (LoadOptions.MaxPoints).
	Partial bool

	// dir is the directory the data came from; ground truth is cached
	// there when it is writable.
	dir string
	// shippedGT is a ground-truth file distributed with the data, or "".
	shippedGT string

	hashOnce sync.Once
	hash     string
}

// LoadOptions tune LoadDataset. The zero value loads everything.
type LoadOptions struct {
	// Metric overrides or supplies the metric. Named datasets carry their
	// metric in the name and reject a conflicting one; "fvecs:DIR" datasets
	// default to Euclid.
	Metric string
	// FashionMNISTDir is where the Fashion-MNIST idx files live. Default
	// DefaultFashionMNISTDir.
	FashionMNISTDir string
	// MaxPoints loads only the first MaxPoints base vectors (0: all).
	MaxPoints int
}

// DatasetNames lists the named datasets LoadDataset accepts, besides
// "fvecs:DIR" and the scaled sets "fashion-mnist-784-euclidean-xN".
var DatasetNames = []string{"fashion-mnist-784-euclidean", "fashion-mnist-784-angular"}

// ScaleNoise is the standard deviation of the Gaussian noise added to each
// pixel of the copies of a scaled dataset
// ("fashion-mnist-784-euclidean-xN"), on Fashion-MNIST's 0..255 scale.
const ScaleNoise = 8.0

// LoadDataset loads a dataset by name:
//
//   - "fashion-mnist-784-euclidean": the 60000 training images of
//     Fashion-MNIST as base, the 10000 test images as queries, 784 float32
//     components each in 0..255, Euclid.
//   - "fashion-mnist-784-angular": the same data under Cosine.
//   - "fvecs:DIR": a TEXMEX-layout directory with base.fvecs (or
//     *_base.fvecs, or .bvecs) and query.fvecs, optionally
//     groundtruth.ivecs; the metric comes from opts.Metric (default Euclid).
//   - "fashion-mnist-784-euclidean-xN", N from 2 to 64: a base N times
//     larger than Fashion-MNIST's, generated from it (see scale); the
//     queries are Fashion-MNIST's.
func LoadDataset(name string, opts *LoadOptions) (*Dataset, error) {
	if base, n, ok := scaledName(name); ok {
		return loadScaled(name, base, n, opts)
	}
	var o LoadOptions
	if opts != nil {
		o = *opts
	}
	if o.FashionMNISTDir == "" {
		o.FashionMNISTDir = DefaultFashionMNISTDir
	}
	var metric distance.Metric
	if o.Metric != "" {
		m, err := distance.ParseMetric(o.Metric)
		if err != nil {
			return nil, err
		}
		metric = m
	}

	var ds *Dataset
	var err error
	switch {
	case strings.HasPrefix(name, "fvecs:"):
		if metric == 0 {
			metric = distance.Euclid
		}
		ds, err = loadTexmex(name, strings.TrimPrefix(name, "fvecs:"), metric, o.MaxPoints)
	case name == "fashion-mnist-784-euclidean" || name == "fashion-mnist-784-angular":
		want := distance.Euclid
		if strings.HasSuffix(name, "angular") {
			want = distance.Cosine
		}
		if metric != 0 && metric != want {
			return nil, fmt.Errorf("bench: dataset %s is %v, not %v", name, want, metric)
		}
		ds, err = loadFashionMNIST(name, o.FashionMNISTDir, want, o.MaxPoints)
	default:
		return nil, fmt.Errorf("bench: unknown dataset %q (known: %s, fvecs:DIR)", name, strings.Join(DatasetNames, ", "))
	}
	if err != nil {
		return nil, err
	}
	ds.preprocess()
	return ds, nil
}

// scaledName splits "NAME-xN" of a Fashion-MNIST NAME.
func scaledName(name string) (base string, n int, ok bool) {
	const prefix = "fashion-mnist-784-euclidean-x"
	if !strings.HasPrefix(name, prefix) {
		return "", 0, false
	}
	i := len(prefix) - 2
	n, err := strconv.Atoi(name[i+2:])
	if err != nil || n < 2 || n > 64 {
		return "", 0, false
	}
	return name[:i], n, true
}

// loadScaled loads base (without a point limit) and scales it n times. The
// point limit applies to the scaled set.
func loadScaled(name, base string, n int, opts *LoadOptions) (*Dataset, error) {
	var o LoadOptions
	if opts != nil {
		o = *opts
	}
	limit := o.MaxPoints
	o.MaxPoints = 0
	ds, err := LoadDataset(base, &o)
	if err != nil {
		return nil, err
	}
	ds.scale(name, n, limit)
	return ds, nil
}

// scale replaces the base with n copies of it, deterministically: copy 0
// is the base itself; in copy c >= 1, row i is base row i plus Gaussian
// noise of standard deviation ScaleNoise per component, drawn from a PCG
// seeded with (c, i), clamped to the 0..255 pixel range. Labels are
// repeated. limit > 0 keeps only the first limit rows.
func (ds *Dataset) scale(name string, n, limit int) {
	rows := n * ds.N
	if limit > 0 && limit < rows {
		rows = limit
	}
	out := make([]float32, rows*ds.Dim)
	copy(out, ds.Base[:min(len(ds.Base), len(out))])
	parallelRows(rows, func(r int) {
		if r < ds.N {
			return
		}
		c, i := r/ds.N, r%ds.N
		rng := rand.New(rand.NewPCG(uint64(c), uint64(i)))
		src := ds.Base[i*ds.Dim : (i+1)*ds.Dim]
		dst := out[r*ds.Dim : (r+1)*ds.Dim]
		for j, x := range src {
			dst[j] = min(255, max(0, x+ScaleNoise*float32(rng.NormFloat64())))
		}
	})
	if ds.BaseLabels != nil {
		labels := make([]uint8, rows)
		for r := range labels {
			labels[r] = ds.BaseLabels[r%ds.N]
		}
		ds.BaseLabels = labels
	}
	ds.Name, ds.Base, ds.N = name, out, rows
	ds.Partial = limit > 0 && rows == limit
}

func loadFashionMNIST(name, dir string, metric distance.Metric, maxPoints int) (*Dataset, error) {
	train, err := findFile(dir, "train-images-idx3-ubyte")
	if err != nil {
		return nil, fmt.Errorf("%w: fashion-mnist (%v): apt-get install dataset-fashion-mnist", ErrNotInstalled, err)
	}
	test, err := findFile(dir, "t10k-images-idx3-ubyte")
	if err != nil {
		return nil, fmt.Errorf("%w: fashion-mnist (%v): apt-get install dataset-fashion-mnist", ErrNotInstalled, err)
	}
	ds := &Dataset{Name: name, Metric: metric}
	var dim int
	if ds.Base, ds.N, ds.Dim, err = ReadIDXImages(train, maxPoints); err != nil {
		return nil, err
	}
	if ds.Queries, ds.NQ, dim, err = ReadIDXImages(test, 0); err != nil {
		return nil, err
	}
	if dim != ds.Dim {
		return nil, fmt.Errorf("bench: %s: queries have %d dimensions, base %d", name, dim, ds.Dim)
	}
	ds.Partial = maxPoints > 0 && ds.N == maxPoints
	// Labels are optional: only filtered runs use them.
	if ds.BaseLabels, err = readLabels(dir, "train-labels-idx1-ubyte", ds.N); err != nil {
		return nil, err
	}
	if ds.QueryLabels, err = readLabels(dir, "t10k-labels-idx1-ubyte", ds.NQ); err != nil {
		return nil, err
	}
	if ds.BaseLabels == nil || ds.QueryLabels == nil {
		ds.BaseLabels, ds.QueryLabels = nil, nil
	}
	// The files belong to a system package: ground truth always goes to the
	// user cache, never next to them, even when the directory is writable.
	return ds, nil
}

// readLabels reads the first n labels of dir/name[.gz]; nil when the file
// does not exist, an error when it holds fewer than n labels.
func readLabels(dir, name string, n int) ([]uint8, error) {
	path, err := findFile(dir, name)
	if err != nil {
		return nil, nil
	}
	labels, err := ReadIDXLabels(path, n)
	if err != nil {
		return nil, err
	}
	if len(labels) != n {
		return nil, fmt.Errorf("bench: %s: %d labels for %d images", path, len(labels), n)
	}
	return labels, nil
}

// findFile returns dir/name or dir/name.gz, whichever exists.
func findFile(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, name+".gz")} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no %s[.gz] in %s", name, dir)
}

// findVecs returns the single file in dir named role.ext or *_role.ext (or
// *role.ext), trying the extensions in order; "" when there is none.
func findVecs(dir, role string, exts ...string) (string, error) {
	for _, ext := range exts {
		for _, pat := range []string{role + ext, "*_" + role + ext, "*" + role + ext} {
			m, err := filepath.Glob(filepath.Join(dir, pat))
			if err != nil {
				return "", err
			}
			if len(m) == 1 {
				return m[0], nil
			}
			if len(m) > 1 {
				return "", fmt.Errorf("bench: %s: several %s files: %s", dir, role, strings.Join(m, ", "))
			}
		}
	}
	return "", nil
}

func readVectors(path string, limit int) ([]float32, int, int, error) {
	p := strings.TrimSuffix(path, ".gz")
	if strings.HasSuffix(p, ".bvecs") {
		return ReadBvecs(path, limit)
	}
	return ReadFvecs(path, limit)
}

func loadTexmex(name, dir string, metric distance.Metric, maxPoints int) (*Dataset, error) {
	if dir == "" {
		return nil, fmt.Errorf("bench: dataset %q: want fvecs:DIR", name)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s: no such directory", ErrNotInstalled, dir)
	}
	exts := []string{".fvecs", ".fvecs.gz", ".bvecs", ".bvecs.gz"}
	basePath, err := findVecs(dir, "base", exts...)
	if err != nil {
		return nil, err
	}
	queryPath, err := findVecs(dir, "query", exts...)
	if err != nil {
		return nil, err
	}
	if basePath == "" || queryPath == "" {
		return nil, fmt.Errorf("%w: %s must hold base.fvecs and query.fvecs (or *_base / *_query, .fvecs or .bvecs)", ErrNotInstalled, dir)
	}
	gtPath, err := findVecs(dir, "groundtruth", ".ivecs")
	if err != nil {
		return nil, err
	}
	ds := &Dataset{Name: name, Metric: metric, dir: dir, shippedGT: gtPath}
	var dim int
	if ds.Base, ds.N, ds.Dim, err = readVectors(basePath, maxPoints); err != nil {
		return nil, err
	}
	if ds.Queries, ds.NQ, dim, err = readVectors(queryPath, 0); err != nil {
		return nil, err
	}
	if dim != ds.Dim {
		return nil, fmt.Errorf("bench: %s: query vectors have %d dimensions, base vectors %d", dir, dim, ds.Dim)
	}
	ds.Partial = maxPoints > 0 && ds.N == maxPoints
	return ds, nil
}

// preprocess prepares base and queries for the metric, in place.
func (ds *Dataset) preprocess() {
	if !ds.Metric.NeedsNormalize() {
		return
	}
	parallelRows(ds.N, func(i int) {
		v := ds.Base[i*ds.Dim : (i+1)*ds.Dim]
		ds.Metric.Preprocess(v, v)
	})
	for i := range ds.NQ {
		v := ds.Queries[i*ds.Dim : (i+1)*ds.Dim]
		ds.Metric.Preprocess(v, v)
	}
}

// BaseVector returns base vector i (aliasing the dataset).
func (ds *Dataset) BaseVector(i int) []float32 {
	return ds.Base[i*ds.Dim : (i+1)*ds.Dim : (i+1)*ds.Dim]
}

// Query returns query i (aliasing the dataset).
func (ds *Dataset) Query(i int) []float32 { return ds.Queries[i*ds.Dim : (i+1)*ds.Dim : (i+1)*ds.Dim] }

// Hash returns a hex SHA-256 over the dimensions, metric and contents of base
// and queries, computed once. It keys cached ground truth.
func (ds *Dataset) Hash() string {
	ds.hashOnce.Do(func() {
		h := sha256.New()
		var hdr [16]byte
		binary.LittleEndian.PutUint32(hdr[0:], uint32(ds.N))
		binary.LittleEndian.PutUint32(hdr[4:], uint32(ds.NQ))
		binary.LittleEndian.PutUint32(hdr[8:], uint32(ds.Dim))
		binary.LittleEndian.PutUint32(hdr[12:], uint32(ds.Metric))
		h.Write(hdr[:])
		h.Write(float32Bytes(ds.Base))
		h.Write(float32Bytes(ds.Queries))
		ds.hash = hex.EncodeToString(h.Sum(nil))
	})
	return ds.hash
}

// float32Bytes views v as its in-memory bytes (little-endian on every
// platform Go supports for this module's targets). Used only for hashing.
func float32Bytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*4)
}

// parallelRows calls fn(i) for i in [0, n) on all cores.
func parallelRows(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n/1024, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				fn(i)
			}
		}()
	}
	wg.Wait()
}
