//go:build linux

package engine

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/qlite/qlite/distance"
)

// newReopenBenchDB writes n random dim-long vectors into a collection "c"
// (vectors on disk or not; no graph, m 0, so that the setup is quick and the
// reopen measures the vectors alone), seals them and closes the database.
func newReopenBenchDB(b *testing.B, n, dim int, onDisk bool) string {
	b.Helper()
	dir := b.TempDir()
	db, err := Open(dir, testOpts())
	require.NoError(b, err)
	m, big := 0, 1<<30
	require.NoError(b, db.CreateCollection(bg, "c", &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: uint64(dim), Distance: distance.Euclid, OnDisk: &onDisk}},
		HNSW:       &HnswConfigDiff{M: &m},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: new(1000), MaxSegmentSize: &big},
	}))
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < n; i += 512 {
		pts := make([]Point, 0, 512)
		for j := i; j < min(i+512, n); j++ {
			pts = append(pts, Point{ID: numID(uint64(j)), Vectors: map[string][]float32{"": randVec(rng, dim)}, Payload: obj("i", j)})
		}
		_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(b, err)
	}
	require.NoError(b, db.Optimize(bg, "c"))
	segs, err := db.Segments(bg, "c")
	require.NoError(b, err)
	require.False(b, segs[0].Appendable, "the points are sealed")
	// Compact the store, so that no compaction runs during the reopens.
	require.NoError(b, db.store.Compact(bg, []byte{0}, []byte{0xff}, true))
	require.NoError(b, db.Close())
	return dir
}

// procStatus returns a field of /proc/self/status in bytes (0 where there
// is none).
func procStatus(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// BenchmarkVectorsReopen opens a database of 60,000 sealed 784-dim
// vectors (Fashion-MNIST's size) with the vectors on disk and one with them
// in RAM, alternately in each iteration (so that both see the same machine
// load), and reports per configuration the time to open, the live heap once
// open and the growth of anonymous memory (RssAnon) across the open. The
// on-disk reopen still reads the point records (each carries its vector)
// and checks the file's CRC; it copies no vector into the heap. Run with
// -benchtime 5x.
func BenchmarkVectorsReopen(b *testing.B) {
	const n, dim = 60000, 784
	dirs := map[bool]string{true: newReopenBenchDB(b, n, dim, true), false: newReopenBenchDB(b, n, dim, false)}
	type figures struct{ secs, heap, anon float64 }
	got := map[bool]*figures{true: {}, false: {}}
	for range b.N {
		for _, onDisk := range []bool{true, false} {
			f := got[onDisk]
			debug.FreeOSMemory()
			a0 := procStatus("RssAnon")
			start := time.Now()
			db, err := Open(dirs[onDisk], testOpts())
			require.NoError(b, err)
			f.secs += time.Since(start).Seconds()
			f.anon += procStatus("RssAnon") - a0
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			f.heap += float64(ms.HeapAlloc)
			info, err := db.CollectionInfo(bg, "c")
			require.NoError(b, err)
			require.Equal(b, n, info.PointsCount)
			require.Equal(b, onDisk, info.Memory.MappedVectors > 0)
			require.NoError(b, db.Close())
		}
	}
	for _, onDisk := range []bool{true, false} {
		f, name := got[onDisk], map[bool]string{true: "disk", false: "ram"}[onDisk]
		b.ReportMetric(f.secs/float64(b.N)*1000, name+"-open-ms")
		b.ReportMetric(f.heap/float64(b.N)/(1<<20), name+"-heap-MiB")
		b.ReportMetric(f.anon/float64(b.N)/(1<<20), name+"-rssanon-growth-MiB")
	}
}

// BenchmarkVectorFileCRC measures the checksum pass Open makes over a
// vector file of 60,000 x 784 floats (188 MB): warm in the page cache, and
// cold (the file's pages dropped with posix_fadvise before each pass).
func BenchmarkVectorFileCRC(b *testing.B) {
	dir := newReopenBenchDB(b, 60000, 784, true)
	var file string
	require.NoError(b, filepath.Walk(filepath.Join(dir, segFileDir), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			file = p
		}
		return err
	}))
	f, err := os.Open(file)
	require.NoError(b, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(b, err)
	for _, cold := range []bool{false, true} {
		b.Run(map[bool]string{false: "warm", true: "cold"}[cold], func(b *testing.B) {
			b.SetBytes(st.Size())
			for b.Loop() {
				if cold {
					b.StopTimer()
					require.NoError(b, f.Sync())
					require.NoError(b, unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED))
					b.StartTimer()
				}
				_, err := crcFile(f, st.Size())
				require.NoError(b, err)
			}
		})
	}
}
