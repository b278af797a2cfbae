package compat

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// This file converts between go-client's protobuf messages and the engine's
// types: point ids, payload values, vectors, filters, selectors, payload
// index parameters and results. Collection configurations are in
// grpc_config.go. Conversions from protobuf return InvalidArgument status
// errors with Qdrant's messages; conversions to protobuf cannot fail.

// pointIDFromProto converts a point id; a malformed UUID fails as in Qdrant.
func pointIDFromProto(p *qdrant.PointId) (filter.PointID, error) {
	switch x := p.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return filter.NumID(x.Num), nil
	case *qdrant.PointId_Uuid:
		id, err := filter.ParseUUID(x.Uuid)
		if err != nil {
			return filter.PointID{}, invalidArg("Unable to parse UUID: %s", x.Uuid)
		}
		return id, nil
	}
	return filter.PointID{}, invalidArg("No ID options provided")
}

// pointIDToProto converts a point id; UUIDs are written lower-case and
// hyphenated.
func pointIDToProto(id filter.PointID) *qdrant.PointId {
	if n, ok := id.Num(); ok {
		return &qdrant.PointId{PointIdOptions: &qdrant.PointId_Num{Num: n}}
	}
	return &qdrant.PointId{PointIdOptions: &qdrant.PointId_Uuid{Uuid: id.String()}}
}

func pointIDsFromProto(ps []*qdrant.PointId) ([]filter.PointID, error) {
	out := make([]filter.PointID, len(ps))
	for i, p := range ps {
		id, err := pointIDFromProto(p)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

func pointIDsToProto(ids []filter.PointID) []*qdrant.PointId {
	out := make([]*qdrant.PointId, len(ids))
	for i, id := range ids {
		out[i] = pointIDToProto(id)
	}
	return out
}

// valueFromProto converts a json_with_int Value, keeping integers and doubles
// apart. A Value with no kind is null, as in Qdrant; a non-finite double is an
// error, since JSON cannot hold it.
func valueFromProto(v *qdrant.Value) (payload.Value, error) {
	switch k := v.GetKind().(type) {
	case *qdrant.Value_DoubleValue:
		if math.IsNaN(k.DoubleValue) || math.IsInf(k.DoubleValue, 0) {
			return payload.Value{}, invalidArg("cannot convert to json number")
		}
		return payload.FloatValue(k.DoubleValue), nil
	case *qdrant.Value_IntegerValue:
		return payload.IntValue(k.IntegerValue), nil
	case *qdrant.Value_StringValue:
		return payload.StringValue(k.StringValue), nil
	case *qdrant.Value_BoolValue:
		return payload.BoolValue(k.BoolValue), nil
	case *qdrant.Value_StructValue:
		return structFromProto(k.StructValue.GetFields())
	case *qdrant.Value_ListValue:
		vals := k.ListValue.GetValues()
		elems := make([]payload.Value, len(vals))
		for i, e := range vals {
			var err error
			if elems[i], err = valueFromProto(e); err != nil {
				return payload.Value{}, err
			}
		}
		return payload.ArrayValue(elems...), nil
	}
	return payload.NullValue(), nil
}

// structFromProto converts a map of values to a JSON object, keys sorted
// (protobuf maps have no order).
func structFromProto(m map[string]*qdrant.Value) (payload.Value, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fields := make([]payload.Field, len(keys))
	for i, k := range keys {
		v, err := valueFromProto(m[k])
		if err != nil {
			return payload.Value{}, err
		}
		fields[i] = payload.Field{Key: k, Value: v}
	}
	return payload.ObjectValue(fields...), nil
}

// valueToProto converts a payload value. Integers beyond int64 become
// doubles, as Qdrant converts them.
func valueToProto(v payload.Value) *qdrant.Value {
	switch v.Kind() {
	case payload.Bool:
		b, _ := v.Bool()
		return &qdrant.Value{Kind: &qdrant.Value_BoolValue{BoolValue: b}}
	case payload.Int:
		i, _ := v.Int()
		return &qdrant.Value{Kind: &qdrant.Value_IntegerValue{IntegerValue: i}}
	case payload.Uint, payload.Float:
		f, _ := v.Number()
		return &qdrant.Value{Kind: &qdrant.Value_DoubleValue{DoubleValue: f}}
	case payload.String:
		s, _ := v.Str()
		return &qdrant.Value{Kind: &qdrant.Value_StringValue{StringValue: s}}
	case payload.Array:
		elems := v.Array()
		vals := make([]*qdrant.Value, len(elems))
		for i, e := range elems {
			vals[i] = valueToProto(e)
		}
		return &qdrant.Value{Kind: &qdrant.Value_ListValue{ListValue: &qdrant.ListValue{Values: vals}}}
	case payload.Object:
		return &qdrant.Value{Kind: &qdrant.Value_StructValue{StructValue: &qdrant.Struct{Fields: payloadToProto(v)}}}
	}
	return &qdrant.Value{Kind: &qdrant.Value_NullValue{}}
}

// PayloadToProto converts a payload object to the payload map of go-client's
// protobuf messages (PointStruct.Payload, SetPayloadPoints.Payload), as the
// gRPC API sends payloads; anything else gives an empty map.
func PayloadToProto(v payload.Value) map[string]*qdrant.Value { return payloadToProto(v) }

// payloadToProto converts a payload object to a protobuf map; anything else
// (the zero Value of a record read without payload) gives an empty map.
func payloadToProto(v payload.Value) map[string]*qdrant.Value {
	fields := v.Fields()
	if len(fields) == 0 {
		// As a client decodes an empty payload off the wire: no map.
		return nil
	}
	out := make(map[string]*qdrant.Value, len(fields))
	for _, f := range fields {
		out[f.Key] = valueToProto(f.Value)
	}
	return out
}

// pathFromProto parses a payload key path.
func pathFromProto(s string) (payload.Path, error) {
	p, err := payload.ParsePath(s)
	if err != nil {
		return payload.Path{}, invalidArg("Invalid json path: '%s'", s)
	}
	return p, nil
}

// Vectors.

// vectorFromProto reads a Vector: dense (in the oneof or in the
// deprecated data field), sparse (in the oneof or as the deprecated data
// and indices) or, in writes, a Document (embedded document side). path
// names the vector in Qdrant's validation messages. The legacy search
// requests (legacy set) take no inference inputs; in writes, images and
// inference objects need an inference service. A multivector comes in the
// oneof or as the deprecated data and vectors_count.
func vectorFromProto(v *qdrant.Vector, path string, legacy bool) (vectorIn, error) {
	var sv engine.SparseVector
	switch x := v.GetVector().(type) {
	case *qdrant.Vector_Dense:
		return vectorIn{dense: x.Dense.GetData()}, nil
	case *qdrant.Vector_Sparse:
		sv = sparseFromParts(x.Sparse.GetIndices(), x.Sparse.GetValues())
	case *qdrant.Vector_MultiDense:
		return multiFromProto(x.MultiDense, path)
	case *qdrant.Vector_Document:
		if legacy {
			return vectorIn{}, invalidArg("Document can't be converted to VectorInternal")
		}
		d, err := documentFromProto(x.Document, false)
		return vectorIn{sparse: &d}, err
	case *qdrant.Vector_Image:
		if legacy {
			return vectorIn{}, invalidArg("Image can't be converted to VectorInternal")
		}
		return vectorIn{}, errNoInference
	case *qdrant.Vector_Object:
		if legacy {
			return vectorIn{}, invalidArg("Object can't be converted to VectorInternal")
		}
		return vectorIn{}, errNoInference
	default:
		switch {
		case v.GetIndices() != nil:
			sv = sparseFromParts(v.GetIndices().GetData(), v.GetData())
		case v != nil && v.VectorsCount != nil:
			return multiFromFlat(v.GetData(), v.GetVectorsCount(), path)
		default:
			return vectorIn{dense: v.GetData()}, nil
		}
	}
	return vectorIn{sparse: &sv}, grpcSparseCheck(sv, path)
}

// documentFromProto embeds a Document (see embedDocument).
func documentFromProto(d *qdrant.Document, query bool) (engine.SparseVector, error) {
	var options json.RawMessage
	if o := d.GetOptions(); len(o) > 0 {
		v, err := structFromProto(o)
		if err != nil {
			return engine.SparseVector{}, err
		}
		if options, err = json.Marshal(v); err != nil {
			return engine.SparseVector{}, err
		}
	}
	return embedDocument(d.GetText(), d.GetModel(), options, query)
}

// denseToProto writes a dense vector in the oneof only.
func denseToProto(v []float32) *qdrant.Vector {
	return &qdrant.Vector{Vector: &qdrant.Vector_Dense{Dense: &qdrant.DenseVector{Data: v}}}
}

// vectorsFromProto converts a point's vectors by name ("" for the unnamed
// vector); documents are embedded document side. path names the point's
// vectors in Qdrant's validation messages.
func vectorsFromProto(v *qdrant.Vectors, path string) (pointVectors, error) {
	out := pointVectors{dense: map[string][]float32{}}
	switch x := v.GetVectorsOptions().(type) {
	case *qdrant.Vectors_Vector:
		vi, err := vectorFromProto(x.Vector, path+".vectors_options.vector", false)
		switch {
		case errors.Is(err, errNoInference):
			return out, err
		case x.Vector.GetDocument() != nil && err == nil:
			return out, errUnnamedDocument
		case err != nil:
			return out, err
		case vi.sparse != nil:
			return out, invalidArg("Sparse vector must be named")
		}
		out.add("", vi)
		return out, nil
	case *qdrant.Vectors_Vectors:
		for name, vec := range x.Vectors.GetVectors() {
			vi, err := vectorFromProto(vec, path+".vectors_options.vectors.[]", false)
			if err != nil {
				return out, err
			}
			out.add(name, vi)
		}
		return out, nil
	}
	return out, invalidArg("No Vector Provided")
}

// vectorsToProto is the inverse of vectorsFromProto: the unnamed vector alone
// is written as a single vector, anything else as named vectors.
func vectorsToProto(pv pointVectors) *qdrant.Vectors {
	if v, ok := pv.dense[""]; ok && len(pv.dense) == 1 && len(pv.sparse) == 0 && len(pv.multi) == 0 {
		return &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: denseToProto(v)}}
	}
	if v, ok := pv.multi[""]; ok && len(pv.dense) == 0 && len(pv.sparse) == 0 && len(pv.multi) == 1 {
		return &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: qdrant.NewVectorMulti(v)}}
	}
	named := make(map[string]*qdrant.Vector, len(pv.dense)+len(pv.sparse)+len(pv.multi))
	for name, v := range pv.dense {
		named[name] = denseToProto(v)
	}
	for name, v := range pv.multi {
		named[name] = qdrant.NewVectorMulti(v)
	}
	for name, v := range pv.sparse {
		named[name] = qdrant.NewVectorSparse(v.Indices, v.Values)
	}
	return &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vectors{Vectors: &qdrant.NamedVectors{Vectors: named}}}
}

// vectorsOutputFromMap writes the vectors of a record: nil when none were
// asked for, the unnamed vector alone as a single vector, anything else
// (including no vector at all) as named vectors. Only the oneof is set, as
// Qdrant does.
func vectorsOutputFromMap(m map[string][]float32, multi map[string][][]float32, sparse map[string]engine.SparseVector) *qdrant.VectorsOutput {
	if m == nil && sparse == nil && multi == nil {
		return nil
	}
	dense := func(v []float32) *qdrant.VectorOutput {
		return &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_Dense{Dense: &qdrant.DenseVector{Data: v}}}
	}
	multiOut := func(mv [][]float32) *qdrant.VectorOutput {
		vs := make([]*qdrant.DenseVector, len(mv))
		for i, v := range mv {
			vs[i] = &qdrant.DenseVector{Data: v}
		}
		return &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_MultiDense{MultiDense: &qdrant.MultiDenseVector{Vectors: vs}}}
	}
	if v, ok := m[""]; ok && len(m) == 1 && len(sparse) == 0 && len(multi) == 0 {
		return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vector{Vector: dense(v)}}
	}
	if v, ok := multi[""]; ok && len(m) == 0 && len(sparse) == 0 && len(multi) == 1 {
		return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vector{Vector: multiOut(v)}}
	}
	named := make(map[string]*qdrant.VectorOutput, len(m)+len(sparse)+len(multi))
	for name, v := range m {
		named[name] = dense(v)
	}
	for name, v := range multi {
		named[name] = multiOut(v)
	}
	for name, v := range sparse {
		named[name] = &qdrant.VectorOutput{Vector: &qdrant.VectorOutput_Sparse{Sparse: &qdrant.SparseVector{Indices: v.Indices, Values: v.Values}}}
	}
	return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vectors{Vectors: &qdrant.NamedVectorsOutput{Vectors: named}}}
}

// vectorsOutputToMap is the inverse of vectorsOutputFromMap; it reads the
// deprecated fields too.
func vectorsOutputToMap(v *qdrant.VectorsOutput) (pointVectors, error) {
	out := pointVectors{}
	if v == nil {
		return out, nil
	}
	out.dense = map[string][]float32{}
	one := func(name string, o *qdrant.VectorOutput) error {
		switch x := o.GetVector().(type) {
		case *qdrant.VectorOutput_Dense:
			out.dense[name] = x.Dense.GetData()
			return nil
		case *qdrant.VectorOutput_Sparse:
			out.add(name, vectorIn{sparse: &engine.SparseVector{Indices: x.Sparse.GetIndices(), Values: x.Sparse.GetValues()}})
			return nil
		case *qdrant.VectorOutput_MultiDense:
			vi, err := multiFromProto(x.MultiDense, "")
			out.add(name, vi)
			return err
		}
		switch {
		case o.GetIndices() != nil:
			out.add(name, vectorIn{sparse: &engine.SparseVector{Indices: o.GetIndices().GetData(), Values: o.GetData()}})
		case o != nil && o.VectorsCount != nil:
			vi, err := multiFromFlat(o.GetData(), o.GetVectorsCount(), "")
			out.add(name, vi)
			return err
		default:
			out.dense[name] = o.GetData()
		}
		return nil
	}
	switch x := v.GetVectorsOptions().(type) {
	case *qdrant.VectorsOutput_Vector:
		return out, one("", x.Vector)
	case *qdrant.VectorsOutput_Vectors:
		for name, o := range x.Vectors.GetVectors() {
			if err := one(name, o); err != nil {
				return out, err
			}
		}
		return out, nil
	}
	return out, invalidArg("No Vector Provided")
}

// exampleFromVectorInput converts a query's VectorInput: a point id, a
// dense or a sparse vector, or a Document (embedded query side). path
// names it in validation messages.
func exampleFromVectorInput(v *qdrant.VectorInput, path string) (engine.Example, error) {
	switch x := v.GetVariant().(type) {
	case *qdrant.VectorInput_Id:
		id, err := pointIDFromProto(x.Id)
		if err != nil {
			return engine.Example{}, err
		}
		return engine.Example{ID: &id}, nil
	case *qdrant.VectorInput_Dense:
		return engine.Example{Vector: denseOrEmpty(x.Dense.GetData())}, nil
	case *qdrant.VectorInput_Sparse:
		sv := sparseFromParts(x.Sparse.GetIndices(), x.Sparse.GetValues())
		return engine.Example{Sparse: &sv}, grpcSparseCheck(sv, path+".variant")
	case *qdrant.VectorInput_MultiDense:
		vi, err := multiFromProto(x.MultiDense, path+".variant")
		return vi.example(), err
	case *qdrant.VectorInput_Document:
		sv, err := documentFromProto(x.Document, true)
		if errors.Is(err, errNoInference) {
			return engine.Example{}, errQueryNoInference
		}
		return engine.Example{Sparse: &sv}, err
	case *qdrant.VectorInput_Image, *qdrant.VectorInput_Object:
		return engine.Example{}, errQueryNoInference
	}
	return engine.Example{}, invalidArg("VectorInput variant is missing")
}

// exampleToVectorInput is the inverse of exampleFromVectorInput.
func exampleToVectorInput(e engine.Example) *qdrant.VectorInput {
	if e.ID != nil {
		return &qdrant.VectorInput{Variant: &qdrant.VectorInput_Id{Id: pointIDToProto(*e.ID)}}
	}
	if e.Sparse != nil {
		return qdrant.NewVectorInputSparse(e.Sparse.Indices, e.Sparse.Values)
	}
	if e.Multi != nil {
		return qdrant.NewVectorInputMulti(e.Multi)
	}
	return &qdrant.VectorInput{Variant: &qdrant.VectorInput_Dense{Dense: &qdrant.DenseVector{Data: e.Vector}}}
}

// exampleFromVectorExample converts a legacy discover example: a point id or
// a vector.
func exampleFromVectorExample(v *qdrant.VectorExample, path string) (engine.Example, error) {
	switch x := v.GetExample().(type) {
	case *qdrant.VectorExample_Id:
		id, err := pointIDFromProto(x.Id)
		if err != nil {
			return engine.Example{}, err
		}
		return engine.Example{ID: &id}, nil
	case *qdrant.VectorExample_Vector:
		vi, err := vectorFromProto(x.Vector, path, true)
		if err != nil {
			return engine.Example{}, err
		}
		return vi.example(), nil
	}
	return engine.Example{}, invalidArg("Vector example, which can be id or bare vector, is malformed")
}

// denseOrEmpty keeps an empty vector distinct from an absent one, so that
// the engine reports a dimension error rather than an empty example.
func denseOrEmpty(v []float32) []float32 {
	if v == nil {
		return []float32{}
	}
	return v
}

// Filters.

// filterFromProto converts a filter. As in Qdrant's gRPC API, empty lists
// are absent (an empty should does not exclude every point) and conditions
// with nothing set are dropped. The result is validated: a failure is
// Qdrant's "Validation error in body".
func filterFromProto(f *qdrant.Filter) (*filter.Filter, error) {
	if f == nil {
		return nil, nil
	}
	out, err := filterBodyFromProto(f)
	if err != nil {
		return nil, err
	}
	if err := out.Validate(); err != nil {
		if fe := (*filter.Error)(nil); errors.As(err, &fe) {
			return nil, validationErr(fe.Path, "%s", fe.Msg)
		}
		return nil, invalidArg("%v", err)
	}
	return out, nil
}

func filterBodyFromProto(f *qdrant.Filter) (*filter.Filter, error) {
	out := &filter.Filter{}
	var err error
	if out.Should, err = conditionsFromProto(f.GetShould()); err != nil {
		return nil, err
	}
	if out.Must, err = conditionsFromProto(f.GetMust()); err != nil {
		return nil, err
	}
	if out.MustNot, err = conditionsFromProto(f.GetMustNot()); err != nil {
		return nil, err
	}
	if ms := f.GetMinShould(); ms != nil {
		cs, err := conditionsFromProto(ms.GetConditions())
		if err != nil {
			return nil, err
		}
		if cs == nil {
			cs = []filter.Condition{}
		}
		if ms.GetMinCount() > math.MaxInt32 {
			return nil, invalidArg("min_should.min_count is too large")
		}
		out.MinShould = &filter.MinShould{Conditions: cs, MinCount: int(ms.GetMinCount())}
	}
	return out, nil
}

// conditionsFromProto converts a clause; no conditions gives nil.
func conditionsFromProto(cs []*qdrant.Condition) ([]filter.Condition, error) {
	var out []filter.Condition
	for _, c := range cs {
		cond, err := conditionFromProto(c)
		if err != nil {
			return nil, err
		}
		if cond != nil {
			out = append(out, cond)
		}
	}
	return out, nil
}

// conditionFromProto converts one condition; an empty one gives nil.
func conditionFromProto(c *qdrant.Condition) (filter.Condition, error) {
	switch x := c.GetConditionOneOf().(type) {
	case *qdrant.Condition_Field:
		return fieldFromProto(x.Field)
	case *qdrant.Condition_IsEmpty:
		key, err := pathFromProto(x.IsEmpty.GetKey())
		if err != nil {
			return nil, err
		}
		return &filter.IsEmpty{Key: key}, nil
	case *qdrant.Condition_IsNull:
		key, err := pathFromProto(x.IsNull.GetKey())
		if err != nil {
			return nil, err
		}
		return &filter.IsNull{Key: key}, nil
	case *qdrant.Condition_HasId:
		ids, err := pointIDsFromProto(x.HasId.GetHasId())
		if err != nil {
			return nil, err
		}
		return filter.NewHasID(ids...), nil
	case *qdrant.Condition_HasVector:
		return &filter.HasVector{Name: x.HasVector.GetHasVector()}, nil
	case *qdrant.Condition_Nested:
		if x.Nested.GetFilter() == nil {
			return nil, invalidArg("Nested condition must have a filter")
		}
		key, err := pathFromProto(x.Nested.GetKey())
		if err != nil {
			return nil, err
		}
		nf, err := filterBodyFromProto(x.Nested.GetFilter())
		if err != nil {
			return nil, err
		}
		return &filter.Nested{Key: key, Filter: nf}, nil
	case *qdrant.Condition_Filter:
		return filterBodyFromProto(x.Filter)
	}
	return nil, nil
}

func fieldFromProto(fc *qdrant.FieldCondition) (*filter.Field, error) {
	fc = orEmpty(fc)
	key, err := pathFromProto(fc.GetKey())
	if err != nil {
		return nil, err
	}
	f := &filter.Field{Key: key, IsEmpty: copyPtr(fc.IsEmpty), IsNull: copyPtr(fc.IsNull)}
	if m := fc.GetMatch(); m != nil {
		if f.Match, err = matchFromProto(m); err != nil {
			return nil, err
		}
	}
	// As in Qdrant, a numeric range takes precedence over a datetime range.
	if r := fc.GetRange(); r != nil {
		f.Range = &payload.Range{GT: copyPtr(r.Gt), GTE: copyPtr(r.Gte), LT: copyPtr(r.Lt), LTE: copyPtr(r.Lte)}
	} else if r := fc.GetDatetimeRange(); r != nil {
		dr := &payload.DatetimeRange{}
		for _, b := range []struct {
			dst **time.Time
			ts  *timestamppb.Timestamp
		}{{&dr.GT, r.Gt}, {&dr.GTE, r.Gte}, {&dr.LT, r.Lt}, {&dr.LTE, r.Lte}} {
			if b.ts == nil {
				continue
			}
			if err := b.ts.CheckValid(); err != nil {
				return nil, invalidArg("Unable to convert timestamp: %v", err)
			}
			t := b.ts.AsTime()
			*b.dst = &t
		}
		f.DatetimeRange = dr
	}
	if g := fc.GetGeoBoundingBox(); g != nil {
		if g.TopLeft == nil || g.BottomRight == nil {
			return nil, invalidArg("Malformed GeoBoundingBox type")
		}
		f.GeoBoundingBox = &payload.GeoBoundingBox{TopLeft: geoFromProto(g.TopLeft), BottomRight: geoFromProto(g.BottomRight)}
	}
	if g := fc.GetGeoRadius(); g != nil {
		if g.Center == nil {
			return nil, invalidArg("Malformed GeoRadius type")
		}
		f.GeoRadius = &payload.GeoRadius{Center: geoFromProto(g.Center), Radius: float64(g.Radius)}
	}
	if g := fc.GetGeoPolygon(); g != nil {
		if g.Exterior == nil {
			return nil, invalidArg("Malformed GeoPolygon type - field `exterior` is required")
		}
		p := &payload.GeoPolygon{Exterior: lineFromProto(g.Exterior)}
		for _, in := range g.Interiors {
			p.Interiors = append(p.Interiors, lineFromProto(in))
		}
		f.GeoPolygon = p
	}
	if vc := fc.GetValuesCount(); vc != nil {
		f.ValuesCount = &filter.ValuesCount{GT: copyPtr(vc.Gt), GTE: copyPtr(vc.Gte), LT: copyPtr(vc.Lt), LTE: copyPtr(vc.Lte)}
	}
	return f, nil
}

func matchFromProto(m *qdrant.Match) (*filter.Match, error) {
	switch x := m.GetMatchValue().(type) {
	case *qdrant.Match_Keyword:
		return filter.NewMatchKeyword(x.Keyword), nil
	case *qdrant.Match_Integer:
		return filter.NewMatchInteger(x.Integer), nil
	case *qdrant.Match_Boolean:
		return filter.NewMatchBool(x.Boolean), nil
	case *qdrant.Match_Keywords:
		return filter.NewMatchAnyKeywords(x.Keywords.GetStrings()...), nil
	case *qdrant.Match_Integers:
		return filter.NewMatchAnyIntegers(x.Integers.GetIntegers()...), nil
	case *qdrant.Match_ExceptKeywords:
		return filter.NewMatchExceptKeywords(x.ExceptKeywords.GetStrings()...), nil
	case *qdrant.Match_ExceptIntegers:
		return filter.NewMatchExceptIntegers(x.ExceptIntegers.GetIntegers()...), nil
	case *qdrant.Match_Text:
		return filter.NewMatchText(filter.MatchText, x.Text), nil
	case *qdrant.Match_Phrase:
		return filter.NewMatchText(filter.MatchPhrase, x.Phrase), nil
	case *qdrant.Match_TextAny:
		return filter.NewMatchText(filter.MatchTextAny, x.TextAny), nil
	}
	return nil, invalidArg("Malformed Match condition")
}

func geoFromProto(p *qdrant.GeoPoint) payload.GeoPoint {
	return payload.GeoPoint{Lon: p.GetLon(), Lat: p.GetLat()}
}

func geoToProto(p payload.GeoPoint) *qdrant.GeoPoint {
	return &qdrant.GeoPoint{Lon: p.Lon, Lat: p.Lat}
}

func lineFromProto(l *qdrant.GeoLineString) []payload.GeoPoint {
	out := make([]payload.GeoPoint, len(l.GetPoints()))
	for i, p := range l.GetPoints() {
		out[i] = geoFromProto(p)
	}
	return out
}

func lineToProto(ps []payload.GeoPoint) *qdrant.GeoLineString {
	out := &qdrant.GeoLineString{Points: make([]*qdrant.GeoPoint, len(ps))}
	for i, p := range ps {
		out.Points[i] = geoToProto(p)
	}
	return out
}

// filterToProto is the inverse of filterFromProto. Empty clauses are
// written as empty lists, which gRPC cannot tell from absent ones.
func filterToProto(f *filter.Filter) *qdrant.Filter {
	if f == nil {
		return nil
	}
	out := &qdrant.Filter{
		Should:  conditionsToProto(f.Should),
		Must:    conditionsToProto(f.Must),
		MustNot: conditionsToProto(f.MustNot),
	}
	if ms := f.MinShould; ms != nil {
		out.MinShould = &qdrant.MinShould{Conditions: conditionsToProto(ms.Conditions), MinCount: uint64(max(ms.MinCount, 0))}
	}
	return out
}

func conditionsToProto(cs []filter.Condition) []*qdrant.Condition {
	var out []*qdrant.Condition
	for _, c := range cs {
		if pc := conditionToProto(c); pc != nil {
			out = append(out, pc)
		}
	}
	return out
}

func conditionToProto(c filter.Condition) *qdrant.Condition {
	switch x := c.(type) {
	case *filter.Field:
		return &qdrant.Condition{ConditionOneOf: &qdrant.Condition_Field{Field: fieldToProto(x)}}
	case *filter.IsEmpty:
		return &qdrant.Condition{ConditionOneOf: &qdrant.Condition_IsEmpty{IsEmpty: &qdrant.IsEmptyCondition{Key: x.Key.String()}}}
	case *filter.IsNull:
		return &qdrant.Condition{ConditionOneOf: &qdrant.Condition_IsNull{IsNull: &qdrant.IsNullCondition{Key: x.Key.String()}}}
	case *filter.HasID:
		return &qdrant.Condition{ConditionOneOf: &qdrant.Condition_HasId{HasId: &qdrant.HasIdCondition{HasId: pointIDsToProto(x.IDs)}}}
	case *filter.HasVector:
		return &qdrant.Condition{ConditionOneOf: &qdrant.Condition_HasVector{HasVector: &qdrant.HasVectorCondition{HasVector: x.Name}}}
	case *filter.Nested:
		return &qdrant.Condition{ConditionOneOf: &qdrant.Condition_Nested{Nested: &qdrant.NestedCondition{Key: x.Key.String(), Filter: filterToProto(x.Filter)}}}
	case *filter.Filter:
		return &qdrant.Condition{ConditionOneOf: &qdrant.Condition_Filter{Filter: filterToProto(x)}}
	}
	return nil
}

func fieldToProto(f *filter.Field) *qdrant.FieldCondition {
	out := &qdrant.FieldCondition{Key: f.Key.String(), IsEmpty: copyPtr(f.IsEmpty), IsNull: copyPtr(f.IsNull)}
	if f.Match != nil {
		out.Match = matchToProto(f.Match)
	}
	if r := f.Range; r != nil {
		out.Range = &qdrant.Range{Gt: copyPtr(r.GT), Gte: copyPtr(r.GTE), Lt: copyPtr(r.LT), Lte: copyPtr(r.LTE)}
	}
	if r := f.DatetimeRange; r != nil {
		ts := func(t *time.Time) *timestamppb.Timestamp {
			if t == nil {
				return nil
			}
			return timestamppb.New(*t)
		}
		out.DatetimeRange = &qdrant.DatetimeRange{Gt: ts(r.GT), Gte: ts(r.GTE), Lt: ts(r.LT), Lte: ts(r.LTE)}
	}
	if g := f.GeoBoundingBox; g != nil {
		out.GeoBoundingBox = &qdrant.GeoBoundingBox{TopLeft: geoToProto(g.TopLeft), BottomRight: geoToProto(g.BottomRight)}
	}
	if g := f.GeoRadius; g != nil {
		out.GeoRadius = &qdrant.GeoRadius{Center: geoToProto(g.Center), Radius: float32(g.Radius)}
	}
	if g := f.GeoPolygon; g != nil {
		p := &qdrant.GeoPolygon{Exterior: lineToProto(g.Exterior)}
		for _, in := range g.Interiors {
			p.Interiors = append(p.Interiors, lineToProto(in))
		}
		out.GeoPolygon = p
	}
	if vc := f.ValuesCount; vc != nil {
		out.ValuesCount = &qdrant.ValuesCount{Gt: copyPtr(vc.GT), Gte: copyPtr(vc.GTE), Lt: copyPtr(vc.LT), Lte: copyPtr(vc.LTE)}
	}
	return out
}

func matchToProto(m *filter.Match) *qdrant.Match {
	out := &qdrant.Match{}
	switch m.Kind {
	case filter.MatchKeyword:
		out.MatchValue = &qdrant.Match_Keyword{Keyword: m.Keyword}
	case filter.MatchInteger:
		out.MatchValue = &qdrant.Match_Integer{Integer: m.Integer}
	case filter.MatchBool:
		out.MatchValue = &qdrant.Match_Boolean{Boolean: m.Bool}
	case filter.MatchAnyKeywords:
		out.MatchValue = &qdrant.Match_Keywords{Keywords: &qdrant.RepeatedStrings{Strings: m.Keywords}}
	case filter.MatchAnyIntegers:
		out.MatchValue = &qdrant.Match_Integers{Integers: &qdrant.RepeatedIntegers{Integers: m.Integers}}
	case filter.MatchExceptKeywords:
		out.MatchValue = &qdrant.Match_ExceptKeywords{ExceptKeywords: &qdrant.RepeatedStrings{Strings: m.Keywords}}
	case filter.MatchExceptIntegers:
		out.MatchValue = &qdrant.Match_ExceptIntegers{ExceptIntegers: &qdrant.RepeatedIntegers{Integers: m.Integers}}
	case filter.MatchText:
		out.MatchValue = &qdrant.Match_Text{Text: m.Text}
	case filter.MatchPhrase:
		out.MatchValue = &qdrant.Match_Phrase{Phrase: m.Text}
	case filter.MatchTextAny:
		out.MatchValue = &qdrant.Match_TextAny{TextAny: m.Text}
	}
	return out
}

// Selectors.

// payloadSelectorFromProto converts with_payload; an absent selector means
// def (true for get and scroll, false for search and query, as in Qdrant).
func payloadSelectorFromProto(s *qdrant.WithPayloadSelector, def bool) (engine.PayloadSelector, error) {
	if s == nil {
		return engine.PayloadSelector{Enable: def}, nil
	}
	paths := func(keys []string) error {
		for _, k := range keys {
			if _, err := payload.ParsePath(k); err != nil {
				return invalidArg("Invalid json path: '%s'", k)
			}
		}
		return nil
	}
	switch x := s.GetSelectorOptions().(type) {
	case *qdrant.WithPayloadSelector_Enable:
		return engine.PayloadSelector{Enable: x.Enable}, nil
	case *qdrant.WithPayloadSelector_Include:
		if err := paths(x.Include.GetFields()); err != nil {
			return engine.PayloadSelector{}, err
		}
		return engine.PayloadSelector{Include: denseStrings(x.Include.GetFields())}, nil
	case *qdrant.WithPayloadSelector_Exclude:
		if err := paths(x.Exclude.GetFields()); err != nil {
			return engine.PayloadSelector{}, err
		}
		return engine.PayloadSelector{Enable: true, Exclude: denseStrings(x.Exclude.GetFields())}, nil
	}
	return engine.PayloadSelector{}, invalidArg("No PayloadSelector")
}

// payloadSelectorToProto is the inverse of payloadSelectorFromProto.
func payloadSelectorToProto(p engine.PayloadSelector) *qdrant.WithPayloadSelector {
	switch {
	case len(p.Include) > 0:
		return &qdrant.WithPayloadSelector{SelectorOptions: &qdrant.WithPayloadSelector_Include{Include: &qdrant.PayloadIncludeSelector{Fields: p.Include}}}
	case len(p.Exclude) > 0:
		return &qdrant.WithPayloadSelector{SelectorOptions: &qdrant.WithPayloadSelector_Exclude{Exclude: &qdrant.PayloadExcludeSelector{Fields: p.Exclude}}}
	}
	return &qdrant.WithPayloadSelector{SelectorOptions: &qdrant.WithPayloadSelector_Enable{Enable: p.Enable}}
}

// vectorSelectorFromProto converts with_vectors; absent means none, for
// every request.
func vectorSelectorFromProto(s *qdrant.WithVectorsSelector) engine.VectorSelector {
	switch x := s.GetSelectorOptions().(type) {
	case *qdrant.WithVectorsSelector_Enable:
		return engine.VectorSelector{Enable: x.Enable}
	case *qdrant.WithVectorsSelector_Include:
		return engine.VectorSelector{Names: denseStrings(x.Include.GetNames())}
	}
	return engine.VectorSelector{}
}

// vectorSelectorToProto is the inverse of vectorSelectorFromProto.
func vectorSelectorToProto(v engine.VectorSelector) *qdrant.WithVectorsSelector {
	if len(v.Names) > 0 {
		return &qdrant.WithVectorsSelector{SelectorOptions: &qdrant.WithVectorsSelector_Include{Include: &qdrant.VectorsSelector{Names: v.Names}}}
	}
	return &qdrant.WithVectorsSelector{SelectorOptions: &qdrant.WithVectorsSelector_Enable{Enable: v.Enable}}
}

// denseStrings returns ss, or an empty non-nil slice.
func denseStrings(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// Payload index parameters.

// fieldTypeName is Qdrant's name of a FieldType in messages ("Keyword").
func fieldTypeName(t qdrant.FieldType) string {
	return strings.TrimPrefix(t.String(), "FieldType")
}

// indexParamsFromProto converts the field type and optional parameters of
// a CreateFieldIndex request, with Qdrant's checks and messages.
func indexParamsFromProto(ft *qdrant.FieldType, p *qdrant.PayloadIndexParams) (payload.IndexParams, error) {
	if ft == nil {
		return payload.IndexParams{}, invalidArg("cannot convert field_type")
	}
	t := *ft
	if _, ok := qdrant.FieldType_name[int32(t)]; !ok {
		if p.GetIndexParams() != nil {
			return payload.IndexParams{}, invalidArg("field type is missing")
		}
		return payload.IndexParams{}, invalidArg("cannot convert field_type")
	}
	out := payload.IndexParams{Type: payload.FieldType(t)}
	if p.GetIndexParams() == nil {
		return out, nil
	}
	mismatch := func(want qdrant.FieldType) error {
		if t != want {
			return invalidArg("field_type (%s) and field_index_params do not match", fieldTypeName(t))
		}
		return nil
	}
	switch x := p.GetIndexParams().(type) {
	case *qdrant.PayloadIndexParams_KeywordIndexParams:
		if err := mismatch(qdrant.FieldType_FieldTypeKeyword); err != nil {
			return out, err
		}
		out.IsTenant, out.OnDisk = x.KeywordIndexParams.GetIsTenant(), x.KeywordIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_IntegerIndexParams:
		if err := mismatch(qdrant.FieldType_FieldTypeInteger); err != nil {
			return out, err
		}
		ip := orEmpty(x.IntegerIndexParams)
		out.Lookup, out.Range = copyPtr(ip.Lookup), copyPtr(ip.Range)
		out.IsPrincipal, out.OnDisk = ip.GetIsPrincipal(), ip.GetOnDisk()
		if err := out.Validate(); errors.Is(err, payload.ErrLookupAndRangeOff) {
			return out, validationErr("field_index_params.index_params.lookup", "Validation error: %s [{}]", payload.ErrLookupAndRangeOff)
		}
	case *qdrant.PayloadIndexParams_FloatIndexParams:
		if err := mismatch(qdrant.FieldType_FieldTypeFloat); err != nil {
			return out, err
		}
		out.IsPrincipal, out.OnDisk = x.FloatIndexParams.GetIsPrincipal(), x.FloatIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_GeoIndexParams:
		if err := mismatch(qdrant.FieldType_FieldTypeGeo); err != nil {
			return out, err
		}
		out.OnDisk = x.GeoIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_TextIndexParams:
		if err := mismatch(qdrant.FieldType_FieldTypeText); err != nil {
			return out, err
		}
		tp := orEmpty(x.TextIndexParams)
		if st := tp.GetStemmer(); st != nil {
			lang, ok := payload.StemmerLanguage(st.GetSnowball().GetLanguage())
			if !ok {
				return out, invalidArg("Language %q not found.", st.GetSnowball().GetLanguage())
			}
			out.Text.Stemmer = lang
		}
		if sw := tp.GetStopwords(); sw != nil {
			langs := make([]string, len(sw.GetLanguages()))
			for i, name := range sw.GetLanguages() {
				l, ok := payload.StopwordLanguage(name)
				if !ok {
					return out, invalidArg("unknown language: unknown variant `%s`, expected one of `%s`",
						name, strings.Join(payload.StopwordLanguageNames(), "`, `"))
				}
				langs[i] = l
			}
			out.Text.StopwordsForm = payload.StopwordsSet
			out.Text.StopwordLanguages = slices.Compact(slices.Sorted(slices.Values(langs)))
			out.Text.Stopwords = slices.Compact(slices.Sorted(slices.Values(sw.GetCustom())))
		}
		switch tp.GetTokenizer() {
		case qdrant.TokenizerType_Prefix:
			out.Text.Tokenizer = "prefix"
		case qdrant.TokenizerType_Whitespace:
			out.Text.Tokenizer = "whitespace"
		case qdrant.TokenizerType_Multilingual:
			out.Text.Tokenizer = "multilingual"
		default:
			out.Text.Tokenizer = "word"
		}
		for _, l := range []struct {
			from *uint64
			to   **int
			name string
		}{{tp.MinTokenLen, &out.Text.MinTokenLen, "min_token_len"}, {tp.MaxTokenLen, &out.Text.MaxTokenLen, "max_token_len"}} {
			if l.from != nil {
				n, err := intFromUint(l.from, l.name)
				if err != nil {
					return out, err
				}
				*l.to = &n
			}
		}
		out.Text.Lowercase = copyPtr(tp.Lowercase)
		out.Text.ASCIIFolding = tp.GetAsciiFolding()
		out.Text.PhraseMatching = tp.GetPhraseMatching()
		out.OnDisk = tp.GetOnDisk()
	case *qdrant.PayloadIndexParams_BoolIndexParams:
		if err := mismatch(qdrant.FieldType_FieldTypeBool); err != nil {
			return out, err
		}
		out.OnDisk = x.BoolIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_DatetimeIndexParams:
		if err := mismatch(qdrant.FieldType_FieldTypeDatetime); err != nil {
			return out, err
		}
		out.IsPrincipal, out.OnDisk = x.DatetimeIndexParams.GetIsPrincipal(), x.DatetimeIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_UuidIndexParams:
		if err := mismatch(qdrant.FieldType_FieldTypeUuid); err != nil {
			return out, err
		}
		out.IsTenant, out.OnDisk = x.UuidIndexParams.GetIsTenant(), x.UuidIndexParams.GetOnDisk()
	}
	return out, nil
}

// intFromUint converts an optional count; absent is 0.
func intFromUint(v *uint64, field string) (int, error) {
	if v == nil {
		return 0, nil
	}
	if *v > math.MaxInt32 {
		return 0, validationErr(field, "value %d is too large", *v)
	}
	return int(*v), nil
}

// indexParamsToProto is the inverse of indexParamsFromProto. It returns nil
// parameters for an index with every parameter at its default, which is how
// Qdrant reports an index created from a bare type.
func indexParamsToProto(p payload.IndexParams) (qdrant.FieldType, *qdrant.PayloadIndexParams) {
	ft := qdrant.FieldType(p.Type)
	if isDefaultIndexParams(p) {
		return ft, nil
	}
	ptrTrue := func(b bool) *bool {
		if !b {
			return nil
		}
		return &b
	}
	out := &qdrant.PayloadIndexParams{}
	switch p.Type {
	case payload.TypeKeyword:
		out.IndexParams = &qdrant.PayloadIndexParams_KeywordIndexParams{KeywordIndexParams: &qdrant.KeywordIndexParams{
			IsTenant: ptrTrue(p.IsTenant), OnDisk: ptrTrue(p.OnDisk)}}
	case payload.TypeInteger:
		out.IndexParams = &qdrant.PayloadIndexParams_IntegerIndexParams{IntegerIndexParams: &qdrant.IntegerIndexParams{
			Lookup: copyPtr(p.Lookup), Range: copyPtr(p.Range), IsPrincipal: ptrTrue(p.IsPrincipal), OnDisk: ptrTrue(p.OnDisk)}}
	case payload.TypeFloat:
		out.IndexParams = &qdrant.PayloadIndexParams_FloatIndexParams{FloatIndexParams: &qdrant.FloatIndexParams{
			IsPrincipal: ptrTrue(p.IsPrincipal), OnDisk: ptrTrue(p.OnDisk)}}
	case payload.TypeGeo:
		out.IndexParams = &qdrant.PayloadIndexParams_GeoIndexParams{GeoIndexParams: &qdrant.GeoIndexParams{OnDisk: ptrTrue(p.OnDisk)}}
	case payload.TypeText:
		t := p.Text
		tp := &qdrant.TextIndexParams{
			Lowercase:      copyPtr(t.Lowercase),
			OnDisk:         ptrTrue(p.OnDisk),
			PhraseMatching: ptrTrue(t.PhraseMatching),
			AsciiFolding:   ptrTrue(t.ASCIIFolding),
		}
		switch t.Tokenizer {
		case "prefix":
			tp.Tokenizer = qdrant.TokenizerType_Prefix
		case "whitespace":
			tp.Tokenizer = qdrant.TokenizerType_Whitespace
		case "multilingual":
			tp.Tokenizer = qdrant.TokenizerType_Multilingual
		default:
			tp.Tokenizer = qdrant.TokenizerType_Word
		}
		if t.MinTokenLen != nil {
			tp.MinTokenLen = ptrTo(uint64(*t.MinTokenLen))
		}
		if t.MaxTokenLen != nil {
			tp.MaxTokenLen = ptrTo(uint64(*t.MaxTokenLen))
		}
		if t.Stopwords != nil || t.StopwordLanguages != nil || t.StopwordsForm == payload.StopwordsSet {
			tp.Stopwords = &qdrant.StopwordsSet{Languages: slices.Clone(t.StopwordLanguages), Custom: slices.Clone(t.Stopwords)}
		}
		if t.Stemmer != "" {
			tp.Stemmer = &qdrant.StemmingAlgorithm{StemmingParams: &qdrant.StemmingAlgorithm_Snowball{
				Snowball: &qdrant.SnowballParams{Language: t.Stemmer}}}
		}
		out.IndexParams = &qdrant.PayloadIndexParams_TextIndexParams{TextIndexParams: tp}
	case payload.TypeBool:
		out.IndexParams = &qdrant.PayloadIndexParams_BoolIndexParams{BoolIndexParams: &qdrant.BoolIndexParams{OnDisk: ptrTrue(p.OnDisk)}}
	case payload.TypeDatetime:
		out.IndexParams = &qdrant.PayloadIndexParams_DatetimeIndexParams{DatetimeIndexParams: &qdrant.DatetimeIndexParams{
			IsPrincipal: ptrTrue(p.IsPrincipal), OnDisk: ptrTrue(p.OnDisk)}}
	case payload.TypeUUID:
		out.IndexParams = &qdrant.PayloadIndexParams_UuidIndexParams{UuidIndexParams: &qdrant.UuidIndexParams{
			IsTenant: ptrTrue(p.IsTenant), OnDisk: ptrTrue(p.OnDisk)}}
	}
	return ft, out
}

// isDefaultIndexParams reports whether p sets nothing but its type.
func isDefaultIndexParams(p payload.IndexParams) bool {
	t := p.Text
	if p.Type == payload.TypeText && t.Tokenizer != "" && t.Tokenizer != "word" {
		return false
	}
	return p.Lookup == nil && p.Range == nil && !p.IsTenant && !p.IsPrincipal && !p.OnDisk &&
		t.MinTokenLen == nil && t.MaxTokenLen == nil && t.Lowercase == nil && !t.ASCIIFolding &&
		!t.PhraseMatching && t.Stopwords == nil && t.StopwordLanguages == nil &&
		t.StopwordsForm != payload.StopwordsSet && t.Stemmer == ""
}

// Results.

// updateResultToProto converts a write's result.
func updateResultToProto(r engine.UpdateResult) *qdrant.UpdateResult {
	st := qdrant.UpdateStatus_Acknowledged
	if r.Status == engine.StatusCompleted {
		st = qdrant.UpdateStatus_Completed
	}
	return &qdrant.UpdateResult{OperationId: ptrTo(r.OperationID), Status: st}
}

// orderValueFunc converts the value a point was ordered by.
type orderValueFunc func(payload.Value) *qdrant.OrderValue

// orderValueFor returns the conversion of order values for an index of type
// t: integers for integer indexes, floats for float indexes, microseconds
// since the epoch for datetime indexes, as Qdrant reports them.
func orderValueFor(t payload.FieldType) orderValueFunc {
	return func(v payload.Value) *qdrant.OrderValue {
		switch t {
		case payload.TypeDatetime:
			if s, ok := v.Str(); ok {
				if tm, err := payload.ParseDatetime(s); err == nil {
					return &qdrant.OrderValue{Variant: &qdrant.OrderValue_Int{Int: tm.UnixMicro()}}
				}
			}
		case payload.TypeInteger:
			if i, ok := v.Int(); ok {
				return &qdrant.OrderValue{Variant: &qdrant.OrderValue_Int{Int: i}}
			}
		}
		if i, ok := v.Int(); ok && t != payload.TypeFloat {
			return &qdrant.OrderValue{Variant: &qdrant.OrderValue_Int{Int: i}}
		}
		f, _ := v.Number()
		return &qdrant.OrderValue{Variant: &qdrant.OrderValue_Float{Float: f}}
	}
}

// recordToProto converts a point read back.
func recordToProto(r engine.Record, ov orderValueFunc) *qdrant.RetrievedPoint {
	out := &qdrant.RetrievedPoint{
		Id:      pointIDToProto(r.ID),
		Payload: payloadToProto(r.Payload),
		Vectors: vectorsOutputFromMap(r.Vectors, r.Multi, r.Sparse),
	}
	if r.OrderValue != nil && ov != nil {
		out.OrderValue = ov(*r.OrderValue)
	}
	return out
}

func recordsToProto(rs []engine.Record, ov orderValueFunc) []*qdrant.RetrievedPoint {
	out := make([]*qdrant.RetrievedPoint, len(rs))
	for i, r := range rs {
		out[i] = recordToProto(r, ov)
	}
	return out
}

// scoredToProto converts a search result.
// fillScored sets out to p, its id in id (and num, when the id is a
// number).
func fillScored(out *qdrant.ScoredPoint, id *qdrant.PointId, num *qdrant.PointId_Num, p engine.ScoredPoint, ov orderValueFunc) {
	if n, ok := p.ID.Num(); ok {
		num.Num = n
		id.PointIdOptions = num
	} else {
		id.PointIdOptions = &qdrant.PointId_Uuid{Uuid: p.ID.String()}
	}
	out.Id = id
	out.Payload = payloadToProto(p.Payload)
	out.Score = p.Score
	out.Version = p.Version
	out.Vectors = vectorsOutputFromMap(p.Vectors, p.Multi, p.Sparse)
	if p.OrderValue != nil && ov != nil {
		out.OrderValue = ov(*p.OrderValue)
	}
}

// scoredListToProto converts a result list, its messages allocated
// together: a search's conversion is a fixed cost of every call.
func scoredListToProto(ps []engine.ScoredPoint, ov orderValueFunc) []*qdrant.ScoredPoint {
	// One block holds each point's message, id and numeric id.
	type scored struct {
		msg qdrant.ScoredPoint
		id  qdrant.PointId
		num qdrant.PointId_Num
	}
	out := make([]*qdrant.ScoredPoint, len(ps))
	block := make([]scored, len(ps))
	for i, p := range ps {
		m := &block[i]
		fillScored(&m.msg, &m.id, &m.num, p, ov)
		out[i] = &m.msg
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }

// copyPtr returns a pointer to a copy of *p, or nil.
func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// PayloadFromStruct converts a Go struct (or map) to the payload map of
// go-client's protobuf messages (PointStruct.Payload and
// SetPayloadPoints.Payload) through its `json` tags, as payload.FromStruct
// reads it. Integers beyond int64 become doubles, as the gRPC API carries
// them.
func PayloadFromStruct(v any) (map[string]*qdrant.Value, error) {
	p, err := payload.FromStruct(v)
	if err != nil {
		return nil, err
	}
	return payloadToProto(p), nil
}

// DecodePayload stores a point's payload map, as go-client returns it
// (ScoredPoint.Payload, RetrievedPoint.Payload), in the value dst points
// to, through its `json` tags, as payload.Value.Decode does.
func DecodePayload(m map[string]*qdrant.Value, dst any) error {
	p, err := structFromProto(m)
	if err != nil {
		return err
	}
	return p.Decode(dst)
}

// FilterToProto converts a filter, made with the filter package's builders
// or ParseJSON, to go-client's *qdrant.Filter, so that one filter serves the
// embedded engine, qlite serve and Qdrant. It returns the filter's
// validation error (wrapping filter.ErrInvalidFilter) for a filter that
// Validate refuses. A nil filter gives nil.
func FilterToProto(f *filter.Filter) (*qdrant.Filter, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return filterToProto(f), nil
}
