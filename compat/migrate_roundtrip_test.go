package compat

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMigrateRoundTripThroughQdrant copies every collection of an embedded
// database to the real Qdrant server (QDRANT_BIN), then from that server
// into a new database directory, and requires the directory, reopened, to
// hold what the first database held: configuration, payload indexes, and
// every point with its vectors (dense and sparse) and payload. Both hops
// check the intermediate copy too, so a difference is pinned to the hop
// that made it.
func TestMigrateRoundTripThroughQdrant(t *testing.T) {
	q := realQdrant(t)
	require.NoError(t, q.reset())
	ctx := context.Background()

	orig := NewEmbedded(embOpenDB(t, t.TempDir()))
	migFill(t, orig, 400)
	server, err := OpenEndpoint("grpc://"+q.grpcAddr, nil)
	require.NoError(t, err)
	defer server.Close()
	require.NoError(t, Migrate(ctx, orig, server, &MigrateOptions{BatchSize: 64, StateDir: t.TempDir()}))
	for _, coll := range []string{"named", "plain"} {
		migRequireCopied(t, orig, server, coll)
	}

	path := filepath.Join(t.TempDir(), "db")
	back, err := OpenEndpoint(path, nil)
	require.NoError(t, err)
	require.NoError(t, Migrate(ctx, server, back, &MigrateOptions{BatchSize: 50, StateDir: t.TempDir()}))
	require.NoError(t, back.Close())

	reopened := NewEmbedded(embOpenDB(t, path))
	names, err := reopened.ListCollections(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"named", "plain"}, names)
	for _, coll := range []string{"named", "plain"} {
		migRequireCopied(t, orig, reopened, coll)
	}
}
