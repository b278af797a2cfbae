package segment

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
)

// followBlockLinks makes filtered searches follow payload links at every
// selectivity below the two-hop one for the rest of the test (the 10%
// filters of these tests would not by default).
func followBlockLinks(t testing.TB) {
	old := hnsw.BlockLinksSelectivity
	hnsw.BlockLinksSelectivity = 1
	t.Cleanup(func() { hnsw.BlockLinksSelectivity = old })
}

// TestPayloadLinksRecall builds a graph with payload links (the indexes
// exist before the build, as in a rebuilt segment) and compares filtered
// searches with brute force: match filters a block serves exactly, range
// filters that cover blocks in part, and combinations, with points deleted
// after the build. (With M 6, the same graph without payload links gives
// recall@10 down to 0.85 on these filters.)
func TestPayloadLinksRecall(t *testing.T) {
	followBlockLinks(t)
	for _, metric := range []distance.Metric{distance.Euclid, distance.Cosine} {
		t.Run(metric.String(), func(t *testing.T) {
			fx := newFixture(t, &Options{Vectors: []VectorSpec{{Dim: 16, Metric: metric,
				HNSW: hnsw.Config{M: 6, Seed: 2}, PayloadM: 6, FullScanThreshold: 80}}, Capacity: 4000})
			fx.indexFields(t)
			fx.append(t, 4000)
			_, err := fx.s.BuildGraph(t.Context(), 0)
			require.NoError(t, err)
			g := fx.s.spaces[0].graph.Load()
			require.True(t, g.HasBlockLinks())
			t.Logf("%d block links over %d nodes", g.BlockLinks(), g.Len())
			fx.deleteRandom(t, 0, 4000, 0.05)
			for _, f := range []*filter.Filter{
				mustFilter(t, `{"must":[{"key":"class","match":{"value":3}}]}`),
				mustFilter(t, `{"must":[{"key":"class","match":{"any":[1,7]}}]}`),
				rndBelow(t, 100), rndBelow(t, 60), rndBelow(t, 250),
				mustFilter(t, `{"must":[{"key":"rnd","range":{"gte":480,"lt":560}}]}`),
				mustFilter(t, `{"must":[{"key":"class","match":{"value":4}},{"key":"rnd","range":{"lt":800}}]}`),
			} {
				plans := map[string]int{}
				r := fx.recall(t, "", 40, f, 64, plans)
				t.Logf("filter %v: recall@10 %.4f plans %v", fstr{f}, r, plans)
				require.GreaterOrEqual(t, r, 0.95, "filter %v", fstr{f})
				require.Positive(t, plans[PlanGraphLinks], "filter %v", fstr{f})
			}
		})
	}
}

// TestPayloadLinksBuild checks when payload links are built: by a build of
// the whole graph when indexes exist, by BuildPayloadLinks after indexes are
// made, by EnsurePayloadLinks once a graph built in steps is complete, never
// with PayloadM 0; and that a build that extends a graph drops them.
func TestPayloadLinksBuild(t *testing.T) {
	followBlockLinks(t)
	spec := VectorSpec{Dim: 8, Metric: distance.Euclid, HNSW: hnsw.Config{M: 6, Seed: 2}, PayloadM: 6, FullScanThreshold: 80}
	links := func(fx *fixture) int { return fx.s.spaces[0].graph.Load().BlockLinks() }

	// Indexes after the build: none until BuildPayloadLinks.
	fx := newFixture(t, &Options{Vectors: []VectorSpec{spec}, Capacity: 3000})
	fx.append(t, 2000)
	_, err := fx.s.BuildGraph(t.Context(), 0)
	require.NoError(t, err)
	require.Zero(t, links(fx))
	fx.indexFields(t)
	st, err := fx.s.BuildPayloadLinks(t.Context(), 0)
	require.NoError(t, err)
	require.Positive(t, st.Blocks)
	// Blocks of the same points are linked once: each class value (200
	// points) is a lookup block and, never split, a range block too.
	blocks := fx.s.payloadBlocks(fx.s.spaces[0], 2000, 1)
	classBlocks := 0
	for i, b := range blocks {
		for _, c := range blocks[:i] {
			require.NotEqual(t, c, b)
		}
		if len(b) == 200 && !slices.ContainsFunc(b, func(off uint32) bool { return off%10 != b[0]%10 }) {
			classBlocks++
		}
	}
	require.Equal(t, 10, classBlocks)
	require.Equal(t, links(fx), st.Links)
	require.Positive(t, st.Links)
	// Extending the graph drops them; EnsurePayloadLinks makes them again.
	fx.append(t, 500)
	_, err = fx.s.BuildGraph(t.Context(), 0)
	require.NoError(t, err)
	require.Zero(t, links(fx))
	plans := map[string]int{}
	require.GreaterOrEqual(t, fx.recall(t, "", 100, rndBelow(t, 100), 64, plans), 0.95)
	require.Zero(t, plans[PlanGraphLinks])
	st, err = fx.s.EnsurePayloadLinks(t.Context(), 0)
	require.NoError(t, err)
	require.Positive(t, st.Links)
	plans = map[string]int{}
	require.GreaterOrEqual(t, fx.recall(t, "", 100, rndBelow(t, 100), 64, plans), 0.95)
	require.Positive(t, plans[PlanGraphLinks])

	// PayloadM 0: none, and the plan is the two-hop one.
	spec.PayloadM = 0
	fx = newFixture(t, &Options{Vectors: []VectorSpec{spec}, Capacity: 3000})
	fx.indexFields(t)
	fx.append(t, 2000)
	_, err = fx.s.BuildGraph(t.Context(), 0)
	require.NoError(t, err)
	st, err = fx.s.BuildPayloadLinks(t.Context(), 0)
	require.NoError(t, err)
	require.Zero(t, st.Links)
	require.Zero(t, links(fx))
	plans = map[string]int{}
	require.GreaterOrEqual(t, fx.recall(t, "", 100, rndBelow(t, 100), 64, plans), 0.95)
	require.Zero(t, plans[PlanGraphLinks])
	require.Positive(t, plans[PlanGraphTwoHop])

	// A graph built in steps with the indexes in place (an appendable
	// segment's, as the points come): none until EnsurePayloadLinks, which
	// then leaves a graph that has them alone.
	spec.PayloadM = 6
	fx = newFixture(t, &Options{Vectors: []VectorSpec{spec}, Capacity: 3000})
	fx.indexFields(t)
	fx.append(t, 1000)
	_, err = fx.s.BuildGraph(t.Context(), 0)
	require.NoError(t, err)
	fx.append(t, 1000)
	_, err = fx.s.BuildGraph(t.Context(), 0)
	require.NoError(t, err)
	require.Zero(t, links(fx), "a build that extends a graph adds none")
	st, err = fx.s.EnsurePayloadLinks(t.Context(), 0)
	require.NoError(t, err)
	require.Positive(t, st.Links)
	require.Equal(t, st.Links, links(fx))
	st, err = fx.s.EnsurePayloadLinks(t.Context(), 0)
	require.NoError(t, err)
	require.Zero(t, st.Blocks, "a graph with payload links is left alone")
	plans = map[string]int{}
	require.GreaterOrEqual(t, fx.recall(t, "", 100, rndBelow(t, 100), 64, plans), 0.95)
	require.Positive(t, plans[PlanGraphLinks])

	spec.PayloadM = -1
	_, err = New(&Options{Vectors: []VectorSpec{spec}})
	require.ErrorIs(t, err, ErrBadOptions)
}

// TestPayloadBlocks checks the blocks of each index type against their
// definition.
func TestPayloadBlocks(t *testing.T) {
	var got [][]uint32
	add := func(ids []uint32) { got = append(got, append([]uint32(nil), ids...)) }
	pairs := []struct {
		v  int64
		id uint32
	}{{1, 0}, {1, 1}, {1, 2}, {2, 3}, {3, 4}, {3, 5}, {3, 6}, {3, 7}, {4, 8}, {5, 9}}
	walk := func(fn func(int64, uint32) bool) {
		for _, p := range pairs {
			if !fn(p.v, p.id) {
				return
			}
		}
	}
	valueBlocks(walk, 3, add)
	require.Equal(t, [][]uint32{{0, 1, 2}, {4, 5, 6, 7}}, got)
	got = nil
	// Runs of at least 2 pairs (t/2), a value never split:
	// {0, 1, 2}, {3, 4, 5, 6, 7}, {8, 9}; each block is two consecutive runs.
	rangeBlocks(walk, 4, add)
	require.Equal(t, [][]uint32{{0, 1, 2, 3, 4, 5, 6, 7}, {3, 4, 5, 6, 7, 8, 9}}, got)
	got = nil
	rangeBlocks(walk, 100, add)
	require.Equal(t, [][]uint32{{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}, got)
}
