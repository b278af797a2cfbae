package compat

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// pointsService is the qdrant.Points service. This file has the writes and
// the reads by id and by filter (get, scroll, count); grpc_query.go has the
// searches.
type pointsService struct {
	qdrant.UnimplementedPointsServer
	db     *engine.DB
	limits Limits
}

// writeOptions converts a request's wait flag.
func writeOptions(wait *bool) *engine.WriteOptions {
	return &engine.WriteOptions{Wait: wait != nil && *wait}
}

// operationResponse is the answer to a point or field-index operation. It
// carries an empty usage, as Qdrant's does when hardware reporting is off.
func operationResponse(start time.Time, r engine.UpdateResult) *qdrant.PointsOperationResponse {
	return &qdrant.PointsOperationResponse{Result: updateResultToProto(r), Time: since(start), Usage: &qdrant.Usage{}}
}

// pointFromProto converts a point to write. An empty payload is no payload,
// as in Qdrant. path names the point in validation messages.
func pointFromProto(p *qdrant.PointStruct, path string) (engine.Point, error) {
	if p.GetId() == nil {
		return engine.Point{}, invalidArg("Empty ID is not allowed")
	}
	id, err := pointIDFromProto(p.GetId())
	if err != nil {
		return engine.Point{}, err
	}
	if p.GetVectors() == nil {
		return engine.Point{}, invalidArg("Expected some vectors")
	}
	vecs, err := vectorsFromProto(p.GetVectors(), path+".vectors")
	if err != nil {
		return engine.Point{}, err
	}
	out := engine.Point{ID: id, Vectors: vecs.dense, Multi: vecs.multi, Sparse: vecs.sparse}
	if len(p.GetPayload()) > 0 {
		if out.Payload, err = structFromProto(p.GetPayload()); err != nil {
			return engine.Point{}, err
		}
	}
	return out, nil
}

// upsertFromProto converts the points, filter and mode of an upsert; path
// names the request in validation messages ("" for the request itself).
func upsertFromProto(points []*qdrant.PointStruct, updateFilter *qdrant.Filter, mode qdrant.UpdateMode, path string) (*engine.UpsertOp, error) {
	op := &engine.UpsertOp{Points: make([]engine.Point, len(points))}
	for i, p := range points {
		var err error
		if op.Points[i], err = pointFromProto(p, fmt.Sprintf("%spoints[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	var err error
	if op.UpdateFilter, err = filterFromProto(updateFilter); err != nil {
		return nil, err
	}
	switch mode {
	case qdrant.UpdateMode_Upsert:
		op.Mode = engine.ModeUpsert
	case qdrant.UpdateMode_InsertOnly:
		op.Mode = engine.ModeInsertOnly
	case qdrant.UpdateMode_UpdateOnly:
		op.Mode = engine.ModeUpdateOnly
	default:
		return nil, invalidArg("Unknown update mode: %d", int32(mode))
	}
	return op, nil
}

// selectorFromProto converts a points selector: ids or a filter.
func selectorFromProto(p *qdrant.PointsSelector) (engine.Selector, error) {
	switch x := p.GetPointsSelectorOneOf().(type) {
	case *qdrant.PointsSelector_Points:
		ids, err := pointIDsFromProto(x.Points.GetIds())
		return engine.Selector{IDs: ids}, err
	case *qdrant.PointsSelector_Filter:
		f, err := filterFromProto(x.Filter)
		if f == nil && err == nil {
			f = &filter.Filter{}
		}
		return engine.Selector{Filter: f}, err
	}
	return engine.Selector{}, invalidArg("Malformed PointsSelector type")
}

// requiredSelector converts a selector that must be given; missing is the
// error msg.
func requiredSelector(p *qdrant.PointsSelector, msg string) (engine.Selector, error) {
	if p == nil {
		return engine.Selector{}, invalidArg("%s", msg)
	}
	return selectorFromProto(p)
}

// pointVectorsFromProto converts the points of a vector update; path names
// the request in validation messages ("" for the request itself).
func pointVectorsFromProto(ps []*qdrant.PointVectors, updateFilter *qdrant.Filter, path string) (*engine.UpdateVectorsOp, error) {
	op := &engine.UpdateVectorsOp{Points: make([]engine.PointVectors, len(ps))}
	for i, p := range ps {
		if p.GetId() == nil {
			return nil, invalidArg("id is expected")
		}
		id, err := pointIDFromProto(p.GetId())
		if err != nil {
			return nil, err
		}
		if p.GetVectors() == nil {
			return nil, invalidArg("vectors is expected")
		}
		vecs, err := vectorsFromProto(p.GetVectors(), fmt.Sprintf("%spoints[%d].vectors", path, i))
		if err != nil {
			return nil, err
		}
		op.Points[i] = engine.PointVectors{ID: id, Vectors: vecs.dense, Multi: vecs.multi, Sparse: vecs.sparse}
	}
	var err error
	if op.UpdateFilter, err = filterFromProto(updateFilter); err != nil {
		return nil, err
	}
	return op, nil
}

func deleteVectorsFromProto(sel *qdrant.PointsSelector, names *qdrant.VectorsSelector) (*engine.DeleteVectorsOp, error) {
	s, err := requiredSelector(sel, "points_selector is expected")
	if err != nil {
		return nil, err
	}
	if names == nil {
		return nil, invalidArg("vectors is expected")
	}
	return &engine.DeleteVectorsOp{Selector: s, Names: names.GetNames()}, nil
}

// setPayloadFromProto converts a set or overwrite payload operation; key is
// only used by set.
func setPayloadFromProto(pl map[string]*qdrant.Value, sel *qdrant.PointsSelector, key *string) (*engine.SetPayloadOp, error) {
	s, err := requiredSelector(sel, "points_selector is expected")
	if err != nil {
		return nil, err
	}
	v, err := structFromProto(pl)
	if err != nil {
		return nil, err
	}
	op := &engine.SetPayloadOp{Payload: v, Selector: s}
	if key != nil {
		if _, err := pathFromProto(*key); err != nil {
			return nil, err
		}
		op.Key = *key
	}
	return op, nil
}

func deletePayloadFromProto(keys []string, sel *qdrant.PointsSelector) (*engine.DeletePayloadOp, error) {
	for _, k := range keys {
		if _, err := pathFromProto(k); err != nil {
			return nil, err
		}
	}
	s, err := requiredSelector(sel, "points_selector is expected")
	if err != nil {
		return nil, err
	}
	return &engine.DeletePayloadOp{Keys: keys, Selector: s}, nil
}

// pointsWrite is the pipeline of a point or field-index write: it checks the
// collection name, decodes the request into an operation (decode's errors are
// already gRPC statuses), applies it with wait's write options and answers
// with the operation's result.
func pointsWrite[O any](ctx context.Context, coll string, wait *bool, decode func() (O, error), apply func(context.Context, string, O, *engine.WriteOptions) (engine.UpdateResult, error)) (*qdrant.PointsOperationResponse, error) {
	start := time.Now()
	if err := checkCollectionName("collection_name", coll); err != nil {
		return nil, err
	}
	op, err := decode()
	if err != nil {
		return nil, err
	}
	res, err := apply(ctx, coll, op, writeOptions(wait))
	if err != nil {
		st := status.Convert(GRPCError(err))
		return nil, status.Error(st.Code(), oneOperationMessage(st.Message()))
	}
	return operationResponse(start, res), nil
}

// pointsRequest is what every request of the Points service carries.
type pointsRequest interface {
	GetCollectionName() string
	GetTimeout() uint64
}

// pointsRead is the pipeline of a read or search: it bounds ctx by the
// request's timeout (0 is none), checks the collection name, runs do on the
// collection (do's errors are already gRPC statuses) and answers with
// respond, given the seconds the request took.
func pointsRead[R pointsRequest, T, Resp any](ctx context.Context, r R, do func(context.Context, string, R) (T, error), respond func(T, float64) *Resp) (*Resp, error) {
	start := time.Now()
	res, err := pointsResult(ctx, r, do)
	if err != nil {
		return nil, err
	}
	return respond(res, since(start)), nil
}

// pointsResult is pointsRead's result without the response around it, for
// callers that unwrap the response (Embedded), so that they time nothing
// and allocate no response.
func pointsResult[R pointsRequest, T any](ctx context.Context, r R, do func(context.Context, string, R) (T, error)) (T, error) {
	timeout := r.GetTimeout()
	ctx, cancel := withTimeout(ctx, &timeout)
	defer cancel()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		var zero T
		return zero, err
	}
	return do(ctx, r.GetCollectionName(), r)
}

func (s *pointsService) Upsert(ctx context.Context, r *qdrant.UpsertPoints) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (*engine.UpsertOp, error) {
		return upsertFromProto(r.GetPoints(), r.GetUpdateFilter(), r.GetUpdateMode(), "")
	}, s.db.Upsert)
}

func (s *pointsService) Delete(ctx context.Context, r *qdrant.DeletePoints) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (engine.Selector, error) {
		return requiredSelector(r.GetPoints(), "PointSelector is missing")
	}, s.db.Delete)
}

// Get returns the points that exist among the ids; payload is returned
// unless with_payload says otherwise, vectors only when asked for.
func (s *pointsService) Get(ctx context.Context, r *qdrant.GetPoints) (*qdrant.GetResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.get, func(res []*qdrant.RetrievedPoint, took float64) *qdrant.GetResponse {
		return &qdrant.GetResponse{Result: res, Time: took}
	})
}

func (s *pointsService) get(ctx context.Context, coll string, r *qdrant.GetPoints) ([]*qdrant.RetrievedPoint, error) {
	ids, err := pointIDsFromProto(r.GetIds())
	if err != nil {
		return nil, err
	}
	// Without with_payload, Qdrant 1.17 retrieves points without their
	// payload (scroll's default is the other way).
	ps, err := payloadSelectorFromProto(r.GetWithPayload(), false)
	if err != nil {
		return nil, err
	}
	recs, err := s.db.Get(ctx, coll, ids, &engine.ReadOptions{
		WithPayload: ps,
		WithVectors: vectorSelectorFromProto(r.GetWithVectors()),
	})
	if err != nil {
		return nil, GRPCError(err)
	}
	return recordsToProto(recs, nil), nil
}

func (s *pointsService) UpdateVectors(ctx context.Context, r *qdrant.UpdatePointVectors) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (*engine.UpdateVectorsOp, error) {
		return pointVectorsFromProto(r.GetPoints(), r.GetUpdateFilter(), "")
	}, s.db.UpdateVectors)
}

func (s *pointsService) DeleteVectors(ctx context.Context, r *qdrant.DeletePointVectors) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (*engine.DeleteVectorsOp, error) {
		return deleteVectorsFromProto(r.GetPointsSelector(), r.GetVectors())
	}, s.db.DeleteVectors)
}

func (s *pointsService) SetPayload(ctx context.Context, r *qdrant.SetPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (*engine.SetPayloadOp, error) {
		return setPayloadFromProto(r.GetPayload(), r.GetPointsSelector(), r.Key)
	}, s.db.SetPayload)
}

// OverwritePayload replaces the payload; the request's key is ignored, as in
// Qdrant.
func (s *pointsService) OverwritePayload(ctx context.Context, r *qdrant.SetPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (*engine.SetPayloadOp, error) {
		return setPayloadFromProto(r.GetPayload(), r.GetPointsSelector(), nil)
	}, s.db.OverwritePayload)
}

func (s *pointsService) DeletePayload(ctx context.Context, r *qdrant.DeletePayloadPoints) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (*engine.DeletePayloadOp, error) {
		return deletePayloadFromProto(r.GetKeys(), r.GetPointsSelector())
	}, s.db.DeletePayload)
}

func (s *pointsService) ClearPayload(ctx context.Context, r *qdrant.ClearPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (engine.Selector, error) {
		return requiredSelector(r.GetPoints(), "PointSelector is missing")
	}, s.db.ClearPayload)
}

func (s *pointsService) CreateFieldIndex(ctx context.Context, r *qdrant.CreateFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (payload.IndexParams, error) {
		if _, err := pathFromProto(r.GetFieldName()); err != nil {
			return payload.IndexParams{}, err
		}
		return indexParamsFromProto(r.FieldType, r.GetFieldIndexParams())
	}, func(ctx context.Context, coll string, params payload.IndexParams, wo *engine.WriteOptions) (engine.UpdateResult, error) {
		return s.db.CreateFieldIndex(ctx, coll, r.GetFieldName(), params, wo)
	})
}

func (s *pointsService) DeleteFieldIndex(ctx context.Context, r *qdrant.DeleteFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	r = orEmpty(r)
	return pointsWrite(ctx, r.GetCollectionName(), r.Wait, func() (string, error) {
		_, err := pathFromProto(r.GetFieldName())
		return r.GetFieldName(), err
	}, s.db.DeleteFieldIndex)
}

// Scroll pages through the points in id order, or in the order of an
// indexed payload field. Payload is returned unless with_payload says
// otherwise; the page size defaults to 10.
func (s *pointsService) Scroll(ctx context.Context, r *qdrant.ScrollPoints) (*qdrant.ScrollResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.scroll, func(out *qdrant.ScrollResponse, took float64) *qdrant.ScrollResponse {
		out.Time = took
		return out
	})
}

func (s *pointsService) scroll(ctx context.Context, coll string, r *qdrant.ScrollPoints) (*qdrant.ScrollResponse, error) {
	req := &engine.ScrollRequest{Limit: 10, DefaultLimit: r.Limit == nil}
	var err error
	if r.Limit != nil {
		if err := checkLimit("limit", uint64(*r.Limit)); err != nil {
			return nil, err
		}
		if req.Limit, _, err = s.bounds(ctx, coll, uint64(*r.Limit), 0); err != nil {
			return nil, err
		}
	}
	if req.Filter, err = filterFromProto(r.GetFilter()); err != nil {
		return nil, err
	}
	if r.GetOffset() != nil {
		id, err := pointIDFromProto(r.GetOffset())
		if err != nil {
			return nil, err
		}
		req.Offset = &id
	}
	if req.WithPayload, err = payloadSelectorFromProto(r.GetWithPayload(), true); err != nil {
		return nil, err
	}
	req.WithVectors = vectorSelectorFromProto(r.GetWithVectors())
	if ob := r.GetOrderBy(); ob != nil {
		if req.OrderBy, err = orderByFromProto(ob); err != nil {
			return nil, err
		}
	}
	if err := s.limits.grpcAdmit(ctx, s.db, coll, []window{scrollWindow(req)}); err != nil {
		return nil, err
	}
	res, err := s.db.Scroll(ctx, coll, req)
	if err != nil {
		return nil, GRPCError(err)
	}
	var ov orderValueFunc
	if req.OrderBy != nil {
		ov = s.orderValues(ctx, coll, req.OrderBy.Key)
	}
	out := &qdrant.ScrollResponse{Result: recordsToProto(res.Points, ov)}
	if res.NextPageOffset != nil {
		out.NextPageOffset = pointIDToProto(*res.NextPageOffset)
	}
	return out, nil
}

// orderValues returns the conversion of order values for the index on key.
func (s *pointsService) orderValues(ctx context.Context, coll, key string) orderValueFunc {
	t := payload.TypeFloat
	if info, err := s.db.CollectionInfo(ctx, coll); err == nil {
		if pi, ok := info.PayloadSchema[key]; ok {
			t = pi.Params.Type
		}
	}
	return orderValueFor(t)
}

// orderByFromProto converts an order_by. start_from may be a number, a
// timestamp or a datetime string; times compare as microseconds since the
// epoch, as a datetime index keys them.
func orderByFromProto(o *qdrant.OrderBy) (*engine.OrderBy, error) {
	if _, err := pathFromProto(o.GetKey()); err != nil {
		return nil, err
	}
	out := &engine.OrderBy{Key: o.GetKey(), Descending: o.GetDirection() == qdrant.Direction_Desc}
	switch x := o.GetStartFrom().GetValue().(type) {
	case *qdrant.StartFrom_Float:
		out.StartFrom = ptrTo(x.Float)
	case *qdrant.StartFrom_Integer:
		out.StartFrom = ptrTo(float64(x.Integer))
	case *qdrant.StartFrom_Timestamp:
		if err := x.Timestamp.CheckValid(); err != nil {
			return nil, invalidArg("Unable to convert timestamp: %v", err)
		}
		out.StartFrom = ptrTo(float64(x.Timestamp.AsTime().UnixMicro()))
	case *qdrant.StartFrom_Datetime:
		t, err := payload.ParseDatetime(x.Datetime)
		if err != nil {
			return nil, invalidArg("%s", err.Error())
		}
		out.StartFrom = ptrTo(float64(t.UnixMicro()))
	}
	return out, nil
}

// Count counts the points matching the filter; exact defaults to true (the
// engine's counts are always exact).
func (s *pointsService) Count(ctx context.Context, r *qdrant.CountPoints) (*qdrant.CountResponse, error) {
	return pointsRead(ctx, orEmpty(r), s.count, func(res *qdrant.CountResult, took float64) *qdrant.CountResponse {
		return &qdrant.CountResponse{Result: res, Time: took}
	})
}

func (s *pointsService) count(ctx context.Context, coll string, r *qdrant.CountPoints) (*qdrant.CountResult, error) {
	f, err := filterFromProto(r.GetFilter())
	if err != nil {
		return nil, err
	}
	exact := r.Exact == nil || *r.Exact
	n, err := s.db.Count(ctx, coll, f, exact)
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.CountResult{Count: uint64(max(n, 0))}, nil
}

// UpdateBatch applies the operations in order, in one atomic write, and
// returns one result per operation.
func (s *pointsService) UpdateBatch(ctx context.Context, r *qdrant.UpdateBatchPoints) (*qdrant.UpdateBatchResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	ops := make([]engine.Operation, len(r.GetOperations()))
	for i, o := range r.GetOperations() {
		var err error
		if ops[i], err = operationFromProto(o, fmt.Sprintf("operations[%d].operation.", i)); err != nil {
			return nil, err
		}
	}
	res, err := s.db.BatchUpdate(ctx, r.GetCollectionName(), ops, writeOptions(r.Wait))
	if err != nil {
		return nil, GRPCError(err)
	}
	out := make([]*qdrant.UpdateResult, len(res))
	for i, u := range res {
		out[i] = updateResultToProto(u)
	}
	return &qdrant.UpdateBatchResponse{Result: out, Time: since(start)}, nil
}

// operationFromProto converts one operation of a batch update; path names
// it in validation messages.
func operationFromProto(o *qdrant.PointsUpdateOperation, path string) (engine.Operation, error) {
	var op engine.Operation
	var err error
	switch x := o.GetOperation().(type) {
	case *qdrant.PointsUpdateOperation_Upsert:
		op.Upsert, err = upsertFromProto(x.Upsert.GetPoints(), x.Upsert.GetUpdateFilter(), x.Upsert.GetUpdateMode(), path+"upsert.")
	case *qdrant.PointsUpdateOperation_DeleteDeprecated:
		var sel engine.Selector
		sel, err = selectorFromProto(x.DeleteDeprecated)
		op.Delete = &sel
	case *qdrant.PointsUpdateOperation_DeletePoints_:
		var sel engine.Selector
		sel, err = requiredSelector(x.DeletePoints.GetPoints(), "PointSelector is missing")
		op.Delete = &sel
	case *qdrant.PointsUpdateOperation_SetPayload_:
		op.SetPayload, err = setPayloadFromProto(x.SetPayload.GetPayload(), x.SetPayload.GetPointsSelector(), orEmpty(x.SetPayload).Key)
	case *qdrant.PointsUpdateOperation_OverwritePayload_:
		op.OverwritePayload, err = setPayloadFromProto(x.OverwritePayload.GetPayload(), x.OverwritePayload.GetPointsSelector(), nil)
	case *qdrant.PointsUpdateOperation_DeletePayload_:
		op.DeletePayload, err = deletePayloadFromProto(x.DeletePayload.GetKeys(), x.DeletePayload.GetPointsSelector())
	case *qdrant.PointsUpdateOperation_ClearPayloadDeprecated:
		var sel engine.Selector
		sel, err = selectorFromProto(x.ClearPayloadDeprecated)
		op.ClearPayload = &sel
	case *qdrant.PointsUpdateOperation_ClearPayload_:
		var sel engine.Selector
		sel, err = requiredSelector(x.ClearPayload.GetPoints(), "PointSelector is missing")
		op.ClearPayload = &sel
	case *qdrant.PointsUpdateOperation_UpdateVectors_:
		op.UpdateVectors, err = pointVectorsFromProto(x.UpdateVectors.GetPoints(), x.UpdateVectors.GetUpdateFilter(), path+"update_vectors.")
	case *qdrant.PointsUpdateOperation_DeleteVectors_:
		op.DeleteVectors, err = deleteVectorsFromProto(x.DeleteVectors.GetPointsSelector(), x.DeleteVectors.GetVectors())
	default:
		return op, invalidArg("Operation is missing")
	}
	return op, err
}
