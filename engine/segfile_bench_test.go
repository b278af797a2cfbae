package engine

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

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
// vectors (Fashion-MNIST's size) with the vectors on disk and in RAM, and
// reports the time to open, the live heap once open and the growth of
// anonymous memory (RssAnon) across the open. The on-disk reopen still
// reads the point records (each carries its vector) and checks the file's
// CRC; it copies no vector into the heap. Run with -benchtime 5x.
func BenchmarkVectorsReopen(b *testing.B) {
	const n, dim = 60000, 784
	for _, onDisk := range []bool{true, false} {
		dir := newReopenBenchDB(b, n, dim, onDisk)
		b.Run(fmt.Sprintf("on_disk=%v/n=60k/dim=784", onDisk), func(b *testing.B) {
			var heap, anon float64
			for range b.N {
				runtime.GC()
				a0 := procStatus("RssAnon")
				db, err := Open(dir, testOpts())
				require.NoError(b, err)
				b.StopTimer()
				a1 := procStatus("RssAnon")
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap += float64(ms.HeapAlloc)
				anon += a1 - a0
				info, err := db.CollectionInfo(bg, "c")
				require.NoError(b, err)
				require.Equal(b, n, info.PointsCount)
				b.StartTimer()
				require.NoError(b, db.Close())
			}
			b.ReportMetric(heap/float64(b.N)/(1<<20), "heap-MiB")
			b.ReportMetric(anon/float64(b.N)/(1<<20), "rssanon-growth-MiB")
		})
	}
}

// BenchmarkVectorFileCRC measures the checksum pass Open makes over a
// vector file of 60,000 x 784 floats (188 MB), warm in the page cache.
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
	b.SetBytes(st.Size())
	for b.Loop() {
		_, err := crcFile(f, st.Size())
		require.NoError(b, err)
	}
}
