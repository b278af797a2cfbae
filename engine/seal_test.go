package engine

import (
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// TestHalfWrittenSealInvisible writes a segment's artefact without the
// manifest that would reference it, as a crash in the middle of a seal
// leaves it, and checks that the next Open ignores it, deletes it, and
// serves every point from the records.
func TestHalfWrittenSealInvisible(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, testOpts())
	require.NoError(t, err)
	createColl(t, db, "c", 8, distance.Euclid, 1)
	testPoints(t, db, "c", 400, 8, 1)
	c, err := db.collection("c")
	require.NoError(t, err)
	app := c.snapshotSegs()[0]
	_, err = app.seg.BuildGraph(bg, 2)
	require.NoError(t, err)
	require.True(t, c.freeze(app, false))
	_, err = c.writeArtefact(app, true)
	require.NoError(t, err)
	orphan := artefactPrefix(c.cid, app.id)
	countKeys := func(db *DB, prefix []byte) int {
		it, err := db.store.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
		require.NoError(t, err)
		n := 0
		for it.First(); it.Valid(); it.Next() {
			n++
		}
		require.NoError(t, it.Close())
		return n
	}
	require.Positive(t, countKeys(db, orphan))

	// Crash: the store goes away without Close's persisting of segments.
	db.closed.Store(true)
	db.optCancel()
	<-db.optDone
	require.NoError(t, db.store.Close())

	db = openTestDB(t, dir, testOpts())
	require.Zero(t, countKeys(db, orphan), "the half-written artefact was not deleted")
	n, err := db.Count(bg, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, 400, n)
	c, err = db.collection("c")
	require.NoError(t, err)
	require.Empty(t, c.manifest.segs)
	require.NoError(t, db.Optimize(bg, "c"))
	require.Len(t, c.manifest.segs, 1)
}
