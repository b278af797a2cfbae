package filter

import (
	"fmt"
	"math"
	"time"

	"github.com/qlite/qlite/payload"
)

// ParseJSON parses a filter in Qdrant's REST JSON form. Every error wraps
// ErrInvalidFilter and is an *Error naming the offending field. The JSON
// null gives a nil *Filter (no filter).
//
// It accepts what Qdrant's serde model accepts:
//   - must, should and must_not take one condition, an array of them, or
//     null (absent); an empty array is kept (see Filter: inside nested
//     conditions should: [] matches nothing);
//   - a Filter object rejects unknown fields (Qdrant's deny_unknown_fields);
//     field conditions, match, range, geo shapes, values_count, nested,
//     min_should and the is_empty / is_null {key} objects ignore unknown
//     fields, as serde does by default;
//   - a condition is read as Qdrant's untagged Condition enum: an object
//     with "key" is a field condition; otherwise the first of is_empty,
//     is_null, has_id, has_vector, nested that parses wins, and a filter is
//     the last resort;
//   - match variants are tried in Qdrant's order: value, text, text_any,
//     phrase, any, except; match.value is a string, a bool or an integer
//     that fits int64 (never a float); any and except lists are all strings
//     or all int64 integers, an empty list counting as strings; duplicates
//     are dropped;
//   - range bounds are numbers, or, when any bound is a string, all
//     datetime strings (read with payload.ParseDatetime);
//   - geo points must lie in [-180, 180] x [-90, 90]; polygon rings need at
//     least 4 points and equal first and last points;
//   - values_count bounds and min_count are unsigned integers;
//   - a field repeated in one object is an error;
//   - has_id and has_vector inside a nested filter are accepted, as Qdrant
//     accepts them, and never match.
//
// A field condition with no test is a validation error (Error.Validation);
// it is reported only when the whole filter is otherwise well-formed, as
// Qdrant validates after deserializing.
func ParseJSON(b []byte) (*Filter, error) {
	v, err := decodeJSON(b)
	if err != nil {
		return nil, errorf("filter", "%v", err)
	}
	if v.kind == jNull {
		return nil, nil
	}
	var p parser
	f, err := p.filter("filter", v, false)
	if err != nil {
		return nil, err
	}
	if p.invalid != nil {
		return nil, p.invalid
	}
	return f, nil
}

// UnmarshalJSON parses b with ParseJSON; null leaves an empty filter.
func (f *Filter) UnmarshalJSON(b []byte) error {
	g, err := ParseJSON(b)
	if err != nil {
		return err
	}
	if g == nil {
		g = &Filter{}
	}
	*f = *g
	return nil
}

type parser struct {
	// invalid is the first validation error seen; it is reported only when
	// parsing succeeds.
	invalid *Error
}

func (p *parser) filter(path string, v jval, asCondition bool) (*Filter, error) {
	if v.kind != jObj {
		return nil, errorf(path, "expected a filter object, got %s", v.describe())
	}
	// Check the field names before parsing any value, so that a condition
	// object that is not a filter is rejected without parsing its subtrees
	// again (which would make nesting exponential).
	for i, fl := range v.obj {
		for _, prev := range v.obj[:i] {
			if prev.key == fl.key {
				return nil, errorf(path, "duplicate field `%s`", fl.key)
			}
		}
		switch fl.key {
		case "should", "must", "must_not", "min_should":
		default:
			if asCondition {
				return nil, errorf(path, "unknown field `%s`: expected a condition: a field condition (key), is_empty, is_null, has_id, has_vector, nested, or a filter (must, should, must_not, min_should)", fl.key)
			}
			return nil, errorf(path, "unknown field `%s`, expected one of `should`, `min_should`, `must`, `must_not`", fl.key)
		}
	}
	f := &Filter{}
	for _, fl := range v.obj {
		var err error
		switch fl.key {
		case "should":
			f.Should, err = p.clause(path+".should", fl.val)
		case "must":
			f.Must, err = p.clause(path+".must", fl.val)
		case "must_not":
			f.MustNot, err = p.clause(path+".must_not", fl.val)
		case "min_should":
			f.MinShould, err = p.minShould(path+".min_should", fl.val)
		}
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// clause reads must, should or must_not: null (absent), one condition, or
// an array of conditions.
func (p *parser) clause(path string, v jval) ([]Condition, error) {
	switch v.kind {
	case jNull:
		return nil, nil
	case jObj:
		c, err := p.condition(path, v)
		if err != nil {
			return nil, err
		}
		return []Condition{c}, nil
	case jArr:
		return p.conditions(path, v)
	}
	return nil, errorf(path, "expected a condition, an array of conditions or null, got %s", v.describe())
}

func (p *parser) conditions(path string, v jval) ([]Condition, error) {
	cs := make([]Condition, 0, len(v.arr))
	for i, e := range v.arr {
		c, err := p.condition(fmt.Sprintf("%s[%d]", path, i), e)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func (p *parser) minShould(path string, v jval) (*MinShould, error) {
	switch v.kind {
	case jNull:
		return nil, nil
	case jObj:
	default:
		return nil, errorf(path, "expected an object {conditions, min_count}, got %s", v.describe())
	}
	cv, ok, err := v.get(path, "conditions")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(path, "missing field `conditions`")
	}
	if cv.kind != jArr {
		return nil, errorf(path+".conditions", "expected an array of conditions, got %s", cv.describe())
	}
	m := &MinShould{}
	if m.Conditions, err = p.conditions(path+".conditions", cv); err != nil {
		return nil, err
	}
	nv, ok, err := v.get(path, "min_count")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(path, "missing field `min_count`")
	}
	n, ok := nv.uint64Of()
	if !ok {
		return nil, errorf(path+".min_count", "expected an unsigned integer, got %s", describeNum(nv))
	}
	m.MinCount = int(min(n, math.MaxInt))
	return m, nil
}

// condition reads one condition as Qdrant's untagged Condition enum.
func (p *parser) condition(path string, v jval) (Condition, error) {
	if v.kind != jObj {
		return nil, errorf(path, "expected a condition object, got %s", v.describe())
	}
	if v.has("key") {
		return p.field(path, v)
	}
	var first error
	try := func(c Condition, err error) Condition {
		if err != nil {
			if first == nil {
				first = err
			}
			return nil
		}
		return c
	}
	if v.has("is_empty") {
		if c := try(p.isEmpty(path, v)); c != nil {
			return c, nil
		}
	}
	if v.has("is_null") {
		if c := try(p.isNull(path, v)); c != nil {
			return c, nil
		}
	}
	if v.has("has_id") {
		if c := try(p.hasID(path, v)); c != nil {
			return c, nil
		}
	}
	if v.has("has_vector") {
		if c := try(p.hasVector(path, v)); c != nil {
			return c, nil
		}
	}
	if v.has("nested") {
		if c := try(p.nested(path, v)); c != nil {
			return c, nil
		}
	}
	// A filter parse may record validation errors; keep them only if the
	// filter is the variant chosen.
	saved := p.invalid
	f, err := p.filter(path, v, true)
	if err == nil {
		return f, nil
	}
	p.invalid = saved
	if first != nil {
		return nil, first
	}
	return nil, err
}

func (p *parser) payloadField(path string, v jval) (payload.Path, error) {
	if v.kind != jObj {
		return payload.Path{}, errorf(path, "expected an object {key}, got %s", v.describe())
	}
	return p.key(path, v)
}

// key reads the required "key" of object v as a payload path.
func (p *parser) key(path string, v jval) (payload.Path, error) {
	kv, ok, err := v.get(path, "key")
	if err != nil {
		return payload.Path{}, err
	}
	if !ok {
		return payload.Path{}, errorf(path, "missing field `key`")
	}
	if kv.kind != jStr {
		return payload.Path{}, errorf(path+".key", "expected a string, got %s", kv.describe())
	}
	k, err := payload.ParsePath(kv.s)
	if err != nil {
		// Qdrant's message, whatever is wrong with the path.
		return payload.Path{}, errorf(path+".key", "Invalid json path: '%s'", kv.s)
	}
	return k, nil
}

func (p *parser) isEmpty(path string, v jval) (Condition, error) {
	fv, _, err := v.get(path, "is_empty")
	if err != nil {
		return nil, err
	}
	k, err := p.payloadField(path+".is_empty", fv)
	if err != nil {
		return nil, err
	}
	return &IsEmpty{Key: k}, nil
}

func (p *parser) isNull(path string, v jval) (Condition, error) {
	fv, _, err := v.get(path, "is_null")
	if err != nil {
		return nil, err
	}
	k, err := p.payloadField(path+".is_null", fv)
	if err != nil {
		return nil, err
	}
	return &IsNull{Key: k}, nil
}

func (p *parser) hasID(path string, v jval) (Condition, error) {
	iv, _, err := v.get(path, "has_id")
	if err != nil {
		return nil, err
	}
	path += ".has_id"
	if iv.kind != jArr {
		return nil, errorf(path, "expected an array of point ids, got %s", iv.describe())
	}
	ids := make([]PointID, 0, len(iv.arr))
	for i, e := range iv.arr {
		id, err := pointIDOf(e)
		if err != nil {
			return nil, errorf(fmt.Sprintf("%s[%d]", path, i), "%v", err)
		}
		ids = append(ids, id)
	}
	return NewHasID(ids...), nil
}

func pointIDOf(v jval) (PointID, error) {
	switch v.kind {
	case jNum:
		if n, ok := parseJSONUint(v.s); ok {
			return NumID(n), nil
		}
		return PointID{}, fmt.Errorf("value %s is not a valid point ID, valid values are either an unsigned integer or a UUID", v.s)
	case jStr:
		if id, err := ParseUUID(v.s); err == nil {
			return id, nil
		}
		return PointID{}, fmt.Errorf("value %q is not a valid point ID, valid values are either an unsigned integer or a UUID", v.s)
	}
	return PointID{}, fmt.Errorf("value %s is not a valid point ID, valid values are either an unsigned integer or a UUID", v.describe())
}

func (p *parser) hasVector(path string, v jval) (Condition, error) {
	nv, _, err := v.get(path, "has_vector")
	if err != nil {
		return nil, err
	}
	if nv.kind != jStr {
		return nil, errorf(path+".has_vector", "expected a vector name string, got %s", nv.describe())
	}
	return &HasVector{Name: nv.s}, nil
}

func (p *parser) nested(path string, v jval) (Condition, error) {
	nv, _, err := v.get(path, "nested")
	if err != nil {
		return nil, err
	}
	path += ".nested"
	if nv.kind != jObj {
		return nil, errorf(path, "expected an object {key, filter}, got %s", nv.describe())
	}
	k, err := p.key(path, nv)
	if err != nil {
		return nil, err
	}
	fv, ok, err := nv.get(path, "filter")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(path, "missing field `filter`")
	}
	f, err := p.filter(path+".filter", fv, false)
	if err != nil {
		return nil, err
	}
	return &Nested{Key: k, Filter: f}, nil
}

// field reads a field condition: {"key": ..., and tests}. Unknown fields are
// ignored.
func (p *parser) field(path string, v jval) (Condition, error) {
	k, err := p.key(path, v)
	if err != nil {
		return nil, err
	}
	f := &Field{Key: k}
	for _, name := range [...]string{"match", "range", "geo_bounding_box", "geo_radius",
		"geo_polygon", "values_count", "is_empty", "is_null"} {
		fv, ok, err := v.get(path, name)
		if err != nil {
			return nil, err
		}
		if !ok || fv.kind == jNull {
			continue
		}
		fpath := path + "." + name
		switch name {
		case "match":
			f.Match, err = parseMatch(fpath, fv)
		case "range":
			err = parseRange(fpath, fv, f)
		case "geo_bounding_box":
			f.GeoBoundingBox, err = parseGeoBoundingBox(fpath, fv)
		case "geo_radius":
			f.GeoRadius, err = parseGeoRadius(fpath, fv)
		case "geo_polygon":
			f.GeoPolygon, err = parseGeoPolygon(fpath, fv)
		case "values_count":
			f.ValuesCount, err = parseValuesCount(fpath, fv)
		case "is_empty", "is_null":
			if fv.kind != jBool {
				return nil, errorf(fpath, "expected a boolean, got %s", fv.describe())
			}
			b := fv.b
			if name == "is_empty" {
				f.IsEmpty = &b
			} else {
				f.IsNull = &b
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if f.parts() == 0 && p.invalid == nil {
		p.invalid = &Error{Path: path, Msg: "At least one field condition must be specified", Validation: true}
	}
	return f, nil
}

func parseMatch(path string, v jval) (*Match, error) {
	if v.kind != jObj {
		return nil, errorf(path, "expected an object, got %s", v.describe())
	}
	var first error
	for _, name := range [...]string{"value", "text", "text_any", "phrase", "any", "except"} {
		fv, ok, err := v.get(path, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		m, err := matchVariant(path+"."+name, name, fv)
		if err == nil {
			return m, nil
		}
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return nil, first
	}
	// Qdrant reads a match as an untagged enum of its forms (value, any,
	// except, text, phrase, text_any) and says so.
	return nil, errorf(path, "data did not match any variant of untagged enum MatchInterface")
}

func matchVariant(path, name string, v jval) (*Match, error) {
	switch name {
	case "value":
		switch v.kind {
		case jStr:
			return NewMatchKeyword(v.s), nil
		case jBool:
			return NewMatchBool(v.b), nil
		case jNum:
			if i, ok := v.int64Of(); ok {
				return NewMatchInteger(i), nil
			}
			return nil, errorf(path, "expected a string, an integer or a boolean, got %s (floats are not allowed: use range)", v.s)
		}
		return nil, errorf(path, "expected a string, an integer or a boolean, got %s", v.describe())
	case "text", "text_any", "phrase":
		if v.kind != jStr {
			return nil, errorf(path, "expected a string, got %s", v.describe())
		}
		kind := map[string]MatchKind{"text": MatchText, "text_any": MatchTextAny, "phrase": MatchPhrase}[name]
		return NewMatchText(kind, v.s), nil
	}
	// any, except
	if v.kind != jArr {
		return nil, errorf(path, "expected an array of strings or an array of integers, got %s", v.describe())
	}
	allStrings, allInts := true, true
	for _, e := range v.arr {
		if e.kind != jStr {
			allStrings = false
		}
		if _, ok := e.int64Of(); !ok {
			allInts = false
		}
	}
	switch {
	case allStrings:
		ss := make([]string, len(v.arr))
		for i, e := range v.arr {
			ss[i] = e.s
		}
		if name == "any" {
			return NewMatchAnyKeywords(ss...), nil
		}
		return NewMatchExceptKeywords(ss...), nil
	case allInts:
		is := make([]int64, len(v.arr))
		for i, e := range v.arr {
			is[i], _ = e.int64Of()
		}
		if name == "any" {
			return NewMatchAnyIntegers(is...), nil
		}
		return NewMatchExceptIntegers(is...), nil
	}
	return nil, errorf(path, "expected an array of strings or an array of integers (int64), not mixed")
}

// parseRange reads a numeric Range, or a DatetimeRange when any bound is a
// string.
func parseRange(path string, v jval, f *Field) error {
	if v.kind != jObj {
		return errorf(path, "expected an object {gt, gte, lt, lte}, got %s", v.describe())
	}
	names := [...]string{"lt", "gt", "gte", "lte"}
	var vals [4]jval
	var present [4]bool
	datetime := false
	for i, n := range names {
		bv, ok, err := v.get(path, n)
		if err != nil {
			return err
		}
		if ok && bv.kind != jNull {
			vals[i], present[i] = bv, true
			datetime = datetime || bv.kind == jStr
		}
	}
	if datetime {
		var bounds [4]*time.Time
		for i := range names {
			if !present[i] {
				continue
			}
			bpath := path + "." + names[i]
			if vals[i].kind != jStr {
				return errorf(bpath, "expected a datetime string (a range with a string bound is a datetime range), got %s", vals[i].describe())
			}
			t, err := payload.ParseDatetime(vals[i].s)
			if err != nil {
				return errorf(bpath, "'%s' does not match accepted datetime format (RFC3339). Example: 2014-01-01T00:00:00Z", vals[i].s)
			}
			t = t.UTC()
			bounds[i] = &t
		}
		f.DatetimeRange = &payload.DatetimeRange{LT: bounds[0], GT: bounds[1], GTE: bounds[2], LTE: bounds[3]}
		return nil
	}
	var bounds [4]*float64
	for i := range names {
		if !present[i] {
			continue
		}
		x, ok := vals[i].float64Of()
		if !ok {
			return errorf(path+"."+names[i], "expected a number or a datetime string, got %s", describeNum(vals[i]))
		}
		bounds[i] = &x
	}
	f.Range = &payload.Range{LT: bounds[0], GT: bounds[1], GTE: bounds[2], LTE: bounds[3]}
	return nil
}

func describeNum(v jval) string {
	if v.kind == jNum {
		return v.s
	}
	return v.describe()
}

func parseValuesCount(path string, v jval) (*ValuesCount, error) {
	if v.kind != jObj {
		return nil, errorf(path, "expected an object {gt, gte, lt, lte}, got %s", v.describe())
	}
	c := &ValuesCount{}
	for _, b := range [...]struct {
		name string
		dst  **uint64
	}{{"lt", &c.LT}, {"gt", &c.GT}, {"gte", &c.GTE}, {"lte", &c.LTE}} {
		bv, ok, err := v.get(path, b.name)
		if err != nil {
			return nil, err
		}
		if !ok || bv.kind == jNull {
			continue
		}
		n, ok := bv.uint64Of()
		if !ok {
			return nil, errorf(path+"."+b.name, "expected an unsigned integer, got %s", describeNum(bv))
		}
		*b.dst = &n
	}
	return c, nil
}

func parseGeoPoint(path string, v jval) (payload.GeoPoint, error) {
	if v.kind != jObj {
		return payload.GeoPoint{}, errorf(path, "expected an object {lon, lat}, got %s", v.describe())
	}
	var out [2]float64
	for i, n := range [...]string{"lon", "lat"} {
		cv, ok, err := v.get(path, n)
		if err != nil {
			return payload.GeoPoint{}, err
		}
		if !ok {
			return payload.GeoPoint{}, errorf(path, "missing field `%s`", n)
		}
		x, ok := cv.float64Of()
		if !ok {
			return payload.GeoPoint{}, errorf(path+"."+n, "expected a number, got %s", describeNum(cv))
		}
		out[i] = x
	}
	gp := payload.GeoPoint{Lon: out[0], Lat: out[1]}
	if err := validGeoPoint(path, gp); err != nil {
		return payload.GeoPoint{}, err
	}
	return gp, nil
}

// requiredGeoPoint reads the geo point field name of object v.
func requiredGeoPoint(path string, v jval, name string) (payload.GeoPoint, error) {
	pv, ok, err := v.get(path, name)
	if err != nil {
		return payload.GeoPoint{}, err
	}
	if !ok {
		return payload.GeoPoint{}, errorf(path, "missing field `%s`", name)
	}
	return parseGeoPoint(path+"."+name, pv)
}

func parseGeoBoundingBox(path string, v jval) (*payload.GeoBoundingBox, error) {
	if v.kind != jObj {
		return nil, errorf(path, "expected an object {top_left, bottom_right}, got %s", v.describe())
	}
	tl, err := requiredGeoPoint(path, v, "top_left")
	if err != nil {
		return nil, err
	}
	br, err := requiredGeoPoint(path, v, "bottom_right")
	if err != nil {
		return nil, err
	}
	return &payload.GeoBoundingBox{TopLeft: tl, BottomRight: br}, nil
}

func parseGeoRadius(path string, v jval) (*payload.GeoRadius, error) {
	if v.kind != jObj {
		return nil, errorf(path, "expected an object {center, radius}, got %s", v.describe())
	}
	c, err := requiredGeoPoint(path, v, "center")
	if err != nil {
		return nil, err
	}
	rv, ok, err := v.get(path, "radius")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(path, "missing field `radius`")
	}
	r, ok := rv.float64Of()
	if !ok {
		return nil, errorf(path+".radius", "expected a number, got %s", describeNum(rv))
	}
	return &payload.GeoRadius{Center: c, Radius: r}, nil
}

func parseLineString(path string, v jval) ([]payload.GeoPoint, error) {
	if v.kind != jObj {
		return nil, errorf(path, "expected an object {points}, got %s", v.describe())
	}
	pv, ok, err := v.get(path, "points")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(path, "missing field `points`")
	}
	if pv.kind != jArr {
		return nil, errorf(path+".points", "expected an array of geo points, got %s", pv.describe())
	}
	pts := make([]payload.GeoPoint, len(pv.arr))
	for i, e := range pv.arr {
		if pts[i], err = parseGeoPoint(fmt.Sprintf("%s.points[%d]", path, i), e); err != nil {
			return nil, err
		}
	}
	if err := validRing(path, pts); err != nil {
		return nil, err
	}
	return pts, nil
}

func parseGeoPolygon(path string, v jval) (*payload.GeoPolygon, error) {
	if v.kind != jObj {
		return nil, errorf(path, "expected an object {exterior, interiors}, got %s", v.describe())
	}
	ev, ok, err := v.get(path, "exterior")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(path, "missing field `exterior`")
	}
	g := &payload.GeoPolygon{}
	if g.Exterior, err = parseLineString(path+".exterior", ev); err != nil {
		return nil, err
	}
	iv, ok, err := v.get(path, "interiors")
	if err != nil {
		return nil, err
	}
	if !ok || iv.kind == jNull {
		return g, nil
	}
	if iv.kind != jArr {
		return nil, errorf(path+".interiors", "expected an array of line strings, got %s", iv.describe())
	}
	g.Interiors = make([][]payload.GeoPoint, len(iv.arr))
	for i, e := range iv.arr {
		if g.Interiors[i], err = parseLineString(fmt.Sprintf("%s.interiors[%d]", path, i), e); err != nil {
			return nil, err
		}
	}
	return g, nil
}
