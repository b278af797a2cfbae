package compat

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/qlite/qlite/engine"
)

// snapshotsService is the qdrant.Snapshots service. Collection snapshots are
// the engine's; full-storage snapshots are not supported: none can be
// created, so none are listed and none can be deleted.
type snapshotsService struct {
	qdrant.UnimplementedSnapshotsServer
	db *engine.DB
}

func snapshotToProto(d engine.SnapshotDescription) *qdrant.SnapshotDescription {
	return &qdrant.SnapshotDescription{
		Name:         d.Name,
		CreationTime: timestamppb.New(d.CreationTime),
		Size:         d.Size,
		Checksum:     ptrTo(d.Checksum),
	}
}

func (s *snapshotsService) Create(ctx context.Context, r *qdrant.CreateSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	d, err := s.db.CreateSnapshot(ctx, r.GetCollectionName())
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.CreateSnapshotResponse{SnapshotDescription: snapshotToProto(*d), Time: since(start)}, nil
}

func (s *snapshotsService) List(ctx context.Context, r *qdrant.ListSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	ds, err := s.db.ListSnapshots(ctx, r.GetCollectionName())
	if err != nil {
		return nil, GRPCError(err)
	}
	out := make([]*qdrant.SnapshotDescription, len(ds))
	for i, d := range ds {
		out[i] = snapshotToProto(d)
	}
	return &qdrant.ListSnapshotsResponse{SnapshotDescriptions: out, Time: since(start)}, nil
}

func (s *snapshotsService) Delete(ctx context.Context, r *qdrant.DeleteSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if err := checkCollectionName("collection_name", r.GetCollectionName()); err != nil {
		return nil, err
	}
	if r.GetSnapshotName() == "" {
		return nil, validationErr("snapshot_name", "length: value must not be empty")
	}
	if err := s.db.DeleteSnapshot(ctx, r.GetCollectionName(), r.GetSnapshotName()); err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.DeleteSnapshotResponse{Time: since(start)}, nil
}

// CreateFull is not supported.
func (s *snapshotsService) CreateFull(context.Context, *qdrant.CreateFullSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	return nil, Unsupported("full storage snapshots (snapshot each collection instead)")
}

// ListFull lists no snapshots, since none can be created.
func (s *snapshotsService) ListFull(context.Context, *qdrant.ListFullSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	start := time.Now()
	return &qdrant.ListSnapshotsResponse{SnapshotDescriptions: []*qdrant.SnapshotDescription{}, Time: since(start)}, nil
}

// DeleteFull finds no snapshot to delete.
func (s *snapshotsService) DeleteFull(_ context.Context, r *qdrant.DeleteFullSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	r = orEmpty(r)
	if r.GetSnapshotName() == "" {
		return nil, validationErr("snapshot_name", "length: value must not be empty")
	}
	return nil, GRPCError(fmt.Errorf("%w: Snapshot %s not found", engine.ErrNotFound, r.GetSnapshotName()))
}
