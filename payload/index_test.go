package payload

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// model is the brute-force oracle of the differential tests: the raw values
// each point was given.
type model map[uint32][]Value

// scan returns the points whose values (arrays expanded one level) have one
// that satisfies pred.
func (m model) scan(pred func(Value) bool) *roaring.Bitmap {
	out := roaring.New()
	for id, vals := range m {
		found := false
		forEachValue(vals, func(v Value) {
			if !found && pred(v) {
				found = true
			}
		})
		if found {
			out.Add(id)
		}
	}
	return out
}

// churn applies random sets and removes to x and m: every point is set,
// some are set again, some removed.
func churn(t *testing.T, rng *rand.Rand, x Index, m model, n int, gen func() []Value) {
	t.Helper()
	for i := 0; i < n; i++ {
		id := uint32(i)
		vals := gen()
		x.Set(id, vals)
		m[id] = vals
	}
	for i := 0; i < n; i++ {
		id := uint32(rng.IntN(n))
		switch rng.IntN(4) {
		case 0:
			x.Remove(id)
			delete(m, id)
		case 1, 2:
			vals := gen()
			x.Set(id, vals)
			m[id] = vals
		}
	}
}

func checkSame(t *testing.T, what string, got, want *roaring.Bitmap) {
	t.Helper()
	if !got.Equals(want) {
		extra := roaring.AndNot(got, want)
		missing := roaring.AndNot(want, got)
		t.Fatalf("%s: got %d points, want %d; extra %v, missing %v", what, got.GetCardinality(), want.GetCardinality(),
			head(extra), head(missing))
	}
}

func head(b *roaring.Bitmap) []uint32 {
	a := b.ToArray()
	return a[:min(len(a), 10)]
}

func checkEstimate(t *testing.T, what string, est int, exact *roaring.Bitmap, mustBeExact bool) {
	t.Helper()
	n := int(exact.GetCardinality())
	if est < n || (mustBeExact && est != n) {
		t.Fatalf("%s: estimate %d, exact %d", what, est, n)
	}
}

// checkPoints compares the index's point set with the oracle's.
func checkPoints(t *testing.T, x Index, m model, indexed func(Value) bool) {
	t.Helper()
	want := m.scan(indexed)
	checkSame(t, "Points", x.Points(), want)
	if x.Len() != int(want.GetCardinality()) {
		t.Fatalf("Len = %d, want %d", x.Len(), want.GetCardinality())
	}
	if x.MemoryBytes() <= 0 {
		t.Fatalf("MemoryBytes = %d", x.MemoryBytes())
	}
}

func mustIndex(t *testing.T, p IndexParams) Index {
	t.Helper()
	x, err := NewIndex(p)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// multi returns 0-3 values from gen, as a single value, an array, or
// nothing; sometimes wrapped with values of other types.
func multi(rng *rand.Rand, gen func() Value) []Value {
	noise := []Value{NullValue(), BoolValue(true), StringValue("x"), IntValue(7), FloatValue(2.5),
		ObjectValue(Field{"a", IntValue(1)}), ArrayValue(ArrayValue(gen()))}
	switch rng.IntN(6) {
	case 0:
		return nil
	case 1:
		return []Value{noise[rng.IntN(len(noise))]}
	case 2, 3:
		return []Value{gen()}
	case 4:
		elems := make([]Value, rng.IntN(4))
		for i := range elems {
			if rng.IntN(5) == 0 {
				elems[i] = noise[rng.IntN(len(noise))]
			} else {
				elems[i] = gen()
			}
		}
		return []Value{ArrayValue(elems...)}
	}
	// Two paths' worth of values, as Path.Find can return for a[].b.
	return []Value{gen(), gen()}
}

const diffPoints = 2000

func TestKeywordIndexDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"red", "green", "blue", "Red", "", "x", "ünï", "7"}
	word := func() string { return words[rng.IntN(len(words))] }
	x := mustIndex(t, IndexParams{Type: TypeKeyword}).(*KeywordIndex)
	m := model{}
	churn(t, rng, x, m, diffPoints, func() []Value { return multi(rng, func() Value { return StringValue(word()) }) })
	isStr := func(v Value) bool { _, ok := v.Str(); return ok }
	checkPoints(t, x, m, isStr)
	for q := 0; q < 200; q++ {
		s := word()
		want := m.scan(func(v Value) bool { w, ok := v.Str(); return ok && w == s })
		checkSame(t, "Match "+s, x.Match(s), want)
		checkEstimate(t, "Estimate", x.Estimate(s), want, true)
		ss := []string{word(), word(), "absent"}
		want = m.scan(func(v Value) bool { w, ok := v.Str(); return ok && slices.Contains(ss, w) })
		checkSame(t, fmt.Sprint("MatchAny ", ss), x.MatchAny(ss), want)
		checkEstimate(t, "EstimateAny", x.EstimateAny(ss), want, false)
		want = m.scan(func(v Value) bool { w, ok := v.Str(); return ok && !slices.Contains(ss, w) })
		checkSame(t, fmt.Sprint("MatchExcept ", ss), x.MatchExcept(ss), want)
	}
	// Results belong to the caller.
	r := x.Match("red")
	r.Clear()
	if x.Match("red").IsEmpty() {
		t.Fatal("clearing a result changed the index")
	}
	for id := range uint32(diffPoints) {
		var want []string
		forEachValue(m[id], func(v Value) {
			if s, ok := v.Str(); ok && !slices.Contains(want, s) {
				want = append(want, s)
			}
		})
		if got := x.Values(id); !slices.Equal(got, want) {
			t.Fatalf("Values(%d) = %q, want %q", id, got, want)
		}
		if x.ValuesCount(id) != len(want) {
			t.Fatalf("ValuesCount(%d) = %d, want %d", id, x.ValuesCount(id), len(want))
		}
	}
}

// randRange returns a random range over [-lim, lim], with integer or
// fractional bounds.
func randRange(rng *rand.Rand, lim float64) Range {
	var r Range
	bound := func() *float64 {
		f := math.Round((rng.Float64()*2 - 1) * lim)
		if rng.IntN(3) == 0 {
			f += rng.Float64() - 0.5
		}
		return &f
	}
	for r.IsUnbounded() && rng.IntN(8) != 0 {
		switch rng.IntN(4) {
		case 0:
			r.GT = bound()
		case 1:
			r.GTE = bound()
		case 2:
			r.LT = bound()
		case 3:
			r.LTE = bound()
		}
		if rng.IntN(2) == 0 {
			break
		}
	}
	return r
}

func fmtRange(r Range) string {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("{gt %s gte %s lt %s lte %s}", f(r.GT), f(r.GTE), f(r.LT), f(r.LTE))
}

func TestIntegerIndexDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	intVal := func() Value {
		switch rng.IntN(10) {
		case 0:
			return FloatValue(float64(rng.IntN(41) - 20)) // 1.0 is not an integer
		case 1:
			return UintValue(math.MaxUint64)
		case 2:
			return IntValue([]int64{math.MinInt64, math.MaxInt64}[rng.IntN(2)])
		}
		return IntValue(int64(rng.IntN(41) - 20))
	}
	x := mustIndex(t, IndexParams{Type: TypeInteger}).(*IntegerIndex)
	m := model{}
	churn(t, rng, x, m, diffPoints, func() []Value { return multi(rng, intVal) })
	isInt := func(v Value) bool { _, ok := v.Int(); return ok }
	checkPoints(t, x, m, isInt)
	for q := 0; q < 300; q++ {
		i := int64(rng.IntN(45) - 22)
		want := m.scan(func(v Value) bool { w, ok := v.Int(); return ok && w == i })
		checkSame(t, fmt.Sprint("Match ", i), x.Match(i), want)
		checkEstimate(t, "Estimate", x.Estimate(i), want, true)
		is := []int64{int64(rng.IntN(41) - 20), int64(rng.IntN(41) - 20), math.MaxInt64}
		want = m.scan(func(v Value) bool { w, ok := v.Int(); return ok && slices.Contains(is, w) })
		checkSame(t, fmt.Sprint("MatchAny ", is), x.MatchAny(is), want)
		checkEstimate(t, "EstimateAny", x.EstimateAny(is), want, false)
		want = m.scan(func(v Value) bool { w, ok := v.Int(); return ok && !slices.Contains(is, w) })
		checkSame(t, fmt.Sprint("MatchExcept ", is), x.MatchExcept(is), want)

		r := randRange(rng, 22)
		want = m.scan(func(v Value) bool {
			w, ok := v.Int()
			if !ok {
				return false
			}
			if w == math.MinInt64 || w == math.MaxInt64 {
				// Beyond 2^53 the index compares integers, not floats.
				return intRangeContains(r, w)
			}
			return r.Contains(float64(w))
		})
		checkSame(t, "Range "+fmtRange(r), x.Range(r), want)
		checkEstimate(t, "EstimateRange", x.EstimateRange(r), want, false)
		checkMarkDense(t, "MarkDense "+fmtRange(r), x.MarkDense, r, want)
	}
}

// checkMarkDense checks that mark(r, out) sets the bits of want in out,
// and only those below out's end when out is shorter than want needs.
func checkMarkDense(t *testing.T, name string, mark func(Range, []uint64), r Range, want *roaring.Bitmap) {
	t.Helper()
	words := diffPoints/64 + 1
	for _, n := range []int{words, words / 2} {
		out := make([]uint64, n)
		mark(r, out)
		got := roaring.New()
		for w, bits := range out {
			for b := range 64 {
				if bits&(1<<b) != 0 {
					got.Add(uint32(w*64 + b))
				}
			}
		}
		below := want.Clone()
		below.RemoveRange(uint64(n*64), math.MaxUint32+1)
		checkSame(t, fmt.Sprintf("%s into %d words", name, n), got, below)
	}
}

// intRangeContains is the integer-index range predicate spelled out.
func intRangeContains(r Range, v int64) bool {
	return (r.GT == nil || v > saturatingInt(math.Floor(*r.GT))) &&
		(r.GTE == nil || v >= saturatingInt(math.Ceil(*r.GTE))) &&
		(r.LT == nil || v < saturatingInt(math.Ceil(*r.LT))) &&
		(r.LTE == nil || v <= saturatingInt(math.Floor(*r.LTE)))
}

func TestIntegerRangeRounding(t *testing.T) {
	x := NewIntegerIndex(IndexParams{Type: TypeInteger})
	for i := int64(-3); i <= 3; i++ {
		x.Set(uint32(i+3), []Value{IntValue(i)})
	}
	x.Set(10, []Value{IntValue(math.MaxInt64)})
	x.Set(11, []Value{IntValue(math.MinInt64)})
	fp := func(f float64) *float64 { return &f }
	f := func(r Range, want ...int64) {
		t.Helper()
		var got []int64
		x.Range(r).Iterate(func(id uint32) bool {
			got = append(got, x.Values(id)[0])
			return true
		})
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Range %s = %v, want %v", fmtRange(r), got, want)
		}
	}
	f(Range{LT: fp(1.5), GT: fp(-1.5)}, -1, 0, 1)
	f(Range{LTE: fp(1.5), GTE: fp(-1.5)}, -1, 0, 1)
	f(Range{LT: fp(1), GT: fp(-1)}, 0)
	f(Range{GTE: fp(2.0000001)}, 3, math.MaxInt64)
	f(Range{GT: fp(1e300)})
	f(Range{LT: fp(-1e300)})
	f(Range{GTE: fp(-1e300), LTE: fp(-2.5)}, -3, math.MinInt64)
	f(Range{GT: fp(2), LT: fp(3)})
	f(Range{GT: fp(3), LT: fp(2)})
}

func TestFloatIndexDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	num := func() Value {
		switch rng.IntN(4) {
		case 0:
			return IntValue(int64(rng.IntN(41) - 20))
		case 1:
			return FloatValue(math.Copysign(0, -1))
		}
		return FloatValue(math.Round((rng.Float64()*40-20)*4) / 4)
	}
	x := mustIndex(t, IndexParams{Type: TypeFloat}).(*FloatIndex)
	m := model{}
	churn(t, rng, x, m, diffPoints, func() []Value { return multi(rng, num) })
	isNum := func(v Value) bool { _, ok := v.Number(); return ok }
	checkPoints(t, x, m, isNum)
	for q := 0; q < 500; q++ {
		r := randRange(rng, 22)
		if rng.IntN(4) == 0 {
			// Bounds on stored values, to exercise inclusive and exclusive
			// edges.
			f := math.Round((rng.Float64()*40-20)*4) / 4
			r = Range{GT: &f}
			if rng.IntN(2) == 0 {
				r = Range{LTE: &f, GTE: &f}
			}
		}
		want := m.scan(func(v Value) bool { f, ok := v.Number(); return ok && r.Contains(f) })
		checkSame(t, "Range "+fmtRange(r), x.Range(r), want)
		checkMarkDense(t, "MarkDense "+fmtRange(r), x.MarkDense, r, want)
		for _, desc := range []bool{false, true} {
			var vs []float64
			walked := roaring.New()
			x.Walk(r, desc, func(v float64, id uint32) bool {
				if !r.Contains(v) || !slices.Contains(x.Values(id), v) {
					t.Fatalf("Walk: %v for point %d", v, id)
				}
				vs = append(vs, v)
				walked.Add(id)
				return true
			})
			if desc {
				slices.Reverse(vs)
			}
			if !slices.IsSorted(vs) {
				t.Fatalf("Walk(desc=%v) out of order", desc)
			}
			checkSame(t, "Walk", walked, want)
		}
		single := true
		for _, vals := range m {
			n := 0
			forEachValue(vals, func(v Value) {
				if isNum(v) {
					n++
				}
			})
			single = single && n <= 1
		}
		checkEstimate(t, "EstimateRange", x.EstimateRange(r), want, single)
	}
}

func TestBoolIndexDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := mustIndex(t, IndexParams{Type: TypeBool}).(*BoolIndex)
	m := model{}
	churn(t, rng, x, m, diffPoints, func() []Value { return multi(rng, func() Value { return BoolValue(rng.IntN(2) == 0) }) })
	isBool := func(v Value) bool { _, ok := v.Bool(); return ok }
	checkPoints(t, x, m, isBool)
	for _, b := range []bool{true, false} {
		want := m.scan(func(v Value) bool { w, ok := v.Bool(); return ok && w == b })
		checkSame(t, fmt.Sprint("Match ", b), x.Match(b), want)
		checkEstimate(t, "Estimate", x.Estimate(b), want, true)
	}
}

func TestDatetimeIndexDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	layouts := []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999", "2006-01-02T15:04:05-07:00", "2006-01-02"}
	zone := time.FixedZone("x", -90*60)
	randTime := func() time.Time {
		// Whole microseconds in a small window, so that values repeat and
		// index and full-precision comparisons agree.
		return base.Add(time.Duration(rng.IntN(200)) * 7 * time.Hour).Add(time.Duration(rng.IntN(3)) * time.Microsecond)
	}
	gen := func() Value {
		if rng.IntN(10) == 0 {
			return StringValue("not a date")
		}
		t := randTime()
		l := layouts[rng.IntN(len(layouts))]
		if l == "2006-01-02" {
			t = t.Truncate(24 * time.Hour)
		}
		if rng.IntN(2) == 0 {
			t = t.In(zone)
		}
		return StringValue(t.Format(l))
	}
	x := mustIndex(t, IndexParams{Type: TypeDatetime}).(*DatetimeIndex)
	m := model{}
	churn(t, rng, x, m, diffPoints, func() []Value { return multi(rng, gen) })
	parse := func(v Value) (time.Time, bool) {
		s, ok := v.Str()
		if !ok {
			return time.Time{}, false
		}
		t, err := ParseDatetime(s)
		return t, err == nil
	}
	checkPoints(t, x, m, func(v Value) bool { _, ok := parse(v); return ok })
	for q := 0; q < 300; q++ {
		var r DatetimeRange
		for i := 0; i < 2; i++ {
			b := randTime()
			switch rng.IntN(4) {
			case 0:
				r.GT = &b
			case 1:
				r.GTE = &b
			case 2:
				r.LT = &b
			case 3:
				r.LTE = &b
			}
		}
		want := m.scan(func(v Value) bool { t, ok := parse(v); return ok && r.Contains(t) })
		checkSame(t, "Range", x.Range(r), want)
		checkEstimate(t, "EstimateRange", x.EstimateRange(r), want, false)
	}
	for id := range uint32(diffPoints) {
		for _, v := range x.Values(id) {
			if v.Location() != time.UTC {
				t.Fatal("Values not in UTC")
			}
		}
	}
}

func TestUUIDIndexDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var uuids [][16]byte
	for range 6 {
		var u [16]byte
		for i := range u {
			u[i] = byte(rng.IntN(256))
		}
		uuids = append(uuids, u)
	}
	spell := func(u [16]byte) string {
		s := FormatUUID(u)
		switch rng.IntN(5) {
		case 0:
			return fmt.Sprintf("%X", u[:]) // simple, upper case
		case 1:
			return "{" + s + "}"
		case 2:
			return "urn:uuid:" + s
		case 3:
			return fmt.Sprintf("%X-%X-%X-%X-%X", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
		}
		return s
	}
	gen := func() Value {
		if rng.IntN(8) == 0 {
			return StringValue("not-a-uuid")
		}
		return StringValue(spell(uuids[rng.IntN(len(uuids))]))
	}
	x := mustIndex(t, IndexParams{Type: TypeUUID}).(*UUIDIndex)
	m := model{}
	churn(t, rng, x, m, diffPoints, func() []Value { return multi(rng, gen) })
	parse := func(v Value) ([16]byte, bool) {
		s, ok := v.Str()
		if !ok {
			return [16]byte{}, false
		}
		return ParseUUID(s)
	}
	checkPoints(t, x, m, func(v Value) bool { _, ok := parse(v); return ok })
	for q := 0; q < 100; q++ {
		u := uuids[rng.IntN(len(uuids))]
		want := m.scan(func(v Value) bool { w, ok := parse(v); return ok && w == u })
		checkSame(t, "Match", x.Match(spell(u)), want)
		checkEstimate(t, "Estimate", x.Estimate(spell(u)), want, true)
		ss := []string{spell(uuids[rng.IntN(len(uuids))]), spell(uuids[rng.IntN(len(uuids))]), "junk"}
		set := parseUUIDs(ss)
		want = m.scan(func(v Value) bool { w, ok := parse(v); return ok && slices.Contains(set, w) })
		checkSame(t, "MatchAny", x.MatchAny(ss), want)
		checkEstimate(t, "EstimateAny", x.EstimateAny(ss), want, false)
		want = m.scan(func(v Value) bool { w, ok := parse(v); return ok && !slices.Contains(set, w) })
		checkSame(t, "MatchExcept", x.MatchExcept(ss), want)
	}
	if !x.Match("not-a-uuid").IsEmpty() {
		t.Fatal("unparsable query matched")
	}
}

func TestParseUUID(t *testing.T) {
	want := [16]byte{0x55, 0x0e, 0x84, 0x00, 0xe2, 0x9b, 0x41, 0xd4, 0xa7, 0x16, 0x44, 0x66, 0x55, 0x44, 0x00, 0x00}
	for _, s := range []string{
		"550e8400-e29b-41d4-a716-446655440000",
		"550E8400-E29B-41D4-A716-446655440000",
		"550e8400e29b41d4a716446655440000",
		"{550e8400-e29b-41d4-a716-446655440000}",
		"urn:uuid:550e8400-e29b-41d4-a716-446655440000",
	} {
		if u, ok := ParseUUID(s); !ok || u != want {
			t.Errorf("ParseUUID(%q) = %x, %v", s, u, ok)
		}
	}
	for _, s := range []string{
		"", "550e8400-e29b-41d4-a716-44665544000", "550e8400-e29b-41d4-a716-4466554400000",
		"550e8400+e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-44665544000g",
		"URN:UUID:550e8400-e29b-41d4-a716-446655440000", "{550e8400e29b41d4a716446655440000}",
		"550e8400-e29b41d4-a716-446655440000-",
	} {
		if _, ok := ParseUUID(s); ok {
			t.Errorf("ParseUUID(%q) accepted", s)
		}
	}
	if s := FormatUUID(want); s != "550e8400-e29b-41d4-a716-446655440000" {
		t.Errorf("FormatUUID = %s", s)
	}
}

func TestGeoIndexDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	// Clusters near special places plus uniform points.
	centres := []GeoPoint{gp(179.95, 0), gp(-179.95, 0), gp(0, 89.99), gp(0, -89.99), gp(13.4, 52.5), gp(0, 0)}
	randPoint := func() GeoPoint {
		if rng.IntN(3) == 0 {
			return gp(rng.Float64()*360-180, rng.Float64()*180-90)
		}
		c := centres[rng.IntN(len(centres))]
		lon := c.Lon + (rng.Float64()-0.5)*0.4
		lat := math.Max(-90, math.Min(90, c.Lat+(rng.Float64()-0.5)*0.4))
		if lon > 180 {
			lon -= 360
		} else if lon < -180 {
			lon += 360
		}
		return gp(lon, lat)
	}
	gen := func() Value {
		if rng.IntN(20) == 0 {
			return geoValue(200, 0) // out of range: ignored
		}
		p := randPoint()
		return geoValue(p.Lon, p.Lat)
	}
	x := mustIndex(t, IndexParams{Type: TypeGeo}).(*GeoIndex)
	m := model{}
	churn(t, rng, x, m, diffPoints, func() []Value { return multi(rng, gen) })
	isGeo := func(v Value) bool { _, ok := GeoPointFrom(v); return ok }
	checkPoints(t, x, m, isGeo)
	within := func(contains func(GeoPoint) bool) *roaring.Bitmap {
		return m.scan(func(v Value) bool { p, ok := GeoPointFrom(v); return ok && contains(p) })
	}
	for q := 0; q < 300; q++ {
		c := randPoint()
		// Boxes of every size, some across the antimeridian.
		w, h := math.Pow(10, rng.Float64()*4-2), math.Pow(10, rng.Float64()*3-2)
		left := c.Lon - w/2
		if left < -180 {
			left += 360
		}
		right := c.Lon + w/2
		if right > 180 {
			right -= 360
		}
		box := GeoBoundingBox{TopLeft: gp(left, math.Min(90, c.Lat+h)), BottomRight: gp(right, math.Max(-90, c.Lat-h))}
		want := within(box.Contains)
		checkSame(t, fmt.Sprint("BoundingBox ", box), x.BoundingBox(box), want)
		checkEstimate(t, "EstimateBoundingBox", x.EstimateBoundingBox(box), want, false)

		r := GeoRadius{Center: c, Radius: math.Pow(10, rng.Float64()*7)}
		want = within(r.Contains)
		checkSame(t, fmt.Sprint("Radius ", r), x.Radius(r), want)
		checkEstimate(t, "EstimateRadius", x.EstimateRadius(r), want, false)

		// A star-shaped polygon with a hole, in planar lon/lat.
		sz := math.Pow(10, rng.Float64()*2-1.5)
		var ext, hole []GeoPoint
		for k := 0; k < 7; k++ {
			a := float64(k) / 7 * 2 * math.Pi
			rad := sz * (0.5 + rng.Float64())
			ext = append(ext, gp(math.Max(-180, math.Min(180, c.Lon+rad*math.Cos(a))), math.Max(-90, math.Min(90, c.Lat+rad*math.Sin(a)))))
			hole = append(hole, gp(c.Lon+0.2*sz*math.Cos(a), c.Lat+0.2*sz*math.Sin(a)))
		}
		ext = append(ext, ext[0])
		hole = append(hole, hole[0])
		poly := GeoPolygon{Exterior: ext, Interiors: [][]GeoPoint{hole}}
		want = within(poly.Contains)
		checkSame(t, "Polygon", x.Polygon(poly), want)
		checkEstimate(t, "EstimatePolygon", x.EstimatePolygon(poly), want, false)
	}
	// The whole world, and a radius beyond half the circumference.
	all := within(func(GeoPoint) bool { return true })
	checkSame(t, "huge radius", x.Radius(GeoRadius{Center: gp(0, 0), Radius: 3e7}), all)
	// Points exactly on a query edge or vertex.
	x2 := NewGeoIndex(IndexParams{Type: TypeGeo})
	x2.Set(1, []Value{geoValue(10, 10)})
	x2.Set(2, []Value{geoValue(10.5, 10.5)})
	sq := GeoPolygon{Exterior: square(10, 10, 11, 11)}
	checkSame(t, "polygon vertex", x2.Polygon(sq), roaring.BitmapOf(2))
	checkSame(t, "box edge", x2.BoundingBox(GeoBoundingBox{TopLeft: gp(10, 11), BottomRight: gp(11, 10)}), roaring.BitmapOf(2))
}

func TestTextIndexDifferential(t *testing.T) {
	for _, p := range []TextParams{
		{PhraseMatching: true},
		{Tokenizer: TokenizerWhitespace, PhraseMatching: true, Stopwords: []string{"The"}},
		{Tokenizer: TokenizerPrefix, MinTokenLen: new(2), MaxTokenLen: new(4)},
		{Lowercase: new(bool), ASCIIFolding: true, PhraseMatching: true, MaxTokenLen: new(5)},
	} {
		t.Run(fmt.Sprintf("%s/%v", p.Tokenizer, p.PhraseMatching), func(t *testing.T) {
			testTextDifferential(t, p)
		})
	}
}

func testTextDifferential(t *testing.T, tp TextParams) {
	rng := rand.New(rand.NewPCG(15, 16))
	words := []string{"the", "The", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Ünïcode", "café", "a", "dogs!", "fox,"}
	sentence := func() string {
		n := rng.IntN(7)
		s := ""
		for i := 0; i < n; i++ {
			if i > 0 {
				s += []string{" ", "  ", "-", ". "}[rng.IntN(4)]
			}
			s += words[rng.IntN(len(words))]
		}
		return s
	}
	xi := mustIndex(t, IndexParams{Type: TypeText, Text: tp})
	x := xi.(*TextIndex)
	m := model{}
	churn(t, rng, x, m, diffPoints, func() []Value { return multi(rng, func() Value { return StringValue(sentence()) }) })
	isStr := func(v Value) bool { _, ok := v.Str(); return ok }
	checkPoints(t, x, m, isStr)
	// The oracle: each point's document is its strings' tokens, in order.
	docs := map[uint32][]string{}
	for id, vals := range m {
		var doc []string
		forEachValue(vals, func(v Value) {
			if s, ok := v.Str(); ok {
				doc = x.Tokenize(s, doc)
			}
		})
		docs[id] = doc
	}
	scan := func(pred func([]string) bool) *roaring.Bitmap {
		out := roaring.New()
		for id, doc := range docs {
			if pred(doc) {
				out.Add(id)
			}
		}
		return out
	}
	for q := 0; q < 300; q++ {
		query := sentence()
		if rng.IntN(10) == 0 {
			query += " zebra"
		}
		qt := x.TokenizeQuery(query, nil)
		want := scan(func(doc []string) bool {
			if len(qt) == 0 {
				return false
			}
			for _, tok := range qt {
				if !slices.Contains(doc, tok) {
					return false
				}
			}
			return true
		})
		checkSame(t, fmt.Sprintf("Text %q", query), x.Text(query), want)
		checkEstimate(t, "EstimateText", x.EstimateText(query), want, len(slices.Compact(slices.Sorted(slices.Values(qt)))) == 1)

		want = scan(func(doc []string) bool {
			for _, tok := range qt {
				if slices.Contains(doc, tok) {
					return true
				}
			}
			return false
		})
		checkSame(t, fmt.Sprintf("TextAny %q", query), x.TextAny(query), want)
		checkEstimate(t, "EstimateTextAny", x.EstimateTextAny(query), want, false)

		pt := x.Tokenize(query, nil)
		want = scan(func(doc []string) bool {
			if !tp.PhraseMatching || len(pt) == 0 {
				return false
			}
			for i := 0; i+len(pt) <= len(doc); i++ {
				if slices.Equal(doc[i:i+len(pt)], pt) {
					return true
				}
			}
			return false
		})
		checkSame(t, fmt.Sprintf("Phrase %q", query), x.Phrase(query), want)
		checkEstimate(t, "EstimatePhrase", x.EstimatePhrase(query), want, false)
	}
}

func TestNewIndex(t *testing.T) {
	for ft := TypeKeyword; ft <= TypeUUID; ft++ {
		x, err := NewIndex(IndexParams{Type: ft})
		if err != nil {
			t.Fatalf("%v: %v", ft, err)
		}
		if x.Params().Type != ft {
			t.Fatalf("%v: Params().Type = %v", ft, x.Params().Type)
		}
		back, err := ParseFieldType(ft.String())
		if err != nil || back != ft {
			t.Fatalf("ParseFieldType(%q) = %v, %v", ft.String(), back, err)
		}
		// Remove of an unknown point and Set with nothing are no-ops.
		x.Remove(5)
		x.Set(3, nil)
		if x.Len() != 0 || !x.Points().IsEmpty() || x.ValuesCount(3) != 0 {
			t.Fatalf("%v: not empty", ft)
		}
	}
	if _, err := NewIndex(IndexParams{Type: 8}); err == nil {
		t.Fatal("type 8 accepted")
	}
	if _, err := ParseFieldType("int"); err == nil {
		t.Fatal(`"int" accepted`)
	}
	if x, err := NewIndex(IndexParams{Type: TypeText, Text: TextParams{Tokenizer: "ngram"}}); err == nil || x != nil {
		t.Fatal("unknown tokenizer accepted")
	}
	wantNames := []string{"keyword", "integer", "float", "geo", "text", "bool", "datetime", "uuid"}
	for i, n := range wantNames {
		if FieldType(i).String() != n {
			t.Errorf("FieldType(%d) = %s, want %s", i, FieldType(i), n)
		}
	}
	if !(IndexParams{}).LookupEnabled() || !(IndexParams{}).RangeEnabled() || !(TextParams{}).LowercaseEnabled() {
		t.Error("defaults should be true")
	}
}

func TestPairSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	var s pairSet[int64]
	ref := map[pair[int64]]bool{}
	for i := 0; i < 20000; i++ {
		p := pair[int64]{int64(rng.IntN(300)), uint32(rng.IntN(50))}
		if rng.IntN(3) == 0 {
			if s.delete(p) != ref[p] {
				t.Fatalf("delete(%v) disagrees", p)
			}
			delete(ref, p)
		} else {
			if s.insert(p) == ref[p] {
				t.Fatalf("insert(%v) disagrees", p)
			}
			ref[p] = true
		}
	}
	if s.n != len(ref) {
		t.Fatalf("n = %d, want %d", s.n, len(ref))
	}
	var all []pair[int64]
	s.ascend(keyBounds[int64]{}, func(p pair[int64]) bool { all = append(all, p); return true })
	if len(all) != len(ref) || !slices.IsSortedFunc(all, func(a, b pair[int64]) int {
		if pairLess(a, b) {
			return -1
		}
		return 1
	}) {
		t.Fatal("ascend: not all pairs in order")
	}
	for _, c := range s.chunks {
		if len(c) == 0 || len(c) > pairChunkMax {
			t.Fatalf("chunk of %d pairs", len(c))
		}
	}
	for q := 0; q < 500; q++ {
		lo, hi := int64(rng.IntN(320)-10), int64(rng.IntN(320)-10)
		b := keyBounds[int64]{lo: lo, hi: hi, hasLo: rng.IntN(4) > 0, hasHi: rng.IntN(4) > 0, loIncl: rng.IntN(2) == 0, hiIncl: rng.IntN(2) == 0}
		n := 0
		for p := range ref {
			if (!b.hasLo || p.key > lo || (b.loIncl && p.key == lo)) && (!b.hasHi || p.key < hi || (b.hiIncl && p.key == hi)) {
				n++
			}
		}
		if got := s.count(b); got != n {
			t.Fatalf("count(%+v) = %d, want %d", b, got, n)
		}
	}
}

func TestIndexParamsJSON(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		var p IndexParams
		if err := json.Unmarshal([]byte(in), &p); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("%s: got %s, want %s", in, got, want)
		}
		var back IndexParams
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("round trip %s: %v", got, err)
		}
		if !reflect.DeepEqual(back, p) {
			t.Fatalf("round trip %s: %+v != %+v", got, back, p)
		}
	}
	f(`"keyword"`, `{"type":"keyword"}`)
	f(`{"type":"keyword","is_tenant":true}`, `{"type":"keyword","is_tenant":true}`)
	f(`{"type":"integer","lookup":false,"range":true}`, `{"type":"integer","lookup":false,"range":true}`)
	f(`{"type":"float","is_principal":true,"on_disk":true}`, `{"type":"float","is_principal":true,"on_disk":true}`)
	f(`{"type":"text","tokenizer":"prefix","min_token_len":2,"lowercase":false,"phrase_matching":true,"stopwords":{"custom":["a"]}}`,
		`{"type":"text","tokenizer":"prefix","min_token_len":2,"lowercase":false,"phrase_matching":true,"stopwords":{"custom":["a"]}}`)
	// Stopwords and stemmers echo as Qdrant 1.17.1 echoes them: the bare
	// language form kept, sets sorted and deduplicated, absent members left
	// out and empty ones kept.
	f(`{"type":"text","tokenizer":"word","stopwords":"english","stemmer":{"type":"snowball","language":"english"}}`,
		`{"type":"text","tokenizer":"word","stopwords":"english","stemmer":{"type":"snowball","language":"english"}}`)
	f(`{"type":"text","tokenizer":"word","stopwords":{"languages":["german","english","german"],"custom":["Zeta","alpha","alpha"]}}`,
		`{"type":"text","tokenizer":"word","stopwords":{"languages":["english","german"],"custom":["Zeta","alpha"]}}`)
	f(`{"type":"text","tokenizer":"word","stopwords":{}}`, `{"type":"text","tokenizer":"word","stopwords":{}}`)
	f(`{"type":"text","tokenizer":"word","stopwords":{"languages":[],"custom":[]}}`, `{"type":"text","tokenizer":"word","stopwords":{"languages":[],"custom":[]}}`)
	f(`{"type":"text","tokenizer":"word","stopwords":null,"stemmer":null}`, `{"type":"text","tokenizer":"word"}`)
	f(`"geo"`, `{"type":"geo"}`)
	f(`"datetime"`, `{"type":"datetime"}`)
	f(`"uuid"`, `{"type":"uuid"}`)
	f(`"bool"`, `{"type":"bool"}`)

	bad := func(in string) {
		t.Helper()
		var p IndexParams
		if err := json.Unmarshal([]byte(in), &p); err == nil {
			t.Fatalf("%s: no error", in)
		}
	}
	bad(`"nope"`)
	bad(`{"type":"keyword","foo":1}`)
	bad(`{"type":"keyword","tokenizer":"word"}`)
	bad(`{"type":"text","stemmer":{"type":"snowball","language":"klingon"}}`)
	bad(`{"type":"text","stemmer":{"type":"porter","language":"english"}}`)
	bad(`{"type":"text","stemmer":{"type":"snowball"}}`)
	bad(`{"type":"text","stemmer":"english"}`)
	bad(`{"type":"text","stopwords":"klingon"}`)
	bad(`{"type":"text","stopwords":"English"}`)
	bad(`{"type":"text","stopwords":{"languages":["klingon"]}}`)
	bad(`{"type":"text","stopwords":["english"]}`)
	bad(`{"type":"text","stopwords":{"custom":"a"}}`)
	bad(`{"type":"text","tokenizer":"klingon"}`)
}
