package compat

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// restFormula reads a formula query, {"formula": Expression, "defaults":
// {...}}. As in Qdrant, an expression is an untagged enum: its variants are
// tried in order (number, string, condition, geo_distance, datetime,
// datetime_key, mult, sum, neg, abs, div, sqrt, pow, exp, log10, ln,
// lin_decay, exp_decay, gauss_decay) and the first that reads the value
// wins; a value no variant reads is reported as the query's untagged enum.
// A condition that reads but fails validation is a validation error.
func restFormula(m map[string]json.RawMessage, path string) (*engine.Formula, error) {
	var r restExprReader
	e, ok := r.expr(m["formula"], 0)
	if !ok {
		return nil, fmt.Errorf("%w: formula", errRestNotVector)
	}
	f := &engine.Formula{Expr: e}
	if raw, present := m["defaults"]; present {
		if restFirst(raw) != '{' {
			return nil, fmt.Errorf("%w: formula defaults", errRestNotVector)
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return nil, fmt.Errorf("%w: formula defaults", errRestNotVector)
		}
		f.Defaults = make(map[string]payload.Value, len(members))
		for k, v := range members {
			pv, err := payload.ParseJSON(v)
			if err != nil {
				return nil, fmt.Errorf("%w: formula defaults", errRestNotVector)
			}
			f.Defaults[k] = pv
		}
	}
	if r.invalid != nil {
		return nil, restValidationError("query.__all__", "Validation error: %s [{}]", r.invalid.Msg)
	}
	return f, nil
}

// restExprReader reads expressions; invalid keeps the first condition that
// read but failed validation.
type restExprReader struct {
	invalid *filter.Error
}

// restMaxExprDepth bounds how deeply a REST formula nests (Qdrant's JSON
// reader stops at 128 levels of JSON first).
const restMaxExprDepth = 128

// expr reads one expression; ok is false when no variant reads raw.
func (r *restExprReader) expr(raw json.RawMessage, depth int) (*engine.Expr, bool) {
	if depth > restMaxExprDepth {
		return nil, false
	}
	switch c := restFirst(raw); {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return engine.Var(s), true
	case c == '-' || (c >= '0' && c <= '9'):
		x, ok := restF32(raw)
		if !ok {
			return nil, false
		}
		return engine.Const(x), true
	case c != '{':
		return nil, false
	}
	if cond, ok := r.condition(raw); ok {
		return &engine.Expr{Kind: engine.ExprCondition, Condition: cond}, true
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	for _, k := range restExprKinds {
		member, present := m[k.String()]
		if !present {
			continue
		}
		if e, ok := r.variant(k, member, depth); ok {
			return e, true
		}
	}
	return nil, false
}

// restExprKinds are the object variants of an expression, in Qdrant's
// order.
var restExprKinds = []engine.ExprKind{engine.ExprGeoDistance, engine.ExprDatetime, engine.ExprDatetimeKey,
	engine.ExprMult, engine.ExprSum, engine.ExprNeg, engine.ExprAbs, engine.ExprDiv, engine.ExprSqrt, engine.ExprPow,
	engine.ExprExp, engine.ExprLog10, engine.ExprLn, engine.ExprLinDecay, engine.ExprExpDecay, engine.ExprGaussDecay}

// condition reads raw as a filter condition.
func (r *restExprReader) condition(raw json.RawMessage) (filter.Condition, bool) {
	f, err := filter.ParseJSON(append(append([]byte(`{"must":[`), raw...), "]}"...))
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) && fe.Validation {
			// It reads as a condition; the request fails validation.
			if r.invalid == nil {
				r.invalid = fe
			}
			return &filter.Filter{}, true
		}
		return nil, false
	}
	if len(f.Must) != 1 {
		return nil, false
	}
	return f.Must[0], true
}

// variant reads the member of an object variant of kind k.
func (r *restExprReader) variant(k engine.ExprKind, raw json.RawMessage, depth int) (*engine.Expr, bool) {
	e := &engine.Expr{Kind: k}
	sub := func(raw json.RawMessage) bool {
		x, ok := r.expr(raw, depth+1)
		if ok {
			e.Args = append(e.Args, x)
		}
		return ok
	}
	switch k {
	case engine.ExprGeoDistance:
		var p struct {
			Origin json.RawMessage `json:"origin"`
			To     *string         `json:"to"`
		}
		if json.Unmarshal(raw, &p) != nil || p.To == nil || restFirst(raw) != '{' {
			return nil, false
		}
		origin, ok := restGeoPoint(p.Origin)
		if !ok {
			return nil, false
		}
		if _, err := payload.ParsePath(*p.To); err != nil {
			return nil, false
		}
		e.Origin, e.Name = origin, *p.To
		return e, true
	case engine.ExprDatetime, engine.ExprDatetimeKey:
		if restFirst(raw) != '"' || json.Unmarshal(raw, &e.Name) != nil {
			return nil, false
		}
		if k == engine.ExprDatetimeKey {
			if _, err := payload.ParsePath(e.Name); err != nil {
				return nil, false
			}
		}
		return e, true
	case engine.ExprMult, engine.ExprSum:
		var elems []json.RawMessage
		if restFirst(raw) != '[' || json.Unmarshal(raw, &elems) != nil {
			return nil, false
		}
		e.Args = make([]*engine.Expr, 0, len(elems))
		for _, el := range elems {
			if !sub(el) {
				return nil, false
			}
		}
		return e, true
	case engine.ExprDiv, engine.ExprPow:
		names := [2]string{"left", "right"}
		if k == engine.ExprPow {
			names = [2]string{"base", "exponent"}
		}
		m, ok := restExprObject(raw)
		if !ok {
			return nil, false
		}
		for _, n := range names {
			if _, present := m[n]; !present || !sub(m[n]) {
				return nil, false
			}
		}
		if k == engine.ExprDiv {
			if e.ByZeroDefault, ok = restOptF32(m["by_zero_default"]); !ok {
				return nil, false
			}
		}
		return e, true
	case engine.ExprLinDecay, engine.ExprExpDecay, engine.ExprGaussDecay:
		m, ok := restExprObject(raw)
		if !ok {
			return nil, false
		}
		if _, present := m["x"]; !present || !sub(m["x"]) {
			return nil, false
		}
		if !restIsNull(m["target"]) && !sub(m["target"]) {
			return nil, false
		}
		if e.Scale, ok = restOptF32(m["scale"]); !ok {
			return nil, false
		}
		if e.Midpoint, ok = restOptF32(m["midpoint"]); !ok {
			return nil, false
		}
		return e, true
	}
	// The unary operators.
	if !sub(raw) {
		return nil, false
	}
	return e, true
}

func restExprObject(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if restFirst(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return m, true
}

// restF32 reads a JSON number as Qdrant reads an f32: the nearest float32
// (infinite beyond its range).
func restF32(raw json.RawMessage) (float32, bool) {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	if math.IsInf(x, 0) {
		return 0, false // serde_json refuses numbers beyond f64
	}
	return float32(x), true
}

// restOptF32 reads an optional f32 member: absent or null is nil.
func restOptF32(raw json.RawMessage) (*float32, bool) {
	if restIsNull(raw) {
		return nil, true
	}
	c := restFirst(raw)
	if c != '-' && (c < '0' || c > '9') {
		return nil, false
	}
	x, ok := restF32(raw)
	return &x, ok
}

// restGeoPoint reads a geo point, {"lon", "lat"} within range.
func restGeoPoint(raw json.RawMessage) (payload.GeoPoint, bool) {
	var p struct {
		Lon, Lat *float64
	}
	if restFirst(raw) != '{' || json.Unmarshal(raw, &p) != nil || p.Lon == nil || p.Lat == nil {
		return payload.GeoPoint{}, false
	}
	g := payload.GeoPoint{Lon: *p.Lon, Lat: *p.Lat}
	return g, g.Validate() == nil
}
