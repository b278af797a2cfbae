package compat

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/payload"
)

// This file converts collection configurations: the create and update
// requests to the engine's CreateCollection and UpdateCollection, and the
// engine's CollectionInfo (with its fully defaulted CollectionConfig) back to
// Qdrant's CollectionInfo. Parts the engine keeps as Qdrant's REST JSON
// (quantization, strict mode, metadata) are converted to and from that JSON.

// createCollectionFromProto converts a create request.
func createCollectionFromProto(r *qdrant.CreateCollection) (*engine.CreateCollection, error) {
	c := &engine.CreateCollection{
		ShardNumber:            copyPtr(r.ShardNumber),
		ReplicationFactor:      copyPtr(r.ReplicationFactor),
		WriteConsistencyFactor: copyPtr(r.WriteConsistencyFactor),
		OnDiskPayload:          copyPtr(r.OnDiskPayload),
	}
	var err error
	if c.Vectors, err = vectorsConfigFromProto(r.GetVectorsConfig()); err != nil {
		return nil, err
	}
	// A map naming the unnamed vector "" is reported back as a map.
	_, c.VectorsNamed = r.GetVectorsConfig().GetParamsMap().GetMap()[""]
	if r.SparseVectorsConfig != nil {
		// An empty map is kept and reported, as Qdrant does.
		if c.SparseVectors, err = sparseVectorsFromProto(r.GetSparseVectorsConfig()); err != nil {
			return nil, err
		}
	}
	if r.ShardingMethod != nil {
		m, err := shardingMethodFromProto(*r.ShardingMethod)
		if err != nil {
			return nil, err
		}
		c.ShardingMethod = &m
	}
	if c.HNSW, err = hnswDiffFromProto(r.GetHnswConfig()); err != nil {
		return nil, err
	}
	if c.Optimizers, err = optimizersDiffFromProto(r.GetOptimizersConfig()); err != nil {
		return nil, err
	}
	if c.WAL, err = walDiffFromProto(r.GetWalConfig()); err != nil {
		return nil, err
	}
	if q := r.GetQuantizationConfig(); q != nil {
		if c.Quantization, err = quantizationFromProto(q, "quantization_config"); err != nil {
			return nil, err
		}
	}
	if c.StrictMode, err = strictModeFromProto(r.GetStrictModeConfig()); err != nil {
		return nil, err
	}
	if c.Metadata, err = metadataFromProto(r.GetMetadata()); err != nil {
		return nil, err
	}
	return c, nil
}

// updateCollectionFromProto converts an update request.
func updateCollectionFromProto(r *qdrant.UpdateCollection) (*engine.UpdateCollection, error) {
	u := &engine.UpdateCollection{}
	var err error
	if vc := r.GetVectorsConfig(); vc != nil {
		u.Vectors = map[string]engine.VectorParamsDiff{}
		switch x := vc.GetConfig().(type) {
		case *qdrant.VectorsConfigDiff_Params:
			if u.Vectors[""], err = vectorParamsDiffFromProto(x.Params, "vectors_config.config"); err != nil {
				return nil, err
			}
		case *qdrant.VectorsConfigDiff_ParamsMap:
			for name, d := range x.ParamsMap.GetMap() {
				if u.Vectors[name], err = vectorParamsDiffFromProto(d, "vectors_config.config.map.[]"); err != nil {
					return nil, err
				}
			}
		}
	}
	if u.Optimizers, err = optimizersDiffFromProto(r.GetOptimizersConfig()); err != nil {
		return nil, err
	}
	if p := r.GetParams(); p != nil {
		u.Params = &engine.CollectionParamsDiff{
			ReplicationFactor:      copyPtr(p.ReplicationFactor),
			WriteConsistencyFactor: copyPtr(p.WriteConsistencyFactor),
			ReadFanOutFactor:       copyPtr(p.ReadFanOutFactor),
			ReadFanOutDelayMs:      copyPtr(p.ReadFanOutDelayMs),
			OnDiskPayload:          copyPtr(p.OnDiskPayload),
		}
	}
	if u.HNSW, err = hnswDiffFromProto(r.GetHnswConfig()); err != nil {
		return nil, err
	}
	if q := r.GetQuantizationConfig(); q != nil {
		if u.Quantization, err = quantizationDiffFromProto(q, "quantization_config"); err != nil {
			return nil, err
		}
	}
	if len(r.GetSparseVectorsConfig().GetMap()) > 0 {
		if u.SparseVectors, err = sparseVectorsFromProto(r.GetSparseVectorsConfig()); err != nil {
			return nil, err
		}
	}
	if u.StrictMode, err = strictModeFromProto(r.GetStrictModeConfig()); err != nil {
		return nil, err
	}
	if u.Metadata, err = metadataFromProto(r.GetMetadata()); err != nil {
		return nil, err
	}
	return u, nil
}

func vectorsConfigFromProto(vc *qdrant.VectorsConfig) (engine.VectorsConfig, error) {
	out := engine.VectorsConfig{}
	switch x := vc.GetConfig().(type) {
	case *qdrant.VectorsConfig_Params:
		p, err := vectorParamsFromProto(x.Params, "vectors_config.config")
		if err != nil {
			return nil, err
		}
		out[""] = p
	case *qdrant.VectorsConfig_ParamsMap:
		for name, vp := range x.ParamsMap.GetMap() {
			p, err := vectorParamsFromProto(vp, "vectors_config.config.map.[]")
			if err != nil {
				return nil, err
			}
			out[name] = p
		}
	}
	return out, nil
}

// vectorParamsFromProto converts the VectorParams at path (Qdrant's name
// for it in validation errors).
func vectorParamsFromProto(p *qdrant.VectorParams, path string) (engine.VectorParams, error) {
	p = orEmpty(p)
	if n := p.GetSize(); n == 0 || n > 65536 {
		return engine.VectorParams{}, validationErr(path+".size", "value %d invalid, must be from 1 to 65536", n)
	}
	d, err := distanceFromProto(p.GetDistance())
	if err != nil {
		return engine.VectorParams{}, err
	}
	out := engine.VectorParams{Size: p.GetSize(), Distance: d, OnDisk: copyPtr(p.OnDisk)}
	if out.HNSW, err = hnswDiffFromProto(p.GetHnswConfig()); err != nil {
		return out, err
	}
	if q := p.GetQuantizationConfig(); q != nil {
		if out.Quantization, err = quantizationFromProto(q, path+".quantization_config"); err != nil {
			return out, err
		}
	}
	if out.Datatype, err = datatypeFromProto(p.Datatype); err != nil {
		return out, err
	}
	if mv := p.GetMultivectorConfig(); mv != nil {
		if mv.GetComparator() != qdrant.MultiVectorComparator_MaxSim {
			return out, invalidArg("Cannot convert multivector comparator: %d", int32(mv.GetComparator()))
		}
		out.Multivector = json.RawMessage(`{"comparator":"max_sim"}`)
	}
	return out, nil
}

// vectorParamsDiffFromProto converts the VectorParamsDiff at path (Qdrant's
// name for it in validation errors).
func vectorParamsDiffFromProto(d *qdrant.VectorParamsDiff, path string) (engine.VectorParamsDiff, error) {
	d = orEmpty(d)
	out := engine.VectorParamsDiff{OnDisk: copyPtr(d.OnDisk)}
	var err error
	if out.HNSW, err = hnswDiffFromProto(d.GetHnswConfig()); err != nil {
		return out, err
	}
	if q := d.GetQuantizationConfig(); q != nil {
		if out.Quantization, err = quantizationDiffFromProto(q, path+".quantization_config"); err != nil {
			return out, err
		}
	}
	return out, nil
}

func distanceFromProto(d qdrant.Distance) (distance.Metric, error) {
	switch d {
	case qdrant.Distance_Cosine:
		return distance.Cosine, nil
	case qdrant.Distance_Dot:
		return distance.Dot, nil
	case qdrant.Distance_Euclid:
		return distance.Euclid, nil
	case qdrant.Distance_Manhattan:
		return distance.Manhattan, nil
	}
	return 0, invalidArg("Malformed distance parameter: %s", d)
}

func distanceToProto(m distance.Metric) qdrant.Distance {
	switch m {
	case distance.Cosine:
		return qdrant.Distance_Cosine
	case distance.Dot:
		return qdrant.Distance_Dot
	case distance.Euclid:
		return qdrant.Distance_Euclid
	case distance.Manhattan:
		return qdrant.Distance_Manhattan
	}
	return qdrant.Distance_UnknownDistance
}

func shardingMethodFromProto(m qdrant.ShardingMethod) (string, error) {
	switch m {
	case qdrant.ShardingMethod_Auto:
		return "auto", nil
	case qdrant.ShardingMethod_Custom:
		return "custom", nil
	}
	return "", invalidArg("Cannot convert ShardingMethod: %d", int32(m))
}

// intPtrFromProto converts an optional unsigned setting.
func intPtrFromProto(v *uint64) (*int, error) {
	if v == nil {
		return nil, nil
	}
	if *v > math.MaxInt32 {
		return nil, invalidArg("value %d is out of range", *v)
	}
	n := int(*v)
	return &n, nil
}

// uintPtrToProto converts an optional setting; negative values (not stored by
// the engine) are left out.
func uintPtrToProto(v *int) *uint64 {
	if v == nil || *v < 0 {
		return nil
	}
	return ptrTo(uint64(*v))
}

func hnswDiffFromProto(d *qdrant.HnswConfigDiff) (*engine.HnswConfigDiff, error) {
	if d == nil {
		return nil, nil
	}
	out := &engine.HnswConfigDiff{OnDisk: copyPtr(d.OnDisk), InlineStorage: copyPtr(d.InlineStorage)}
	for _, f := range []struct {
		dst **int
		v   *uint64
	}{{&out.M, d.M}, {&out.EfConstruct, d.EfConstruct}, {&out.FullScanThreshold, d.FullScanThreshold},
		{&out.MaxIndexingThreads, d.MaxIndexingThreads}, {&out.PayloadM, d.PayloadM}} {
		var err error
		if *f.dst, err = intPtrFromProto(f.v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func hnswDiffToProto(d *engine.HnswConfigDiff) *qdrant.HnswConfigDiff {
	if d == nil {
		return nil
	}
	return &qdrant.HnswConfigDiff{
		M:                  uintPtrToProto(d.M),
		EfConstruct:        uintPtrToProto(d.EfConstruct),
		FullScanThreshold:  uintPtrToProto(d.FullScanThreshold),
		MaxIndexingThreads: uintPtrToProto(d.MaxIndexingThreads),
		OnDisk:             copyPtr(d.OnDisk),
		PayloadM:           uintPtrToProto(d.PayloadM),
		InlineStorage:      copyPtr(d.InlineStorage),
	}
}

// hnswToProto reports a full HNSW configuration, every field set.
func hnswToProto(h engine.HnswConfig) *qdrant.HnswConfigDiff {
	return &qdrant.HnswConfigDiff{
		M:                  uintPtrToProto(&h.M),
		EfConstruct:        uintPtrToProto(&h.EfConstruct),
		FullScanThreshold:  uintPtrToProto(&h.FullScanThreshold),
		MaxIndexingThreads: uintPtrToProto(&h.MaxIndexingThreads),
		OnDisk:             copyPtr(h.OnDisk),
		PayloadM:           uintPtrToProto(h.PayloadM),
		InlineStorage:      copyPtr(h.InlineStorage),
	}
}

func optimizersDiffFromProto(d *qdrant.OptimizersConfigDiff) (*engine.OptimizersConfigDiff, error) {
	if d == nil {
		return nil, nil
	}
	out := &engine.OptimizersConfigDiff{
		DeletedThreshold:   copyPtr(d.DeletedThreshold),
		PreventUnoptimized: copyPtr(d.PreventUnoptimized),
	}
	for _, f := range []struct {
		dst **int
		v   *uint64
	}{{&out.VacuumMinVectorNumber, d.VacuumMinVectorNumber}, {&out.DefaultSegmentNumber, d.DefaultSegmentNumber},
		{&out.MaxSegmentSize, d.MaxSegmentSize}, {&out.MemmapThreshold, d.MemmapThreshold},
		{&out.IndexingThreshold, d.IndexingThreshold}, {&out.FlushIntervalSec, d.FlushIntervalSec},
		{&out.MaxOptimizationThreads, d.DeprecatedMaxOptimizationThreads}} {
		var err error
		if *f.dst, err = intPtrFromProto(f.v); err != nil {
			return nil, err
		}
	}
	// As in Qdrant, the deprecated field wins over the new one.
	if out.MaxOptimizationThreads == nil && d.MaxOptimizationThreads != nil {
		switch x := d.MaxOptimizationThreads.GetVariant().(type) {
		case *qdrant.MaxOptimizationThreads_Value:
			n, err := intPtrFromProto(&x.Value)
			if err != nil {
				return nil, err
			}
			out.MaxOptimizationThreads = n
		case *qdrant.MaxOptimizationThreads_Setting_:
			if x.Setting != qdrant.MaxOptimizationThreads_Auto {
				return nil, invalidArg("Unknown max_optimization_threads setting: %d", int32(x.Setting))
			}
			out.MaxOptimizationThreads = ptrTo(-1)
		default:
			return nil, invalidArg("Malformed MaxOptimizationThreads type")
		}
	}
	return out, nil
}

func optimizersToProto(o engine.OptimizersConfig) *qdrant.OptimizersConfigDiff {
	out := &qdrant.OptimizersConfigDiff{
		DeletedThreshold:      ptrTo(o.DeletedThreshold),
		VacuumMinVectorNumber: uintPtrToProto(&o.VacuumMinVectorNumber),
		DefaultSegmentNumber:  uintPtrToProto(&o.DefaultSegmentNumber),
		MaxSegmentSize:        uintPtrToProto(o.MaxSegmentSize),
		MemmapThreshold:       uintPtrToProto(o.MemmapThreshold),
		IndexingThreshold:     uintPtrToProto(o.IndexingThreshold),
		FlushIntervalSec:      uintPtrToProto(&o.FlushIntervalSec),
		PreventUnoptimized:    copyPtr(o.PreventUnoptimized),
	}
	if t := o.MaxOptimizationThreads; t != nil && *t >= 0 {
		out.DeprecatedMaxOptimizationThreads = uintPtrToProto(t)
		out.MaxOptimizationThreads = &qdrant.MaxOptimizationThreads{Variant: &qdrant.MaxOptimizationThreads_Value{Value: uint64(*t)}}
	} else {
		out.MaxOptimizationThreads = &qdrant.MaxOptimizationThreads{Variant: &qdrant.MaxOptimizationThreads_Setting_{Setting: qdrant.MaxOptimizationThreads_Auto}}
	}
	return out
}

func walDiffFromProto(d *qdrant.WalConfigDiff) (*engine.WalConfigDiff, error) {
	if d == nil {
		return nil, nil
	}
	out := &engine.WalConfigDiff{}
	for _, f := range []struct {
		dst **int
		v   *uint64
	}{{&out.WalCapacityMB, d.WalCapacityMb}, {&out.WalSegmentsAhead, d.WalSegmentsAhead}, {&out.WalRetainClosed, d.WalRetainClosed}} {
		var err error
		if *f.dst, err = intPtrFromProto(f.v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func walToProto(w engine.WalConfig) *qdrant.WalConfigDiff {
	return &qdrant.WalConfigDiff{
		WalCapacityMb:    uintPtrToProto(&w.WalCapacityMB),
		WalSegmentsAhead: uintPtrToProto(&w.WalSegmentsAhead),
		WalRetainClosed:  uintPtrToProto(&w.WalRetainClosed),
	}
}

// Quantization, in Qdrant's REST JSON shape.

type quantizationJSON struct {
	Scalar  *scalarQuantJSON  `json:"scalar,omitempty"`
	Product *productQuantJSON `json:"product,omitempty"`
	Binary  *binaryQuantJSON  `json:"binary,omitempty"`
}

type scalarQuantJSON struct {
	Type      string        `json:"type"`
	Quantile  *quantileJSON `json:"quantile,omitempty"`
	AlwaysRAM *bool         `json:"always_ram,omitempty"`
}

// quantileJSON is a quantile as gRPC gives it: NaN and infinities, which
// JSON cannot hold, are written as null, as Qdrant writes them.
type quantileJSON float32

func (q quantileJSON) MarshalJSON() ([]byte, error) {
	if f := float64(q); math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float32(q))
}

type productQuantJSON struct {
	Compression string `json:"compression"`
	AlwaysRAM   *bool  `json:"always_ram,omitempty"`
}

type binaryQuantJSON struct {
	AlwaysRAM     *bool   `json:"always_ram,omitempty"`
	Encoding      *string `json:"encoding,omitempty"`
	QueryEncoding *string `json:"query_encoding,omitempty"`
}

// REST names of the quantization enums, indexed by their protobuf numbers.
var (
	compressionNames   = []string{"x4", "x8", "x16", "x32", "x64"}
	binaryEncodings    = []string{"one_bit", "two_bits", "one_and_half_bits"}
	binaryQueryEncodes = []string{"default", "binary", "scalar4bits", "scalar8bits"}
)

func enumName(names []string, i int32, what string) (string, error) {
	if i < 0 || int(i) >= len(names) {
		return "", invalidArg("Unknown %s: %d", what, i)
	}
	return names[i], nil
}

// scalarToJSON converts a ScalarQuantization at path (Qdrant's name for the
// QuantizationConfig in validation errors). A quantile outside [0.5, 1] is
// refused as Qdrant refuses it; NaN passes its range check, infinities do
// not and are named null, as serde writes them.
func scalarToJSON(s *qdrant.ScalarQuantization, path string) (*scalarQuantJSON, error) {
	s = orEmpty(s)
	if s.GetType() != qdrant.QuantizationType_Int8 {
		return nil, invalidArg("Unknown quantization type")
	}
	if s.Quantile != nil {
		q := float64(*s.Quantile)
		if q < 0.5 || q > 1 {
			v := "null"
			if !math.IsInf(q, 0) {
				v = strconv.FormatFloat(q, 'f', -1, 64)
				if !strings.Contains(v, ".") {
					v += ".0"
				}
			}
			return nil, validationErr(path+".quantization.quantile", "value %s invalid, must be from 0.5 to 1.0", v)
		}
	}
	return &scalarQuantJSON{Type: "int8", Quantile: (*quantileJSON)(copyPtr(s.Quantile)), AlwaysRAM: copyPtr(s.AlwaysRam)}, nil
}

func productToJSON(p *qdrant.ProductQuantization) (*productQuantJSON, error) {
	p = orEmpty(p)
	c, err := enumName(compressionNames, int32(p.GetCompression()), "compression ratio")
	if err != nil {
		return nil, err
	}
	return &productQuantJSON{Compression: c, AlwaysRAM: copyPtr(p.AlwaysRam)}, nil
}

func binaryToJSON(b *qdrant.BinaryQuantization) (*binaryQuantJSON, error) {
	b = orEmpty(b)
	out := &binaryQuantJSON{AlwaysRAM: copyPtr(b.AlwaysRam)}
	if b.Encoding != nil {
		e, err := enumName(binaryEncodings, int32(*b.Encoding), "binary quantization encoding")
		if err != nil {
			return nil, err
		}
		out.Encoding = &e
	}
	if qe := b.GetQueryEncoding(); qe != nil {
		x, ok := qe.GetVariant().(*qdrant.BinaryQuantizationQueryEncoding_Setting_)
		if !ok {
			return nil, invalidArg("Malformed BinaryQuantizationQueryEncoding type")
		}
		e, err := enumName(binaryQueryEncodes, int32(x.Setting), "binary quantization query encoding")
		if err != nil {
			return nil, err
		}
		out.QueryEncoding = &e
	}
	return out, nil
}

// quantizationFromProto converts the QuantizationConfig at path (Qdrant's
// name for it in validation errors) to its REST JSON.
func quantizationFromProto(q *qdrant.QuantizationConfig, path string) (json.RawMessage, error) {
	var j quantizationJSON
	var err error
	switch x := q.GetQuantization().(type) {
	case *qdrant.QuantizationConfig_Scalar:
		j.Scalar, err = scalarToJSON(x.Scalar, path)
	case *qdrant.QuantizationConfig_Product:
		j.Product, err = productToJSON(x.Product)
	case *qdrant.QuantizationConfig_Binary:
		j.Binary, err = binaryToJSON(x.Binary)
	default:
		return nil, invalidArg("QuantizationConfig must contain quantization")
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}

// quantizationDiffFromProto converts a QuantizationConfigDiff; Disabled is
// the JSON string "Disabled".
func quantizationDiffFromProto(q *qdrant.QuantizationConfigDiff, path string) (json.RawMessage, error) {
	switch x := q.GetQuantization().(type) {
	case *qdrant.QuantizationConfigDiff_Scalar:
		return quantizationFromProto(&qdrant.QuantizationConfig{Quantization: &qdrant.QuantizationConfig_Scalar{Scalar: x.Scalar}}, path)
	case *qdrant.QuantizationConfigDiff_Product:
		return quantizationFromProto(&qdrant.QuantizationConfig{Quantization: &qdrant.QuantizationConfig_Product{Product: x.Product}}, path)
	case *qdrant.QuantizationConfigDiff_Binary:
		return quantizationFromProto(&qdrant.QuantizationConfig{Quantization: &qdrant.QuantizationConfig_Binary{Binary: x.Binary}}, path)
	case *qdrant.QuantizationConfigDiff_Disabled:
		return json.RawMessage(`"Disabled"`), nil
	}
	return nil, invalidArg("Quantization type is not specified")
}

// quantizationToProto converts a stored QuantizationConfig; nil when there
// is none. Values the JSON does not name are left at their defaults.
func quantizationToProto(raw json.RawMessage) *qdrant.QuantizationConfig {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var j quantizationJSON
	if json.Unmarshal(raw, &j) != nil {
		return nil
	}
	index := func(names []string, s string) int32 {
		return int32(max(slices.Index(names, s), 0))
	}
	switch {
	case j.Scalar != nil:
		return &qdrant.QuantizationConfig{Quantization: &qdrant.QuantizationConfig_Scalar{Scalar: &qdrant.ScalarQuantization{
			Type: qdrant.QuantizationType_Int8, Quantile: (*float32)(j.Scalar.Quantile), AlwaysRam: j.Scalar.AlwaysRAM}}}
	case j.Product != nil:
		return &qdrant.QuantizationConfig{Quantization: &qdrant.QuantizationConfig_Product{Product: &qdrant.ProductQuantization{
			Compression: qdrant.CompressionRatio(index(compressionNames, j.Product.Compression)), AlwaysRam: j.Product.AlwaysRAM}}}
	case j.Binary != nil:
		b := &qdrant.BinaryQuantization{AlwaysRam: j.Binary.AlwaysRAM}
		if j.Binary.Encoding != nil {
			b.Encoding = ptrTo(qdrant.BinaryQuantizationEncoding(index(binaryEncodings, *j.Binary.Encoding)))
		}
		if j.Binary.QueryEncoding != nil {
			b.QueryEncoding = &qdrant.BinaryQuantizationQueryEncoding{Variant: &qdrant.BinaryQuantizationQueryEncoding_Setting_{
				Setting: qdrant.BinaryQuantizationQueryEncoding_Setting(index(binaryQueryEncodes, *j.Binary.QueryEncoding))}}
		}
		return &qdrant.QuantizationConfig{Quantization: &qdrant.QuantizationConfig_Binary{Binary: b}}
	}
	return nil
}

// Strict mode. The REST shape of StrictModeConfig has the protobuf field
// names; its two per-vector maps are flattened (REST
// "multivector_config": {name: {...}} is protobuf
// multivector_config.multivector_config). The conversion walks the message
// by reflection, so that every field of the message is carried.

// strictModeFromProto converts a StrictModeConfig to its REST JSON; nil when
// absent.
func strictModeFromProto(s *qdrant.StrictModeConfig) (json.RawMessage, error) {
	if s == nil {
		return nil, nil
	}
	return json.Marshal(messageToJSON(s.ProtoReflect()))
}

// strictModeToProto converts stored strict mode JSON; members the message
// does not have are skipped.
func strictModeToProto(raw json.RawMessage) *qdrant.StrictModeConfig {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	out := &qdrant.StrictModeConfig{}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	messageFromJSON(m, out.ProtoReflect())
	return out
}

// flatMapField returns the map field of a message whose only field is a map.
func flatMapField(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	if md.Fields().Len() == 1 && md.Fields().Get(0).IsMap() {
		return md.Fields().Get(0)
	}
	return nil
}

func messageToJSON(m protoreflect.Message) map[string]any {
	out := map[string]any{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out[string(fd.Name())] = fieldToJSON(fd, v)
		return true
	})
	return out
}

func fieldToJSON(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsMap():
		out := map[string]any{}
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			out[k.String()] = fieldToJSON(fd.MapValue(), mv)
			return true
		})
		return out
	case fd.Kind() == protoreflect.MessageKind:
		if mf := flatMapField(fd.Message()); mf != nil {
			return fieldToJSON(mf, v.Message().Get(mf))
		}
		return messageToJSON(v.Message())
	case fd.Kind() == protoreflect.FloatKind || fd.Kind() == protoreflect.DoubleKind:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// JSON has no such numbers; Qdrant writes them as null.
			return nil
		}
		if fd.Kind() == protoreflect.FloatKind {
			return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 32))
		}
	}
	return v.Interface()
}

func messageFromJSON(obj map[string]json.RawMessage, m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for k, raw := range obj {
		fd := fields.ByName(protoreflect.Name(k))
		if fd == nil || string(raw) == "null" {
			continue
		}
		if v, ok := fieldFromJSON(fd, raw, m); ok {
			m.Set(fd, v)
		}
	}
}

func fieldFromJSON(fd protoreflect.FieldDescriptor, raw json.RawMessage, parent protoreflect.Message) (protoreflect.Value, bool) {
	switch {
	case fd.IsMap():
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return protoreflect.Value{}, false
		}
		mv := parent.NewField(fd)
		mp := mv.Map()
		vd := fd.MapValue()
		for k, r := range obj {
			key := protoreflect.ValueOfString(k).MapKey()
			if vd.Kind() == protoreflect.MessageKind {
				var o map[string]json.RawMessage
				if json.Unmarshal(r, &o) != nil {
					continue
				}
				v := mp.NewValue()
				messageFromJSON(o, v.Message())
				mp.Set(key, v)
			} else if v, ok := scalarFromJSON(vd.Kind(), r); ok {
				mp.Set(key, v)
			}
		}
		return mv, true
	case fd.Kind() == protoreflect.MessageKind:
		msg := parent.NewField(fd).Message()
		if mf := flatMapField(fd.Message()); mf != nil {
			if v, ok := fieldFromJSON(mf, raw, msg); ok {
				msg.Set(mf, v)
			}
			return protoreflect.ValueOfMessage(msg), true
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return protoreflect.Value{}, false
		}
		messageFromJSON(obj, msg)
		return protoreflect.ValueOfMessage(msg), true
	}
	return scalarFromJSON(fd.Kind(), raw)
}

func scalarFromJSON(k protoreflect.Kind, raw json.RawMessage) (protoreflect.Value, bool) {
	switch k {
	case protoreflect.BoolKind:
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			return protoreflect.ValueOfBool(b), true
		}
	case protoreflect.Uint32Kind:
		var n uint32
		if json.Unmarshal(raw, &n) == nil {
			return protoreflect.ValueOfUint32(n), true
		}
	case protoreflect.Uint64Kind:
		var n uint64
		if json.Unmarshal(raw, &n) == nil {
			return protoreflect.ValueOfUint64(n), true
		}
	case protoreflect.FloatKind:
		var f float32
		if json.Unmarshal(raw, &f) == nil {
			return protoreflect.ValueOfFloat32(f), true
		}
	case protoreflect.DoubleKind:
		var f float64
		if json.Unmarshal(raw, &f) == nil {
			return protoreflect.ValueOfFloat64(f), true
		}
	}
	return protoreflect.Value{}, false
}

// Metadata.

func metadataFromProto(m map[string]*qdrant.Value) (map[string]json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		pv, err := valueFromProto(v)
		if err != nil {
			return nil, err
		}
		out[k] = pv.AppendJSON(nil)
	}
	return out, nil
}

func metadataToProto(m map[string]json.RawMessage) map[string]*qdrant.Value {
	out := make(map[string]*qdrant.Value, len(m))
	for k, raw := range m {
		v, err := payload.ParseJSON(raw)
		if err != nil {
			continue
		}
		out[k] = valueToProto(v)
	}
	return out
}

// Collection info.

// collectionConfigToProto reports a collection's configuration.
func collectionConfigToProto(c engine.CollectionConfig) *qdrant.CollectionConfig {
	p := c.Params
	params := &qdrant.CollectionParams{
		ShardNumber:            p.ShardNumber,
		OnDiskPayload:          p.OnDiskPayload,
		VectorsConfig:          vectorsConfigToProto(p.Vectors, p.VectorsNamed),
		ReplicationFactor:      ptrTo(p.ReplicationFactor),
		WriteConsistencyFactor: ptrTo(p.WriteConsistencyFactor),
		ReadFanOutFactor:       copyPtr(p.ReadFanOutFactor),
		ReadFanOutDelayMs:      copyPtr(p.ReadFanOutDelayMs),
	}
	params.SparseVectorsConfig = sparseVectorsToProto(p.SparseVectors)
	switch p.ShardingMethod {
	case "auto":
		params.ShardingMethod = ptrTo(qdrant.ShardingMethod_Auto)
	case "custom":
		params.ShardingMethod = ptrTo(qdrant.ShardingMethod_Custom)
	}
	return &qdrant.CollectionConfig{
		Params:             params,
		HnswConfig:         hnswToProto(c.HNSW),
		OptimizerConfig:    optimizersToProto(c.Optimizers),
		WalConfig:          walToProto(c.WAL),
		QuantizationConfig: quantizationToProto(c.Quantization),
		StrictModeConfig:   strictModeToProto(c.StrictMode),
		Metadata:           metadataToProto(c.Metadata),
	}
}

// sparseVectorsFromProto converts sparse vector configs (of a create or
// an update request).
func sparseVectorsFromProto(c *qdrant.SparseVectorConfig) (map[string]engine.SparseVectorParams, error) {
	out := make(map[string]engine.SparseVectorParams, len(c.GetMap()))
	for name, p := range c.GetMap() {
		var sp engine.SparseVectorParams
		if p.Modifier != nil {
			switch *p.Modifier {
			case qdrant.Modifier_None:
				sp.Modifier = "none"
			case qdrant.Modifier_Idf:
				sp.Modifier = "idf"
			default:
				return nil, invalidArg("Unknown modifier: %d", int32(*p.Modifier))
			}
		}
		if ix := p.GetIndex(); ix != nil {
			sp.Index = &engine.SparseIndexParams{FullScanThreshold: copyPtr(ix.FullScanThreshold), OnDisk: copyPtr(ix.OnDisk)}
			var err error
			if sp.Index.Datatype, err = datatypeFromProto(ix.Datatype); err != nil {
				return nil, err
			}
		}
		out[name] = sp
	}
	return out, nil
}

// sparseVectorsToProto reports the sparse vector configs; none is reported
// as nil, an empty map as an empty map, as Qdrant does.
func sparseVectorsToProto(m map[string]engine.SparseVectorParams) *qdrant.SparseVectorConfig {
	if m == nil {
		return nil
	}
	out := &qdrant.SparseVectorConfig{Map: make(map[string]*qdrant.SparseVectorParams, len(m))}
	for name, sp := range m {
		p := &qdrant.SparseVectorParams{}
		switch sp.Modifier {
		case "none":
			p.Modifier = qdrant.Modifier_None.Enum()
		case "idf":
			p.Modifier = qdrant.Modifier_Idf.Enum()
		}
		if ix := sp.Index; ix != nil {
			p.Index = &qdrant.SparseIndexConfig{FullScanThreshold: copyPtr(ix.FullScanThreshold), OnDisk: copyPtr(ix.OnDisk)}
			p.Index.Datatype = datatypeToProto(ix.Datatype)
		}
		out.Map[name] = p
	}
	return out
}

// vectorsConfigToProto reports the vectors: the unnamed vector as single
// params unless the collection was created with it in a map (named), named
// vectors as a map.
func vectorsConfigToProto(vc engine.VectorsConfig, named bool) *qdrant.VectorsConfig {
	if p, ok := vc[""]; ok && len(vc) == 1 && !named {
		return &qdrant.VectorsConfig{Config: &qdrant.VectorsConfig_Params{Params: vectorParamsToProto(p)}}
	}
	m := make(map[string]*qdrant.VectorParams, len(vc))
	for name, p := range vc {
		m[name] = vectorParamsToProto(p)
	}
	return &qdrant.VectorsConfig{Config: &qdrant.VectorsConfig_ParamsMap{ParamsMap: &qdrant.VectorParamsMap{Map: m}}}
}

func vectorParamsToProto(p engine.VectorParams) *qdrant.VectorParams {
	out := &qdrant.VectorParams{
		Size:               p.Size,
		Distance:           distanceToProto(p.Distance),
		HnswConfig:         hnswDiffToProto(p.HNSW),
		QuantizationConfig: quantizationToProto(p.Quantization),
		OnDisk:             copyPtr(p.OnDisk),
	}
	out.Datatype = datatypeToProto(p.Datatype)
	if p.IsMulti() {
		out.MultivectorConfig = &qdrant.MultiVectorConfig{Comparator: qdrant.MultiVectorComparator_MaxSim}
	}
	return out
}

// datatypeFromProto converts a vector or sparse index datatype; Default
// and absent give "" (the default).
func datatypeFromProto(d *qdrant.Datatype) (string, error) {
	if d == nil {
		return "", nil
	}
	switch *d {
	case qdrant.Datatype_Default:
		return "", nil
	case qdrant.Datatype_Float32:
		return "float32", nil
	case qdrant.Datatype_Uint8:
		return "uint8", nil
	case qdrant.Datatype_Float16:
		return "float16", nil
	}
	return "", invalidArg("Cannot convert datatype: %d", int32(*d))
}

// datatypeToProto is the inverse of datatypeFromProto: nil for "".
func datatypeToProto(d string) *qdrant.Datatype {
	switch d {
	case "float32":
		return qdrant.Datatype_Float32.Enum()
	case "uint8":
		return qdrant.Datatype_Uint8.Enum()
	case "float16":
		return qdrant.Datatype_Float16.Enum()
	}
	return nil
}

// collectionInfoToProto reports a collection's state as Qdrant's
// CollectionInfo.
func collectionInfoToProto(info *engine.CollectionInfo) *qdrant.CollectionInfo {
	st := qdrant.CollectionStatus_Green
	switch info.Status {
	case engine.StatusYellow:
		st = qdrant.CollectionStatus_Yellow
	case engine.StatusGrey:
		st = qdrant.CollectionStatus_Grey
	case engine.StatusRed:
		st = qdrant.CollectionStatus_Red
	}
	opt := &qdrant.OptimizerStatus{Ok: true}
	if info.Reason != "" {
		opt = &qdrant.OptimizerStatus{Error: info.Reason}
	}
	schema := make(map[string]*qdrant.PayloadSchemaInfo, len(info.PayloadSchema))
	for key, pi := range info.PayloadSchema {
		_, params := indexParamsToProto(pi.Params)
		schema[key] = &qdrant.PayloadSchemaInfo{
			DataType: qdrant.PayloadSchemaType(pi.Params.Type) + 1,
			Params:   params,
			Points:   ptrTo(uint64(max(pi.Points, 0))),
		}
	}
	var warnings []*qdrant.CollectionWarning
	for _, m := range info.Warnings {
		warnings = append(warnings, &qdrant.CollectionWarning{Message: m})
	}
	return &qdrant.CollectionInfo{
		Warnings:            warnings,
		Status:              st,
		OptimizerStatus:     opt,
		SegmentsCount:       uint64(max(info.SegmentsCount, 0)),
		Config:              collectionConfigToProto(info.Config),
		PayloadSchema:       schema,
		PointsCount:         ptrTo(uint64(max(info.PointsCount, 0))),
		IndexedVectorsCount: ptrTo(uint64(max(info.IndexedVectorsCount, 0))),
		UpdateQueue:         &qdrant.UpdateQueueInfo{Length: uint64(max(info.UpdateQueueLength, 0))},
	}
}

// grpcVectorPath names a vector's field in a validation error of a create
// request as Qdrant's gRPC validation does: "vectors_config.config.size"
// for the single unnamed vector, "vectors_config.config.map.[].size" for
// the named ones. Errors about qlite's own limits keep the engine's path,
// which names the vector.
func grpcVectorPath(err error, req *engine.CreateCollection) error {
	var ve *engine.ValidationError
	if !errors.As(err, &ve) || strings.Contains(ve.Msg, "qlite") || req == nil {
		return err
	}
	// Longer names first: "vectors." is also a prefix of a named vector's
	// paths.
	names := slices.SortedFunc(maps.Keys(req.Vectors), func(a, b string) int { return len(b) - len(a) })
	for _, name := range names {
		prefix := "vectors." + name + "."
		if name == "" {
			prefix = "vectors."
		}
		if rest, ok := strings.CutPrefix(ve.Path, prefix); ok {
			to := "vectors_config.config."
			if req.VectorsNamed || name != "" {
				to = "vectors_config.config.map.[]."
			}
			return &engine.ValidationError{Path: to + rest, Msg: ve.Msg}
		}
	}
	return err
}
