package engine

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// Formula is Query.Formula: Qdrant's score-boosting formula. The root
// query of a request with prefetches scores each candidate its prefetches
// found with Expr, highest first. Defaults gives values to variables a
// point lacks: keys are variables as Expr writes them ("$score[1]",
// "price", "a.b[0]"); a payload default may be any JSON value, converted
// as the payload value would be.
type Formula struct {
	Expr     *Expr
	Defaults map[string]payload.Value
}

// ExprKind is the kind of an Expr.
type ExprKind uint8

// Expression kinds, in the order of Qdrant's Expression variants.
const (
	ExprConstant    ExprKind = iota // Constant
	ExprVariable                    // Name: "$score", "$score[i]" or a payload key path
	ExprCondition                   // Condition: 1 when the point matches it, else 0
	ExprGeoDistance                 // metres from Origin to the geo point at key Name
	ExprDatetime                    // the datetime Name, as seconds since the Unix epoch
	ExprDatetimeKey                 // the datetime at key Name, as seconds since the epoch
	ExprMult                        // product of Args (0 as soon as one is 0)
	ExprSum                         // sum of Args
	ExprNeg                         // -Args[0]
	ExprAbs                         // |Args[0]|
	ExprDiv                         // Args[0] / Args[1]; ByZeroDefault when Args[1] is 0
	ExprSqrt                        // square root of Args[0]
	ExprPow                         // Args[0] to the power Args[1]
	ExprExp                         // e to the power Args[0]
	ExprLog10                       // decimal logarithm of Args[0]
	ExprLn                          // natural logarithm of Args[0]
	ExprLinDecay                    // linear decay of Args[0] from target Args[1] (default 0)
	ExprExpDecay                    // exponential decay, as ExprLinDecay
	ExprGaussDecay                  // gaussian decay, as ExprLinDecay
)

var exprKindNames = [...]string{"constant", "variable", "condition", "geo_distance", "datetime", "datetime_key",
	"mult", "sum", "neg", "abs", "div", "sqrt", "pow", "exp", "log10", "ln", "lin_decay", "exp_decay", "gauss_decay"}

// String returns the REST name of the kind ("mult", "lin_decay", ...).
func (k ExprKind) String() string {
	if int(k) < len(exprKindNames) {
		return exprKindNames[k]
	}
	return fmt.Sprintf("ExprKind(%d)", int(k))
}

// Expr is one node of a formula. Kind says which fields apply.
type Expr struct {
	Kind ExprKind
	// Constant is an ExprConstant's value: Qdrant reads constants as 32-bit
	// floats.
	Constant float32
	// Name is an ExprVariable's variable, an ExprDatetime's datetime, and the
	// payload key of ExprDatetimeKey and ExprGeoDistance.
	Name string
	// Condition is an ExprCondition's filter condition.
	Condition filter.Condition
	// Origin is ExprGeoDistance's origin (not checked: Qdrant reads any
	// origin over gRPC).
	Origin payload.GeoPoint
	// Args are the operands (see the kinds).
	Args []*Expr
	// ByZeroDefault is ExprDiv's value when the divisor is 0; without it
	// a division by 0 is an error.
	ByZeroDefault *float32
	// Scale (default 1, > 0) and Midpoint (default 0.5; in [0, 1] for a
	// linear decay, in (0, 1) for the others) shape a decay: its value is
	// Midpoint where |x - target| == Scale.
	Scale, Midpoint *float32
}

// Const returns a constant expression.
func Const(v float32) *Expr { return &Expr{Kind: ExprConstant, Constant: v} }

// Var returns a variable: "$score", "$score[i]" or a payload key path.
func Var(name string) *Expr { return &Expr{Kind: ExprVariable, Name: name} }

// Op returns an expression of kind k over args.
func Op(k ExprKind, args ...*Expr) *Expr { return &Expr{Kind: k, Args: args} }

// maxFormulaDepth bounds how deeply a formula nests: evaluation recurses.
const maxFormulaDepth = 256

const (
	defaultDecayMidpoint = 0.5
	defaultDecayScale    = 1.0
)

// formulaOp is a compiled node's operation: an ExprKind (ExprVariable
// reads a prefetch score, ExprConstant is a constant or a folded constant
// subtree) or one of the operations below.
type formulaOp = ExprKind

const (
	// opPayload reads a payload variable.
	opPayload formulaOp = 254
	// opFailed is a constant subtree whose evaluation failed: it fails the
	// same way for every point.
	opFailed formulaOp = 255
)

// fnode is a compiled formula node: variables resolved to slots, decay
// parameters folded into lambda, constant subtrees folded.
type fnode struct {
	op     formulaOp
	val    float64 // constant; decay lambda; by-zero default
	hasVal bool    // div: a by-zero default is set
	slot   int     // score index, payload slot, condition index
	origin payload.GeoPoint
	args   []*fnode
	err    error // opFailed
}

// formulaSlot is one distinct payload key a formula reads.
type formulaSlot struct {
	path payload.Path
	def  payload.Value
	has  bool // def is set
	// keep, when not nil, models the field index Qdrant reads the values
	// from: values it does not hold are dropped, values converted as the
	// index returns them.
	keep func(payload.Value) (payload.Value, bool)
}

// formulaProgram is a compiled formula, read-only and shared by the
// evaluations of one request.
type formulaProgram struct {
	root      *fnode
	slots     []formulaSlot
	conds     []*filter.Filter
	scoreDefs map[int]float64
}

// compileFormula checks f as Qdrant does when it reads a formula (variable
// names, datetimes, decay parameters, in the order they appear, then the
// defaults), and compiles it. index, when not nil, returns the field index
// params of a payload key.
func compileFormula(f *Formula, index func(key string) (payload.IndexParams, bool)) (*formulaProgram, error) {
	if f == nil || f.Expr == nil {
		return nil, fmt.Errorf("%w: formula: missing expression", ErrBadRequest)
	}
	c := formulaCompiler{prog: &formulaProgram{}, slotOf: map[string]int{}, index: index}
	root, err := c.node(f.Expr, 0)
	if err != nil {
		return nil, err
	}
	c.prog.root = root
	keys := make([]string, 0, len(f.Defaults))
	for k := range f.Defaults {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := f.Defaults[k]
		score, isScore, path, err := parseFormulaVariable(k)
		if err != nil {
			return nil, err
		}
		if isScore {
			if x, ok := v.Number(); ok {
				if c.prog.scoreDefs == nil {
					c.prog.scoreDefs = map[int]float64{}
				}
				c.prog.scoreDefs[score] = x
			}
			continue
		}
		if i, ok := c.slotOf[path.String()]; ok {
			c.prog.slots[i].def, c.prog.slots[i].has = v, true
		}
	}
	return c.prog, nil
}

type formulaCompiler struct {
	prog   *formulaProgram
	slotOf map[string]int
	index  func(string) (payload.IndexParams, bool)
}

func (c *formulaCompiler) slot(p payload.Path) int {
	if i, ok := c.slotOf[p.String()]; ok {
		return i
	}
	s := formulaSlot{path: p}
	if c.index != nil {
		if ip, ok := c.index(p.String()); ok {
			s.keep = indexedValue(ip.Type)
		}
	}
	c.prog.slots = append(c.prog.slots, s)
	c.slotOf[p.String()] = len(c.prog.slots) - 1
	return len(c.prog.slots) - 1
}

func validationFailed(format string, args ...any) error {
	return fmt.Errorf("%w: Validation failed: %s", ErrBadRequest, fmt.Sprintf(format, args...))
}

func (c *formulaCompiler) node(e *Expr, depth int) (*fnode, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: formula: missing expression", ErrBadRequest)
	}
	if depth > maxFormulaDepth {
		return nil, fmt.Errorf("%w: formula: expressions nest deeper than %d levels", ErrBadRequest, maxFormulaDepth)
	}
	n := &fnode{op: e.Kind}
	arity := func(min, max int) error {
		if len(e.Args) < min || len(e.Args) > max {
			return fmt.Errorf("%w: formula: %s takes %d to %d operands, not %d", ErrBadRequest, e.Kind, min, max, len(e.Args))
		}
		return nil
	}
	switch e.Kind {
	case ExprConstant:
		n.val = float64(e.Constant)
		return n, nil
	case ExprVariable:
		score, isScore, path, err := parseFormulaVariable(e.Name)
		if err != nil {
			return nil, err
		}
		if isScore {
			n.slot = score
		} else {
			n.op, n.slot = opPayload, c.slot(path)
		}
		return n, nil
	case ExprCondition:
		if e.Condition == nil {
			return nil, fmt.Errorf("%w: formula: missing condition", ErrBadRequest)
		}
		f := &filter.Filter{Must: []filter.Condition{e.Condition}}
		if err := f.Validate(); err != nil {
			return nil, fmt.Errorf("%w: formula: %w", ErrBadRequest, err)
		}
		n.slot = len(c.prog.conds)
		c.prog.conds = append(c.prog.conds, f)
		return n, nil
	case ExprGeoDistance, ExprDatetimeKey:
		p, err := payload.ParsePath(e.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: formula: %s: %w", ErrBadRequest, e.Kind, err)
		}
		n.origin = e.Origin // Qdrant checks it in REST requests only
		n.slot = c.slot(p)
		return n, nil
	case ExprDatetime:
		secs, msg := formulaDatetime(e.Name)
		if msg != "" {
			return nil, validationFailed("failed to parse date-time %s: %s", e.Name, msg)
		}
		n.op, n.val = ExprConstant, secs
		return n, nil
	case ExprMult, ExprSum:
	case ExprNeg, ExprAbs, ExprSqrt, ExprExp, ExprLog10, ExprLn:
		if err := arity(1, 1); err != nil {
			return nil, err
		}
	case ExprDiv, ExprPow:
		if err := arity(2, 2); err != nil {
			return nil, err
		}
		if e.Kind == ExprDiv && e.ByZeroDefault != nil {
			n.val, n.hasVal = float64(*e.ByZeroDefault), true
		}
	case ExprLinDecay, ExprExpDecay, ExprGaussDecay:
		lambda, err := decayLambda(e.Kind, e.Midpoint, e.Scale)
		if err != nil {
			return nil, err
		}
		if err := arity(1, 2); err != nil {
			return nil, err
		}
		n.val = lambda
	default:
		return nil, fmt.Errorf("%w: formula: unknown expression kind %d", ErrBadRequest, e.Kind)
	}
	n.args = make([]*fnode, len(e.Args))
	constant := true
	for i, a := range e.Args {
		x, err := c.node(a, depth+1)
		if err != nil {
			return nil, err
		}
		n.args[i] = x
		constant = constant && x.op == ExprConstant
	}
	if constant {
		// Every point gets the same value (or error): compute it once.
		v, err := (&formulaEval{}).eval(n)
		if err != nil {
			return &fnode{op: opFailed, err: err}, nil
		}
		return &fnode{op: ExprConstant, val: v}, nil
	}
	return n, nil
}

// decayLambda checks a decay's parameters as Qdrant does and folds them
// into the one constant of its function.
func decayLambda(k ExprKind, midpoint, scale *float32) (float64, error) {
	m, s := float64(float32(defaultDecayMidpoint)), float64(float32(defaultDecayScale))
	if midpoint != nil {
		m = float64(*midpoint)
	}
	if scale != nil {
		s = float64(*scale)
	}
	if k == ExprLinDecay {
		if !(m >= 0 && m <= 1) {
			return 0, validationFailed("Linear decay midpoint should be in the range [0.0, 1.0], got %s.", rustFloat(m))
		}
	} else if !(m > 0 && m < 1) {
		return 0, validationFailed("Decay midpoint should be in the range (0.0, 1.0), got %s.", rustFloat(m))
	}
	if !(s > 0) {
		return 0, validationFailed("Decay scale should be non-zero positive, got %s.", rustFloat(s))
	}
	switch k {
	case ExprLinDecay:
		return (1 - m) / s, nil
	case ExprExpDecay:
		return math.Log(m) / s, nil
	}
	return math.Log(m) / (s * s), nil
}

// parseFormulaVariable reads a variable name as Qdrant does: "$score" is
// the score of the first prefetch, "$score[i]" that of prefetch i, any
// other name starting with '$' is an error, and the rest are payload key
// paths.
func parseFormulaVariable(name string) (score int, isScore bool, path payload.Path, err error) {
	fail := func(what string) error {
		return validationFailed("failed to parse variable ID %s: %s: %s", name, what, name)
	}
	rest, reserved := strings.CutPrefix(name, "$")
	if !reserved {
		p, err := payload.ParsePath(name)
		if err != nil {
			return 0, false, payload.Path{}, fail("Invalid payload variable")
		}
		return 0, false, p, nil
	}
	p, err := payload.ParsePath(rest)
	if err != nil {
		return 0, false, payload.Path{}, fail("Invalid reserved variable")
	}
	if p.Head() != "score" || !strings.HasPrefix(rest, "score") {
		return 0, false, payload.Path{}, fail("Invalid reserved word")
	}
	switch idx := rest[len("score"):]; {
	case idx == "":
		return 0, true, payload.Path{}, nil
	case len(idx) > 2 && idx[0] == '[' && idx[len(idx)-1] == ']' && !strings.ContainsAny(idx[1:len(idx)-1], "[]"):
		if i, err := strconv.ParseUint(idx[1:len(idx)-1], 10, 64); err == nil {
			return int(min(i, math.MaxInt)), true, payload.Path{}, nil
		}
	}
	return 0, false, payload.Path{}, fail("Invalid reserved variable")
}

// rustFloat formats f as Rust's Display does: the shortest digits that
// read back as f, never an exponent, "inf", "-inf" and "NaN".
func rustFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// indexedValue returns how a field index of type t returns a payload value
// (one element of a multi-value) to a formula: ok false when the index does
// not hold it. A text index returns nothing, so the value is read from the
// payload (nil).
func indexedValue(t payload.FieldType) func(payload.Value) (payload.Value, bool) {
	switch t {
	case payload.TypeInteger:
		return func(v payload.Value) (payload.Value, bool) {
			if _, ok := v.Int(); ok {
				return v, true
			}
			if u, ok := v.Uint(); ok && u <= math.MaxInt64 {
				return v, true
			}
			return v, false
		}
	case payload.TypeFloat:
		return func(v payload.Value) (payload.Value, bool) {
			x, ok := v.Number()
			return payload.FloatValue(x), ok
		}
	case payload.TypeKeyword, payload.TypeUUID:
		return func(v payload.Value) (payload.Value, bool) { return v, v.Kind() == payload.String }
	case payload.TypeDatetime:
		return func(v payload.Value) (payload.Value, bool) {
			s, ok := v.Str()
			if !ok {
				return v, false
			}
			_, err := payload.ParseDatetime(s)
			return v, err == nil
		}
	case payload.TypeBool:
		return func(v payload.Value) (payload.Value, bool) { return v, v.Kind() == payload.Bool }
	case payload.TypeGeo:
		return func(v payload.Value) (payload.Value, bool) {
			_, ok := payload.GeoPointFrom(v)
			return v, ok
		}
	}
	return nil
}

// formulaTarget is what a formula is evaluated against: a candidate point
// and its scores in the prefetches.
type formulaTarget interface {
	Payload() payload.Value
	// PrefetchScore returns the point's score in prefetch i; ok is false
	// when prefetch i did not find it (or there is no prefetch i).
	PrefetchScore(i int) (score float32, ok bool)
	// Matches reports whether the point matches f (with the collection's
	// indexes where they decide, as for full-text conditions).
	Matches(f *filter.Filter) bool
}

// formulaEval evaluates a program against one point at a time; it caches
// the point's payload values, and is not safe for concurrent use.
type formulaEval struct {
	prog    *formulaProgram
	t       formulaTarget
	pl      payload.Value
	plDone  bool
	vals    []payload.Value // per slot
	valDone []bool
	buf     []payload.Value
}

func newFormulaEval(p *formulaProgram) *formulaEval {
	return &formulaEval{prog: p, vals: make([]payload.Value, len(p.slots)), valDone: make([]bool, len(p.slots))}
}

// score evaluates the formula for t, as a 32-bit score.
func (e *formulaEval) score(t formulaTarget) (float32, error) {
	e.t, e.plDone = t, false
	clear(e.valDone)
	v, err := e.eval(e.prog.root)
	if err != nil {
		return 0, err
	}
	s := float32(v)
	if !isFinite(float64(s)) {
		return 0, nonFinite("%s as f32 = %s", rustFloat(v), rustFloat(float64(s)))
	}
	return s, nil
}

func nonFinite(format string, args ...any) error {
	return fmt.Errorf("%w: The expression %s produced a non-finite number", ErrBadRequest, fmt.Sprintf(format, args...))
}

func isFinite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

func (e *formulaEval) eval(n *fnode) (float64, error) {
	switch n.op {
	case ExprConstant:
		return n.val, nil
	case opFailed:
		return 0, n.err
	case ExprVariable:
		if s, ok := e.t.PrefetchScore(n.slot); ok {
			return float64(s), nil
		}
		if d, ok := e.prog.scoreDefs[n.slot]; ok {
			return d, nil
		}
		return 0, nil
	case opPayload:
		v, err := e.value(n.slot, "number")
		if err != nil {
			return 0, err
		}
		x, ok := v.Number()
		if !ok {
			return 0, e.typeError(n.slot, "number", "Value is not a number")
		}
		return x, nil
	case ExprCondition:
		if e.t.Matches(e.prog.conds[n.slot]) {
			return 1, nil
		}
		return 0, nil
	case ExprGeoDistance:
		v, err := e.value(n.slot, "geo point")
		if err != nil {
			return 0, err
		}
		p, msg := geoPointOf(v)
		if msg != "" {
			return 0, e.typeError(n.slot, "geo point", msg)
		}
		return payload.HaversineDistance(n.origin, p), nil
	case ExprDatetimeKey:
		v, err := e.value(n.slot, "datetime")
		if err != nil {
			return 0, err
		}
		s, ok := v.Str()
		if !ok {
			return 0, e.typeError(n.slot, "datetime", "Value is not a string")
		}
		secs, msg := formulaDatetime(s)
		if msg != "" {
			return 0, e.typeError(n.slot, "datetime", msg)
		}
		return secs, nil
	case ExprMult:
		prod := 1.0
		for _, a := range n.args {
			v, err := e.eval(a)
			if err != nil {
				return 0, err
			}
			if v == 0 {
				return 0, nil
			}
			prod *= v
		}
		return prod, nil
	case ExprSum:
		sum := 0.0
		for _, a := range n.args {
			v, err := e.eval(a)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	case ExprDiv:
		l, err := e.eval(n.args[0])
		if err != nil || l == 0 {
			return 0, err
		}
		r, err := e.eval(n.args[1])
		if err != nil {
			return 0, err
		}
		if r == 0 && n.hasVal {
			return n.val, nil
		}
		q := l / r
		if !isFinite(q) {
			return 0, nonFinite("%s/%s = %s", rustFloat(l), rustFloat(r), rustFloat(q))
		}
		return q, nil
	case ExprPow:
		b, err := e.eval(n.args[0])
		if err != nil {
			return 0, err
		}
		x, err := e.eval(n.args[1])
		if err != nil {
			return 0, err
		}
		p := math.Pow(b, x) // C's pow, as Rust's powf
		if !isFinite(p) {
			return 0, nonFinite("%s^%s = %s", rustFloat(b), rustFloat(x), rustFloat(p))
		}
		return p, nil
	case ExprLinDecay, ExprExpDecay, ExprGaussDecay:
		x, err := e.eval(n.args[0])
		if err != nil {
			return 0, err
		}
		target := 0.0
		if len(n.args) > 1 {
			if target, err = e.eval(n.args[1]); err != nil {
				return 0, err
			}
		}
		d := x - target
		switch n.op {
		case ExprLinDecay:
			return max(1-n.val*math.Abs(d), 0), nil
		case ExprExpDecay:
			return math.Exp(n.val * math.Abs(d)), nil
		}
		return math.Exp(n.val * d * d), nil
	}
	// The unary operators.
	v, err := e.eval(n.args[0])
	if err != nil {
		return 0, err
	}
	var r float64
	var format string
	switch n.op {
	case ExprNeg:
		return -v, nil
	case ExprAbs:
		return math.Abs(v), nil
	case ExprSqrt:
		r, format = math.Sqrt(v), "√%s = %s"
	case ExprExp:
		r, format = math.Exp(v), "exp(%s) = %s"
	case ExprLog10:
		r, format = math.Log10(v), "log10(%s) = %s"
	case ExprLn:
		r, format = math.Log(v), "ln(%s) = %s"
	default:
		panic(fmt.Sprintf("engine: BUG: formula node of kind %d", n.op))
	}
	if !isFinite(r) {
		return 0, nonFinite(format, rustFloat(v), rustFloat(r))
	}
	return r, nil
}

// value returns the value of payload slot i for the current point, as
// Qdrant reads a formula variable: the values at its key (arrays at the
// end of the key flattened, unless the key ends with []), through the
// field index when there is one; none is the default or an error, one is
// that value, several are an array.
func (e *formulaEval) value(i int, want string) (payload.Value, error) {
	if e.valDone[i] {
		return e.vals[i], nil
	}
	s := &e.prog.slots[i]
	if !e.plDone {
		e.pl, e.plDone = e.t.Payload(), true
	}
	vals := s.path.Find(e.pl, e.buf[:0])
	if !strings.HasSuffix(s.path.String(), "[]") || s.keep != nil {
		vals = flattenInto(vals)
	}
	if s.keep != nil {
		kept := vals[:0]
		for _, v := range vals {
			if x, ok := s.keep(v); ok {
				kept = append(kept, x)
			}
		}
		vals = kept
	}
	e.buf = vals[:0]
	var v payload.Value
	switch len(vals) {
	case 0:
		if !s.has {
			return v, e.typeError(i, want, "No value found in a payload nor defaults")
		}
		v = s.def
	case 1:
		v = vals[0]
	default:
		v = payload.ArrayValue(slices.Clone(vals)...)
	}
	e.vals[i], e.valDone[i] = v, true
	return v, nil
}

// flattenInto replaces the array values of vals by their elements, in
// place when it can.
func flattenInto(vals []payload.Value) []payload.Value {
	if !slices.ContainsFunc(vals, func(v payload.Value) bool { return v.Kind() == payload.Array }) {
		return vals
	}
	out := make([]payload.Value, 0, len(vals)*2)
	for _, v := range vals {
		if v.Kind() == payload.Array {
			out = append(out, v.Array()...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

func (e *formulaEval) typeError(slot int, want, msg string) error {
	return fmt.Errorf("%w: Expected %s value for %s in the payload and/or in the formula defaults. Error: %s",
		ErrBadRequest, want, e.prog.slots[slot].path.String(), msg)
}
