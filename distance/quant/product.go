package quant

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/qlite/qlite/distance"
)

// Compression is a product quantisation ratio: the bytes of a float32
// vector over the bytes of its code.
type Compression uint8

// The ratios Qdrant offers ("x4" ... "x64"). Each maps to a sub-vector of
// Compression/4 dimensions replaced by one byte, as Qdrant maps them.
const (
	X4  Compression = 4
	X8  Compression = 8
	X16 Compression = 16
	X32 Compression = 32
	X64 Compression = 64
)

// ParseCompression parses Qdrant's names "x4" ... "x64".
func ParseCompression(s string) (Compression, error) {
	for _, c := range []Compression{X4, X8, X16, X32, X64} {
		if s == fmt.Sprintf("x%d", c) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown compression %q", ErrBadOptions, s)
}

// SubDim returns the sub-vector size: 1, 2, 4, 8, 16 dimensions.
func (c Compression) SubDim() int { return int(c) / 4 }

// Centroids is the number of centroids per sub-vector: one code byte.
const Centroids = 256

// ProductOptions configures product quantisation.
type ProductOptions struct {
	Compression Compression
	// SampleSize is the number of vectors k-means trains on. Default
	// 10000 (Qdrant's).
	SampleSize int
	// MaxIterations caps the k-means iterations per sub-vector. Default 100
	// (Qdrant's).
	MaxIterations int
	// Tolerance stops k-means once no centroid moves farther than this
	// (L-infinity). Default 1e-5 (Qdrant's accuracy).
	Tolerance float32
	// Seed seeds the sample and the initial centroids. Default 0.
	Seed uint64
	// Workers is the number of goroutines that train sub-vectors' codebooks
	// at once. Default 1. The codebooks do not depend on it: each
	// sub-vector draws from a generator of its own, seeded from Seed.
	Workers int
}

// Product splits a vector into sub-vectors of SubDim dimensions (the last
// one shorter when SubDim does not divide Dim), and replaces each by the
// index of its nearest (L2) centroid among 256 trained by k-means on a
// sample, as Qdrant's product quantisation does. A row is one byte per
// sub-vector. A query is prepared as a lookup table: for each sub-vector
// and centroid, the metric's contribution (-dot, squared L2 or L1) of that
// centroid against the query's sub-vector; a row's distance is the sum of
// its entries (distance.PQGather), plus 1 for Cosine and Dot.
type Product struct {
	dim    int
	sub    int
	m      int // sub-vectors
	metric distance.Metric
	// cents holds, for sub-vector j, 256 centroids of width w_j contiguous:
	// cents[base_j + c*w_j : base_j + (c+1)*w_j], base_j = 256*j*sub.
	cents []float32
	// cols is cents column-major per sub-vector: element d of centroid c of
	// sub-vector j at cols[base_j + d*256 + c], so that a query's lookup
	// table is built one column of 256 at a time (distance.LUTTerms).
	cols []float32
}

// transpose fills p.cols from p.cents.
func (p *Product) transpose() {
	p.cols = make([]float32, len(p.cents))
	for j := range p.m {
		base, w := Centroids*j*p.sub, p.width(j)
		for c := range Centroids {
			for d := range w {
				p.cols[base+d*Centroids+c] = p.cents[base+c*w+d]
			}
		}
	}
}

// TrainProduct trains the codebooks on a sample of v.
func TrainProduct(v Vectors, metric distance.Metric, dim int, o ProductOptions) (*Product, error) {
	if err := checkVectors(v, dim); err != nil {
		return nil, err
	}
	if err := checkMetric(metric); err != nil {
		return nil, err
	}
	switch o.Compression {
	case X4, X8, X16, X32, X64:
	default:
		return nil, fmt.Errorf("%w: compression %d", ErrBadOptions, o.Compression)
	}
	if o.SampleSize == 0 {
		o.SampleSize = 10000
	}
	if o.MaxIterations == 0 {
		o.MaxIterations = 100
	}
	if o.Tolerance == 0 {
		o.Tolerance = 1e-5
	}
	p := &Product{dim: dim, sub: o.Compression.SubDim(), metric: metric}
	p.m = (dim + p.sub - 1) / p.sub
	p.cents = make([]float32, Centroids*dim)
	idx := sampleIndexes(rand.New(rand.NewPCG(o.Seed, 0x9e3779b9)), v.Len(), o.SampleSize)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(o.Workers, p.m)) {
		wg.Go(func() {
			var data []float32
			for j := int(next.Add(1) - 1); j < p.m; j = int(next.Add(1) - 1) {
				lo, w := j*p.sub, p.width(j)
				data = data[:0]
				for _, i := range idx {
					data = append(data, v.At(i)[lo:lo+w]...)
				}
				r := rand.New(rand.NewPCG(o.Seed, 0x9e3779b9^uint64(j+1)<<32))
				kmeans(p.centroids(j), data, w, o.MaxIterations, o.Tolerance, r)
			}
		})
	}
	wg.Wait()
	p.transpose()
	return p, nil
}

// width returns the size of sub-vector j.
func (p *Product) width(j int) int { return min(p.sub, p.dim-j*p.sub) }

// centroids returns the 256 centroids of sub-vector j, row-major.
func (p *Product) centroids(j int) []float32 {
	base := Centroids * j * p.sub
	return p.cents[base : base+Centroids*p.width(j)]
}

// kmeans fills cents (k rows of width w) with k-means centroids of data.
// With no more points than centroids, the points are the centroids (the rest
// zero), as Qdrant does. Otherwise the centroids start at k distinct random
// points and Lloyd iterations run until none moves more than tol or iters
// are spent; an emptied cluster restarts at a random point.
func kmeans(cents, data []float32, w, iters int, tol float32, r *rand.Rand) {
	n := len(data) / w
	k := len(cents) / w
	clear(cents)
	if n <= k {
		copy(cents, data)
		return
	}
	for c, i := range sampleIndexes(r, n, k) {
		copy(cents[c*w:(c+1)*w], data[i*w:(i+1)*w])
	}
	sums := make([]float64, k*w)
	counts := make([]int, k)
	assign := make([]uint8, n)
	for range iters {
		clear(sums)
		clear(counts)
		for i := range n {
			x := data[i*w : (i+1)*w]
			c := nearest(cents, x, w)
			assign[i] = uint8(c)
			counts[c]++
			for d, xv := range x {
				sums[c*w+d] += float64(xv)
			}
		}
		var moved float32
		for c := range k {
			cc := cents[c*w : (c+1)*w]
			if counts[c] == 0 {
				copy(cc, data[r.IntN(n)*w:][:w])
				moved = float32(math.Inf(1))
				continue
			}
			for d := range cc {
				nv := float32(sums[c*w+d] / float64(counts[c]))
				moved = max(moved, float32(math.Abs(float64(nv-cc[d]))))
				cc[d] = nv
			}
		}
		if moved <= tol {
			break
		}
	}
}

// nearest returns the index of the centroid closest (L2) to x.
func nearest(cents, x []float32, w int) int {
	best, bestD := 0, float32(math.Inf(1))
	if w >= 16 {
		for c := range len(cents) / w {
			if d := distance.SquaredL2(x, cents[c*w:(c+1)*w]); d < bestD {
				best, bestD = c, d
			}
		}
		return best
	}
	// Short sub-vectors: inline, a call per centroid would cost more than
	// the arithmetic.
	for c := range len(cents) / w {
		cv := cents[c*w : (c+1)*w : (c+1)*w]
		var d float32
		for i, xv := range x[:len(cv)] {
			t := xv - cv[i]
			d += t * t
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func (p *Product) Kind() Kind              { return KindProduct }
func (p *Product) Dim() int                { return p.dim }
func (p *Product) Metric() distance.Metric { return p.metric }

// RowSize is one byte per sub-vector: ⌈Dim/SubDim⌉.
func (p *Product) RowSize() int { return p.m }

// Encode writes the nearest centroid of each sub-vector of v into row.
func (p *Product) Encode(row []byte, v []float32) {
	row = row[:p.m]
	for j := range p.m {
		lo, w := j*p.sub, p.width(j)
		row[j] = byte(nearest(p.centroids(j), v[lo:lo+w], w))
	}
}

// PrepareQuery builds q's lookup table.
func (p *Product) PrepareQuery(dst *Query, q []float32) *Query {
	dst.kind = KindProduct
	dst.lut = slices.Grow(dst.lut[:0], p.m*Centroids)[:p.m*Centroids]
	clear(dst.lut)
	for j := range p.m {
		lo, w := j*p.sub, p.width(j)
		t := dst.lut[j*Centroids : (j+1)*Centroids]
		base := Centroids * j * p.sub
		for d, x := range q[lo : lo+w] {
			distance.LUTTerms(p.metric, t, p.cols[base+d*Centroids:base+(d+1)*Centroids], x)
		}
	}
	return dst
}

// Distances sums each row's lookup-table entries (see Product).
func (p *Product) Distances(dst []float32, q *Query, rows []byte, ids []uint32) {
	checkRows(dst, rows, p.m, ids)
	distance.PQGather(dst, q.lut, rows, p.m, ids)
	if p.metric == distance.Cosine || p.metric == distance.Dot {
		for i := range ids {
			dst[i]++
		}
	}
}
