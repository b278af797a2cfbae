package engine

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// treePoint is a point as a filter sees it.
type treePoint struct {
	id      PointID
	payload payload.Value
}

func (p treePoint) ID() PointID             { return p.id }
func (p treePoint) Payload() payload.Value  { return p.payload }
func (p treePoint) HasVector(_ string) bool { return true }

// scoredList makes a list of points with the given ids, scored in order by
// the given scores.
func scoredList(ids []uint64, scores ...float32) []ScoredPoint {
	out := make([]ScoredPoint, len(ids))
	for i, id := range ids {
		out[i] = ScoredPoint{Record: Record{ID: numID(id)}}
		if i < len(scores) {
			out[i].Score = scores[i]
		}
	}
	return out
}

func TestRRF(t *testing.T) {
	f := func(fu Fusion, lists [][]uint64, threshold *float32, limit int, want map[uint64]float64) {
		t.Helper()
		var cs candidates
		for _, l := range lists {
			cs = append(cs, scoredList(l))
		}
		got := fuse(&fu, cs, threshold, limit)
		require.Len(t, got, len(want))
		for i, p := range got {
			n, _ := p.ID.Num()
			w, ok := want[n]
			require.True(t, ok, "unexpected point %v", p.ID)
			require.InDelta(t, w, p.Score, 1e-6, "point %v", p.ID)
			if i > 0 {
				require.GreaterOrEqual(t, got[i-1].Score, p.Score, "best first")
			}
		}
	}
	// Rank r (from 0) of a list of weight w adds 1 / ((r+1)/w + k - 1).
	f(Fusion{Method: FusionRRF}, [][]uint64{{2, 1}, {1, 2, 3}, {5, 3, 1}}, nil, 10,
		map[uint64]float64{1: 1.0/3 + 1.0/2 + 1.0/4, 2: 1.0/2 + 1.0/3, 3: 1.0/4 + 1.0/3, 5: 1.0 / 2})
	f(Fusion{Method: FusionRRF, K: 60}, [][]uint64{{1, 2}, {2}}, nil, 10,
		map[uint64]float64{1: 1.0 / 60, 2: 1.0/61 + 1.0/60})
	f(Fusion{Method: FusionRRF, Weights: []float32{3, 1}}, [][]uint64{{1, 2}, {2, 1}}, nil, 10,
		map[uint64]float64{1: 1/(1.0/3+1) + 1.0/3, 2: 1/(2.0/3+1) + 1.0/2})
	// A weight of 0 or less adds nothing; the point is still a candidate.
	f(Fusion{Method: FusionRRF, Weights: []float32{1, 0}}, [][]uint64{{1}, {2}}, nil, 10,
		map[uint64]float64{1: 0.5, 2: 0})
	f(Fusion{Method: FusionRRF, Weights: []float32{-1}}, [][]uint64{{7}}, nil, 10, map[uint64]float64{7: 0})
	// The threshold keeps scores at least as good; the limit the best.
	half := float32(0.5)
	f(Fusion{Method: FusionRRF}, [][]uint64{{1, 2, 3}, {4}}, &half, 10, map[uint64]float64{1: 0.5, 4: 0.5})
	f(Fusion{Method: FusionRRF}, [][]uint64{{1, 2, 3}}, nil, 2, map[uint64]float64{1: 0.5, 2: 1.0 / 3})
	f(Fusion{Method: FusionRRF}, nil, nil, 10, map[uint64]float64{})
}

func TestDBSF(t *testing.T) {
	// norm is DBSF's normalisation computed in float64 from its definition:
	// (s - (mean - 3σ)) / 6σ with σ the sample standard deviation.
	norm := func(scores []float32) []float64 {
		out := make([]float64, len(scores))
		if len(scores) == 1 {
			out[0] = 0.5
			return out
		}
		var mean float64
		for _, s := range scores {
			mean += float64(s)
		}
		mean /= float64(len(scores))
		var v float64
		for _, s := range scores {
			v += (float64(s) - mean) * (float64(s) - mean)
		}
		sd := math.Sqrt(v / float64(len(scores)-1))
		for i, s := range scores {
			if sd == 0 {
				out[i] = 0.5
			} else {
				out[i] = (float64(s) - (mean - 3*sd)) / (6 * sd)
			}
		}
		return out
	}
	rng := rand.New(rand.NewPCG(16, 1))
	for range 200 {
		var cs candidates
		want := map[PointID]float64{}
		for range 1 + rng.IntN(3) {
			n := 1 + rng.IntN(8)
			ids := rng.Perm(12)[:n]
			scores := make([]float32, n)
			for i := range scores {
				scores[i] = float32(rng.NormFloat64() * 10)
				if rng.IntN(5) == 0 && i > 0 {
					scores[i] = scores[i-1]
				}
			}
			slices.SortFunc(scores, func(a, b float32) int { return cmp.Compare(b, a) })
			l := make([]ScoredPoint, n)
			for i, id := range ids {
				l[i] = ScoredPoint{Record: Record{ID: numID(uint64(id))}, Score: scores[i]}
			}
			for i, s := range norm(scores) {
				want[l[i].ID] += s
			}
			cs = append(cs, l)
		}
		got := fuse(&Fusion{Method: FusionDBSF}, cs, nil, 100)
		require.Len(t, got, len(want))
		for i, p := range got {
			require.InDelta(t, want[p.ID], p.Score, 1e-4, "point %v", p.ID)
			if i > 0 {
				require.GreaterOrEqual(t, got[i-1].Score, p.Score)
			}
		}
	}
	// A list of equal scores normalises to 0.5.
	got := fuse(&Fusion{Method: FusionDBSF}, candidates{scoredList([]uint64{1, 2}, 3, 3)}, nil, 10)
	require.Equal(t, []float32{0.5, 0.5}, []float32{got[0].Score, got[1].Score})
}

// TestPrefetchTreeOracle runs queries with prefetches through the Go API
// and checks them against a brute-force model of Qdrant's plan: filters
// joined down the tree, each leaf an exact search with its limit and
// threshold, each node's query applied to its prefetches' results.
func TestPrefetchTreeOracle(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	var req CreateCollection
	require.NoError(t, json.Unmarshal([]byte(`{"vectors": {"a": {"size": 4, "distance": "Cosine"}, "b": {"size": 4, "distance": "Dot"},
		"m": {"size": 3, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}},
		"sparse_vectors": {"s": {}}}`), &req))
	require.NoError(t, db.CreateCollection(bg, "c", &req))
	rng := rand.New(rand.NewPCG(16, 2))
	type row struct {
		a, b []float32
		m    [][]float32 // a multivector of 1 to 4 vectors
		s    SparseVector
		g    int
	}
	rows := map[PointID]row{}
	var pts []Point
	for i := range 300 {
		r := row{a: randVec(rng, 4), b: randVec(rng, 4), g: i % 5}
		for range 1 + rng.IntN(4) {
			r.m = append(r.m, randVec(rng, 3))
		}
		if i%7 != 0 {
			r.s = SparseVector{Indices: []uint32{uint32(rng.IntN(4)), 4 + uint32(rng.IntN(4))}, Values: []float32{rng.Float32(), rng.Float32()}}
		}
		id := numID(uint64(i))
		rows[id] = r
		p := Point{ID: id, Vectors: map[string][]float32{"a": r.a, "b": r.b}, Multi: map[string][][]float32{"m": r.m}, Payload: obj("g", r.g)}
		if r.s.Indices != nil {
			p.Sparse = map[string]SparseVector{"s": r.s}
		}
		pts = append(pts, p)
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)

	// score is the model's score of a point for a nearest query, and
	// whether the point has the vector.
	dot := func(a, b []float32) float32 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return float32(s)
	}
	norm := func(v []float32) []float32 {
		n := math.Sqrt(float64(dot(v, v)))
		out := make([]float32, len(v))
		for i := range v {
			out[i] = float32(float64(v[i]) / n)
		}
		return out
	}
	score := func(id PointID, using string, q []float32, sq *SparseVector) (float32, bool) {
		r := rows[id]
		switch using {
		case "a":
			return dot(norm(q), norm(r.a)), true
		case "b":
			return dot(q, r.b), true
		case "m":
			// MaxSim: each query vector's best dot product, summed.
			var s float32
			for i := 0; i < len(q); i += 3 {
				best := float32(math.Inf(-1))
				for _, d := range r.m {
					best = max(best, dot(q[i:i+3], d))
				}
				s += best
			}
			return s, true
		}
		if r.s.Indices == nil {
			return 0, false
		}
		var s float32
		hit := false
		for i, d := range sq.Indices {
			for j, e := range r.s.Indices {
				if d == e {
					s += sq.Values[i] * r.s.Values[j]
					hit = true
				}
			}
		}
		return s, hit
	}
	matches := func(f *filter.Filter, id PointID) bool {
		return f.Matches(treePoint{id: id, payload: obj("g", rows[id].g)})
	}
	// best returns the limit best points, higher scores first, ties by id.
	best := func(out []ScoredPoint, limit int) []ScoredPoint {
		slices.SortFunc(out, func(a, b ScoredPoint) int {
			if c := cmp.Compare(b.Score, a.Score); c != 0 {
				return c
			}
			return a.ID.Compare(b.ID)
		})
		return out[:min(len(out), limit)]
	}
	rank := func(ids []PointID, using string, q []float32, sq *SparseVector, threshold *float32, limit int) []ScoredPoint {
		var out []ScoredPoint
		for _, id := range ids {
			if s, ok := score(id, using, q, sq); ok && (threshold == nil || s > *threshold) {
				out = append(out, ScoredPoint{Record: Record{ID: id}, Score: s})
			}
		}
		return best(out, limit)
	}
	all := make([]PointID, 0, len(rows))
	for id := range rows {
		all = append(all, id)
	}
	// formulas are the models of the formulas random puts in the tree.
	formulas := map[*Formula]*formulaModel{}
	// vec is a point's vector using as the engine stores it, and whether
	// the point has one.
	vec := func(id PointID, using string) (qvec, bool) {
		r := rows[id]
		switch using {
		case "a":
			return qvec{d: distance.Cosine.Preprocess(nil, r.a)}, true
		case "b":
			return qvec{d: r.b}, true
		}
		return qvec{s: segment.SparseVector(sparseSorted(r.s))}, r.s.Indices != nil
	}
	metric := func(using string) distance.Metric {
		if using == "a" {
			return distance.Cosine
		}
		return distance.Dot
	}
	queryVec := func(using string, ex *Example) qvec {
		if ex.Sparse != nil {
			return qvec{s: segment.SparseVector(sparseSorted(*ex.Sparse))}
		}
		return qvec{d: metric(using).PreprocessQuery(nil, ex.Vector)}
	}
	// mmr selects limit of the points by MMR (mmrOracle), dropping those
	// without the vector.
	mmr := func(pts []ScoredPoint, using string, q *Query, limit int) []ScoredPoint {
		var kept []ScoredPoint
		var vecs []qvec
		for _, p := range pts {
			if v, ok := vec(p.ID, using); ok {
				kept, vecs = append(kept, p), append(vecs, v)
			}
		}
		if len(kept) < 2 {
			return kept
		}
		var out []ScoredPoint
		for _, i := range mmrOracle(metric(using), queryVec(using, q.Nearest), vecs, q.MMR.Diversity, limit) {
			out = append(out, kept[i])
		}
		return out
	}
	// feedback ranks the points by a relevance feedback query.
	feedback := func(ids []PointID, using string, f *RelevanceFeedback, threshold *float32, limit int) []ScoredPoint {
		m := metric(using)
		ex := make([]qvec, len(f.Feedback))
		for i, it := range f.Feedback {
			ex[i] = queryVec(using, &it.Example)
		}
		target := queryVec(using, &f.Target)
		var out []ScoredPoint
		for _, id := range ids {
			v, ok := vec(id, using)
			if !ok {
				continue
			}
			s := f.Naive.A * vsimilarity(m, v, target)
			for i := range f.Feedback {
				for j := range f.Feedback {
					if conf := f.Feedback[i].Score - f.Feedback[j].Score; conf > 0 {
						w := float32(math.Pow(float64(conf), float64(f.Naive.B))) * f.Naive.C
						s += w * (vsimilarity(m, v, ex[i]) - vsimilarity(m, v, ex[j]))
					}
				}
			}
			if threshold == nil || s > *threshold {
				out = append(out, ScoredPoint{Record: Record{ID: id}, Score: s})
			}
		}
		return best(out, limit)
	}
	// model evaluates a node: its prefetches (or the whole collection),
	// then its query. root is, at the root, the request's limit (0 below):
	// there an MMR query re-ranks the nearest of its candidates and selects
	// that many, and a fusion fuses its prefetches' lists cut to their
	// limits.
	var model func(p *Prefetch, parent *filter.Filter, root int) []ScoredPoint
	model = func(p *Prefetch, parent *filter.Filter, root int) []ScoredPoint {
		f := joinFilters(parent, p.Filter)
		limit := cmp.Or(p.Limit, 10)
		q := p.Query
		if len(p.Prefetch) == 0 {
			var ids []PointID
			for _, id := range all {
				if matches(f, id) {
					ids = append(ids, id)
				}
			}
			if q.RelevanceFeedback != nil {
				return feedback(ids, p.Using, q.RelevanceFeedback, p.ScoreThreshold, limit)
			}
			if q.MMR != nil {
				// A leaf searches for MMR's candidates, without re-ranking.
				limit = q.MMR.candidates(limit)
			}
			return rank(ids, p.Using, slices.Concat(append([][]float32{q.Nearest.Vector}, q.Nearest.Multi...)...), q.Nearest.Sparse, p.ScoreThreshold, limit)
		}
		var lists candidates
		for i := range p.Prefetch {
			l := model(&p.Prefetch[i], f, 0)
			if root > 0 && q.Fusion != nil {
				l = l[:min(len(l), cmp.Or(p.Prefetch[i].Limit, 10))]
			}
			lists = append(lists, l)
		}
		switch {
		case q.Fusion != nil:
			return fuse(q.Fusion, lists, p.ScoreThreshold, limit)
		case q.RelevanceFeedback != nil:
			return feedback(lists.ids(), p.Using, q.RelevanceFeedback, p.ScoreThreshold, limit)
		case q.MMR != nil && root > 0:
			n := q.MMR.candidates(root)
			return mmr(rank(lists.ids(), p.Using, q.Nearest.Vector, q.Nearest.Sparse, p.ScoreThreshold, n), p.Using, q, root)
		case q.MMR != nil:
			return mmr(lists.union(), p.Using, q, limit)
		}
		if fm, ok := formulas[q.Formula]; ok {
			return fm.rank(lists, func(id PointID) int { return rows[id].g }, p.ScoreThreshold, limit)
		}
		ex := q.Nearest
		return rank(lists.ids(), p.Using, slices.Concat(append([][]float32{ex.Vector}, ex.Multi...)...), ex.Sparse, p.ScoreThreshold, limit)
	}

	// random builds a random tree: leaves are nearest queries on a, b, m
	// (a multivector query) or s; inner nodes fuse, score by a formula
	// (formulas holds their models) or re-score on a, b or m.
	var random func(depth int) Prefetch
	random = func(depth int) Prefetch {
		p := Prefetch{Limit: rng.IntN(15)}
		if rng.IntN(3) == 0 {
			p.Filter = &filter.Filter{MustNot: []filter.Condition{&filter.Field{Key: mustPath("g"), Match: filter.NewMatchInteger(int64(rng.IntN(5)))}}}
		}
		if depth > 0 && rng.IntN(3) > 0 {
			for range 1 + rng.IntN(3) {
				p.Prefetch = append(p.Prefetch, random(depth-1))
			}
			if rng.IntN(4) == 0 {
				fm := randomFormula(rng, len(p.Prefetch))
				p.Query = &Query{Formula: fm.formula()}
				formulas[p.Query.Formula] = fm
				if rng.IntN(4) == 0 {
					th := float32(rng.NormFloat64())
					p.ScoreThreshold = &th
				}
				return p
			}
			if rng.IntN(2) == 0 {
				fu := &Fusion{Method: FusionRRF, K: rng.IntN(4)}
				if rng.IntN(2) == 0 {
					fu.Method = FusionDBSF
				}
				p.Query = &Query{Fusion: fu}
				return p
			}
		}
		switch rng.IntN(4) {
		case 0:
			p.Using = "a"
		case 1:
			p.Using = "b"
		case 2:
			p.Using = "m"
			var mq [][]float32
			for range 1 + rng.IntN(3) {
				mq = append(mq, randVec(rng, 3))
			}
			p.Query = &Query{Nearest: &Example{Multi: mq}}
		default:
			if len(p.Prefetch) == 0 {
				p.Using = "s"
				sq := SparseVector{Indices: []uint32{uint32(rng.IntN(8))}, Values: []float32{1}}
				p.Query = &Query{Nearest: &Example{Sparse: &sq}}
				return p
			}
			p.Using = "a"
		}
		if p.Query == nil {
			p.Query = &Query{Nearest: &Example{Vector: randVec(rng, 4)}}
			// MMR and relevance feedback nodes, on the dense vectors.
			switch rng.IntN(5) {
			case 0:
				p.Query.MMR = &MMR{Diversity: float32(rng.IntN(11)) / 10}
				if rng.IntN(2) == 0 {
					p.Query.MMR.CandidatesLimit = new(rng.IntN(20))
				}
			case 1:
				f := &RelevanceFeedback{Target: *p.Query.Nearest, Naive: NaiveFeedback{A: rng.Float32() * 2, B: rng.Float32() * 2, C: rng.Float32()}}
				for range 1 + rng.IntN(3) {
					f.Feedback = append(f.Feedback, FeedbackItem{Example: Example{Vector: randVec(rng, 4)}, Score: rng.Float32()})
				}
				p.Query = &Query{RelevanceFeedback: f}
			}
		}
		if rng.IntN(4) == 0 {
			th := float32(rng.NormFloat64() * 0.3)
			p.ScoreThreshold = &th
		}
		return p
	}
	for i := range 150 {
		root := random(3)
		for len(root.Prefetch) == 0 {
			root = random(3)
		}
		offset := rng.IntN(3)
		want := model(&Prefetch{Prefetch: root.Prefetch, Query: root.Query, Using: root.Using, Filter: root.Filter,
			ScoreThreshold: root.ScoreThreshold, Limit: cmp.Or(root.Limit, 10) + offset}, nil, cmp.Or(root.Limit, 10))
		want = want[min(offset, len(want)):]
		got, err := db.Query(bg, "c", &QueryRequest{Prefetch: root.Prefetch, Query: root.Query, Using: root.Using, Filter: root.Filter,
			ScoreThreshold: root.ScoreThreshold, Limit: cmp.Or(root.Limit, 10), Offset: offset})
		require.NoError(t, err, "tree %d", i)
		require.Len(t, got, len(want), "tree %d", i)
		for j := range want {
			require.Equal(t, want[j].ID, got[j].ID, "tree %d, rank %d", i, j)
			require.InDelta(t, want[j].Score, got[j].Score, 1e-4, "tree %d, rank %d", i, j)
		}
	}
	require.Greater(t, len(formulas), 10, "formula nodes in the trees")
}

// formulaModel is a random formula of the prefetch-tree oracle with its
// brute-force evaluation: a weighted sum of the prefetch scores ($score[1]
// defaults to -0.25 where prefetch 1 did not find a point, others to 0),
// of the payload number g, of a gaussian decay of g around target (scale
// 2) and of 0.5 when g equals cond.
type formulaModel struct {
	weights    []float32
	gw, target float32
	cond       int
}

func randomFormula(rng *rand.Rand, prefetches int) *formulaModel {
	fm := &formulaModel{gw: float32(rng.IntN(3)) / 4, target: float32(rng.IntN(5)), cond: rng.IntN(5)}
	for range prefetches {
		fm.weights = append(fm.weights, float32(rng.IntN(5)-2)/2)
	}
	return fm
}

// formula writes the model as a Formula.
func (fm *formulaModel) formula() *Formula {
	var terms []*Expr
	for i, w := range fm.weights {
		terms = append(terms, Op(ExprMult, Const(w), Var(fmt.Sprintf("$score[%d]", i))))
	}
	scale := float32(2)
	terms = append(terms, Op(ExprMult, Const(fm.gw), Var("g")),
		&Expr{Kind: ExprGaussDecay, Args: []*Expr{Var("g"), Const(fm.target)}, Scale: &scale},
		Op(ExprMult, Const(0.5), &Expr{Kind: ExprCondition, Condition: &filter.Field{Key: payload.MustParsePath("g"), Match: filter.NewMatchInteger(int64(fm.cond))}}))
	return &Formula{Expr: Op(ExprSum, terms...), Defaults: map[string]payload.Value{"$score[1]": payload.FloatValue(-0.25)}}
}

// rank scores the candidates of lists (in order of first appearance) and
// keeps the limit best scoring at least threshold; equal scores keep that
// order.
func (fm *formulaModel) rank(lists candidates, g func(PointID) int, threshold *float32, limit int) []ScoredPoint {
	scores := lists.scores()
	var out []ScoredPoint
	for _, id := range lists.ids() {
		var s float64
		for i, w := range fm.weights {
			v, ok := scores[i][id]
			switch {
			case ok:
				s += float64(w) * float64(v)
			case i == 1:
				s += float64(w) * -0.25
			}
		}
		gv := float64(g(id))
		d := gv - float64(fm.target)
		s += float64(fm.gw)*gv + math.Exp(math.Log(0.5)/4*d*d)
		if g(id) == fm.cond {
			s += 0.5
		}
		if threshold == nil || float32(s) >= *threshold {
			out = append(out, ScoredPoint{Record: Record{ID: id}, Score: float32(s)})
		}
	}
	slices.SortStableFunc(out, func(a, b ScoredPoint) int { return cmp.Compare(b.Score, a.Score) })
	return out[:min(len(out), limit)]
}
