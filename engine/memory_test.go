package engine

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/payload"
)

// heapInuse returns HeapInuse after a full collection.
func heapInuse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

const mib = 1 << 20

const emptyCollections = 100

// TestEmptyCollectionsReserveNothing creates 100 empty collections of one
// 384-dim Cosine vector with the default configuration: storage is sized by
// the points stored, not by the segment size limit, so together they hold
// well under 100 MiB of heap (about 2.5 GiB of HeapInuse for 10 of them when
// each appendable segment was allocated for its full capacity).
func TestEmptyCollectionsReserveNothing(t *testing.T) {
	before := heapInuse()
	db := openTestDB(t, t.TempDir(), testOpts())
	for i := range emptyCollections {
		require.NoError(t, db.CreateCollection(bg, fmt.Sprintf("c%d", i), &CreateCollection{
			Vectors: VectorsConfig{"": {Size: 384, Distance: distance.Cosine}},
		}))
	}
	grown := heapInuse() - before
	t.Logf("%d empty collections: HeapInuse grew by %.1f MiB", emptyCollections, float64(grown)/mib)
	require.Less(t, grown, int64(100*mib), "HeapInuse growth for 100 empty collections")
	runtime.KeepAlive(db)
}

// TestHugeSegmentLimit gives a collection of 1536-dim vectors a
// max_segment_size of 1e9 KB (which Qdrant accepts): a segment of 4M
// points, 25.8 GB of vectors if reserved. Points are upserted, searched
// (against brute force), and found again after a reopen, with HeapInuse
// growing by less than 32 MiB throughout: the 300 points (1.8 MB of
// vectors) take one vector chunk of 512 rows (3 MiB) and one slot chunk
// (about 120 KiB) per segment, the test holds its own copy, and the rest is
// the store's memtable and buffers, none of it sized by the limit.
func TestHugeSegmentLimit(t *testing.T) {
	const (
		dim   = 1536
		n     = 300
		bound = 32 * mib
	)
	before := heapInuse()
	dir := t.TempDir()
	db := openTestDB(t, dir, testOpts())
	size := 1_000_000_000
	require.NoError(t, db.CreateCollection(bg, "c", &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: dim, Distance: distance.Euclid}},
		Optimizers: &OptimizersConfigDiff{MaxSegmentSize: &size},
	}))
	rng := rand.New(rand.NewPCG(7, 8))
	vecs := make([][]float32, n)
	pts := make([]Point, n)
	for i := range pts {
		vecs[i] = randVec(rng, dim)
		pts[i] = Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": vecs[i]}}
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, nil)
	require.NoError(t, err)
	queries := make([][]float32, 5)
	for i := range queries {
		queries[i] = randVec(rng, dim)
	}
	check := func(stage string) {
		t.Helper()
		for _, q := range queries {
			res, err := db.Search(bg, "c", &SearchRequest{Vector: q, Limit: 10})
			require.NoError(t, err)
			require.Equal(t, bruteIDs(vecs, q, 10), scoredIDs(res), stage)
		}
		grown := heapInuse() - before
		t.Logf("%s: HeapInuse grew by %.1f MiB", stage, float64(grown)/mib)
		require.Less(t, grown, int64(bound), "HeapInuse growth %s", stage)
	}
	check("after upsert")
	require.NoError(t, db.Close())
	db = openTestDB(t, dir, testOpts())
	check("after reopen")
}

// bruteIDs returns the numeric ids of the k vectors nearest to q (squared
// L2), nearest first.
func bruteIDs(vecs [][]float32, q []float32, k int) []uint64 {
	idx := make([]int, len(vecs))
	d := make([]float32, len(vecs))
	for i, v := range vecs {
		idx[i] = i
		d[i] = distance.SquaredL2(q, v)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case d[a] < d[b]:
			return -1
		case d[a] > d[b]:
			return 1
		}
		return 0
	})
	out := make([]uint64, 0, k)
	for _, i := range idx[:k] {
		out = append(out, uint64(i))
	}
	return out
}

func scoredIDs(res []ScoredPoint) []uint64 {
	out := make([]uint64, 0, len(res))
	for _, r := range res {
		n, _ := r.ID.Num()
		out = append(out, n)
	}
	return out
}

// TestStoredSlotCountSizesNothing checks that a segment's slot count from
// the manifest is confirmed by the ids part before it sizes anything: a
// count the part cannot hold is corruption, not a 4-billion-entry
// allocation.
func TestStoredSlotCountSizesNothing(t *testing.T) {
	rec := append(appendIDKey(nil, numID(7)), 1, 0, 0, 0, 0, 0, 0, 0)
	ids, vers, err := parseArtefactIDs(rec, 1)
	require.NoError(t, err)
	require.Equal(t, []PointID{numID(7)}, ids)
	require.Equal(t, []uint64{1}, vers)
	for _, slots := range []int{2, 1 << 32, -1} {
		_, _, err := parseArtefactIDs(rec, slots)
		require.ErrorIs(t, err, ErrCorrupt, "slots %d", slots)
	}
}

// TestCollectionInfoMemoryAndDisk checks the bytes CollectionInfo reports
// against the data stored and the Go heap: the vector bytes are the
// vectors upserted, rounded up to a whole chunk; the graph holds at least
// the level-0 links of every point; the field index appears when created;
// the heap really grew by the vectors reported and by no less than the
// total; and after a flush the collection's share of the store holds its
// vectors, while an empty collection's share stays small and the shares
// fit in the directory.
func TestCollectionInfoMemoryAndDisk(t *testing.T) {
	const (
		n, dim = 3000, 256
		raw    = n * dim * 4
		chunk  = 1024 * dim * 4 // rows per vector chunk at this dimension
	)
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", dim, distance.Euclid, 1)
	createColl(t, db, "empty", dim, distance.Euclid, 1)
	empty, err := db.CollectionInfo(bg, "empty")
	require.NoError(t, err)
	require.Zero(t, empty.Memory.Vectors+empty.Memory.Graph+empty.Memory.PayloadIndexes)

	rng := rand.New(rand.NewPCG(3, 4))
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": randVec(rng, dim)},
			Payload: obj("w", i%50)}
	}
	before := heapInuse()
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	grown := heapInuse() - before
	runtime.KeepAlive(pts) // the input is not counted as growth
	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	m := info.Memory
	t.Logf("after upsert: %+v (total %d), HeapInuse grew by %d", m, m.Total(), grown)
	require.GreaterOrEqual(t, m.Vectors, int64(raw))
	require.Less(t, m.Vectors, int64(raw+info.SegmentsCount*chunk))
	if payloadsInRAM {
		require.Positive(t, m.Payloads)
	} else {
		require.Zero(t, m.Payloads, "on_disk_payload (the default): payloads are in the store")
	}
	require.Zero(t, m.PayloadIndexes)
	require.GreaterOrEqual(t, grown, m.Vectors, "the vector chunks reported are on the heap")
	require.GreaterOrEqual(t, grown, m.Total(), "the estimate counts no more than the heap grew by")

	require.NoError(t, db.Optimize(bg, "c"))
	_, err = db.CreateFieldIndex(bg, "c", "w", payload.IndexParams{Type: payload.TypeInteger}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	info, err = db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	m = info.Memory
	t.Logf("indexed: %+v in %d segments", m, info.SegmentsCount)
	require.Equal(t, n, info.IndexedVectorsCount)
	require.GreaterOrEqual(t, m.Graph, int64(n*(2*16+1)*4), "level-0 links of every node")
	require.Equal(t, n, info.PayloadSchema["w"].Points)
	require.GreaterOrEqual(t, m.PayloadIndexes, int64(n*(8+4)), "a value and a slot per point")
	require.GreaterOrEqual(t, m.Vectors, int64(raw))
	require.Less(t, m.Vectors, int64(raw+info.SegmentsCount*chunk))

	require.NoError(t, db.store.Flush())
	info, err = db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	empty, err = db.CollectionInfo(bg, "empty")
	require.NoError(t, err)
	total, err := db.DiskUsage()
	require.NoError(t, err)
	t.Logf("disk: c %d, empty %d, directory %d", info.DiskBytes, empty.DiskBytes, total)
	require.GreaterOrEqual(t, info.DiskBytes, int64(raw), "random floats do not compress")
	require.Less(t, empty.DiskBytes, int64(raw/100))
	require.LessOrEqual(t, info.DiskBytes+empty.DiskBytes, total)

	_, err = db.DeleteCollection(bg, "c")
	require.NoError(t, err)
	_, err = db.CollectionInfo(bg, "c")
	require.ErrorIs(t, err, ErrNotFound)
}

// TestClosedDBHoldsNoCollections keeps the handle of a closed DB that held
// 16 MiB of vectors: after collections the heap is back below that, as if
// the handle were gone.
func TestClosedDBHoldsNoCollections(t *testing.T) {
	if raceEnabled {
		t.Skip("-race builds keep freed memory reachable for a varying number of collections")
	}
	const dim, n = 128, 32 << 10 // 16 MiB of vectors
	before := heapInuse()
	o := testOpts()
	o.DisableOptimizer = true
	db, err := Open(t.TempDir(), o)
	require.NoError(t, err)
	createColl(t, db, "c", dim, distance.Euclid, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	for from := 0; from < n; from += 1024 {
		op := &UpsertOp{}
		for i := from; i < from+1024; i++ {
			op.Points = append(op.Points, Point{ID: numID(uint64(i)), Vectors: map[string][]float32{"": randVec(rng, dim)}})
		}
		_, err := db.Upsert(bg, "c", op, nil)
		require.NoError(t, err)
	}
	held := heapInuse() - before
	require.Greater(t, held, int64(n*dim*4), "the open DB holds its vectors")
	require.NoError(t, db.Close())
	for range 3 { // pooled search scratch keeps segments for two collections
		runtime.GC()
	}
	after := heapInuse() - before
	require.Less(t, after, int64(n*dim*4)/4, "a closed DB still held %d MiB of its %d", after/mib, held/mib)
	runtime.KeepAlive(db)
}

// sealGrowthLimit bounds what a seal may add to the heap in use besides
// memtable arenas: it adds about 1 MiB (see sealOnDiskAttempt), and a held
// artefact about 5 MiB more.
const sealGrowthLimit = 3 << 20

// memTableArenas returns the bytes of Pebble's memtable arenas: those in
// use and the one kept for reuse (flushable large batches are not arenas).
func memTableArenas(db *DB) int64 {
	m := db.store.Metrics()
	return int64(m.MemTable.Size + m.MemTable.ZombieSize)
}

// heapResident returns the heap the runtime holds in memory: its objects,
// live or not yet collected, and the free pages it has not returned.
func heapResident() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64() + s[1].Value.Uint64())
}

// TestSealOnDiskReturnsRows seals a collection whose originals are on disk
// and whose scalar codes stay in RAM: when Optimize returns, the float32
// rows the appendable segment held are neither uncollected garbage nor free
// heap kept by the runtime (the process's anonymous memory is about what
// the collection still uses), and no artefact batch is held by the store
// in the heap (a batch of half a memtable or more is).
//
// The heap is the whole process's: Pebble's background flushes, its log
// writer's blocks and the test binary's other goroutines move it by a few
// MiB on a loaded machine. So the seal is tried on up to three fresh
// databases and must pass once; code that keeps the rows or the batch
// fails every attempt (each leaves about 5 MiB behind).
func TestSealOnDiskReturnsRows(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory and slower build say nothing of the heap here")
	}
	var failures []string
	for attempt := range 3 {
		msg := sealOnDiskAttempt(t)
		if msg == "" {
			return
		}
		t.Logf("attempt %d: %s", attempt+1, msg)
		failures = append(failures, msg)
	}
	t.Fatalf("every attempt failed: %v", failures)
}

// sealOnDiskAttempt runs TestSealOnDiskReturnsRows's seal on a fresh
// database and returns what it found wrong, or "".
func sealOnDiskAttempt(t *testing.T) string {
	const dim, n = 64, 24000
	rows := int64(n * dim * 4)
	db := openTestDB(t, t.TempDir(), testOpts())
	defer db.Close()
	efc := 16
	thr := 5000 // KB: the first segment seals at 20000 points
	require.NoError(t, db.CreateCollection(bg, "c", &CreateCollection{
		Vectors:      VectorsConfig{"": {Size: dim, Distance: distance.Euclid, OnDisk: new(true)}},
		Optimizers:   &OptimizersConfigDiff{IndexingThreshold: &thr},
		Quantization: json.RawMessage(`{"scalar": {"type": "int8", "always_ram": true}}`),
		// A small ef_construct: the graph's size is what counts.
		HNSW: &HnswConfigDiff{EfConstruct: &efc},
	}))
	testPoints(t, db, "c", n, dim, 3)
	before, arenasBefore := heapInuse(), memTableArenas(db)
	require.NoError(t, db.Optimize(bg, "c"))
	resident := heapResident()
	runtime.GC()
	live := heapResident()
	// The seal's flush (rotateLog) can start a compaction, whose buffers
	// are the heap's until it ends: wait for it.
	for deadline := time.Now().Add(30 * time.Second); db.store.Metrics().Compact.NumInProgress > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	runtime.GC()
	after, arenasAfter := heapInuse(), memTableArenas(db)
	t.Logf("rows %.1f MiB; heap held after the seal %.1f MiB, %.1f MiB after a collection; in use %.1f MiB before the seal, %.1f MiB after; memtable arenas %.1f MiB before, %.1f MiB after", float64(rows)/mib, float64(resident)/mib, float64(live)/mib, float64(before)/mib, float64(after)/mib, float64(arenasBefore)/mib, float64(arenasAfter)/mib)

	c, err := db.collection("c")
	require.NoError(t, err)
	for _, ref := range c.snapshotSegs() {
		if ref.seg.Len() > 0 {
			require.True(t, ref.seg.Mapped(""), "segment %d reads its vectors from its file", ref.id)
		}
	}
	if resident-live >= rows/4 {
		return fmt.Sprintf("the seal left %.1f MiB of heap to collect or return (limit %.1f)", float64(resident-live)/mib, float64(rows/4)/mib)
	}
	// The seal trades the sealed rows (4.9 MiB) for codes (1.3 MiB) and a
	// graph (4.7 MiB): about 1.1 MiB more. The artefact (about 5 MiB) in a
	// batch of half a memtable or more stays in the heap after its commit,
	// as much again. The seal's flush (rotateLog) starts a memtable, whose
	// arena is allocated whole and filled by later writes: Pebble's
	// memtable arenas are not counted (a large batch is not one of them).
	grew := after - before - (arenasAfter - arenasBefore)
	if grew >= sealGrowthLimit {
		return fmt.Sprintf("heap in use besides memtable arenas grew by %.1f MiB in the seal (limit %.1f)", float64(grew)/mib, float64(sealGrowthLimit)/mib)
	}
	return ""
}
