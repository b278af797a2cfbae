package compat

import (
	"context"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/qlite/qlite/engine"
)

// snapshotsService is the qdrant.Snapshots service: collection and
// full-storage snapshots, the engine's.
type snapshotsService struct {
	qdrant.UnimplementedSnapshotsServer
	db *engine.DB
}

// snapshotToProto describes a snapshot; as Qdrant, the creation time is in
// whole seconds.
func snapshotToProto(d engine.SnapshotDescription) *qdrant.SnapshotDescription {
	return &qdrant.SnapshotDescription{
		Name:         d.Name,
		CreationTime: timestamppb.New(d.CreationTime.Truncate(time.Second)),
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
		return nil, emptySnapshotName()
	}
	if err := s.db.DeleteSnapshot(ctx, r.GetCollectionName(), r.GetSnapshotName()); err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.DeleteSnapshotResponse{Time: since(start)}, nil
}

// CreateFull snapshots every collection and alias into one file.
func (s *snapshotsService) CreateFull(ctx context.Context, _ *qdrant.CreateFullSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	start := time.Now()
	d, err := s.db.CreateFullSnapshot(ctx)
	if err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.CreateSnapshotResponse{SnapshotDescription: snapshotToProto(*d), Time: since(start)}, nil
}

// ListFull lists the full-storage snapshots, oldest first.
func (s *snapshotsService) ListFull(ctx context.Context, _ *qdrant.ListFullSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	start := time.Now()
	ds, err := s.db.ListFullSnapshots(ctx)
	if err != nil {
		return nil, GRPCError(err)
	}
	out := make([]*qdrant.SnapshotDescription, len(ds))
	for i, d := range ds {
		out[i] = snapshotToProto(d)
	}
	return &qdrant.ListSnapshotsResponse{SnapshotDescriptions: out, Time: since(start)}, nil
}

// DeleteFull deletes a full-storage snapshot.
func (s *snapshotsService) DeleteFull(ctx context.Context, r *qdrant.DeleteFullSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	r = orEmpty(r)
	start := time.Now()
	if r.GetSnapshotName() == "" {
		return nil, emptySnapshotName()
	}
	if err := s.db.DeleteFullSnapshot(ctx, r.GetSnapshotName()); err != nil {
		return nil, GRPCError(err)
	}
	return &qdrant.DeleteSnapshotResponse{Time: since(start)}, nil
}

// emptySnapshotName is Qdrant's validation error for an empty
// snapshot_name.
func emptySnapshotName() error {
	return validationErr("snapshot_name", `value "" invalid, must be at least 1 characters`)
}
