package filter

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload"
)

// testIndexes is an in-memory Indexes with id and vector resolution.
type testIndexes struct {
	m    map[string]payload.Index
	ids  map[PointID]uint32
	vecs map[string]*roaring.Bitmap
}

func (x *testIndexes) Index(key string) (payload.Index, bool) {
	ix, ok := x.m[key]
	return ix, ok
}

func (x *testIndexes) InternalID(id PointID) (uint32, bool) {
	in, ok := x.ids[id]
	return in, ok
}

func (x *testIndexes) VectorPoints(name string) *roaring.Bitmap { return x.vecs[name] }

// buildIndexes indexes the points' payloads at each key with the given
// index type.
func buildIndexes(t testing.TB, points []*testPoint, types map[string]payload.IndexParams) *testIndexes {
	x := &testIndexes{m: map[string]payload.Index{}, ids: map[PointID]uint32{}, vecs: map[string]*roaring.Bitmap{}}
	for key, params := range types {
		ix, err := payload.NewIndex(params)
		require.NoError(t, err)
		path := payload.MustParsePath(key)
		for i, p := range points {
			ix.Set(uint32(i), path.Find(p.payload, nil))
		}
		x.m[key] = ix
	}
	for i, p := range points {
		x.ids[p.id] = uint32(i)
		for _, v := range p.vectors {
			if x.vecs[v] == nil {
				x.vecs[v] = roaring.New()
			}
			x.vecs[v].Add(uint32(i))
		}
	}
	return x
}

var (
	vocab    = []string{"red", "green", "blue", "Red", "", "x y"}
	words    = []string{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Fox", "DOG"}
	uuids    = []string{"550e8400-e29b-41d4-a716-446655440000", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "00000000-0000-0000-0000-000000000001"}
	dtLayout = []string{"2020-01-%02dT%02d:00:00Z", "2020-01-%02d %02d:30:00", "2020-01-%02dT%02d:15:00+02:00"}
)

type gen struct{ r *rand.Rand }

func (g gen) n(k int) int           { return g.r.IntN(k) }
func (g gen) chance(p float64) bool { return g.r.Float64() < p }

func (g gen) pick(ss []string) string { return ss[g.n(len(ss))] }

func (g gen) array(n int, f func() payload.Value) payload.Value {
	vs := make([]payload.Value, n)
	for i := range vs {
		vs[i] = f()
	}
	return payload.ArrayValue(vs...)
}

func (g gen) uuidString() string {
	u := g.pick(uuids)
	switch g.n(4) {
	case 0:
		id, _ := ParseUUID(u)
		s := id.String()
		return s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	case 1:
		b := []byte(u)
		for i, c := range b {
			if c >= 'a' && c <= 'f' {
				b[i] = c - 'a' + 'A'
			}
		}
		return string(b)
	}
	return u
}

func (g gen) datetime() string {
	return fmt.Sprintf(g.pick(dtLayout), 1+g.n(9), g.n(24))
}

func (g gen) text() string {
	n := 1 + g.n(4)
	s := g.pick(words)
	for range n - 1 {
		s += " " + g.pick(words)
	}
	return s
}

func (g gen) geo() payload.Value {
	return payload.ObjectValue(
		payload.Field{Key: "lon", Value: payload.FloatValue(float64(g.n(100)-50) / 10)},
		payload.Field{Key: "lat", Value: payload.FloatValue(float64(g.n(100)-50) / 10)})
}

func (g gen) number() payload.Value {
	switch g.n(3) {
	case 0:
		return payload.IntValue(int64(g.n(9) - 3))
	case 1:
		return payload.FloatValue(float64(g.n(18)-6) / 2)
	}
	return payload.FloatValue(float64(g.n(5))) // integral floats
}

func (g gen) scalar() payload.Value {
	switch g.n(5) {
	case 0:
		return payload.NullValue()
	case 1:
		return payload.IntValue(int64(g.n(3)))
	case 2:
		return payload.StringValue(g.pick(vocab))
	case 3:
		return payload.BoolValue(g.chance(0.5))
	}
	return payload.ArrayValue()
}

// point makes a random payload. Indexed keys hold values of their index's
// type, plus values of other types that both the index and the condition
// checker ignore (see Filter.Plan).
func (g gen) payload() payload.Value {
	var fs []payload.Field
	add := func(k string, v payload.Value) {
		if g.chance(0.85) {
			fs = append(fs, payload.Field{Key: k, Value: v})
		}
	}
	kw := func() payload.Value { return payload.StringValue(g.pick(vocab)) }
	switch g.n(7) {
	case 0:
		add("kw", g.array(g.n(4), kw))
	case 1:
		add("kw", payload.IntValue(int64(g.n(3))))
	case 2:
		add("kw", payload.ArrayValue(payload.ArrayValue(kw())))
	case 3:
		add("kw", payload.NullValue())
	default:
		add("kw", kw())
	}
	ival := func() payload.Value { return payload.IntValue(int64(g.n(9) - 3)) }
	switch g.n(5) {
	case 0:
		add("i", g.array(g.n(4), ival))
	case 1:
		add("i", g.scalar())
	default:
		add("i", ival())
	}
	switch g.n(5) {
	case 0:
		add("n", g.array(g.n(4), g.number))
	case 1:
		add("n", g.scalar())
	default:
		add("n", g.number())
	}
	bval := func() payload.Value { return payload.BoolValue(g.chance(0.5)) }
	switch g.n(4) {
	case 0:
		add("b", g.array(g.n(3), bval))
	case 1:
		add("b", g.scalar())
	default:
		add("b", bval())
	}
	switch g.n(5) {
	case 0:
		add("dt", g.array(g.n(3), func() payload.Value { return payload.StringValue(g.datetime()) }))
	case 1:
		add("dt", payload.StringValue("not a date"))
	case 2:
		add("dt", g.scalar())
	default:
		add("dt", payload.StringValue(g.datetime()))
	}
	switch g.n(5) {
	case 0:
		add("geo", g.array(g.n(3), g.geo))
	case 1:
		add("geo", payload.ObjectValue(payload.Field{Key: "lon", Value: payload.StringValue("1")},
			payload.Field{Key: "lat", Value: payload.IntValue(1)}))
	case 2:
		add("geo", g.scalar())
	default:
		add("geo", g.geo())
	}
	switch g.n(5) {
	case 0:
		add("txt", g.array(g.n(3), func() payload.Value { return payload.StringValue(g.text()) }))
	case 1:
		add("txt", g.scalar())
	default:
		add("txt", payload.StringValue(g.text()))
	}
	switch g.n(4) {
	case 0:
		add("u", payload.StringValue("not-a-uuid"))
	case 1:
		add("u", g.array(g.n(3), func() payload.Value { return payload.StringValue(g.uuidString()) }))
	default:
		add("u", payload.StringValue(g.uuidString()))
	}
	elem := func() payload.Value {
		if g.chance(0.1) {
			return g.scalar()
		}
		var ef []payload.Field
		if g.chance(0.8) {
			ef = append(ef, payload.Field{Key: "x", Value: payload.IntValue(int64(g.n(4)))})
		}
		if g.chance(0.8) {
			ef = append(ef, payload.Field{Key: "y", Value: kw()})
		}
		if g.chance(0.5) {
			ef = append(ef, payload.Field{Key: "z", Value: g.array(g.n(3), func() payload.Value { return payload.IntValue(int64(g.n(4))) })})
		}
		if g.chance(0.2) {
			ef = append(ef, payload.Field{Key: "w", Value: g.array(1+g.n(2), func() payload.Value {
				return payload.ObjectValue(payload.Field{Key: "v", Value: payload.IntValue(int64(g.n(3)))})
			})})
		}
		return payload.ObjectValue(ef...)
	}
	if g.chance(0.9) {
		add("arr", g.array(g.n(4), elem))
	} else {
		add("arr", elem())
	}
	if g.chance(0.7) {
		add("obj", payload.ObjectValue(payload.Field{Key: "a", Value: payload.ObjectValue(
			payload.Field{Key: "b", Value: payload.IntValue(int64(g.n(4)))})}))
	} else {
		add("obj", payload.ObjectValue(payload.Field{Key: "a", Value: g.array(2, func() payload.Value {
			return payload.ObjectValue(payload.Field{Key: "b", Value: payload.IntValue(int64(g.n(4)))})
		})}))
	}
	add("e", g.scalar())
	return payload.ObjectValue(fs...)
}

func (g gen) path(s string) payload.Path { return payload.MustParsePath(s) }

func (g gen) float() *float64 {
	f := float64(g.n(18)-6) / 2
	return &f
}

func (g gen) rangeBounds() *payload.Range {
	r := &payload.Range{}
	for r.IsUnbounded() && g.chance(0.9) {
		switch g.n(4) {
		case 0:
			r.GT = g.float()
		case 1:
			r.GTE = g.float()
		case 2:
			r.LT = g.float()
		case 3:
			r.LTE = g.float()
		}
		if g.chance(0.5) {
			r.LT = g.float()
		}
	}
	return r
}

func (g gen) datetimeRange() *payload.DatetimeRange {
	bound := func() *time.Time {
		t, err := payload.ParseDatetime(g.datetime())
		if err != nil {
			panic(err)
		}
		return &t
	}
	r := &payload.DatetimeRange{}
	if g.chance(0.6) {
		r.GTE = bound()
	} else {
		r.GT = bound()
	}
	if g.chance(0.6) {
		r.LT = bound()
	}
	return r
}

func (g gen) geoPoint() payload.GeoPoint {
	return payload.GeoPoint{Lon: float64(g.n(100)-50) / 10, Lat: float64(g.n(100)-50) / 10}
}

// field makes a random field condition on a top-level key.
func (g gen) field() *Field {
	switch g.n(22) {
	case 0:
		return &Field{Key: g.path("kw"), Match: NewMatchKeyword(g.pick(vocab))}
	case 1:
		return &Field{Key: g.path("kw"), Match: NewMatchAnyKeywords(g.pick(vocab), g.pick(vocab))}
	case 2:
		return &Field{Key: g.path("kw"), Match: NewMatchExceptKeywords(g.pick(vocab), g.pick(vocab))}
	case 3:
		return &Field{Key: g.path(g.pick([]string{"i", "n", "obj.a.b", "obj.a[].b", "kw"})), Match: NewMatchInteger(int64(g.n(7) - 3))}
	case 4:
		return &Field{Key: g.path(g.pick([]string{"i", "n"})), Match: NewMatchAnyIntegers(int64(g.n(5)-2), int64(g.n(5)-2))}
	case 5:
		return &Field{Key: g.path(g.pick([]string{"i", "n"})), Match: NewMatchExceptIntegers(int64(g.n(5) - 2))}
	case 6:
		return &Field{Key: g.path("b"), Match: NewMatchBool(g.chance(0.5))}
	case 7:
		kind := []MatchKind{MatchText, MatchPhrase, MatchTextAny}[g.n(3)]
		q := g.text()
		if g.chance(0.1) {
			q = "unknownword " + q
		}
		if g.chance(0.05) {
			q = " "
		}
		return &Field{Key: g.path("txt"), Match: NewMatchText(kind, q)}
	case 8, 9:
		return &Field{Key: g.path(g.pick([]string{"i", "n", "obj.a.b"})), Range: g.rangeBounds()}
	case 10:
		return &Field{Key: g.path("dt"), DatetimeRange: g.datetimeRange()}
	case 11:
		a, b := g.geoPoint(), g.geoPoint()
		return &Field{Key: g.path("geo"), GeoBoundingBox: &payload.GeoBoundingBox{
			TopLeft:     payload.GeoPoint{Lon: min(a.Lon, b.Lon), Lat: max(a.Lat, b.Lat)},
			BottomRight: payload.GeoPoint{Lon: max(a.Lon, b.Lon), Lat: min(a.Lat, b.Lat)}}}
	case 12:
		return &Field{Key: g.path("geo"), GeoRadius: &payload.GeoRadius{Center: g.geoPoint(), Radius: float64(g.n(500_000))}}
	case 13:
		c := g.geoPoint()
		d := float64(1+g.n(30)) / 10
		ring := []payload.GeoPoint{{Lon: c.Lon - d, Lat: c.Lat - d}, {Lon: c.Lon + d, Lat: c.Lat - d},
			{Lon: c.Lon + d, Lat: c.Lat + d}, {Lon: c.Lon - d, Lat: c.Lat + d}, {Lon: c.Lon - d, Lat: c.Lat - d}}
		return &Field{Key: g.path("geo"), GeoPolygon: &payload.GeoPolygon{Exterior: ring}}
	case 14:
		lt := uint64(g.n(4))
		return &Field{Key: g.path(g.pick([]string{"kw", "arr", "i", "arr[].z"})), ValuesCount: &ValuesCount{LT: &lt}}
	case 15:
		gte := uint64(g.n(4))
		return &Field{Key: g.path(g.pick([]string{"kw", "arr", "e"})), ValuesCount: &ValuesCount{GTE: &gte}}
	case 16:
		return &Field{Key: g.path(g.pick([]string{"e", "kw", "arr[].x"})), IsEmpty: ptr(g.chance(0.5))}
	case 17:
		return &Field{Key: g.path(g.pick([]string{"e", "kw", "arr[].x"})), IsNull: ptr(g.chance(0.5))}
	case 18:
		return &Field{Key: g.path("u"), Match: NewMatchKeyword(g.uuidString())}
	case 19:
		return &Field{Key: g.path("u"), Match: NewMatchAnyKeywords(g.uuidString(), g.pick([]string{"not-a-uuid", g.uuidString()}))}
	case 20:
		return &Field{Key: g.path(g.pick([]string{"arr[].x", "arr[].y"})), Match: NewMatchKeyword(g.pick(vocab)), Range: g.rangeBounds()}
	}
	return &Field{Key: g.path("arr[].x"), Match: NewMatchInteger(int64(g.n(4)))}
}

// nestedField makes a condition on the keys of an "arr" element.
func (g gen) nestedField() Condition {
	switch g.n(9) {
	case 0, 1:
		return &Field{Key: g.path("x"), Match: NewMatchInteger(int64(g.n(4)))}
	case 2:
		return &Field{Key: g.path("x"), Range: g.rangeBounds()}
	case 3:
		return &Field{Key: g.path("y"), Match: NewMatchKeyword(g.pick(vocab))}
	case 4:
		return &Field{Key: g.path("z"), Match: NewMatchAnyIntegers(int64(g.n(4)))}
	case 5:
		return &IsEmpty{Key: g.path(g.pick([]string{"x", "z"}))}
	case 6:
		return NewHasID(NumID(uint64(g.n(10))))
	case 7:
		return &Nested{Key: g.path("w"), Filter: &Filter{Must: []Condition{&Field{Key: g.path("v"), Match: NewMatchInteger(int64(g.n(3)))}}}}
	}
	return &Field{Key: g.path("y"), Match: NewMatchExceptKeywords(g.pick(vocab))}
}

func (g gen) condition(depth int, nested bool) Condition {
	if depth > 0 && g.chance(0.2) {
		return g.filter(depth-1, nested)
	}
	if nested {
		return g.nestedField()
	}
	switch g.n(12) {
	case 0:
		ids := make([]PointID, g.n(5))
		for i := range ids {
			ids[i] = NumID(uint64(g.n(40)))
		}
		return NewHasID(ids...)
	case 1:
		return &HasVector{Name: g.pick([]string{"", "image", "nope"})}
	case 2:
		return &IsEmpty{Key: g.path(g.pick([]string{"e", "kw", "arr", "arr[].x", "i"}))}
	case 3:
		return &IsNull{Key: g.path(g.pick([]string{"e", "kw", "arr[].y"}))}
	case 4:
		key := g.pick([]string{"arr", "arr[]"})
		return &Nested{Key: g.path(key), Filter: g.filter(min(depth, 1), true)}
	}
	return g.field()
}

func (g gen) clause(depth int, nested bool) []Condition {
	if g.chance(0.4) {
		return nil
	}
	cs := make([]Condition, g.n(4))
	for i := range cs {
		cs[i] = g.condition(depth, nested)
	}
	return cs
}

func (g gen) filter(depth int, nested bool) *Filter {
	f := &Filter{Must: g.clause(depth, nested), Should: g.clause(depth, nested), MustNot: g.clause(depth, nested)}
	if g.chance(0.2) {
		cs := make([]Condition, g.n(4))
		for i := range cs {
			cs[i] = g.condition(depth, nested)
		}
		f.MinShould = &MinShould{Conditions: cs, MinCount: g.n(len(cs) + 2)}
	}
	return f
}

func (g gen) points(n int) []*testPoint {
	pts := make([]*testPoint, n)
	for i := range pts {
		p := &testPoint{id: NumID(uint64(i)), payload: g.payload()}
		if g.chance(0.1) {
			var u [16]byte
			u[0], u[15] = byte(i>>8), byte(i)
			p.id = UUIDID(u)
		}
		if g.chance(0.7) {
			p.vectors = append(p.vectors, "")
		}
		if g.chance(0.4) {
			p.vectors = append(p.vectors, "image")
		}
		pts[i] = p
	}
	return pts
}

// indexTypes is one index per key, of the type its values have.
var indexTypes = map[string]payload.IndexParams{
	"kw":      {Type: payload.TypeKeyword},
	"i":       {Type: payload.TypeInteger},
	"n":       {Type: payload.TypeFloat},
	"b":       {Type: payload.TypeBool},
	"dt":      {Type: payload.TypeDatetime},
	"geo":     {Type: payload.TypeGeo},
	"txt":     {Type: payload.TypeText, Text: payload.TextParams{PhraseMatching: true}},
	"u":       {Type: payload.TypeUUID},
	"arr[].x": {Type: payload.TypeInteger},
	"arr[].y": {Type: payload.TypeKeyword},
	"arr[].z": {Type: payload.TypeInteger},
	"obj.a.b": {Type: payload.TypeInteger},
	"e":       {Type: payload.TypeKeyword},
}

// hasEstimateCaveat reports whether f holds a condition whose estimate is
// not a bound: a nested condition (estimated from point-level counts).
// Empty clauses are no caveat: on whole points they impose nothing and
// the estimator skips them.
func hasEstimateCaveat(f *Filter) bool {
	var walk func(cs []Condition) bool
	walkFilter := func(f *Filter) bool {
		if walk(f.Must) || walk(f.Should) || walk(f.MustNot) {
			return true
		}
		return f.MinShould != nil && walk(f.MinShould.Conditions)
	}
	walk = func(cs []Condition) bool {
		for _, c := range cs {
			switch c := c.(type) {
			case *Nested:
				return true
			case *Filter:
				if walkFilter(c) {
					return true
				}
			}
		}
		return false
	}
	return walkFilter(f)
}

// bruteMatches is a reference for how clauses combine, written straight
// from Qdrant's observed behaviour, to check Evaluator against: on whole
// points an empty should, and a min_should of no conditions, impose nothing
// (Qdrant's filter optimizer drops them); inside a nested condition, each
// array element that is an object is checked with the clauses as written,
// so should: [] holds for no element. Leaf conditions are evaluated one by
// one by a plain Evaluator (their semantics have their own tests).
func bruteMatches(f *Filter, p *testPoint, nested bool) bool {
	var cond func(c Condition) bool
	cond = func(c Condition) bool {
		switch c := c.(type) {
		case *Filter:
			return bruteMatches(c, p, nested)
		case *Nested:
			if c.Filter == nil {
				return false
			}
			var elems []payload.Value
			for _, v := range c.Key.Find(p.payload, nil) {
				switch {
				case strings.HasSuffix(c.Key.String(), "[]"):
					elems = append(elems, v)
				case v.Kind() == payload.Array:
					elems = append(elems, v.Array()...)
				}
			}
			for _, e := range elems {
				if e.Kind() == payload.Object && bruteMatches(c.Filter, &testPoint{payload: e}, true) {
					return true
				}
			}
			return false
		case *HasID, *HasVector:
			if nested {
				return false
			}
		}
		return NewEvaluator(nil).Matches(&Filter{Must: []Condition{c}}, p)
	}
	count := func(cs []Condition) int {
		n := 0
		for _, c := range cs {
			if cond(c) {
				n++
			}
		}
		return n
	}
	if f.Should != nil && (nested || len(f.Should) > 0) && count(f.Should) == 0 {
		return false
	}
	if m := f.MinShould; m != nil && (nested || len(m.Conditions) > 0) && count(m.Conditions) < m.MinCount {
		return false
	}
	return count(f.Must) == len(f.Must) && count(f.MustNot) == 0
}

// TestDifferential runs random filters over random payloads and checks that
// planning (candidates, then the residual unless exact) agrees point for
// point with plain evaluation, with an index on every key and with none.
func TestDifferential(t *testing.T) {
	const nPoints = 300
	nFilters := 3000
	if testing.Short() {
		nFilters = 500
	}
	g := gen{rand.New(rand.NewPCG(1, 2))}
	pts := g.points(nPoints)
	all := roaring.New()
	all.AddRange(0, nPoints)
	idx := buildIndexes(t, pts, indexTypes)
	withIdx := NewEvaluator(idx)
	plain := NewEvaluator(nil)

	stats := map[string]int{}
	for fi := range nFilters {
		f := g.filter(2, false)
		require.NoError(t, f.Validate())
		js, err := f.MarshalJSON()
		require.NoError(t, err)
		back, err := ParseJSON(js)
		require.NoError(t, err, "%s", js)
		js2, err := back.MarshalJSON()
		require.NoError(t, err)
		require.Equal(t, string(js), string(js2))

		for _, mode := range []struct {
			name string
			idx  Indexes
			ev   *Evaluator
		}{{"indexed", idx, withIdx}, {"plain", nil, plain}} {
			plan := f.Plan(mode.idx, nPoints, all)
			chk := NewChecker(f, mode.idx, mode.ev)
			dense, denseOK := Dense(f, mode.idx, nPoints, nil)
			if denseOK {
				stats[mode.name+" dense"]++
			}
			actual := 0
			for i, p := range pts {
				want := mode.ev.Matches(f, p)
				if mode.idx == nil {
					require.Equal(t, want, f.Matches(p))
					require.Equal(t, bruteMatches(f, p, false), want, "filter %d %s: evaluator disagrees with the reference on point %d\npayload %s",
						fi, js, i, p.payload)
				}
				in := plan.Candidates == nil || plan.Candidates.Contains(uint32(i))
				if want {
					actual++
					require.True(t, in, "filter %d (%s) %s: point %d matches but is not a candidate\npayload %s",
						fi, mode.name, js, i, p.payload)
				}
				if plan.Exact {
					require.Equal(t, want, in, "filter %d (%s) %s: exact plan disagrees on point %d\npayload %s",
						fi, mode.name, js, i, p.payload)
				}
				require.Equal(t, want, plan.Check(mode.ev, uint32(i), p))
				if denseOK {
					require.Equal(t, want, dense[i/64]&(1<<(i%64)) != 0, "filter %d (%s) %s: dense bitset disagrees on point %d\npayload %s",
						fi, mode.name, js, i, p.payload)
				}
				require.Equal(t, want, chk.Check(uint32(i), p), "filter %d (%s) %s: checker disagrees on point %d\npayload %s",
					fi, mode.name, js, i, p.payload)
			}
			e := plan.Estimate
			require.True(t, 0 <= e.Min && e.Min <= e.Max && e.Max <= nPoints && e.Exp >= 0 && e.Exp <= nPoints,
				"filter %s: estimate %+v", js, e)
			// The cheap estimate bounds the matches too.
			ce := f.Estimate(mode.idx, nPoints)
			require.True(t, 0 <= ce.Min && ce.Min <= ce.Max && ce.Max <= nPoints && ce.Exp >= 0 && ce.Exp <= nPoints,
				"filter %s: cheap estimate %+v", js, ce)
			if !hasEstimateCaveat(f) {
				require.True(t, e.Min <= actual && actual <= e.Max,
					"filter %d (%s) %s: %d matches outside estimate %+v", fi, mode.name, js, actual, e)
				require.True(t, ce.Min <= actual && actual <= ce.Max,
					"filter %d (%s) %s: %d matches outside cheap estimate %+v", fi, mode.name, js, actual, ce)
			}
			stats[mode.name+" plans"]++
			if plan.Candidates != nil {
				stats[mode.name+" with candidates"]++
			}
			if plan.Exact {
				stats[mode.name+" exact"]++
			}
			if actual > 0 {
				stats[mode.name+" non-empty"]++
			}
		}
	}
	t.Logf("%v", stats)
	// The generator must exercise both outcomes.
	require.Greater(t, stats["indexed with candidates"], nFilters/10)
	require.Greater(t, stats["indexed exact"], nFilters/10)
	require.Greater(t, stats["indexed non-empty"], nFilters/10)
}
