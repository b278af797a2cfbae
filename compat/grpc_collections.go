package compat

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/engine"
)

// singlePeerID is the peer id this node reports: qlite is one node, and its
// snapshot names carry the same id.
const singlePeerID = 0

// errDistributedDisabled is what a Qdrant node without distributed mode
// answers to shard-key and cluster-setup operations.
var errDistributedDisabled = invalidArg("Bad request: Distributed mode disabled")

// collectionsService is the qdrant.Collections service.
type collectionsService struct {
	qdrant.UnimplementedCollectionsServer
	db *engine.DB
}

func (s *collectionsService) Get(ctx context.Context, r *qdrant.GetCollectionInfoRequest) (*qdrant.GetCollectionInfoResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	info, err := s.db.CollectionInfo(ctx, r.GetCollectionName())
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.GetCollectionInfoResponse{Result: collectionInfoToProto(info), Time: since(start)}, nil
}

func (s *collectionsService) List(ctx context.Context, _ *qdrant.ListCollectionsRequest) (*qdrant.ListCollectionsResponse, error) {
	start := time.Now()
	names, err := s.db.ListCollections(ctx)
	if err != nil {
		return nil, GRPCError(err)
	}
	out := make([]*qdrant.CollectionDescription, len(names))
	for i, n := range names {
		out[i] = &qdrant.CollectionDescription{Name: n}
	}
	return &qdrant.ListCollectionsResponse{Collections: out, Time: since(start)}, nil
}

func (s *collectionsService) Create(ctx context.Context, r *qdrant.CreateCollection) (*qdrant.CollectionOperationResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkNewCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	req, err := createCollectionFromProto(r)
	if err != nil {
		return nil, err
	}
	if err := s.db.CreateCollection(ctx, r.GetCollectionName(), req); err != nil {
		return nil, GRPCError(grpcVectorPath(err, req))
	}
	return &qdrant.CollectionOperationResponse{Result: true, Time: since(start)}, nil
}

func (s *collectionsService) Update(ctx context.Context, r *qdrant.UpdateCollection) (*qdrant.CollectionOperationResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	u, err := updateCollectionFromProto(r)
	if err != nil {
		return nil, err
	}
	if err := s.db.UpdateCollection(ctx, r.GetCollectionName(), u); err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.CollectionOperationResponse{Result: true, Time: since(start)}, nil
}

// Delete reports in result whether the collection existed; deleting a
// missing collection is not an error, as in Qdrant.
func (s *collectionsService) Delete(ctx context.Context, r *qdrant.DeleteCollection) (*qdrant.CollectionOperationResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	existed, err := s.db.DeleteCollection(ctx, r.GetCollectionName())
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.CollectionOperationResponse{Result: existed, Time: since(start)}, nil
}

func (s *collectionsService) UpdateAliases(ctx context.Context, r *qdrant.ChangeAliases) (*qdrant.CollectionOperationResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	ops := make([]engine.AliasOp, len(r.GetActions()))
	for i, a := range r.GetActions() {
		switch x := a.GetAction().(type) {
		case *qdrant.AliasOperations_CreateAlias:
			if err := checkNewCollectionName("alias_name", x.CreateAlias.GetAliasName()); err != nil {
				return nil, err
			}
			ops[i].Create = &engine.CreateAlias{Collection: x.CreateAlias.GetCollectionName(), Alias: x.CreateAlias.GetAliasName()}
		case *qdrant.AliasOperations_RenameAlias:
			if err := checkNewCollectionName("new_alias_name", x.RenameAlias.GetNewAliasName()); err != nil {
				return nil, err
			}
			ops[i].Rename = &engine.RenameAlias{Old: x.RenameAlias.GetOldAliasName(), New: x.RenameAlias.GetNewAliasName()}
		case *qdrant.AliasOperations_DeleteAlias:
			ops[i].Delete = &engine.DeleteAlias{Alias: x.DeleteAlias.GetAliasName()}
		default:
			return nil, invalidArg("Malformed AliasOperation type")
		}
	}
	if err := s.db.UpdateAliases(ctx, ops); err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.CollectionOperationResponse{Result: true, Time: since(start)}, nil
}

func (s *collectionsService) ListCollectionAliases(ctx context.Context, r *qdrant.ListCollectionAliasesRequest) (*qdrant.ListAliasesResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	as, err := s.db.ListAliases(ctx, r.GetCollectionName())
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.ListAliasesResponse{Aliases: aliasesToProto(as), Time: since(start)}, nil
}

func (s *collectionsService) ListAliases(ctx context.Context, _ *qdrant.ListAliasesRequest) (*qdrant.ListAliasesResponse, error) {
	start := time.Now()
	as, err := s.db.ListAliases(ctx, "")
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.ListAliasesResponse{Aliases: aliasesToProto(as), Time: since(start)}, nil
}

func aliasesToProto(as []engine.AliasDesc) []*qdrant.AliasDescription {
	out := make([]*qdrant.AliasDescription, len(as))
	for i, a := range as {
		out[i] = &qdrant.AliasDescription{AliasName: a.Alias, CollectionName: a.Collection}
	}
	return out
}

// CollectionClusterInfo describes the collection as a single node holds it:
// one active local shard with every point.
func (s *collectionsService) CollectionClusterInfo(ctx context.Context, r *qdrant.CollectionClusterInfoRequest) (*qdrant.CollectionClusterInfoResponse, error) {
	r = orEmpty(r)
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	n, err := s.db.Count(ctx, r.GetCollectionName(), nil, true)
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.CollectionClusterInfoResponse{
		PeerId:     singlePeerID,
		ShardCount: 1,
		LocalShards: []*qdrant.LocalShardInfo{{
			ShardId:     0,
			PointsCount: uint64(max(n, 0)),
			State:       qdrant.ReplicaState_Active,
		}},
	}, nil
}

func (s *collectionsService) CollectionExists(ctx context.Context, r *qdrant.CollectionExistsRequest) (*qdrant.CollectionExistsResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	ok, err := s.db.CollectionExists(ctx, r.GetCollectionName())
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: ok}, Time: since(start)}, nil
}

// UpdateCollectionClusterSetup fails as on a Qdrant node without distributed
// mode, after the same checks of the request.
func (s *collectionsService) UpdateCollectionClusterSetup(ctx context.Context, r *qdrant.UpdateCollectionClusterSetupRequest) (*qdrant.UpdateCollectionClusterSetupResponse, error) {
	r = orEmpty(r)
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	switch x := r.GetOperation().(type) {
	case nil:
		return nil, invalidArg("empty operation")
	case *qdrant.UpdateCollectionClusterSetupRequest_CreateShardKey:
		if err := checkShardKey(x.CreateShardKey.GetShardKey()); err != nil {
			return nil, err
		}
	case *qdrant.UpdateCollectionClusterSetupRequest_DeleteShardKey:
		if err := checkShardKey(x.DeleteShardKey.GetShardKey()); err != nil {
			return nil, err
		}
	}
	return nil, errDistributedDisabled
}

// CreateShardKey fails as on a Qdrant node without distributed mode.
func (s *collectionsService) CreateShardKey(ctx context.Context, r *qdrant.CreateShardKeyRequest) (*qdrant.CreateShardKeyResponse, error) {
	r = orEmpty(r)
	if r.GetRequest() == nil {
		return nil, invalidArg("empty request")
	}
	if err := checkShardKey(r.GetRequest().GetShardKey()); err != nil {
		return nil, err
	}
	return nil, errDistributedDisabled
}

// DeleteShardKey fails as on a Qdrant node without distributed mode.
func (s *collectionsService) DeleteShardKey(ctx context.Context, r *qdrant.DeleteShardKeyRequest) (*qdrant.DeleteShardKeyResponse, error) {
	r = orEmpty(r)
	if r.GetRequest() == nil {
		return nil, invalidArg("empty request")
	}
	if err := checkShardKey(r.GetRequest().GetShardKey()); err != nil {
		return nil, err
	}
	return nil, errDistributedDisabled
}

func checkShardKey(k *qdrant.ShardKey) error {
	if k.GetKey() == nil {
		return invalidArg("Shard key is not specified")
	}
	return nil
}

// ListShardKeys lists no keys: shard keys cannot be created on a single
// node. The collection must exist.
func (s *collectionsService) ListShardKeys(ctx context.Context, r *qdrant.ListShardKeysRequest) (*qdrant.ListShardKeysResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	ok, err := s.db.CollectionExists(ctx, r.GetCollectionName())
	if err != nil {
		return nil, GRPCError(err)
	}
	if !ok {
		return nil, GRPCError(fmt.Errorf("%w: Collection `%s` doesn't exist!", engine.ErrNotFound, r.GetCollectionName()))
	}
	return &qdrant.ListShardKeysResponse{ShardKeys: []*qdrant.ShardKeyDescription{}, Time: since(start)}, nil
}
