package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// listCollections answers GET /collections.
func (s *restServer) listCollections(w http.ResponseWriter, r *http.Request) (any, error) {
	names, err := s.db.ListCollections(r.Context())
	if err != nil {
		return nil, err
	}
	type desc struct {
		Name string `json:"name"`
	}
	out := make([]desc, len(names))
	for i, n := range names {
		out[i] = desc{n}
	}
	return map[string][]desc{"collections": out}, nil
}

// restPayloadIndexInfo is Qdrant's PayloadIndexInfo.
type restPayloadIndexInfo struct {
	DataType string          `json:"data_type"`
	Params   json.RawMessage `json:"params,omitempty"`
	Points   int             `json:"points"`
}

// restCollectionInfo is Qdrant's CollectionInfo.
type restCollectionInfo struct {
	Status engine.CollectionStatus `json:"status"`
	// OptimizerStatus is "ok", or {"error": reason} for a collection that
	// failed to load.
	OptimizerStatus any `json:"optimizer_status"`
	// Warnings are Qdrant's CollectionWarning objects, left out when there
	// are none (engine.CollectionConfig.Warnings).
	Warnings            []restWarning                   `json:"warnings,omitempty"`
	IndexedVectorsCount int                             `json:"indexed_vectors_count"`
	PointsCount         int                             `json:"points_count"`
	SegmentsCount       int                             `json:"segments_count"`
	Config              engine.CollectionConfig         `json:"config"`
	PayloadSchema       map[string]restPayloadIndexInfo `json:"payload_schema"`
	UpdateQueue         restUpdateQueue                 `json:"update_queue"`
	// Qlite is qlite's own section, which Qdrant's answer does not have
	// (clients that parse the answer, such as qdrant-client's models,
	// ignore fields they do not know).
	Qlite restQliteInfo `json:"qlite"`
}

// restWarning is Qdrant's CollectionWarning.
type restWarning struct {
	Message string `json:"message"`
}

// restQliteInfo is what qlite adds to a collection's info: the bytes the
// collection holds in RAM, by kind (estimates; engine.MemoryUsage, and its
// share of the payload cache), its share of the store's files and its
// segment files (engine.CollectionInfo.DiskBytes), the bytes of vectors read
// in place from memory-mapped segment files (on_disk vectors; not in
// ram_bytes), and the payload cache's hits and misses on its payloads
// (engine.PayloadCacheStats).
type restQliteInfo struct {
	RAMBytes           restRAMBytes `json:"ram_bytes"`
	DiskBytes          int64        `json:"disk_bytes"`
	VectorsOnDiskBytes int64        `json:"vectors_on_disk_bytes"`
	// GraphOnDiskBytes is the graphs searched in place from memory-mapped
	// segment files (hnsw_config.on_disk; not in ram_bytes).
	GraphOnDiskBytes int64 `json:"graph_on_disk_bytes"`
	// QuantizedOnDiskBytes is the quantised vectors read in place from
	// mapped segment files (always_ram false); ram_bytes.quantized those
	// in the heap.
	QuantizedOnDiskBytes int64            `json:"quantized_on_disk_bytes"`
	PayloadCache         restPayloadCache `json:"payload_cache"`
}

type restPayloadCache struct {
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
}

type restRAMBytes struct {
	Total          int64 `json:"total"`
	Vectors        int64 `json:"vectors"`
	Graph          int64 `json:"graph"`
	Payloads       int64 `json:"payloads"`
	PayloadIndexes int64 `json:"payload_indexes"`
	Sparse         int64 `json:"sparse"`
	Quantized      int64 `json:"quantized"`
	Other          int64 `json:"other"`
	PayloadCache   int64 `json:"payload_cache"`
}

// restUpdateQueue is Qdrant's UpdateQueueInfo: the writes waiting to be
// applied.
type restUpdateQueue struct {
	Length int `json:"length"`
	// DeferredPoints is reported with prevent_unoptimized.
	DeferredPoints *int `json:"deferred_points,omitempty"`
}

// getCollection answers GET /collections/{c}.
func (s *restServer) getCollection(w http.ResponseWriter, r *http.Request) (any, error) {
	info, err := s.db.CollectionInfo(r.Context(), r.PathValue("collection_name"))
	if err != nil {
		return nil, err
	}
	out := restCollectionInfo{
		Status:              info.Status,
		OptimizerStatus:     "ok",
		IndexedVectorsCount: info.IndexedVectorsCount,
		PointsCount:         info.PointsCount,
		SegmentsCount:       info.SegmentsCount,
		Config:              info.Config,
		PayloadSchema:       make(map[string]restPayloadIndexInfo, len(info.PayloadSchema)),
		UpdateQueue:         restUpdateQueue{Length: info.UpdateQueueLength},
		Qlite: restQliteInfo{DiskBytes: info.DiskBytes, VectorsOnDiskBytes: info.Memory.MappedVectors, GraphOnDiskBytes: info.Memory.MappedGraph,
			QuantizedOnDiskBytes: info.Memory.MappedQuantized, RAMBytes: restRAMBytes{
				Total: info.Memory.Total() + info.PayloadCache.Bytes, Vectors: info.Memory.Vectors, Graph: info.Memory.Graph,
				Quantized: info.Memory.Quantized, Payloads: info.Memory.Payloads, PayloadIndexes: info.Memory.PayloadIndexes, Sparse: info.Memory.Sparse,
				Other: info.Memory.Other, PayloadCache: info.PayloadCache.Bytes,
			}, PayloadCache: restPayloadCache{Hits: info.PayloadCache.Hits, Misses: info.PayloadCache.Misses}},
	}
	out.UpdateQueue.DeferredPoints = info.DeferredPoints
	for _, m := range info.Warnings {
		out.Warnings = append(out.Warnings, restWarning{Message: m})
	}
	if info.Reason != "" {
		out.OptimizerStatus = map[string]string{"error": info.Reason}
	}
	for key, pi := range info.PayloadSchema {
		params, err := pi.Params.MarshalJSON()
		if err != nil {
			return nil, err
		}
		entry := restPayloadIndexInfo{DataType: pi.Params.Type.String(), Points: pi.Points}
		// A bare type reads back as {"type": ...}: report params only when
		// they say more than the type.
		if !bytes.Equal(params, []byte(`{"type":"`+entry.DataType+`"}`)) {
			entry.Params = params
		}
		out.PayloadSchema[key] = entry
	}
	return out, nil
}

// createCollection answers PUT /collections/{c}.
func (s *restServer) createCollection(w http.ResponseWriter, r *http.Request) (any, error) {
	name := r.PathValue("collection_name") // checked by wrap
	b, err := s.body(r)
	if err != nil {
		return nil, err
	}
	if err := restConfigFormat(b, false); err != nil {
		return nil, err
	}
	var req engine.CreateCollection
	if err := restDecode(b, &req); err != nil {
		return nil, err
	}
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	if err := s.db.CreateCollection(r.Context(), name, &req); err != nil {
		return nil, restNamedVectorPath(err, slices.Collect(maps.Keys(req.Vectors)))
	}
	return true, nil
}

// updateCollection answers PATCH /collections/{c}.
func (s *restServer) updateCollection(w http.ResponseWriter, r *http.Request) (any, error) {
	b, err := s.body(r)
	if err != nil {
		return nil, err
	}
	if err := restConfigFormat(b, true); err != nil {
		return nil, err
	}
	var req engine.UpdateCollection
	if err := restDecode(b, &req); err != nil {
		return nil, err
	}
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	if err := s.db.UpdateCollection(r.Context(), r.PathValue("collection_name"), &req); err != nil {
		return nil, err
	}
	return true, nil
}

// deleteCollection answers DELETE /collections/{c}: whether it existed.
func (s *restServer) deleteCollection(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	return s.db.DeleteCollection(r.Context(), r.PathValue("collection_name"))
}

// collectionExists answers GET /collections/{c}/exists.
func (s *restServer) collectionExists(w http.ResponseWriter, r *http.Request) (any, error) {
	ok, err := s.db.CollectionExists(r.Context(), r.PathValue("collection_name"))
	if err != nil {
		return nil, err
	}
	return map[string]bool{"exists": ok}, nil
}

// optimizations answers GET /collections/{c}/optimizations in Qdrant's
// shape, from the collection's segments: the segments the optimizer has
// work queued on make one queued optimization, the others are idle; no
// optimization is reported as running or completed, as the engine does not
// track them one by one.
func (s *restServer) optimizations(w http.ResponseWriter, r *http.Request) (any, error) {
	var with []string
	if v := r.URL.Query().Get("with"); v != "" {
		for _, f := range strings.Split(v, ",") {
			switch f = strings.TrimSpace(f); f {
			case "queued", "completed", "idle_segments":
				with = append(with, f)
			default:
				return nil, &restError{http.StatusBadRequest, "Wrong input: Unknown field in 'with' parameter: " + f}
			}
		}
	}
	if v := r.URL.Query().Get("completed_limit"); v != "" {
		var n uint64
		if _, err := fmt.Sscan(v, &n); err != nil {
			return nil, restQueryError("invalid digit found in string")
		}
	}
	segs, err := s.db.Segments(r.Context(), r.PathValue("collection_name"))
	if err != nil {
		return nil, err
	}
	type segment struct {
		UUID        string `json:"uuid"`
		PointsCount int    `json:"points_count"`
	}
	type pending struct {
		Optimizer string    `json:"optimizer"`
		Segments  []segment `json:"segments"`
	}
	type summary struct {
		QueuedOptimizations int `json:"queued_optimizations"`
		QueuedSegments      int `json:"queued_segments"`
		QueuedPoints        int `json:"queued_points"`
		IdleSegments        int `json:"idle_segments"`
	}
	out := struct {
		Summary      summary    `json:"summary"`
		Running      []any      `json:"running"`
		Queued       *[]pending `json:"queued,omitempty"`
		Completed    *[]any     `json:"completed,omitempty"`
		IdleSegments *[]segment `json:"idle_segments,omitempty"`
	}{Running: []any{}}
	idle := []segment{}
	queued := []pending{}
	var optimizing []segment
	for _, sg := range segs {
		e := segment{UUID: sg.UUID, PointsCount: sg.Points}
		if sg.Optimizing {
			optimizing = append(optimizing, e)
			out.Summary.QueuedPoints += sg.Points
		} else {
			idle = append(idle, e)
		}
	}
	if len(optimizing) > 0 {
		queued = append(queued, pending{Optimizer: "indexing", Segments: optimizing})
		out.Summary.QueuedOptimizations = 1
		out.Summary.QueuedSegments = len(optimizing)
	}
	out.Summary.IdleSegments = len(idle)
	for _, f := range with {
		switch f {
		case "queued":
			out.Queued = &queued
		case "completed":
			out.Completed = &[]any{}
		case "idle_segments":
			out.IdleSegments = &idle
		}
	}
	return out, nil
}

// restAliasAction is one of Qdrant's AliasOperations.
type restAliasAction struct {
	CreateAlias *struct {
		CollectionName *string `json:"collection_name"`
		AliasName      *string `json:"alias_name"`
	} `json:"create_alias"`
	DeleteAlias *struct {
		AliasName *string `json:"alias_name"`
	} `json:"delete_alias"`
	RenameAlias *struct {
		OldAliasName *string `json:"old_alias_name"`
		NewAliasName *string `json:"new_alias_name"`
	} `json:"rename_alias"`
}

// updateAliases answers POST /collections/aliases: the actions apply
// together or not at all.
func (s *restServer) updateAliases(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		Actions *[]restAliasAction `json:"actions"`
	}
	if err := s.decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.Actions == nil {
		return nil, restMissing("", "actions")
	}
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	ops := make([]engine.AliasOp, len(*req.Actions))
	for i, a := range *req.Actions {
		p := restIndex("actions", i)
		// Qdrant reads each action as an untagged enum: an action that
		// does not decode reports the enum alone.
		missing := func(op, field string) error {
			return restFormatPos(p, "data did not match any variant of untagged enum AliasOperations")
		}
		switch {
		case a.CreateAlias != nil:
			c := a.CreateAlias
			if c.CollectionName == nil {
				return nil, missing("create_alias", "collection_name")
			}
			if c.AliasName == nil {
				return nil, missing("create_alias", "alias_name")
			}
			if msg := collectionNameProblem(*c.AliasName, true); msg != "" {
				return nil, restValidationError(p+".create_alias.alias_name", "%s", msg)
			}
			ops[i].Create = &engine.CreateAlias{Collection: *c.CollectionName, Alias: *c.AliasName}
		case a.DeleteAlias != nil:
			if a.DeleteAlias.AliasName == nil {
				return nil, missing("delete_alias", "alias_name")
			}
			ops[i].Delete = &engine.DeleteAlias{Alias: *a.DeleteAlias.AliasName}
		case a.RenameAlias != nil:
			c := a.RenameAlias
			if c.OldAliasName == nil {
				return nil, missing("rename_alias", "old_alias_name")
			}
			if c.NewAliasName == nil {
				return nil, missing("rename_alias", "new_alias_name")
			}
			if msg := collectionNameProblem(*c.NewAliasName, true); msg != "" {
				return nil, restValidationError(p+".rename_alias.new_alias_name", "%s", msg)
			}
			ops[i].Rename = &engine.RenameAlias{Old: *c.OldAliasName, New: *c.NewAliasName}
		default:
			return nil, restFormatAt(p, "data did not match any variant of untagged enum AliasOperations")
		}
	}
	if err := s.db.UpdateAliases(r.Context(), ops); err != nil {
		return nil, err
	}
	return true, nil
}

// restAliases encodes alias descriptions.
func restAliases(as []engine.AliasDesc) any {
	type desc struct {
		AliasName      string `json:"alias_name"`
		CollectionName string `json:"collection_name"`
	}
	out := make([]desc, len(as))
	for i, a := range as {
		out[i] = desc{a.Alias, a.Collection}
	}
	return map[string][]desc{"aliases": out}
}

// collectionAliases answers GET /collections/{c}/aliases.
func (s *restServer) collectionAliases(w http.ResponseWriter, r *http.Request) (any, error) {
	as, err := s.db.ListAliases(r.Context(), r.PathValue("collection_name"))
	if err != nil {
		return nil, err
	}
	return restAliases(as), nil
}

// allAliases answers GET /aliases.
func (s *restServer) allAliases(w http.ResponseWriter, r *http.Request) (any, error) {
	as, err := s.db.ListAliases(r.Context(), "")
	if err != nil {
		return nil, err
	}
	return restAliases(as), nil
}

// createIndex answers PUT /collections/{c}/index. Without field_schema the
// type is inferred from the first stored value of the field, as Qdrant
// infers it.
func (s *restServer) createIndex(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		FieldName   *string         `json:"field_name"`
		FieldSchema json.RawMessage `json:"field_schema"`
	}
	if err := s.decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.FieldName == nil {
		return nil, restMissing("", "field_name")
	}
	if _, err := payload.ParsePath(*req.FieldName); err != nil {
		return nil, restFormatPos("field_name", "Invalid json path: '%s'", *req.FieldName)
	}
	var params payload.IndexParams
	if !restIsNull(req.FieldSchema) {
		if err := params.UnmarshalJSON(req.FieldSchema); err != nil {
			// Qdrant reads field_schema as an untagged enum: stopwords or a
			// stemmer it does not know match none of its variants.
			if _, ok := errors.AsType[*payload.UnknownLanguageError](err); ok {
				return nil, restFormatPos("field_schema", "data did not match any variant of untagged enum PayloadFieldSchema")
			}
			return nil, restFormatError("field_schema: %s", restTrimQlite(err.Error()))
		}
		// Qdrant validates the body before it looks for the collection.
		if err := params.Validate(); errors.Is(err, payload.ErrLookupAndRangeOff) {
			return nil, restValidationError("field_schema.lookup", "Validation error: %s [{}]", payload.ErrLookupAndRangeOff)
		}
	}
	wo, err := restWriteOptions(r)
	if err != nil {
		return nil, err
	}
	coll := r.PathValue("collection_name")
	if restIsNull(req.FieldSchema) {
		if params, err = s.inferIndex(r.Context(), coll, *req.FieldName); err != nil {
			return nil, err
		}
	}
	res, err := s.db.CreateFieldIndex(r.Context(), coll, *req.FieldName, params, wo)
	if err != nil {
		return nil, err
	}
	return restUpdateResult(res), nil
}

// inferIndex infers the index type of a field from a stored value: bool,
// integer, float, keyword for strings, geo for {"lon", "lat"} objects;
// arrays by their first element.
func (s *restServer) inferIndex(ctx context.Context, coll, field string) (payload.IndexParams, error) {
	fail := func() (payload.IndexParams, error) {
		return payload.IndexParams{}, fmt.Errorf("%w: Unable to infer type for the field '%s'. Please specify field_type", engine.ErrBadRequest, field)
	}
	path, err := payload.ParsePath(field)
	if err != nil {
		return payload.IndexParams{}, fmt.Errorf("%w: field_name: %w", engine.ErrBadRequest, err)
	}
	f := &filter.Filter{MustNot: []filter.Condition{&filter.IsEmpty{Key: path}}}
	res, err := s.db.Scroll(engine.Internal(ctx), coll, &engine.ScrollRequest{Filter: f, Limit: 1, WithPayload: engine.PayloadSelector{Include: []string{field}}})
	if err != nil {
		return payload.IndexParams{}, err
	}
	if len(res.Points) == 0 {
		return fail()
	}
	vals := path.Find(res.Points[0].Payload, nil)
	for len(vals) > 0 && vals[0].Kind() == payload.Array {
		vals = vals[0].Array()
	}
	vals = slices.DeleteFunc(vals, func(v payload.Value) bool { return v.IsNull() })
	if len(vals) == 0 {
		return fail()
	}
	switch v := vals[0]; v.Kind() {
	case payload.Bool:
		return payload.IndexParams{Type: payload.TypeBool}, nil
	case payload.Int, payload.Uint:
		return payload.IndexParams{Type: payload.TypeInteger}, nil
	case payload.Float:
		return payload.IndexParams{Type: payload.TypeFloat}, nil
	case payload.String:
		return payload.IndexParams{Type: payload.TypeKeyword}, nil
	case payload.Object:
		if _, ok := payload.GeoPointFrom(v); ok {
			return payload.IndexParams{Type: payload.TypeGeo}, nil
		}
	}
	return fail()
}

// deleteIndex answers DELETE /collections/{c}/index/{field_name}.
func (s *restServer) deleteIndex(w http.ResponseWriter, r *http.Request) (any, error) {
	wo, err := restWriteOptions(r)
	if err != nil {
		return nil, err
	}
	res, err := s.db.DeleteFieldIndex(r.Context(), r.PathValue("collection_name"), r.PathValue("field_name"), wo)
	if err != nil {
		return nil, err
	}
	return restUpdateResult(res), nil
}

// restUpdateResultOut is Qdrant's UpdateResult.
type restUpdateResultOut struct {
	OperationID uint64 `json:"operation_id"`
	Status      string `json:"status"`
}

func restUpdateResult(r engine.UpdateResult) restUpdateResultOut {
	return restUpdateResultOut{OperationID: r.OperationID, Status: string(r.Status)}
}
