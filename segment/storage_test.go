package segment

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/hnsw"
)

// TestStorageGrowsWithSlots gives a segment the largest capacity with
// vectors of 1536 and 6 dims (rows per vector chunk 512 and 1024): creating
// it allocates no storage; appends across chunk boundaries of both spaces
// keep every vector where it was first stored (Vector aliases it), and
// exact and graph searches agree with brute force, before and after
// deletes. (The big space has a small graph, to keep the build short under
// the race detector.)
func TestStorageGrowsWithSlots(t *testing.T) {
	specs := []VectorSpec{
		{Name: "big", Dim: 1536, Metric: distance.Euclid, HNSW: hnsw.Config{Seed: 3, M: 8, EfConstruct: 32}},
		{Name: "txt", Dim: 6, Metric: distance.Cosine, HNSW: hnsw.Config{Seed: 4, M: 8}},
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fx := newFixture(t, &Options{Vectors: specs, Capacity: 1 << 22})
	runtime.GC()
	runtime.ReadMemStats(&after)
	require.Less(t, int64(after.HeapInuse)-int64(before.HeapInuse), int64(1<<20),
		"an empty segment of 4M slots of 1536 dims (25 GB if reserved)")
	require.Less(t, fx.s.MemoryBytes(), int64(1<<10))

	const n = chunkSlots + 300
	fx.append(t, 700)
	first, ok := fx.s.Vector("big", 5)
	require.True(t, ok)
	addr := unsafe.SliceData(first)
	fx.append(t, n-700)
	again, _ := fx.s.Vector("big", 5)
	require.Equal(t, addr, unsafe.SliceData(again), "a vector moved when storage grew")
	require.Equal(t, fx.m.slots[5].vecs["big"], first)

	// Storage: two slot chunks, three 512-row chunks, two 1024-row ones.
	require.Equal(t, 2, len(fx.s.chunks()))
	require.Equal(t, 3, len(*fx.s.byName["big"].rows.Load()))
	require.Equal(t, 2, len(*fx.s.byName["txt"].rows.Load()))
	for _, r := range *fx.s.byName["big"].rows.Load() {
		require.Zero(t, uintptr(unsafe.Pointer(unsafe.SliceData(r)))%distance.Alignment, "chunk alignment")
	}
	require.Less(t, fx.s.MemoryBytes(), int64(n*1536*4*2), "memory follows the slots")
	// The vector bytes reported are the rows used, rounded up to a whole
	// chunk of each space.
	m := fx.s.Memory()
	used := int64(n * (1536 + 6) * 4)
	require.GreaterOrEqual(t, m.Vectors, used)
	require.Less(t, m.Vectors-used, int64(512*1536*4+1024*6*4))
	require.Equal(t, fx.s.MemoryBytes(), m.Total())
	if fx.src == nil {
		require.Positive(t, m.Payloads)
	} else {
		require.Zero(t, m.Payloads, "payloads are read from the source")
	}
	require.Positive(t, m.Other)
	require.Zero(t, m.Graph+m.PayloadIndexes, "no graph or field index yet")

	fx.checkState(t)
	for _, name := range []string{"big", "txt"} {
		fx.checkExact(t, name, 5, nil)
	}
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	require.Equal(t, m.Vectors, fx.s.Memory().Vectors, "a graph build moves no vector")
	require.Positive(t, fx.s.Memory().Graph)
	fx.deleteRandom(t, 0, n, 0.2)
	fx.checkState(t)
	for _, name := range []string{"big", "txt"} {
		fx.checkExact(t, name, 5, nil)
		require.GreaterOrEqual(t, fx.recall(t, name, 20, nil, 64, nil), 0.9, name)
	}
}

// TestSmallCapacityChunk checks that the last vector chunk stops at the
// capacity and that a full segment refuses the next point.
func TestSmallCapacityChunk(t *testing.T) {
	fx := newFixture(t, &Options{Vectors: []VectorSpec{{Dim: 8, Metric: distance.Dot}}, Capacity: 5})
	fx.append(t, 5)
	rows := *fx.s.byName[""].rows.Load()
	require.Equal(t, 1, len(rows))
	require.Equal(t, 5*8, len(rows[0]))
	_, err := fx.s.Append(fx.point())
	require.ErrorIs(t, err, ErrFull)
	fx.checkState(t)
	fx.checkExact(t, "", 3, nil)
}
