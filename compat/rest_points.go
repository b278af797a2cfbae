package compat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// restLargeLimit is the limit (plus offset) above which a request's limit is
// clamped to the collection's number of points, so that an absurd limit
// cannot make the engine reserve memory for results that cannot exist.
const restLargeLimit = 1 << 16

// clamp converts a limit and an offset to ints, clamping large ones to the
// number of points in the collection (no answer can hold more).
func (s *restServer) clamp(ctx context.Context, coll string, limit, offset uint64) (int, int, error) {
	if limit <= restLargeLimit && offset <= restLargeLimit {
		return int(limit), int(offset), nil
	}
	return s.db.BoundWindow(ctx, coll, limit, offset)
}

// restLimit checks a limit that must be at least 1 (Qdrant's
// range(min = 1)), returning def when it is absent.
func restLimit(v *uint64, path string, def uint64) (uint64, error) {
	if v == nil {
		return def, nil
	}
	if *v < 1 {
		return 0, restValidationError(path, "value 0 invalid, must be 1 or larger")
	}
	return *v, nil
}

// getPoint answers GET /collections/{c}/points/{id}: the point with its
// payload and vectors, or 404.
func (s *restServer) getPoint(w http.ResponseWriter, r *http.Request) (any, error) {
	if err := restReadOptions(r); err != nil {
		return nil, err
	}
	raw := r.PathValue("id")
	id, err := filter.ParsePointID(raw)
	if err != nil {
		return nil, &restError{http.StatusBadRequest, "Wrong input: Can not recognize \"" + raw + "\" as point id"}
	}
	recs, err := s.db.Get(r.Context(), r.PathValue("collection_name"), []filter.PointID{id},
		&engine.ReadOptions{WithPayload: engine.AllPayload, WithVectors: engine.AllVectors})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, restNotFound("Point with id %s does not exists!", id)
	}
	return restRecords(recs, true)[0], nil
}

// getPoints answers POST /collections/{c}/points: the points with the given
// ids that exist, in the order asked.
func (s *restServer) getPoints(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		IDs         json.RawMessage `json:"ids"`
		WithPayload json.RawMessage `json:"with_payload"`
		WithVector  json.RawMessage `json:"with_vector"`
		WithVectors json.RawMessage `json:"with_vectors"`
		ShardKey    json.RawMessage `json:"shard_key"`
	}
	if err := s.decodeRead(r, &req); err != nil {
		return nil, err
	}
	if restIsNull(req.IDs) {
		return nil, restMissing("", "ids")
	}
	ids, err := restIDs(req.IDs, "ids")
	if err != nil {
		return nil, err
	}
	// Without with_payload, Qdrant 1.17 retrieves points without their
	// payload (GET of one point, and scroll, include it).
	ps, asked, err := restWithPayload(req.WithPayload, "with_payload", false)
	if err != nil {
		return nil, err
	}
	vs, err := restWithVector(restWithVectorField(req.WithVector, req.WithVectors), "with_vector", false)
	if err != nil {
		return nil, err
	}
	if err := restShardKey(req.ShardKey, "shard_key"); err != nil {
		return nil, err
	}
	recs, err := s.db.Get(r.Context(), r.PathValue("collection_name"), ids, &engine.ReadOptions{WithPayload: ps, WithVectors: vs})
	if err != nil {
		return nil, err
	}
	return restRecords(recs, asked), nil
}

// restUpsertOp reads PointInsertOperations: {"points": [...]} or
// {"batch": {"ids", "vectors", "payloads"}}, with update_filter and
// update_mode.
func restUpsertOp(raw json.RawMessage, path string) (*engine.UpsertOp, error) {
	var req struct {
		Points       json.RawMessage `json:"points"`
		Batch        json.RawMessage `json:"batch"`
		ShardKey     json.RawMessage `json:"shard_key"`
		UpdateFilter json.RawMessage `json:"update_filter"`
		UpdateMode   *string         `json:"update_mode"`
	}
	if err := restUnmarshal(raw, path, &req); err != nil {
		return nil, err
	}
	at := func(name string) string { return restJoin(path, name) }
	op := &engine.UpsertOp{}
	var err error
	switch {
	case !restIsNull(req.Batch):
		if op.Points, err = restBatch(req.Batch, at("batch")); err != nil {
			return nil, err
		}
	case !restIsNull(req.Points):
		elems, err := restArray(req.Points, at("points"))
		if err != nil {
			return nil, err
		}
		op.Points = make([]engine.Point, len(elems))
		for i, e := range elems {
			if op.Points[i], err = restPoint(e, restIndex(at("points"), i)); err != nil {
				return nil, err
			}
		}
	default:
		return nil, restFormatAt(path, "data did not match any variant of untagged enum PointInsertOperations")
	}
	if err := restShardKey(req.ShardKey, at("shard_key")); err != nil {
		return nil, err
	}
	if op.UpdateFilter, err = restFilter(req.UpdateFilter, at("update_filter")); err != nil {
		return nil, err
	}
	if req.UpdateMode != nil {
		switch *req.UpdateMode {
		case "upsert":
		case "insert_only":
			op.Mode = engine.ModeInsertOnly
		case "update_only":
			op.Mode = engine.ModeUpdateOnly
		default:
			return nil, restFormatAt(at("update_mode"), "unknown variant `%s`, expected one of `upsert`, `insert_only`, `update_only`", *req.UpdateMode)
		}
	}
	return op, nil
}

// restPoint reads a PointStruct {"id", "vector", "payload"}.
func restPoint(raw json.RawMessage, path string) (engine.Point, error) {
	var p struct {
		ID      json.RawMessage `json:"id"`
		Vector  json.RawMessage `json:"vector"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := restUnmarshal(raw, path, &p); err != nil {
		return engine.Point{}, err
	}
	var out engine.Point
	var err error
	if restIsNull(p.ID) {
		return out, restMissing(path, "id")
	}
	if out.ID, err = restID(p.ID, restJoin(path, "id")); err != nil {
		return out, err
	}
	if restIsNull(p.Vector) {
		return out, restMissing(path, "vector")
	}
	vecs, err := restVectorStruct(p.Vector, restJoin(path, "vector"), restJoin(path, "vector"))
	if err != nil {
		return out, err
	}
	out.Vectors, out.Multi, out.Sparse = vecs.dense, vecs.multi, vecs.sparse
	out.Payload, err = restPayload(p.Payload, restJoin(path, "payload"))
	return out, err
}

// restBatch reads a Batch {"ids", "vectors", "payloads"} into points.
func restBatch(raw json.RawMessage, path string) ([]engine.Point, error) {
	var b struct {
		IDs      json.RawMessage `json:"ids"`
		Vectors  json.RawMessage `json:"vectors"`
		Payloads json.RawMessage `json:"payloads"`
	}
	if err := restUnmarshal(raw, path, &b); err != nil {
		return nil, err
	}
	if restIsNull(b.IDs) {
		return nil, restMissing(path, "ids")
	}
	ids, err := restIDs(b.IDs, restJoin(path, "ids"))
	if err != nil {
		return nil, err
	}
	if restIsNull(b.Vectors) {
		return nil, restMissing(path, "vectors")
	}
	vecs, err := restBatchVectors(b.Vectors, restJoin(path, "vectors"), path, len(ids))
	if err != nil {
		return nil, err
	}
	points := make([]engine.Point, len(ids))
	for i := range ids {
		points[i] = engine.Point{ID: ids[i], Vectors: vecs[i].dense, Multi: vecs[i].multi, Sparse: vecs[i].sparse}
	}
	if !restIsNull(b.Payloads) {
		p := restJoin(path, "payloads")
		elems, err := restArray(b.Payloads, p)
		if err != nil {
			return nil, err
		}
		if len(elems) != len(ids) {
			return nil, restValidationError(path+".batch", "number of ids and payloads must be equal (%d != %d)", len(ids), len(elems))
		}
		for i, e := range elems {
			if points[i].Payload, err = restPayload(e, restIndex(p, i)); err != nil {
				return nil, err
			}
		}
	}
	return points, nil
}

// upsertPoints answers PUT /collections/{c}/points.
func (s *restServer) upsertPoints(w http.ResponseWriter, r *http.Request) (any, error) {
	b, err := s.body(r)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := restDecode(b, &raw); err != nil {
		return nil, err
	}
	op, err := restUpsertOp(raw, "")
	if err != nil {
		return nil, err
	}
	return s.write(r, engine.Operation{Upsert: op})
}

// restEmptyUpdate reports whether op selects nothing by an empty list of
// points, which Qdrant refuses as an empty update request (a filter that
// matches nothing is fine).
func restEmptyUpdate(op *engine.Operation) bool {
	empty := func(sel engine.Selector) bool { return sel.Filter == nil && len(sel.IDs) == 0 }
	switch {
	case op.Upsert != nil:
		return len(op.Upsert.Points) == 0
	case op.Delete != nil:
		return empty(*op.Delete)
	case op.SetPayload != nil:
		return empty(op.SetPayload.Selector)
	case op.OverwritePayload != nil:
		return empty(op.OverwritePayload.Selector)
	case op.ClearPayload != nil:
		return empty(*op.ClearPayload)
	case op.DeleteVectors != nil:
		return empty(op.DeleteVectors.Selector)
	}
	return false
}

// checkEmptyUpdates answers an update of an existing collection that has
// an empty operation as Qdrant does: 400 "Bad request: Empty update
// request" (after the collection is found).
func (s *restServer) checkEmptyUpdates(r *http.Request, ops []engine.Operation) error {
	if !slices.ContainsFunc(ops, func(op engine.Operation) bool { return restEmptyUpdate(&op) }) {
		return nil
	}
	coll := r.PathValue("collection_name")
	if ok, err := s.db.CollectionExists(r.Context(), coll); err != nil || !ok {
		return nil // the engine reports it
	}
	return restBadRequest("Empty update request")
}

// oneOperationMessage drops from the engine's message about a request that
// held one operation the operation's position in the batch, and the path of
// the point it names (Qdrant's messages about a point do not name it).
func oneOperationMessage(msg string) string {
	msg = strings.Replace(msg, "operations[0].", "", 1)
	msg = strings.Replace(msg, "operations[0]: ", "", 1)
	return pointPathRE.ReplaceAllString(msg, "$1")
}

// pointPathRE matches the point path ("points[3]: ", "points[3].vector: ")
// after "Wrong input: " in the engine's messages.
var pointPathRE = regexp.MustCompile(`^(Wrong input: )(?:points|batch)(?:\[\d+\])?(?:\.[a-z_]+)*: `)

// write applies one operation with the request's write options.
func (s *restServer) write(r *http.Request, op engine.Operation) (any, error) {
	wo, err := restWriteOptions(r)
	if err != nil {
		return nil, err
	}
	if err := s.checkEmptyUpdates(r, []engine.Operation{op}); err != nil {
		return nil, err
	}
	res, err := s.db.BatchUpdate(r.Context(), r.PathValue("collection_name"), []engine.Operation{op}, wo)
	if err != nil {
		// The request held one operation: drop the engine's batch position
		// from the message.
		code, msg := restErrorStatus(err)
		return nil, &restError{code, oneOperationMessage(msg)}
	}
	if len(res) == 0 {
		return restUpdateResultOut{Status: string(engine.StatusCompleted)}, nil
	}
	return restUpdateResult(res[0]), nil
}

// restSelectorBody is the points selector part of update bodies: point ids
// and / or a filter.
type restSelectorBody struct {
	Points   json.RawMessage `json:"points"`
	Filter   json.RawMessage `json:"filter"`
	ShardKey json.RawMessage `json:"shard_key"`
}

// restPointsSelector reads a PointsSelector ({"points": [...]} or
// {"filter": ...}); ids win when both are given, as they do in Qdrant.
func restPointsSelector(raw json.RawMessage, path string) (engine.Selector, error) {
	var b restSelectorBody
	if err := restUnmarshal(raw, path, &b); err != nil {
		return engine.Selector{}, err
	}
	if err := restShardKey(b.ShardKey, restJoin(path, "shard_key")); err != nil {
		return engine.Selector{}, err
	}
	switch {
	case !restIsNull(b.Points):
		ids, err := restIDs(b.Points, restJoin(path, "points"))
		if ids == nil {
			ids = []filter.PointID{}
		}
		return engine.Selector{IDs: ids}, err
	case !restIsNull(b.Filter):
		f, err := restFilter(b.Filter, restJoin(path, "filter"))
		if f == nil {
			f = &filter.Filter{}
		}
		return engine.Selector{Filter: f}, err
	}
	return engine.Selector{}, restFormatAt(path, "data did not match any variant of untagged enum PointsSelector")
}

// selector reads the ids and / or filter of a payload or vector update:
// with both, the points listed that match the filter.
func (b *restSelectorBody) selector(path string) (engine.Selector, error) {
	if err := restShardKey(b.ShardKey, restJoin(path, "shard_key")); err != nil {
		return engine.Selector{}, err
	}
	var sel engine.Selector
	var err error
	if !restIsNull(b.Points) {
		if sel.IDs, err = restIDs(b.Points, restJoin(path, "points")); err != nil {
			return sel, err
		}
		if sel.IDs == nil {
			sel.IDs = []filter.PointID{}
		}
	}
	if !restIsNull(b.Filter) {
		if sel.Filter, err = restFilter(b.Filter, restJoin(path, "filter")); err != nil {
			return sel, err
		}
		if sel.Filter == nil {
			sel.Filter = &filter.Filter{}
		}
	}
	switch {
	case sel.IDs == nil && sel.Filter == nil:
		return sel, restFormatAt(path, "Either list of point ids or filter must be provided")
	case sel.IDs != nil && sel.Filter != nil:
		ids := filter.NewHasID(sel.IDs...)
		sel = engine.Selector{Filter: &filter.Filter{Must: []filter.Condition{ids, sel.Filter}}}
	}
	return sel, nil
}

// deletePoints answers POST /collections/{c}/points/delete.
func (s *restServer) deletePoints(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.writeKind(r, "delete")
}

// writeKind is the pipeline of the point writes other than upsert: it reads
// the body as one JSON value, converts it as an operation of kind (named as
// in a batch update) and applies it with the request's write options.
func (s *restServer) writeKind(r *http.Request, kind string) (any, error) {
	raw, err := s.rawBody(r)
	if err != nil {
		return nil, err
	}
	op, _, err := restOperation(kind, raw, "")
	if err != nil {
		return nil, err
	}
	return s.write(r, op)
}

// restOperation converts one point operation of kind (a key of Qdrant's
// UpdateOperation: "upsert", "delete", ...) from raw; path names it in
// messages. known is false when kind is none of them.
func restOperation(kind string, raw json.RawMessage, path string) (op engine.Operation, known bool, err error) {
	switch kind {
	case "upsert":
		op.Upsert, err = restUpsertOp(raw, path)
	case "delete":
		var sel engine.Selector
		sel, err = restPointsSelector(raw, path)
		op.Delete = &sel
	case "set_payload":
		op.SetPayload, err = restSetPayloadOp(raw, path)
	case "overwrite_payload":
		op.OverwritePayload, err = restSetPayloadOp(raw, path)
	case "delete_payload":
		op.DeletePayload, err = restDeletePayloadOp(raw, path)
	case "clear_payload":
		var sel engine.Selector
		sel, err = restPointsSelector(raw, path)
		op.ClearPayload = &sel
	case "update_vectors":
		op.UpdateVectors, err = restUpdateVectorsOp(raw, path)
	case "delete_vectors":
		op.DeleteVectors, err = restDeleteVectorsOp(raw, path)
	default:
		return op, false, nil
	}
	return op, true, err
}

// rawBody reads the body as one JSON value.
func (s *restServer) rawBody(r *http.Request) (json.RawMessage, error) {
	var raw json.RawMessage
	err := s.decodeBody(r, &raw)
	return raw, err
}

// restUpdateVectorsOp reads UpdateVectors {"points": [{"id", "vector"}],
// "update_filter"}.
func restUpdateVectorsOp(raw json.RawMessage, path string) (*engine.UpdateVectorsOp, error) {
	var req struct {
		Points       json.RawMessage `json:"points"`
		ShardKey     json.RawMessage `json:"shard_key"`
		UpdateFilter json.RawMessage `json:"update_filter"`
	}
	if err := restUnmarshal(raw, path, &req); err != nil {
		return nil, err
	}
	if restIsNull(req.Points) {
		return nil, restMissing(path, "points")
	}
	if err := restShardKey(req.ShardKey, restJoin(path, "shard_key")); err != nil {
		return nil, err
	}
	pp := restJoin(path, "points")
	elems, err := restArray(req.Points, pp)
	if err != nil {
		return nil, err
	}
	op := &engine.UpdateVectorsOp{Points: make([]engine.PointVectors, len(elems))}
	for i, e := range elems {
		p := restIndex(pp, i)
		var pv struct {
			ID     json.RawMessage `json:"id"`
			Vector json.RawMessage `json:"vector"`
		}
		if err := restUnmarshal(e, p, &pv); err != nil {
			return nil, err
		}
		if restIsNull(pv.ID) {
			return nil, restMissing(p, "id")
		}
		if op.Points[i].ID, err = restID(pv.ID, restJoin(p, "id")); err != nil {
			return nil, err
		}
		if restIsNull(pv.Vector) {
			return nil, restMissing(p, "vector")
		}
		// Qdrant's validation messages name the vectors by the point
		// ("points[0].?.indices").
		vecs, err := restVectorStruct(pv.Vector, restJoin(p, "vector"), p)
		if err != nil {
			return nil, err
		}
		op.Points[i].Vectors, op.Points[i].Multi, op.Points[i].Sparse = vecs.dense, vecs.multi, vecs.sparse
	}
	if op.UpdateFilter, err = restFilter(req.UpdateFilter, restJoin(path, "update_filter")); err != nil {
		return nil, err
	}
	return op, nil
}

// updateVectors answers PUT /collections/{c}/points/vectors.
func (s *restServer) updateVectors(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.writeKind(r, "update_vectors")
}

// restDeleteVectorsOp reads DeleteVectors {"points" | "filter", "vector"}.
func restDeleteVectorsOp(raw json.RawMessage, path string) (*engine.DeleteVectorsOp, error) {
	var req struct {
		restSelectorBody
		Vector *[]string `json:"vector"`
	}
	if err := restUnmarshal(raw, path, &req); err != nil {
		return nil, err
	}
	if req.Vector == nil {
		return nil, restMissing(path, "vector")
	}
	if len(*req.Vector) == 0 {
		return nil, restValidationError(restJoin(path, "vector"), "value invalid, must not be empty")
	}
	sel, err := req.selector(path)
	if err != nil {
		return nil, err
	}
	return &engine.DeleteVectorsOp{Selector: sel, Names: *req.Vector}, nil
}

// deleteVectors answers POST /collections/{c}/points/vectors/delete.
func (s *restServer) deleteVectors(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.writeKind(r, "delete_vectors")
}

// restSetPayloadOp reads SetPayload {"payload", "points" | "filter", "key"}.
func restSetPayloadOp(raw json.RawMessage, path string) (*engine.SetPayloadOp, error) {
	var req struct {
		restSelectorBody
		Payload json.RawMessage `json:"payload"`
		Key     *string         `json:"key"`
	}
	if err := restUnmarshal(raw, path, &req); err != nil {
		return nil, err
	}
	if req.Key != nil {
		if _, err := payload.ParsePath(*req.Key); err != nil {
			return nil, restFormatPos(restJoin(path, "key"), "Invalid json path: '%s'", *req.Key)
		}
	}
	if restIsNull(req.Payload) {
		return nil, restMissing(path, "payload")
	}
	p, err := restPayload(req.Payload, restJoin(path, "payload"))
	if err != nil {
		return nil, err
	}
	sel, err := req.selector(path)
	if err != nil {
		return nil, err
	}
	op := &engine.SetPayloadOp{Payload: p, Selector: sel}
	if req.Key != nil {
		op.Key = *req.Key
	}
	return op, nil
}

// setPayload answers POST /collections/{c}/points/payload.
func (s *restServer) setPayload(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.writeKind(r, "set_payload")
}

// overwritePayload answers PUT /collections/{c}/points/payload.
func (s *restServer) overwritePayload(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.writeKind(r, "overwrite_payload")
}

// restDeletePayloadOp reads DeletePayload {"keys", "points" | "filter"}.
func restDeletePayloadOp(raw json.RawMessage, path string) (*engine.DeletePayloadOp, error) {
	var req struct {
		restSelectorBody
		Keys *[]string `json:"keys"`
	}
	if err := restUnmarshal(raw, path, &req); err != nil {
		return nil, err
	}
	if req.Keys == nil {
		return nil, restMissing(path, "keys")
	}
	sel, err := req.selector(path)
	if err != nil {
		return nil, err
	}
	return &engine.DeletePayloadOp{Keys: *req.Keys, Selector: sel}, nil
}

// deletePayload answers POST /collections/{c}/points/payload/delete.
func (s *restServer) deletePayload(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.writeKind(r, "delete_payload")
}

// clearPayload answers POST /collections/{c}/points/payload/clear.
func (s *restServer) clearPayload(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.writeKind(r, "clear_payload")
}

// restUpdateOperationError is Qdrant's answer to an operation of a batch
// that does not decode: Qdrant reads each operation as an untagged enum,
// so any format error inside one reports the enum alone. Validation errors
// pass through.
func restUpdateOperationError(err error, path string) error {
	var re *restError
	if errors.As(err, &re) && re.status == http.StatusBadRequest && strings.HasPrefix(re.msg, "Format error in JSON body: ") {
		return restFormatPos(path, "%s", restEnumUpdateOperation)
	}
	if errors.Is(err, errRestNotVector) {
		return restFormatPos(path, "%s", restEnumUpdateOperation)
	}
	return err
}

// batchUpdate answers POST /collections/{c}/points/batch: the operations in
// order, all or none, one UpdateResult each.
func (s *restServer) batchUpdate(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		Operations *[]json.RawMessage `json:"operations"`
	}
	if err := s.decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.Operations == nil {
		return nil, restMissing("", "operations")
	}
	wo, err := restWriteOptions(r)
	if err != nil {
		return nil, err
	}
	ops := make([]engine.Operation, len(*req.Operations))
	for i, raw := range *req.Operations {
		p := restIndex("operations", i)
		m, err := restObject(raw, p)
		if err != nil {
			return nil, err
		}
		if len(m) != 1 {
			return nil, restFormatAt(p, "data did not match any variant of untagged enum UpdateOperation")
		}
		for kind, v := range m {
			var known bool
			ops[i], known, err = restOperation(kind, v, restJoin(p, kind))
			if !known {
				err = restFormatAt(p, "data did not match any variant of untagged enum UpdateOperation")
			}
			if err != nil {
				return nil, restUpdateOperationError(err, p)
			}
		}
	}
	if err := s.checkEmptyUpdates(r, ops); err != nil {
		return nil, err
	}
	res, err := s.db.BatchUpdate(r.Context(), r.PathValue("collection_name"), ops, wo)
	if err != nil {
		return nil, err
	}
	out := make([]restUpdateResultOut, len(res))
	for i, u := range res {
		out[i] = restUpdateResult(u)
	}
	return out, nil
}

// scroll answers POST /collections/{c}/points/scroll.
func (s *restServer) scroll(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		Offset      json.RawMessage `json:"offset"`
		Limit       *uint64         `json:"limit"`
		Filter      json.RawMessage `json:"filter"`
		WithPayload json.RawMessage `json:"with_payload"`
		WithVector  json.RawMessage `json:"with_vector"`
		WithVectors json.RawMessage `json:"with_vectors"`
		OrderBy     json.RawMessage `json:"order_by"`
		ShardKey    json.RawMessage `json:"shard_key"`
	}
	if err := s.decodeRead(r, &req); err != nil {
		return nil, err
	}
	coll := r.PathValue("collection_name")
	sr := &engine.ScrollRequest{}
	limit, err := restLimit(req.Limit, "limit", 10)
	if err != nil {
		return nil, err
	}
	if !restIsNull(req.Offset) {
		id, err := restID(req.Offset, "offset")
		if err != nil {
			return nil, err
		}
		sr.Offset = &id
	}
	if sr.Filter, err = restFilter(req.Filter, "filter"); err != nil {
		return nil, err
	}
	ps, asked, err := restWithPayload(req.WithPayload, "with_payload", true)
	if err != nil {
		return nil, err
	}
	sr.WithPayload = ps
	if sr.WithVectors, err = restWithVector(restWithVectorField(req.WithVector, req.WithVectors), "with_vector", false); err != nil {
		return nil, err
	}
	if sr.OrderBy, err = restOrderBy(req.OrderBy, "order_by"); err != nil {
		return nil, err
	}
	if err := restShardKey(req.ShardKey, "shard_key"); err != nil {
		return nil, err
	}
	if sr.Limit, _, err = s.clamp(r.Context(), coll, limit, 0); err != nil {
		return nil, err
	}
	sr.DefaultLimit = req.Limit == nil
	if err := s.opts.Limits.restAdmit(r.Context(), s.db, coll, []window{scrollWindow(sr)}); err != nil {
		return nil, err
	}
	res, err := s.db.Scroll(r.Context(), coll, sr)
	if err != nil {
		return nil, err
	}
	return struct {
		Points         []restRecord    `json:"points"`
		NextPageOffset *filter.PointID `json:"next_page_offset"`
	}{restRecords(res.Points, asked), res.NextPageOffset}, nil
}

// count answers POST /collections/{c}/points/count.
func (s *restServer) count(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		Filter   json.RawMessage `json:"filter"`
		Exact    *bool           `json:"exact"`
		ShardKey json.RawMessage `json:"shard_key"`
	}
	if err := s.decodeRead(r, &req); err != nil {
		return nil, err
	}
	f, err := restFilter(req.Filter, "filter")
	if err != nil {
		return nil, err
	}
	if err := restShardKey(req.ShardKey, "shard_key"); err != nil {
		return nil, err
	}
	exact := req.Exact == nil || *req.Exact
	n, err := s.db.Count(r.Context(), r.PathValue("collection_name"), f, exact)
	if err != nil {
		return nil, err
	}
	return map[string]int{"count": n}, nil
}

// facet answers POST /collections/{c}/facet: the most frequent values of a
// keyword, integer, bool or uuid indexed field, with their counts.
func (s *restServer) facet(w http.ResponseWriter, r *http.Request) (any, error) {
	var req struct {
		Key      *string         `json:"key"`
		Limit    *uint64         `json:"limit"`
		Filter   json.RawMessage `json:"filter"`
		Exact    *bool           `json:"exact"`
		ShardKey json.RawMessage `json:"shard_key"`
	}
	if err := s.decodeRead(r, &req); err != nil {
		return nil, err
	}
	if req.Key == nil {
		return nil, restMissing("", "key")
	}
	limit, err := restLimit(req.Limit, "limit", 10)
	if err != nil {
		return nil, err
	}
	f, err := restFilter(req.Filter, "filter")
	if err != nil {
		return nil, err
	}
	if err := restShardKey(req.ShardKey, "shard_key"); err != nil {
		return nil, err
	}
	coll := r.PathValue("collection_name")
	n, _, err := s.clamp(r.Context(), coll, limit, 0)
	if err != nil {
		return nil, err
	}
	if req.Limit == nil {
		n = 0 // the engine's default, which strict mode does not bound
	}
	hits, err := s.db.Facet(r.Context(), coll, &engine.FacetRequest{Key: *req.Key, Filter: f, Limit: n, Exact: req.Exact != nil && *req.Exact})
	if err != nil {
		return nil, err
	}
	type hit struct {
		Value payload.Value `json:"value"`
		Count int           `json:"count"`
	}
	out := make([]hit, len(hits))
	for i, h := range hits {
		out[i] = hit{Value: h.Value, Count: h.Count}
	}
	return map[string][]hit{"hits": out}, nil
}
