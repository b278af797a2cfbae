package engine

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/segment"
)

// MMR re-ranks the points nearest to Query.Nearest by maximal marginal
// relevance, as Qdrant does: the CandidatesLimit nearest points (those that
// pass the filter and score threshold) are the candidates; the most relevant
// one is selected first, then, until Limit are selected, the candidate with
// the best (1-Diversity)*relevance - Diversity*(its highest similarity to a
// selected point). Relevance and similarity are the metric's raw
// similarities (see similarity), the dot product for sparse vectors. The
// selected points keep their nearest-search scores, in selection order.
//
// As in Qdrant, Limit points are selected and Offset of them then skipped,
// so a request with an offset returns Limit-Offset points at most.
type MMR struct {
	// Diversity, in [0, 1]: 0 ranks by relevance alone, 1 by dissimilarity
	// to the points already selected alone. Qdrant's default is 0.5.
	Diversity float32
	// CandidatesLimit is how many nearest points are re-ranked (at most
	// MaxMMRCandidates); nil means the request's limit.
	CandidatesLimit *int
}

// MaxMMRCandidates is the largest MMR.CandidatesLimit, Qdrant's.
const MaxMMRCandidates = 16384

// DefaultMMRDiversity is Qdrant's diversity when none is given.
const DefaultMMRDiversity = 0.5

// validate checks m as Qdrant's request validation does.
func (m *MMR) validate() error {
	d := m.Diversity
	if !(d >= 0 && d <= 1) {
		return &ValidationError{Path: "query.mmr.diversity",
			Msg: fmt.Sprintf("value %s invalid, must be from 0.0 to 1.0", cfgRustFloat(float64(d)))}
	}
	if cl := m.CandidatesLimit; cl != nil && (*cl < 0 || *cl > MaxMMRCandidates) {
		if *cl < 0 {
			return &ValidationError{Path: "query.mmr.candidates_limit", Msg: fmt.Sprintf("value %d invalid, must be 0 or larger", *cl)}
		}
		return &ValidationError{Path: "query.mmr.candidates_limit",
			Msg: fmt.Sprintf("value %d invalid, must be %d or smaller", *cl, MaxMMRCandidates)}
	}
	return nil
}

// candidates returns how many candidates m re-ranks for a request limit.
func (m *MMR) candidates(limit int) int {
	if m.CandidatesLimit != nil {
		return *m.CandidatesLimit
	}
	return limit
}

// queryMMR serves Query.Nearest with MMR (no prefetch): the candidates
// come from one nearest search, with the request's filter and score
// threshold; their vectors of r.Using are read with them.
func (db *DB) queryMMR(ctx context.Context, c *collection, r *QueryRequest, q qvec, exclude map[PointID]bool, m distance.Metric, st *SearchStats) ([]ScoredPoint, error) {
	mmr := r.Query.MMR
	if err := mmr.validate(); err != nil {
		return nil, err
	}
	if err := checkPage(r.Limit, r.Offset); err != nil {
		return nil, err
	}
	n := mmr.candidates(r.Limit)
	if n == 0 {
		return []ScoredPoint{}, nil
	}
	wv, strip := withVector(r.WithVectors, r.Using)
	cands, err := c.search(ctx, nil, &SearchRequest{
		Vector: q.d, Sparse: q.sparseQuery(), Using: r.Using, Filter: r.Filter, Limit: n,
		ScoreThreshold: r.ScoreThreshold, HnswEf: r.HnswEf, Exact: r.Exact, Quant: r.Quant,
		WithPayload: r.WithPayload, WithVectors: wv,
	}, exclude, st)
	if err != nil {
		return nil, err
	}
	res := mmrPoints(m, q, cands, r.Using, mmr.Diversity, r.Limit)
	if strip {
		for i := range res {
			dropVector(&res[i].Record, r.Using, len(r.WithVectors.Names) > 0)
		}
	}
	if r.Offset >= len(res) {
		return []ScoredPoint{}, nil
	}
	return res[r.Offset:], nil
}

// withVector returns sel with the vector using added, and whether using
// was added (and is to be dropped from the answer).
func withVector(sel VectorSelector, using string) (VectorSelector, bool) {
	switch {
	case sel.Enable && len(sel.Names) == 0:
		return sel, false
	case slices.Contains(sel.Names, using):
		return sel, false
	}
	return VectorSelector{Enable: true, Names: append(slices.Clone(sel.Names), using)}, true
}

// dropVector removes the vector using from rec; keepOthers says whether
// other vectors were asked for (else rec is left with none).
func dropVector(rec *Record, using string, keepOthers bool) {
	if !keepOthers {
		rec.Vectors, rec.Sparse, rec.Multi = nil, nil, nil
		return
	}
	delete(rec.Vectors, using)
	delete(rec.Sparse, using)
	delete(rec.Multi, using)
}

// candidateVec returns the vector using of a candidate, of the kind of q,
// and whether it has one.
func candidateVec(p *ScoredPoint, using string, q qvec) (qvec, bool) {
	switch {
	case q.d == nil:
		v, ok := p.Sparse[using]
		return qvec{s: segment.SparseVector(v)}, ok
	case q.dim > 0:
		m, ok := p.Multi[using]
		if !ok || len(m) == 0 {
			return qvec{}, false
		}
		return qvec{d: slices.Concat(m...), dim: q.dim}, true
	}
	v, ok := p.Vectors[using]
	return qvec{d: v}, ok && v != nil
}

// mmrPoints re-ranks the candidates (each carrying its vector using) by
// maximal marginal relevance to q and returns the limit selected, in
// selection order, with their scores. Candidates without the vector are
// left out, as in Qdrant; fewer than two come back as they are.
func mmrPoints(m distance.Metric, q qvec, cands []ScoredPoint, using string, diversity float32, limit int) []ScoredPoint {
	kept := cands[:0:0]
	vecs := make([]qvec, 0, len(cands))
	seen := make(map[PointID]bool, len(cands))
	for i := range cands {
		v, ok := candidateVec(&cands[i], using, q)
		if !ok || seen[cands[i].ID] {
			continue
		}
		seen[cands[i].ID] = true
		kept = append(kept, cands[i])
		vecs = append(vecs, v)
	}
	if len(kept) < 2 {
		return kept
	}
	sel := mmrSelect(m, q, vecs, diversity, limit, nil)
	out := make([]ScoredPoint, len(sel))
	for i, j := range sel {
		out[i] = kept[j]
	}
	return out
}

// mmrScratch is the working memory of mmrSelect, reusable between calls.
type mmrScratch struct {
	base      []float32 // dense candidates, row-major
	rel, most []float32 // relevance; highest similarity to a selected one
	row       []float32 // similarities to the last one selected
	remaining []int
	selected  []int
}

// mmrSelect returns the indexes of the min(limit, len(vecs)) candidates
// maximal marginal relevance selects, in selection order. lambda =
// 1-diversity weighs relevance; ties go to the candidate Qdrant picks (the
// last best in its order of remaining candidates, where a selected one is
// replaced by the last remaining). Each selection costs one pass of the
// metric's batch kernel over the candidates: a candidate's highest
// similarity to the selected ones is kept up to date as each is selected,
// so only limit*len(vecs) similarities are computed, not all pairs. s, when
// not nil, is reused.
func mmrSelect(m distance.Metric, q qvec, vecs []qvec, diversity float32, limit int, s *mmrScratch) []int {
	n := len(vecs)
	if s == nil {
		s = &mmrScratch{}
	}
	limit = min(limit, n)
	if limit <= 0 {
		return []int{}
	}
	lambda := 1 - diversity
	w := 1 - lambda
	s.rel = growF(s.rel, n)
	s.most = growF(s.most, n)
	s.row = growF(s.row, n)
	s.remaining = s.remaining[:0]
	for i := range n {
		s.remaining = append(s.remaining, i)
	}
	s.selected = s.selected[:0]
	// Plain dense vectors go through the batch kernels; sparse vectors and
	// multivectors (whose MaxSim is not symmetric: a candidate is the
	// query of its similarity to a selected point, as in Qdrant) one pair
	// at a time.
	dense := q.d != nil && q.dim == 0
	dim := len(q.d)
	if dense {
		s.base = growF(s.base, n*dim)
		for i, v := range vecs {
			copy(s.base[i*dim:], v.d)
		}
		rawBatch(m, s.rel, q.d, s.base, dim)
	} else {
		for i, v := range vecs {
			s.rel[i] = vsimilarity(m, v, q)
		}
	}
	for i := range s.most {
		s.most[i] = float32(math.Inf(-1))
	}
	pick := func(score func(i int) float32) {
		best, at := float32(math.Inf(-1)), -1
		for k, i := range s.remaining {
			if v := score(i); at < 0 || v >= best {
				best, at = v, k
			}
		}
		i := s.remaining[at]
		last := len(s.remaining) - 1
		s.remaining[at] = s.remaining[last]
		s.remaining = s.remaining[:last]
		s.selected = append(s.selected, i)
		if len(s.selected) == limit {
			return
		}
		// Bring the highest similarities up to date with i.
		if dense {
			rawBatch(m, s.row, s.base[i*dim:(i+1)*dim], s.base, dim)
		} else {
			for _, j := range s.remaining {
				s.row[j] = vsimilarity(m, vecs[i], vecs[j])
			}
		}
		for _, j := range s.remaining {
			s.most[j] = max(s.most[j], s.row[j])
		}
	}
	pick(func(i int) float32 { return s.rel[i] })
	for len(s.selected) < limit {
		pick(func(i int) float32 {
			// Explicit conversions keep each product rounded, as Qdrant's.
			return float32(lambda*s.rel[i]) - float32(w*s.most[i])
		})
	}
	return slices.Clone(s.selected)
}

// rawBatch sets dst[r] to the raw similarity (see similarity) of q and row
// r of base.
func rawBatch(m distance.Metric, dst, q, base []float32, dim int) {
	rows := len(base) / dim
	switch m {
	case distance.Euclid:
		distance.SquaredL2Batch(dst, q, base, dim)
	case distance.Manhattan:
		distance.L1Batch(dst, q, base, dim)
	default:
		distance.DotBatch(dst, q, base, dim)
		return
	}
	for i := range dst[:rows] {
		dst[i] = -dst[i]
	}
}

func growF(s []float32, n int) []float32 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float32, n)
}

// leafQuery is the query of a leaf prefetch p (one with no prefetches) with
// filter f and limit. A nearest query with MMR is, in a leaf as Qdrant
// plans it, a nearest search for MMR's candidates, without re-ranking.
func leafQuery(p *Prefetch, f *filter.Filter, limit int) *QueryRequest {
	q := p.Query
	if q != nil && q.MMR != nil {
		limit = q.MMR.candidates(limit)
		q = &Query{Nearest: q.Nearest}
	}
	return &QueryRequest{Query: q, Using: p.Using, Filter: f, Limit: limit,
		ScoreThreshold: p.ScoreThreshold, HnswEf: p.HnswEf, Exact: p.Exact, Quant: p.Quant, LookupFrom: p.LookupFrom}
}

// applyMMR applies a nearest query with MMR to the candidates a node's
// prefetches found, as Qdrant does. At the root, the MMR.CandidatesLimit
// candidates nearest to the query (those past the score threshold; by
// default as many as the request's limit) are re-ranked and the request's
// limit selected. Below the root, every candidate is re-ranked (no
// candidates limit, no threshold), keeping its score in the first list it
// came in, and the prefetch's limit selected.
func (db *DB) applyMMR(ctx context.Context, coll string, q *Query, p *applyParams, cands candidates) ([]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	if err := q.MMR.validate(); err != nil {
		return nil, err
	}
	vp, sparse, err := c.spaceParams(p.using)
	if err != nil {
		return nil, err
	}
	if q.Nearest.ID == nil && (q.Nearest.Sparse != nil) != sparse {
		return nil, fmt.Errorf("%w: Conversion between sparse and regular vectors failed", ErrBadRequest)
	}
	vecs, _, err := db.resolveExamples(c, []Example{*q.Nearest}, p.using, vp, p.lookup, "query")
	if err != nil {
		return nil, err
	}
	if len(vecs) == 0 {
		return nil, errNoExampleVector(p.using)
	}
	limit := p.limit
	var pts []ScoredPoint
	if p.requestLimit > 0 {
		limit = p.requestLimit
		n := q.MMR.candidates(limit)
		if n == 0 || len(cands.ids()) == 0 {
			return []ScoredPoint{}, nil
		}
		pts, err = db.query(ctx, coll, &QueryRequest{Query: &Query{Nearest: q.Nearest}, Using: p.using, Filter: cands.filter(),
			Limit: n, ScoreThreshold: p.threshold, HnswEf: p.hnswEf, Exact: true, LookupFrom: p.lookup,
			WithVectors: VectorSelector{Names: []string{p.using}}}, nil)
		if err != nil {
			return nil, err
		}
	} else {
		sel, err := c.compileSelectors(PayloadSelector{}, VectorSelector{Names: []string{p.using}})
		if err != nil {
			return nil, err
		}
		if pts, err = c.fillRecords(cands.union(), &sel); err != nil {
			return nil, err
		}
	}
	res := mmrPoints(vp.Distance, vecs[0], pts, p.using, q.MMR.Diversity, limit)
	for i := range res {
		res[i].Vectors, res[i].Sparse = nil, nil
	}
	return res, nil
}

// union returns the distinct points of the lists, in order of first
// appearance, each with its first score.
func (cs candidates) union() []ScoredPoint {
	seen := make(map[PointID]bool)
	var out []ScoredPoint
	for _, l := range cs {
		for _, p := range l {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	return out
}
