package engine

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// TestUpdateQueueLength holds the collection's write lock, as a long write
// would, and checks that the writes waiting behind it are counted, then
// drained.
func TestUpdateQueueLength(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 2, distance.Dot, 0)
	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Zero(t, info.UpdateQueueLength)
	require.Zero(t, info.LastOperation)

	c, err := db.collection("c")
	require.NoError(t, err)
	const writers = 3
	c.wmu.Lock()
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, err := db.Upsert(bg, "c", &UpsertOp{Points: []Point{{ID: numID(uint64(i + 1)), Vectors: map[string][]float32{"": {1, 0}}}}}, nil)
			require.NoError(t, err)
		})
	}
	require.Eventually(t, func() bool {
		info, err := db.CollectionInfo(bg, "c")
		return err == nil && info.UpdateQueueLength == writers
	}, 10*time.Second, time.Millisecond)
	c.wmu.Unlock()
	wg.Wait()

	info, err = db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Zero(t, info.UpdateQueueLength)
	require.Equal(t, uint64(writers), info.LastOperation)
	require.Equal(t, writers, info.PointsCount)
}

// TestSegments checks that the segments cover every point, the appendable
// one last, each with a distinct UUID.
func TestSegments(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 2, distance.Cosine, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	var pts []Point
	for i := range 2000 {
		pts = append(pts, Point{ID: numID(uint64(i + 1)), Vectors: map[string][]float32{"": randVec(rng, 2)}})
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)

	check := func() []SegmentInfo {
		segs, err := db.Segments(bg, "c")
		require.NoError(t, err)
		require.NotEmpty(t, segs)
		info, err := db.CollectionInfo(bg, "c")
		require.NoError(t, err)
		points, seen := 0, map[string]bool{}
		for i, s := range segs {
			require.Equal(t, i == len(segs)-1, s.Appendable)
			require.False(t, seen[s.UUID], "duplicate uuid %s", s.UUID)
			seen[s.UUID] = true
			points += s.Points
		}
		require.Equal(t, info.PointsCount, points)
		return segs
	}
	// Past the indexing threshold the appendable segment has work queued.
	segs := check()
	require.True(t, segs[len(segs)-1].Optimizing)
	require.NoError(t, db.Optimize(bg, "c"))
	for _, s := range check() {
		require.False(t, s.Optimizing, "%+v", s)
	}
	_, err = db.Segments(bg, "nope")
	require.ErrorIs(t, err, ErrNotFound)
}

// TestOptimizationCounts checks that the optimizer's jobs are counted:
// none running once Optimize returns, some done.
func TestOptimizationCounts(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	createColl(t, db, "c", 2, distance.Cosine, 1)
	info, err := db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Zero(t, info.Optimizations)
	require.True(t, info.LastOptimization.IsZero())
	rng := rand.New(rand.NewPCG(3, 4))
	var pts []Point
	for i := range 500 {
		pts = append(pts, Point{ID: numID(uint64(i + 1)), Vectors: map[string][]float32{"": randVec(rng, 2)}})
	}
	_, err = db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, db.Optimize(bg, "c"))
	info, err = db.CollectionInfo(bg, "c")
	require.NoError(t, err)
	require.Zero(t, info.RunningOptimizations)
	require.Positive(t, info.Optimizations)
	require.False(t, info.LastOptimization.Before(start))
	require.GreaterOrEqual(t, info.OptimizationTime, time.Duration(0))
}
