package filter

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/qlite/qlite/payload"
)

// Builders construct filters in code with the shape of their JSON form:
//
//	filter.Must(
//		filter.Key("lang").Match("en"),
//		filter.Key("price").Range(filter.Gte(10), filter.Lt(20)),
//	)
//
// is {"must": [{"key": "lang", "match": {"value": "en"}}, {"key": "price",
// "range": {"gte": 10, "lt": 20}}]}, and gives the same *Filter as
// ParseJSON of that JSON.
//
// Builders never panic and return no error: a builder given input the JSON
// form would reject (an invalid key path, a float to match, a datetime
// string that does not parse, mixed strings and integers in an any list)
// returns a condition that Validate reports, with the builder call and the
// problem. The engine validates every filter it is given, so the error comes
// back, wrapping ErrInvalidFilter, from the Search, Query, Scroll or Count
// that uses the filter; call Validate to check earlier.

// Must returns the filter {"must": conds}: every condition holds.
func Must(conds ...Condition) *Filter { return &Filter{Must: clauseOf(conds)} }

// Should returns the filter {"should": conds}: at least one condition
// holds.
func Should(conds ...Condition) *Filter { return &Filter{Should: clauseOf(conds)} }

// MustNot returns the filter {"must_not": conds}: no condition holds.
func MustNot(conds ...Condition) *Filter { return &Filter{MustNot: clauseOf(conds)} }

// AtLeast returns the filter {"min_should": {"conditions": conds,
// "min_count": n}}: at least n of the conditions hold.
func AtLeast(n int, conds ...Condition) *Filter {
	return &Filter{MinShould: &MinShould{Conditions: clauseOf(conds), MinCount: n}}
}

// clauseOf copies conds into a present clause (empty, not nil, when there
// are none, as ParseJSON reads "must": []).
func clauseOf(conds []Condition) []Condition { return append([]Condition{}, conds...) }

// And returns a filter that holds when every one of parts holds, written
// with as few clauses as possible: And(Must(a), Should(b, c), MustNot(d))
// is {"must": [a], "should": [b, c], "must_not": [d]}. Must and must_not
// clauses are concatenated; a second should or min_should clause, which
// cannot share the filter's own, joins the must clause as a nested filter.
// Nil parts are skipped.
func And(parts ...*Filter) *Filter {
	out := &Filter{}
	for _, p := range parts {
		if p == nil {
			continue
		}
		if p.Must != nil {
			out.Must = append(clauseOf(out.Must), p.Must...)
		}
		if p.MustNot != nil {
			out.MustNot = append(clauseOf(out.MustNot), p.MustNot...)
		}
		if p.Should != nil {
			if out.Should == nil {
				out.Should = clauseOf(p.Should)
			} else {
				out.Must = append(clauseOf(out.Must), &Filter{Should: clauseOf(p.Should)})
			}
		}
		if p.MinShould != nil {
			ms := &MinShould{Conditions: clauseOf(p.MinShould.Conditions), MinCount: p.MinShould.MinCount}
			if out.MinShould == nil {
				out.MinShould = ms
			} else {
				out.Must = append(clauseOf(out.Must), &Filter{MinShould: ms})
			}
		}
	}
	return out
}

// HasIDs returns the condition {"has_id": ids}. An id is a non-negative
// integer of any integer type, a UUID string, or a PointID.
func HasIDs(ids ...any) Condition {
	out := make([]PointID, 0, len(ids))
	for i, x := range ids {
		id, err := pointIDFromGo(x)
		if err != nil {
			return invalidf("HasIDs", "id %d: %v", i, err)
		}
		out = append(out, id)
	}
	return NewHasID(out...)
}

func pointIDFromGo(x any) (PointID, error) {
	switch x := x.(type) {
	case PointID:
		return x, nil
	case string:
		return ParseUUID(x)
	}
	rv := reflect.ValueOf(x)
	switch {
	case isInt(rv) && rv.Int() >= 0:
		return NumID(uint64(rv.Int())), nil
	case isUint(rv):
		return NumID(rv.Uint()), nil
	}
	return PointID{}, fmt.Errorf("%v (%T) is not a valid point ID: use an unsigned integer or a UUID", x, x)
}

// FieldKey is a payload key to build field conditions on. Make one with
// Key.
type FieldKey struct {
	raw  string
	path payload.Path
	err  error
}

// Key returns the payload key path (as in the JSON form's "key": "a.b",
// "a[].b", "a[0]") to build a condition on.
func Key(path string) FieldKey {
	p, err := payload.ParsePath(path)
	if err != nil {
		return FieldKey{raw: path, err: fmt.Errorf("Invalid json path: '%s'", path)}
	}
	return FieldKey{raw: path, path: p}
}

// field returns the field condition on k with one test set by set, or the
// invalid condition for a bad key.
func (k FieldKey) field(op string, set func(*Field) error) Condition {
	if k.err != nil {
		return &invalid{call: fmt.Sprintf("Key(%q).%s", k.raw, op), err: k.err}
	}
	f := &Field{Key: k.path}
	if err := set(f); err != nil {
		return &invalid{call: fmt.Sprintf("Key(%q).%s", k.raw, op), err: err}
	}
	return f
}

// Match returns {"key": k, "match": {"value": value}}. The value is a
// string, a bool or an integer (of any Go integer type, within int64);
// floats cannot be matched exactly: use Range.
func (k FieldKey) Match(value any) Condition {
	return k.field("Match", func(f *Field) error {
		rv := reflect.ValueOf(value)
		switch {
		case rv.Kind() == reflect.String:
			f.Match = NewMatchKeyword(rv.String())
		case rv.Kind() == reflect.Bool:
			f.Match = NewMatchBool(rv.Bool())
		default:
			i, err := int64FromGo(value)
			if err != nil {
				return fmt.Errorf("%w; a match value is a string, an integer or a bool (use Range for floats)", err)
			}
			f.Match = NewMatchInteger(i)
		}
		return nil
	})
}

// MatchAny returns {"key": k, "match": {"any": values}}: the value at k is
// one of values, which are all strings or all integers. A single slice
// argument (MatchAny(tags) with tags a []string) stands for its elements.
func (k FieldKey) MatchAny(values ...any) Condition {
	return k.field("MatchAny", func(f *Field) error {
		ss, is, err := keywordsFromGo(values)
		switch {
		case err != nil:
			return err
		case is != nil:
			f.Match = NewMatchAnyIntegers(is...)
		default:
			f.Match = NewMatchAnyKeywords(ss...)
		}
		return nil
	})
}

// MatchExcept returns {"key": k, "match": {"except": values}}: the value at
// k is none of values, which are all strings or all integers. A single
// slice argument stands for its elements.
func (k FieldKey) MatchExcept(values ...any) Condition {
	return k.field("MatchExcept", func(f *Field) error {
		ss, is, err := keywordsFromGo(values)
		switch {
		case err != nil:
			return err
		case is != nil:
			f.Match = NewMatchExceptIntegers(is...)
		default:
			f.Match = NewMatchExceptKeywords(ss...)
		}
		return nil
	})
}

// MatchText returns {"key": k, "match": {"text": text}}: with a full-text
// index on k, every token of text is in the value; without, text is a
// substring of it.
func (k FieldKey) MatchText(text string) Condition {
	return k.field("MatchText", func(f *Field) error { f.Match = NewMatchText(MatchText, text); return nil })
}

// MatchPhrase returns {"key": k, "match": {"phrase": text}}.
func (k FieldKey) MatchPhrase(text string) Condition {
	return k.field("MatchPhrase", func(f *Field) error { f.Match = NewMatchText(MatchPhrase, text); return nil })
}

// MatchTextAny returns {"key": k, "match": {"text_any": text}}.
func (k FieldKey) MatchTextAny(text string) Condition {
	return k.field("MatchTextAny", func(f *Field) error { f.Match = NewMatchText(MatchTextAny, text); return nil })
}

// Range returns {"key": k, "range": {bounds}}. Bounds that are numbers make
// a numeric range; bounds that are time.Time values or datetime strings
// make a datetime range (as a string bound does in the JSON form); the two
// cannot be mixed, and a bound given twice is an error.
func (k FieldKey) Range(bounds ...Bound) Condition {
	return k.field("Range", func(f *Field) error {
		var num [4]*float64
		var dt [4]*time.Time
		isTime, isNum := false, false
		for _, b := range bounds {
			if b.err != nil {
				return fmt.Errorf("%s: %w", b.op, b.err)
			}
			i := b.index()
			if num[i] != nil || dt[i] != nil {
				return fmt.Errorf("bound %s given twice", b.op)
			}
			if b.isTime {
				t := b.t
				dt[i], isTime = &t, true
			} else {
				x := b.num
				num[i], isNum = &x, true
			}
		}
		if isTime && isNum {
			return fmt.Errorf("a range has number bounds or datetime bounds, not both")
		}
		if isTime {
			f.DatetimeRange = &payload.DatetimeRange{GT: dt[0], GTE: dt[1], LT: dt[2], LTE: dt[3]}
		} else {
			f.Range = &payload.Range{GT: num[0], GTE: num[1], LT: num[2], LTE: num[3]}
		}
		return nil
	})
}

// ValuesCount returns {"key": k, "values_count": {bounds}}: bounds on the
// number of values at k, which must be non-negative integers.
func (k FieldKey) ValuesCount(bounds ...Bound) Condition {
	return k.field("ValuesCount", func(f *Field) error {
		c := &ValuesCount{}
		dsts := [4]**uint64{&c.GT, &c.GTE, &c.LT, &c.LTE}
		for _, b := range bounds {
			if b.err != nil {
				return fmt.Errorf("%s: %w", b.op, b.err)
			}
			if b.isTime || b.num < 0 || b.num != math.Trunc(b.num) || b.num >= 1<<64 {
				return fmt.Errorf("%s: a values_count bound is an unsigned integer", b.op)
			}
			d := dsts[b.index()]
			if *d != nil {
				return fmt.Errorf("bound %s given twice", b.op)
			}
			n := uint64(b.num)
			*d = &n
		}
		f.ValuesCount = c
		return nil
	})
}

// GeoRadius returns {"key": k, "geo_radius": {"center": center, "radius":
// meters}}.
func (k FieldKey) GeoRadius(center payload.GeoPoint, meters float64) Condition {
	return k.field("GeoRadius", func(f *Field) error {
		f.GeoRadius = &payload.GeoRadius{Center: center, Radius: meters}
		return nil
	})
}

// GeoBoundingBox returns {"key": k, "geo_bounding_box": {"top_left":
// topLeft, "bottom_right": bottomRight}}.
func (k FieldKey) GeoBoundingBox(topLeft, bottomRight payload.GeoPoint) Condition {
	return k.field("GeoBoundingBox", func(f *Field) error {
		f.GeoBoundingBox = &payload.GeoBoundingBox{TopLeft: topLeft, BottomRight: bottomRight}
		return nil
	})
}

// GeoPolygon returns {"key": k, "geo_polygon": {"exterior": {"points":
// exterior}, "interiors": [...]}}. Each ring is closed: at least 4 points,
// the last equal to the first.
func (k FieldKey) GeoPolygon(exterior []payload.GeoPoint, interiors ...[]payload.GeoPoint) Condition {
	return k.field("GeoPolygon", func(f *Field) error {
		g := &payload.GeoPolygon{Exterior: exterior}
		if len(interiors) > 0 {
			g.Interiors = interiors
		}
		f.GeoPolygon = g
		return nil
	})
}

// IsEmpty returns {"is_empty": {"key": k}}: k is missing, null or [].
func (k FieldKey) IsEmpty() Condition {
	if k.err != nil {
		return &invalid{call: fmt.Sprintf("Key(%q).IsEmpty", k.raw), err: k.err}
	}
	return &IsEmpty{Key: k.path}
}

// IsNull returns {"is_null": {"key": k}}: some value at k is null.
func (k FieldKey) IsNull() Condition {
	if k.err != nil {
		return &invalid{call: fmt.Sprintf("Key(%q).IsNull", k.raw), err: k.err}
	}
	return &IsNull{Key: k.path}
}

// Nested returns {"nested": {"key": k, "filter": f}}: some object of the
// array at k satisfies f, whose keys are relative to the object.
func (k FieldKey) Nested(f *Filter) Condition {
	call := fmt.Sprintf("Key(%q).Nested", k.raw)
	switch {
	case k.err != nil:
		return &invalid{call: call, err: k.err}
	case f == nil:
		return &invalid{call: call, err: fmt.Errorf("missing filter")}
	}
	return &Nested{Key: k.path, Filter: f}
}

// Bound is one bound of a Range or ValuesCount: Gt, Gte, Lt or Lte.
type Bound struct {
	op     string
	num    float64
	t      time.Time
	isTime bool
	err    error
}

// Gt is the bound "gt": greater than v. v is a number of any Go numeric
// type, a time.Time, or a datetime string in a form Qdrant accepts.
func Gt(v any) Bound { return boundOf("gt", v) }

// Gte is the bound "gte": greater than or equal to v.
func Gte(v any) Bound { return boundOf("gte", v) }

// Lt is the bound "lt": less than v.
func Lt(v any) Bound { return boundOf("lt", v) }

// Lte is the bound "lte": less than or equal to v.
func Lte(v any) Bound { return boundOf("lte", v) }

func (b Bound) index() int {
	switch b.op {
	case "gt":
		return 0
	case "gte":
		return 1
	case "lt":
		return 2
	}
	return 3
}

func boundOf(op string, v any) Bound {
	b := Bound{op: op}
	switch x := v.(type) {
	case time.Time:
		b.t, b.isTime = x.UTC(), true
		return b
	case *time.Time:
		if x == nil {
			b.err = fmt.Errorf("nil time")
			return b
		}
		b.t, b.isTime = x.UTC(), true
		return b
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.String:
		t, err := payload.ParseDatetime(rv.String())
		if err != nil {
			b.err = fmt.Errorf("'%s' does not match accepted datetime format (RFC3339). Example: 2014-01-01T00:00:00Z", rv.String())
			return b
		}
		b.t, b.isTime = t.UTC(), true
	case isInt(rv):
		b.num = float64(rv.Int())
	case isUint(rv):
		b.num = float64(rv.Uint())
	case rv.Kind() == reflect.Float32:
		b.num = float64(float32ToFloat64(float32(rv.Float())))
	case rv.Kind() == reflect.Float64:
		b.num = rv.Float()
	default:
		b.err = fmt.Errorf("%v (%T) is not a number, a time.Time or a datetime string", v, v)
		return b
	}
	if math.IsNaN(b.num) || math.IsInf(b.num, 0) {
		b.err = fmt.Errorf("%v is not a finite number", b.num)
	}
	return b
}

// float32ToFloat64 widens f by its shortest decimal form, so that
// float32(0.1) bounds at 0.1 as it would written in JSON.
func float32ToFloat64(f float32) float64 {
	v, err := payload.FromGo(f)
	if err != nil {
		return float64(f)
	}
	x, _ := v.Float()
	return x
}

func isInt(rv reflect.Value) bool {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

func isUint(rv reflect.Value) bool {
	switch rv.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// int64FromGo returns an integer of any Go integer type as int64.
func int64FromGo(v any) (int64, error) {
	rv := reflect.ValueOf(v)
	switch {
	case isInt(rv):
		return rv.Int(), nil
	case isUint(rv) && rv.Uint() <= math.MaxInt64:
		return int64(rv.Uint()), nil
	case isUint(rv):
		return 0, fmt.Errorf("%d does not fit int64", rv.Uint())
	}
	return 0, fmt.Errorf("%v (%T) is not a string, an integer or a bool", v, v)
}

// keywordsFromGo reads the list of an any or except match: all strings
// (ss, also for an empty list, as in the JSON form) or all integers (is).
func keywordsFromGo(values []any) (ss []string, is []int64, err error) {
	if len(values) == 1 {
		if rv := reflect.ValueOf(values[0]); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			values = make([]any, rv.Len())
			for i := range values {
				values[i] = rv.Index(i).Interface()
			}
		}
	}
	ss = make([]string, 0, len(values))
	for i, v := range values {
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
			if is != nil {
				return nil, nil, fmt.Errorf("value %d: strings and integers mixed", i)
			}
			ss = append(ss, rv.String())
			continue
		}
		n, err := int64FromGo(v)
		if err != nil {
			return nil, nil, fmt.Errorf("value %d: %v; the values are all strings or all integers", i, err)
		}
		if len(ss) > 0 {
			return nil, nil, fmt.Errorf("value %d: strings and integers mixed", i)
		}
		is = append(is, n)
	}
	return ss, is, nil
}

// invalid is the condition a builder returns for input it cannot build;
// Validate reports it, and it matches no point.
type invalid struct {
	call string // the builder call, e.g. Key("a..b").Match
	err  error
}

func (*invalid) isCondition() {}

func invalidf(call, format string, args ...any) *invalid {
	return &invalid{call: call, err: fmt.Errorf(format, args...)}
}
