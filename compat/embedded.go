package compat

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
)

// Embedded is a Client over an engine in the same process: each method calls
// the gRPC service implementation (NewServices) directly, with no
// serialisation and no network, and unwraps the response as go-client's
// *qdrant.Client does. Results and errors are the ones a *qdrant.Client
// connected to qlite serve over the same data gets:
//
//   - results are the same messages (ScrollAndOffset returns the page and
//     the next offset, Count the count, Upsert the UpdateResult, ...);
//   - an error has the same text as go-client's ("Upsert() failed: coll:
//     rpc error: code = NotFound desc = ...") and wraps the gRPC status error
//     the server returns, so that status.Code and status.FromError see the
//     server's code and message. It is not a *qdrant.QdrantError, whose
//     fields go-client does not export;
//   - a context that is already done fails the call with codes.Canceled or
//     codes.DeadlineExceeded, as grpc-go does, before the engine is called.
//
// The engine copies what it stores and every result is built afresh, so
// requests and results may be reused and modified by the caller, as with a
// remote client. Embedded is safe for concurrent use.
type Embedded struct {
	s *Services
	// points is s.Points, for the calls that skip its response.
	points *pointsService
	closed atomic.Bool
}

// NewEmbedded returns a Client over db. The caller owns db: Close does not
// close it, and db must stay open until the Embedded is no longer used.
func NewEmbedded(db *engine.DB) *Embedded {
	s := NewServices(db)
	return &Embedded{s: s, points: s.Points.(*pointsService)}
}

// Close marks the client closed; later calls fail with codes.Canceled, as
// calls on a closed gRPC connection do. It does not close the engine, which
// belongs to the caller. Calling Close again returns nil.
func (e *Embedded) Close() error {
	e.closed.Store(true)
	return nil
}

// embErrClosing is the status of a call on a closed client, as grpc-go
// reports a call on a closed connection.
var embErrClosing = status.Error(codes.Canceled, "grpc: the client connection is closing")

// embError is the error of an Embedded call. It has the text of go-client's
// QdrantError: the operation, a detail (usually the collection) and the
// cause.
type embError struct {
	op, detail string
	err        error
}

func (e *embError) Error() string {
	if e.detail == "" {
		return fmt.Sprintf("%s() failed: %v", e.op, e.err)
	}
	return fmt.Sprintf("%s() failed: %s: %v", e.op, e.detail, e.err)
}

// Unwrap returns the gRPC status error.
func (e *embError) Unwrap() error { return e.err }

func embErr(err error, op, detail string) error {
	return &embError{op: op, detail: detail, err: err}
}

// embCall calls a service method as a gRPC client would: a nil request is
// sent as an empty message, a done context fails the call, and the error is
// the status a client receives (a non-status error becomes codes.Unknown, a
// context error its code, as grpc-go's server sends them).
func embCall[Req, Resp any](ctx context.Context, e *Embedded, req *Req, f func(context.Context, *Req) (Resp, error)) (Resp, error) {
	var zero Resp
	if e.closed.Load() {
		return zero, embErrClosing
	}
	if err := ctx.Err(); err != nil {
		return zero, status.FromContextError(err).Err()
	}
	if req == nil {
		req = new(Req)
	}
	resp, err := f(ctx, req)
	if err != nil {
		st, ok := status.FromError(err)
		if !ok {
			st = status.FromContextError(err)
		}
		return zero, st.Err()
	}
	return resp, nil
}

// Collections.

func (e *Embedded) CollectionExists(ctx context.Context, collectionName string) (bool, error) {
	resp, err := embCall(ctx, e, &qdrant.CollectionExistsRequest{CollectionName: collectionName}, e.s.Collections.CollectionExists)
	if err != nil {
		return false, embErr(err, "CollectionExists", collectionName)
	}
	return resp.GetResult().GetExists(), nil
}

func (e *Embedded) GetCollectionInfo(ctx context.Context, collectionName string) (*qdrant.CollectionInfo, error) {
	resp, err := embCall(ctx, e, &qdrant.GetCollectionInfoRequest{CollectionName: collectionName}, e.s.Collections.Get)
	if err != nil {
		return nil, embErr(err, "GetCollection", collectionName)
	}
	return resp.GetResult(), nil
}

func (e *Embedded) ListCollections(ctx context.Context) ([]string, error) {
	resp, err := embCall(ctx, e, &qdrant.ListCollectionsRequest{}, e.s.Collections.List)
	if err != nil {
		return nil, embErr(err, "ListCollections", "")
	}
	var names []string
	for _, c := range resp.GetCollections() {
		names = append(names, c.GetName())
	}
	return names, nil
}

func (e *Embedded) CreateCollection(ctx context.Context, request *qdrant.CreateCollection) error {
	if _, err := embCall(ctx, e, request, e.s.Collections.Create); err != nil {
		return embErr(err, "CreateCollection", request.GetCollectionName())
	}
	return nil
}

func (e *Embedded) UpdateCollection(ctx context.Context, request *qdrant.UpdateCollection) error {
	if _, err := embCall(ctx, e, request, e.s.Collections.Update); err != nil {
		return embErr(err, "UpdateCollection", request.GetCollectionName())
	}
	return nil
}

// DeleteCollection fails, as go-client's does, when the server reports that
// nothing was deleted (the collection did not exist).
func (e *Embedded) DeleteCollection(ctx context.Context, collectionName string) error {
	resp, err := embCall(ctx, e, &qdrant.DeleteCollection{CollectionName: collectionName}, e.s.Collections.Delete)
	if err != nil {
		return embErr(err, "DeleteCollection", collectionName)
	}
	if !resp.GetResult() {
		return embErr(errors.New("failed to delete collection"), "DeleteCollection", collectionName)
	}
	return nil
}

// Aliases.

func (e *Embedded) updateAlias(ctx context.Context, action *qdrant.AliasOperations) error {
	_, err := embCall(ctx, e, &qdrant.ChangeAliases{Actions: []*qdrant.AliasOperations{action}}, e.s.Collections.UpdateAliases)
	return err
}

func (e *Embedded) CreateAlias(ctx context.Context, aliasName, collectionName string) error {
	err := e.updateAlias(ctx, &qdrant.AliasOperations{Action: &qdrant.AliasOperations_CreateAlias{
		CreateAlias: &qdrant.CreateAlias{CollectionName: collectionName, AliasName: aliasName},
	}})
	if err != nil {
		return embErr(err, "CreateAlias", collectionName)
	}
	return nil
}

func (e *Embedded) DeleteAlias(ctx context.Context, aliasName string) error {
	err := e.updateAlias(ctx, &qdrant.AliasOperations{Action: &qdrant.AliasOperations_DeleteAlias{
		DeleteAlias: &qdrant.DeleteAlias{AliasName: aliasName},
	}})
	if err != nil {
		return embErr(err, "DeleteAlias", aliasName)
	}
	return nil
}

func (e *Embedded) RenameAlias(ctx context.Context, oldAliasName, newAliasName string) error {
	err := e.updateAlias(ctx, &qdrant.AliasOperations{Action: &qdrant.AliasOperations_RenameAlias{
		RenameAlias: &qdrant.RenameAlias{OldAliasName: oldAliasName, NewAliasName: newAliasName},
	}})
	if err != nil {
		return embErr(err, "RenameAlias", "")
	}
	return nil
}

func (e *Embedded) ListCollectionAliases(ctx context.Context, collectionName string) ([]string, error) {
	resp, err := embCall(ctx, e, &qdrant.ListCollectionAliasesRequest{CollectionName: collectionName}, e.s.Collections.ListCollectionAliases)
	if err != nil {
		return nil, embErr(err, "ListCollectionAliases", collectionName)
	}
	var aliases []string
	for _, a := range resp.GetAliases() {
		aliases = append(aliases, a.GetAliasName())
	}
	return aliases, nil
}

func (e *Embedded) ListAliases(ctx context.Context) ([]*qdrant.AliasDescription, error) {
	resp, err := embCall(ctx, e, &qdrant.ListAliasesRequest{}, e.s.Collections.ListAliases)
	if err != nil {
		return nil, embErr(err, "ListAliases", "")
	}
	return resp.GetAliases(), nil
}

func (e *Embedded) UpdateAliases(ctx context.Context, actions []*qdrant.AliasOperations) error {
	if _, err := embCall(ctx, e, &qdrant.ChangeAliases{Actions: actions}, e.s.Collections.UpdateAliases); err != nil {
		return embErr(err, "UpdateAliases", "")
	}
	return nil
}

// Sharding and cluster.

func (e *Embedded) CreateShardKey(ctx context.Context, collectionName string, request *qdrant.CreateShardKey) error {
	req := &qdrant.CreateShardKeyRequest{CollectionName: collectionName, Request: request}
	if _, err := embCall(ctx, e, req, e.s.Collections.CreateShardKey); err != nil {
		return embErr(err, "CreateShardKey", collectionName)
	}
	return nil
}

func (e *Embedded) DeleteShardKey(ctx context.Context, collectionName string, request *qdrant.DeleteShardKey) error {
	req := &qdrant.DeleteShardKeyRequest{CollectionName: collectionName, Request: request}
	if _, err := embCall(ctx, e, req, e.s.Collections.DeleteShardKey); err != nil {
		return embErr(err, "DeleteShardKey", collectionName)
	}
	return nil
}

func (e *Embedded) ListShardKeys(ctx context.Context, collectionName string) ([]*qdrant.ShardKeyDescription, error) {
	resp, err := embCall(ctx, e, &qdrant.ListShardKeysRequest{CollectionName: collectionName}, e.s.Collections.ListShardKeys)
	if err != nil {
		return nil, embErr(err, "ListShardKeys", collectionName)
	}
	return resp.GetShardKeys(), nil
}

func (e *Embedded) GetCollectionClusterInfo(ctx context.Context, collectionName string) (*qdrant.CollectionClusterInfoResponse, error) {
	resp, err := embCall(ctx, e, &qdrant.CollectionClusterInfoRequest{CollectionName: collectionName}, e.s.Collections.CollectionClusterInfo)
	if err != nil {
		return nil, embErr(err, "GetCollectionClusterInfo", collectionName)
	}
	return resp, nil
}

func (e *Embedded) UpdateClusterCollectionSetup(ctx context.Context, request *qdrant.UpdateCollectionClusterSetupRequest) error {
	if _, err := embCall(ctx, e, request, e.s.Collections.UpdateCollectionClusterSetup); err != nil {
		return embErr(err, "UpdateClusterCollectionSetup", request.GetCollectionName())
	}
	return nil
}

// Points.

func (e *Embedded) Upsert(ctx context.Context, request *qdrant.UpsertPoints) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.Upsert)
	if err != nil {
		return nil, embErr(err, "Upsert", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) Delete(ctx context.Context, request *qdrant.DeletePoints) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.Delete)
	if err != nil {
		return nil, embErr(err, "Delete", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) Get(ctx context.Context, request *qdrant.GetPoints) ([]*qdrant.RetrievedPoint, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.Get)
	if err != nil {
		return nil, embErr(err, "Get", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) Scroll(ctx context.Context, request *qdrant.ScrollPoints) ([]*qdrant.RetrievedPoint, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.Scroll)
	if err != nil {
		return nil, embErr(err, "Scroll", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

// ScrollAndOffset returns a page of points and the offset of the next page,
// nil after the last page.
func (e *Embedded) ScrollAndOffset(ctx context.Context, request *qdrant.ScrollPoints) ([]*qdrant.RetrievedPoint, *qdrant.PointId, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.Scroll)
	if err != nil {
		return nil, nil, embErr(err, "ScrollAndOffset", request.GetCollectionName())
	}
	return resp.GetResult(), resp.GetNextPageOffset(), nil
}

func (e *Embedded) UpdateVectors(ctx context.Context, request *qdrant.UpdatePointVectors) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.UpdateVectors)
	if err != nil {
		return nil, embErr(err, "UpdateVectors", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) DeleteVectors(ctx context.Context, request *qdrant.DeletePointVectors) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.DeleteVectors)
	if err != nil {
		return nil, embErr(err, "DeleteVectors", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) SetPayload(ctx context.Context, request *qdrant.SetPayloadPoints) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.SetPayload)
	if err != nil {
		return nil, embErr(err, "SetPayload", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) OverwritePayload(ctx context.Context, request *qdrant.SetPayloadPoints) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.OverwritePayload)
	if err != nil {
		return nil, embErr(err, "OverwritePayload", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) DeletePayload(ctx context.Context, request *qdrant.DeletePayloadPoints) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.DeletePayload)
	if err != nil {
		return nil, embErr(err, "DeletePayload", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) ClearPayload(ctx context.Context, request *qdrant.ClearPayloadPoints) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.ClearPayload)
	if err != nil {
		return nil, embErr(err, "ClearPayload", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) CreateFieldIndex(ctx context.Context, request *qdrant.CreateFieldIndexCollection) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.CreateFieldIndex)
	if err != nil {
		return nil, embErr(err, "CreateFieldIndex", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) DeleteFieldIndex(ctx context.Context, request *qdrant.DeleteFieldIndexCollection) (*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.DeleteFieldIndex)
	if err != nil {
		return nil, embErr(err, "DeleteFieldIndex", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) Count(ctx context.Context, request *qdrant.CountPoints) (uint64, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.Count)
	if err != nil {
		return 0, embErr(err, "Count", request.GetCollectionName())
	}
	return resp.GetResult().GetCount(), nil
}

func (e *Embedded) UpdateBatch(ctx context.Context, request *qdrant.UpdateBatchPoints) ([]*qdrant.UpdateResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.UpdateBatch)
	if err != nil {
		return nil, embErr(err, "UpdateBatch", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

// Queries.

func (e *Embedded) Query(ctx context.Context, request *qdrant.QueryPoints) ([]*qdrant.ScoredPoint, error) {
	res, err := embCall(ctx, e, request, e.points.queryPoints)
	if err != nil {
		return nil, embErr(err, "Query", request.GetCollectionName())
	}
	return res, nil
}

func (e *Embedded) QueryBatch(ctx context.Context, request *qdrant.QueryBatchPoints) ([]*qdrant.BatchResult, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.QueryBatch)
	if err != nil {
		return nil, embErr(err, "QueryBatch", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) QueryGroups(ctx context.Context, request *qdrant.QueryPointGroups) ([]*qdrant.PointGroup, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.QueryGroups)
	if err != nil {
		return nil, embErr(err, "QueryGroups", request.GetCollectionName())
	}
	return resp.GetResult().GetGroups(), nil
}

func (e *Embedded) Facet(ctx context.Context, request *qdrant.FacetCounts) ([]*qdrant.FacetHit, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.Facet)
	if err != nil {
		return nil, embErr(err, "Facet", request.GetCollectionName())
	}
	return resp.GetHits(), nil
}

func (e *Embedded) SearchMatrixPairs(ctx context.Context, request *qdrant.SearchMatrixPoints) (*qdrant.SearchMatrixPairs, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.SearchMatrixPairs)
	if err != nil {
		return nil, embErr(err, "SearchMatrixPairs", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

func (e *Embedded) SearchMatrixOffsets(ctx context.Context, request *qdrant.SearchMatrixPoints) (*qdrant.SearchMatrixOffsets, error) {
	resp, err := embCall(ctx, e, request, e.s.Points.SearchMatrixOffsets)
	if err != nil {
		return nil, embErr(err, "SearchMatrixOffsets", request.GetCollectionName())
	}
	return resp.GetResult(), nil
}

// Service.

func (e *Embedded) HealthCheck(ctx context.Context) (*qdrant.HealthCheckReply, error) {
	resp, err := embCall(ctx, e, &qdrant.HealthCheckRequest{}, e.s.Qdrant.HealthCheck)
	if err != nil {
		return nil, embErr(err, "HealthCheck", "")
	}
	return resp, nil
}

// Snapshots.

func (e *Embedded) CreateSnapshot(ctx context.Context, collection string) (*qdrant.SnapshotDescription, error) {
	resp, err := embCall(ctx, e, &qdrant.CreateSnapshotRequest{CollectionName: collection}, e.s.Snapshots.Create)
	if err != nil {
		return nil, embErr(err, "CreateSnapshot", "")
	}
	return resp.GetSnapshotDescription(), nil
}

func (e *Embedded) ListSnapshots(ctx context.Context, collection string) ([]*qdrant.SnapshotDescription, error) {
	resp, err := embCall(ctx, e, &qdrant.ListSnapshotsRequest{CollectionName: collection}, e.s.Snapshots.List)
	if err != nil {
		return nil, embErr(err, "ListSnapshots", "")
	}
	return resp.GetSnapshotDescriptions(), nil
}

func (e *Embedded) DeleteSnapshot(ctx context.Context, collection string, snapshot string) error {
	req := &qdrant.DeleteSnapshotRequest{CollectionName: collection, SnapshotName: snapshot}
	if _, err := embCall(ctx, e, req, e.s.Snapshots.Delete); err != nil {
		return embErr(err, "DeleteSnapshot", "")
	}
	return nil
}

func (e *Embedded) CreateFullSnapshot(ctx context.Context) (*qdrant.SnapshotDescription, error) {
	resp, err := embCall(ctx, e, &qdrant.CreateFullSnapshotRequest{}, e.s.Snapshots.CreateFull)
	if err != nil {
		return nil, embErr(err, "CreateFullSnapshot", "")
	}
	return resp.GetSnapshotDescription(), nil
}

func (e *Embedded) ListFullSnapshots(ctx context.Context) ([]*qdrant.SnapshotDescription, error) {
	resp, err := embCall(ctx, e, &qdrant.ListFullSnapshotsRequest{}, e.s.Snapshots.ListFull)
	if err != nil {
		return nil, embErr(err, "ListFullSnapshots", "")
	}
	return resp.GetSnapshotDescriptions(), nil
}

func (e *Embedded) DeleteFullSnapshot(ctx context.Context, snapshot string) error {
	if _, err := embCall(ctx, e, &qdrant.DeleteFullSnapshotRequest{SnapshotName: snapshot}, e.s.Snapshots.DeleteFull); err != nil {
		return embErr(err, "DeleteFullSnapshot", "")
	}
	return nil
}
