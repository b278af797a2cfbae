package compat

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

func TestPointIDConvert(t *testing.T) {
	f := func(in *qdrant.PointId, want string) {
		t.Helper()
		id, err := pointIDFromProto(in)
		require.NoError(t, err)
		require.Equal(t, want, id.String())
		back := pointIDToProto(id)
		require.Equal(t, want, idString(back))
		again, err := pointIDFromProto(back)
		require.NoError(t, err)
		require.Equal(t, id, again)
	}
	f(qdrant.NewIDNum(0), "0")
	f(qdrant.NewIDNum(math.MaxUint64), "18446744073709551615")
	f(qdrant.NewID("550e8400-e29b-41d4-a716-446655440000"), "550e8400-e29b-41d4-a716-446655440000")
	f(qdrant.NewID("550E8400E29B41D4A716446655440000"), "550e8400-e29b-41d4-a716-446655440000")
	f(qdrant.NewID("{550e8400-e29b-41d4-a716-446655440000}"), "550e8400-e29b-41d4-a716-446655440000")
	f(qdrant.NewID("urn:uuid:550e8400-e29b-41d4-a716-446655440000"), "550e8400-e29b-41d4-a716-446655440000")

	bad := func(in *qdrant.PointId, msg string) {
		t.Helper()
		_, err := pointIDFromProto(in)
		requireCode(t, err, codes.InvalidArgument, msg)
	}
	bad(qdrant.NewID("42"), "Unable to parse UUID: 42")
	bad(qdrant.NewID(""), "Unable to parse UUID: ")
	bad(&qdrant.PointId{}, "No ID options provided")
	bad(nil, "No ID options provided")
}

func TestValueConvert(t *testing.T) {
	f := func(js string) {
		t.Helper()
		v, err := payload.ParseJSON([]byte(js))
		require.NoError(t, err)
		pv := valueToProto(v)
		back, err := valueFromProto(pv)
		require.NoError(t, err)
		require.Equal(t, payloadToGo(v), payloadToGo(back), js)
		require.Equal(t, payloadToGo(v), protoToGo(pv), js)
	}
	f(`null`)
	f(`true`)
	f(`1`)
	f(`1.0`)
	f(`-9223372036854775808`)
	f(`0.1`)
	f(`"s"`)
	f(`[]`)
	f(`{}`)
	f(`{"a": [1, 1.0, "x", null, {"b": {"c": [[2]]}}], "d": false}`)

	// Integers and doubles stay apart in both directions.
	v, err := valueFromProto(qdrant.NewValueInt(1))
	require.NoError(t, err)
	require.Equal(t, payload.Int, v.Kind())
	v, err = valueFromProto(qdrant.NewValueDouble(1))
	require.NoError(t, err)
	require.Equal(t, payload.Float, v.Kind())
	_, isInt := valueToProto(payload.IntValue(7)).GetKind().(*qdrant.Value_IntegerValue)
	require.True(t, isInt)
	_, isDouble := valueToProto(payload.FloatValue(7)).GetKind().(*qdrant.Value_DoubleValue)
	require.True(t, isDouble)
	// Integers beyond int64 become doubles, as Qdrant writes them.
	require.Equal(t, float64(math.MaxUint64), valueToProto(payload.UintValue(math.MaxUint64)).GetDoubleValue())

	// A Value with no kind is null; non-finite doubles are refused.
	v, err = valueFromProto(&qdrant.Value{})
	require.NoError(t, err)
	require.True(t, v.IsNull())
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err = valueFromProto(qdrant.NewValueFromList(qdrant.NewValueDouble(x)))
		requireCode(t, err, codes.InvalidArgument, "cannot convert to json number")
	}

	// Objects keep every key; payload maps convert back to the same map.
	m := qdrant.NewValueMap(map[string]any{"z": 1, "a": map[string]any{"y": 2.5, "b": []any{"q"}}})
	obj, err := structFromProto(m)
	require.NoError(t, err)
	require.Equal(t, "a", obj.Fields()[0].Key, "keys sorted")
	require.Equal(t, protoMapToGo(m), protoMapToGo(payloadToProto(obj)))
	require.Empty(t, payloadToProto(payload.Value{}))
}

// requireFiltersEqual compares filters by their JSON form.
func requireFiltersEqual(t *testing.T, want, got *filter.Filter) {
	t.Helper()
	wj, err := want.MarshalJSON()
	require.NoError(t, err)
	gj, err := got.MarshalJSON()
	require.NoError(t, err)
	require.JSONEq(t, string(wj), string(gj))
}

// TestFilterConvert checks every kind of condition against the engine's
// parser of Qdrant's REST JSON, and the conversion back to protobuf.
func TestFilterConvert(t *testing.T) {
	for _, tc := range filterCases("550e8400-e29b-41d4-a716-446655440000") {
		t.Run(tc.name, func(t *testing.T) {
			got, err := filterFromProto(tc.pf)
			require.NoError(t, err)
			requireFiltersEqual(t, mustParseFilter(t, tc.js), got)
			back, err := filterFromProto(filterToProto(got))
			require.NoError(t, err)
			requireFiltersEqual(t, got, back)
		})
	}

	// Empty lists and conditions are absent: no clause is present at all.
	f, err := filterFromProto(&qdrant.Filter{Should: []*qdrant.Condition{{}, {}}, Must: []*qdrant.Condition{}})
	require.NoError(t, err)
	require.Nil(t, f.Should)
	require.Nil(t, f.Must)
	f, err = filterFromProto(nil)
	require.NoError(t, err)
	require.Nil(t, f)

	bad := func(pf *qdrant.Filter, msg ...string) {
		t.Helper()
		_, err := filterFromProto(pf)
		requireCode(t, err, codes.InvalidArgument, msg...)
	}
	bad(&qdrant.Filter{Must: []*qdrant.Condition{fieldCond(&qdrant.FieldCondition{Key: "a"})}}, "Validation error in body", "filter.must[0]")
	bad(&qdrant.Filter{Must: []*qdrant.Condition{fieldCond(&qdrant.FieldCondition{Key: "a", Match: &qdrant.Match{}})}}, "Malformed Match condition")
	bad(&qdrant.Filter{Must: []*qdrant.Condition{{ConditionOneOf: &qdrant.Condition_Nested{Nested: &qdrant.NestedCondition{Key: "a"}}}}},
		"Nested condition must have a filter")
	bad(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("", "x")}}, "Invalid json path: ''")
	bad(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewHasID(qdrant.NewID("nope"))}}, "Unable to parse UUID: nope")
	bad(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewGeoPolygon("loc", ring(0, 0, 1, 1, 0, 0))}}, "Validation error in body", "polygon")
	bad(&qdrant.Filter{Must: []*qdrant.Condition{fieldCond(&qdrant.FieldCondition{Key: "loc", GeoRadius: &qdrant.GeoRadius{Radius: 1}})}}, "Malformed GeoRadius type")
}

func TestVectorsConvert(t *testing.T) {
	sv := func(ix []uint32, vals []float32) engine.SparseVector {
		return engine.SparseVector{Indices: ix, Values: vals}
	}
	for _, pv := range []pointVectors{
		{dense: map[string][]float32{"": {1, 2, 3}}},
		{dense: map[string][]float32{"a": {1}, "b": {2, 3}}},
		{dense: map[string][]float32{}},
		{dense: map[string][]float32{"a": {1}}, sparse: map[string]engine.SparseVector{"s": sv([]uint32{3, 1}, []float32{0.5, -1}), "e": sv([]uint32{}, []float32{})}},
		{dense: map[string][]float32{}, sparse: map[string]engine.SparseVector{"s": sv([]uint32{7}, []float32{2})}},
		{dense: map[string][]float32{}, multi: map[string][][]float32{"": {{1, 2}, {3, 4}}}},
		{dense: map[string][]float32{"d": {1}}, multi: map[string][][]float32{"m": {{1, 2}}, "n": {{5}}}},
	} {
		got, err := vectorsFromProto(vectorsToProto(pv), "points[0].vectors")
		require.NoError(t, err)
		require.Equal(t, pv, got)
		out, err := vectorsOutputToMap(vectorsOutputFromMap(pv.dense, pv.multi, pv.sparse))
		require.NoError(t, err)
		require.Equal(t, pv, out)
	}
	require.Nil(t, vectorsOutputFromMap(nil, nil, nil))
	// Only the oneof is written on output.
	o := vectorsOutputFromMap(map[string][]float32{"": {1, 2}}, nil, nil).GetVector()
	require.Empty(t, o.GetData())
	require.Equal(t, []float32{1, 2}, o.GetDense().GetData())
	o = vectorsOutputFromMap(map[string][]float32{}, nil, map[string]engine.SparseVector{"s": sv([]uint32{1}, []float32{2})}).GetVectors().GetVectors()["s"]
	require.Empty(t, o.GetData())
	require.Nil(t, o.GetIndices())
	require.Equal(t, []uint32{1}, o.GetSparse().GetIndices())

	// The deprecated data and indices fields are read on input.
	got, err := vectorsFromProto(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vectors{Vectors: &qdrant.NamedVectors{Vectors: map[string]*qdrant.Vector{
		"x": {Data: []float32{4, 5}}, "y": {Data: []float32{6}, Indices: &qdrant.SparseIndices{Data: []uint32{9}}}}}}}, "points[0].vectors")
	require.NoError(t, err)
	require.Equal(t, pointVectors{dense: map[string][]float32{"x": {4, 5}}, sparse: map[string]engine.SparseVector{"y": sv([]uint32{9}, []float32{6})}}, got)

	bad := func(v *qdrant.Vectors, code codes.Code, msg string) {
		t.Helper()
		_, err := vectorsFromProto(v, "points[0].vectors")
		requireCode(t, err, code, msg)
	}
	named := func(v *qdrant.Vector) *qdrant.Vectors { return qdrant.NewVectorsMap(map[string]*qdrant.Vector{"s": v}) }
	bad(&qdrant.Vectors{}, codes.InvalidArgument, "No Vector Provided")
	bad(qdrant.NewVectorsSparse([]uint32{1}, []float32{1}), codes.InvalidArgument, "Sparse vector must be named")
	bad(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: []float32{1}, Indices: &qdrant.SparseIndices{Data: []uint32{3}}}}}, codes.InvalidArgument, "Sparse vector must be named")
	bad(named(qdrant.NewVectorSparse([]uint32{1, 1}, []float32{1, 2})), codes.InvalidArgument,
		"Validation error in body: [points[0].vectors.vectors_options.vectors.[].indices: Validation error: must be unique [{}]]")
	bad(named(&qdrant.Vector{Data: []float32{1}, Indices: &qdrant.SparseIndices{Data: []uint32{3, 4}}}), codes.InvalidArgument,
		"Validation error in body: [points[0].vectors.vectors_options.vectors.[].values: Validation error: must be the same length as indices [{}]]")
	got, err = vectorsFromProto(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: []float32{1, 2}, VectorsCount: qdrant.PtrOf(uint32(2))}}}, "points[0].vectors")
	require.NoError(t, err)
	require.Equal(t, pointVectors{dense: map[string][]float32{}, multi: map[string][][]float32{"": {{1}, {2}}}}, got)
	bad(&qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: &qdrant.Vector{Data: []float32{1, 2, 3}, VectorsCount: qdrant.PtrOf(uint32(2))}}}, codes.InvalidArgument, "invalid dense vector length for vectors count")
	bad(qdrant.NewVectorsImage(&qdrant.Image{}), codes.Internal, "InferenceService URL not configured")
	bad(qdrant.NewVectorsObject(&qdrant.InferenceObject{}), codes.Internal, "InferenceService URL not configured")
	bad(named(qdrant.NewVectorDocument(&qdrant.Document{Text: "a", Model: "other/model"})), codes.Internal, "InferenceService URL not configured")

	id := filter.NumID(3)
	for _, ex := range []engine.Example{{ID: &id}, {Vector: []float32{1, 2}}, {Sparse: &engine.SparseVector{Indices: []uint32{2}, Values: []float32{1}}}} {
		back, err := exampleFromVectorInput(exampleToVectorInput(ex), "query.variant")
		require.NoError(t, err)
		require.Equal(t, ex, back)
	}
	_, err = exampleFromVectorInput(&qdrant.VectorInput{}, "query.variant")
	requireCode(t, err, codes.InvalidArgument, "VectorInput variant is missing")
	_, err = exampleFromVectorInput(qdrant.NewVectorInputSparse([]uint32{1, 1}, []float32{1, 1}), "query.variant")
	requireCode(t, err, codes.InvalidArgument, "Validation error in body: [query.variant.variant.indices: Validation error: must be unique [{}]]")
}

func TestSelectorsConvert(t *testing.T) {
	for _, def := range []bool{true, false} {
		s, err := payloadSelectorFromProto(nil, def)
		require.NoError(t, err)
		require.Equal(t, engine.PayloadSelector{Enable: def}, s)
	}
	for _, s := range []engine.PayloadSelector{{Enable: true}, {}, {Include: []string{"a", "b.c"}}, {Enable: true, Exclude: []string{"x"}}} {
		got, err := payloadSelectorFromProto(payloadSelectorToProto(s), false)
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	_, err := payloadSelectorFromProto(&qdrant.WithPayloadSelector{}, true)
	requireCode(t, err, codes.InvalidArgument, "No PayloadSelector")
	// An empty exclude list returns the whole payload.
	s, err := payloadSelectorFromProto(qdrant.NewWithPayloadExclude(), false)
	require.NoError(t, err)
	require.True(t, s.Enable)

	require.Equal(t, engine.VectorSelector{}, vectorSelectorFromProto(nil))
	for _, v := range []engine.VectorSelector{{Enable: true}, {}, {Names: []string{"a"}}} {
		require.Equal(t, v, vectorSelectorFromProto(vectorSelectorToProto(v)))
	}
}

func TestIndexParamsConvert(t *testing.T) {
	ft := func(t qdrant.FieldType) *qdrant.FieldType { return &t }
	for _, p := range []payload.IndexParams{
		{Type: payload.TypeKeyword},
		{Type: payload.TypeKeyword, IsTenant: true, OnDisk: true},
		{Type: payload.TypeInteger, Lookup: ptrTo(false), Range: ptrTo(true), IsPrincipal: true},
		{Type: payload.TypeFloat, IsPrincipal: true},
		{Type: payload.TypeGeo, OnDisk: true},
		{Type: payload.TypeText, Text: payload.TextParams{Tokenizer: "prefix", MinTokenLen: new(2), MaxTokenLen: new(10), Lowercase: ptrTo(false),
			ASCIIFolding: true, PhraseMatching: true, Stopwords: []string{"a", "the"}, StopwordLanguages: []string{"english", "german"},
			StopwordsForm: payload.StopwordsSet, Stemmer: "english"}},
		{Type: payload.TypeBool, OnDisk: true},
		{Type: payload.TypeDatetime, IsPrincipal: true},
		{Type: payload.TypeUUID, IsTenant: true},
	} {
		t.Run(p.Type.String(), func(t *testing.T) {
			typ, params := indexParamsToProto(p)
			require.Equal(t, isDefaultIndexParams(p), params == nil)
			back, err := indexParamsFromProto(&typ, params)
			require.NoError(t, err)
			if p.Type == payload.TypeText && p.Text.Tokenizer == "" {
				p.Text.Tokenizer = "word"
			}
			require.Equal(t, p, back)
			// The engine accepts what the conversion produces.
			_, err = payload.NewIndex(back)
			require.NoError(t, err)
		})
	}
	_, err := indexParamsFromProto(nil, nil)
	requireCode(t, err, codes.InvalidArgument, "cannot convert field_type")
	_, err = indexParamsFromProto(ft(qdrant.FieldType_FieldTypeFloat), qdrant.NewPayloadIndexParamsGeo(&qdrant.GeoIndexParams{}))
	requireCode(t, err, codes.InvalidArgument, "field_type (Float) and field_index_params do not match")
	_, err = indexParamsFromProto(ft(qdrant.FieldType(42)), nil)
	requireCode(t, err, codes.InvalidArgument, "cannot convert field_type")
	// A text index without a tokenizer gets the default, word.
	p, err := indexParamsFromProto(ft(qdrant.FieldType_FieldTypeText), qdrant.NewPayloadIndexParamsText(&qdrant.TextIndexParams{}))
	require.NoError(t, err)
	require.Equal(t, "word", p.Text.Tokenizer)
}

func TestCollectionConfigConvert(t *testing.T) {
	quantile := float32(0.95)
	for _, q := range []*qdrant.QuantizationConfig{
		qdrant.NewQuantizationScalar(&qdrant.ScalarQuantization{Type: qdrant.QuantizationType_Int8, Quantile: &quantile, AlwaysRam: ptrTo(false)}),
		qdrant.NewQuantizationProduct(&qdrant.ProductQuantization{Compression: qdrant.CompressionRatio_x32, AlwaysRam: ptrTo(true)}),
		qdrant.NewQuantizationBinary(&qdrant.BinaryQuantization{AlwaysRam: ptrTo(true), Encoding: qdrant.BinaryQuantizationEncoding_TwoBits.Enum(),
			QueryEncoding: qdrant.NewBinaryQuantizationQueryEncodingSetting(qdrant.BinaryQuantizationQueryEncoding_Scalar8Bits)}),
		qdrant.NewQuantizationBinary(&qdrant.BinaryQuantization{}),
	} {
		js, err := quantizationFromProto(q, "quantization_config")
		require.NoError(t, err)
		require.True(t, proto.Equal(q, quantizationToProto(js)), "%s -> %s", q, js)
	}
	js, err := quantizationFromProto(qdrant.NewQuantizationBinary(&qdrant.BinaryQuantization{Encoding: qdrant.BinaryQuantizationEncoding_OneAndHalfBits.Enum(),
		QueryEncoding: qdrant.NewBinaryQuantizationQueryEncodingSetting(qdrant.BinaryQuantizationQueryEncoding_Scalar4Bits)}), "quantization_config")
	require.NoError(t, err)
	require.JSONEq(t, `{"binary": {"encoding": "one_and_half_bits", "query_encoding": "scalar4bits"}}`, string(js))
	js, err = quantizationDiffFromProto(qdrant.NewQuantizationDiffDisabled(), "quantization_config")
	require.NoError(t, err)
	require.Equal(t, `"Disabled"`, string(js))
	_, err = quantizationFromProto(&qdrant.QuantizationConfig{}, "quantization_config")
	requireCode(t, err, codes.InvalidArgument)
	_, err = quantizationFromProto(qdrant.NewQuantizationScalar(&qdrant.ScalarQuantization{}), "quantization_config")
	requireCode(t, err, codes.InvalidArgument, "Unknown quantization type")

	sm := &qdrant.StrictModeConfig{Enabled: ptrTo(true), MaxTimeout: ptrTo(uint32(5)), UpsertMaxBatchsize: ptrTo(uint64(100)),
		SearchMaxOversampling: ptrTo(float32(2.5)), UnindexedFilteringRetrieve: ptrTo(false),
		SparseConfig:      &qdrant.StrictModeSparseConfig{SparseConfig: map[string]*qdrant.StrictModeSparse{"s": {MaxLength: ptrTo(uint64(7))}}},
		MultivectorConfig: &qdrant.StrictModeMultivectorConfig{MultivectorConfig: map[string]*qdrant.StrictModeMultivector{"m": {MaxVectors: ptrTo(uint64(3))}}}}
	js, err = strictModeFromProto(sm)
	require.NoError(t, err)
	require.JSONEq(t, `{"enabled": true, "max_timeout": 5, "upsert_max_batchsize": 100, "search_max_oversampling": 2.5,
		"unindexed_filtering_retrieve": false, "sparse_config": {"s": {"max_length": 7}}, "multivector_config": {"m": {"max_vectors": 3}}}`, string(js))
	require.True(t, proto.Equal(sm, strictModeToProto(js)))
	require.Nil(t, strictModeToProto(nil))

	// Diffs reach the engine's types and the engine's configuration comes
	// back with the same values.
	req := &qdrant.CreateCollection{
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Manhattan, OnDisk: ptrTo(true)}),
		HnswConfig:       &qdrant.HnswConfigDiff{M: ptrTo(uint64(8)), PayloadM: ptrTo(uint64(4)), OnDisk: ptrTo(true)},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{DeletedThreshold: ptrTo(0.5), MaxSegmentSize: ptrTo(uint64(1000)), DeprecatedMaxOptimizationThreads: ptrTo(uint64(3))},
		WalConfig:        &qdrant.WalConfigDiff{WalSegmentsAhead: ptrTo(uint64(2))},
		ShardNumber:      ptrTo(uint32(2)), ShardingMethod: qdrant.ShardingMethod_Custom.Enum(), OnDiskPayload: ptrTo(false),
		Metadata: qdrant.NewValueMap(map[string]any{"k": []any{1, "v"}}),
	}
	cc, err := createCollectionFromProto(req)
	require.NoError(t, err)
	cfg, err := cc.Config()
	require.NoError(t, err)
	pc := collectionConfigToProto(cfg)
	require.EqualValues(t, 3, pc.GetParams().GetVectorsConfig().GetParams().GetSize())
	require.Equal(t, qdrant.Distance_Manhattan, pc.GetParams().GetVectorsConfig().GetParams().GetDistance())
	require.True(t, pc.GetParams().GetVectorsConfig().GetParams().GetOnDisk())
	require.EqualValues(t, 8, pc.GetHnswConfig().GetM())
	require.EqualValues(t, 4, pc.GetHnswConfig().GetPayloadM())
	require.True(t, pc.GetHnswConfig().GetOnDisk())
	require.EqualValues(t, 100, pc.GetHnswConfig().GetEfConstruct())
	require.Equal(t, 0.5, pc.GetOptimizerConfig().GetDeletedThreshold())
	require.EqualValues(t, 1000, pc.GetOptimizerConfig().GetMaxSegmentSize())
	require.EqualValues(t, 3, pc.GetOptimizerConfig().GetDeprecatedMaxOptimizationThreads())
	require.EqualValues(t, 3, pc.GetOptimizerConfig().GetMaxOptimizationThreads().GetValue())
	require.EqualValues(t, 10000, pc.GetOptimizerConfig().GetIndexingThreshold(), "default indexing_threshold")
	require.Nil(t, pc.GetOptimizerConfig().MemmapThreshold, "unset memmap_threshold is null")
	require.EqualValues(t, 2, pc.GetWalConfig().GetWalSegmentsAhead())
	require.EqualValues(t, 32, pc.GetWalConfig().GetWalCapacityMb())
	require.EqualValues(t, 2, pc.GetParams().GetShardNumber())
	require.Equal(t, qdrant.ShardingMethod_Custom, pc.GetParams().GetShardingMethod())
	require.False(t, pc.GetParams().GetOnDiskPayload())
	require.Equal(t, map[string]any{"k": []any{int64(1), "v"}}, protoMapToGo(pc.GetMetadata()))

	// The same configuration written as Qdrant's REST JSON gives the same
	// engine configuration.
	var rest engine.CreateCollection
	require.NoError(t, json.Unmarshal([]byte(`{"vectors": {"size": 3, "distance": "Manhattan", "on_disk": true},
		"hnsw_config": {"m": 8, "payload_m": 4, "on_disk": true},
		"optimizers_config": {"deleted_threshold": 0.5, "max_segment_size": 1000, "max_optimization_threads": 3},
		"wal_config": {"wal_segments_ahead": 2}, "shard_number": 2, "sharding_method": "custom", "on_disk_payload": false,
		"metadata": {"k": [1, "v"]}}`), &rest))
	restCfg, err := rest.Config()
	require.NoError(t, err)
	require.Equal(t, restCfg, cfg)

	u, err := updateCollectionFromProto(&qdrant.UpdateCollection{
		OptimizersConfig: &qdrant.OptimizersConfigDiff{MaxOptimizationThreads: qdrant.NewMaxOptimizationThreadsSetting(qdrant.MaxOptimizationThreads_Auto)},
		Params:           &qdrant.CollectionParamsDiff{ReplicationFactor: ptrTo(uint32(3))},
		VectorsConfig:    qdrant.NewVectorsConfigDiff(&qdrant.VectorParamsDiff{QuantizationConfig: qdrant.NewQuantizationDiffDisabled()}),
	})
	require.NoError(t, err)
	next, err := cfg.Apply(u)
	require.NoError(t, err)
	require.Nil(t, next.Optimizers.MaxOptimizationThreads)
	require.EqualValues(t, 3, next.Params.ReplicationFactor)
	pc = collectionConfigToProto(next)
	require.Equal(t, qdrant.MaxOptimizationThreads_Auto, pc.GetOptimizerConfig().GetMaxOptimizationThreads().GetSetting())
}

func TestWithTimeout(t *testing.T) {
	ctx, cancel := withTimeout(bg, nil)
	defer cancel()
	_, ok := ctx.Deadline()
	require.False(t, ok)
	ctx, cancel = withTimeout(bg, ptrTo(uint64(0)))
	defer cancel()
	_, ok = ctx.Deadline()
	require.False(t, ok)
	ctx, cancel = withTimeout(bg, ptrTo(uint64(30)))
	defer cancel()
	d, ok := ctx.Deadline()
	require.True(t, ok)
	require.WithinDuration(t, time.Now().Add(30*time.Second), d, 5*time.Second)
	ctx, cancel = withTimeout(bg, ptrTo(uint64(math.MaxUint64)))
	defer cancel()
	require.NoError(t, ctx.Err())
}
