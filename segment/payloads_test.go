package segment

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/hnsw"
	"github.com/qlite/qlite/payload"
)

// TestPayloadSourceReads counts what a segment asks its PayloadSource
// for: a filter its indexes answer reads no payload; an exact scan with a
// filter no index answers reads each tested slot's payload once, in
// batches (not one read per slot); and a failing source makes every read
// that needs a payload fail, rather than reading null.
func TestPayloadSourceReads(t *testing.T) {
	fx := newFixtureWith(t, &Options{Vectors: []VectorSpec{{Dim: 8, Metric: distance.Euclid, HNSW: hnsw.Config{Seed: 3}}}, Capacity: 3000}, true)
	require.NoError(t, fx.s.CreateFieldIndex("class", payload.IndexParams{Type: payload.TypeInteger}))
	fx.append(t, 2000)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	fx.deleteRandom(t, 0, 2000, 0.1)
	live := fx.s.Live()
	q := fx.vector("")
	reads := func() (int, int) {
		fx.src.mu.Lock()
		defer fx.src.mu.Unlock()
		r, b := fx.src.reads, fx.src.batches
		fx.src.reads, fx.src.batches = 0, 0
		return r, b
	}
	reads()

	indexed := mustFilter(t, `{"must":[{"key":"class","match":{"value":3}}]}`)
	for _, exact := range []bool{true, false} {
		_, err := fx.s.Search(t.Context(), "", q, 10, &SearchOptions{Filter: indexed, Exact: exact})
		require.NoError(t, err)
	}
	n, err := fx.s.Count(indexed)
	require.NoError(t, err)
	require.Equal(t, len(fx.m.match(indexed)), n)
	r, _ := reads()
	require.Zero(t, r, "payload reads for an indexed filter")

	unindexed := rndBelow(t, 500)
	_, err = fx.s.Search(t.Context(), "", q, 10, &SearchOptions{Filter: unindexed, Exact: true})
	require.NoError(t, err)
	r, b := reads()
	require.LessOrEqual(t, r, live+sampleSize, "each tested slot read once (and the sample)")
	require.GreaterOrEqual(t, r, live)
	require.LessOrEqual(t, b, live/readAhead+3, "payloads read in batches")
	n, err = fx.s.Count(unindexed)
	require.NoError(t, err)
	require.Equal(t, len(fx.m.match(unindexed)), n)
	r, b = reads()
	require.Equal(t, live, r)
	require.LessOrEqual(t, b, live/readAhead+2)

	boom := errors.New("disk on fire")
	fx.src.fail = boom
	_, err = fx.s.Search(t.Context(), "", q, 10, &SearchOptions{Filter: unindexed, Exact: true})
	require.ErrorIs(t, err, boom, "exact search")
	_, err = fx.s.Search(t.Context(), "", q, 10, &SearchOptions{Filter: unindexed})
	require.ErrorIs(t, err, boom, "graph search")
	_, err = fx.s.Count(unindexed)
	require.ErrorIs(t, err, boom, "count")
	called := false
	err = fx.s.Match(unindexed, func(uint32) bool { called = true; return true })
	require.ErrorIs(t, err, boom, "match")
	require.False(t, called, "match passes no slot after a failure in its first chunk")
	off := uint32(0)
	for !fx.m.slots[off].live {
		off++
	}
	_, err = fx.s.Matches(unindexed, off)
	require.ErrorIs(t, err, boom, "matches")
	_, err = fx.s.Payload(off)
	require.ErrorIs(t, err, boom, "payload")
	require.ErrorIs(t, fx.s.CreateFieldIndex("rnd", payload.IndexParams{Type: payload.TypeInteger}), boom, "create field index")
	// Reads that need no payload go on.
	n, err = fx.s.Count(indexed)
	require.NoError(t, err)
	require.Equal(t, len(fx.m.match(indexed)), n)
	fx.src.fail = nil
}
