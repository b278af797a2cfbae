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

func compileFilter(f *Filter, idx Indexes) checkFn {
	var parts []checkFn
	if f.Should != nil {
		if len(f.Should) == 0 {
			return func(*Checker, uint32) bool { return false }
		}
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
	if m := f.MinShould; m != nil {
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
