package filter

import (
	"github.com/qlite/qlite/payload"
)

// Checker decides, point by point, whether points match a filter, reading
// the values of indexed keys from their indexes (a slice lookup) instead of
// evaluating the payload. It is what a graph search uses as its accept
// predicate, where a candidate set would cost more to build than the
// search itself. Conditions the indexes cannot decide exactly are evaluated
// on the payload. A Checker is not safe for concurrent use.
//
// Index-backed tests make the assumption Plan makes for exact plans: an
// indexed key holds values of its index's type.
type Checker struct {
	root checkFn
	ev   *Evaluator
	f    *Filter
	pt   Point
}

// check is one compiled condition or clause.
type checkFn func(c *Checker, id uint32) bool

// NewChecker compiles f against idx (which may be nil); ev evaluates the
// conditions no index decides, and should be built over the same idx.
func NewChecker(f *Filter, idx Indexes, ev *Evaluator) *Checker {
	c := &Checker{ev: ev, f: f}
	if f != nil {
		c.root = compileFilter(f, idx)
	}
	return c
}

// Check reports whether the point with internal id and data pt matches.
func (c *Checker) Check(id uint32, pt Point) bool {
	if c.root == nil {
		return true
	}
	c.pt = pt
	ok := c.root(c, id)
	c.pt = nil
	return ok
}

// compileFilter compiles a filter evaluated on whole points (never inside a
// nested condition, which the Evaluator decides), where empty should and
// min_should clauses impose nothing.
func compileFilter(f *Filter, idx Indexes) checkFn {
	var parts []checkFn
	if len(f.Should) > 0 {
		cs := compileAll(f.Should, idx)
		parts = append(parts, func(c *Checker, id uint32) bool {
			for _, x := range cs {
				if x(c, id) {
					return true
				}
			}
			return false
		})
	}
	if m := f.MinShould; m != nil && len(m.Conditions) > 0 {
		cs := compileAll(m.Conditions, idx)
		k := m.MinCount
		parts = append(parts, func(c *Checker, id uint32) bool {
			n := 0
			for i, x := range cs {
				if n >= k || n+len(cs)-i < k {
					break
				}
				if x(c, id) {
					n++
				}
			}
			return n >= k
		})
	}
	if len(f.Must) > 0 {
		cs := compileAll(f.Must, idx)
		parts = append(parts, func(c *Checker, id uint32) bool {
			for _, x := range cs {
				if !x(c, id) {
					return false
				}
			}
			return true
		})
	}
	if len(f.MustNot) > 0 {
		cs := compileAll(f.MustNot, idx)
		parts = append(parts, func(c *Checker, id uint32) bool {
			for _, x := range cs {
				if x(c, id) {
					return false
				}
			}
			return true
		})
	}
	switch len(parts) {
	case 0:
		return func(*Checker, uint32) bool { return true }
	case 1:
		return parts[0]
	}
	return func(c *Checker, id uint32) bool {
		for _, x := range parts {
			if !x(c, id) {
				return false
			}
		}
		return true
	}
}

func compileAll(cs []Condition, idx Indexes) []checkFn {
	out := make([]checkFn, len(cs))
	for i, c := range cs {
		out[i] = compile(c, idx)
	}
	return out
}

func compile(cond Condition, idx Indexes) checkFn {
	switch x := cond.(type) {
	case *Filter:
		return compileFilter(x, idx)
	case *Field:
		if chk := compileField(x, idx); chk != nil {
			return chk
		}
	}
	// Evaluate on the payload.
	f := &Filter{Must: []Condition{cond}}
	return func(c *Checker, _ uint32) bool { return c.ev.Matches(f, c.pt) }
}

// compileField returns an index-backed test for f, or nil when no index
// decides it exactly (the cases where Plan's index answer is exact).
func compileField(f *Field, idx Indexes) checkFn {
	if idx == nil || f.parts() != 1 {
		return nil
	}
	ix, ok := idx.Index(f.Key.String())
	if !ok {
		return nil
	}
	m := f.Match
	switch ix := ix.(type) {
	case *payload.KeywordIndex:
		switch {
		case m == nil:
		case m.Kind == MatchKeyword:
			want := m.Keyword
			return func(_ *Checker, id uint32) bool {
				for _, v := range ix.Values(id) {
					if v == want {
						return true
					}
				}
				return false
			}
		case m.Kind == MatchAnyKeywords:
			return func(_ *Checker, id uint32) bool {
				for _, v := range ix.Values(id) {
					if m.hasKeyword(v) {
						return true
					}
				}
				return false
			}
		}
	case *payload.IntegerIndex:
		p := ix.Params()
		switch {
		case m != nil && m.Kind == MatchInteger && p.LookupEnabled():
			want := m.Integer
			return func(_ *Checker, id uint32) bool {
				for _, v := range ix.Values(id) {
					if v == want {
						return true
					}
				}
				return false
			}
		case m != nil && m.Kind == MatchAnyIntegers && p.LookupEnabled():
			return func(_ *Checker, id uint32) bool {
				for _, v := range ix.Values(id) {
					if m.hasInteger(v) {
						return true
					}
				}
				return false
			}
		case m == nil && f.Range != nil && p.RangeEnabled():
			r := *f.Range
			return func(_ *Checker, id uint32) bool {
				for _, v := range ix.Values(id) {
					if r.Contains(float64(v)) {
						return true
					}
				}
				return false
			}
		}
	case *payload.FloatIndex:
		if f.Range != nil {
			r := *f.Range
			return func(_ *Checker, id uint32) bool {
				for _, v := range ix.Values(id) {
					if r.Contains(v) {
						return true
					}
				}
				return false
			}
		}
	case *payload.GeoIndex:
		switch {
		case f.GeoBoundingBox != nil:
			b := *f.GeoBoundingBox
			return geoCheck(ix, b.Contains)
		case f.GeoRadius != nil:
			r := *f.GeoRadius
			return geoCheck(ix, r.Contains)
		case f.GeoPolygon != nil:
			p := *f.GeoPolygon
			return geoCheck(ix, p.Contains)
		}
	}
	return nil
}

func geoCheck(ix *payload.GeoIndex, contains func(payload.GeoPoint) bool) checkFn {
	return func(_ *Checker, id uint32) bool {
		for _, v := range ix.Values(id) {
			if contains(v) {
				return true
			}
		}
		return false
	}
}

// Dense writes into dst (grown and cleared as needed) a bitset of the
// points below n that match f, built straight from index walks, and
// reports whether it could: f must be a conjunction (must) of single-test
// field conditions on keyword, integer or float indexes. Walking an index
// costs about a nanosecond per matching point, far less than building a
// compressed bitmap from points in value order.
func Dense(f *Filter, idx Indexes, n int, dst []uint64) ([]uint64, bool) {
	if f == nil || idx == nil || len(f.Should) > 0 || (f.MinShould != nil && len(f.MinShould.Conditions) > 0) || len(f.MustNot) > 0 || len(f.Must) == 0 {
		return dst, false
	}
	fields := make([]*Field, 0, len(f.Must))
	for _, c := range f.Must {
		fl, ok := c.(*Field)
		if !ok || !denseable(fl, idx) {
			return dst, false
		}
		fields = append(fields, fl)
	}
	words := (n + 63) / 64
	if cap(dst) < words {
		dst = make([]uint64, words)
	}
	dst = dst[:words]
	var tmp []uint64
	if len(fields) > 1 {
		tmp = make([]uint64, words)
	}
	for i, fl := range fields {
		out := dst
		if i > 0 {
			out = tmp
		}
		clear(out)
		fillDense(fl, idx, out)
		if i > 0 {
			for w := range dst {
				dst[w] &= tmp[w]
			}
		}
	}
	return dst, true
}

func denseable(f *Field, idx Indexes) bool {
	if f.parts() != 1 {
		return false
	}
	ix, ok := idx.Index(f.Key.String())
	if !ok {
		return false
	}
	m := f.Match
	switch ix := ix.(type) {
	case *payload.KeywordIndex:
		return m != nil && (m.Kind == MatchKeyword || m.Kind == MatchAnyKeywords)
	case *payload.IntegerIndex:
		p := ix.Params()
		// A match becomes the range [x, x], exact in float64 up to 2^53.
		return (m != nil && m.Kind == MatchInteger && p.LookupEnabled() && m.Integer >= -1<<53 && m.Integer <= 1<<53) ||
			(m == nil && f.Range != nil && p.RangeEnabled())
	case *payload.FloatIndex:
		return m == nil && f.Range != nil
	}
	return false
}

func fillDense(f *Field, idx Indexes, out []uint64) {
	ix, _ := idx.Index(f.Key.String())
	switch ix := ix.(type) {
	case *payload.KeywordIndex:
		var bm interface{ WriteDenseTo([]uint64) }
		if f.Match.Kind == MatchKeyword {
			bm = ix.Match(f.Match.Keyword)
		} else {
			bm = ix.MatchAny(f.Match.Keywords)
		}
		full := make([]uint64, len(out)+1024)
		bm.WriteDenseTo(full)
		copy(out, full)
	case *payload.IntegerIndex:
		r := payload.Range{}
		if f.Match != nil {
			x := float64(f.Match.Integer)
			r = payload.Range{GTE: &x, LTE: &x}
		} else {
			r = *f.Range
		}
		ix.MarkDense(r, out)
	case *payload.FloatIndex:
		ix.MarkDense(*f.Range, out)
	}
}
