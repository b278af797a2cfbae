package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/segment"
)

// This file holds a collection's configuration in Qdrant's REST shapes: the
// create request (CreateCollection), the update request (UpdateCollection) and
// the stored, fully defaulted configuration (CollectionConfig), which is what
// GET /collections/{name} reports as "config".
//
// Request bodies are decoded strictly, member names matching exactly: an
// unknown or misspelt field, or a value of the wrong JSON type, is an error that
// wraps ErrBadRequest and names the field path. Qdrant's field aliases
// (optimizer_config, quantization, the *_kb spellings) are accepted. Values are checked when the request
// is turned into a configuration (CreateCollection.Config, CollectionConfig.Apply).
// Settings qlite does not act on (shards, replicas, quantization, sparse and
// multi vectors, other datatypes, strict mode) are validated for shape,
// stored and echoed; the engine decides what it supports.

// ErrBadRequest is wrapped by every error about invalid input in this file: a
// malformed request body, a value out of range, an invalid collection name. The
// message names the field path, for example
// "qlite: bad request: vectors.size: must be at least 1".
var ErrBadRequest = errors.New("qlite: bad request")

// Defaults and limits. The defaults are Qdrant v1.17's (config/config.yaml and
// the openapi schema); cfgDefaultMaxSegmentSizeKB is qlite's own.
const (
	cfgDefaultM                      = 16
	cfgDefaultEfConstruct            = 100
	cfgDefaultFullScanThresholdKB    = 10000
	cfgDefaultDeletedThreshold       = 0.2
	cfgDefaultVacuumMinVectorNumber  = 1000
	cfgDefaultIndexingThresholdKB    = 10000
	cfgDefaultFlushIntervalSec       = 5
	cfgDefaultWalCapacityMB          = 32
	cfgDefaultWalRetainClosed        = 1
	cfgDefaultShardNumber            = 1
	cfgDefaultReplicationFactor      = 1
	cfgDefaultWriteConsistencyFactor = 1

	// cfgDefaultMaxSegmentSizeKB is the segment size limit when
	// optimizer_config.max_segment_size is null. Qdrant derives it from the
	// CPU count (256000 KB per indexing thread); qlite uses the value for one
	// thread, so that the same data gives the same segments on every machine.
	cfgDefaultMaxSegmentSizeKB = 256000

	cfgMinEfConstruct           = 4
	cfgMinFullScanThresholdKB   = 10
	cfgMinVacuumMinVectorNumber = 100
	cfgMaxVectorSize            = 65536
	// cfgMinM and cfgMaxM bound the graph's link count: hnsw needs two links
	// a node and stores at most 1024 (Qdrant accepts any m). m = 0, below
	// the range, disables the graph, as in Qdrant.
	cfgMinM = 2
	cfgMaxM = 1024
	// cfgMaxEfConstruct is hnsw's largest candidate list (Qdrant has no
	// limit).
	cfgMaxEfConstruct       = 1 << 16
	cfgMaxCollectionNameLen = 255
)

// HnswConfig is the HNSW index configuration of a collection (Qdrant's
// HnswConfig), with every default filled in.
type HnswConfig struct {
	// M is the number of edges per node in the graph. Default 16. 0
	// disables the graph, as in Qdrant: the vector is always scanned.
	M int `json:"m"`
	// EfConstruct is the candidate list size while building the graph.
	// Default 100; at least 4.
	EfConstruct int `json:"ef_construct"`
	// FullScanThreshold is the size, in KB of vectors, below which a filtered
	// search scans the candidates instead of walking the graph. Default 10000.
	FullScanThreshold int `json:"full_scan_threshold"`
	// MaxIndexingThreads bounds the threads building an index; 0, the
	// default, means automatic.
	MaxIndexingThreads int `json:"max_indexing_threads"`
	// OnDisk keeps the graph on disk rather than in memory. Default false,
	// which Qdrant reports explicitly.
	OnDisk *bool `json:"on_disk,omitempty"`
	// PayloadM is M for the payload-aware links; nil (the default) means M.
	PayloadM *int `json:"payload_m,omitempty"`
	// InlineStorage stores vector copies in the graph file; nil (the
	// default) means off.
	InlineStorage *bool `json:"inline_storage,omitempty"`
}

// HnswConfigDiff is a partial HnswConfig: the fields that are set replace
// those of the configuration it is applied to. It appears in create and update
// requests, and per vector in VectorParams, where it overrides the
// collection's HnswConfig. Field meanings and limits are HnswConfig's, except
// that FullScanThreshold must be at least 10.
type HnswConfigDiff struct {
	M                  *int  `json:"m,omitempty"`
	EfConstruct        *int  `json:"ef_construct,omitempty"`
	FullScanThreshold  *int  `json:"full_scan_threshold,omitempty"`
	MaxIndexingThreads *int  `json:"max_indexing_threads,omitempty"`
	OnDisk             *bool `json:"on_disk,omitempty"`
	PayloadM           *int  `json:"payload_m,omitempty"`
	InlineStorage      *bool `json:"inline_storage,omitempty"`
}

// OptimizersConfig is the optimizer configuration of a collection (Qdrant's
// OptimizersConfig, reported as "optimizer_config"). Sizes are in KB of vector
// data (1 KB is one 256-dimension float32 vector). Nullable fields are
// pointers and are reported as null when unset.
type OptimizersConfig struct {
	// DeletedThreshold is the fraction of deleted vectors in a segment above
	// which the segment is vacuumed. Default 0.2; in [0, 1].
	DeletedThreshold float64 `json:"deleted_threshold"`
	// VacuumMinVectorNumber is the number of vectors a segment needs before
	// it is vacuumed. Default 1000; at least 100.
	VacuumMinVectorNumber int `json:"vacuum_min_vector_number"`
	// DefaultSegmentNumber is the target number of segments; 0, the
	// default, means automatic.
	DefaultSegmentNumber int `json:"default_segment_number"`
	// MaxSegmentSize limits a segment's size. Default null: see
	// CollectionConfig.MaxSegmentSizeKB. At least 1.
	MaxSegmentSize *int `json:"max_segment_size"`
	// MemmapThreshold is the size, in KB of vectors, from which a sealed
	// segment keeps its dense vectors in memory-mapped segment files, as
	// if on_disk were true, for every vector whose on_disk is not false:
	// judged on the segment's largest vector storage, at seal, merge and
	// vacuum, and again when the setting changes. Deprecated in Qdrant
	// since 1.15 and still applied. Default null; null and 0 disable it.
	MemmapThreshold *int `json:"memmap_threshold"`
	// IndexingThreshold is the segment size above which the segment gets a
	// vector index; 0 disables indexing. Default 10000. See
	// CollectionConfig.IndexingThresholdKB.
	IndexingThreshold *int `json:"indexing_threshold"`
	// FlushIntervalSec is the minimum interval between forced flushes.
	// Default 5.
	FlushIntervalSec int `json:"flush_interval_sec"`
	// MaxOptimizationThreads bounds the optimization jobs; null (the
	// default) means automatic, 0 turns the background optimizer off for
	// the collection (DB.Optimize still runs).
	MaxOptimizationThreads *int `json:"max_optimization_threads"`
	// PreventUnoptimized, when true, keeps the points the appendable segment
	// receives past the indexing threshold out of reads until they are
	// indexed, and makes waiting writes wait for that (see readLimit).
	// Default null (off).
	PreventUnoptimized *bool `json:"prevent_unoptimized"`
}

// OptimizersConfigDiff is a partial OptimizersConfig for create and update
// requests. A negative MaxOptimizationThreads stands for Qdrant's "auto",
// which resets the limit to null; in JSON it reads and writes as "auto".
type OptimizersConfigDiff struct {
	DeletedThreshold       *float64 `json:"deleted_threshold,omitempty"`
	VacuumMinVectorNumber  *int     `json:"vacuum_min_vector_number,omitempty"`
	DefaultSegmentNumber   *int     `json:"default_segment_number,omitempty"`
	MaxSegmentSize         *int     `json:"max_segment_size,omitempty"`
	MemmapThreshold        *int     `json:"memmap_threshold,omitempty"`
	IndexingThreshold      *int     `json:"indexing_threshold,omitempty"`
	FlushIntervalSec       *int     `json:"flush_interval_sec,omitempty"`
	MaxOptimizationThreads *int     `json:"max_optimization_threads,omitempty"`
	PreventUnoptimized     *bool    `json:"prevent_unoptimized,omitempty"`
}

// WalConfig is the write-ahead log configuration of a collection (Qdrant's
// WalConfig). qlite keeps it for compatibility; its own log is Pebble's.
type WalConfig struct {
	// WalCapacityMB is the size of one WAL segment. Default 32; at least 1.
	WalCapacityMB int `json:"wal_capacity_mb"`
	// WalSegmentsAhead is the number of segments created ahead. Default 0.
	WalSegmentsAhead int `json:"wal_segments_ahead"`
	// WalRetainClosed is the number of closed segments kept. Default 1; at
	// least 1.
	WalRetainClosed int `json:"wal_retain_closed"`
}

// WalConfigDiff is a partial WalConfig for create requests.
type WalConfigDiff struct {
	WalCapacityMB    *int `json:"wal_capacity_mb,omitempty"`
	WalSegmentsAhead *int `json:"wal_segments_ahead,omitempty"`
	WalRetainClosed  *int `json:"wal_retain_closed,omitempty"`
}

// VectorParams describes one dense vector of a collection (Qdrant's
// VectorParams).
type VectorParams struct {
	// Size is the dimension. Required; 1 to 65536.
	Size uint64 `json:"size"`
	// Distance is the metric. Required.
	Distance distance.Metric `json:"distance"`
	// HNSW overrides the collection's HnswConfig for this vector; see
	// CollectionConfig.VectorHNSW. An empty diff is stored as nil.
	HNSW *HnswConfigDiff `json:"hnsw_config,omitempty"`
	// Quantization is Qdrant's QuantizationConfig ({"scalar": ...},
	// {"product": ...} or {"binary": ...}) for this vector, stored as given.
	Quantization json.RawMessage `json:"quantization_config,omitempty"`
	// OnDisk asks for the vectors to be served from disk. Default nil.
	OnDisk *bool `json:"on_disk,omitempty"`
	// Datatype is "float32", "float16" or "uint8"; "" means float32.
	Datatype string `json:"datatype,omitempty"`
	// Multivector is Qdrant's MultiVectorConfig, stored as given.
	Multivector json.RawMessage `json:"multivector_config,omitempty"`
}

// VectorParamsDiff is the per-vector part of an update request.
type VectorParamsDiff struct {
	// HNSW is merged field by field into the vector's HNSW override.
	HNSW *HnswConfigDiff `json:"hnsw_config,omitempty"`
	// Quantization replaces the vector's quantization; the JSON string
	// "Disabled" removes it.
	Quantization json.RawMessage `json:"quantization_config,omitempty"`
	OnDisk       *bool           `json:"on_disk,omitempty"`
}

// VectorsConfig maps vector names to their parameters. The unnamed default
// vector has the name ""; it may sit beside named vectors, as in Qdrant.
//
// In JSON, a single unnamed vector is a bare VectorParams object and anything
// else is an object of named VectorParams (an empty object when there are no
// dense vectors). Reading accepts both forms; an object with a "size" or
// "distance" member that is not itself an object is the bare form. The map
// form may name the unnamed vector "" ({"": {...}}, as Qdrant accepts); which
// form a collection was created with is CollectionParams.VectorsNamed.
type VectorsConfig map[string]VectorParams

// CollectionParams is Qdrant's CollectionParams: the vectors and the
// distribution settings of a collection.
type CollectionParams struct {
	// Vectors are the dense vectors.
	Vectors VectorsConfig `json:"vectors"`
	// VectorsNamed reports the unnamed vector in the map form, {"": {...}},
	// rather than as a bare VectorParams object: Qdrant reports a collection
	// the way it was created. It is true when the create request used the
	// map form, and is kept (and persisted) in that form in JSON.
	VectorsNamed bool `json:"-"`
	// ShardNumber is stored and reported only. Default 1; at least 1.
	ShardNumber uint32 `json:"shard_number"`
	// ShardingMethod is "auto", "custom" or "" (unset, which is auto).
	ShardingMethod string `json:"sharding_method,omitempty"`
	// ReplicationFactor is stored and reported only. Default 1; at least 1.
	ReplicationFactor uint32 `json:"replication_factor"`
	// WriteConsistencyFactor is stored and reported only. Default 1; at
	// least 1.
	WriteConsistencyFactor uint32 `json:"write_consistency_factor"`
	// ReadFanOutFactor is stored and reported only. Default nil.
	ReadFanOutFactor *uint32 `json:"read_fan_out_factor,omitempty"`
	// ReadFanOutDelayMs is stored and reported only. Default nil.
	ReadFanOutDelayMs *uint64 `json:"read_fan_out_delay_ms,omitempty"`
	// OnDiskPayload asks for payloads to be read from disk. Default true.
	OnDiskPayload bool `json:"on_disk_payload"`
	// SparseVectors are the sparse vectors, by name. A name is either dense
	// or sparse, never both.
	SparseVectors map[string]SparseVectorParams `json:"sparse_vectors,omitzero"`
}

// SparseVectorParams is Qdrant's SparseVectorParams: how one sparse vector
// is indexed and scored.
type SparseVectorParams struct {
	// Index tunes the inverted index. Default nil (Qdrant's defaults).
	Index *SparseIndexParams `json:"index,omitempty"`
	// Modifier is "", "none" or "idf". With "idf" the query's values are
	// weighted by the inverse document frequency of their dimension, counted
	// over the collection's live points. Default "" (none).
	Modifier string `json:"modifier,omitempty"`
}

// SparseIndexParams is Qdrant's SparseIndexParams. qlite keeps every
// sparse index in memory as float32; the fields are stored and reported,
// and FullScanThreshold chooses the filtered search plan.
type SparseIndexParams struct {
	// FullScanThreshold is the number of filtered points under which a
	// filtered search scores those points directly rather than walking the
	// posting lists. Default nil (5000, as Qdrant's).
	FullScanThreshold *uint64 `json:"full_scan_threshold,omitempty"`
	// OnDisk is stored and reported only. Default nil.
	OnDisk *bool `json:"on_disk,omitempty"`
	// Datatype is "float32", "float16", "uint8" or "" (float32). Stored and
	// reported only.
	Datatype string `json:"datatype,omitempty"`
}

// CollectionParamsDiff is the "params" part of an update request.
type CollectionParamsDiff struct {
	ReplicationFactor      *uint32 `json:"replication_factor,omitempty"`
	WriteConsistencyFactor *uint32 `json:"write_consistency_factor,omitempty"`
	ReadFanOutFactor       *uint32 `json:"read_fan_out_factor,omitempty"`
	ReadFanOutDelayMs      *uint64 `json:"read_fan_out_delay_ms,omitempty"`
	OnDiskPayload          *bool   `json:"on_disk_payload,omitempty"`
}

// CollectionConfig is the full configuration of a collection with every
// default filled in, in the shape of Qdrant's CollectionConfig. It is what
// the collection record stores, so that a later change of a default does not
// change an existing collection.
type CollectionConfig struct {
	Params     CollectionParams `json:"params"`
	HNSW       HnswConfig       `json:"hnsw_config"`
	Optimizers OptimizersConfig `json:"optimizer_config"`
	WAL        WalConfig        `json:"wal_config"`
	// Quantization is the collection's QuantizationConfig, reported as null
	// when there is none.
	Quantization json.RawMessage `json:"quantization_config"`
	// StrictMode is Qdrant's StrictModeConfig, stored as given and merged
	// member by member on update.
	StrictMode json.RawMessage `json:"strict_mode_config,omitempty"`
	// Metadata is arbitrary JSON attached to the collection: nil when it
	// has none (not shown), possibly empty otherwise (shown as {}).
	Metadata map[string]json.RawMessage `json:"metadata,omitzero"`
}

// CreateCollection is the body of a create request (Qdrant's
// CreateCollection). Unset fields take the defaults documented on
// CollectionConfig's parts.
type CreateCollection struct {
	Vectors VectorsConfig `json:"vectors,omitempty"`
	// VectorsNamed asks for the unnamed vector to be reported in the map
	// form ({"": {...}}); decoding sets it when Vectors used that form.
	VectorsNamed           bool                  `json:"-"`
	ShardNumber            *uint32               `json:"shard_number,omitempty"`
	ShardingMethod         *string               `json:"sharding_method,omitempty"`
	ReplicationFactor      *uint32               `json:"replication_factor,omitempty"`
	WriteConsistencyFactor *uint32               `json:"write_consistency_factor,omitempty"`
	OnDiskPayload          *bool                 `json:"on_disk_payload,omitempty"`
	HNSW                   *HnswConfigDiff       `json:"hnsw_config,omitempty"`
	Optimizers             *OptimizersConfigDiff `json:"optimizers_config,omitempty"`
	WAL                    *WalConfigDiff        `json:"wal_config,omitempty"`
	// Quantization is a QuantizationConfig object.
	Quantization json.RawMessage `json:"quantization_config,omitempty"`
	// SparseVectors are the sparse vectors, by name.
	SparseVectors map[string]SparseVectorParams `json:"sparse_vectors,omitempty"`
	// StrictMode is a StrictModeConfig object.
	StrictMode json.RawMessage            `json:"strict_mode_config,omitempty"`
	Metadata   map[string]json.RawMessage `json:"metadata,omitzero"`
	// InitFrom ({"collection": name}) is read so that the request decodes,
	// but Config rejects it: qlite does not copy collections on create.
	InitFrom json.RawMessage `json:"init_from,omitempty"`
}

// UpdateCollection is the body of an update (PATCH) request (Qdrant's
// UpdateCollection). Unset fields leave the configuration as it is.
type UpdateCollection struct {
	// Vectors maps vector names ("" for the unnamed vector) to their changes.
	Vectors    map[string]VectorParamsDiff `json:"vectors,omitempty"`
	Optimizers *OptimizersConfigDiff       `json:"optimizers_config,omitempty"`
	Params     *CollectionParamsDiff       `json:"params,omitempty"`
	HNSW       *HnswConfigDiff             `json:"hnsw_config,omitempty"`
	// Quantization replaces the collection's quantization; the JSON string
	// "Disabled" removes it.
	Quantization json.RawMessage `json:"quantization_config,omitempty"`
	// SparseVectors changes existing sparse vectors: a set Modifier replaces
	// the vector's modifier and Index is merged field by field.
	SparseVectors map[string]SparseVectorParams `json:"sparse_vectors,omitempty"`
	// StrictMode is merged member by member into the collection's.
	StrictMode json.RawMessage `json:"strict_mode_config,omitempty"`
	// Metadata is merged key by key into the collection's metadata; a key
	// set to null is deleted (as in Qdrant); an empty object changes
	// nothing.
	Metadata map[string]json.RawMessage `json:"metadata,omitzero"`
}

// Config validates the request and returns the collection's configuration,
// with every default filled in. Errors wrap ErrBadRequest and name the field.
func (c *CreateCollection) Config() (CollectionConfig, error) {
	if c == nil {
		c = &CreateCollection{}
	}
	if cfgRaw(c.InitFrom) != nil {
		return CollectionConfig{}, cfgBad("init_from", "creating a collection from another one is not supported")
	}
	out := cfgDefault()
	for _, name := range slices.Sorted(maps.Keys(c.Vectors)) {
		p := c.Vectors[name]
		path := cfgNamePath("vectors", name)
		if err := p.cfgValidate(path); err != nil {
			return CollectionConfig{}, err
		}
		out.Params.Vectors[name] = p.cfgNormalized()
	}
	out.Params.VectorsNamed = c.VectorsNamed

	if c.ShardNumber != nil {
		if *c.ShardNumber < 1 {
			return CollectionConfig{}, cfgInvalid("shard_number", "value %d invalid, must be 1 or larger", *c.ShardNumber)
		}
		out.Params.ShardNumber = *c.ShardNumber
	}
	if c.ShardingMethod != nil {
		switch *c.ShardingMethod {
		case "auto", "custom":
			out.Params.ShardingMethod = *c.ShardingMethod
		default:
			return CollectionConfig{}, cfgBad("sharding_method", "unknown sharding method %q (want auto or custom)", *c.ShardingMethod)
		}
	}
	if c.ReplicationFactor != nil {
		if *c.ReplicationFactor < 1 {
			return CollectionConfig{}, cfgInvalid("replication_factor", "value %d invalid, must be 1 or larger", *c.ReplicationFactor)
		}
		out.Params.ReplicationFactor = *c.ReplicationFactor
	}
	if c.WriteConsistencyFactor != nil {
		if *c.WriteConsistencyFactor < 1 {
			return CollectionConfig{}, cfgInvalid("write_consistency_factor", "value %d invalid, must be 1 or larger", *c.WriteConsistencyFactor)
		}
		out.Params.WriteConsistencyFactor = *c.WriteConsistencyFactor
	}
	if c.OnDiskPayload != nil {
		out.Params.OnDiskPayload = *c.OnDiskPayload
	}

	if err := c.HNSW.cfgValidate("hnsw_config"); err != nil {
		return CollectionConfig{}, err
	}
	out.HNSW = out.HNSW.cfgApply(c.HNSW)
	if err := c.Optimizers.cfgValidate("optimizers_config"); err != nil {
		return CollectionConfig{}, err
	}
	out.Optimizers = out.Optimizers.cfgApply(c.Optimizers)
	if err := c.WAL.cfgValidate("wal_config"); err != nil {
		return CollectionConfig{}, err
	}
	out.WAL = out.WAL.cfgApply(c.WAL)

	q, _, err := cfgCheckQuantization(c.Quantization, "quantization_config", false)
	if err != nil {
		return CollectionConfig{}, err
	}
	out.Quantization = q
	out.Params.SparseVectors = cfgCloneSparse(c.SparseVectors)
	if err := cfgCheckSparse(&out.Params, "sparse_vectors"); err != nil {
		return CollectionConfig{}, err
	}
	if out.StrictMode, err = cfgCheckObject(c.StrictMode, "strict_mode_config"); err != nil {
		return CollectionConfig{}, err
	}
	if out.Metadata, err = cfgMergeMetadata(nil, c.Metadata, false); err != nil {
		return CollectionConfig{}, err
	}
	return out, nil
}

// Apply returns c with the update u applied; c itself is not modified. Errors
// wrap ErrBadRequest and name the field, as in Config. Vector and sparse
// vector names must exist in c.
func (c CollectionConfig) Apply(u *UpdateCollection) (CollectionConfig, error) {
	out := c.cfgClone()
	if u == nil {
		return out, nil
	}
	for _, name := range slices.Sorted(maps.Keys(u.Vectors)) {
		d := u.Vectors[name]
		path := cfgNamePath("vectors", name)
		p, ok := out.Params.Vectors[name]
		if !ok {
			if name == "" {
				return CollectionConfig{}, cfgBad(path, "the collection has no unnamed vector")
			}
			// Qdrant's answer (1.17.1), which names no path.
			return CollectionConfig{}, cfgBad("", "Not existing vector name error: %s", name)
		}
		// Qdrant's validation names any entry of an update's vectors map
		// "?", the unnamed vector's too.
		if err := d.HNSW.cfgValidate("vectors.?.hnsw_config"); err != nil {
			return CollectionConfig{}, err
		}
		q, disabled, err := cfgCheckQuantization(d.Quantization, "vectors.?.quantization_config", true)
		if err != nil {
			return CollectionConfig{}, err
		}
		if d.HNSW != nil {
			p.HNSW = cfgMergeHnswDiff(p.HNSW, d.HNSW)
		}
		switch {
		case disabled:
			p.Quantization = nil
		case q != nil:
			p.Quantization = q
		}
		if d.OnDisk != nil {
			p.OnDisk = cfgPtrTo(*d.OnDisk)
		}
		out.Params.Vectors[name] = p
	}

	if err := u.Optimizers.cfgValidate("optimizers_config"); err != nil {
		return CollectionConfig{}, err
	}
	out.Optimizers = out.Optimizers.cfgApply(u.Optimizers)

	if p := u.Params; p != nil {
		if p.ReplicationFactor != nil {
			if *p.ReplicationFactor < 1 {
				return CollectionConfig{}, cfgInvalid("params.replication_factor", "value 0 invalid, must be 1 or larger")
			}
			out.Params.ReplicationFactor = *p.ReplicationFactor
		}
		if p.WriteConsistencyFactor != nil {
			if *p.WriteConsistencyFactor < 1 {
				return CollectionConfig{}, cfgInvalid("params.write_consistency_factor", "value 0 invalid, must be 1 or larger")
			}
			out.Params.WriteConsistencyFactor = *p.WriteConsistencyFactor
		}
		if p.ReadFanOutFactor != nil {
			out.Params.ReadFanOutFactor = cfgPtrTo(*p.ReadFanOutFactor)
		}
		if p.ReadFanOutDelayMs != nil {
			out.Params.ReadFanOutDelayMs = cfgPtrTo(*p.ReadFanOutDelayMs)
		}
		if p.OnDiskPayload != nil {
			out.Params.OnDiskPayload = *p.OnDiskPayload
		}
	}

	if err := u.HNSW.cfgValidate("hnsw_config"); err != nil {
		return CollectionConfig{}, err
	}
	out.HNSW = out.HNSW.cfgApply(u.HNSW)

	q, disabled, err := cfgCheckQuantization(u.Quantization, "quantization_config", true)
	if err != nil {
		return CollectionConfig{}, err
	}
	switch {
	case disabled:
		out.Quantization = nil
	case q != nil:
		out.Quantization = q
	}

	if len(u.SparseVectors) != 0 {
		if out.Params.SparseVectors, err = cfgMergeSparse(out.Params.SparseVectors, u.SparseVectors, "sparse_vectors"); err != nil {
			return CollectionConfig{}, err
		}
	}
	if cfgRaw(u.StrictMode) != nil {
		if out.StrictMode, err = cfgMergeObject(out.StrictMode, u.StrictMode, "strict_mode_config"); err != nil {
			return CollectionConfig{}, err
		}
	}
	if out.Metadata, err = cfgMergeMetadata(out.Metadata, u.Metadata, true); err != nil {
		return CollectionConfig{}, err
	}
	return out, nil
}

// Validate checks a full configuration before it is stored: every value
// Qdrant's request validation checks, and everything qlite derives from the
// configuration (segment specs, graph parameters, capacities), so that a
// configuration that passes can always be opened again. Every path that
// stores a configuration calls it first: create and update (on the result
// of Apply), snapshot restore (on the configuration read from the archive)
// and migration (through create).
//
// Errors wrap ErrBadRequest and name the field. A value Qdrant accepts but
// qlite cannot serve (a link count above what hnsw stores, for example) is
// a *ValidationError whose message names qlite's limit.
func (c *CollectionConfig) Validate() error {
	p := &c.Params
	for _, name := range slices.Sorted(maps.Keys(p.Vectors)) {
		if err := p.Vectors[name].cfgValidate(cfgNamePath("vectors", name)); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		v    uint32
	}{
		{"shard_number", p.ShardNumber},
		{"replication_factor", p.ReplicationFactor},
		{"write_consistency_factor", p.WriteConsistencyFactor},
	} {
		if f.v < 1 {
			return cfgInvalid(f.name, "value %d invalid, must be 1 or larger", f.v)
		}
	}
	switch p.ShardingMethod {
	case "", "auto", "custom":
	default:
		return cfgBad("sharding_method", "unknown sharding method %q (want auto or custom)", p.ShardingMethod)
	}
	if err := cfgCheckSparse(p, "sparse_vectors"); err != nil {
		return err
	}

	h := c.HNSW
	if err := (&HnswConfigDiff{M: &h.M, EfConstruct: &h.EfConstruct, FullScanThreshold: &h.FullScanThreshold,
		MaxIndexingThreads: &h.MaxIndexingThreads, PayloadM: h.PayloadM}).cfgValidate("hnsw_config"); err != nil {
		return err
	}

	o := c.Optimizers
	if t := o.MaxOptimizationThreads; t != nil && *t < 0 {
		return cfgBad("optimizers_config.max_optimization_threads", "must be at least 0")
	}
	if err := (&OptimizersConfigDiff{DeletedThreshold: &o.DeletedThreshold, VacuumMinVectorNumber: &o.VacuumMinVectorNumber,
		DefaultSegmentNumber: &o.DefaultSegmentNumber, MaxSegmentSize: o.MaxSegmentSize, MemmapThreshold: o.MemmapThreshold,
		IndexingThreshold: o.IndexingThreshold, FlushIntervalSec: &o.FlushIntervalSec}).cfgValidate("optimizers_config"); err != nil {
		return err
	}
	w := c.WAL
	if err := (&WalConfigDiff{WalCapacityMB: &w.WalCapacityMB, WalSegmentsAhead: &w.WalSegmentsAhead,
		WalRetainClosed: &w.WalRetainClosed}).cfgValidate("wal_config"); err != nil {
		return err
	}
	if _, _, err := cfgCheckQuantization(c.Quantization, "quantization_config", false); err != nil {
		return err
	}
	if _, err := cfgCheckObject(c.StrictMode, "strict_mode_config"); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(c.Metadata)) {
		if !json.Valid(c.Metadata[k]) {
			return cfgBad(cfgPath("metadata", k), "invalid JSON")
		}
	}
	return c.cfgCheckServable()
}

// cfgCheckServable checks what qlite needs to build and serve a
// collection of this configuration: dense float32 vectors of 1 to 65536
// dimensions, with graph parameters hnsw supports. Open checks stored
// configurations with it (rather than with all of Validate), so that a
// setting qlite only stores never keeps a collection from loading.
func (c *CollectionConfig) cfgCheckServable() error {
	p := &c.Params
	if err := cfgCheckSparse(p, "sparse_vectors"); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(p.Vectors)) {
		vp := p.Vectors[name]
		path := cfgNamePath("vectors", name)
		switch {
		case vp.Size < 1 || vp.Size > cfgMaxVectorSize:
			return cfgInvalid(path+".size", "value %d invalid, must be from 1 to %d", vp.Size, cfgMaxVectorSize)
		case !vp.Distance.Valid():
			return cfgBad(path+".distance", "unknown distance %v (want Cosine, Euclid, Dot or Manhattan)", vp.Distance)
		case vp.Datatype != "" && vp.Datatype != "float32" && vp.Datatype != "float16" && vp.Datatype != "uint8":
			return cfgBad(path+".datatype", "unknown datatype %q (want float32, float16 or uint8)", vp.Datatype)
		}
		if err := c.cfgCheckGraph(name, path); err != nil {
			return err
		}
	}
	return nil
}

// cfgCheckGraph checks the effective graph parameters of the named vector
// against what qlite's graphs support, naming the field that set them: the
// vector's own hnsw_config or the collection's. Only effective values are
// checked: a collection-wide m that every vector overrides (0, say, as
// Qdrant's users set it to build graphs only for some vectors) is kept and
// never used.
func (c *CollectionConfig) cfgCheckGraph(name, path string) error {
	h := c.VectorHNSW(name)
	mPath, efPath := "hnsw_config", "hnsw_config"
	if d := c.Params.Vectors[name].HNSW; d != nil {
		if d.M != nil {
			mPath = path + ".hnsw_config"
		}
		if d.EfConstruct != nil {
			efPath = path + ".hnsw_config"
		}
	}
	if h.M == 0 {
		// No graph (Qdrant's m = 0, for vectors used only to re-score):
		// the vector is served by scans.
		return nil
	}
	if h.M < cfgMinM || h.M > cfgMaxM {
		return cfgGraphLimitErr(mPath+".m", h.M, cfgMinM, cfgMaxM, "m")
	}
	if h.EfConstruct > cfgMaxEfConstruct {
		return cfgGraphLimitErr(efPath+".ef_construct", h.EfConstruct, cfgMinEfConstruct, cfgMaxEfConstruct, "ef_construct")
	}
	if pm := h.EffectivePayloadM(); pm != 0 && (pm < cfgMinM || pm > cfgMaxM) {
		pmPath := "hnsw_config"
		if d := c.Params.Vectors[name].HNSW; d != nil && d.PayloadM != nil {
			pmPath = path + ".hnsw_config"
		}
		return cfgGraphLimitErr(pmPath+".payload_m", pm, cfgMinM, cfgMaxM, "payload_m")
	}
	return nil
}

// EffectivePayloadM returns M of the payload links the graph gets:
// PayloadM, or M when it is unset, as in Qdrant; 0 builds none. They are
// built with a segment's graph when the segment has payload indexes, cost
// build CPU (about twice the graph's own for four indexed fields on
// Fashion-MNIST) and make filtered searches below
// hnsw.BlockLinksSelectivity cheaper and more accurate
// (docs/benchmarks/filtered-links/report.md). Without a graph (M = 0)
// there are none: qlite then scans, where Qdrant would build a graph of
// payload links only.
func (h HnswConfig) EffectivePayloadM() int {
	if h.M == 0 {
		return 0
	}
	if h.PayloadM == nil {
		return h.M
	}
	return *h.PayloadM
}

// cfgGraphLimitErr is the error for a graph parameter outside qlite's
// range (which is narrower than Qdrant's).
func cfgGraphLimitErr(path string, v, lo, hi int, name string) error {
	return cfgInvalid(path, "value %d invalid, qlite supports %s from %d to %d", v, name, lo, hi)
}

// VectorHNSW returns the effective HNSW configuration of the named vector: the
// collection's, overridden by the vector's own diff. An unknown name gives the
// collection's configuration.
func (c CollectionConfig) VectorHNSW(name string) HnswConfig {
	h := c.HNSW.cfgApply(nil)
	if p, ok := c.Params.Vectors[name]; ok {
		h = h.cfgApply(p.HNSW)
	}
	return h
}

// IndexingThresholdKB returns the segment size, in KB of vectors, above which
// a segment gets a vector index: optimizer_config.indexing_threshold, or
// Qdrant's 10000 when it is null. 0 means indexing is disabled.
func (c CollectionConfig) IndexingThresholdKB() int {
	if t := c.Optimizers.IndexingThreshold; t != nil {
		return *t
	}
	return cfgDefaultIndexingThresholdKB
}

// MaxSegmentSizeKB returns the largest segment, in KB of vectors, the
// optimizer builds: optimizer_config.max_segment_size, or 256000 KB (250 MiB,
// Qdrant's default for one indexing thread) when it is null.
func (c CollectionConfig) MaxSegmentSizeKB() int {
	if s := c.Optimizers.MaxSegmentSize; s != nil {
		return *s
	}
	return cfgDefaultMaxSegmentSizeKB
}

// ValidateCollectionName checks a collection (or alias) name with Qdrant's
// rule: not empty, at most 255 bytes, and none of < > : " / \ | ? * or the
// bytes 0x00 and 0x1F. The error wraps ErrBadRequest.
func ValidateCollectionName(name string) error {
	if name == "" {
		return cfgBad("collection_name", "must not be empty")
	}
	if len(name) > cfgMaxCollectionNameLen {
		return cfgBad("collection_name", "must be at most %d bytes long", cfgMaxCollectionNameLen)
	}
	if !utf8.ValidString(name) {
		// gRPC cannot carry such a name: every List would fail.
		return cfgBad("collection_name", "collection name must be valid UTF-8")
	}
	if i := strings.IndexAny(name, "<>:\"/\\|?*\x00\x1f"); i >= 0 {
		return cfgBad("collection_name", "collection name cannot contain %s char", strconv.Quote(name[i:i+1]))
	}
	return nil
}

// UnmarshalJSON decodes a create request strictly; see the file comment.
func (c *CreateCollection) UnmarshalJSON(data []byte) error { return c.cfgDecode(data, "") }

func (c *CreateCollection) cfgDecode(data []byte, path string) error {
	*c = CreateCollection{}
	return cfgDecodeObject(data, path, []cfgField{
		{name: "vectors", decode: func(data []byte, path string) (err error) {
			c.VectorsNamed, err = c.Vectors.cfgDecodeForm(data, path)
			return err
		}},
		{name: "shard_number", decode: cfgLeaf(&c.ShardNumber)},
		{name: "sharding_method", decode: cfgLeaf(&c.ShardingMethod)},
		{name: "replication_factor", decode: cfgLeaf(&c.ReplicationFactor)},
		{name: "write_consistency_factor", decode: cfgLeaf(&c.WriteConsistencyFactor)},
		{name: "on_disk_payload", decode: cfgLeaf(&c.OnDiskPayload)},
		{name: "hnsw_config", decode: cfgPtr(&c.HNSW)},
		{name: "wal_config", decode: cfgPtr(&c.WAL)},
		{name: "optimizers_config", alias: "optimizer_config", decode: cfgPtr(&c.Optimizers)},
		{name: "init_from", decode: cfgRawField(&c.InitFrom)},
		{name: "quantization_config", alias: "quantization", decode: cfgRawField(&c.Quantization)},
		{name: "sparse_vectors", decode: cfgSparseField(&c.SparseVectors)},
		{name: "strict_mode_config", decode: cfgRawField(&c.StrictMode)},
		{name: "metadata", decode: cfgMetadataField(&c.Metadata)},
	})
}

// UnmarshalJSON decodes an update request strictly; see the file comment.
func (u *UpdateCollection) UnmarshalJSON(data []byte) error { return u.cfgDecode(data, "") }

func (u *UpdateCollection) cfgDecode(data []byte, path string) error {
	*u = UpdateCollection{}
	return cfgDecodeObject(data, path, []cfgField{
		{name: "vectors", decode: func(data []byte, path string) error {
			m, err := cfgObject(data, path)
			if err != nil || m == nil {
				return err
			}
			u.Vectors = make(map[string]VectorParamsDiff, len(m))
			for _, name := range slices.Sorted(maps.Keys(m)) {
				var d VectorParamsDiff
				if err := d.cfgDecode(m[name], cfgNamePath(path, name)); err != nil {
					return err
				}
				u.Vectors[name] = d
			}
			return nil
		}},
		{name: "optimizers_config", alias: "optimizer_config", decode: cfgPtr(&u.Optimizers)},
		{name: "params", decode: cfgPtr(&u.Params)},
		{name: "hnsw_config", decode: cfgPtr(&u.HNSW)},
		{name: "quantization_config", alias: "quantization", decode: cfgRawField(&u.Quantization)},
		{name: "sparse_vectors", decode: cfgSparseField(&u.SparseVectors)},
		{name: "strict_mode_config", decode: cfgRawField(&u.StrictMode)},
		{name: "metadata", decode: cfgMetadataField(&u.Metadata)},
	})
}

// UnmarshalJSON decodes strictly: unknown fields are an error.
func (d *HnswConfigDiff) UnmarshalJSON(data []byte) error { return d.cfgDecode(data, "") }

func (d *HnswConfigDiff) cfgDecode(data []byte, path string) error {
	*d = HnswConfigDiff{}
	return cfgDecodeObject(data, path, []cfgField{
		{name: "m", decode: cfgLeaf(&d.M)},
		{name: "ef_construct", decode: cfgLeaf(&d.EfConstruct)},
		{name: "full_scan_threshold", alias: "full_scan_threshold_kb", decode: cfgLeaf(&d.FullScanThreshold)},
		{name: "max_indexing_threads", decode: cfgLeaf(&d.MaxIndexingThreads)},
		{name: "on_disk", decode: cfgLeaf(&d.OnDisk)},
		{name: "payload_m", decode: cfgLeaf(&d.PayloadM)},
		{name: "inline_storage", decode: cfgLeaf(&d.InlineStorage)},
	})
}

// UnmarshalJSON decodes strictly: unknown fields are an error, and
// max_optimization_threads may be "auto".
func (d *OptimizersConfigDiff) UnmarshalJSON(data []byte) error { return d.cfgDecode(data, "") }

func (d *OptimizersConfigDiff) cfgDecode(data []byte, path string) error {
	*d = OptimizersConfigDiff{}
	return cfgDecodeObject(data, path, []cfgField{
		{name: "deleted_threshold", decode: cfgLeaf(&d.DeletedThreshold)},
		{name: "vacuum_min_vector_number", decode: cfgLeaf(&d.VacuumMinVectorNumber)},
		{name: "default_segment_number", decode: cfgLeaf(&d.DefaultSegmentNumber)},
		{name: "max_segment_size", alias: "max_segment_size_kb", decode: cfgLeaf(&d.MaxSegmentSize)},
		{name: "memmap_threshold", alias: "memmap_threshold_kb", decode: cfgLeaf(&d.MemmapThreshold)},
		{name: "indexing_threshold", alias: "indexing_threshold_kb", decode: cfgLeaf(&d.IndexingThreshold)},
		{name: "flush_interval_sec", decode: cfgLeaf(&d.FlushIntervalSec)},
		{name: "max_optimization_threads", decode: func(data []byte, path string) error {
			if cfgIsNull(data) {
				return nil
			}
			var s string
			if json.Unmarshal(data, &s) == nil && s == "auto" {
				d.MaxOptimizationThreads = cfgPtrTo(-1)
				return nil
			}
			var n uint32
			if json.Unmarshal(data, &n) != nil {
				return cfgBad(path, `must be "auto" or a non-negative integer`)
			}
			d.MaxOptimizationThreads = cfgPtrTo(int(n))
			return nil
		}},
		{name: "prevent_unoptimized", decode: cfgLeaf(&d.PreventUnoptimized)},
	})
}

// MarshalJSON writes a negative MaxOptimizationThreads as "auto".
func (d OptimizersConfigDiff) MarshalJSON() ([]byte, error) {
	type plain OptimizersConfigDiff
	var out struct {
		plain
		MaxOptimizationThreads any `json:"max_optimization_threads,omitempty"`
	}
	out.plain = plain(d)
	out.plain.MaxOptimizationThreads = nil
	if t := d.MaxOptimizationThreads; t != nil {
		if *t < 0 {
			out.MaxOptimizationThreads = "auto"
		} else {
			out.MaxOptimizationThreads = *t
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes strictly: unknown fields are an error.
func (d *WalConfigDiff) UnmarshalJSON(data []byte) error { return d.cfgDecode(data, "") }

func (d *WalConfigDiff) cfgDecode(data []byte, path string) error {
	*d = WalConfigDiff{}
	return cfgDecodeObject(data, path, []cfgField{
		{name: "wal_capacity_mb", decode: cfgLeaf(&d.WalCapacityMB)},
		{name: "wal_segments_ahead", decode: cfgLeaf(&d.WalSegmentsAhead)},
		{name: "wal_retain_closed", decode: cfgLeaf(&d.WalRetainClosed)},
	})
}

// UnmarshalJSON decodes strictly: unknown fields are an error.
func (d *CollectionParamsDiff) UnmarshalJSON(data []byte) error { return d.cfgDecode(data, "") }

func (d *CollectionParamsDiff) cfgDecode(data []byte, path string) error {
	*d = CollectionParamsDiff{}
	return cfgDecodeObject(data, path, []cfgField{
		{name: "replication_factor", decode: cfgLeaf(&d.ReplicationFactor)},
		{name: "write_consistency_factor", decode: cfgLeaf(&d.WriteConsistencyFactor)},
		{name: "read_fan_out_factor", decode: cfgLeaf(&d.ReadFanOutFactor)},
		{name: "read_fan_out_delay_ms", decode: cfgLeaf(&d.ReadFanOutDelayMs)},
		{name: "on_disk_payload", decode: cfgLeaf(&d.OnDiskPayload)},
	})
}

// UnmarshalJSON decodes strictly: unknown fields are an error.
func (d *VectorParamsDiff) UnmarshalJSON(data []byte) error { return d.cfgDecode(data, "") }

func (d *VectorParamsDiff) cfgDecode(data []byte, path string) error {
	*d = VectorParamsDiff{}
	return cfgDecodeObject(data, path, []cfgField{
		{name: "hnsw_config", decode: cfgPtr(&d.HNSW)},
		{name: "quantization_config", alias: "quantization", decode: cfgRawField(&d.Quantization)},
		{name: "on_disk", decode: cfgLeaf(&d.OnDisk)},
	})
}

// UnmarshalJSON decodes strictly: unknown fields are an error. The distance
// is read with distance.ParseMetric.
func (p *VectorParams) UnmarshalJSON(data []byte) error { return p.cfgDecode(data, "") }

func (p *VectorParams) cfgDecode(data []byte, path string) error {
	*p = VectorParams{}
	var dist *string
	err := cfgDecodeObject(data, path, []cfgField{
		{name: "size", decode: cfgLeaf(&p.Size)},
		{name: "distance", decode: cfgLeaf(&dist)},
		{name: "hnsw_config", decode: cfgPtr(&p.HNSW)},
		{name: "quantization_config", alias: "quantization", decode: cfgRawField(&p.Quantization)},
		{name: "on_disk", decode: cfgLeaf(&p.OnDisk)},
		{name: "datatype", decode: cfgLeaf(&p.Datatype)},
		{name: "multivector_config", decode: cfgRawField(&p.Multivector)},
	})
	if err != nil {
		return err
	}
	if dist != nil {
		m, err := distance.ParseMetric(*dist)
		if err != nil {
			return cfgBad(cfgPath(path, "distance"), "unknown distance %q (want Cosine, Euclid, Dot or Manhattan)", *dist)
		}
		p.Distance = m
	}
	return nil
}

// MarshalJSON writes the parameters with the vectors in the form they were
// created with (see VectorsNamed).
func (p CollectionParams) MarshalJSON() ([]byte, error) {
	type plain CollectionParams
	out := struct {
		// Vectors, at the outer level, hides plain's member of the same name.
		Vectors any `json:"vectors"`
		plain
	}{Vectors: p.Vectors, plain: plain(p)}
	if p.VectorsNamed && p.Vectors != nil {
		out.Vectors = map[string]VectorParams(p.Vectors)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes, noting the form of the vectors.
func (p *CollectionParams) UnmarshalJSON(data []byte) error {
	type plain CollectionParams
	var in struct {
		Vectors json.RawMessage `json:"vectors"`
		plain
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*p = CollectionParams(in.plain)
	if len(in.Vectors) > 0 {
		named, err := p.Vectors.cfgDecodeForm(in.Vectors, "vectors")
		if err != nil {
			return err
		}
		p.VectorsNamed = named
	}
	return nil
}

// MarshalJSON writes a single unnamed vector as a bare VectorParams object and
// anything else as an object of named vectors.
func (v VectorsConfig) MarshalJSON() ([]byte, error) {
	if p, ok := v[""]; ok && len(v) == 1 {
		return json.Marshal(p)
	}
	if v == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]VectorParams(v))
}

// UnmarshalJSON reads either form written by MarshalJSON, strictly.
func (v *VectorsConfig) UnmarshalJSON(data []byte) error { return v.cfgDecode(data, "") }

func (v *VectorsConfig) cfgDecode(data []byte, path string) error {
	_, err := v.cfgDecodeForm(data, path)
	return err
}

// cfgDecodeForm decodes either form and reports whether the unnamed vector
// was given in the map form ({"": {...}}).
func (v *VectorsConfig) cfgDecodeForm(data []byte, path string) (named bool, err error) {
	m, err := cfgObject(data, path)
	if err != nil || m == nil {
		*v = nil
		return false, err
	}
	if cfgIsBareVector(m) {
		var p VectorParams
		if err := p.cfgDecode(data, path); err != nil {
			return false, err
		}
		*v = VectorsConfig{"": p}
		return false, nil
	}
	out := make(VectorsConfig, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		var p VectorParams
		if err := p.cfgDecode(m[name], cfgNamePath(path, name)); err != nil {
			return false, err
		}
		out[name] = p
	}
	*v = out
	_, named = out[""]
	return named, nil
}

// cfgIsBareVector reports whether the members of a "vectors" object are those
// of a single VectorParams rather than a map of named ones.
func cfgIsBareVector(m map[string]json.RawMessage) bool {
	for _, k := range []string{"size", "distance"} {
		if raw, ok := m[k]; ok {
			if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
				return true
			}
		}
	}
	return false
}

// UnmarshalJSON decodes a stored configuration. Unlike the request types it
// accepts unknown fields; absent and null raw members both read as nil.
func (c *CollectionConfig) UnmarshalJSON(data []byte) error {
	type plain CollectionConfig
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	p.Quantization = cfgRaw(p.Quantization)
	p.StrictMode = cfgRaw(p.StrictMode)
	p.Params.SparseVectors = cfgCloneSparse(p.Params.SparseVectors)
	*c = CollectionConfig(p)
	return nil
}

// cfgDefault returns the configuration of a collection created with an empty
// request.
func cfgDefault() CollectionConfig {
	return CollectionConfig{
		Params: CollectionParams{
			Vectors:                VectorsConfig{},
			ShardNumber:            cfgDefaultShardNumber,
			ReplicationFactor:      cfgDefaultReplicationFactor,
			WriteConsistencyFactor: cfgDefaultWriteConsistencyFactor,
			OnDiskPayload:          true,
		},
		HNSW: HnswConfig{
			M:                 cfgDefaultM,
			EfConstruct:       cfgDefaultEfConstruct,
			FullScanThreshold: cfgDefaultFullScanThresholdKB,
			OnDisk:            cfgPtrTo(false),
		},
		Optimizers: OptimizersConfig{
			DeletedThreshold:      cfgDefaultDeletedThreshold,
			VacuumMinVectorNumber: cfgDefaultVacuumMinVectorNumber,
			IndexingThreshold:     cfgPtrTo(cfgDefaultIndexingThresholdKB),
			FlushIntervalSec:      cfgDefaultFlushIntervalSec,
		},
		WAL: WalConfig{
			WalCapacityMB:   cfgDefaultWalCapacityMB,
			WalRetainClosed: cfgDefaultWalRetainClosed,
		},
	}
}

// cfgClone returns a deep copy of c.
func (c CollectionConfig) cfgClone() CollectionConfig {
	out := c
	if c.Params.Vectors != nil {
		out.Params.Vectors = make(VectorsConfig, len(c.Params.Vectors))
		for name, p := range c.Params.Vectors {
			out.Params.Vectors[name] = p.cfgNormalized()
		}
	}
	out.Params.ReadFanOutFactor = cfgClonePtr(c.Params.ReadFanOutFactor)
	out.Params.ReadFanOutDelayMs = cfgClonePtr(c.Params.ReadFanOutDelayMs)
	out.Params.SparseVectors = cfgCloneSparse(c.Params.SparseVectors)
	out.HNSW = c.HNSW.cfgApply(nil)
	out.Optimizers = c.Optimizers.cfgApply(nil)
	out.Quantization = slices.Clone(c.Quantization)
	out.StrictMode = slices.Clone(c.StrictMode)
	if c.Metadata != nil {
		out.Metadata = make(map[string]json.RawMessage, len(c.Metadata))
		for k, v := range c.Metadata {
			out.Metadata[k] = slices.Clone(v)
		}
	}
	return out
}

// cfgValidate checks the parameters of the vector at path.
func (p VectorParams) cfgValidate(path string) error {
	switch {
	case p.Size < 1:
		return cfgBad(path+".size", "must be at least 1")
	case p.Size > cfgMaxVectorSize:
		return cfgInvalid(path+".size", "value %d invalid, must be from 1 to %d", p.Size, cfgMaxVectorSize)
	case p.Distance == 0:
		return cfgBad(path+".distance", "required (Cosine, Euclid, Dot or Manhattan)")
	case !p.Distance.Valid():
		return cfgBad(path+".distance", "unknown distance %v (want Cosine, Euclid, Dot or Manhattan)", p.Distance)
	}
	if err := p.HNSW.cfgValidate(path + ".hnsw_config"); err != nil {
		return err
	}
	if _, _, err := cfgCheckQuantization(p.Quantization, path+".quantization_config", false); err != nil {
		return err
	}
	switch p.Datatype {
	case "", "float32", "float16", "uint8":
	default:
		return cfgBad(path+".datatype", "unknown datatype %q (want float32, float16 or uint8)", p.Datatype)
	}
	if _, err := cfgMultivector(p.Multivector, path+".multivector_config"); err != nil {
		return err
	}
	return nil
}

// multivectorMaxSim is the stored form of Qdrant's one multivector
// comparator.
const multivectorMaxSim = `{"comparator":"max_sim"}`

// cfgMultivector checks a multivector_config: null (none) or an object
// whose comparator is "max_sim" (other members are ignored, as Qdrant
// does). It returns the stored form.
func cfgMultivector(raw json.RawMessage, path string) (json.RawMessage, error) {
	raw, err := cfgCheckObject(raw, path)
	if raw == nil || err != nil {
		return nil, err
	}
	var mv struct {
		Comparator *string `json:"comparator"`
	}
	if err := json.Unmarshal(raw, &mv); err != nil || mv.Comparator == nil || *mv.Comparator != "max_sim" {
		return nil, cfgBad(path+".comparator", "unknown multivector comparator (want max_sim)")
	}
	return json.RawMessage(multivectorMaxSim), nil
}

// IsMulti reports whether the vector holds multivectors.
func (p VectorParams) IsMulti() bool { return cfgRaw(p.Multivector) != nil }

// elementType returns the datatype whose values the vector holds (float32
// for "" and for names Validate refuses).
func (p VectorParams) elementType() segment.Datatype {
	d, _ := segment.ParseDatatype(p.Datatype)
	return d
}

// SegmentDatatype returns the datatype of the vector's segment rows (and of
// its store records): its datatype, for multivectors too.
func (p VectorParams) SegmentDatatype() segment.Datatype {
	return p.elementType()
}

// preprocess returns v prepared for storage, written into dst (which may
// alias v): normalised for Cosine, except for uint8 vectors, which Qdrant
// stores unnormalised, and for float16 vectors that are stored already,
// then rounded to the values of the datatype.
func (p VectorParams) preprocess(dst, v []float32, stored bool) []float32 {
	dt := p.elementType()
	if dt == segment.Uint8 || (stored && dt == segment.Float16) {
		dst = append(dst[:0:0], v...)
		return dt.Convert(dst)
	}
	if p.IsMulti() {
		dst = p.Distance.PreprocessMulti(dst, v, int(p.Size))
	} else {
		dst = p.Distance.Preprocess(dst, v)
	}
	return dt.Convert(dst)
}

// preprocessQuery returns the query v prepared as preprocess prepares
// stored vectors, but kept float32 (segments convert uint8 queries
// themselves).
func (p VectorParams) preprocessQuery(dst, v []float32) []float32 {
	switch {
	case p.elementType() == segment.Uint8:
		return append(dst[:0:0], v...)
	case p.IsMulti():
		return p.Distance.PreprocessMultiQuery(dst, v, int(p.Size))
	}
	return p.Distance.PreprocessQuery(dst, v)
}

// cfgNormalized returns a copy of a validated p in its stored form: pointers
// and raw JSON copied, raw JSON compacted, an empty HNSW diff dropped.
func (p VectorParams) cfgNormalized() VectorParams {
	if p.HNSW != nil {
		h := p.HNSW.cfgClone()
		if h == (HnswConfigDiff{}) {
			p.HNSW = nil
		} else {
			p.HNSW = &h
		}
	}
	p.Quantization = cfgRaw(p.Quantization)
	p.OnDisk = cfgClonePtr(p.OnDisk)
	if cfgRaw(p.Multivector) != nil {
		p.Multivector = json.RawMessage(multivectorMaxSim)
	}
	return p
}

// cfgValidate checks the diff at path. A nil diff is valid.
func (d *HnswConfigDiff) cfgValidate(path string) error {
	if d == nil {
		return nil
	}
	if err := cfgAtLeast(path+".m", d.M, 0); err != nil {
		return err
	}
	if err := cfgAtLeast(path+".ef_construct", d.EfConstruct, cfgMinEfConstruct); err != nil {
		return err
	}
	if err := cfgAtLeast(path+".full_scan_threshold", d.FullScanThreshold, cfgMinFullScanThresholdKB); err != nil {
		return err
	}
	if err := cfgAtLeast(path+".max_indexing_threads", d.MaxIndexingThreads, 0); err != nil {
		return err
	}
	return cfgAtLeast(path+".payload_m", d.PayloadM, 0)
}

// cfgClone returns a copy of d that shares no pointers with it.
func (d *HnswConfigDiff) cfgClone() HnswConfigDiff {
	return HnswConfigDiff{
		M:                  cfgClonePtr(d.M),
		EfConstruct:        cfgClonePtr(d.EfConstruct),
		FullScanThreshold:  cfgClonePtr(d.FullScanThreshold),
		MaxIndexingThreads: cfgClonePtr(d.MaxIndexingThreads),
		OnDisk:             cfgClonePtr(d.OnDisk),
		PayloadM:           cfgClonePtr(d.PayloadM),
		InlineStorage:      cfgClonePtr(d.InlineStorage),
	}
}

// cfgApply returns h with the fields set in d replaced; the result shares no
// pointers with h or d. A nil d gives a copy of h.
func (h HnswConfig) cfgApply(d *HnswConfigDiff) HnswConfig {
	out := HnswConfig{
		M:                  h.M,
		EfConstruct:        h.EfConstruct,
		FullScanThreshold:  h.FullScanThreshold,
		MaxIndexingThreads: h.MaxIndexingThreads,
		OnDisk:             cfgClonePtr(h.OnDisk),
		PayloadM:           cfgClonePtr(h.PayloadM),
		InlineStorage:      cfgClonePtr(h.InlineStorage),
	}
	if d == nil {
		return out
	}
	cfgSet(&out.M, d.M)
	cfgSet(&out.EfConstruct, d.EfConstruct)
	cfgSet(&out.FullScanThreshold, d.FullScanThreshold)
	cfgSet(&out.MaxIndexingThreads, d.MaxIndexingThreads)
	cfgSetPtr(&out.OnDisk, d.OnDisk)
	cfgSetPtr(&out.PayloadM, d.PayloadM)
	cfgSetPtr(&out.InlineStorage, d.InlineStorage)
	return out
}

// cfgMergeHnswDiff returns base with the fields set in d replaced, or nil when
// the result sets no field.
func cfgMergeHnswDiff(base, d *HnswConfigDiff) *HnswConfigDiff {
	var out HnswConfigDiff
	if base != nil {
		out = base.cfgClone()
	}
	cfgSetPtr(&out.M, d.M)
	cfgSetPtr(&out.EfConstruct, d.EfConstruct)
	cfgSetPtr(&out.FullScanThreshold, d.FullScanThreshold)
	cfgSetPtr(&out.MaxIndexingThreads, d.MaxIndexingThreads)
	cfgSetPtr(&out.OnDisk, d.OnDisk)
	cfgSetPtr(&out.PayloadM, d.PayloadM)
	cfgSetPtr(&out.InlineStorage, d.InlineStorage)
	if out == (HnswConfigDiff{}) {
		return nil
	}
	return &out
}

// cfgValidate checks the diff at path. A nil diff is valid.
func (d *OptimizersConfigDiff) cfgValidate(path string) error {
	if d == nil {
		return nil
	}
	if t := d.DeletedThreshold; t != nil && !(*t >= 0 && *t <= 1) {
		return cfgInvalid(path+".deleted_threshold", "value %s invalid, must be from 0.0 to 1.0", cfgRustFloat(*t))
	}
	checks := []struct {
		name string
		v    *int
		min  int
	}{
		{"vacuum_min_vector_number", d.VacuumMinVectorNumber, cfgMinVacuumMinVectorNumber},
		{"default_segment_number", d.DefaultSegmentNumber, 0},
		{"max_segment_size", d.MaxSegmentSize, 1},
		{"memmap_threshold", d.MemmapThreshold, 0},
		{"indexing_threshold", d.IndexingThreshold, 0},
		{"flush_interval_sec", d.FlushIntervalSec, 0},
	}
	for _, c := range checks {
		if err := cfgAtLeast(path+"."+c.name, c.v, c.min); err != nil {
			return err
		}
	}
	return nil
}

// cfgApply returns o with the fields set in d replaced; the result shares no
// pointers with o or d. A nil d gives a copy of o.
func (o OptimizersConfig) cfgApply(d *OptimizersConfigDiff) OptimizersConfig {
	out := o
	out.MaxSegmentSize = cfgClonePtr(o.MaxSegmentSize)
	out.MemmapThreshold = cfgClonePtr(o.MemmapThreshold)
	out.IndexingThreshold = cfgClonePtr(o.IndexingThreshold)
	out.MaxOptimizationThreads = cfgClonePtr(o.MaxOptimizationThreads)
	out.PreventUnoptimized = cfgClonePtr(o.PreventUnoptimized)
	if d == nil {
		return out
	}
	cfgSet(&out.DeletedThreshold, d.DeletedThreshold)
	cfgSet(&out.VacuumMinVectorNumber, d.VacuumMinVectorNumber)
	cfgSet(&out.DefaultSegmentNumber, d.DefaultSegmentNumber)
	cfgSetPtr(&out.MaxSegmentSize, d.MaxSegmentSize)
	cfgSetPtr(&out.MemmapThreshold, d.MemmapThreshold)
	cfgSetPtr(&out.IndexingThreshold, d.IndexingThreshold)
	cfgSet(&out.FlushIntervalSec, d.FlushIntervalSec)
	if t := d.MaxOptimizationThreads; t != nil {
		if *t < 0 {
			out.MaxOptimizationThreads = nil // "auto"
		} else {
			out.MaxOptimizationThreads = cfgPtrTo(*t)
		}
	}
	cfgSetPtr(&out.PreventUnoptimized, d.PreventUnoptimized)
	return out
}

// cfgValidate checks the diff at path. A nil diff is valid.
func (d *WalConfigDiff) cfgValidate(path string) error {
	if d == nil {
		return nil
	}
	if err := cfgAtLeast(path+".wal_capacity_mb", d.WalCapacityMB, 1); err != nil {
		return err
	}
	if err := cfgAtLeast(path+".wal_segments_ahead", d.WalSegmentsAhead, 0); err != nil {
		return err
	}
	return cfgAtLeast(path+".wal_retain_closed", d.WalRetainClosed, 1)
}

// cfgApply returns w with the fields set in d replaced.
func (w WalConfig) cfgApply(d *WalConfigDiff) WalConfig {
	if d != nil {
		cfgSet(&w.WalCapacityMB, d.WalCapacityMB)
		cfgSet(&w.WalSegmentsAhead, d.WalSegmentsAhead)
		cfgSet(&w.WalRetainClosed, d.WalRetainClosed)
	}
	return w
}

// cfgCheckQuantization validates a QuantizationConfig at path and returns it
// compacted, or nil when raw is absent or null. With allowDisabled, the string
// "Disabled" is accepted and reported as disabled.
func cfgCheckQuantization(raw json.RawMessage, path string, allowDisabled bool) (q json.RawMessage, disabled bool, err error) {
	if cfgRaw(raw) == nil {
		return nil, false, nil
	}
	want := `must be {"scalar": ...}, {"product": ...} or {"binary": ...}`
	if allowDisabled {
		want += ` or "Disabled"`
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if s == "Disabled" {
				return nil, true, nil
			}
			return nil, false, cfgBad(path, "%s", want)
		}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) != 1 {
		return nil, false, cfgBad(path, "%s", want)
	}
	for k, v := range m {
		switch k {
		case "scalar", "product", "binary":
		default:
			return nil, false, cfgBad(path, "%s", want)
		}
		if !cfgIsObject(v) {
			return nil, false, cfgBad(cfgPath(path, k), "expected an object")
		}
		if k == "scalar" {
			var sc struct {
				Quantile *float32 `json:"quantile"`
			}
			// Qdrant reads the quantile as an f32 and refuses it outside
			// [0.5, 1], naming the value widened back to f64.
			if json.Unmarshal(v, &sc) == nil && sc.Quantile != nil && (*sc.Quantile < 0.5 || *sc.Quantile > 1) {
				return nil, false, cfgInvalid(path+".scalar.quantile", "value %s invalid, must be from 0.5 to 1.0", cfgRustFloat(float64(*sc.Quantile)))
			}
		}
	}
	return cfgRaw(raw), false, nil
}

// cfgCheckObject returns raw compacted if it is a JSON object, nil if it is
// absent or null, and an error naming path otherwise.
func cfgCheckObject(raw json.RawMessage, path string) (json.RawMessage, error) {
	if cfgRaw(raw) == nil {
		return nil, nil
	}
	if !cfgIsObject(raw) {
		return nil, cfgBad(path, "expected an object")
	}
	return cfgRaw(raw), nil
}

// cfgCheckSparse validates sparse vector parameters: known modifiers and
// datatypes, and names not also used by a dense vector.
func cfgCheckSparse(p *CollectionParams, path string) error {
	for _, name := range slices.Sorted(maps.Keys(p.SparseVectors)) {
		if _, ok := p.Vectors[name]; ok {
			return cfgBad("", "Dense and sparse vector names must be unique - duplicate found with '%s'", name)
		}
		if err := p.SparseVectors[name].cfgValidate(cfgPath(path, name)); err != nil {
			return err
		}
	}
	return nil
}

func (p SparseVectorParams) cfgValidate(path string) error {
	switch p.Modifier {
	case "", "none", "idf":
	default:
		return cfgBad(cfgPath(path, "modifier"), "unknown variant `%s`, expected `none` or `idf`", p.Modifier)
	}
	if p.Index != nil {
		switch p.Index.Datatype {
		case "", "float32", "float16", "uint8":
		default:
			return cfgBad(cfgPath(path, "index.datatype"), "unknown variant `%s`, expected one of `float32`, `uint8`, `float16`", p.Index.Datatype)
		}
	}
	return nil
}

// cfgClone returns a deep copy of p.
func (p SparseVectorParams) cfgClone() SparseVectorParams {
	if p.Index != nil {
		ix := *p.Index
		ix.FullScanThreshold = cfgClonePtr(ix.FullScanThreshold)
		ix.OnDisk = cfgClonePtr(ix.OnDisk)
		p.Index = &ix
	}
	return p
}

// cfgCloneSparse returns a deep copy of m; an empty m stays empty (it is
// reported, unlike a nil one).
func cfgCloneSparse(m map[string]SparseVectorParams) map[string]SparseVectorParams {
	if m == nil {
		return nil
	}
	out := make(map[string]SparseVectorParams, len(m))
	for name, p := range m {
		out[name] = p.cfgClone()
	}
	return out
}

// cfgMergeSparse applies the sparse_vectors of an update request to cur, as
// Qdrant does: every named sparse vector must exist (or nothing changes), a
// set modifier replaces the vector's, and the index is merged field by
// field. cur is not modified.
func cfgMergeSparse(cur, upd map[string]SparseVectorParams, path string) (map[string]SparseVectorParams, error) {
	out := cfgCloneSparse(cur)
	for _, name := range slices.Sorted(maps.Keys(upd)) {
		d := upd[name]
		if err := d.cfgValidate(cfgPath(path, name)); err != nil {
			return nil, err
		}
		p, ok := out[name]
		if !ok {
			return nil, cfgBad("", "Not existing vector name error: %s", name)
		}
		if d.Modifier != "" {
			p.Modifier = d.Modifier
		}
		if d.Index != nil {
			ix := SparseIndexParams{}
			if p.Index != nil {
				ix = *p.Index
			}
			cfgSetPtr(&ix.FullScanThreshold, d.Index.FullScanThreshold)
			cfgSetPtr(&ix.OnDisk, d.Index.OnDisk)
			if d.Index.Datatype != "" {
				ix.Datatype = d.Index.Datatype
			}
			p.Index = &ix
		}
		out[name] = p
	}
	return out, nil
}

// cfgSparseField returns the decoder of a "sparse_vectors" member: an object
// of SparseVectorParams objects. As in Qdrant, members these do not know are
// ignored, and null is not a SparseVectorParams.
func cfgSparseField(dst *map[string]SparseVectorParams) func([]byte, string) error {
	return func(data []byte, path string) error {
		m, err := cfgObject(data, path)
		if err != nil || m == nil {
			*dst = nil
			return err
		}
		out := make(map[string]SparseVectorParams, len(m))
		for _, name := range slices.Sorted(maps.Keys(m)) {
			p := cfgPath(path, name)
			if cfgIsNull(m[name]) || !cfgIsObject(m[name]) {
				return cfgBad(p, "expected an object")
			}
			var sp struct {
				Index    json.RawMessage `json:"index"`
				Modifier json.RawMessage `json:"modifier"`
			}
			_ = json.Unmarshal(m[name], &sp)
			var v SparseVectorParams
			if err := cfgLeaf(&v.Modifier)(cfgOrNull(sp.Modifier), cfgPath(p, "modifier")); err != nil {
				return err
			}
			if cfgRaw(sp.Index) != nil {
				if !cfgIsObject(sp.Index) {
					return cfgBad(cfgPath(p, "index"), "expected an object")
				}
				var ix struct {
					FullScanThreshold json.RawMessage `json:"full_scan_threshold"`
					OnDisk            json.RawMessage `json:"on_disk"`
					Datatype          json.RawMessage `json:"datatype"`
				}
				_ = json.Unmarshal(sp.Index, &ix)
				v.Index = &SparseIndexParams{}
				ip := cfgPath(p, "index")
				if err := cfgLeaf(&v.Index.FullScanThreshold)(cfgOrNull(ix.FullScanThreshold), cfgPath(ip, "full_scan_threshold")); err != nil {
					return err
				}
				if err := cfgLeaf(&v.Index.OnDisk)(cfgOrNull(ix.OnDisk), cfgPath(ip, "on_disk")); err != nil {
					return err
				}
				if err := cfgLeaf(&v.Index.Datatype)(cfgOrNull(ix.Datatype), cfgPath(ip, "datatype")); err != nil {
					return err
				}
			}
			if err := v.cfgValidate(p); err != nil {
				return err
			}
			out[name] = v
		}
		*dst = out
		return nil
	}
}

// cfgOrNull returns data, or the JSON null when data is empty (an absent
// member).
func cfgOrNull(data json.RawMessage) json.RawMessage {
	if len(data) == 0 {
		return json.RawMessage("null")
	}
	return data
}

// cfgMergeObject returns the JSON object cur with the non-null members of the
// object upd replacing or adding members. A null or absent cur is empty.
func cfgMergeObject(cur, upd json.RawMessage, path string) (json.RawMessage, error) {
	um, err := cfgObject(upd, path)
	if err != nil {
		return nil, err
	}
	out := map[string]json.RawMessage{}
	if cfgRaw(cur) != nil {
		if err := json.Unmarshal(cur, &out); err != nil || out == nil {
			return nil, fmt.Errorf("%w: stored %s is not an object", ErrCorrupt, path)
		}
	}
	for k, v := range um {
		if !cfgIsNull(v) {
			out[k] = v
		}
	}
	return json.Marshal(out)
}

// cfgMergeMetadata returns the metadata of a collection that had cur
// after a request that gives upd (nil when the request has none); values
// are compacted and must be valid JSON. As in Qdrant, a request's metadata
// is taken as given (nulls kept, {} kept as {}) on create and on an update
// of a collection without metadata; otherwise it is merged key by key and
// a null value deletes its key.
func cfgMergeMetadata(cur, upd map[string]json.RawMessage, update bool) (map[string]json.RawMessage, error) {
	for _, k := range slices.Sorted(maps.Keys(upd)) {
		if !json.Valid(upd[k]) {
			return nil, cfgBad(cfgPath("metadata", k), "invalid JSON")
		}
	}
	if upd == nil {
		return maps.Clone(cur), nil
	}
	merge := update && cur != nil
	out := make(map[string]json.RawMessage, len(cur)+len(upd))
	if merge {
		for k, v := range cur {
			out[k] = slices.Clone(v)
		}
	}
	for k, v := range upd {
		if merge && string(bytes.TrimSpace(v)) == "null" {
			delete(out, k)
			continue
		}
		out[k] = cfgCompact(v)
	}
	return out, nil
}

// cfgField is one member of a JSON object in a request body: its name, an
// optional alias that Qdrant also accepts, and the function storing it.
type cfgField struct {
	name, alias string
	decode      func(data []byte, path string) error
}

// cfgDecodeObject decodes the JSON object data member by member into fields,
// as serde with deny_unknown_fields does: names match exactly, an unknown
// member is an error, and a member given under both its name and its alias
// is an error. Members are decoded in name order so that the error reported
// for a body with several faults does not vary.
func cfgDecodeObject(data []byte, path string, fields []cfgField) error {
	m, err := cfgObject(data, path)
	if err != nil {
		return err
	}
	if m == nil {
		return cfgBad(path, "expected an object")
	}
	given := make([]string, len(fields))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		i := slices.IndexFunc(fields, func(f cfgField) bool { return f.name == k || f.alias != "" && f.alias == k })
		p := cfgPath(path, k)
		if i < 0 {
			return cfgBad(p, "unknown field")
		}
		if given[i] != "" {
			return cfgBad(p, "duplicate field (also given as %q)", given[i])
		}
		given[i] = k
		if err := fields[i].decode(m[k], p); err != nil {
			return err
		}
	}
	return nil
}

// cfgObject decodes a JSON object into its members. null gives a nil map;
// anything else that is not an object is an error naming path.
func cfgObject(data []byte, path string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, cfgBad(path, "expected an object")
	}
	return m, nil
}

// cfgLeaf returns a field decoder that unmarshals a scalar into dst (a
// pointer), reporting type errors with the field path. null leaves a
// non-pointer dst alone and sets a pointer dst to nil.
func cfgLeaf(dst any) func([]byte, string) error {
	return func(data []byte, path string) error {
		err := json.Unmarshal(data, dst)
		if err == nil {
			return nil
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if num, ok := strings.CutPrefix(te.Value, "number "); ok && cfgKind(te.Type) == "an integer" &&
				strings.Trim(num, "0123456789") == "" {
				// Qdrant reads these as unsigned 64-bit integers; qlite's
				// are signed.
				return cfgInvalid(path, "value %s invalid, qlite supports at most %d", num, math.MaxInt64)
			}
			return cfgBad(path, "invalid type: %s, expected %s", te.Value, cfgKind(te.Type))
		}
		return cfgBad(path, "%v", err)
	}
}

// cfgKind describes the JSON a Go type accepts, for error messages.
func cfgKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		return fmt.Sprintf("an unsigned %d-bit integer", t.Bits())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// cfgDecoder is implemented by the pointer types of the request structs.
type cfgDecoder[T any] interface {
	*T
	cfgDecode(data []byte, path string) error
}

// cfgPtr returns a field decoder for an optional nested request struct: null
// sets *dst to nil, anything else is decoded strictly into a new value.
func cfgPtr[T any, P cfgDecoder[T]](dst **T) func([]byte, string) error {
	return func(data []byte, path string) error {
		if cfgIsNull(data) {
			*dst = nil
			return nil
		}
		v := new(T)
		if err := P(v).cfgDecode(data, path); err != nil {
			return err
		}
		*dst = v
		return nil
	}
}

// cfgRawField returns a field decoder that stores raw JSON, compacted; null
// stores nil.
func cfgRawField(dst *json.RawMessage) func([]byte, string) error {
	return func(data []byte, _ string) error {
		*dst = cfgRaw(data)
		return nil
	}
}

// cfgMetadataField returns the decoder of a "metadata" member: an object of
// arbitrary JSON values, compacted.
func cfgMetadataField(dst *map[string]json.RawMessage) func([]byte, string) error {
	return func(data []byte, path string) error {
		m, err := cfgObject(data, path)
		if err != nil {
			return err
		}
		for k, v := range m {
			m[k] = cfgCompact(v)
		}
		*dst = m
		return nil
	}
}

// cfgRaw returns a compacted copy of the JSON value data, or nil when data is
// empty or null.
func cfgRaw(data []byte) json.RawMessage {
	if len(data) == 0 || cfgIsNull(data) {
		return nil
	}
	return cfgCompact(data)
}

// cfgCompact returns a compacted copy of the JSON value data (a plain copy if
// data is not valid JSON).
func cfgCompact(data []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		return slices.Clone(data)
	}
	return b.Bytes()
}

func cfgIsNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }

func cfgIsObject(data []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(data, &m) == nil && m != nil
}

// cfgBad returns an error wrapping ErrBadRequest about the field at path.
func cfgBad(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if path == "" {
		return fmt.Errorf("%w: %s", ErrBadRequest, msg)
	}
	return fmt.Errorf("%w: %s: %s", ErrBadRequest, path, msg)
}

// cfgPath joins a field path and a member name.
func cfgPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// cfgNamePath is cfgPath for a vector name, where "" (the unnamed vector)
// adds nothing.
func cfgNamePath(path, name string) string {
	if name == "" {
		return path
	}
	return cfgPath(path, name)
}

func cfgAtLeast(path string, v *int, minimum int) error {
	switch {
	case v == nil || *v >= minimum:
		return nil
	case *v < 0:
		// Qdrant reads these as unsigned: a negative one does not decode.
		return cfgBad(path, "must be at least %d", minimum)
	}
	return cfgInvalid(path, "value %d invalid, must be %d or larger", *v, minimum)
}

// ValidationError is a request value outside the range Qdrant's request
// validation allows, in its words ("value 0 invalid, must be 1 or
// larger"); it wraps ErrBadRequest. Path names the field.
type ValidationError struct {
	Path, Msg string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrBadRequest, e.Path, e.Msg)
}

func (e *ValidationError) Unwrap() error { return ErrBadRequest }

func cfgInvalid(path, format string, args ...any) error {
	return &ValidationError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// cfgRustFloat formats f as Rust's Display does: always with a fraction.
func cfgRustFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEIN") {
		s += ".0"
	}
	return s
}

func cfgPtrTo[T any](v T) *T { return &v }

func cfgClonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// cfgSet sets *dst to *v when v is not nil.
func cfgSet[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// cfgSetPtr sets *dst to a copy of v when v is not nil.
func cfgSetPtr[T any](dst **T, v *T) {
	if v != nil {
		*dst = cfgClonePtr(v)
	}
}

// cfgDetail is the message of an error about bad input without the
// ErrBadRequest prefix, for errors that report it inside another message.
func cfgDetail(err error) string {
	return strings.TrimPrefix(err.Error(), ErrBadRequest.Error()+": ")
}
