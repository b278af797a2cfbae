package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/qlite/qlite/distance"
)

// GroundTruthK is how many exact neighbours are computed and cached per
// query, whatever k a run measures recall at.
const GroundTruthK = 100

// GroundTruth holds the exact nearest neighbours of a prefix of a query set.
type GroundTruth struct {
	// K is the number of neighbours per row.
	K int
	// IDs holds one row of K base ids per query, closest first; ties are
	// broken by lower id. Rows of queries with fewer than K candidates are
	// padded with -1.
	IDs []int32
}

// Rows returns the number of queries covered.
func (g *GroundTruth) Rows() int {
	if g.K == 0 {
		return 0
	}
	return len(g.IDs) / g.K
}

// Row returns the neighbours of query i.
func (g *GroundTruth) Row(i int) []int32 { return g.IDs[i*g.K : (i+1)*g.K : (i+1)*g.K] }

// Prefix returns the ground truth of the first rows queries, aliasing g.
func (g *GroundTruth) Prefix(rows int) *GroundTruth {
	return &GroundTruth{K: g.K, IDs: g.IDs[:rows*g.K]}
}

// neighbor is a candidate in an exact scan.
type neighbor struct {
	dist float32
	id   uint32
}

// worse reports whether a ranks after b: farther, or as far with a higher id.
func worse(a, b neighbor) bool {
	return a.dist > b.dist || (a.dist == b.dist && a.id > b.id)
}

// topK keeps the k best neighbours seen so far in a max-heap ordered by worse,
// so that the worst kept candidate sits at the root.
type topK struct {
	k int
	h []neighbor
}

func (t *topK) reset(k int) {
	t.k = k
	t.h = t.h[:0]
}

func (t *topK) push(d float32, id uint32) {
	n := neighbor{d, id}
	if len(t.h) < t.k {
		t.h = append(t.h, n)
		for i := len(t.h) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(t.h[i], t.h[p]) {
				break
			}
			t.h[i], t.h[p] = t.h[p], t.h[i]
			i = p
		}
		return
	}
	if !worse(t.h[0], n) {
		return
	}
	t.h[0] = n
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(t.h) && worse(t.h[l], t.h[m]) {
			m = l
		}
		if r < len(t.h) && worse(t.h[r], t.h[m]) {
			m = r
		}
		if m == i {
			break
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// ids writes the kept neighbours, closest first, into dst (len k), padding
// with -1.
func (t *topK) ids(dst []int32) {
	slices.SortFunc(t.h, func(a, b neighbor) int {
		if worse(a, b) {
			return 1
		}
		if worse(b, a) {
			return -1
		}
		return 0
	})
	for i := range dst {
		if i < len(t.h) {
			dst[i] = int32(t.h[i].id)
		} else {
			dst[i] = -1
		}
	}
}

// queryBlock is how many queries one worker scores against each chunk of
// base rows while the chunk is in cache.
const queryBlock = 16

// chunkBytes is the size of the chunk of base rows scored by one batch
// kernel call, small enough to stay in a core's L2 cache.
const chunkBytes = 256 << 10

// ExactKNN computes the exact k nearest base rows of every query row under m
// by brute force, on workers goroutines (all cores when workers <= 0). base
// and queries are flat row-major slices of dimension dim, already
// preprocessed for m. When accept is non-nil only the base rows it accepts
// are candidates. It returns ctx.Err() if ctx is cancelled.
func ExactKNN(ctx context.Context, m distance.Metric, base, queries []float32, dim, k, workers int, accept func(id uint32) bool) (*GroundTruth, error) {
	return exactScan(ctx, m, base, queries, dim, k, workers, nil, accept)
}

// ExactKNNSubset is ExactKNN over the base rows named by ids only, scored
// with the metric's gather kernel: the exact ground truth of a filtered
// search whose filter matches ids. Rows of queries with fewer than k
// candidates are padded with -1.
func ExactKNNSubset(ctx context.Context, m distance.Metric, base, queries []float32, dim, k, workers int, ids []uint32) (*GroundTruth, error) {
	if ids == nil {
		ids = []uint32{}
	}
	if dim > 0 {
		n := uint32(len(base) / dim)
		for _, id := range ids {
			if id >= n {
				return nil, fmt.Errorf("bench: exact knn: id %d outside the %d base rows", id, n)
			}
		}
	}
	return exactScan(ctx, m, base, queries, dim, k, workers, ids, nil)
}

// exactScan scores every query against the base rows ids (all rows when ids
// is nil) chunk by chunk, a block of queries per chunk while it is in cache.
func exactScan(ctx context.Context, m distance.Metric, base, queries []float32, dim, k, workers int, ids []uint32, accept func(id uint32) bool) (*GroundTruth, error) {
	if dim <= 0 || len(base)%dim != 0 || len(queries)%dim != 0 {
		return nil, fmt.Errorf("bench: exact knn: inconsistent dimension %d", dim)
	}
	n, nq := len(base)/dim, len(queries)/dim
	if ids != nil {
		n = len(ids)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	gt := &GroundTruth{K: k, IDs: make([]int32, nq*k)}
	chunk := max(1, chunkBytes/(4*dim))
	blocks := (nq + queryBlock - 1) / queryBlock
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, blocks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tops [queryBlock]topK
			dists := make([]float32, chunk)
			for ctx.Err() == nil {
				b := int(next.Add(1) - 1)
				if b >= blocks {
					return
				}
				lo, hi := b*queryBlock, min((b+1)*queryBlock, nq)
				qs := tops[:hi-lo]
				for j := range qs {
					qs[j].reset(k)
				}
				for c0 := 0; c0 < n; c0 += chunk {
					c1 := min(c0+chunk, n)
					var rows []float32
					var chunkIDs []uint32
					if ids == nil {
						rows = base[c0*dim : c1*dim]
					} else {
						chunkIDs = ids[c0:c1]
					}
					for j := range qs {
						q := queries[(lo+j)*dim : (lo+j+1)*dim]
						if ids == nil {
							m.Batch(dists, q, rows, dim)
						} else {
							m.Gather(dists, q, base, dim, chunkIDs)
						}
						t := &qs[j]
						for i, d := range dists[:c1-c0] {
							id := uint32(c0 + i)
							if ids != nil {
								id = chunkIDs[i]
							}
							if len(t.h) == t.k && d > t.h[0].dist {
								continue
							}
							if accept != nil && !accept(id) {
								continue
							}
							t.push(d, id)
						}
					}
				}
				for j := range qs {
					qs[j].ids(gt.Row(lo + j))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return gt, nil
}

// gtMeta describes a cached ground-truth file; it is stored next to it as
// JSON and must match the dataset for the cache to be used.
type gtMeta struct {
	Dataset string `json:"dataset"`
	Metric  string `json:"metric"`
	Points  int    `json:"points"`
	Queries int    `json:"queries"` // queries in the dataset
	Dims    int    `json:"dims"`
	K       int    `json:"k"`
	Rows    int    `json:"rows"` // queries covered by the file
	Hash    string `json:"data_sha256"`
	// Filter names the filtered workload of a filtered ground truth, and
	// FilterHash is filterCase.Hash: the filters, their matching ids and
	// each query's filter.
	Filter     string `json:"filter,omitempty"`
	FilterHash string `json:"filter_sha256,omitempty"`
}

// GroundTruthOptions tune Dataset.GroundTruth.
type GroundTruthOptions struct {
	// CacheDir is used when the dataset's own directory is not writable.
	// Default: os.UserCacheDir()/qlite.
	CacheDir string
	// Workers for the brute-force scan; all cores when <= 0.
	Workers int
	// Log receives progress lines; nil is quiet.
	Log io.Writer
}

// GroundTruth returns the exact GroundTruthK (or k, if larger) nearest
// neighbours of the first nq queries. Results are cached: next to the data
// when that directory is writable (groundtruth-<metric>-<k>.ivecs), otherwise
// under CacheDir keyed by dataset name, metric, sizes and Hash. A cache file
// is validated against a JSON sidecar (sizes, hash) and its own shape, and
// recomputed when stale; a cache covering fewer queries is extended. A
// ground-truth file shipped with an fvecs dataset is used when it agrees with
// a brute-force check of its first queries.
func (ds *Dataset) GroundTruth(ctx context.Context, nq, k int, opts *GroundTruthOptions) (*GroundTruth, error) {
	var o GroundTruthOptions
	if opts != nil {
		o = *opts
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	if nq <= 0 || nq > ds.NQ {
		nq = ds.NQ
	}
	k = max(k, GroundTruthK)
	k = min(k, ds.N)

	if gt := ds.shippedGroundTruth(ctx, nq, k, o.Workers); gt != nil {
		logf("ground truth: using %s", ds.shippedGT)
		return gt, nil
	}

	path, err := ds.gtCachePath(k, o.CacheDir, "")
	if err != nil {
		return nil, err
	}
	want := gtMeta{
		Dataset: ds.Name, Metric: metricName(ds.Metric), Points: ds.N, Queries: ds.NQ,
		Dims: ds.Dim, K: k, Hash: ds.Hash(),
	}
	cached, reason := loadCachedGT(path, want)
	if cached != nil && cached.Rows() >= nq {
		logf("ground truth: cached %s", path)
		return cached.Prefix(nq), nil
	}
	from := 0
	if cached != nil {
		from = cached.Rows()
		logf("ground truth: extending %s from %d to %d queries", path, from, nq)
	} else {
		logf("ground truth: %s; computing top-%d for %d queries over %d points", reason, k, nq, ds.N)
	}
	more, err := ExactKNN(ctx, ds.Metric, ds.Base, ds.Queries[from*ds.Dim:nq*ds.Dim], ds.Dim, k, o.Workers, nil)
	if err != nil {
		return nil, err
	}
	gt := more
	if cached != nil {
		gt = &GroundTruth{K: k, IDs: append(cached.IDs, more.IDs...)}
	}
	want.Rows = gt.Rows()
	if err := saveCachedGT(path, want, gt); err != nil {
		logf("ground truth: not cached: %v", err)
	}
	return gt, nil
}

func metricName(m distance.Metric) string { return strings.ToLower(m.String()) }

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// gtCachePath picks where the ground truth of ds lives; tag, when not
// empty, distinguishes a filtered ground truth.
func (ds *Dataset) gtCachePath(k int, cacheDir, tag string) (string, error) {
	if tag != "" {
		tag = "-" + tag
	}
	if ds.dir != "" && dirWritable(ds.dir) {
		name := fmt.Sprintf("groundtruth-%s-%d", metricName(ds.Metric), k)
		if ds.Partial {
			name += fmt.Sprintf("-n%d", ds.N)
		}
		return filepath.Join(ds.dir, name+tag+".ivecs"), nil
	}
	if cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("bench: no cache directory for ground truth: %w", err)
		}
		cacheDir = filepath.Join(d, "qlite")
	}
	dir := filepath.Join(cacheDir, "groundtruth")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := strings.Trim(unsafeChars.ReplaceAllString(ds.Name, "_"), "_")
	file := fmt.Sprintf("%s-%s-n%d-q%d-d%d-k%d-%s%s.ivecs", name, metricName(ds.Metric), ds.N, ds.NQ, ds.Dim, k, ds.Hash()[:16], tag)
	return filepath.Join(dir, file), nil
}

func dirWritable(dir string) bool {
	f, err := os.CreateTemp(dir, ".qlite-probe*")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return true
}

func metaPath(gtPath string) string { return strings.TrimSuffix(gtPath, ".ivecs") + ".json" }

// loadCachedGT returns the cached ground truth at path if it matches want
// (ignoring Rows), or nil and the reason it cannot be used.
func loadCachedGT(path string, want gtMeta) (*GroundTruth, string) {
	raw, err := os.ReadFile(metaPath(path))
	if err != nil {
		return nil, "no cache"
	}
	var got gtMeta
	if err := json.Unmarshal(raw, &got); err != nil {
		return nil, "cache metadata unreadable"
	}
	rows := got.Rows
	got.Rows = 0
	if got != want {
		return nil, "cache stale (data or parameters changed)"
	}
	ids, n, dim, err := ReadIvecs(path, 0)
	if err != nil || n != rows || dim != want.K {
		return nil, "cache file does not match its metadata"
	}
	for _, id := range ids {
		if id < -1 || int(id) >= want.Points {
			return nil, "cache file holds out-of-range ids"
		}
	}
	return &GroundTruth{K: dim, IDs: ids}, ""
}

func saveCachedGT(path string, meta gtMeta, gt *GroundTruth) error {
	if err := writeFileAtomic(path, func(w io.Writer) error { return WriteIvecs(w, gt.IDs, gt.K) }); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(metaPath(path), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	})
}

// shippedGroundTruth returns the dataset's own ground-truth file if it covers
// nq queries with k neighbours over the full base and agrees with an exact
// scan of its first queries under ds.Metric; nil otherwise.
func (ds *Dataset) shippedGroundTruth(ctx context.Context, nq, k, workers int) *GroundTruth {
	if ds.shippedGT == "" || ds.Partial {
		return nil
	}
	ids, n, width, err := ReadIvecs(ds.shippedGT, nq)
	if err != nil || n < nq || width < k {
		return nil
	}
	gt := &GroundTruth{K: width, IDs: ids}
	check := min(nq, 4)
	exact, err := ExactKNN(ctx, ds.Metric, ds.Base, ds.Queries[:check*ds.Dim], ds.Dim, k, workers, nil)
	if err != nil {
		return nil
	}
	dist := ds.Metric.Func()
	for i := range check {
		q := ds.Query(i)
		for j, id := range gt.Row(i)[:k] {
			if id < 0 || int(id) >= ds.N {
				return nil
			}
			// Compare distances rather than ids: ties may be ordered
			// differently by whoever produced the file.
			d := dist(q, ds.BaseVector(int(id)))
			e := dist(q, ds.BaseVector(int(exact.Row(i)[j])))
			if math.Abs(float64(d-e)) > 1e-4*math.Max(1, math.Abs(float64(e))) {
				return nil
			}
		}
	}
	if width == k {
		return gt
	}
	out := &GroundTruth{K: k, IDs: make([]int32, nq*k)}
	for i := range nq {
		copy(out.Row(i), gt.Row(i))
	}
	return out
}

// survivorGroundTruth derives the exact top-k over the base rows not marked
// deleted from the full ground truth: the survivors' order is the full order
// restricted to them, so their top-k is the first k survivors of each row.
// Rows that run out of survivors are recomputed by brute force.
func survivorGroundTruth(ctx context.Context, ds *Dataset, gt *GroundTruth, k, workers int, deleted []bool) (*GroundTruth, error) {
	nq := gt.Rows()
	out := &GroundTruth{K: k, IDs: make([]int32, nq*k)}
	var redo []int
	for i := range nq {
		dst := out.Row(i)
		j := 0
		for _, id := range gt.Row(i) {
			if id >= 0 && !deleted[id] {
				dst[j] = id
				j++
				if j == k {
					break
				}
			}
		}
		if j < k {
			redo = append(redo, i)
		}
	}
	if len(redo) == 0 {
		return out, nil
	}
	qs := make([]float32, 0, len(redo)*ds.Dim)
	for _, i := range redo {
		qs = append(qs, ds.Query(i)...)
	}
	exact, err := ExactKNN(ctx, ds.Metric, ds.Base, qs, ds.Dim, k, workers, func(id uint32) bool { return !deleted[id] })
	if err != nil {
		return nil, err
	}
	for j, i := range redo {
		copy(out.Row(i), exact.Row(j))
	}
	return out, nil
}

// filteredGroundTruth returns the exact GroundTruthK (or k, if larger)
// nearest neighbours of the first nq queries among the base points their
// filter in c matches, computed by ExactKNNSubset and cached like
// Dataset.GroundTruth, keyed also by c.Hash. Rows of queries whose filter
// matches fewer points are padded with -1.
func filteredGroundTruth(ctx context.Context, ds *Dataset, c *filterCase, nq, k int, o *GroundTruthOptions) (*GroundTruth, error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	if nq <= 0 || nq > ds.NQ {
		nq = ds.NQ
	}
	if len(c.QueryGroup) != ds.NQ || c.n != ds.N {
		panic(fmt.Sprintf("bench: BUG: filter case over %d points and %d queries, dataset %d and %d", c.n, len(c.QueryGroup), ds.N, ds.NQ))
	}
	k = min(max(k, GroundTruthK), ds.N)
	fh := c.Hash()
	path, err := ds.gtCachePath(k, o.CacheDir, "filter-"+fh[:16])
	if err != nil {
		return nil, err
	}
	want := gtMeta{
		Dataset: ds.Name, Metric: metricName(ds.Metric), Points: ds.N, Queries: ds.NQ,
		Dims: ds.Dim, K: k, Hash: ds.Hash(), Filter: c.Name, FilterHash: fh,
	}
	cached, reason := loadCachedGT(path, want)
	if cached != nil && cached.Rows() >= nq {
		logf("ground truth %s: cached %s", c.Name, path)
		return cached.Prefix(nq), nil
	}
	from := 0
	if cached != nil {
		from = cached.Rows()
		logf("ground truth %s: extending %s from %d to %d queries", c.Name, path, from, nq)
	} else {
		logf("ground truth %s: %s; computing top-%d for %d queries", c.Name, reason, k, nq)
	}
	gt := &GroundTruth{K: k, IDs: make([]int32, nq*k)}
	if cached != nil {
		copy(gt.IDs, cached.IDs)
	}
	for g, qs := range c.groupQueries(from, nq) {
		if len(qs) == 0 {
			continue
		}
		queries := make([]float32, 0, len(qs)*ds.Dim)
		for _, q := range qs {
			queries = append(queries, ds.Query(q)...)
		}
		part, err := ExactKNNSubset(ctx, ds.Metric, ds.Base, queries, ds.Dim, k, o.Workers, c.Groups[g].IDs)
		if err != nil {
			return nil, err
		}
		for j, q := range qs {
			copy(gt.Row(q), part.Row(j))
		}
	}
	want.Rows = gt.Rows()
	if err := saveCachedGT(path, want, gt); err != nil {
		logf("ground truth %s: not cached: %v", c.Name, err)
	}
	return gt, nil
}
