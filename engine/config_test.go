package engine

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// cfgDecodeCreate decodes a create request body and turns it into a config.
func cfgDecodeCreate(t *testing.T, body string) (CollectionConfig, error) {
	t.Helper()
	var req CreateCollection
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		return CollectionConfig{}, err
	}
	return req.Config()
}

func cfgMustCreate(t *testing.T, body string) CollectionConfig {
	t.Helper()
	cfg, err := cfgDecodeCreate(t, body)
	require.NoError(t, err)
	return cfg
}

func cfgMustApply(t *testing.T, cfg CollectionConfig, body string) CollectionConfig {
	t.Helper()
	var u UpdateCollection
	require.NoError(t, json.Unmarshal([]byte(body), &u))
	out, err := cfg.Apply(&u)
	require.NoError(t, err)
	return out
}

func cfgRequireBad(t *testing.T, err error, msg string) {
	t.Helper()
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrBadRequest), "%v does not wrap ErrBadRequest", err)
	require.Contains(t, err.Error(), msg)
}

func TestConfigCreateDefaults(t *testing.T) {
	cfg := cfgMustCreate(t, `{"vectors": {"size": 4, "distance": "Euclid"}}`)

	p := cfg.Params
	require.Equal(t, VectorsConfig{"": {Size: 4, Distance: distance.Euclid}}, p.Vectors)
	require.Equal(t, uint32(1), p.ShardNumber)
	require.Equal(t, "", p.ShardingMethod)
	require.Equal(t, uint32(1), p.ReplicationFactor)
	require.Equal(t, uint32(1), p.WriteConsistencyFactor)
	require.Nil(t, p.ReadFanOutFactor)
	require.Nil(t, p.ReadFanOutDelayMs)
	require.True(t, p.OnDiskPayload)
	require.Nil(t, p.SparseVectors)

	h := cfg.HNSW
	require.Equal(t, 16, h.M)
	require.Equal(t, 100, h.EfConstruct)
	require.Equal(t, 10000, h.FullScanThreshold)
	require.Equal(t, 0, h.MaxIndexingThreads)
	require.Equal(t, new(false), h.OnDisk)
	require.Nil(t, h.PayloadM)
	require.Nil(t, h.InlineStorage)

	o := cfg.Optimizers
	require.Equal(t, 0.2, o.DeletedThreshold)
	require.Equal(t, 1000, o.VacuumMinVectorNumber)
	require.Equal(t, 0, o.DefaultSegmentNumber)
	require.Nil(t, o.MaxSegmentSize)
	require.Nil(t, o.MemmapThreshold)
	require.Equal(t, new(10000), o.IndexingThreshold)
	require.Equal(t, 5, o.FlushIntervalSec)
	require.Nil(t, o.MaxOptimizationThreads)
	require.Nil(t, o.PreventUnoptimized)

	require.Equal(t, WalConfig{WalCapacityMB: 32, WalSegmentsAhead: 0, WalRetainClosed: 1}, cfg.WAL)
	require.Nil(t, cfg.Quantization)
	require.Nil(t, cfg.StrictMode)
	require.Nil(t, cfg.Metadata)

	require.Equal(t, 10000, cfg.IndexingThresholdKB())
	require.Equal(t, 256000, cfg.MaxSegmentSizeKB())

	// An empty request (and a nil one) gives the same, without vectors.
	empty := cfgMustCreate(t, `{}`)
	require.Equal(t, VectorsConfig{}, empty.Params.Vectors)
	empty.Params.Vectors = cfg.Params.Vectors
	require.Equal(t, cfg, empty)
	fromNil, err := (*CreateCollection)(nil).Config()
	require.NoError(t, err)
	require.Equal(t, VectorsConfig{}, fromNil.Params.Vectors)
}

// TestConfigDefaultConfigJSON checks the JSON of a default config against the
// "config" member of Qdrant v1.17's GET /collections/{name}, written out from
// the openapi CollectionConfig schema and its parts: nullable optimizer fields
// are null, on_disk is reported, payload_m and inline_storage are absent, and
// quantization_config is null.
func TestConfigDefaultConfigJSON(t *testing.T) {
	cfg := cfgMustCreate(t, `{"vectors": {"size": 4, "distance": "Euclid"}}`)
	got, err := json.Marshal(cfg)
	require.NoError(t, err)
	const want = `{
		"params": {
			"vectors": {"size": 4, "distance": "Euclid"},
			"shard_number": 1,
			"replication_factor": 1,
			"write_consistency_factor": 1,
			"on_disk_payload": true
		},
		"hnsw_config": {
			"m": 16,
			"ef_construct": 100,
			"full_scan_threshold": 10000,
			"max_indexing_threads": 0,
			"on_disk": false
		},
		"optimizer_config": {
			"deleted_threshold": 0.2,
			"vacuum_min_vector_number": 1000,
			"default_segment_number": 0,
			"max_segment_size": null,
			"memmap_threshold": null,
			"indexing_threshold": 10000,
			"flush_interval_sec": 5,
			"max_optimization_threads": null,
			"prevent_unoptimized": null
		},
		"wal_config": {
			"wal_capacity_mb": 32,
			"wal_segments_ahead": 0,
			"wal_retain_closed": 1
		},
		"quantization_config": null
	}`
	require.JSONEq(t, want, string(got))
}

func TestConfigJSONRoundTrip(t *testing.T) {
	f := func(body string) {
		t.Helper()
		cfg := cfgMustCreate(t, body)
		b, err := json.Marshal(cfg)
		require.NoError(t, err)
		var back CollectionConfig
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, cfg, back)
		b2, err := json.Marshal(back)
		require.NoError(t, err)
		require.Equal(t, string(b), string(b2))
	}
	f(`{}`)
	f(`{"vectors": {"size": 3, "distance": "Cosine"}}`)
	f(`{
		"vectors": {
			"text": {"size": 768, "distance": "Dot", "on_disk": true, "datatype": "float16",
				"hnsw_config": {"m": 32, "payload_m": 8},
				"quantization_config": {"scalar": {"type": "int8", "quantile": 0.99}}},
			"image": {"size": 512, "distance": "Manhattan",
				"multivector_config": {"comparator": "max_sim"}}
		},
		"shard_number": 2,
		"sharding_method": "custom",
		"replication_factor": 3,
		"write_consistency_factor": 2,
		"on_disk_payload": false,
		"hnsw_config": {"ef_construct": 64, "on_disk": true, "inline_storage": false},
		"optimizers_config": {"deleted_threshold": 0.5, "max_segment_size": 1024,
			"memmap_threshold": 0, "indexing_threshold": 0, "max_optimization_threads": 2,
			"prevent_unoptimized": true},
		"wal_config": {"wal_capacity_mb": 8, "wal_segments_ahead": 1, "wal_retain_closed": 2},
		"quantization_config": {"binary": {"always_ram": true}},
		"sparse_vectors": {"bm25": {"modifier": "idf", "index": {"on_disk": true}}},
		"strict_mode_config": {"enabled": true, "max_query_limit": 10},
		"metadata": {"owner": "team-a", "n": 1, "nested": {"a": [1, null]}, "gone": null}
	}`)
}

func TestConfigVectorsConfigJSON(t *testing.T) {
	p4 := VectorParams{Size: 4, Distance: distance.Cosine}
	p8 := VectorParams{Size: 8, Distance: distance.Dot}

	write := func(v VectorsConfig, want string) {
		t.Helper()
		b, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, want, string(b))
	}
	write(VectorsConfig{"": p4}, `{"size":4,"distance":"Cosine"}`)
	write(VectorsConfig{"a": p4}, `{"a":{"size":4,"distance":"Cosine"}}`)
	write(VectorsConfig{"b": p8, "a": p4}, `{"a":{"size":4,"distance":"Cosine"},"b":{"size":8,"distance":"Dot"}}`)
	write(VectorsConfig{}, `{}`)
	write(nil, `{}`)

	read := func(in string, want VectorsConfig) {
		t.Helper()
		var v VectorsConfig
		require.NoError(t, json.Unmarshal([]byte(in), &v))
		require.Equal(t, want, v)
	}
	read(`{"size": 4, "distance": "Cosine"}`, VectorsConfig{"": p4})
	read(`{"distance": "cosine", "size": 4}`, VectorsConfig{"": p4})
	read(`{"a": {"size": 4, "distance": "Cosine"}, "b": {"size": 8, "distance": "Dot"}}`, VectorsConfig{"a": p4, "b": p8})
	// Vectors may be named like VectorParams members: an object value means
	// the map form.
	read(`{"size": {"size": 4, "distance": "Cosine"}}`, VectorsConfig{"size": p4})
	read(`{}`, VectorsConfig{})
	read(`null`, nil)
	// The unnamed vector in the map form.
	read(`{"": {"size": 4, "distance": "Cosine"}}`, VectorsConfig{"": p4})
	// The bare form with a missing size still reads as the unnamed vector
	// (Config then rejects it).
	read(`{"distance": "Dot"}`, VectorsConfig{"": {Distance: distance.Dot}})

	bad := func(in, msg string) {
		t.Helper()
		var v VectorsConfig
		cfgRequireBad(t, json.Unmarshal([]byte(in), &v), msg)
	}
	bad(`{"a": null}`, "a: expected an object")
	bad(`{"a": 3}`, "a: expected an object")
	bad(`[1]`, "expected an object")
	bad(`{"size": 4, "distance": "Cosine", "colour": "red"}`, "colour: unknown field")
	bad(`{"a": {"size": 4, "distance": "Cosine", "hnsw_config": {"mm": 1}}}`, "a.hnsw_config.mm: unknown field")
	bad(`{"size": 4, "distance": "Hamming"}`, `distance: unknown distance "Hamming"`)
	bad(`{"size": -4, "distance": "Dot"}`, "size: invalid type: number -4, expected an unsigned 64-bit integer")
	bad(`{"size": "4", "distance": "Dot"}`, "size: invalid type: string, expected an unsigned 64-bit integer")
}

func TestConfigCreateCollectionDecode(t *testing.T) {
	var req CreateCollection
	require.NoError(t, json.Unmarshal([]byte(`{
		"vectors": {"v": {"size": 2, "distance": "Euclid", "quantization": {"product": {"compression": "x4"}}}},
		"shard_number": 1,
		"hnsw_config": {"full_scan_threshold_kb": 20},
		"optimizer_config": {"indexing_threshold_kb": 5, "max_segment_size_kb": 7, "memmap_threshold_kb": 9,
			"max_optimization_threads": "auto"},
		"wal_config": null,
		"quantization": {"scalar": {"type": "int8"}},
		"init_from": null,
		"metadata": {"k": "v"}
	}`), &req))
	require.Equal(t, CreateCollection{
		Vectors: VectorsConfig{"v": {Size: 2, Distance: distance.Euclid,
			Quantization: json.RawMessage(`{"product":{"compression":"x4"}}`)}},
		ShardNumber: new(uint32(1)),
		HNSW:        &HnswConfigDiff{FullScanThreshold: new(20)},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: new(5), MaxSegmentSize: new(7),
			MemmapThreshold: new(9), MaxOptimizationThreads: new(-1)},
		Quantization: json.RawMessage(`{"scalar":{"type":"int8"}}`),
		Metadata:     map[string]json.RawMessage{"k": json.RawMessage(`"v"`)},
	}, req)

	cfg, err := req.Config()
	require.NoError(t, err)
	require.Equal(t, 20, cfg.HNSW.FullScanThreshold)
	require.Equal(t, 5, cfg.IndexingThresholdKB())
	require.Equal(t, 7, cfg.MaxSegmentSizeKB())
	require.Nil(t, cfg.Optimizers.MaxOptimizationThreads) // "auto"

	bad := func(body, msg string) {
		t.Helper()
		var req CreateCollection
		cfgRequireBad(t, json.Unmarshal([]byte(body), &req), msg)
	}
	bad(`{"vector": {"size": 4, "distance": "Dot"}}`, "bad request: vector: unknown field")
	bad(`{"Vectors": {"size": 4, "distance": "Dot"}}`, "Vectors: unknown field")
	bad(`{"hnsw_config": {"m": 16, "ef": 10}}`, "hnsw_config.ef: unknown field")
	bad(`{"optimizers_config": {"flush_interval": 1}}`, "optimizers_config.flush_interval: unknown field")
	bad(`{"optimizer_config": {"flush_interval": 1}}`, "optimizer_config.flush_interval: unknown field")
	bad(`{"wal_config": {"capacity": 1}}`, "wal_config.capacity: unknown field")
	bad(`{"optimizers_config": {}, "optimizer_config": {}}`, "duplicate field")
	bad(`{"hnsw_config": {"full_scan_threshold": 10, "full_scan_threshold_kb": 10}}`, "hnsw_config.full_scan_threshold_kb: duplicate field")
	bad(`{"shard_number": -1}`, "shard_number: invalid type: number -1, expected an unsigned 32-bit integer")
	bad(`{"shard_number": 1.5}`, "shard_number: invalid type: number 1.5")
	bad(`{"on_disk_payload": "yes"}`, "on_disk_payload: invalid type: string, expected a boolean")
	bad(`{"hnsw_config": 16}`, "hnsw_config: expected an object")
	bad(`{"optimizers_config": {"max_optimization_threads": "many"}}`, `optimizers_config.max_optimization_threads: must be "auto" or a non-negative integer`)
	bad(`{"optimizers_config": {"max_optimization_threads": -1}}`, `must be "auto" or a non-negative integer`)
	bad(`{"metadata": [1]}`, "metadata: expected an object")
	bad(`[]`, "expected an object")
	bad(`null`, "expected an object")
}

// TestConfigCreateValidation has one case per validation rule; each error wraps
// ErrBadRequest and names the field.
func TestConfigCreateValidation(t *testing.T) {
	bad := func(body, msg string) {
		t.Helper()
		_, err := cfgDecodeCreate(t, body)
		cfgRequireBad(t, err, msg)
	}
	vec := func(members string) string { return `{"vectors": {` + members + `}}` }

	bad(vec(`"size": 0, "distance": "Dot"`), "vectors.size: must be at least 1")
	bad(vec(`"distance": "Dot"`), "vectors.size: must be at least 1")
	bad(vec(`"size": 65537, "distance": "Dot"`), "vectors.size: value 65537 invalid, must be from 1 to 65536")
	bad(vec(`"a": {"size": 0, "distance": "Dot"}`), "vectors.a.size: must be at least 1")
	bad(vec(`"size": 4`), "vectors.distance: required")
	bad(vec(`"size": 4, "distance": "Jaccard"`), `vectors.distance: unknown distance "Jaccard"`)
	bad(vec(`"size": 4, "distance": "Dot", "datatype": "float64"`), `vectors.datatype: unknown datatype "float64"`)
	bad(vec(`"size": 4, "distance": "Dot", "hnsw_config": {"ef_construct": 3}`), "vectors.hnsw_config.ef_construct: value 3 invalid, must be 4 or larger")
	bad(vec(`"a": {"size": 4, "distance": "Dot", "hnsw_config": {"m": -1}}`), "vectors.a.hnsw_config.m: must be at least 0")
	bad(vec(`"size": 4, "distance": "Dot", "quantization_config": {"fancy": {}}`), "vectors.quantization_config: must be")
	bad(vec(`"size": 4, "distance": "Dot", "quantization_config": "Disabled"`), "vectors.quantization_config: must be")
	bad(vec(`"size": 4, "distance": "Dot", "multivector_config": "max_sim"`), "vectors.multivector_config: expected an object")

	bad(`{"hnsw_config": {"m": -1}}`, "hnsw_config.m: must be at least 0")
	bad(`{"hnsw_config": {"ef_construct": 3}}`, "hnsw_config.ef_construct: value 3 invalid, must be 4 or larger")
	bad(`{"hnsw_config": {"full_scan_threshold": 9}}`, "hnsw_config.full_scan_threshold: value 9 invalid, must be 10 or larger")
	bad(`{"hnsw_config": {"max_indexing_threads": -2}}`, "hnsw_config.max_indexing_threads: must be at least 0")
	bad(`{"hnsw_config": {"payload_m": -1}}`, "hnsw_config.payload_m: must be at least 0")

	bad(`{"optimizers_config": {"deleted_threshold": 1.01}}`, "optimizers_config.deleted_threshold: value 1.01 invalid, must be from 0.0 to 1.0")
	bad(`{"optimizers_config": {"deleted_threshold": -0.1}}`, "optimizers_config.deleted_threshold: value -0.1 invalid, must be from 0.0 to 1.0")
	bad(`{"optimizers_config": {"vacuum_min_vector_number": 99}}`, "optimizers_config.vacuum_min_vector_number: value 99 invalid, must be 100 or larger")
	bad(`{"optimizers_config": {"default_segment_number": -1}}`, "optimizers_config.default_segment_number: must be at least 0")
	bad(`{"optimizers_config": {"max_segment_size": 0}}`, "optimizers_config.max_segment_size: value 0 invalid, must be 1 or larger")
	bad(`{"optimizers_config": {"memmap_threshold": -1}}`, "optimizers_config.memmap_threshold: must be at least 0")
	bad(`{"optimizers_config": {"indexing_threshold": -1}}`, "optimizers_config.indexing_threshold: must be at least 0")
	bad(`{"optimizers_config": {"flush_interval_sec": -1}}`, "optimizers_config.flush_interval_sec: must be at least 0")

	bad(`{"wal_config": {"wal_capacity_mb": 0}}`, "wal_config.wal_capacity_mb: value 0 invalid, must be 1 or larger")
	bad(`{"wal_config": {"wal_segments_ahead": -1}}`, "wal_config.wal_segments_ahead: must be at least 0")
	bad(`{"wal_config": {"wal_retain_closed": 0}}`, "wal_config.wal_retain_closed: value 0 invalid, must be 1 or larger")

	bad(`{"shard_number": 0}`, "shard_number: value 0 invalid, must be 1 or larger")
	bad(`{"sharding_method": "random"}`, `sharding_method: unknown sharding method "random"`)
	bad(`{"replication_factor": 0}`, "replication_factor: value 0 invalid, must be 1 or larger")
	bad(`{"write_consistency_factor": 0}`, "write_consistency_factor: value 0 invalid, must be 1 or larger")

	bad(`{"quantization_config": {"scalar": {}, "binary": {}}}`, "quantization_config: must be")
	bad(`{"quantization_config": {"scalar": 8}}`, "quantization_config.scalar: expected an object")
	bad(`{"quantization_config": "Disabled"}`, "quantization_config: must be")
	bad(`{"sparse_vectors": [1]}`, "sparse_vectors: expected an object")
	bad(`{"sparse_vectors": {"s": 1}}`, "sparse_vectors.s: expected an object")
	bad(`{"sparse_vectors": {"s": null}}`, "sparse_vectors.s: expected an object")
	bad(`{"sparse_vectors": {"s": {"index": 1}}}`, "sparse_vectors.s.index: expected an object")
	bad(`{"sparse_vectors": {"s": {"modifier": 1}}}`, "sparse_vectors.s.modifier: invalid type: number, expected a string")
	bad(`{"sparse_vectors": {"s": {"modifier": "bogus"}}}`, "sparse_vectors.s.modifier: unknown variant `bogus`, expected `none` or `idf`")
	bad(`{"sparse_vectors": {"s": {"index": {"datatype": "int8"}}}}`, "sparse_vectors.s.index.datatype: unknown variant")
	bad(`{"sparse_vectors": {"s": {"index": {"full_scan_threshold": -1}}}}`, "sparse_vectors.s.index.full_scan_threshold")
	bad(`{"vectors": {"s": {"size": 2, "distance": "Dot"}}, "sparse_vectors": {"s": {}}}`, "Dense and sparse vector names must be unique - duplicate found with 's'")
	bad(`{"strict_mode_config": true}`, "strict_mode_config: expected an object")
	bad(`{"init_from": {"collection": "other"}}`, "init_from: creating a collection from another one is not supported")

	// Go callers can build what JSON cannot express.
	goBad := func(req CreateCollection, msg string) {
		t.Helper()
		_, err := req.Config()
		cfgRequireBad(t, err, msg)
	}
	p := VectorParams{Size: 4, Distance: distance.Dot}
	// The unnamed vector may sit beside named ones, as in Qdrant.
	mixed, err := (&CreateCollection{Vectors: VectorsConfig{"": p, "a": p}}).Config()
	require.NoError(t, err)
	require.Equal(t, VectorsConfig{"": p, "a": p}, mixed.Params.Vectors)
	goBad(CreateCollection{Vectors: VectorsConfig{"a": {Size: 4, Distance: distance.Metric(7)}}}, "vectors.a.distance: unknown distance")
	goBad(CreateCollection{Metadata: map[string]json.RawMessage{"k": json.RawMessage(`{`)}}, "metadata.k: invalid JSON")
	goBad(CreateCollection{Optimizers: &OptimizersConfigDiff{DeletedThreshold: new(1.5)}}, "optimizers_config.deleted_threshold")

	// Accepted and stored: the engine decides what it supports.
	cfg := cfgMustCreate(t, `{
		"vectors": {"a": {"size": 65536, "distance": "Dot", "datatype": "uint8", "hnsw_config": {"m": 0}},
			"b": {"size": 1, "distance": "Manhattan", "multivector_config": {"comparator": "max_sim"}}},
		"shard_number": 4,
		"hnsw_config": {"m": 0, "ef_construct": 4, "full_scan_threshold": 10},
		"optimizers_config": {"deleted_threshold": 0, "vacuum_min_vector_number": 100, "indexing_threshold": 0},
		"sparse_vectors": {"s": {}},
		"quantization_config": {"product": {"compression": "x16"}}
	}`)
	require.Equal(t, uint32(4), cfg.Params.ShardNumber)
	require.Equal(t, 0, cfg.HNSW.M)
	require.Equal(t, 0, cfg.VectorHNSW("a").M)
	require.Equal(t, "uint8", cfg.Params.Vectors["a"].Datatype)
	require.Equal(t, `{"comparator":"max_sim"}`, string(cfg.Params.Vectors["b"].Multivector))
	require.Equal(t, map[string]SparseVectorParams{"s": {}}, cfg.Params.SparseVectors)
	require.Equal(t, `{"product":{"compression":"x16"}}`, string(cfg.Quantization))
	require.Equal(t, 0, cfg.IndexingThresholdKB())
}

func TestConfigCreateNormalizes(t *testing.T) {
	cfg := cfgMustCreate(t, `{
		"vectors": {"a": {"size": 2, "distance": "dot", "hnsw_config": {}, "quantization_config": null}},
		"strict_mode_config": { "enabled" : true },
		"metadata": {"x": { "y" : [ 1, 2 ] }}
	}`)
	// An empty per-vector diff is not stored (Qdrant omits it too).
	require.Equal(t, VectorParams{Size: 2, Distance: distance.Dot}, cfg.Params.Vectors["a"])
	require.Equal(t, `{"enabled":true}`, string(cfg.StrictMode))
	require.Equal(t, `{"y":[1,2]}`, string(cfg.Metadata["x"]))

	// The request is not aliased by the config.
	req := CreateCollection{
		Vectors: VectorsConfig{"": {Size: 2, Distance: distance.Dot, HNSW: &HnswConfigDiff{M: new(8)}}},
		HNSW:    &HnswConfigDiff{PayloadM: new(4)},
	}
	cfg, err := req.Config()
	require.NoError(t, err)
	*req.Vectors[""].HNSW.M = 9
	*req.HNSW.PayloadM = 5
	require.Equal(t, 8, *cfg.Params.Vectors[""].HNSW.M)
	require.Equal(t, 4, *cfg.HNSW.PayloadM)
}

func TestConfigUpdateCollectionDecode(t *testing.T) {
	var u UpdateCollection
	require.NoError(t, json.Unmarshal([]byte(`{
		"vectors": {"": {"hnsw_config": {"m": 8}, "quantization": "Disabled", "on_disk": true}},
		"optimizer_config": {"indexing_threshold": 0},
		"params": {"replication_factor": 2, "read_fan_out_factor": 1, "read_fan_out_delay_ms": 30},
		"hnsw_config": {"ef_construct": 50},
		"quantization_config": "Disabled",
		"sparse_vectors": {"s": {"modifier": "idf"}},
		"strict_mode_config": {"enabled": false},
		"metadata": {}
	}`), &u))
	require.Equal(t, UpdateCollection{
		Vectors: map[string]VectorParamsDiff{"": {HNSW: &HnswConfigDiff{M: new(8)},
			Quantization: json.RawMessage(`"Disabled"`), OnDisk: new(true)}},
		Optimizers:    &OptimizersConfigDiff{IndexingThreshold: new(0)},
		Params:        &CollectionParamsDiff{ReplicationFactor: new(uint32(2)), ReadFanOutFactor: new(uint32(1)), ReadFanOutDelayMs: new(uint64(30))},
		HNSW:          &HnswConfigDiff{EfConstruct: new(50)},
		Quantization:  json.RawMessage(`"Disabled"`),
		SparseVectors: map[string]SparseVectorParams{"s": {Modifier: "idf"}},
		StrictMode:    json.RawMessage(`{"enabled":false}`),
		Metadata:      map[string]json.RawMessage{},
	}, u)

	bad := func(body, msg string) {
		t.Helper()
		var u UpdateCollection
		cfgRequireBad(t, json.Unmarshal([]byte(body), &u), msg)
	}
	bad(`{"wal_config": {}}`, "wal_config: unknown field")
	bad(`{"params": {"shard_number": 2}}`, "params.shard_number: unknown field")
	bad(`{"vectors": {"a": {"size": 4}}}`, "vectors.a.size: unknown field")
	bad(`{"vectors": {"": {"hnsw_config": {"x": 1}}}}`, "vectors.hnsw_config.x: unknown field")
	bad(`{"vectors": {"a": null}}`, "vectors.a: expected an object")
	bad(`{"params": {"replication_factor": -1}}`, "params.replication_factor: invalid type")
}

// TestConfigDiffDecode decodes the nested request types on their own: they are as
// strict as inside a request, with paths relative to themselves.
func TestConfigDiffDecode(t *testing.T) {
	f := func(v any, in string, want any) {
		t.Helper()
		require.NoError(t, json.Unmarshal([]byte(in), v))
		require.Equal(t, want, v)
	}
	f(new(HnswConfigDiff), `{"m": 0, "on_disk": null}`, &HnswConfigDiff{M: new(0)})
	f(new(WalConfigDiff), `{"wal_retain_closed": 3}`, &WalConfigDiff{WalRetainClosed: new(3)})
	f(new(CollectionParamsDiff), `{"on_disk_payload": true}`, &CollectionParamsDiff{OnDiskPayload: new(true)})
	f(new(VectorParamsDiff), `{"on_disk": false}`, &VectorParamsDiff{OnDisk: new(false)})
	f(new(VectorParams), `{"size": 3, "distance": "Manhattan", "datatype": null}`, &VectorParams{Size: 3, Distance: distance.Manhattan})
	f(new(OptimizersConfigDiff), `{"flush_interval_sec": 1}`, &OptimizersConfigDiff{FlushIntervalSec: new(1)})

	bad := func(v any, in, msg string) {
		t.Helper()
		cfgRequireBad(t, json.Unmarshal([]byte(in), v), msg)
	}
	bad(new(HnswConfigDiff), `{"M": 16}`, "bad request: M: unknown field")
	bad(new(WalConfigDiff), `{"wal_capacity": 1}`, "wal_capacity: unknown field")
	bad(new(CollectionParamsDiff), `{"shard_number": 1}`, "shard_number: unknown field")
	bad(new(VectorParamsDiff), `{"size": 1}`, "size: unknown field")
	bad(new(VectorParams), `{"size": 1, "distance": "Dot", "name": "x"}`, "name: unknown field")
	bad(new(OptimizersConfigDiff), `{"deleted_threshold": "0.2"}`, "deleted_threshold: invalid type: string, expected a number")
}

// TestConfigStoredConfigDecode checks that a stored config is read leniently at
// the top level (it is the engine's own record, not a request body).
func TestConfigStoredConfigDecode(t *testing.T) {
	var cfg CollectionConfig
	require.NoError(t, json.Unmarshal([]byte(`{"params": {"vectors": {}}, "uuid": "x", "quantization_config": null, "strict_mode_config": null}`), &cfg))
	require.Equal(t, VectorsConfig{}, cfg.Params.Vectors)
	require.Nil(t, cfg.Quantization)
	require.Nil(t, cfg.StrictMode)
}

func TestConfigOptimizersConfigDiffJSON(t *testing.T) {
	f := func(d OptimizersConfigDiff, want string) {
		t.Helper()
		b, err := json.Marshal(d)
		require.NoError(t, err)
		require.JSONEq(t, want, string(b))
		var back OptimizersConfigDiff
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, d, back)
	}
	f(OptimizersConfigDiff{}, `{}`)
	f(OptimizersConfigDiff{MaxOptimizationThreads: new(-1)}, `{"max_optimization_threads": "auto"}`)
	f(OptimizersConfigDiff{MaxOptimizationThreads: new(0), DeletedThreshold: new(0.5)},
		`{"max_optimization_threads": 0, "deleted_threshold": 0.5}`)
}

func TestConfigApply(t *testing.T) {
	base := cfgMustCreate(t, `{
		"vectors": {
			"a": {"size": 4, "distance": "Cosine", "hnsw_config": {"m": 32, "ef_construct": 64},
				"quantization_config": {"scalar": {"type": "int8"}}},
			"b": {"size": 8, "distance": "Dot"}
		},
		"optimizers_config": {"max_optimization_threads": 2},
		"quantization_config": {"binary": {}},
		"sparse_vectors": {"s": {"index": {"on_disk": true, "full_scan_threshold": 100}}, "t": {}},
		"strict_mode_config": {"enabled": true, "max_timeout": 5},
		"metadata": {"owner": "a", "env": "test"}
	}`)
	before, err := json.Marshal(base)
	require.NoError(t, err)
	defer func() {
		t.Helper()
		after, err := json.Marshal(base)
		require.NoError(t, err)
		require.Equal(t, string(before), string(after), "Apply modified its receiver")
	}()

	t.Run("vector hnsw", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"vectors": {"a": {"hnsw_config": {"m": 8, "payload_m": 4}}, "b": {"hnsw_config": {"ef_construct": 10}}}}`)
		require.Equal(t, &HnswConfigDiff{M: new(8), EfConstruct: new(64), PayloadM: new(4)}, cfg.Params.Vectors["a"].HNSW)
		require.Equal(t, &HnswConfigDiff{EfConstruct: new(10)}, cfg.Params.Vectors["b"].HNSW)
		// An empty diff changes nothing.
		cfg = cfgMustApply(t, base, `{"vectors": {"a": {"hnsw_config": {}}, "b": {"hnsw_config": {}}}}`)
		require.Equal(t, base.Params.Vectors, cfg.Params.Vectors)
	})
	t.Run("vector quantization and on_disk", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"vectors": {"a": {"quantization_config": "Disabled"}, "b": {"quantization_config": {"product": {"compression": "x8"}}, "on_disk": true}}}`)
		require.Nil(t, cfg.Params.Vectors["a"].Quantization)
		require.Equal(t, `{"product":{"compression":"x8"}}`, string(cfg.Params.Vectors["b"].Quantization))
		require.Equal(t, new(true), cfg.Params.Vectors["b"].OnDisk)
		require.Nil(t, cfg.Params.Vectors["a"].OnDisk)
	})
	t.Run("optimizers", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"optimizers_config": {"indexing_threshold": 0, "max_segment_size": 100, "deleted_threshold": 0.3, "prevent_unoptimized": true}}`)
		o := cfg.Optimizers
		require.Equal(t, new(0), o.IndexingThreshold)
		require.Equal(t, 0, cfg.IndexingThresholdKB())
		require.Equal(t, 100, cfg.MaxSegmentSizeKB())
		require.Equal(t, 0.3, o.DeletedThreshold)
		require.Equal(t, new(true), o.PreventUnoptimized)
		require.Equal(t, new(2), o.MaxOptimizationThreads)
		require.Equal(t, 1000, o.VacuumMinVectorNumber)

		cfg = cfgMustApply(t, base, `{"optimizers_config": {"max_optimization_threads": "auto"}}`)
		require.Nil(t, cfg.Optimizers.MaxOptimizationThreads)
		cfg = cfgMustApply(t, base, `{"optimizers_config": {"max_optimization_threads": 0}}`)
		require.Equal(t, new(0), cfg.Optimizers.MaxOptimizationThreads)
	})
	t.Run("params", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"params": {"replication_factor": 3, "write_consistency_factor": 2, "read_fan_out_factor": 0, "read_fan_out_delay_ms": 10, "on_disk_payload": false}}`)
		p := cfg.Params
		require.Equal(t, uint32(3), p.ReplicationFactor)
		require.Equal(t, uint32(2), p.WriteConsistencyFactor)
		require.Equal(t, new(uint32(0)), p.ReadFanOutFactor)
		require.Equal(t, new(uint64(10)), p.ReadFanOutDelayMs)
		require.False(t, p.OnDiskPayload)
		require.Equal(t, uint32(1), p.ShardNumber)
	})
	t.Run("hnsw", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"hnsw_config": {"m": 24, "on_disk": true, "inline_storage": true}}`)
		require.Equal(t, HnswConfig{M: 24, EfConstruct: 100, FullScanThreshold: 10000, OnDisk: new(true), InlineStorage: new(true)}, cfg.HNSW)
	})
	t.Run("quantization", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"quantization_config": {"scalar": {"type": "int8"}}}`)
		require.Equal(t, `{"scalar":{"type":"int8"}}`, string(cfg.Quantization))
		cfg = cfgMustApply(t, base, `{"quantization_config": "Disabled"}`)
		require.Nil(t, cfg.Quantization)
		cfg = cfgMustApply(t, base, `{"quantization_config": null}`)
		require.Equal(t, base.Quantization, cfg.Quantization)
	})
	t.Run("sparse vectors", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"sparse_vectors": {"s": {"modifier": "idf", "index": {"on_disk": false, "datatype": "float16", "full_scan_threshold": null}}, "t": {"index": {"on_disk": true}}}}`)
		js, err := json.Marshal(cfg.Params.SparseVectors)
		require.NoError(t, err)
		require.JSONEq(t, `{
			"s": {"index": {"on_disk": false, "full_scan_threshold": 100, "datatype": "float16"}, "modifier": "idf"},
			"t": {"index": {"on_disk": true}}
		}`, string(js))
	})
	t.Run("strict mode", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"strict_mode_config": {"enabled": false, "max_query_limit": 100, "max_timeout": null}}`)
		require.JSONEq(t, `{"enabled": false, "max_query_limit": 100, "max_timeout": 5}`, string(cfg.StrictMode))
		plain := cfgMustCreate(t, `{}`)
		cfg = cfgMustApply(t, plain, `{"strict_mode_config": {"enabled": true}}`)
		require.JSONEq(t, `{"enabled": true}`, string(cfg.StrictMode))
	})
	t.Run("metadata", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{"metadata": {"env": "prod", "n": 2}}`)
		require.Equal(t, map[string]json.RawMessage{"owner": json.RawMessage(`"a"`), "env": json.RawMessage(`"prod"`), "n": json.RawMessage(`2`)}, cfg.Metadata)
		// An empty object merges nothing (as Qdrant v1.17 does).
		cfg = cfgMustApply(t, base, `{"metadata": {}}`)
		require.Equal(t, base.Metadata, cfg.Metadata)
		plain := cfgMustCreate(t, `{}`)
		cfg = cfgMustApply(t, plain, `{"metadata": {"k": null}}`)
		require.Equal(t, map[string]json.RawMessage{"k": json.RawMessage(`null`)}, cfg.Metadata)
	})
	t.Run("nothing", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{}`)
		require.Equal(t, base, cfg)
		cfg, err := base.Apply(nil)
		require.NoError(t, err)
		require.Equal(t, base, cfg)
	})
	t.Run("no aliasing", func(t *testing.T) {
		cfg := cfgMustApply(t, base, `{}`)
		*cfg.Params.Vectors["a"].HNSW.M = 1
		*cfg.HNSW.OnDisk = true
		*cfg.Optimizers.IndexingThreshold = 1
		cfg.Metadata["owner"][1] = 'z'
		cfg.Quantization[2] = 'X'
		require.Equal(t, 32, *base.Params.Vectors["a"].HNSW.M)
		require.False(t, *base.HNSW.OnDisk)
		require.Equal(t, 10000, *base.Optimizers.IndexingThreshold)
	})
	t.Run("errors", func(t *testing.T) {
		bad := func(body, msg string) {
			t.Helper()
			var u UpdateCollection
			require.NoError(t, json.Unmarshal([]byte(body), &u))
			_, err := base.Apply(&u)
			cfgRequireBad(t, err, msg)
		}
		bad(`{"vectors": {"c": {"on_disk": true}}}`, `Not existing vector name error: c`)
		bad(`{"vectors": {"": {"on_disk": true}}}`, "vectors: the collection has no unnamed vector")
		bad(`{"vectors": {"a": {"hnsw_config": {"ef_construct": 2}}}}`, "vectors.?.hnsw_config.ef_construct: value 2 invalid, must be 4 or larger")
		bad(`{"vectors": {"a": {"quantization_config": "Enabled"}}}`, `vectors.?.quantization_config: must be`)
		bad(`{"optimizers_config": {"vacuum_min_vector_number": 10}}`, "optimizers_config.vacuum_min_vector_number: value 10 invalid, must be 100 or larger")
		bad(`{"params": {"replication_factor": 0}}`, "params.replication_factor: value 0 invalid, must be 1 or larger")
		bad(`{"params": {"write_consistency_factor": 0}}`, "params.write_consistency_factor: value 0 invalid, must be 1 or larger")
		bad(`{"hnsw_config": {"full_scan_threshold": 1}}`, "hnsw_config.full_scan_threshold: value 1 invalid, must be 10 or larger")
		bad(`{"quantization_config": {"scalar": {}, "product": {}}}`, "quantization_config: must be")
		bad(`{"sparse_vectors": {"s": {"modifier": "idf"}, "u": {"modifier": "idf"}}}`, `Not existing vector name error: u`)
		bad(`{"strict_mode_config": [true]}`, "strict_mode_config: expected an object")

		// Sparse vectors cannot be updated in a collection without them.
		var u UpdateCollection
		require.NoError(t, json.Unmarshal([]byte(`{"sparse_vectors": {"s": {"modifier": "idf"}}}`), &u))
		_, err := cfgMustCreate(t, `{}`).Apply(&u)
		cfgRequireBad(t, err, `Not existing vector name error: s`)
	})
}

func TestConfigApplyUnnamedVector(t *testing.T) {
	cfg := cfgMustCreate(t, `{"vectors": {"size": 4, "distance": "Dot"}}`)
	cfg = cfgMustApply(t, cfg, `{"vectors": {"": {"hnsw_config": {"m": 4}, "on_disk": false}}}`)
	require.Equal(t, VectorParams{Size: 4, Distance: distance.Dot, HNSW: &HnswConfigDiff{M: new(4)}, OnDisk: new(false)}, cfg.Params.Vectors[""])
	b, err := json.Marshal(cfg.Params.Vectors)
	require.NoError(t, err)
	require.Equal(t, `{"size":4,"distance":"Dot","hnsw_config":{"m":4},"on_disk":false}`, string(b))
}

func TestConfigVectorHNSW(t *testing.T) {
	cfg := cfgMustCreate(t, `{
		"vectors": {
			"plain": {"size": 4, "distance": "Dot"},
			"tuned": {"size": 4, "distance": "Dot", "hnsw_config": {"m": 48, "on_disk": true, "payload_m": 0}}
		},
		"hnsw_config": {"m": 12, "ef_construct": 200, "payload_m": 6}
	}`)
	collection := HnswConfig{M: 12, EfConstruct: 200, FullScanThreshold: 10000, OnDisk: new(false), PayloadM: new(6)}
	require.Equal(t, collection, cfg.HNSW)
	require.Equal(t, collection, cfg.VectorHNSW("plain"))
	require.Equal(t, collection, cfg.VectorHNSW("missing"))
	require.Equal(t, HnswConfig{M: 48, EfConstruct: 200, FullScanThreshold: 10000, OnDisk: new(true), PayloadM: new(0)}, cfg.VectorHNSW("tuned"))

	// A later collection-level change shows through where the vector does
	// not override it.
	cfg = cfgMustApply(t, cfg, `{"hnsw_config": {"m": 20, "ef_construct": 300}}`)
	require.Equal(t, 20, cfg.VectorHNSW("plain").M)
	require.Equal(t, 48, cfg.VectorHNSW("tuned").M)
	require.Equal(t, 300, cfg.VectorHNSW("tuned").EfConstruct)

	// The result does not alias the config.
	h := cfg.VectorHNSW("tuned")
	*h.OnDisk = false
	*h.PayloadM = 9
	require.True(t, *cfg.VectorHNSW("tuned").OnDisk)
	require.Equal(t, 6, *cfg.HNSW.PayloadM)
}

func TestConfigThresholds(t *testing.T) {
	f := func(opt string, indexing, maxSegment int) {
		t.Helper()
		cfg := cfgMustCreate(t, `{"optimizers_config": `+opt+`}`)
		require.Equal(t, indexing, cfg.IndexingThresholdKB())
		require.Equal(t, maxSegment, cfg.MaxSegmentSizeKB())
	}
	f(`{}`, 10000, 256000)
	f(`{"indexing_threshold": 0}`, 0, 256000)
	f(`{"indexing_threshold": 20000, "max_segment_size": 5}`, 20000, 5)

	// A null indexing threshold (possible in a stored config) means the
	// default.
	var cfg CollectionConfig
	require.NoError(t, json.Unmarshal([]byte(`{"optimizer_config": {"indexing_threshold": null}}`), &cfg))
	require.Equal(t, 10000, cfg.IndexingThresholdKB())
}

func TestConfigValidateCollectionName(t *testing.T) {
	ok := func(name string) {
		t.Helper()
		require.NoError(t, ValidateCollectionName(name))
	}
	ok("test_collection")
	ok("a")
	ok("with space-and.dots")
	ok("日本語")
	ok(strings.Repeat("x", 255))
	ok("tab\there") // only 0x00 and 0x1F among control characters

	bad := func(name, msg string) {
		t.Helper()
		cfgRequireBad(t, ValidateCollectionName(name), "collection_name: "+msg)
	}
	bad("", "must not be empty")
	bad(strings.Repeat("x", 256), "must be at most 255 bytes")
	bad(strings.Repeat("é", 128), "must be at most 255 bytes")
	for _, c := range []string{"<", ">", ":", `"`, "/", `\`, "|", "?", "*", "\x00", "\x1f"} {
		bad("a"+c+"b", "collection name cannot contain")
	}
	bad("no/path", `collection name cannot contain "/" char`)
	bad("nul\x00", `collection name cannot contain "\x00" char`)
}

// TestConfigMetadataNulls: metadata is taken as given on create (nulls and
// {} kept) and on the first update of a collection without metadata; later
// updates merge key by key and a null deletes its key, as in Qdrant.
func TestConfigMetadataNulls(t *testing.T) {
	meta := func(cfg CollectionConfig) string {
		t.Helper()
		b, err := json.Marshal(cfg)
		require.NoError(t, err)
		var m struct {
			Metadata json.RawMessage `json:"metadata"`
		}
		require.NoError(t, json.Unmarshal(b, &m))
		return string(m.Metadata)
	}
	cfg := cfgMustCreate(t, `{"vectors": {"size": 2, "distance": "Dot"}, "metadata": {"a": 1, "z": null}}`)
	require.JSONEq(t, `{"a": 1, "z": null}`, meta(cfg))
	cfg = cfgMustApply(t, cfg, `{"metadata": {"z": null, "missing": null, "b": true}}`)
	require.JSONEq(t, `{"a": 1, "b": true}`, meta(cfg))
	cfg = cfgMustApply(t, cfg, `{"metadata": {"a": null, "b": null}}`)
	require.Equal(t, `{}`, meta(cfg))
	cfg = cfgMustApply(t, cfg, `{"metadata": null}`)
	require.Equal(t, `{}`, meta(cfg))

	cfg = cfgMustCreate(t, `{"vectors": {"size": 2, "distance": "Dot"}}`)
	require.Equal(t, ``, meta(cfg), "no metadata is not shown")
	cfg = cfgMustApply(t, cfg, `{"metadata": {"x": null}}`)
	require.JSONEq(t, `{"x": null}`, meta(cfg))
	cfg = cfgMustCreate(t, `{"vectors": {"size": 2, "distance": "Dot"}, "metadata": {}}`)
	require.Equal(t, `{}`, meta(cfg))
}
