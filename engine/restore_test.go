package engine

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/payload"
)

// collState is what a restore must leave untouched or replace whole: every
// point with its vectors and payload, and the aliases.
type collState struct {
	Points  map[string]string
	Aliases []AliasDesc
}

func stateOf(t *testing.T, db *DB, coll string) collState {
	t.Helper()
	res, err := db.Scroll(bg, coll, &ScrollRequest{Limit: 100000, WithPayload: AllPayload, WithVectors: AllVectors})
	require.NoError(t, err)
	st := collState{Points: map[string]string{}}
	for _, r := range res.Points {
		js, err := json.Marshal([]any{r.Vectors, r.Payload})
		require.NoError(t, err)
		st.Points[r.ID.String()] = string(js)
	}
	all, err := db.ListAliases(bg, "")
	require.NoError(t, err)
	for _, a := range all {
		if a.Collection == coll {
			st.Aliases = append(st.Aliases, a)
		}
	}
	return st
}

// newRestoreFixture returns a DB with collection "a" (300 points, an index,
// an alias "al") and the path of a snapshot of collection "b" (120 points
// of another dimension), whose state it also returns.
func newRestoreFixture(t *testing.T) (*DB, string, collState) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "a", 4, distance.Dot, 10000)
	testPoints(t, db, "a", 300, 4, 1)
	require.NoError(t, db.UpdateAliases(bg, []AliasOp{{Create: &CreateAlias{Collection: "a", Alias: "al"}}}))
	createColl(t, db, "b", 3, distance.Euclid, 10000)
	testPoints(t, db, "b", 120, 3, 2)
	_, err := db.CreateFieldIndex(bg, "b", "class", payload.IndexParams{Type: payload.TypeInteger}, nil)
	require.NoError(t, err)
	d, err := db.CreateSnapshot(bg, "b")
	require.NoError(t, err)
	path, err := db.SnapshotPath(bg, "b", d.Name)
	require.NoError(t, err)
	return db, path, stateOf(t, db, "b")
}

// Recovering a snapshot over a collection replaces its points and keeps its
// aliases; the replaced data leave the store.
func TestRecoverSnapshotReplaces(t *testing.T) {
	db, path, want := newRestoreFixture(t)
	require.NoError(t, db.RecoverSnapshot(bg, path, "a"))
	got := stateOf(t, db, "a")
	require.Equal(t, want.Points, got.Points)
	require.Equal(t, []AliasDesc{{Alias: "al", Collection: "a"}}, got.Aliases)
	info, err := db.CollectionInfo(bg, "al")
	require.NoError(t, err)
	require.Equal(t, 120, info.PointsCount)
	require.Contains(t, info.PayloadSchema, "class")
	// RestoreSnapshot does not replace.
	require.ErrorIs(t, db.RestoreSnapshot(bg, path, "a"), ErrConflict)
	// An alias name is not a collection to replace.
	require.ErrorIs(t, db.RecoverSnapshot(bg, path, "al"), ErrConflict)
	require.NoError(t, db.CheckInvariants())
	dir := db.dir
	require.NoError(t, db.Close())
	db = openTestDB(t, dir, testOpts())
	require.Equal(t, want.Points, stateOf(t, db, "a").Points)
}

// truncations returns the lengths to cut an archive to, short of the end of
// its last entry: around every tar block boundary of the first and last
// blocks, and offsets spread over the rest. (Cut after it, in the padding
// or the end marker, an archive still has every entry, checksums included,
// and is whole.)
func truncations(data []byte) []int {
	var out []int
	end := len(data) - 2*512 // the archive's end: two zero blocks
	// The end of the last entry, the checksums.
	if i := bytes.LastIndex(data, []byte(snapChecksums+"\x00")); i >= 0 {
		h, err := tar.NewReader(bytes.NewReader(data[i:])).Next()
		if err == nil {
			end = i + 512 + int(h.Size)
		}
	}
	for o := 0; o < end; o += 512 {
		if o < 4*512 || o > end-4*512 {
			out = append(out, o, o+1, o+511)
		}
	}
	for i := 1; i < 30; i++ {
		out = append(out, end*i/30)
	}
	return slices.DeleteFunc(out, func(o int) bool { return o >= end })
}

// eachTruncation calls f with the path of a copy of the archive at path cut
// to each length of truncations, and returns the archive.
func eachTruncation(t *testing.T, path string, f func(cut string, n int)) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	cut := filepath.Join(t.TempDir(), "cut.snapshot")
	offsets := truncations(data)
	for _, n := range offsets {
		require.NoError(t, os.WriteFile(cut, data[:n], 0o644))
		f(cut, n)
	}
	t.Logf("%d truncations of a %d-byte archive refused", len(offsets), len(data))
	return data
}

// A snapshot cut short anywhere is refused with a bad request, and the
// collection it was to replace stays as it was.
func TestRecoverTruncatedSnapshot(t *testing.T) {
	db, path, _ := newRestoreFixture(t)
	before := stateOf(t, db, "a")
	data := eachTruncation(t, path, func(cut string, n int) {
		require.ErrorIs(t, db.RecoverSnapshot(bg, cut, "a"), ErrBadRequest, "cut at %d", n)
		require.Equal(t, before, stateOf(t, db, "a"), "cut at %d", n)
		require.ErrorIs(t, db.RestoreSnapshot(bg, cut, "fresh"), ErrBadRequest, "cut at %d", n)
		ok, err := db.CollectionExists(bg, "fresh")
		require.NoError(t, err)
		require.False(t, ok, "cut at %d", n)
	})
	// A flipped byte in the points is caught by the checksums.
	flipped := bytes.Clone(data)
	i := bytes.Index(flipped, []byte(snapMagic)) + 40
	flipped[i] ^= 0x40
	cut := filepath.Join(t.TempDir(), "flipped.snapshot")
	require.NoError(t, os.WriteFile(cut, flipped, 0o644))
	require.ErrorIs(t, db.RecoverSnapshot(bg, cut, "a"), ErrBadRequest)
	require.Equal(t, before, stateOf(t, db, "a"))
	require.NoError(t, db.CheckInvariants())
}

// The same for full snapshots: every collection stays as it was, and so do
// the aliases.
func TestRestoreTruncatedFullSnapshot(t *testing.T) {
	db, _, _ := newRestoreFixture(t)
	d, err := db.CreateFullSnapshot(bg)
	require.NoError(t, err)
	path, err := db.FullSnapshotPath(bg, d.Name)
	require.NoError(t, err)
	testPoints(t, db, "a", 50, 4, 9) // differs from the snapshot
	before := map[string]collState{"a": stateOf(t, db, "a"), "b": stateOf(t, db, "b")}
	eachTruncation(t, path, func(cut string, n int) {
		require.ErrorIs(t, db.RestoreFullSnapshot(bg, cut, true), ErrBadRequest, "cut at %d", n)
		for coll, st := range before {
			require.Equal(t, st, stateOf(t, db, coll), "cut at %d", n)
		}
	})
	require.NoError(t, db.RestoreFullSnapshot(bg, path, true))
	require.NoError(t, db.CheckInvariants())
}

// tarFile is an entry of a hand-made archive.
type tarFile struct {
	name string
	data []byte
	size int64 // the header's size when not len(data)
}

func writeTar(t *testing.T, path string, files ...tarFile) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		size := int64(len(f.data))
		if f.size != 0 {
			size = f.size
		}
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: size}))
		_, err := tw.Write(f.data)
		if f.size == 0 {
			require.NoError(t, err)
		}
	}
	tw.Flush()
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

// testSnapConfig returns the collection.json of a collection of 2-dim Dot
// vectors in small segments (so that what the restore itself allocates is
// measured, not a segment's arrays).
func testSnapConfig(t *testing.T) []byte {
	maxSeg := 1
	cfg, err := (&CreateCollection{Vectors: VectorsConfig{"": {Size: 2, Distance: distance.Dot}},
		Optimizers: &OptimizersConfigDiff{MaxSegmentSize: &maxSeg}}).Config()
	require.NoError(t, err)
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	return js
}

// A snapshot written by earlier versions (points version 1, no checksums)
// is still read.
func TestRestoreSnapshotV1(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	var pts []byte
	pts = append(pts, snapMagicV1...)
	for i := range 5 {
		key := appendIDKey(nil, numID(uint64(i)))
		rec := appendRecord(nil, &record{op: 1, vectors: map[string][]float32{"": {float32(i), 1}}, payload: obj("i", i)})
		pts = binary.AppendUvarint(pts, uint64(len(key)))
		pts = append(pts, key...)
		pts = binary.AppendUvarint(pts, uint64(len(rec)))
		pts = append(pts, rec...)
	}
	path := filepath.Join(t.TempDir(), "v1.snapshot")
	writeTar(t, path, tarFile{name: snapConfig, data: testSnapConfig(t)}, tarFile{name: snapFields, data: []byte(`{}`)}, tarFile{name: snapPoints, data: pts})
	require.NoError(t, db.RestoreSnapshot(bg, path, "old"))
	n, err := db.Count(bg, "old", nil, true)
	require.NoError(t, err)
	require.Equal(t, 5, n)
}

// Length fields in a crafted snapshot do not size allocations: a record
// claiming 255 MiB, or an entry claiming 1 GiB, with a few bytes behind
// them, is refused after allocating little.
func TestRestoreCraftedLengths(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	dir := t.TempDir()
	var pts []byte
	pts = append(pts, snapMagic...)
	pts = binary.AppendUvarint(pts, 9)
	pts = append(pts, appendIDKey(nil, numID(1))...)
	pts = binary.AppendUvarint(pts, snapMaxPart-1)
	pts = append(pts, "short"...)
	cases := map[string][]tarFile{
		"record": {{name: snapConfig, data: testSnapConfig(t)}, {name: snapFields, data: []byte(`{}`)}, {name: snapPoints, data: pts}},
		"huge record": {{name: snapConfig, data: testSnapConfig(t)}, {name: snapFields, data: []byte(`{}`)},
			{name: snapPoints, data: binary.AppendUvarint([]byte(snapMagic), 1<<40)}},
		"config entry": {{name: snapConfig, data: testSnapConfig(t), size: 1 << 30}},
		"points entry": {{name: snapConfig, data: testSnapConfig(t)}, {name: snapFields, data: []byte(`{}`)}, {name: snapPoints, data: pts, size: 1 << 30}},
	}
	for name, files := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".snapshot")
		writeTar(t, path, files...)
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		err := db.RestoreSnapshot(bg, path, "crafted")
		runtime.ReadMemStats(&m1)
		require.ErrorIs(t, err, ErrBadRequest, name)
		alloc := m1.TotalAlloc - m0.TotalAlloc
		require.Less(t, alloc, uint64(64<<20), "%s: %d bytes allocated", name, alloc)
		t.Logf("%s: %v; %d KiB allocated", name, err, alloc>>10)
	}
	ok, err := db.CollectionExists(bg, "crafted")
	require.NoError(t, err)
	require.False(t, ok)
}

// A snapshot whose checksum file (as Qdrant writes beside its snapshots)
// does not match is refused.
func TestRestoreChecksumFile(t *testing.T) {
	db, path, want := newRestoreFixture(t)
	sum, err := os.ReadFile(path + snapSidecar)
	require.NoError(t, err)
	require.Len(t, sum, 64)
	require.NoError(t, os.WriteFile(path+snapSidecar, bytes.Repeat([]byte("0"), 64), 0o644))
	require.ErrorIs(t, db.RestoreSnapshot(bg, path, "c"), ErrBadRequest)
	require.NoError(t, os.WriteFile(path+snapSidecar, sum, 0o644))
	require.NoError(t, db.RestoreSnapshot(bg, path, "c"))
	require.Equal(t, want.Points, stateOf(t, db, "c").Points)
	// Deleting a snapshot deletes its checksum file.
	require.NoError(t, db.DeleteSnapshot(bg, "b", filepath.Base(path)))
	_, err = os.Stat(path + snapSidecar)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// What a killed restore leaves (a staged collection's data, scratch files)
// is gone after Open.
func TestOpenSweepsRestoreLeftovers(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, testOpts())
	require.NoError(t, err)
	createColl(t, db, "a", 4, distance.Dot, 10000)
	testPoints(t, db, "a", 10, 4, 1)
	c, err := db.stageCollection("a", *db.colls["a"].config())
	require.NoError(t, err)
	_, err = c.write([]Operation{{Upsert: &UpsertOp{Points: []Point{{ID: numID(7), Vectors: map[string][]float32{"": {1, 2, 3, 4}}}}}}}, true)
	require.NoError(t, err)
	orphans, err := db.orphanCIDs(map[uint32]bool{db.colls["a"].cid: true})
	require.NoError(t, err)
	require.Equal(t, []uint32{c.cid}, orphans)
	tmp, err := db.CreateSnapshotTemp()
	require.NoError(t, err)
	tmp.Close()
	require.NoError(t, os.MkdirAll(db.snapshotDir("a"), 0o755))
	scratch := filepath.Join(db.snapshotDir("a"), ".tmp-123")
	require.NoError(t, os.WriteFile(scratch, []byte("x"), 0o644))
	require.NoError(t, db.Close()) // as a kill would: never committed

	db = openTestDB(t, dir, testOpts())
	require.NoError(t, db.CheckInvariants()) // no orphaned data
	for _, p := range []string{tmp.Name(), scratch} {
		_, err := os.Stat(p)
		require.ErrorIs(t, err, os.ErrNotExist, p)
	}
	n, err := db.Count(bg, "a", nil, true)
	require.NoError(t, err)
	require.Equal(t, 10, n)
}

// Collection names up to the longest allowed, of any characters, can be
// snapshotted and restored: file names are cut to what file systems take.
func TestSnapshotLongNames(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	names := []string{
		strings.Repeat("a", 225),
		strings.Repeat("n", 255),
		strings.Repeat("é", 127),       // 254 bytes, escaped to 762
		strings.Repeat("%", 255),       // escaped to 765
		"." + strings.Repeat("b", 254), // a leading dot
	}
	for i, name := range names {
		createColl(t, db, name, 2, distance.Dot, 10000)
		testPoints(t, db, name, 3+i, 2, uint64(i))
		d, err := db.CreateSnapshot(bg, name)
		require.NoError(t, err, "%d", len(name))
		require.LessOrEqual(t, len(d.Name+snapSidecar), maxFileName)
		list, err := db.ListSnapshots(bg, name)
		require.NoError(t, err)
		require.Equal(t, []SnapshotDescription{*d}, list)
		path, err := db.SnapshotPath(bg, name, d.Name)
		require.NoError(t, err)
		require.NoError(t, db.RestoreSnapshot(bg, path, "copy"))
		n, err := db.Count(bg, "copy", nil, true)
		require.NoError(t, err)
		require.Equal(t, 3+i, n)
		_, err = db.DeleteCollection(bg, "copy")
		require.NoError(t, err)
		_, err = db.CreateShardSnapshot(bg, name)
		require.NoError(t, err)
	}
	// Each collection has its own directory.
	dirs := map[string]bool{}
	for _, name := range names {
		dirs[db.snapshotDir(name)] = true
	}
	require.Len(t, dirs, len(names))
	d, err := db.CreateFullSnapshot(bg)
	require.NoError(t, err)
	path, err := db.FullSnapshotPath(bg, d.Name)
	require.NoError(t, err)
	other := openTestDB(t, t.TempDir(), testOpts())
	require.NoError(t, other.RestoreFullSnapshot(bg, path, false))
	got, err := other.ListCollections(bg)
	require.NoError(t, err)
	require.Len(t, got, len(names))
}

// Collections Open could not load keep their data through the sweep of
// orphaned data (which stands down when a damaged record hides its id), and
// a snapshot recovered over one replaces it.
func TestRestoreAroundFailedCollections(t *testing.T) {
	dir := t.TempDir()
	o := testOpts()
	o.Log = io.Discard
	db, path, want := newRestoreFixture(t)
	cfg := db.colls["a"].config().cfgClone()
	cfg.Params.Vectors[""] = VectorParams{Size: 0, Distance: distance.Dot}
	rec, err := encodeCollectionRecord(1000, cfg)
	require.NoError(t, err)
	other, err := Open(dir, o)
	require.NoError(t, err)
	put := func(key []byte, v string) { require.NoError(t, other.store.Set(key, []byte(v), pebble.Sync)) }
	put(collectionKey("broken"), string(rec))
	put(append(dataPrefix(1000), 'x'), "broken's data")
	put(collectionKey("garbage"), "not a record")
	put(append(dataPrefix(2000), 'x'), "whose?")
	require.NoError(t, other.Close())

	hasData := func(db *DB, cid uint32) bool {
		v, err := readAll(db.store, append(dataPrefix(cid), 'x'))
		require.NoError(t, err)
		return v != nil
	}
	other, err = Open(dir, o)
	require.NoError(t, err)
	require.True(t, hasData(other, 1000))
	require.True(t, hasData(other, 2000), "a damaged record may own it")
	require.ErrorIs(t, other.RestoreSnapshot(bg, path, "broken"), ErrConflict)
	require.NoError(t, other.RecoverSnapshot(bg, path, "broken"))
	require.Equal(t, want.Points, stateOf(t, other, "broken").Points)
	require.False(t, hasData(other, 1000), "the failed collection's data went with it")
	_, err = other.DeleteCollection(bg, "garbage")
	require.NoError(t, err)
	require.NoError(t, other.Close())

	other = openTestDB(t, dir, o) // its cleanup checks that no orphan is left
	require.False(t, hasData(other, 2000))
	require.Equal(t, want.Points, stateOf(t, other, "broken").Points)
}

// A listing takes each snapshot's checksum from its sidecar file, and hashes
// a snapshot that has none; either way it is the file's SHA-256.
func TestListSnapshotsChecksums(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 2, distance.Dot, 0)
	d, err := db.CreateSnapshot(bg, "c")
	require.NoError(t, err)
	path := filepath.Join(db.snapshotDir("c"), d.Name)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	want := sha256.Sum256(data)
	list := func() string {
		t.Helper()
		l, err := db.ListSnapshots(bg, "c")
		require.NoError(t, err)
		require.Len(t, l, 1)
		require.Equal(t, int64(len(data)), l[0].Size)
		return l[0].Checksum
	}
	require.Equal(t, hex.EncodeToString(want[:]), d.Checksum)
	require.Equal(t, d.Checksum, list())
	// The sidecar is what a listing reads: a different (valid) sum in it
	// shows, where hashing the file would not.
	other := strings.Repeat("ab", sha256.Size)
	require.NoError(t, os.WriteFile(path+snapSidecar, []byte(other+"\n"), 0o644))
	require.Equal(t, other, list())
	// No sidecar, or one that is not a SHA-256: the file is hashed.
	for _, side := range []string{"", "not a checksum"} {
		if side == "" {
			require.NoError(t, os.Remove(path+snapSidecar))
		} else {
			require.NoError(t, os.WriteFile(path+snapSidecar, []byte(side), 0o644))
		}
		require.Equal(t, d.Checksum, list())
	}
}
