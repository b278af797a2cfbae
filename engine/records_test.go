package engine

import (
	"archive/tar"
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/segment"
)

// fillMixed creates collection coll with a dense vector, a multivector
// and a sparse vector, payloads on disk or not, and n points of which some have no sparse vector,
// some no multivector and some no payload; the first 3/4 are sealed, and
// some of those then get a new payload (a new version in the appendable
// segment) or are deleted (a masked slot).
func fillMixed(t *testing.T, db *DB, coll string, n int, onDisk bool) {
	t.Helper()
	thr := 1
	require.NoError(t, db.CreateCollection(bg, coll, &CreateCollection{
		Vectors: VectorsConfig{"": {Size: 6, Distance: distance.Cosine},
			"m": {Size: 3, Distance: distance.Euclid, Multivector: []byte(`{"comparator": "max_sim"}`)}},
		SparseVectors: map[string]SparseVectorParams{"s": {}},
		Optimizers:    &OptimizersConfigDiff{IndexingThreshold: &thr},
		OnDiskPayload: &onDisk,
	}))
	rng := rand.New(rand.NewPCG(5, 5))
	point := func(i int) Point {
		p := Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": randVec(rng, 6)}}
		if i%3 != 0 {
			p.Payload = obj("i", i, "g", i%7)
		}
		if i%2 == 0 {
			p.Sparse = map[string]SparseVector{"s": {Indices: []uint32{uint32(i), uint32(i + 100)}, Values: []float32{1, float32(i)}}}
		}
		if i%5 != 0 {
			p.Multi = map[string][][]float32{"m": {randVec(rng, 3), randVec(rng, 3)}}
		}
		return p
	}
	var pts []Point
	for i := range n * 3 / 4 {
		pts = append(pts, point(i))
	}
	_, err := db.Upsert(bg, coll, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	require.NoError(t, db.Optimize(bg, coll))
	pts = pts[:0]
	for i := n * 3 / 4; i < n; i++ {
		pts = append(pts, point(i))
	}
	_, err = db.Upsert(bg, coll, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	_, err = db.SetPayload(bg, coll, &SetPayloadOp{Payload: obj("set", true),
		Selector: Selector{IDs: []PointID{numID(1), numID(4), numID(9)}}}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	_, err = db.Delete(bg, coll, Selector{IDs: []PointID{numID(2), numID(7)}}, &WriteOptions{Wait: true})
	require.NoError(t, err)
}

// fullState is every point of coll with its vectors of every kind and its
// payload, as JSON by id.
func fullState(t *testing.T, db *DB, coll string) map[string]string {
	t.Helper()
	res, err := db.Scroll(bg, coll, &ScrollRequest{Limit: 100000, WithPayload: AllPayload, WithVectors: AllVectors})
	require.NoError(t, err)
	st := map[string]string{}
	for _, r := range res.Points {
		js, err := json.Marshal([]any{r.Vectors, r.Multi, r.Sparse, r.Payload})
		require.NoError(t, err)
		st[r.ID.String()] = string(js)
	}
	return st
}

// inlineRecords rewrites every point of collection coll as a store of
// format 1 holds it: one record (version 1 or 2) with its dense vectors,
// no vector record; and marks the store format 1.
func inlineRecords(t *testing.T, db *DB, coll string) {
	t.Helper()
	c, err := db.collection(coll)
	require.NoError(t, err)
	it, err := newPointIter(db.store, c.cid)
	require.NoError(t, err)
	b := db.store.NewBatch()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		val, err := it.Value()
		require.NoError(t, err)
		require.EqualValues(t, recordVersionSplit, val[0])
		rec, err := decodeRecord(val, it.Vectors())
		require.NoError(t, err)
		id, _, err := decodeIDKey(it.Key())
		require.NoError(t, err)
		require.NoError(t, b.Set(pointKey(c.cid, id), appendRecord(nil, rec), nil))
		require.NoError(t, b.Delete(vectorsKey(c.cid, id), nil))
		n++
	}
	require.NoError(t, it.Close())
	require.Positive(t, n)
	marker := binary.LittleEndian.AppendUint32([]byte(formatMagic), formatVersionInline)
	require.NoError(t, b.Set([]byte{keyFormat}, marker, nil))
	require.NoError(t, b.Commit(pebble.Sync))
}

// storeFormat returns the format version of db's store.
func storeFormat(t *testing.T, db *DB) uint32 {
	t.Helper()
	v, closer, err := db.store.Get([]byte{keyFormat})
	require.NoError(t, err)
	defer closer.Close()
	return binary.LittleEndian.Uint32(v[4:])
}

// A store of format 1 (point records with their vectors, versions 1 and 2)
// opens with the same points, vectors and payloads, sealed slots included;
// it is then marked format 2, and the points written since are split.
func TestOpenFormat1(t *testing.T) {
	for _, onDisk := range []bool{true, false} {
		t.Run(map[bool]string{true: "payloads on disk", false: "payloads in RAM"}[onDisk], func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir, testOpts())
			require.NoError(t, err)
			fillMixed(t, db, "c", 200, onDisk)
			want := fullState(t, db, "c")
			require.Len(t, want, 198)
			inlineRecords(t, db, "c")
			require.NoError(t, db.Close())

			db = openTestDB(t, dir, testOpts())
			require.EqualValues(t, formatVersion, storeFormat(t, db))
			require.Equal(t, want, fullState(t, db, "c"))
			segs, err := db.Segments(bg, "c")
			require.NoError(t, err)
			require.False(t, segs[0].Appendable, "the sealed segment was kept")
			n, err := db.Count(bg, "c", mustFilter(t, `{"must":[{"key":"g","match":{"value":3}}]}`), true)
			require.NoError(t, err)
			require.Equal(t, 19, n)

			// Writes over inline records leave split ones.
			_, err = db.SetPayload(bg, "c", &SetPayloadOp{Payload: obj("again", 1),
				Selector: Selector{IDs: []PointID{numID(10), numID(190)}}}, &WriteOptions{Wait: true})
			require.NoError(t, err)
			_, err = db.Delete(bg, "c", Selector{IDs: []PointID{numID(11)}}, &WriteOptions{Wait: true})
			require.NoError(t, err)
			want = fullState(t, db, "c")
			c, err := db.collection("c")
			require.NoError(t, err)
			v, closer, err := db.store.Get(pointKey(c.cid, numID(10)))
			require.NoError(t, err)
			require.EqualValues(t, recordVersionSplit, v[0])
			closer.Close()
			require.NoError(t, db.Close())
			db = openTestDB(t, dir, testOpts())
			require.Equal(t, want, fullState(t, db, "c"))
		})
	}
}

// A store of a later format than this build reads is refused with a clear
// error.
func TestOpenLaterFormat(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, testOpts())
	require.NoError(t, err)
	marker := binary.LittleEndian.AppendUint32([]byte(formatMagic), formatVersion+1)
	require.NoError(t, db.store.Set([]byte{keyFormat}, marker, pebble.Sync))
	require.NoError(t, db.Close())
	_, err = Open(dir, testOpts())
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "format version 3, this build reads 1 and 2")
}

// A vector record of no point, of another version than its point's record,
// or damaged, is corruption, found on open: the collection is not served.
func TestOpenBadVectorRecord(t *testing.T) {
	cases := map[string]func(db *DB, cid uint32) error{
		"orphan": func(db *DB, cid uint32) error {
			rec := &record{op: 1, vectors: map[string][]float32{"": {1, 2}}}
			return db.store.Set(vectorsKey(cid, numID(1000)), appendVectorRecord(nil, rec, float32Rows), pebble.Sync)
		},
		"orphan after the last point": func(db *DB, cid uint32) error {
			rec := &record{op: 1, vectors: map[string][]float32{"": {1, 2}}}
			return db.store.Set(vectorsKey(cid, filter.UUIDID([16]byte{1})), appendVectorRecord(nil, rec, float32Rows), pebble.Sync)
		},
		"other version": func(db *DB, cid uint32) error {
			rec := &record{op: 999, vectors: map[string][]float32{"": {1, 2}}}
			return db.store.Set(vectorsKey(cid, numID(3)), appendVectorRecord(nil, rec, float32Rows), pebble.Sync)
		},
		"checksum": func(db *DB, cid uint32) error {
			v, closer, err := db.store.Get(vectorsKey(cid, numID(3)))
			if err != nil {
				return err
			}
			bad := append([]byte(nil), v...)
			closer.Close()
			bad[10] ^= 1
			return db.store.Set(vectorsKey(cid, numID(3)), bad, pebble.Sync)
		},
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir, testOpts())
			require.NoError(t, err)
			createColl(t, db, "c", 2, distance.Dot, 10000)
			testPoints(t, db, "c", 10, 2, 1)
			c, err := db.collection("c")
			require.NoError(t, err)
			require.NoError(t, spoil(db, c.cid))
			require.NoError(t, db.Close())
			o := testOpts()
			o.Log = io.Discard
			db, err = Open(dir, o)
			require.NoError(t, err)
			defer db.Close()
			_, err = db.Count(bg, "c", nil, true)
			require.ErrorIs(t, err, ErrUnavailable)
			require.ErrorContains(t, err, ErrCorrupt.Error())
		})
	}
}

// snapshotRecords reads the points file of the collection snapshot at
// path: the records by point key.
func snapshotRecords(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		require.NoError(t, err, "no points file")
		if h.Name != snapPoints {
			continue
		}
		r := bufio.NewReader(tr)
		magic := make([]byte, len(snapMagic))
		_, err = io.ReadFull(r, magic)
		require.NoError(t, err)
		require.Equal(t, snapMagic, string(magic))
		part := func() []byte {
			n, err := binary.ReadUvarint(r)
			require.NoError(t, err)
			b := make([]byte, n)
			_, err = io.ReadFull(r, b)
			require.NoError(t, err)
			return b
		}
		out := map[string][]byte{}
		for {
			key := part()
			if len(key) == 0 {
				return out
			}
			out[string(key)] = part()
		}
	}
}

// Snapshots hold whole point records (versions 1 and 2, as every qlite
// wrote them), so that they restore both ways: a snapshot of a split
// store restores into a store of either format, and one of whole records
// restores into a split store.
func TestSnapshotWholeRecords(t *testing.T) {
	for _, inline := range []bool{false, true} {
		t.Run(map[bool]string{false: "from format 2", true: "from format 1"}[inline], func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(dir, testOpts())
			require.NoError(t, err)
			fillMixed(t, db, "c", 120, true)
			want := fullState(t, db, "c")
			if inline {
				inlineRecords(t, db, "c")
				require.NoError(t, db.Close())
				db, err = Open(dir, testOpts())
				require.NoError(t, err)
			}
			t.Cleanup(func() { closeChecked(t, db) })
			d, err := db.CreateSnapshot(bg, "c")
			require.NoError(t, err)
			path, err := db.SnapshotPath(bg, "c", d.Name)
			require.NoError(t, err)
			recs := snapshotRecords(t, path)
			require.Len(t, recs, len(want))
			sparse := 0
			for key, val := range recs {
				require.Contains(t, []byte{recordVersion, recordVersionSparse}, val[0], "point %x", key)
				if val[0] == recordVersionSparse {
					sparse++
				}
				_, err := decodeRecord(val, nil)
				require.NoError(t, err)
			}
			require.Positive(t, sparse)

			// Into this store (split) and into a format-1 one.
			require.NoError(t, db.RestoreSnapshot(bg, path, "r"))
			require.Equal(t, want, fullState(t, db, "r"))
			r, err := db.collection("r")
			require.NoError(t, err)
			it, err := newPointIter(db.store, r.cid)
			require.NoError(t, err)
			vecs := 0
			for ok := it.First(); ok; ok = it.Next() {
				val, err := it.Value()
				require.NoError(t, err)
				require.EqualValues(t, recordVersionSplit, val[0])
				if it.Vectors() != nil {
					vecs++
				}
			}
			require.NoError(t, it.Close())
			require.Equal(t, len(want), vecs)
			inlineRecords(t, db, "r")
			require.NoError(t, db.Close())
			db, err = Open(dir, testOpts())
			require.NoError(t, err)
			require.Equal(t, want, fullState(t, db, "r"))
		})
	}
}

// float32Rows is the datatype of every vector of a float32 collection.
func float32Rows(string) segment.Datatype { return segment.Float32 }
