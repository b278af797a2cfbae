package engine

import (
	"context"
	"fmt"
	"math"
)

// RelevanceFeedback is Query.RelevanceFeedback: Qdrant's relevance feedback
// query with its naive strategy. Every point p that matches is scored
//
//	a*sim(p, target) + sum over pairs (i, j) of c*(s_i-s_j)^b * (sim(p, e_i) - sim(p, e_j))
//
// where the pairs are every ordered pair of feedback items whose feedback
// scores s_i > s_j, e_i the items' examples, and sim the metric's raw
// similarity (see similarity; the dot product for sparse vectors). Higher
// scores come first. Example points are not returned (unless looked up in
// another collection).
type RelevanceFeedback struct {
	Target   Example
	Feedback []FeedbackItem
	// Naive is the strategy's coefficients (Qdrant's only strategy).
	Naive NaiveFeedback
}

// FeedbackItem is an example scored by a feedback model.
type FeedbackItem struct {
	Example Example
	Score   float32
}

// NaiveFeedback holds the coefficients of the naive feedback strategy.
type NaiveFeedback struct {
	// A weighs the similarity to the target.
	A float32
	// B (>= 0) is the exponent of a pair's difference of feedback scores.
	B float32
	// C weighs each pair.
	C float32
}

// validate checks f as Qdrant's request validation does (its REST API also
// requires some feedback, its gRPC API does not).
func (f *RelevanceFeedback) validate() error {
	if !(f.Naive.B >= 0) {
		return &ValidationError{Path: "query.relevance_feedback.strategy.naive.b",
			Msg: fmt.Sprintf("value %s invalid, must be 0.0 or larger", cfgRustFloat(float64(f.Naive.B)))}
	}
	return nil
}

// feedbackPair is one ordered pair of feedback examples with its weight
// c*(s_i-s_j)^b.
type feedbackPair struct {
	pos, neg qvec
	weight   float32
}

// feedbackPairs returns the ordered pairs of items whose scores differ in
// their favour, in Qdrant's order (by the first item, then the second).
func feedbackPairs(vecs []qvec, scores []float32, n NaiveFeedback) []feedbackPair {
	var out []feedbackPair
	for i := range vecs {
		for j := range vecs {
			if i == j {
				continue
			}
			conf := scores[i] - scores[j]
			if !(conf > 0) {
				continue
			}
			w := float32(float32(math.Pow(float64(conf), float64(n.B))) * n.C)
			out = append(out, feedbackPair{pos: vecs[i], neg: vecs[j], weight: w})
		}
	}
	return out
}

// queryFeedback serves Query.RelevanceFeedback with an exact scan.
func (db *DB) queryFeedback(ctx context.Context, coll string, r *QueryRequest) ([]ScoredPoint, error) {
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	f := r.Query.RelevanceFeedback
	if err := f.validate(); err != nil {
		return nil, err
	}
	vp, _, err := c.spaceParams(r.Using)
	if err != nil {
		return nil, err
	}
	ex := feedbackExamples(f)
	vecs, exclude, err := db.resolveExamples(c, ex, r.Using, vp, r.LookupFrom, "relevance_feedback")
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(ex) {
		// An example point without the sparse vector: Qdrant cannot
		// resolve it.
		return nil, errNoExampleVector(r.Using)
	}
	scores := make([]float32, len(f.Feedback))
	for i, it := range f.Feedback {
		scores[i] = it.Score
	}
	target, pairs := vecs[0], feedbackPairs(vecs[1:], scores, f.Naive)
	m, a := vp.Distance, f.Naive.A
	return c.scanScored(ctx, r, exclude, vecs, func(v qvec) float32 {
		// Explicit conversions keep each product rounded, as Qdrant's.
		s := float32(a * vsimilarity(m, v, target))
		for _, p := range pairs {
			s += float32(p.weight * (vsimilarity(m, v, p.pos) - vsimilarity(m, v, p.neg)))
		}
		return s
	})
}

// feedbackExamples lists the examples of f, target first.
func feedbackExamples(f *RelevanceFeedback) []Example {
	ex := make([]Example, 0, len(f.Feedback)+1)
	ex = append(ex, f.Target)
	for _, it := range f.Feedback {
		ex = append(ex, it.Example)
	}
	return ex
}

// errNoExampleVector is Qdrant's answer to an example point that lacks the
// query's vector.
func errNoExampleVector(using string) error {
	return fmt.Errorf("%w: Vector with name %q for point not found", ErrNotFound, using)
}
