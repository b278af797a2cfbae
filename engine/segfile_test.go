package engine

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// createDiskColl creates a collection of one unnamed vector with the given
// on_disk.
func createDiskColl(t testing.TB, db *DB, name string, dim int, m distance.Metric, indexingKB int, onDisk bool) {
	t.Helper()
	thr := indexingKB
	req := &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: uint64(dim), Distance: m, OnDisk: &onDisk}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
	}
	require.NoError(t, db.CreateCollection(bg, name, req))
}

// segFiles lists the segment files of collection name.
func segFiles(t testing.TB, db *DB, name string) []string {
	t.Helper()
	c, err := db.collection(name)
	require.NoError(t, err)
	names, err := os.ReadDir(db.segFilesDir(c.cid))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, e := range names {
		out = append(out, filepath.Join(db.segFilesDir(c.cid), e.Name()))
	}
	return out
}

// nearestByL2 returns the ids of the k nearest vectors to q by Euclid.
func nearestByL2(vecs map[PointID][]float32, q []float32, k int) []PointID {
	type d struct {
		id   PointID
		dist float32
	}
	var all []d
	for id, v := range vecs {
		all = append(all, d{id, distance.Euclid.Distance(q, v)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].dist < all[j].dist })
	var out []PointID
	for _, x := range all[:k] {
		out = append(out, x.id)
	}
	return out
}

// searchAll runs the queries on coll and returns the results.
func searchAll(t testing.TB, db *DB, coll string, qs [][]float32) [][]ScoredPoint {
	t.Helper()
	var out [][]ScoredPoint
	for _, q := range qs {
		res, err := db.Search(bg, coll, &SearchRequest{Vector: q, Limit: 10, HnswEf: 64})
		require.NoError(t, err)
		out = append(out, res)
	}
	return out
}

// Sealed segments of an on-disk collection read their vectors from mapped
// segment files (no heap copy), before and after a reopen; searches give the
// in-RAM collection's answers (same points, same graph: one indexing worker)
// and a brute-force recall.
func TestOnDiskVectorsMatchInRAM(t *testing.T) {
	for _, pread := range []bool{false, true} {
		t.Run(map[bool]string{false: "mmap", true: "pread"}[pread], func(t *testing.T) {
			forcePread = pread
			t.Cleanup(func() { forcePread = false })
			dir := t.TempDir()
			o := testOpts()
			o.IndexingWorkers = 1
			db := openTestDB(t, dir, o)
			const dim, n = 16, 3000
			createDiskColl(t, db, "disk", dim, distance.Euclid, 20, true)
			createDiskColl(t, db, "ram", dim, distance.Euclid, 20, false)
			vecs := testPoints(t, db, "disk", n, dim, 1)
			testPoints(t, db, "ram", n, dim, 1)
			// Deletes, so that sealed segments have masked slots.
			for i := range 50 {
				_, err := db.Delete(bg, "disk", Selector{IDs: []PointID{numID(uint64(i * 7))}}, &WriteOptions{Wait: true})
				require.NoError(t, err)
				_, err = db.Delete(bg, "ram", Selector{IDs: []PointID{numID(uint64(i * 7))}}, &WriteOptions{Wait: true})
				require.NoError(t, err)
				delete(vecs, numID(uint64(i*7)))
			}
			require.NoError(t, db.Optimize(bg, "disk"))
			require.NoError(t, db.Optimize(bg, "ram"))
			require.NotEmpty(t, segFiles(t, db, "disk"))
			require.Empty(t, segFiles(t, db, "ram"))

			qs := randVecs(9, 50, dim)
			check := func(db *DB) {
				t.Helper()
				info, err := db.CollectionInfo(bg, "disk")
				require.NoError(t, err)
				ram, err := db.CollectionInfo(bg, "ram")
				require.NoError(t, err)
				require.Equal(t, ram.PointsCount, info.PointsCount)
				if !pread {
					require.Positive(t, info.Memory.MappedVectors)
					require.Less(t, info.Memory.Vectors, ram.Memory.Vectors/4, "sealed vectors still on the heap")
				} else {
					require.Zero(t, info.Memory.MappedVectors)
				}
				got, want := searchAll(t, db, "disk", qs), searchAll(t, db, "ram", qs)
				require.Equal(t, want, got)
				require.GreaterOrEqual(t, l2Recall(t, vecs, qs, got), 0.95)
			}
			check(db)
			closeChecked(t, db)
			db = openTestDB(t, dir, o)
			check(db)
			// The reopen read no vector record of a point that a sealed
			// on-disk segment holds: only the appendable segment's.
			disk, err := db.collection("disk")
			require.NoError(t, err)
			ram, err := db.collection("ram")
			require.NoError(t, err)
			app := disk.snapshotSegs()[len(disk.snapshotSegs())-1].seg.Live()
			require.Equal(t, int64(app), disk.loadedVectorRecords.Load())
			require.Equal(t, int64(len(vecs)), ram.loadedVectorRecords.Load())
		})
	}
}

// sealedDiskDB makes a database in dir with one on-disk collection "c"
// whose points are all in sealed segments with vector files, and closes
// it. It returns the vectors and the collection's file paths.
func sealedDiskDB(t *testing.T, dir string) (map[PointID][]float32, []string) {
	t.Helper()
	db, err := Open(dir, testOpts())
	require.NoError(t, err)
	createDiskColl(t, db, "c", 8, distance.Euclid, 4, true) // 4 KB: 128 points
	vecs := testPoints(t, db, "c", 600, 8, 3)
	require.NoError(t, db.Optimize(bg, "c"))
	files := segFiles(t, db, "c")
	require.NotEmpty(t, files)
	closeChecked(t, db)
	return vecs, files
}

// A vector file that is damaged (a byte flipped in its data or header),
// cut, lengthened or removed is found at open: the collection is not
// served, and its requests fail with an error wrapping ErrCorrupt that
// names the file; never a panic or a wrong answer. Deleting the collection
// recovers.
func TestSegFileCorruptAtOpen(t *testing.T) {
	damage := map[string]func(t *testing.T, path string){
		"flip data byte": func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			b[segFileDataOff+13] ^= 0x40
			require.NoError(t, os.WriteFile(path, b, 0o644))
		},
		"flip header byte": func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			b[13] ^= 1 // the dimension
			require.NoError(t, os.WriteFile(path, b, 0o644))
		},
		"truncate": func(t *testing.T, path string) {
			st, err := os.Stat(path)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(path, st.Size()-100))
		},
		"cut to header": func(t *testing.T, path string) {
			require.NoError(t, os.Truncate(path, 10))
		},
		"extend": func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.Write([]byte{0})
			require.NoError(t, err)
			require.NoError(t, f.Close())
		},
		"remove": func(t *testing.T, path string) {
			require.NoError(t, os.Remove(path))
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, files := sealedDiskDB(t, dir)
			victim := files[len(files)/2]
			fn(t, victim)
			db, err := Open(dir, &Options{DisableOptimizer: true, Log: io.Discard})
			require.NoError(t, err)
			defer db.Close()
			_, err = db.Count(bg, "c", nil, true)
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorIs(t, err, ErrUnavailable)
			require.Contains(t, err.Error(), filepath.Base(victim))
			_, err = db.DeleteCollection(bg, "c")
			require.NoError(t, err)
			_, err = os.Stat(filepath.Dir(victim))
			require.True(t, os.IsNotExist(err), "the collection's files were not deleted")
		})
	}
}

// Files that no manifest names (the remains of a seal that wrote them but
// did not commit, or a temporary file) are deleted at open; named files
// stay, and every point is served.
func TestSegFileOrphansDeleted(t *testing.T) {
	dir := t.TempDir()
	vecs, files := sealedDiskDB(t, dir)
	d := filepath.Dir(files[0])
	orphans := []string{filepath.Join(d, "999-v0"), filepath.Join(d, "999-v0"+segFileTmp), filepath.Join(d, "junk")}
	for _, o := range orphans {
		require.NoError(t, os.WriteFile(o, []byte("half written"), 0o644))
	}
	// A directory of a collection id that no collection has.
	stray := filepath.Join(filepath.Dir(d), "4242")
	require.NoError(t, os.MkdirAll(stray, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(stray, "1-v0"), nil, 0o644))

	db := openTestDB(t, dir, testOpts())
	for _, o := range append(orphans, stray) {
		_, err := os.Stat(o)
		require.True(t, os.IsNotExist(err), "%s was not deleted", o)
	}
	for _, f := range files {
		_, err := os.Stat(f)
		require.NoError(t, err)
	}
	n, err := db.Count(bg, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, len(vecs), n)
}

// Changing a vector's on_disk rewrites the sealed segments through the
// optimizer: their files appear or go (each deleted once the manifest that
// drops it commits), searches answer the same throughout, and a collection
// delete deletes every file.
func TestSegFilesFollowOnDisk(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	createDiskColl(t, db, "c", 8, distance.Euclid, 4, true)
	vecs := testPoints(t, db, "c", 600, 8, 3)
	require.NoError(t, db.Optimize(bg, "c"))
	c, err := db.collection("c")
	require.NoError(t, err)
	before := segFiles(t, db, "c")
	require.Len(t, before, len(c.manifest.segs), "one file per sealed segment")
	q := vecs[numID(7)]
	exact, err := db.Search(bg, "c", &SearchRequest{Vector: q, Limit: 5, Exact: true})
	require.NoError(t, err)

	setOnDisk := func(on bool) {
		t.Helper()
		require.NoError(t, db.UpdateCollection(bg, "c", &UpdateCollection{Vectors: map[string]VectorParamsDiff{"": {OnDisk: &on}}}))
		require.NoError(t, db.Optimize(bg, "c"))
		got, err := db.Search(bg, "c", &SearchRequest{Vector: q, Limit: 5, Exact: true})
		require.NoError(t, err)
		require.Equal(t, exact, got)
		info, err := db.CollectionInfo(bg, "c")
		require.NoError(t, err)
		require.Equal(t, on, info.Memory.MappedVectors > 0)
	}
	setOnDisk(false)
	require.Empty(t, segFiles(t, db, "c"))
	for _, f := range before {
		_, err := os.Stat(f)
		require.True(t, os.IsNotExist(err), "%s outlived its segment", f)
	}
	setOnDisk(true)
	after := segFiles(t, db, "c")
	require.Len(t, after, len(c.manifest.segs))
	closeChecked(t, db)
	db = openTestDB(t, dir, testOpts())
	got, err := db.Search(bg, "c", &SearchRequest{Vector: q, Limit: 5, Exact: true})
	require.NoError(t, err)
	require.Equal(t, exact, got)
	_, err = db.DeleteCollection(bg, "c")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Dir(after[0]))
	require.True(t, os.IsNotExist(err))
}

// Searches, retrievals and scrolls run while the optimizer seals, merges
// and vacuums segments of an on-disk collection, dropping the segments
// whose files they may be reading: a mapping is released only once no
// reader can reach it (a read of an unmapped page would crash the test),
// and every answer is right.
func TestMappedSegmentsDroppedUnderSearch(t *testing.T) {
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	const dim = 8
	createDiskColl(t, db, "c", dim, distance.Euclid, 2, true) // 64 points
	done := make(chan struct{})
	errc := make(chan error, 4)
	for g := range 2 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 5))
			for {
				select {
				case <-done:
					errc <- nil
					return
				default:
				}
				q := randVec(rng, dim)
				res, err := db.Search(bg, "c", &SearchRequest{Vector: q, Limit: 5, WithVectors: AllVectors})
				if err == nil {
					for _, r := range res {
						// Euclid scores are distances; Distance is squared.
						d := distance.Euclid.Distance(q, r.Vectors[""])
						if s2 := float32(r.Score) * float32(r.Score); s2-d > 1e-3*d || d-s2 > 1e-3*d {
							err = fmt.Errorf("point %v: score %v, its vector is at %v", r.ID, r.Score, d)
						}
					}
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for round := range 6 {
		var pts []Point
		for i := range 120 {
			id := uint64(round*100 + i) // overlaps: replaces masks slots
			pts = append(pts, Point{ID: numID(id), Vectors: map[string][]float32{"": randVec(rng, dim)}, Payload: obj("i", int(id))})
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
		if round%2 == 1 {
			_, err = db.Delete(bg, "c", Selector{Filter: mustFilter(t, fmt.Sprintf(`{"must": [{"key": "i", "range": {"lt": %d}}]}`, round*60))}, &WriteOptions{Wait: true})
			require.NoError(t, err)
		}
		require.NoError(t, db.Optimize(bg, "c"))
	}
	close(done)
	for range 2 {
		require.NoError(t, <-errc)
	}
	require.Positive(t, db.Stats().Merges+db.Stats().Vacuums)
	require.NotEmpty(t, segFiles(t, db, "c"))
}

// A disk that fills while a seal writes a vector file: the seal fails with
// ErrNoSpace and leaves nothing behind (no temporary file, no manifest
// change), writes and searches go on, a later seal succeeds once space is
// back, and a reopen after a failed seal has every acknowledged write.
func TestSegFileDiskFull(t *testing.T) {
	var full atomic.Bool
	fs := errorfs.Wrap(vfs.Default, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if full.Load() && op.Kind == errorfs.OpFileWrite && strings.Contains(op.Path, string(filepath.Separator)+segFileDir+string(filepath.Separator)) {
			return syscall.ENOSPC
		}
		return nil
	}))
	dir := t.TempDir()
	o := testOpts()
	o.fs = fs
	db := openTestDB(t, dir, o)
	createDiskColl(t, db, "c", 8, distance.Euclid, 4, true)
	vecs := testPoints(t, db, "c", 600, 8, 3)
	c, err := db.collection("c")
	require.NoError(t, err)

	full.Store(true)
	err = db.Optimize(bg, "c")
	require.ErrorIs(t, err, ErrNoSpace)
	require.Empty(t, c.manifest.segs, "a failed seal committed")
	require.Empty(t, segFiles(t, db, "c"), "a failed seal left a file")
	// Writes and reads go on.
	more := Point{ID: numID(5000), Vectors: map[string][]float32{"": {1, 2, 3, 4, 5, 6, 7, 8}}}
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: []Point{more}}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	vecs[more.ID] = more.Vectors[""]
	res, err := db.Search(bg, "c", &SearchRequest{Vector: more.Vectors[""], Limit: 1})
	require.NoError(t, err)
	require.Equal(t, more.ID, res[0].ID)

	// Reopen after the failed seal (Close's own attempt to persist the
	// frozen segment fails the same way): every acknowledged write.
	require.NoError(t, db.CheckInvariants())
	fdir := db.segFilesDir(c.cid)
	require.ErrorIs(t, db.Close(), ErrNoSpace)
	left, _ := os.ReadDir(fdir)
	require.Empty(t, left, "a failed seal left a file")
	db = openTestDB(t, dir, o)
	n, err := db.Count(bg, "c", nil, true)
	require.NoError(t, err)
	require.Equal(t, len(vecs), n)

	// Space is back: the seal goes through.
	full.Store(false)
	require.NoError(t, db.Optimize(bg, "c"))
	require.NotEmpty(t, segFiles(t, db, "c"))
	for _, f := range segFiles(t, db, "c") {
		require.False(t, strings.HasSuffix(f, segFileTmp), "%s left", f)
	}
	res, err = db.Search(bg, "c", &SearchRequest{Vector: more.Vectors[""], Limit: 1})
	require.NoError(t, err)
	require.Equal(t, more.ID, res[0].ID)
}
