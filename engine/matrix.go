package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/segment"
)

// Search matrix defaults (Qdrant's).
const (
	defaultMatrixSample = 10
	defaultMatrixLimit  = 3
)

// MatrixRequest asks for the distance matrix of a random sample of points.
type MatrixRequest struct {
	// Filter, when set, restricts the sample to the points it matches.
	Filter *filter.Filter
	// Sample is the number of points to sample, default 10, at least 2.
	Sample int
	// Limit is the number of neighbours per sampled point, default 3.
	Limit int
	// Using names the vector space ("" the default).
	Using string
}

// MatrixPair is a sampled point A and one of its nearest sampled points B,
// with B's score for A in the metric's convention.
type MatrixPair struct {
	A, B  PointID
	Score float32
}

// Matrix is the result of a search matrix.
type Matrix struct {
	// IDs are the sampled points, in ascending id order.
	IDs []PointID
	// Pairs hold, for each sampled point in IDs order, its Limit nearest
	// other sampled points, nearest first (ties by ascending id).
	Pairs []MatrixPair
}

// SearchMatrix samples up to req.Sample points uniformly at random among
// those that match the filter and have the vector, and finds for each its
// req.Limit nearest among the others of the sample (exactly: every pair is
// scored). Scores follow the metric's convention: similarity for Cosine and
// Dot, distance for Euclid and Manhattan. When fewer than two points can be
// sampled, the matrix is empty, as in Qdrant.
func (db *DB) SearchMatrix(ctx context.Context, coll string, req *MatrixRequest) (_ *Matrix, err error) {
	ctx, op := db.tel.start(ctx, opSearchMatrix, coll)
	defer func() { op.end(err, -1) }()
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	var r MatrixRequest
	if req != nil {
		r = *req
	}
	if err := r.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}
	if err := c.admit(ctx, r.strictCheck()); err != nil {
		return nil, err
	}
	if r.Sample == 0 {
		r.Sample = defaultMatrixSample
	}
	if r.Limit == 0 {
		r.Limit = defaultMatrixLimit
	}
	if r.Sample < 2 {
		return nil, fmt.Errorf("%w: sample: must be at least 2", ErrBadRequest)
	}
	if r.Limit < 1 {
		return nil, fmt.Errorf("%w: limit: must be at least 1", ErrBadRequest)
	}
	vp, sparse, err := c.spaceParams(r.Using)
	if err != nil {
		// Qdrant's message for the search matrix (its sampling query
		// checks the name first).
		return nil, fmt.Errorf("%w: Vector with name %s is not configured in this collection", ErrBadRequest, r.Using)
	}
	if err := r.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrBadRequest, err)
	}

	// A point's vector, and (sparse) the same as a query: IDF-weighted when
	// the vector's modifier asks.
	type point struct {
		id     PointID
		vec, q qvec
	}
	c.rw.RLock()
	picked, err := c.sampleSlots(ctx, r.Filter, func(seg *segment.Segment, off uint32) bool {
		_, ok := slotVec(seg, r.Using, sparse, off)
		return ok
	}, r.Sample)
	var pts []point
	if err == nil {
		pts = make([]point, len(picked))
		for i, s := range picked {
			id, _ := s.seg.PointAt(s.off)
			v, _ := slotVec(s.seg, r.Using, sparse, s.off)
			pts[i] = point{id: id, vec: v.clone(), q: v.clone()}
			if sparse {
				c.weighLocked(r.Using, pts[i].q.s)
			}
		}
	}
	c.rw.RUnlock()
	if err != nil {
		return nil, err
	}
	out := &Matrix{IDs: []PointID{}, Pairs: []MatrixPair{}}
	if len(pts) < 2 {
		return out, nil
	}
	slices.SortFunc(pts, func(a, b point) int { return a.id.Compare(b.id) })

	m := vp.Distance
	c.hw.cpu.Add(int64(len(pts)) * int64(len(pts)-1) * int64(max(vp.Size, 1)))
	type near struct {
		j     int
		score float32
	}
	row := make([]near, 0, len(pts)-1)
	for i, a := range pts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out.IDs = append(out.IDs, a.id)
		row = row[:0]
		for j, b := range pts {
			if j != i {
				// Qdrant runs a search per sampled point, whose scores
				// are its kernels' sums (lib/collection/src/collection/
				// distance_matrix.rs); QdrantScore sums in the same order.
				if vp.IsMulti() {
					row = append(row, near{j, m.Score(multiMaxSim(vp, a.vec.d, b.vec.d))})
				} else if !sparse {
					row = append(row, near{j, m.QdrantScore(a.vec.d, b.vec.d)})
				} else if s, shared := segment.SparseDot(a.q.s, b.vec.s); shared {
					// As a sparse search, which skips points sharing no
					// index with the query.
					row = append(row, near{j, s})
				}
			}
		}
		slices.SortFunc(row, func(x, y near) int {
			switch {
			case m.BetterScore(x.score, y.score):
				return -1
			case m.BetterScore(y.score, x.score):
				return 1
			}
			return x.j - y.j // pts are in id order
		})
		for _, nb := range row[:min(len(row), r.Limit)] {
			out.Pairs = append(out.Pairs, MatrixPair{A: a.id, B: pts[nb.j].id, Score: nb.score})
		}
	}
	return out, nil
}

// multiMaxSim is MaxSim of the stored multivectors q and doc of vp, scored
// as the segments score them: on the bytes for uint8 (whose Cosine vectors
// are unnormalised).
func multiMaxSim(vp VectorParams, q, doc []float32) float32 {
	m, dim := vp.Distance, int(vp.Size)
	if vp.elementType() != segment.Uint8 {
		return m.MaxSim(q, doc, dim)
	}
	qb, db := make([]byte, len(q)), make([]byte, len(doc))
	distance.U8FromF32(qb, q)
	distance.U8FromF32(db, doc)
	return m.MaxSimU8(qb, db, dim)
}
