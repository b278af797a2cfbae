package engine

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// createGraphDiskColl creates a collection of one unnamed vector with the
// given vector and graph on_disk.
func createGraphDiskColl(t testing.TB, db *DB, name string, dim, indexingKB int, vecOnDisk, graphOnDisk bool) {
	t.Helper()
	thr := indexingKB
	req := &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: uint64(dim), Distance: distance.Euclid, OnDisk: &vecOnDisk}},
		HNSW:       &HnswConfigDiff{OnDisk: &graphOnDisk},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
	}
	require.NoError(t, db.CreateCollection(bg, name, req))
}

// randVecs returns n random vectors of dim dimensions from a PCG seeded
// with seed.
func randVecs(seed uint64, n, dim int) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, seed))
	qs := make([][]float32, n)
	for i := range qs {
		qs[i] = randVec(rng, dim)
	}
	return qs
}

// l2Recall returns the recall@10 of got, the answers to qs, against the
// exact nearest of vecs by Euclid, and fails on an answer that vecs does
// not hold (a deleted point).
func l2Recall(t testing.TB, vecs map[PointID][]float32, qs [][]float32, got [][]ScoredPoint) float64 {
	t.Helper()
	hits := 0
	for i, q := range qs {
		exact := nearestByL2(vecs, q, 10)
		for _, r := range got[i] {
			_, live := vecs[r.ID]
			require.True(t, live, "deleted point %v returned", r.ID)
			if slices.Contains(exact, r.ID) {
				hits++
			}
		}
	}
	return float64(hits) / float64(10*len(qs))
}

// graphFiles lists the graph files of collection name.
func graphFiles(t testing.TB, db *DB, name string) []string {
	var out []string
	for _, f := range segFiles(t, db, name) {
		if strings.Contains(f[strings.LastIndexByte(f, '/'):], "-g") {
			out = append(out, f)
		}
	}
	return out
}

// With hnsw_config.on_disk, sealed segments search their graphs in place
// from mapped segment files (no graph in the heap, no graph artefact part),
// before and after a reopen, which loads no graph: searches give exactly
// the in-RAM collection's answers (same points, same graphs: one indexing
// worker) and a brute-force recall; deletes after the seal are never
// returned; turning on_disk off moves the graphs back to the heap.
func TestGraphOnDiskMatchesInRAM(t *testing.T) {
	for _, vecOnDisk := range []bool{false, true} {
		t.Run(map[bool]string{false: "vectors-in-ram", true: "vectors-on-disk"}[vecOnDisk], func(t *testing.T) {
			dir := t.TempDir()
			o := testOpts()
			o.IndexingWorkers = 1
			db := openTestDB(t, dir, o)
			const dim, n = 16, 3000
			createGraphDiskColl(t, db, "disk", dim, 20, vecOnDisk, true)
			createGraphDiskColl(t, db, "ram", dim, 20, vecOnDisk, false)
			vecs := testPoints(t, db, "disk", n, dim, 1)
			testPoints(t, db, "ram", n, dim, 1)
			require.NoError(t, db.Optimize(bg, "disk"))
			require.NoError(t, db.Optimize(bg, "ram"))
			require.NotEmpty(t, graphFiles(t, db, "disk"))
			require.Empty(t, graphFiles(t, db, "ram"))
			// Deletes after the seal: the mapped graphs mark them in the
			// heap, never in the file.
			for i := range 50 {
				for _, c := range []string{"disk", "ram"} {
					_, err := db.Delete(bg, c, Selector{IDs: []PointID{numID(uint64(i * 7))}}, &WriteOptions{Wait: true})
					require.NoError(t, err)
				}
				delete(vecs, numID(uint64(i*7)))
			}

			qs := randVecs(9, 50, dim)
			check := func(db *DB) {
				t.Helper()
				info, err := db.CollectionInfo(bg, "disk")
				require.NoError(t, err)
				ram, err := db.CollectionInfo(bg, "ram")
				require.NoError(t, err)
				require.Equal(t, ram.PointsCount, info.PointsCount)
				require.Positive(t, info.Memory.MappedGraph)
				require.Zero(t, ram.Memory.MappedGraph)
				require.Less(t, info.Memory.Graph, ram.Memory.Graph/4, "sealed graphs still on the heap")
				got, want := searchAll(t, db, "disk", qs), searchAll(t, db, "ram", qs)
				require.Equal(t, want, got)
				require.GreaterOrEqual(t, l2Recall(t, vecs, qs, got), 0.95)
			}
			check(db)
			closeChecked(t, db)
			db = openTestDB(t, dir, o)
			builds := db.Stats().GraphBuilds
			check(db)
			require.Equal(t, builds, db.Stats().GraphBuilds, "a reopen builds no graph")

			// on_disk off: the optimizer rewrites the segments with heap
			// graphs and drops the files.
			off := false
			require.NoError(t, db.UpdateCollection(bg, "disk", &UpdateCollection{HNSW: &HnswConfigDiff{OnDisk: &off}}))
			require.NoError(t, db.Optimize(bg, "disk"))
			require.Empty(t, graphFiles(t, db, "disk"))
			info, err := db.CollectionInfo(bg, "disk")
			require.NoError(t, err)
			require.Zero(t, info.Memory.MappedGraph)
			got := searchAll(t, db, "disk", qs)
			for _, res := range got {
				for _, r := range res {
					_, live := vecs[r.ID]
					require.True(t, live)
				}
			}
		})
	}
}

// A graph file that is damaged or removed is found at open by its
// checksum: the collection fails with ErrCorrupt naming the file.
func TestGraphFileCorruptAtOpen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, testOpts())
	require.NoError(t, err)
	createGraphDiskColl(t, db, "c", 8, 4, false, true)
	testPoints(t, db, "c", 600, 8, 3)
	require.NoError(t, db.Optimize(bg, "c"))
	files := graphFiles(t, db, "c")
	require.NotEmpty(t, files)
	closeChecked(t, db)

	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	b[segFileDataOff+70] ^= 0x10
	require.NoError(t, os.WriteFile(files[0], b, 0o644))
	db, err = Open(dir, &Options{DisableOptimizer: true, Log: io.Discard})
	require.NoError(t, err)
	_, err = db.Count(bg, "c", nil, true)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), filepath.Base(files[0]))
	require.NoError(t, db.Close())
}

// memmap_threshold moves the vectors of sealed segments past it to segment
// files, as Qdrant's optimizer does, unless the vector's on_disk is false;
// raising it, or 0, brings them back to the heap.
func TestMemmapThreshold(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim = 16 // 64 bytes a vector: 600 points are about 37 KB
	mk := func(name string, thresholdKB int, onDisk *bool) {
		thr, idx := thresholdKB, 20
		req := &CreateCollection{
			Vectors:    VectorsConfig{"": {Size: dim, Distance: distance.Euclid, OnDisk: onDisk}},
			Optimizers: &OptimizersConfigDiff{IndexingThreshold: &idx, MemmapThreshold: &thr},
		}
		require.NoError(t, db.CreateCollection(bg, name, req))
		testPoints(t, db, name, 600, dim, 5)
		require.NoError(t, db.Optimize(bg, name))
	}
	off := false
	mk("small", 4, nil)    // every sealed segment is past 4 KB
	mk("big", 100000, nil) // none is
	mk("pinned", 4, &off)  // on_disk false wins
	mk("zero", 0, nil)     // 0 disables it
	mapped := func(name string) int64 {
		info, err := db.CollectionInfo(bg, name)
		require.NoError(t, err)
		return info.Memory.MappedVectors
	}
	require.NotEmpty(t, segFiles(t, db, "small"))
	require.Positive(t, mapped("small"))
	for _, name := range []string{"big", "pinned", "zero"} {
		require.Empty(t, segFiles(t, db, name), name)
		require.Zero(t, mapped(name), name)
	}
	q := make([]float32, dim)
	want, err := db.Search(bg, "big", &SearchRequest{Vector: q, Limit: 10, Exact: true})
	require.NoError(t, err)
	got, err := db.Search(bg, "small", &SearchRequest{Vector: q, Limit: 10, Exact: true})
	require.NoError(t, err)
	require.Equal(t, want, got)

	// Raised past every segment: the optimizer rewrites them in the heap.
	big := 100000
	require.NoError(t, db.UpdateCollection(bg, "small", &UpdateCollection{Optimizers: &OptimizersConfigDiff{MemmapThreshold: &big}}))
	require.NoError(t, db.Optimize(bg, "small"))
	require.Empty(t, segFiles(t, db, "small"))
	require.Zero(t, mapped("small"))
	got, err = db.Search(bg, "small", &SearchRequest{Vector: q, Limit: 10, Exact: true})
	require.NoError(t, err)
	require.Equal(t, want, got)
}
