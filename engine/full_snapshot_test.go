package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// A full snapshot holds every collection and alias as of its creation;
// restored into another database it gives the same points and aliases.
func TestFullSnapshot(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	list, err := db.ListFullSnapshots(bg)
	require.NoError(t, err)
	require.Empty(t, list)
	createColl(t, db, "a", 4, distance.Dot, 10000)
	createColl(t, db, "b", 3, distance.Euclid, 10000)
	testPoints(t, db, "a", 300, 4, 1)
	testPoints(t, db, "b", 20, 3, 2)
	require.NoError(t, db.UpdateAliases(bg, []AliasOp{{Create: &CreateAlias{Collection: "a", Alias: "al"}}}))
	// Collection snapshots are not full snapshots.
	_, err = db.CreateSnapshot(bg, "a")
	require.NoError(t, err)

	d, err := db.CreateFullSnapshot(bg)
	require.NoError(t, err)
	require.Regexp(t, `^full-snapshot-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$`, d.Name)
	list, err = db.ListFullSnapshots(bg)
	require.NoError(t, err)
	require.Equal(t, []SnapshotDescription{*d}, list)
	path, err := db.FullSnapshotPath(bg, d.Name)
	require.NoError(t, err)
	require.Equal(t, db.SnapshotsDir(), filepath.Dir(path))
	// Later writes are not in it.
	_, err = db.DeleteCollection(bg, "b")
	require.NoError(t, err)

	other := openTestDB(t, t.TempDir(), testOpts())
	require.NoError(t, other.RestoreFullSnapshot(bg, path, false))
	for coll, n := range map[string]int{"a": 300, "b": 20} {
		got, err := other.Count(bg, coll, nil, true)
		require.NoError(t, err)
		require.Equal(t, n, got, coll)
	}
	aliases, err := other.ListAliases(bg, "")
	require.NoError(t, err)
	require.Equal(t, []AliasDesc{{Alias: "al", Collection: "a"}}, aliases)
	// Again: the collections exist; only overwrite replaces them.
	require.ErrorIs(t, other.RestoreFullSnapshot(bg, path, false), ErrConflict)
	_, err = other.Delete(bg, "a", Selector{Filter: mustFilter(t, `{"must":[{"key":"class","match":{"value":1}}]}`)}, nil)
	require.NoError(t, err)
	require.NoError(t, other.RestoreFullSnapshot(bg, path, true))
	got, err := other.Count(bg, "a", nil, true)
	require.NoError(t, err)
	require.Equal(t, 300, got)

	// A collection snapshot is not a full snapshot.
	cs, err := db.ListSnapshots(bg, "a")
	require.NoError(t, err)
	cpath, err := db.SnapshotPath(bg, "a", cs[0].Name)
	require.NoError(t, err)
	require.ErrorIs(t, other.RestoreFullSnapshot(bg, cpath, true), ErrBadRequest)

	for _, name := range []string{"../" + d.Name, "x.snapshot", "", ".tmp", cs[0].Name} {
		_, err := db.FullSnapshotPath(bg, name)
		require.ErrorIs(t, err, ErrNotFound, name)
	}
	require.NoError(t, db.DeleteFullSnapshot(bg, d.Name))
	require.ErrorIs(t, db.DeleteFullSnapshot(bg, d.Name), ErrNotFound)
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// Shard snapshots are kept apart from collection snapshots; a missing
// collection snapshot directory and a missing shard snapshot file say so.
func TestShardSnapshots(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 4, distance.Dot, 10000)
	testPoints(t, db, "c", 10, 4, 1)
	_, err := db.SnapshotPath(bg, "c", "x.snapshot")
	require.ErrorIs(t, err, ErrNotFound)
	require.Contains(t, err.Error(), "Snapshot directory: "+filepath.Join(db.SnapshotsDir(), "c")+" not found")

	d, err := db.CreateShardSnapshot(bg, "c")
	require.NoError(t, err)
	require.Regexp(t, `^c-shard-0-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$`, d.Name)
	list, err := db.ListShardSnapshots(bg, "c")
	require.NoError(t, err)
	require.Equal(t, []SnapshotDescription{*d}, list)
	list, err = db.ListSnapshots(bg, "c")
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = db.SnapshotPath(bg, "c", d.Name)
	require.ErrorIs(t, err, ErrNotFound)
	path, err := db.ShardSnapshotPath(bg, "c", d.Name)
	require.NoError(t, err)
	require.NoError(t, db.RestoreSnapshot(bg, path, "copy"))

	_, err = db.ShardSnapshotPath(bg, "c", "x.snapshot")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorIs(t, err, ErrNotFound)
	_, err = db.ShardSnapshotPath(bg, "c", "../"+d.Name)
	require.ErrorIs(t, err, ErrNotFound)
	require.NotErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, db.DeleteShardSnapshot(bg, "c", d.Name))
	require.ErrorIs(t, db.DeleteShardSnapshot(bg, "c", d.Name), ErrNotFound)
}
