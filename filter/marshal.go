package filter

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/qlite/qlite/payload"
)

// MarshalJSON encodes f in Qdrant's REST form; ParseJSON reads it back to
// an equal filter. Absent clauses are omitted, present empty ones are
// written as []. A nil *Filter encodes as null.
func (f *Filter) MarshalJSON() ([]byte, error) {
	if f == nil {
		return []byte("null"), nil
	}
	return f.AppendJSON(nil)
}

// AppendJSON appends the JSON form of f to dst.
func (f *Filter) AppendJSON(dst []byte) ([]byte, error) {
	if f == nil {
		return append(dst, "null"...), nil
	}
	return appendFilter(dst, f)
}

func appendFilter(dst []byte, f *Filter) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	sep := func(name string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, name)
		dst = append(dst, ':')
	}
	var err error
	if f.Should != nil {
		sep("should")
		if dst, err = appendConditions(dst, f.Should); err != nil {
			return nil, err
		}
	}
	if f.MinShould != nil {
		sep("min_should")
		dst = append(dst, `{"conditions":`...)
		if dst, err = appendConditions(dst, f.MinShould.Conditions); err != nil {
			return nil, err
		}
		dst = append(dst, `,"min_count":`...)
		dst = strconv.AppendInt(dst, int64(f.MinShould.MinCount), 10)
		dst = append(dst, '}')
	}
	if f.Must != nil {
		sep("must")
		if dst, err = appendConditions(dst, f.Must); err != nil {
			return nil, err
		}
	}
	if f.MustNot != nil {
		sep("must_not")
		if dst, err = appendConditions(dst, f.MustNot); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

func appendConditions(dst []byte, cs []Condition) ([]byte, error) {
	dst = append(dst, '[')
	for i, c := range cs {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendCondition(dst, c); err != nil {
			return nil, err
		}
	}
	return append(dst, ']'), nil
}

func appendCondition(dst []byte, c Condition) ([]byte, error) {
	switch c := c.(type) {
	case *Field:
		if c != nil {
			return appendField(dst, c)
		}
	case *IsEmpty:
		if c != nil {
			dst = append(dst, `{"is_empty":{"key":`...)
			dst = appendJSONString(dst, c.Key.String())
			return append(dst, "}}"...), nil
		}
	case *IsNull:
		if c != nil {
			dst = append(dst, `{"is_null":{"key":`...)
			dst = appendJSONString(dst, c.Key.String())
			return append(dst, "}}"...), nil
		}
	case *HasID:
		if c != nil {
			dst = append(dst, `{"has_id":[`...)
			for i, id := range c.IDs {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = id.AppendJSON(dst)
			}
			return append(dst, "]}"...), nil
		}
	case *HasVector:
		if c != nil {
			dst = append(dst, `{"has_vector":`...)
			dst = appendJSONString(dst, c.Name)
			return append(dst, '}'), nil
		}
	case *Nested:
		if c != nil {
			dst = append(dst, `{"nested":{"key":`...)
			dst = appendJSONString(dst, c.Key.String())
			dst = append(dst, `,"filter":`...)
			inner := c.Filter
			if inner == nil {
				inner = &Filter{}
			}
			var err error
			if dst, err = appendFilter(dst, inner); err != nil {
				return nil, err
			}
			return append(dst, "}}"...), nil
		}
	case *Filter:
		if c != nil {
			return appendFilter(dst, c)
		}
	case *invalid:
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidFilter, c.call, c.err)
	}
	return nil, fmt.Errorf("%w: cannot encode condition %T(%v)", ErrInvalidFilter, c, c)
}

func appendField(dst []byte, f *Field) ([]byte, error) {
	dst = append(dst, `{"key":`...)
	dst = appendJSONString(dst, f.Key.String())
	if m := f.Match; m != nil {
		dst = append(dst, `,"match":`...)
		var err error
		if dst, err = appendMatch(dst, m); err != nil {
			return nil, err
		}
	}
	if f.Range != nil && f.DatetimeRange != nil {
		return nil, fmt.Errorf("%w: field %q has both a numeric and a datetime range, which REST cannot express", ErrInvalidFilter, f.Key.String())
	}
	if r := f.Range; r != nil {
		dst = append(dst, `,"range":{`...)
		n := 0
		for _, b := range [...]struct {
			name string
			v    *float64
		}{{"lt", r.LT}, {"gt", r.GT}, {"gte", r.GTE}, {"lte", r.LTE}} {
			if b.v == nil {
				continue
			}
			if math.IsNaN(*b.v) || math.IsInf(*b.v, 0) {
				return nil, fmt.Errorf("%w: range bound %s is not finite", ErrInvalidFilter, b.name)
			}
			dst = appendName(dst, n, b.name)
			dst = appendFloat(dst, *b.v)
			n++
		}
		dst = append(dst, '}')
	}
	if r := f.DatetimeRange; r != nil {
		dst = append(dst, `,"range":{`...)
		n := 0
		for _, b := range [...]struct {
			name string
			v    *time.Time
		}{{"lt", r.LT}, {"gt", r.GT}, {"gte", r.GTE}, {"lte", r.LTE}} {
			if b.v == nil {
				continue
			}
			dst = appendName(dst, n, b.name)
			dst = append(dst, '"')
			dst = b.v.UTC().AppendFormat(dst, time.RFC3339Nano)
			dst = append(dst, '"')
			n++
		}
		dst = append(dst, '}')
	}
	if b := f.GeoBoundingBox; b != nil {
		dst = append(dst, `,"geo_bounding_box":{"top_left":`...)
		dst = appendGeoPoint(dst, b.TopLeft)
		dst = append(dst, `,"bottom_right":`...)
		dst = appendGeoPoint(dst, b.BottomRight)
		dst = append(dst, '}')
	}
	if r := f.GeoRadius; r != nil {
		dst = append(dst, `,"geo_radius":{"center":`...)
		dst = appendGeoPoint(dst, r.Center)
		dst = append(dst, `,"radius":`...)
		dst = appendFloat(dst, r.Radius)
		dst = append(dst, '}')
	}
	if g := f.GeoPolygon; g != nil {
		dst = append(dst, `,"geo_polygon":{"exterior":`...)
		dst = appendLineString(dst, g.Exterior)
		if g.Interiors != nil {
			dst = append(dst, `,"interiors":[`...)
			for i, ring := range g.Interiors {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendLineString(dst, ring)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	if c := f.ValuesCount; c != nil {
		dst = append(dst, `,"values_count":{`...)
		n := 0
		for _, b := range [...]struct {
			name string
			v    *uint64
		}{{"lt", c.LT}, {"gt", c.GT}, {"gte", c.GTE}, {"lte", c.LTE}} {
			if b.v == nil {
				continue
			}
			dst = appendName(dst, n, b.name)
			dst = strconv.AppendUint(dst, *b.v, 10)
			n++
		}
		dst = append(dst, '}')
	}
	if f.IsEmpty != nil {
		dst = append(dst, `,"is_empty":`...)
		dst = strconv.AppendBool(dst, *f.IsEmpty)
	}
	if f.IsNull != nil {
		dst = append(dst, `,"is_null":`...)
		dst = strconv.AppendBool(dst, *f.IsNull)
	}
	return append(dst, '}'), nil
}

func appendName(dst []byte, n int, name string) []byte {
	if n > 0 {
		dst = append(dst, ',')
	}
	dst = appendJSONString(dst, name)
	return append(dst, ':')
}

func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

func appendGeoPoint(dst []byte, p payload.GeoPoint) []byte {
	dst = append(dst, `{"lon":`...)
	dst = appendFloat(dst, p.Lon)
	dst = append(dst, `,"lat":`...)
	dst = appendFloat(dst, p.Lat)
	return append(dst, '}')
}

func appendLineString(dst []byte, pts []payload.GeoPoint) []byte {
	dst = append(dst, `{"points":[`...)
	for i, p := range pts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendGeoPoint(dst, p)
	}
	return append(dst, "]}"...)
}

func appendMatch(dst []byte, m *Match) ([]byte, error) {
	switch m.Kind {
	case MatchKeyword:
		dst = append(dst, `{"value":`...)
		dst = appendJSONString(dst, m.Keyword)
	case MatchInteger:
		dst = append(dst, `{"value":`...)
		dst = strconv.AppendInt(dst, m.Integer, 10)
	case MatchBool:
		dst = append(dst, `{"value":`...)
		dst = strconv.AppendBool(dst, m.Bool)
	case MatchAnyKeywords, MatchExceptKeywords:
		if m.Kind == MatchAnyKeywords {
			dst = append(dst, `{"any":[`...)
		} else {
			dst = append(dst, `{"except":[`...)
		}
		for i, s := range m.Keywords {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, s)
		}
		dst = append(dst, ']')
	case MatchAnyIntegers, MatchExceptIntegers:
		if m.Kind == MatchAnyIntegers {
			dst = append(dst, `{"any":[`...)
		} else {
			dst = append(dst, `{"except":[`...)
		}
		for i, x := range m.Integers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, x, 10)
		}
		dst = append(dst, ']')
	case MatchText:
		dst = append(dst, `{"text":`...)
		dst = appendJSONString(dst, m.Text)
	case MatchPhrase:
		dst = append(dst, `{"phrase":`...)
		dst = appendJSONString(dst, m.Text)
	case MatchTextAny:
		dst = append(dst, `{"text_any":`...)
		dst = appendJSONString(dst, m.Text)
	default:
		return nil, fmt.Errorf("%w: unknown match kind %d", ErrInvalidFilter, m.Kind)
	}
	return append(dst, '}'), nil
}
