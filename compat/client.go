package compat

import (
	"context"

	"github.com/qdrant/go-client/qdrant"
)

// Client is the method set of go-client's *qdrant.Client that applications
// use, with the same signatures: collections, aliases, shard keys, points,
// queries, snapshots and the health check. Two implementations satisfy it:
//
//   - *qdrant.Client, from qdrant.NewClient, talks gRPC to any Qdrant server:
//     qlite serve or Qdrant itself;
//   - *Embedded, from NewEmbedded, calls the same gRPC services in process
//     over an *engine.DB, with no serialisation and no network.
//
// Code written against Client switches between the two by changing the
// constructor. Both return the same results for the same requests, and
// errors whose text and gRPC status code (status.Code(err)) are the same.
type Client interface {
	// Collections.

	CollectionExists(ctx context.Context, collectionName string) (bool, error)
	GetCollectionInfo(ctx context.Context, collectionName string) (*qdrant.CollectionInfo, error)
	ListCollections(ctx context.Context) ([]string, error)
	CreateCollection(ctx context.Context, request *qdrant.CreateCollection) error
	UpdateCollection(ctx context.Context, request *qdrant.UpdateCollection) error
	DeleteCollection(ctx context.Context, collectionName string) error

	// Aliases.

	CreateAlias(ctx context.Context, aliasName, collectionName string) error
	DeleteAlias(ctx context.Context, aliasName string) error
	RenameAlias(ctx context.Context, oldAliasName, newAliasName string) error
	ListCollectionAliases(ctx context.Context, collectionName string) ([]string, error)
	ListAliases(ctx context.Context) ([]*qdrant.AliasDescription, error)
	UpdateAliases(ctx context.Context, actions []*qdrant.AliasOperations) error

	// Sharding and cluster.

	CreateShardKey(ctx context.Context, collectionName string, request *qdrant.CreateShardKey) error
	DeleteShardKey(ctx context.Context, collectionName string, request *qdrant.DeleteShardKey) error
	ListShardKeys(ctx context.Context, collectionName string) ([]*qdrant.ShardKeyDescription, error)
	GetCollectionClusterInfo(ctx context.Context, collectionName string) (*qdrant.CollectionClusterInfoResponse, error)
	UpdateClusterCollectionSetup(ctx context.Context, request *qdrant.UpdateCollectionClusterSetupRequest) error

	// Points.

	Upsert(ctx context.Context, request *qdrant.UpsertPoints) (*qdrant.UpdateResult, error)
	Delete(ctx context.Context, request *qdrant.DeletePoints) (*qdrant.UpdateResult, error)
	Get(ctx context.Context, request *qdrant.GetPoints) ([]*qdrant.RetrievedPoint, error)
	Scroll(ctx context.Context, request *qdrant.ScrollPoints) ([]*qdrant.RetrievedPoint, error)
	ScrollAndOffset(ctx context.Context, request *qdrant.ScrollPoints) ([]*qdrant.RetrievedPoint, *qdrant.PointId, error)
	UpdateVectors(ctx context.Context, request *qdrant.UpdatePointVectors) (*qdrant.UpdateResult, error)
	DeleteVectors(ctx context.Context, request *qdrant.DeletePointVectors) (*qdrant.UpdateResult, error)
	SetPayload(ctx context.Context, request *qdrant.SetPayloadPoints) (*qdrant.UpdateResult, error)
	OverwritePayload(ctx context.Context, request *qdrant.SetPayloadPoints) (*qdrant.UpdateResult, error)
	DeletePayload(ctx context.Context, request *qdrant.DeletePayloadPoints) (*qdrant.UpdateResult, error)
	ClearPayload(ctx context.Context, request *qdrant.ClearPayloadPoints) (*qdrant.UpdateResult, error)
	CreateFieldIndex(ctx context.Context, request *qdrant.CreateFieldIndexCollection) (*qdrant.UpdateResult, error)
	DeleteFieldIndex(ctx context.Context, request *qdrant.DeleteFieldIndexCollection) (*qdrant.UpdateResult, error)
	Count(ctx context.Context, request *qdrant.CountPoints) (uint64, error)
	UpdateBatch(ctx context.Context, request *qdrant.UpdateBatchPoints) ([]*qdrant.UpdateResult, error)

	// Queries.

	Query(ctx context.Context, request *qdrant.QueryPoints) ([]*qdrant.ScoredPoint, error)
	QueryBatch(ctx context.Context, request *qdrant.QueryBatchPoints) ([]*qdrant.BatchResult, error)
	QueryGroups(ctx context.Context, request *qdrant.QueryPointGroups) ([]*qdrant.PointGroup, error)
	Facet(ctx context.Context, request *qdrant.FacetCounts) ([]*qdrant.FacetHit, error)
	SearchMatrixPairs(ctx context.Context, request *qdrant.SearchMatrixPoints) (*qdrant.SearchMatrixPairs, error)
	SearchMatrixOffsets(ctx context.Context, request *qdrant.SearchMatrixPoints) (*qdrant.SearchMatrixOffsets, error)

	// Service.

	HealthCheck(ctx context.Context) (*qdrant.HealthCheckReply, error)

	// Snapshots.

	CreateSnapshot(ctx context.Context, collection string) (*qdrant.SnapshotDescription, error)
	ListSnapshots(ctx context.Context, collection string) ([]*qdrant.SnapshotDescription, error)
	DeleteSnapshot(ctx context.Context, collection string, snapshot string) error
	CreateFullSnapshot(ctx context.Context) (*qdrant.SnapshotDescription, error)
	ListFullSnapshots(ctx context.Context) ([]*qdrant.SnapshotDescription, error)
	DeleteFullSnapshot(ctx context.Context, snapshot string) error

	// Close releases the client. What it releases is the implementation's:
	// *qdrant.Client closes its connections, *Embedded leaves the engine
	// open.
	Close() error
}

var (
	_ Client = (*qdrant.Client)(nil)
	_ Client = (*Embedded)(nil)
)
