package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// fakeFormulaPoint is a formula target built from a payload and scores.
type fakeFormulaPoint struct {
	id     filter.PointID
	pl     payload.Value
	scores map[int]float32
}

func (p *fakeFormulaPoint) ID() filter.PointID            { return p.id }
func (p *fakeFormulaPoint) Payload() payload.Value        { return p.pl }
func (p *fakeFormulaPoint) HasVector(string) bool         { return false }
func (p *fakeFormulaPoint) Matches(f *filter.Filter) bool { return f.Matches(p) }
func (p *fakeFormulaPoint) PrefetchScore(i int) (float32, bool) {
	s, ok := p.scores[i]
	return s, ok
}

func mustObject(t testing.TB, s string) payload.Value {
	t.Helper()
	v, err := payload.ParseJSON([]byte(s))
	require.NoError(t, err)
	return v
}

func evalFormula(t testing.TB, f *Formula, pt *fakeFormulaPoint) (float32, error) {
	t.Helper()
	prog, err := compileFormula(f, nil)
	if err != nil {
		return 0, err
	}
	return newFormulaEval(prog).score(pt)
}

// w widens a float32 constant as Qdrant reads it.
func w(x float32) float64 { return float64(x) }

func TestFormulaValues(t *testing.T) {
	pt := &fakeFormulaPoint{id: filter.NumID(7), scores: map[int]float32{0: 0.75, 2: -3},
		pl: mustObject(t, `{"price": 12.5, "n": -4, "one": [3], "many": [1, 2], "obj": {"k": 5, "arr": [{"v": 1}, {"v": 2}]},
			"s": "str", "b": true, "nul": null, "empty": [],
			"geo": {"lat": 52.52, "lon": 13.405}, "geos": [{"lon": 2.35, "lat": 48.85}],
			"dt": "2024-01-02T03:04:05.5Z"}`)}
	berlin := payload.GeoPoint{Lat: 52.52, Lon: 13.405}
	origin := payload.GeoPoint{Lat: 50, Lon: 10}
	zero := float32(0)
	f := func(e *Expr, defaults map[string]payload.Value, want float64) {
		t.Helper()
		got, err := evalFormula(t, &Formula{Expr: e, Defaults: defaults}, pt)
		require.NoError(t, err)
		require.InDelta(t, float32(want), got, 1e-6*math.Max(1, math.Abs(want)), "%+v", e)
	}
	f(Const(0.4), nil, w(0.4))
	f(Var("$score"), nil, 0.75)
	f(Var("$score[0]"), nil, 0.75)
	f(Var("$score[2]"), nil, -3)
	f(Var("$score[1]"), nil, 0) // not found by prefetch 1
	f(Var("$score[1]"), map[string]payload.Value{"$score[1]": payload.FloatValue(2.5)}, 2.5)
	f(Var("$score[9]"), map[string]payload.Value{"$score[9]": payload.StringValue("x")}, 0) // a non-number default is no default
	f(Var("price"), nil, 12.5)
	f(Var("one"), nil, 3)          // an array of one number is that number
	f(Var("obj.k"), nil, 5)        // nested keys
	f(Var("obj.arr[1].v"), nil, 2) // array elements
	f(Var("many[0]"), nil, 1)      // an element of a multi-value
	f(Var("missing"), map[string]payload.Value{"missing": payload.IntValue(9)}, 9)
	f(Var("empty"), map[string]payload.Value{"empty": payload.IntValue(9)}, 9) // no values: the default
	f(Op(ExprSum, Op(ExprMult, Var("$score"), Const(0.4)), Op(ExprMult, Var("price"), Const(0.6))), nil, 0.75*w(0.4)+12.5*w(0.6))
	f(Op(ExprSum), nil, 0)
	f(Op(ExprMult), nil, 1)
	f(Op(ExprNeg, Var("n")), nil, 4)
	f(Op(ExprAbs, Var("n")), nil, 4)
	f(Op(ExprDiv, Var("price"), Var("n")), nil, 12.5/-4)
	f(&Expr{Kind: ExprDiv, Args: []*Expr{Var("price"), Const(0)}, ByZeroDefault: ptr(float32(-1.5))}, nil, -1.5)
	f(Op(ExprDiv, Const(0), Const(0)), nil, 0) // a zero numerator is 0 whatever the divisor
	f(Op(ExprSqrt, Var("price")), nil, math.Sqrt(12.5))
	f(Op(ExprPow, Var("n"), Const(3)), nil, -64)
	f(Op(ExprExp, Var("$score")), nil, math.Exp(0.75))
	f(Op(ExprLog10, Var("price")), nil, math.Log10(12.5))
	f(Op(ExprLn, Var("price")), nil, math.Log(12.5))
	f(&Expr{Kind: ExprCondition, Condition: &filter.Field{Key: payload.MustParsePath("s"), Match: filter.NewMatchKeyword("str")}}, nil, 1)
	f(&Expr{Kind: ExprCondition, Condition: &filter.Field{Key: payload.MustParsePath("s"), Match: filter.NewMatchKeyword("x")}}, nil, 0)
	f(&Expr{Kind: ExprCondition, Condition: filter.NewHasID(filter.NumID(7))}, nil, 1)
	f(&Expr{Kind: ExprGeoDistance, Name: "geo", Origin: origin}, nil, payload.HaversineDistance(origin, berlin))
	f(&Expr{Kind: ExprGeoDistance, Name: "geos", Origin: origin}, nil, payload.HaversineDistance(origin, payload.GeoPoint{Lat: 48.85, Lon: 2.35}))
	f(&Expr{Kind: ExprGeoDistance, Name: "nogeo", Origin: origin}, map[string]payload.Value{"nogeo": mustObject(t, `[1, 2]`)},
		payload.HaversineDistance(origin, payload.GeoPoint{Lon: 1, Lat: 2})) // [lon, lat]
	f(&Expr{Kind: ExprDatetime, Name: "1970-01-02T00:00:01Z"}, nil, 86401)
	f(Op(ExprSum, &Expr{Kind: ExprDatetimeKey, Name: "dt"}, Op(ExprNeg, &Expr{Kind: ExprDatetime, Name: "2024-01-02"})), nil, 3*3600+4*60+5.5)
	// Short cuts: a product stops at its first 0, a quotient at a zero
	// numerator, so later errors never happen.
	f(Op(ExprMult, Var("n"), Const(0), Var("missing")), nil, 0)
	f(Op(ExprMult, Const(0), Op(ExprDiv, Const(1), Const(0))), nil, 0)
	f(Op(ExprDiv, Op(ExprSum), Var("missing")), nil, 0)
	f(&Expr{Kind: ExprDiv, Args: []*Expr{Var("n"), Const(0)}, ByZeroDefault: &zero}, nil, 0)
}

func ptr[T any](v T) *T { return &v }

func TestFormulaDecays(t *testing.T) {
	// Each decay is 1 at the target and the midpoint at target ± scale; a
	// linear decay reaches 0 at target ± scale / (1 - midpoint).
	for _, k := range []ExprKind{ExprLinDecay, ExprExpDecay, ExprGaussDecay} {
		for _, c := range []struct{ target, scale, midpoint float32 }{{0, 1, 0.5}, {3, 2, 0.2}, {-10, 0.5, 0.9}, {100, 1000, 0.01}} {
			decay := func(x float32) float32 {
				t.Helper()
				pt := &fakeFormulaPoint{pl: payload.ObjectValue(payload.Field{Key: "x", Value: payload.FloatValue(float64(x))})}
				got, err := evalFormula(t, &Formula{Expr: &Expr{Kind: k, Args: []*Expr{Var("x"), Const(c.target)},
					Scale: &c.scale, Midpoint: &c.midpoint}}, pt)
				require.NoError(t, err)
				return got
			}
			require.InDelta(t, 1, decay(c.target), 1e-6, "%s %+v", k, c)
			require.InDelta(t, c.midpoint, decay(c.target+c.scale), 1e-5, "%s %+v", k, c)
			require.InDelta(t, c.midpoint, decay(c.target-c.scale), 1e-5, "%s %+v", k, c)
			if k == ExprLinDecay {
				end := c.scale / (1 - c.midpoint)
				require.InDelta(t, 0, decay(c.target+end*1.01), 1e-6)
				require.InDelta(t, 0, decay(c.target-end*2), 1e-6)
			} else {
				require.Greater(t, decay(c.target+c.scale*3), float32(0))
				require.Less(t, decay(c.target+c.scale*3), c.midpoint)
			}
		}
	}
	// Defaults: target 0, scale 1, midpoint 0.5.
	for _, k := range []ExprKind{ExprLinDecay, ExprExpDecay, ExprGaussDecay} {
		got, err := evalFormula(t, &Formula{Expr: Op(k, Const(-1))}, &fakeFormulaPoint{})
		require.NoError(t, err)
		require.InDelta(t, 0.5, got, 1e-6)
	}
}

func TestFormulaErrors(t *testing.T) {
	pt := &fakeFormulaPoint{pl: mustObject(t, `{"n": 2, "many": [1, 2], "s": "x", "b": false, "nul": null, "lst": [{"k": 1}, {"k": 2}],
		"badgeo": {"lat": 100, "lon": 0}, "dt": "nope"}`)}
	f := func(e *Expr, defaults map[string]payload.Value, want string) {
		t.Helper()
		_, err := evalFormula(t, &Formula{Expr: e, Defaults: defaults}, pt)
		require.Error(t, err)
		require.ErrorIs(t, err, ErrBadRequest)
		require.Equal(t, want, err.Error(), "%+v", e)
	}
	num := func(key, why string) string {
		return "qlite: bad request: Expected number value for " + key + " in the payload and/or in the formula defaults. Error: " + why
	}
	f(Var("missing"), nil, num("missing", "No value found in a payload nor defaults"))
	f(Var("many"), nil, num("many", "Value is not a number"))
	f(Var("lst[].k"), nil, num("lst[].k", "Value is not a number"))
	f(Var("s"), nil, num("s", "Value is not a number"))
	f(Var("b"), nil, num("b", "Value is not a number"))
	f(Var("nul"), map[string]payload.Value{"nul": payload.IntValue(1)}, num("nul", "Value is not a number"))
	f(Var("missing"), map[string]payload.Value{"missing": payload.StringValue("1")}, num("missing", "Value is not a number"))
	nf := func(expr string) string {
		return "qlite: bad request: The expression " + expr + " produced a non-finite number"
	}
	f(Op(ExprDiv, Var("n"), Const(0)), nil, nf("2/0 = inf"))
	f(Op(ExprDiv, Const(0.1), Const(0)), nil, nf("0.10000000149011612/0 = inf"))
	f(Op(ExprSqrt, Op(ExprNeg, Var("n"))), nil, nf("√-2 = NaN"))
	f(Op(ExprLn, Const(0)), nil, nf("ln(0) = -inf"))
	f(Op(ExprLog10, Const(-1)), nil, nf("log10(-1) = NaN"))
	f(Op(ExprExp, Const(1000)), nil, nf("exp(1000) = inf"))
	f(Op(ExprPow, Const(-8), Const(0.5)), nil, nf("-8^0.5 = NaN"))
	f(Op(ExprMult, Const(1e30), Const(1e30)), nil, nf(rustFloat(w(1e30)*w(1e30))+" as f32 = inf"))
	f(&Expr{Kind: ExprGeoDistance, Name: "badgeo"}, nil,
		"qlite: bad request: Expected geo point value for badgeo in the payload and/or in the formula defaults. Error: Wrong format of GeoPoint payload: expected `lat` = 100 within [-90;90] and `lon` = 0 within [-180;180]")
	f(&Expr{Kind: ExprGeoDistance, Name: "n"}, nil,
		"qlite: bad request: Expected geo point value for n in the payload and/or in the formula defaults. Error: invalid type: integer `2`, expected struct GeoPointShadow")
	f(&Expr{Kind: ExprDatetimeKey, Name: "n"}, nil,
		"qlite: bad request: Expected datetime value for n in the payload and/or in the formula defaults. Error: Value is not a string")
	f(&Expr{Kind: ExprDatetimeKey, Name: "dt"}, nil,
		"qlite: bad request: Expected datetime value for dt in the payload and/or in the formula defaults. Error: input contains invalid characters")

	// Compile-time checks.
	vf := func(e *Expr, defaults map[string]payload.Value, want string) {
		t.Helper()
		_, err := compileFormula(&Formula{Expr: e, Defaults: defaults}, nil)
		require.ErrorIs(t, err, ErrBadRequest)
		require.Equal(t, "qlite: bad request: Validation failed: "+want, err.Error())
	}
	vf(Var("$foo"), nil, "failed to parse variable ID $foo: Invalid reserved word: $foo")
	vf(Var("$score.a"), nil, "failed to parse variable ID $score.a: Invalid reserved variable: $score.a")
	vf(Var("$score[]"), nil, "failed to parse variable ID $score[]: Invalid reserved variable: $score[]")
	vf(Var("$score[1][2]"), nil, "failed to parse variable ID $score[1][2]: Invalid reserved variable: $score[1][2]")
	vf(Var("$"), nil, "failed to parse variable ID $: Invalid reserved variable: $")
	vf(Var(""), nil, "failed to parse variable ID : Invalid payload variable: ")
	vf(Var("a b"), nil, "failed to parse variable ID a b: Invalid payload variable: a b")
	vf(Var("n"), map[string]payload.Value{"$x": payload.IntValue(1)}, "failed to parse variable ID $x: Invalid reserved word: $x")
	vf(&Expr{Kind: ExprDatetime, Name: "bad"}, nil, "failed to parse date-time bad: input contains invalid characters")
	vf(&Expr{Kind: ExprDatetime, Name: ""}, nil, "failed to parse date-time : premature end of input")
	vf(&Expr{Kind: ExprDatetime, Name: "2024-13-01"}, nil, "failed to parse date-time 2024-13-01: input is out of range")
	vf(&Expr{Kind: ExprDatetime, Name: "2024-01-02T"}, nil, "failed to parse date-time 2024-01-02T: trailing input")
	vf(&Expr{Kind: ExprLinDecay, Args: []*Expr{Const(1)}, Midpoint: ptr(float32(1.1))}, nil,
		"Linear decay midpoint should be in the range [0.0, 1.0], got 1.100000023841858.")
	vf(&Expr{Kind: ExprExpDecay, Args: []*Expr{Const(1)}, Midpoint: ptr(float32(1))}, nil,
		"Decay midpoint should be in the range (0.0, 1.0), got 1.")
	vf(&Expr{Kind: ExprGaussDecay, Args: []*Expr{Const(1)}, Scale: ptr(float32(0))}, nil,
		"Decay scale should be non-zero positive, got 0.")
	// The first problem in reading order is reported.
	vf(Op(ExprSum, &Expr{Kind: ExprLinDecay, Args: []*Expr{Const(1)}, Midpoint: ptr(float32(3))}, Var("$foo")), nil,
		"Linear decay midpoint should be in the range [0.0, 1.0], got 3.")
}

// TestFormulaIndexedValues checks that a key with a field index is read as
// Qdrant reads it, through the index: values of another type are missing.
func TestFormulaIndexedValues(t *testing.T) {
	pt := &fakeFormulaPoint{pl: mustObject(t, `{"f": "str", "i": [1.5, 2], "k": 3}`)}
	idx := map[string]payload.IndexParams{"f": {Type: payload.TypeFloat}, "i": {Type: payload.TypeInteger}, "k": {Type: payload.TypeKeyword}}
	eval := func(e *Expr, defaults map[string]payload.Value) (float32, error) {
		prog, err := compileFormula(&Formula{Expr: e, Defaults: defaults}, func(k string) (payload.IndexParams, bool) {
			p, ok := idx[k]
			return p, ok
		})
		require.NoError(t, err)
		return newFormulaEval(prog).score(pt)
	}
	def := map[string]payload.Value{"f": payload.IntValue(7), "k": payload.IntValue(8)}
	got, err := eval(Var("f"), def)
	require.NoError(t, err)
	require.Equal(t, float32(7), got) // the string is not in the float index
	got, err = eval(Var("i"), nil)
	require.NoError(t, err)
	require.Equal(t, float32(2), got) // 1.5 is not in the integer index
	got, err = eval(Var("k"), def)
	require.NoError(t, err)
	require.Equal(t, float32(8), got)
}

// TestFormulaFoldingRandom compares the compiled evaluator (constant
// subtrees folded, payload values cached) with a direct interpretation of
// random expressions.
func TestFormulaFoldingRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	pt := &fakeFormulaPoint{scores: map[int]float32{0: 0.5, 1: -2}, pl: mustObject(t, `{"a": 3, "b": -0.25, "c": [7]}`)}
	leaf := func() *Expr {
		switch rng.IntN(4) {
		case 0:
			return Var([]string{"$score", "$score[1]", "$score[3]"}[rng.IntN(3)])
		case 1:
			return Var([]string{"a", "b", "c"}[rng.IntN(3)])
		}
		return Const(float32(rng.IntN(9)-4) / 2)
	}
	var gen func(d int) *Expr
	gen = func(d int) *Expr {
		if d == 0 || rng.IntN(4) == 0 {
			return leaf()
		}
		kinds := []ExprKind{ExprSum, ExprMult, ExprNeg, ExprAbs, ExprDiv, ExprSqrt, ExprPow, ExprExp, ExprLn, ExprLinDecay, ExprExpDecay, ExprGaussDecay}
		k := kinds[rng.IntN(len(kinds))]
		switch k {
		case ExprSum, ExprMult:
			return Op(k, gen(d-1), gen(d-1), gen(d-1))
		case ExprDiv, ExprPow:
			return Op(k, gen(d-1), gen(d-1))
		case ExprLinDecay, ExprExpDecay, ExprGaussDecay:
			return Op(k, gen(d-1), gen(d-1))
		}
		return Op(k, gen(d-1))
	}
	vars := map[string]float64{"$score": 0.5, "$score[1]": -2, "$score[3]": 0, "a": 3, "b": -0.25, "c": 7}
	var ref func(e *Expr) (float64, bool)
	ref = func(e *Expr) (float64, bool) {
		ok := true
		arg := func(i int) float64 {
			v, o := ref(e.Args[i])
			ok = ok && o
			return v
		}
		fin := func(v float64) (float64, bool) { return v, ok && !math.IsInf(v, 0) && !math.IsNaN(v) }
		switch e.Kind {
		case ExprConstant:
			return float64(e.Constant), true
		case ExprVariable:
			return vars[e.Name], true
		case ExprSum:
			s := 0.0
			for i := range e.Args {
				s += arg(i)
			}
			return s, ok
		case ExprMult:
			p := 1.0
			for i := range e.Args {
				v := arg(i)
				if !ok {
					return 0, false
				}
				if v == 0 {
					return 0, true
				}
				p *= v
			}
			return p, true
		case ExprNeg:
			return -arg(0), ok
		case ExprAbs:
			return math.Abs(arg(0)), ok
		case ExprDiv:
			l := arg(0)
			if !ok || l == 0 {
				return 0, ok
			}
			return fin(l / arg(1))
		case ExprSqrt:
			return fin(math.Sqrt(arg(0)))
		case ExprPow:
			b := arg(0)
			return fin(math.Pow(b, arg(1)))
		case ExprExp:
			return fin(math.Exp(arg(0)))
		case ExprLn:
			return fin(math.Log(arg(0)))
		}
		// Decays with the default midpoint 0.5 and scale 1.
		d := math.Abs(arg(0) - arg(1))
		switch e.Kind {
		case ExprLinDecay:
			return max(0, 1-0.5*d), ok
		case ExprExpDecay:
			return math.Pow(0.5, d), ok
		}
		return math.Pow(0.5, d*d), ok
	}
	checked := 0
	for range 3000 {
		e := gen(4)
		want, ok := ref(e)
		got, err := evalFormula(t, &Formula{Expr: e}, pt)
		f32 := float32(want)
		if ok && (math.IsInf(float64(f32), 0) || math.IsNaN(float64(f32))) {
			ok = false
		}
		if !ok {
			require.Error(t, err, "%s", exprString(e))
			continue
		}
		require.NoError(t, err, "%s", exprString(e))
		require.InDelta(t, want, float64(got), 1e-5*math.Max(1, math.Abs(want)), "%s", exprString(e))
		checked++
	}
	require.Greater(t, checked, 1000)
}

// exprString writes e for failure messages.
func exprString(e *Expr) string {
	switch e.Kind {
	case ExprConstant:
		return rustFloat(float64(e.Constant))
	case ExprVariable:
		return e.Name
	}
	s := e.Kind.String() + "("
	for i, a := range e.Args {
		if i > 0 {
			s += ", "
		}
		s += exprString(a)
	}
	return s + ")"
}

// typicalFormula is a business-rule formula: the first prefetch's score,
// boosted by a payload number and a keyword match, decayed by distance and
// age.
func typicalFormula() *Formula {
	return &Formula{Expr: Op(ExprSum,
		Op(ExprMult, Var("$score"), Op(ExprSum, Const(1), Op(ExprMult, Const(0.1), Var("rating")))),
		Op(ExprMult, Const(0.5), &Expr{Kind: ExprCondition, Condition: &filter.Field{Key: payload.MustParsePath("tag"), Match: filter.NewMatchKeyword("sale")}}),
		&Expr{Kind: ExprGaussDecay, Args: []*Expr{&Expr{Kind: ExprGeoDistance, Name: "loc", Origin: payload.GeoPoint{Lat: 52.5, Lon: 13.4}}}, Scale: ptr(float32(5000))},
		&Expr{Kind: ExprExpDecay, Args: []*Expr{&Expr{Kind: ExprDatetimeKey, Name: "at"}, &Expr{Kind: ExprDatetime, Name: "2025-01-01T00:00:00Z"}}, Scale: ptr(float32(86400 * 30))},
		Op(ExprDiv, Var("price"), Op(ExprSum, Const(1), Op(ExprAbs, Var("price")))),
	), Defaults: map[string]payload.Value{"rating": payload.IntValue(0)}}
}

func typicalFormulaPoint(t testing.TB, i int) *fakeFormulaPoint {
	return &fakeFormulaPoint{id: filter.NumID(uint64(i)), scores: map[int]float32{0: float32(i%7) / 7},
		pl: mustObject(t, `{"rating": 4, "tag": ["new", "sale"], "loc": {"lat": 52.51, "lon": 13.39}, "at": "2024-12-24T10:00:00Z", "price": 19.5}`)}
}

// TestFormulaEvalAllocs proves that scoring a point allocates nothing once
// the evaluator is warm.
func TestFormulaEvalAllocs(t *testing.T) {
	prog, err := compileFormula(typicalFormula(), nil)
	require.NoError(t, err)
	ev := newFormulaEval(prog)
	pt := typicalFormulaPoint(t, 3)
	_, err = ev.score(pt)
	require.NoError(t, err)
	if n := testing.AllocsPerRun(100, func() { _, _ = ev.score(pt) }); n != 0 {
		t.Fatalf("scoring a point allocates %v times", n)
	}
}

func BenchmarkFormulaScore(b *testing.B) {
	prog, err := compileFormula(typicalFormula(), nil)
	require.NoError(b, err)
	ev := newFormulaEval(prog)
	pts := make([]*fakeFormulaPoint, 64)
	for i := range pts {
		pts[i] = typicalFormulaPoint(b, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := ev.score(pts[i%len(pts)]); err != nil {
			b.Fatal(err)
		}
	}
}
