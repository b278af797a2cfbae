package filter

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/qlite/qlite/payload"
)

// Point is what a filter is evaluated against. Payload is called at most
// once per evaluation, and only when a condition needs it; ID only for
// has_id; HasVector only for has_vector.
type Point interface {
	ID() PointID
	Payload() payload.Value
	HasVector(name string) bool
}

// Evaluator evaluates filters against points. It holds scratch space, so
// Matches does not allocate in the common cases; an Evaluator is not safe
// for concurrent use, but any number of Evaluators may share one Filter.
//
// An Evaluator built with Indexes gives full-text matches (text, phrase,
// text_any) on keys with a text index the index's tokenizer semantics, as
// Qdrant does; every other condition ignores indexes.
type Evaluator struct {
	idx  Indexes
	buf  []payload.Value
	nest []payload.Path // keys of the nested conditions being evaluated
	toks []string
	qtok []string
}

// NewEvaluator returns an Evaluator; idx may be nil.
func NewEvaluator(idx Indexes) *Evaluator { return &Evaluator{idx: idx} }

var evalPool = sync.Pool{New: func() any { return &Evaluator{} }}

// Matches reports whether p matches f, with Qdrant's semantics and no
// indexes (full-text matches are substring tests). It is safe for
// concurrent use.
func (f *Filter) Matches(p Point) bool {
	if f == nil {
		return true
	}
	e := evalPool.Get().(*Evaluator)
	ok := e.Matches(f, p)
	clear(e.buf[:cap(e.buf)]) // drop references to payload data
	e.nest = e.nest[:0]
	evalPool.Put(e)
	return ok
}

// Matches reports whether p matches f. A nil f matches every point.
func (e *Evaluator) Matches(f *Filter, p Point) bool {
	if f == nil {
		return true
	}
	c := evalCtx{point: p}
	return e.filter(f, &c)
}

// evalCtx is the object a filter is evaluated against: the point's payload
// or, inside a nested condition, one array element.
type evalCtx struct {
	point   Point // nil inside a nested condition
	payload payload.Value
	loaded  bool
	// nested is set inside a nested condition, where empty should and
	// min_should clauses hold for no element (see Filter).
	nested bool
}

func (c *evalCtx) value() payload.Value {
	if !c.loaded {
		c.payload = c.point.Payload()
		c.loaded = true
	}
	return c.payload
}

// fullKey returns the index key of path k in the current context: k itself
// at the top level, or the keys of the enclosing nested conditions joined
// to k, as Qdrant joins them ("diet[].food").
func (e *Evaluator) fullKey(k payload.Path) string {
	if len(e.nest) == 0 {
		return k.String()
	}
	var b strings.Builder
	for _, n := range e.nest {
		s := n.String()
		b.WriteString(s)
		if !strings.HasSuffix(s, "[]") {
			b.WriteString("[]")
		}
		b.WriteByte('.')
	}
	b.WriteString(k.String())
	return b.String()
}

func (e *Evaluator) filter(f *Filter, c *evalCtx) bool {
	if f.Should != nil && (len(f.Should) > 0 || c.nested) {
		ok := false
		for _, cond := range f.Should {
			if e.condition(cond, c) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if m := f.MinShould; m != nil && m.MinCount > 0 && (len(m.Conditions) > 0 || c.nested) {
		n := 0
		for _, cond := range m.Conditions {
			if e.condition(cond, c) {
				if n++; n >= m.MinCount {
					break
				}
			}
		}
		if n < m.MinCount {
			return false
		}
	}
	for _, cond := range f.Must {
		if !e.condition(cond, c) {
			return false
		}
	}
	for _, cond := range f.MustNot {
		if e.condition(cond, c) {
			return false
		}
	}
	return true
}

func (e *Evaluator) condition(cond Condition, c *evalCtx) bool {
	switch cond := cond.(type) {
	case *Field:
		return e.field(cond, c)
	case *Filter:
		return e.filter(cond, c)
	case *IsEmpty:
		start := len(e.buf)
		e.buf = cond.Key.Find(c.value(), e.buf)
		ok := true
		for _, v := range e.buf[start:] {
			if !(v.Kind() == payload.Null || (v.Kind() == payload.Array && v.Len() == 0)) {
				ok = false
				break
			}
		}
		e.buf = e.buf[:start]
		return ok
	case *IsNull:
		start := len(e.buf)
		e.buf = cond.Key.Find(c.value(), e.buf)
		ok := false
		for _, v := range e.buf[start:] {
			if v.Kind() == payload.Null {
				ok = true
				break
			}
		}
		e.buf = e.buf[:start]
		return ok
	case *HasID:
		return c.point != nil && cond.contains(c.point.ID())
	case *HasVector:
		return c.point != nil && c.point.HasVector(cond.Name)
	case *Nested:
		return e.nested(cond, c)
	}
	return false
}

func (e *Evaluator) nested(n *Nested, c *evalCtx) bool {
	if n.Filter == nil {
		return false
	}
	start := len(e.buf)
	e.buf = n.Key.Find(c.value(), e.buf)
	end := len(e.buf)
	// The key names the array itself unless it already ends in [], in which
	// case Find has expanded it.
	expand := !strings.HasSuffix(n.Key.String(), "[]")
	e.nest = append(e.nest, n.Key)
	ok := false
	for i := start; i < end && !ok; i++ {
		v := e.buf[i]
		if !expand {
			ok = e.nestedElem(n, c, v)
			continue
		}
		if v.Kind() != payload.Array {
			continue
		}
		for _, elem := range v.Array() {
			if e.nestedElem(n, c, elem) {
				ok = true
				break
			}
		}
	}
	e.nest = e.nest[:len(e.nest)-1]
	e.buf = e.buf[:start]
	return ok
}

func (e *Evaluator) nestedElem(n *Nested, c *evalCtx, elem payload.Value) bool {
	if elem.Kind() != payload.Object {
		return false
	}
	sub := evalCtx{payload: elem, loaded: true, nested: true}
	return e.filter(n.Filter, &sub)
}

func (e *Evaluator) field(f *Field, c *evalCtx) bool {
	start := len(e.buf)
	e.buf = f.Key.Find(c.value(), e.buf)
	vals := e.buf[start:]
	var ok bool
	switch {
	case len(vals) == 0:
		ok = checkEmpty(f)
	case e.idx != nil && f.Match != nil && f.Match.isFullText():
		if ti := e.textIndex(e.fullKey(f.Key)); ti != nil {
			ok = e.textIndexMatch(ti, f.Match, vals)
			break
		}
		ok = anyValue(f, vals)
	default:
		ok = anyValue(f, vals)
	}
	e.buf = e.buf[:start]
	return ok
}

func anyValue(f *Field, vals []payload.Value) bool {
	for _, v := range vals {
		if checkValue(f, v) {
			return true
		}
	}
	return false
}

// checkEmpty is the result of a field condition on a missing key.
func checkEmpty(f *Field) bool {
	if f.IsEmpty != nil {
		return *f.IsEmpty
	}
	if f.IsNull != nil {
		return !*f.IsNull
	}
	return false
}

// checkValue tests one value found at the key.
func checkValue(f *Field, v payload.Value) bool {
	switch {
	case f.ValuesCount != nil:
		var n uint64
		switch v.Kind() {
		case payload.Null:
			n = 0
		case payload.Array:
			n = uint64(v.Len())
		default:
			n = 1
		}
		return f.ValuesCount.Contains(n)
	case f.IsEmpty != nil:
		switch v.Kind() {
		case payload.Null:
			return *f.IsEmpty
		case payload.Array:
			return (v.Len() == 0) == *f.IsEmpty
		}
		return !*f.IsEmpty
	case f.IsNull != nil:
		switch v.Kind() {
		case payload.Null:
			return *f.IsNull
		case payload.Array:
			hasNull := false
			for _, x := range v.Array() {
				if x.Kind() == payload.Null {
					hasNull = true
					break
				}
			}
			return hasNull == *f.IsNull
		}
		return !*f.IsNull
	}
	if v.Kind() == payload.Array {
		for _, x := range v.Array() {
			if checkOne(f, x) {
				return true
			}
		}
		return false
	}
	return checkOne(f, v)
}

// checkOne tests one element: any of the value tests accepts it.
func checkOne(f *Field, v payload.Value) bool {
	if f.Match != nil && f.Match.matches(v) {
		return true
	}
	if f.Range != nil {
		if x, ok := v.Number(); ok && f.Range.Contains(x) {
			return true
		}
	}
	if f.DatetimeRange != nil {
		if s, ok := v.Str(); ok {
			if t, err := payload.ParseDatetime(s); err == nil && f.DatetimeRange.Contains(t) {
				return true
			}
		}
	}
	if f.GeoRadius != nil || f.GeoBoundingBox != nil || f.GeoPolygon != nil {
		if p, ok := payload.GeoPointFrom(v); ok {
			if f.GeoRadius != nil && f.GeoRadius.Contains(p) {
				return true
			}
			if f.GeoBoundingBox != nil && f.GeoBoundingBox.Contains(p) {
				return true
			}
			if f.GeoPolygon != nil && f.GeoPolygon.Contains(p) {
				return true
			}
		}
	}
	return false
}

func (m *Match) isFullText() bool {
	return m.Kind == MatchText || m.Kind == MatchPhrase || m.Kind == MatchTextAny
}

// matches tests one non-array value without indexes.
func (m *Match) matches(v payload.Value) bool {
	switch m.Kind {
	case MatchKeyword:
		s, ok := v.Str()
		return ok && s == m.Keyword
	case MatchInteger:
		i, ok := v.Int()
		return ok && i == m.Integer
	case MatchBool:
		b, ok := v.Bool()
		return ok && b == m.Bool
	case MatchAnyKeywords:
		s, ok := v.Str()
		return ok && m.hasKeyword(s)
	case MatchAnyIntegers:
		i, ok := v.Int()
		return ok && m.hasInteger(i)
	case MatchExceptKeywords:
		switch v.Kind() {
		case payload.Null:
			return false
		case payload.String:
			s, _ := v.Str()
			return !m.hasKeyword(s)
		}
		return true
	case MatchExceptIntegers:
		switch v.Kind() {
		case payload.Null:
			return false
		case payload.Int:
			i, _ := v.Int()
			return !m.hasInteger(i)
		}
		return true
	case MatchText, MatchPhrase:
		s, ok := v.Str()
		return ok && strings.Contains(s, m.Text)
	case MatchTextAny:
		s, ok := v.Str()
		return ok && anyWordContained(s, m.Text)
	}
	return false
}

// anyWordContained reports whether some whitespace-separated word of text
// is a substring of s.
func anyWordContained(s, text string) bool {
	i := 0
	for i < len(text) {
		// skip spaces
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsSpace(r) {
				break
			}
			i += size
		}
		j := i
		for j < len(text) {
			r, size := utf8.DecodeRuneInString(text[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += size
		}
		if j > i && strings.Contains(s, text[i:j]) {
			return true
		}
		i = j
	}
	return false
}

func (e *Evaluator) textIndex(key string) *payload.TextIndex {
	ix, ok := e.idx.Index(key)
	if !ok {
		return nil
	}
	ti, _ := ix.(*payload.TextIndex)
	return ti
}

// textIndexMatch is a full-text match decided by a text index's tokenizer,
// value by value as Qdrant's check_payload_match does: each string at the
// key (a string, or a string element of an array) is tokenized as a
// document; text needs every query token in one string, phrase the query's
// document tokens consecutively (and an index with phrase matching),
// text_any some query token. A query with no tokens matches nothing, as in
// the index.
func (e *Evaluator) textIndexMatch(ti *payload.TextIndex, m *Match, vals []payload.Value) bool {
	if m.Kind == MatchPhrase {
		if !ti.Params().Text.PhraseMatching {
			return false
		}
		e.qtok = ti.Tokenize(m.Text, e.qtok[:0])
	} else {
		e.qtok = ti.TokenizeQuery(m.Text, e.qtok[:0])
	}
	q := e.qtok
	if len(q) == 0 {
		return false
	}
	for _, v := range vals {
		if s, ok := v.Str(); ok {
			if e.textDocMatch(ti, m.Kind, q, s) {
				return true
			}
			continue
		}
		for _, x := range v.Array() {
			if s, ok := x.Str(); ok && e.textDocMatch(ti, m.Kind, q, s) {
				return true
			}
		}
	}
	return false
}

func (e *Evaluator) textDocMatch(ti *payload.TextIndex, kind MatchKind, q []string, doc string) bool {
	e.toks = ti.Tokenize(doc, e.toks[:0])
	d := e.toks
	switch kind {
	case MatchText:
		for _, t := range q {
			if !containsString(d, t) {
				return false
			}
		}
		return true
	case MatchPhrase:
		for i := 0; i+len(q) <= len(d); i++ {
			match := true
			for j, t := range q {
				if d[i+j] != t {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
		return false
	case MatchTextAny:
		for _, t := range q {
			if containsString(d, t) {
				return true
			}
		}
	}
	return false
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
