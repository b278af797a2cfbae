package filter

import (
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/qlite/qlite/payload"
)

// Indexes gives the planner (and an Evaluator, for full-text matches) the
// payload indexes of a segment, keyed by the key path as written in
// conditions ("color", "country.cities[].population"). Conditions inside a
// nested condition look up the joined path, e.g. "diet[].food".
//
// The same value may also implement IDResolver and VectorResolver; the
// planner then answers has_id and has_vector from them.
type Indexes interface {
	Index(key string) (payload.Index, bool)
}

// IDResolver maps external point ids to the internal ids of a segment.
type IDResolver interface {
	InternalID(id PointID) (uint32, bool)
}

// VectorResolver gives the internal ids of the points that have a named
// vector. It returns nil when the segment has no vector of that name. The
// planner does not modify the bitmap.
type VectorResolver interface {
	VectorPoints(name string) *roaring.Bitmap
}

// Plan is how a filter will be executed against a segment.
type Plan struct {
	// Estimate is the cardinality estimate, combined with Qdrant's formulas
	// (see Filter.Plan).
	Estimate Estimate
	// Candidates holds internal ids that may match: every matching point is
	// in it. Nil means no index narrows the set, so every point is a
	// candidate. The caller owns the bitmap.
	Candidates *roaring.Bitmap
	// Exact reports that no residual check is needed: the matching points
	// are exactly Candidates (every point when Candidates is nil).
	Exact bool
	// Filter is the residual predicate: the whole filter, which is always
	// correct to evaluate on a candidate.
	Filter *Filter
}

// Check reports whether the point with internal id and data p matches,
// using the candidates and, unless the plan is exact, evaluating the
// residual with e. For exactness, e must be built over the same Indexes as
// the plan.
func (p *Plan) Check(e *Evaluator, id uint32, pt Point) bool {
	if p.Candidates != nil && !p.Candidates.Contains(id) {
		return false
	}
	return p.Exact || e.Matches(p.Filter, pt)
}

// Plan estimates how many of the total points of a segment match f and
// narrows them with the indexes in idx (which may be nil). all holds the
// internal ids of every live point; it is needed to complement must_not
// conditions and may be nil, at the price of coarser plans. The planner
// never modifies all or the bitmaps indexes own.
//
// Estimates follow Qdrant's query estimator: a condition no index answers
// is {0, total/2, total}; must combines as an intersection of independent
// sets, should by the complement rule, min_should as the union of the
// intersections of every min_count conditions (approximated past 100000
// combinations), must_not by inverting each estimate; empty must, should,
// min_should and must_not lists are skipped, as they impose nothing on
// whole points (inside nested conditions an empty should, or a min_should
// of no conditions and a positive min_count, matches no element). Where an
// index answers, the estimate is the exact
// count of its answer, where Qdrant sometimes uses a histogram.
//
// Candidates come from indexes whose answer is the condition's answer:
// keyword match/any, integer match/any/range, float range, bool match,
// datetime range, geo shapes; a text index for text/phrase/text_any and a
// uuid index for match/any give supersets (the text index sees a point's
// strings as one document; uuid strings compare case-insensitively). An
// index answers only for values of its own type, so a plan is exact under
// the assumption Qdrant's indexed search makes: an indexed key holds
// values of the index's type (a float at an integer-indexed key, or a geo
// object out of range, is seen by Matches but not by the index; so is a
// datetime differing below a microsecond). The is_empty condition narrows
// to the points an index holds no value for; has_id and has_vector are
// answered exactly through IDResolver and VectorResolver when idx
// implements them. match except, values_count, is_null, and field
// conditions with several tests are always left to the residual. must
// intersects, should unites,
// min_should keeps points in at least min_count candidate sets, and
// must_not complements against all only when the inner answer is exact.
// Inside nested conditions index answers only narrow (they hold for some
// element, not necessarily the same one), has_id and has_vector match
// nothing, and must_not does not narrow.
func (f *Filter) Plan(idx Indexes, total int, all *roaring.Bitmap) *Plan {
	if f == nil {
		return &Plan{Estimate: exactEstimate(total), Exact: true}
	}
	pl := planner{idx: idx, total: total, all: all}
	if idx != nil {
		pl.ids, _ = idx.(IDResolver)
		pl.vecs, _ = idx.(VectorResolver)
	}
	n := pl.filter(f, "", false)
	bm := n.bm
	if bm != nil && !n.owned {
		bm = bm.Clone()
	}
	return &Plan{Estimate: n.est, Candidates: bm, Exact: n.exact, Filter: f}
}

// Estimate estimates how many of the total points of a segment match f,
// as Plan does, but from the indexes' cheap estimates, building no bitmap:
// a caller can decide from it whether materialising candidates pays. Where
// an index answers, the count is an upper bound, and Estimate.Min is 0.
func (f *Filter) Estimate(idx Indexes, total int) Estimate {
	if f == nil {
		return exactEstimate(total)
	}
	pl := planner{estimateOnly: true, idx: idx, total: total}
	if idx != nil {
		pl.ids, _ = idx.(IDResolver)
	}
	return pl.filter(f, "", false).est
}

type planner struct {
	// estimateOnly plans without building bitmaps: index conditions use
	// the indexes' cheap estimates and every node has a nil bitmap.
	estimateOnly bool
	idx          Indexes
	total        int
	all          *roaring.Bitmap
	ids          IDResolver
	vecs         VectorResolver
}

// node is the plan of one condition or clause.
type node struct {
	est Estimate
	// bm holds the points that may match; nil means every point may.
	bm *roaring.Bitmap
	// exact means the matching points are exactly bm (every point when bm
	// is nil).
	exact bool
	// owned means bm was made by the planner and may be modified.
	owned bool
}

func (pl *planner) unknown() node { return node{est: unknownEstimate(pl.total)} }

func emptyNode() node {
	return node{est: exactEstimate(0), bm: roaring.New(), exact: true, owned: true}
}

// filter plans f; prefix is the joined nested array path ("" at the top
// level) and nested reports evaluation against array elements.
func (pl *planner) filter(f *Filter, prefix string, nested bool) node {
	// The plan of every query: the clauses and a few conditions are
	// planned in buffers on the stack.
	var estBuf [4]Estimate
	var partBuf [4]node
	var condBuf [4]node
	var condEstBuf [4]Estimate
	ests, parts := estBuf[:0], partBuf[:0]
	// On whole points empty should and min_should clauses impose nothing;
	// inside a nested condition they hold for no element (see Filter).
	if len(f.Should) > 0 {
		cs := pl.conditions(condBuf[:0], f.Should, prefix, nested)
		ests = append(ests, combineShould(estimates(condEstBuf[:0], cs), pl.total))
		parts = append(parts, pl.union(cs))
	} else if f.Should != nil && nested {
		parts = append(parts, emptyNode())
	}
	if m := f.MinShould; m != nil && (len(m.Conditions) > 0 || nested) {
		cs := pl.conditions(condBuf[:0], m.Conditions, prefix, nested)
		ests = append(ests, combineMinShould(estimates(condEstBuf[:0], cs), m.MinCount, pl.total))
		parts = append(parts, pl.atLeast(cs, m.MinCount))
	}
	if len(f.Must) > 0 {
		cs := pl.conditions(condBuf[:0], f.Must, prefix, nested)
		ests = append(ests, combineMust(estimates(condEstBuf[:0], cs), pl.total))
		parts = append(parts, intersect(cs))
	}
	if len(f.MustNot) > 0 {
		cs := pl.conditions(condBuf[:0], f.MustNot, prefix, nested)
		inv := condEstBuf[:0]
		for i, c := range cs {
			inv = append(inv, invertEstimate(c.est, pl.total))
			cs[i] = pl.complement(c, nested)
		}
		ests = append(ests, combineMust(inv, pl.total))
		parts = append(parts, intersect(cs))
	}
	n := intersect(parts)
	n.est = combineMust(ests, pl.total)
	return n
}

// estimates appends the estimates of ns to dst.
func estimates(dst []Estimate, ns []node) []Estimate {
	for _, n := range ns {
		dst = append(dst, n.est)
	}
	return dst
}

// conditions appends the plans of cs to dst.
func (pl *planner) conditions(dst []node, cs []Condition, prefix string, nested bool) []node {
	for _, c := range cs {
		dst = append(dst, pl.condition(c, prefix, nested))
	}
	return dst
}

// intersect combines nodes with AND.
func intersect(ns []node) node {
	res := node{exact: true}
	for _, n := range ns {
		res.exact = res.exact && n.exact
		if n.bm == nil {
			continue
		}
		if res.bm == nil {
			res.bm, res.owned = n.bm, n.owned
			continue
		}
		switch {
		case res.owned:
			res.bm.And(n.bm)
		case n.owned:
			n.bm.And(res.bm)
			res.bm = n.bm
			res.owned = true
		default:
			res.bm = roaring.And(res.bm, n.bm)
			res.owned = true
		}
	}
	return res
}

// union combines nodes with OR.
func (pl *planner) union(ns []node) node {
	res := node{exact: true}
	for _, n := range ns {
		if n.bm == nil && n.exact {
			return node{exact: true}
		}
	}
	var bms []*roaring.Bitmap
	for _, n := range ns {
		if n.bm == nil {
			return node{}
		}
		res.exact = res.exact && n.exact
		bms = append(bms, n.bm)
	}
	res.bm = roaring.FastOr(bms...)
	res.owned = true
	return res
}

// atLeastMaxWork bounds the bitmap operations of an exact at-least-k
// combination; past it the union is used as a superset.
const atLeastMaxWork = 4096

// atLeast combines nodes with "at least k of them".
func (pl *planner) atLeast(ns []node, k int) node {
	switch {
	case k <= 0:
		return node{exact: true}
	case k > len(ns):
		return emptyNode()
	case k == 1:
		return pl.union(ns)
	}
	exact := true
	bms := make([]*roaring.Bitmap, len(ns))
	for i, n := range ns {
		exact = exact && n.exact
		bms[i] = n.bm
		if bms[i] == nil {
			if pl.all == nil {
				return node{}
			}
			bms[i] = pl.all
		}
	}
	if len(ns)*k > atLeastMaxWork {
		return node{bm: roaring.FastOr(bms...), owned: true}
	}
	// level[j] holds the points in at least j of the sets seen so far.
	level := make([]*roaring.Bitmap, k+1)
	for i, b := range bms {
		for j := min(k, i+1); j >= 2; j-- {
			if level[j-1] == nil {
				continue
			}
			t := roaring.And(level[j-1], b)
			if level[j] == nil {
				level[j] = t
			} else {
				level[j].Or(t)
			}
		}
		if level[1] == nil {
			level[1] = b.Clone()
		} else {
			level[1].Or(b)
		}
	}
	res := level[k]
	if res == nil {
		res = roaring.New()
	}
	return node{bm: res, exact: exact, owned: true}
}

// complement is the plan of NOT n.
func (pl *planner) complement(n node, nested bool) node {
	switch {
	case nested:
		return node{}
	case n.bm == nil && n.exact:
		return emptyNode()
	case n.exact && n.bm != nil && pl.all != nil:
		return node{bm: roaring.AndNot(pl.all, n.bm), exact: true, owned: true}
	}
	return node{}
}

func (pl *planner) condition(c Condition, prefix string, nested bool) node {
	switch c := c.(type) {
	case *Filter:
		return pl.filter(c, prefix, nested)
	case *Field:
		return pl.field(c, joinKey(prefix, c.Key.String()), nested)
	case *IsEmpty:
		if nested || pl.idx == nil || (pl.all == nil && !pl.estimateOnly) {
			return pl.unknown()
		}
		ix, ok := pl.idx.Index(joinKey(prefix, c.Key.String()))
		if !ok {
			return pl.unknown()
		}
		if pl.estimateOnly {
			n := max(0, pl.total-ix.Len())
			return node{est: Estimate{0, n, n}}
		}
		// A point with an indexed value has a non-null value that is not
		// an empty array, so it is not empty.
		bm := roaring.AndNot(pl.all, ix.Points())
		n := int(bm.GetCardinality())
		return node{est: Estimate{0, n, n}, bm: bm, owned: true}
	case *IsNull:
		return pl.unknown()
	case *HasID:
		return pl.hasID(c, nested)
	case *HasVector:
		if pl.vecs == nil {
			if nested {
				return node{est: pl.unknown().est, bm: roaring.New(), exact: true, owned: true}
			}
			return pl.unknown()
		}
		bm := pl.vecs.VectorPoints(c.Name)
		if bm == nil {
			return emptyNode()
		}
		n := node{est: exactEstimate(int(bm.GetCardinality())), bm: bm, exact: true}
		if nested {
			n.bm, n.owned = roaring.New(), true
		}
		return n
	case *Nested:
		if c.Filter == nil {
			return emptyNode()
		}
		key := c.Key.String()
		if !strings.HasSuffix(key, "[]") {
			key += "[]"
		}
		inner := pl.filter(c.Filter, joinKey(prefix, key), true)
		n := node{est: inner.est, bm: inner.bm, owned: inner.owned}
		// Inner answers hold for some element each; only an empty answer
		// is exact.
		n.exact = n.bm != nil && n.bm.IsEmpty()
		return n
	}
	return pl.unknown()
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func (pl *planner) hasID(c *HasID, nested bool) node {
	if pl.ids == nil {
		n := min(len(c.IDs), pl.total)
		if nested {
			return node{est: Estimate{0, n, n}, bm: roaring.New(), exact: true, owned: true}
		}
		return node{est: Estimate{0, n, n}}
	}
	bm := roaring.New()
	for _, id := range c.IDs {
		if in, ok := pl.ids.InternalID(id); ok {
			bm.Add(in)
		}
	}
	n := node{est: exactEstimate(int(bm.GetCardinality())), bm: bm, exact: true, owned: true}
	if nested {
		n.bm = roaring.New()
	}
	return n
}

// field plans a field condition on the index at key.
func (pl *planner) field(f *Field, key string, nested bool) node {
	if pl.idx == nil || f.parts() != 1 {
		return pl.unknown()
	}
	ix, ok := pl.idx.Index(key)
	if !ok {
		return pl.unknown()
	}
	test, ok := serve(ix, f)
	if !ok {
		return pl.unknown()
	}
	if pl.estimateOnly {
		c := test.estimate()
		return node{est: Estimate{0, c, c}}
	}
	bm, exact := test.answer(), test.exact
	c := int(bm.GetCardinality())
	n := node{bm: bm, exact: exact, owned: true}
	if exact {
		n.est = exactEstimate(c)
	} else {
		n.est = Estimate{0, c, c}
	}
	return n
}

// indexTest is how an index serves the single test of a field condition:
// answer builds the matching points (a superset unless exact), estimate
// counts them cheaply (an upper bound).
type indexTest struct {
	answer   func() *roaring.Bitmap
	estimate func() int
	exact    bool
}

// serve returns how ix serves the single test of f, and false when it does
// not.
func serve(ix payload.Index, f *Field) (indexTest, bool) {
	m := f.Match
	switch ix := ix.(type) {
	case *payload.KeywordIndex:
		switch {
		case m == nil:
		case m.Kind == MatchKeyword:
			return indexTest{func() *roaring.Bitmap { return ix.Match(m.Keyword) }, func() int { return ix.Estimate(m.Keyword) }, true}, true
		case m.Kind == MatchAnyKeywords:
			return indexTest{func() *roaring.Bitmap { return ix.MatchAny(m.Keywords) }, func() int { return ix.EstimateAny(m.Keywords) }, true}, true
		}
	case *payload.UUIDIndex:
		// The index compares UUIDs case-insensitively: a superset.
		switch {
		case m == nil:
		case m.Kind == MatchKeyword && isUUID(m.Keyword):
			return indexTest{func() *roaring.Bitmap { return ix.Match(m.Keyword) }, func() int { return ix.Estimate(m.Keyword) }, false}, true
		case m.Kind == MatchAnyKeywords && allUUIDs(m.Keywords):
			return indexTest{func() *roaring.Bitmap { return ix.MatchAny(m.Keywords) }, func() int { return ix.EstimateAny(m.Keywords) }, false}, true
		}
	case *payload.IntegerIndex:
		p := ix.Params()
		switch {
		case m != nil && m.Kind == MatchInteger && p.LookupEnabled():
			return indexTest{func() *roaring.Bitmap { return ix.Match(m.Integer) }, func() int { return ix.Estimate(m.Integer) }, true}, true
		case m != nil && m.Kind == MatchAnyIntegers && p.LookupEnabled():
			return indexTest{func() *roaring.Bitmap { return ix.MatchAny(m.Integers) }, func() int { return ix.EstimateAny(m.Integers) }, true}, true
		case f.Range != nil && p.RangeEnabled():
			r := *f.Range
			return indexTest{func() *roaring.Bitmap { return ix.Range(r) }, func() int { return ix.EstimateRange(r) }, true}, true
		}
	case *payload.FloatIndex:
		if f.Range != nil {
			r := *f.Range
			return indexTest{func() *roaring.Bitmap { return ix.Range(r) }, func() int { return ix.EstimateRange(r) }, true}, true
		}
	case *payload.BoolIndex:
		if m != nil && m.Kind == MatchBool {
			return indexTest{func() *roaring.Bitmap { return ix.Match(m.Bool) }, func() int { return ix.Estimate(m.Bool) }, true}, true
		}
	case *payload.DatetimeIndex:
		if f.DatetimeRange != nil {
			r := *f.DatetimeRange
			return indexTest{func() *roaring.Bitmap { return ix.Range(r) }, func() int { return ix.EstimateRange(r) }, true}, true
		}
	case *payload.GeoIndex:
		switch {
		case f.GeoBoundingBox != nil:
			g := *f.GeoBoundingBox
			return indexTest{func() *roaring.Bitmap { return ix.BoundingBox(g) }, func() int { return ix.EstimateBoundingBox(g) }, true}, true
		case f.GeoRadius != nil:
			g := *f.GeoRadius
			return indexTest{func() *roaring.Bitmap { return ix.Radius(g) }, func() int { return ix.EstimateRadius(g) }, true}, true
		case f.GeoPolygon != nil:
			g := *f.GeoPolygon
			return indexTest{func() *roaring.Bitmap { return ix.Polygon(g) }, func() int { return ix.EstimatePolygon(g) }, true}, true
		}
	case *payload.TextIndex:
		// The index matches a point's strings as one document; the residual
		// matches them one by one, as Qdrant checks payloads: a superset.
		switch {
		case m == nil:
		case m.Kind == MatchText:
			return indexTest{func() *roaring.Bitmap { return ix.Text(m.Text) }, func() int { return ix.EstimateText(m.Text) }, false}, true
		case m.Kind == MatchPhrase:
			return indexTest{func() *roaring.Bitmap { return ix.Phrase(m.Text) }, func() int { return ix.EstimatePhrase(m.Text) }, false}, true
		case m.Kind == MatchTextAny:
			return indexTest{func() *roaring.Bitmap { return ix.TextAny(m.Text) }, func() int { return ix.EstimateTextAny(m.Text) }, false}, true
		}
	}
	return indexTest{}, false
}

func isUUID(s string) bool {
	_, err := ParseUUID(s)
	return err == nil
}

func allUUIDs(ss []string) bool {
	for _, s := range ss {
		if !isUUID(s) {
			return false
		}
	}
	return true
}
