package compat

import (
	"errors"
	"strconv"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// formulaFromProto converts a formula query.
func formulaFromProto(f *qdrant.Formula) (*engine.Formula, error) {
	if f.GetExpression() == nil {
		return nil, missingField("expression")
	}
	e, err := exprFromProto(f.GetExpression(), 0, "query.variant.expression")
	if err != nil {
		return nil, err
	}
	out := &engine.Formula{Expr: e}
	if d := f.GetDefaults(); d != nil {
		out.Defaults = make(map[string]payload.Value, len(d))
		for k, v := range d {
			if out.Defaults[k], err = valueFromProto(v); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// exprFromProto converts one expression of a formula; path is where
// Qdrant's validation messages place it ("query.variant.expression", then
// ".variant" and the field: ".sum[1]", ".right", ".target", nothing for a
// unary operator's operand).
func exprFromProto(x *qdrant.Expression, depth int, path string) (*engine.Expr, error) {
	if depth > maxFormulaProtoDepth {
		return nil, invalidArg("formula expressions nest deeper than %d levels", maxFormulaProtoDepth)
	}
	sub := func(k engine.ExprKind, names []string, xs ...*qdrant.Expression) ([]*engine.Expr, error) {
		out := make([]*engine.Expr, len(xs))
		for i, s := range xs {
			if s == nil && names != nil {
				return nil, missingField(names[i])
			}
			at := path + ".variant"
			switch {
			case names != nil:
				at += "." + names[i]
			case k == engine.ExprSum || k == engine.ExprMult:
				at += "." + k.String() + "[" + strconv.Itoa(i) + "]"
			}
			e, err := exprFromProto(s, depth+1, at)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	op := func(k engine.ExprKind, names []string, xs ...*qdrant.Expression) (*engine.Expr, error) {
		args, err := sub(k, names, xs...)
		if err != nil {
			return nil, err
		}
		return &engine.Expr{Kind: k, Args: args}, nil
	}
	switch v := x.GetVariant().(type) {
	case *qdrant.Expression_Constant:
		return engine.Const(v.Constant), nil
	case *qdrant.Expression_Variable:
		return engine.Var(v.Variable), nil
	case *qdrant.Expression_Condition:
		c, err := conditionFromProto(v.Condition)
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, missingField("condition")
		}
		if err := (&filter.Filter{Must: []filter.Condition{c}}).Validate(); err != nil {
			if fe := (*filter.Error)(nil); errors.As(err, &fe) {
				return nil, validationErr(path+".variant.condition_one_of.match", "Validation error: %s [{}]", fe.Msg)
			}
			return nil, invalidArg("%v", err)
		}
		return &engine.Expr{Kind: engine.ExprCondition, Condition: c}, nil
	case *qdrant.Expression_GeoDistance:
		if v.GeoDistance.GetOrigin() == nil {
			return nil, missingField("origin")
		}
		if _, err := payload.ParsePath(v.GeoDistance.GetTo()); err != nil {
			return nil, invalidArg("invalid payload key")
		}
		return &engine.Expr{Kind: engine.ExprGeoDistance, Origin: geoFromProto(v.GeoDistance.GetOrigin()), Name: v.GeoDistance.GetTo()}, nil
	case *qdrant.Expression_Datetime:
		return &engine.Expr{Kind: engine.ExprDatetime, Name: v.Datetime}, nil
	case *qdrant.Expression_DatetimeKey:
		if _, err := payload.ParsePath(v.DatetimeKey); err != nil {
			return nil, invalidArg("invalid payload key")
		}
		return &engine.Expr{Kind: engine.ExprDatetimeKey, Name: v.DatetimeKey}, nil
	case *qdrant.Expression_Mult:
		return op(engine.ExprMult, nil, v.Mult.GetMult()...)
	case *qdrant.Expression_Sum:
		return op(engine.ExprSum, nil, v.Sum.GetSum()...)
	case *qdrant.Expression_Div:
		e, err := op(engine.ExprDiv, []string{"left", "right"}, v.Div.GetLeft(), v.Div.GetRight())
		if err != nil {
			return nil, err
		}
		e.ByZeroDefault = copyPtr(v.Div.ByZeroDefault)
		return e, nil
	case *qdrant.Expression_Neg:
		return op(engine.ExprNeg, nil, v.Neg)
	case *qdrant.Expression_Abs:
		return op(engine.ExprAbs, nil, v.Abs)
	case *qdrant.Expression_Sqrt:
		return op(engine.ExprSqrt, nil, v.Sqrt)
	case *qdrant.Expression_Pow:
		return op(engine.ExprPow, []string{"base", "exponent"}, v.Pow.GetBase(), v.Pow.GetExponent())
	case *qdrant.Expression_Exp:
		return op(engine.ExprExp, nil, v.Exp)
	case *qdrant.Expression_Log10:
		return op(engine.ExprLog10, nil, v.Log10)
	case *qdrant.Expression_Ln:
		return op(engine.ExprLn, nil, v.Ln)
	case *qdrant.Expression_LinDecay:
		return decayFromProto(engine.ExprLinDecay, v.LinDecay, depth, path)
	case *qdrant.Expression_ExpDecay:
		return decayFromProto(engine.ExprExpDecay, v.ExpDecay, depth, path)
	case *qdrant.Expression_GaussDecay:
		return decayFromProto(engine.ExprGaussDecay, v.GaussDecay, depth, path)
	}
	return nil, missingField("variant")
}

// missingField is Qdrant's answer to a formula message without a field
// it needs.
func missingField(name string) error { return invalidArg("missing field: %s", name) }

// maxFormulaProtoDepth bounds how deeply a gRPC formula nests.
const maxFormulaProtoDepth = 128

func decayFromProto(k engine.ExprKind, d *qdrant.DecayParamsExpression, depth int, path string) (*engine.Expr, error) {
	path += ".variant"
	if d.GetX() == nil {
		return nil, missingField("x")
	}
	x, err := exprFromProto(d.GetX(), depth+1, path+".x")
	if err != nil {
		return nil, err
	}
	e := &engine.Expr{Kind: k, Args: []*engine.Expr{x}, Scale: copyPtr(d.Scale), Midpoint: copyPtr(d.Midpoint)}
	if d.GetTarget() != nil {
		t, err := exprFromProto(d.GetTarget(), depth+1, path+".target")
		if err != nil {
			return nil, err
		}
		e.Args = append(e.Args, t)
	}
	return e, nil
}
