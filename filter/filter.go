package filter

import (
	"errors"
	"fmt"
	"math"

	"github.com/qlite/qlite/payload"
)

// ErrInvalidFilter is wrapped by every error ParseJSON and Validate return.
var ErrInvalidFilter = errors.New("qlite: invalid filter")

// Error is a filter parse or validation error. It wraps ErrInvalidFilter.
type Error struct {
	// Path locates the offending part, e.g. "filter.must[2].match".
	Path string
	// Msg says what is wrong.
	Msg string
	// Validation is true when the JSON has the right shape but breaks a
	// validation rule (Qdrant answers those with HTTP 422 "Validation error
	// in JSON body"); false for malformed input (HTTP 400 "Format error in
	// JSON body").
	Validation bool
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// Unwrap returns ErrInvalidFilter.
func (e *Error) Unwrap() error { return ErrInvalidFilter }

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Filter is Qdrant's Filter: a point matches when every present clause
// holds. A nil clause is absent and imposes nothing. Empty clauses impose
// nothing either on whole points: Must: [], MustNot: [], Should: [] and a
// MinShould with no conditions hold for every point, as in Qdrant, whose
// filter optimizer drops them (lib/segment/src/index/query_optimization/
// optimizer.rs). Inside a nested condition, where Qdrant checks array
// elements clause by clause, a present empty Should, and a MinShould with
// no conditions and a positive MinCount, hold for no element; so a present
// empty clause is kept distinct from an absent one (the gRPC API cannot
// tell them apart, and converters from protobuf leave such clauses nil).
//
// A nil *Filter matches every point.
type Filter struct {
	// Should holds when at least one of its conditions matches.
	Should []Condition
	// MinShould holds when at least MinCount of its conditions match.
	MinShould *MinShould
	// Must holds when all of its conditions match.
	Must []Condition
	// MustNot holds when none of its conditions match.
	MustNot []Condition
}

// MinShould is the min_should clause.
type MinShould struct {
	Conditions []Condition
	MinCount   int
}

// Condition is one filter condition: *Field, *IsEmpty, *IsNull, *HasID,
// *HasVector, *Nested, or a *Filter nested as a condition.
type Condition interface {
	isCondition()
}

func (*Field) isCondition()     {}
func (*IsEmpty) isCondition()   {}
func (*IsNull) isCondition()    {}
func (*HasID) isCondition()     {}
func (*HasVector) isCondition() {}
func (*Nested) isCondition()    {}
func (*Filter) isCondition()    {}

// Field is Qdrant's FieldCondition: a test of the values at Key. At least
// one test must be set. When several are set they combine as in Qdrant:
// ValuesCount alone decides if set; otherwise IsEmpty alone if set;
// otherwise IsNull alone if set; otherwise a value matches when any of
// Match, Range, DatetimeRange and the geo tests accepts it.
type Field struct {
	Key            payload.Path
	Match          *Match
	Range          *payload.Range
	DatetimeRange  *payload.DatetimeRange
	GeoBoundingBox *payload.GeoBoundingBox
	GeoRadius      *payload.GeoRadius
	GeoPolygon     *payload.GeoPolygon
	ValuesCount    *ValuesCount
	// IsEmpty and IsNull are the field-condition forms of is_empty and
	// is_null ({"key": k, "is_empty": true}); they differ from the IsEmpty
	// and IsNull conditions on multi-valued keys, as in Qdrant.
	IsEmpty *bool
	IsNull  *bool
}

// parts counts the tests set on f.
func (f *Field) parts() int {
	n := 0
	for _, set := range [...]bool{f.Match != nil, f.Range != nil, f.DatetimeRange != nil,
		f.GeoBoundingBox != nil, f.GeoRadius != nil, f.GeoPolygon != nil,
		f.ValuesCount != nil, f.IsEmpty != nil, f.IsNull != nil} {
		if set {
			n++
		}
	}
	return n
}

// MatchKind is the variant of a Match.
type MatchKind uint8

// Match variants. Keyword, Integer and Bool are match.value; AnyKeywords
// and AnyIntegers are match.any; ExceptKeywords and ExceptIntegers are
// match.except; Text, Phrase and TextAny are full-text matches.
const (
	MatchKeyword MatchKind = iota + 1
	MatchInteger
	MatchBool
	MatchAnyKeywords
	MatchAnyIntegers
	MatchExceptKeywords
	MatchExceptIntegers
	MatchText
	MatchPhrase
	MatchTextAny
)

var matchKindNames = [...]string{"", "keyword", "integer", "bool", "any keywords", "any integers",
	"except keywords", "except integers", "text", "phrase", "text_any"}

func (k MatchKind) String() string {
	if int(k) < len(matchKindNames) && k != 0 {
		return matchKindNames[k]
	}
	return fmt.Sprintf("MatchKind(%d)", int(k))
}

// Match is the match test of a Field. Which fields are used depends on
// Kind: Keyword (MatchKeyword), Integer (MatchInteger), Bool (MatchBool),
// Keywords (MatchAnyKeywords, MatchExceptKeywords), Integers
// (MatchAnyIntegers, MatchExceptIntegers), Text (MatchText, MatchPhrase,
// MatchTextAny). Build Matches with the constructors (NewMatchKeyword...,
// NewMatchAny..., NewMatchExcept..., NewMatchText) or ParseJSON: they also build
// the lookup sets that keep long any/except lists fast.
type Match struct {
	Kind     MatchKind
	Keyword  string
	Integer  int64
	Bool     bool
	Keywords []string
	Integers []int64
	Text     string

	kwSet  map[string]struct{}
	intSet map[int64]struct{}
}

// setThreshold is the list length from which any/except lists are looked
// up in a map rather than scanned.
const setThreshold = 16

// NewMatchKeyword returns match {value: s}.
func NewMatchKeyword(s string) *Match { return &Match{Kind: MatchKeyword, Keyword: s} }

// NewMatchInteger returns match {value: i}.
func NewMatchInteger(i int64) *Match { return &Match{Kind: MatchInteger, Integer: i} }

// NewMatchBool returns match {value: b}.
func NewMatchBool(b bool) *Match { return &Match{Kind: MatchBool, Bool: b} }

// NewMatchAnyKeywords returns match {any: ss}; duplicates are dropped.
func NewMatchAnyKeywords(ss ...string) *Match {
	m := &Match{Kind: MatchAnyKeywords, Keywords: dedupeStrings(ss)}
	m.buildSets()
	return m
}

// NewMatchAnyIntegers returns match {any: is}; duplicates are dropped.
func NewMatchAnyIntegers(is ...int64) *Match {
	m := &Match{Kind: MatchAnyIntegers, Integers: dedupeInts(is)}
	m.buildSets()
	return m
}

// NewMatchExceptKeywords returns match {except: ss}; duplicates are dropped.
func NewMatchExceptKeywords(ss ...string) *Match {
	m := &Match{Kind: MatchExceptKeywords, Keywords: dedupeStrings(ss)}
	m.buildSets()
	return m
}

// NewMatchExceptIntegers returns match {except: is}; duplicates are dropped.
func NewMatchExceptIntegers(is ...int64) *Match {
	m := &Match{Kind: MatchExceptIntegers, Integers: dedupeInts(is)}
	m.buildSets()
	return m
}

// NewMatchText returns a full-text match: kind is MatchText, MatchPhrase
// or MatchTextAny.
func NewMatchText(kind MatchKind, text string) *Match { return &Match{Kind: kind, Text: text} }

func (m *Match) buildSets() {
	m.kwSet, m.intSet = nil, nil
	if len(m.Keywords) >= setThreshold {
		m.kwSet = make(map[string]struct{}, len(m.Keywords))
		for _, s := range m.Keywords {
			m.kwSet[s] = struct{}{}
		}
	}
	if len(m.Integers) >= setThreshold {
		m.intSet = make(map[int64]struct{}, len(m.Integers))
		for _, i := range m.Integers {
			m.intSet[i] = struct{}{}
		}
	}
}

func (m *Match) hasKeyword(s string) bool {
	if m.kwSet != nil {
		_, ok := m.kwSet[s]
		return ok
	}
	for _, k := range m.Keywords {
		if k == s {
			return true
		}
	}
	return false
}

func (m *Match) hasInteger(i int64) bool {
	if m.intSet != nil {
		_, ok := m.intSet[i]
		return ok
	}
	for _, k := range m.Integers {
		if k == i {
			return true
		}
	}
	return false
}

func dedupeStrings(ss []string) []string {
	out := make([]string, 0, len(ss))
	seen := make(map[string]struct{}, len(ss))
	for _, s := range ss {
		if _, ok := seen[s]; !ok {
			seen[s] = struct{}{}
			out = append(out, s)
		}
	}
	return out
}

func dedupeInts(is []int64) []int64 {
	out := make([]int64, 0, len(is))
	seen := make(map[int64]struct{}, len(is))
	for _, i := range is {
		if _, ok := seen[i]; !ok {
			seen[i] = struct{}{}
			out = append(out, i)
		}
	}
	return out
}

// ValuesCount is the values_count test: bounds on the number of values at
// the key. Nil bounds are absent.
type ValuesCount struct {
	GT, GTE, LT, LTE *uint64
}

// Contains reports whether n satisfies every bound.
func (c ValuesCount) Contains(n uint64) bool {
	return (c.GT == nil || n > *c.GT) && (c.GTE == nil || n >= *c.GTE) &&
		(c.LT == nil || n < *c.LT) && (c.LTE == nil || n <= *c.LTE)
}

// IsEmpty is the is_empty condition: true when the key is missing, or every
// value at it is null or [].
type IsEmpty struct {
	Key payload.Path
}

// IsNull is the is_null condition: true when some value at the key is null
// (an array holding a null is not null).
type IsNull struct {
	Key payload.Path
}

// HasID is the has_id condition: the point's id is one of IDs. Build it
// with NewHasID or ParseJSON to get a hashed lookup for long lists.
type HasID struct {
	IDs []PointID

	set map[PointID]struct{}
}

// NewHasID returns a has_id condition over ids; duplicates are dropped.
func NewHasID(ids ...PointID) *HasID {
	h := &HasID{IDs: make([]PointID, 0, len(ids))}
	seen := make(map[PointID]struct{}, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			h.IDs = append(h.IDs, id)
		}
	}
	if len(h.IDs) >= setThreshold {
		h.set = seen
	}
	return h
}

func (h *HasID) contains(id PointID) bool {
	if h.set != nil {
		_, ok := h.set[id]
		return ok
	}
	for _, x := range h.IDs {
		if x == id {
			return true
		}
	}
	return false
}

// HasVector is the has_vector condition: the point has the named vector
// ("" is the unnamed default vector).
type HasVector struct {
	Name string
}

// Nested is the nested condition: Filter is applied to each object element
// of the array at Key (Key or Key[] mean the same), and the point matches
// when some element does. Inside Filter, keys are relative to the element,
// and has_id and has_vector never match, as in Qdrant.
type Nested struct {
	Key    payload.Path
	Filter *Filter
}

// Validate checks a filter built in code (ParseJSON already validates what
// it returns): every field condition sets at least one test with sane
// bounds, geo shapes are valid, nested conditions have a key and a filter,
// paths are set, and min_count is not negative.
func (f *Filter) Validate() error {
	if f == nil {
		return nil
	}
	return f.validate("filter")
}

func (f *Filter) validate(path string) error {
	check := func(name string, cs []Condition) error {
		for i, c := range cs {
			// The path of a condition is written only for its error: a
			// valid filter is checked without formatting one per query.
			if validateCondition("", c) == nil {
				continue
			}
			if err := validateCondition(fmt.Sprintf("%s.%s[%d]", path, name, i), c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check("should", f.Should); err != nil {
		return err
	}
	if f.MinShould != nil {
		if f.MinShould.MinCount < 0 {
			return errorf(path+".min_should.min_count", "must not be negative")
		}
		if err := check("min_should.conditions", f.MinShould.Conditions); err != nil {
			return err
		}
	}
	if err := check("must", f.Must); err != nil {
		return err
	}
	return check("must_not", f.MustNot)
}

func validateCondition(path string, c Condition) error {
	switch c := c.(type) {
	case *Field:
		if c == nil {
			return errorf(path, "nil condition")
		}
		return c.validate(path)
	case *IsEmpty:
		if c == nil || c.Key.IsZero() {
			return errorf(path+".is_empty.key", "missing key")
		}
	case *IsNull:
		if c == nil || c.Key.IsZero() {
			return errorf(path+".is_null.key", "missing key")
		}
	case *HasID:
		if c == nil {
			return errorf(path, "nil condition")
		}
	case *HasVector:
		if c == nil {
			return errorf(path, "nil condition")
		}
	case *Nested:
		if c == nil || c.Key.IsZero() {
			return errorf(path+".nested.key", "missing key")
		}
		if c.Filter == nil {
			return errorf(path+".nested.filter", "missing filter")
		}
		return c.Filter.validate(path + ".nested.filter")
	case *Filter:
		if c == nil {
			return errorf(path, "nil condition")
		}
		return c.validate(path)
	case *invalid:
		return errorf(path, "%s: %v", c.call, c.err)
	default:
		return errorf(path, "unknown condition type %T", c)
	}
	return nil
}

func (f *Field) validate(path string) error {
	if f.Key.IsZero() {
		return errorf(path+".key", "missing key")
	}
	if f.parts() == 0 {
		e := errorf(path, "At least one field condition must be specified")
		e.Validation = true
		return e
	}
	if m := f.Match; m != nil && (m.Kind < MatchKeyword || m.Kind > MatchTextAny) {
		return errorf(path+".match", "unknown match kind %d", m.Kind)
	}
	if r := f.Range; r != nil {
		for _, b := range [...]*float64{r.GT, r.GTE, r.LT, r.LTE} {
			if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
				return errorf(path+".range", "bounds must be finite numbers")
			}
		}
	}
	if b := f.GeoBoundingBox; b != nil {
		if err := validGeoPoint(path+".geo_bounding_box.top_left", b.TopLeft); err != nil {
			return err
		}
		if err := validGeoPoint(path+".geo_bounding_box.bottom_right", b.BottomRight); err != nil {
			return err
		}
	}
	if r := f.GeoRadius; r != nil {
		if err := validGeoPoint(path+".geo_radius.center", r.Center); err != nil {
			return err
		}
		if math.IsNaN(r.Radius) || math.IsInf(r.Radius, 0) {
			return errorf(path+".geo_radius.radius", "must be a finite number")
		}
	}
	if g := f.GeoPolygon; g != nil {
		if err := validRing(path+".geo_polygon.exterior", g.Exterior); err != nil {
			return err
		}
		for i, ring := range g.Interiors {
			if err := validRing(fmt.Sprintf("%s.geo_polygon.interiors[%d]", path, i), ring); err != nil {
				return err
			}
		}
	}
	return nil
}

func validGeoPoint(path string, p payload.GeoPoint) error {
	if !(p.Lon >= -180 && p.Lon <= 180 && p.Lat >= -90 && p.Lat <= 90) {
		return errorf(path, "Wrong format of GeoPoint payload: expected `lat` = %v within [-90;90] and `lon` = %v within [-180;180]", p.Lat, p.Lon)
	}
	return nil
}

func validRing(path string, ring []payload.GeoPoint) error {
	for i, p := range ring {
		if err := validGeoPoint(fmt.Sprintf("%s.points[%d]", path, i), p); err != nil {
			return err
		}
	}
	if len(ring) <= 3 {
		return errorf(path, "polygon invalid, the size must be at least 4, got %d", len(ring))
	}
	first, last := ring[0], ring[len(ring)-1]
	if math.Abs(first.Lat-last.Lat) > epsilon64 || math.Abs(first.Lon-last.Lon) > epsilon64 {
		return errorf(path, "polygon invalid, the first and the last points should be the same to form a closed line")
	}
	return nil
}

// epsilon64 is Rust's f64::EPSILON, the tolerance Qdrant uses to decide
// that a polygon ring is closed.
const epsilon64 = 2.220446049250313e-16
