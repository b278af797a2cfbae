package hnsw

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// blockFixture is a graph over clustered vectors whose nodes carry a label
// in 0..9 (a match filter selects one) and a value in 0..999 (a range
// filter selects an interval), with block links for both: one block per
// label and one per run of 200 values.
type blockFixture struct {
	vecs   *flatVecs
	g      *Graph
	label  []int
	value  []int
	blocks [][]uint32
}

func newBlockFixture(t testing.TB, n int, m distance.Metric) *blockFixture {
	t.Helper()
	f := &blockFixture{vecs: newVecs(21, n, 16, m), label: make([]int, n), value: make([]int, n)}
	f.g = newTestGraph(t, f.vecs, &Config{M: 6, EfConstruct: 64, Seed: 4}, ids(n), true)
	rng := rand.New(rand.NewPCG(5, 6))
	byLabel := make([][]uint32, 10)
	byRange := make([][]uint32, 5)
	for i := range n {
		f.label[i], f.value[i] = rng.IntN(10), rng.IntN(1000)
		byLabel[f.label[i]] = append(byLabel[f.label[i]], uint32(i))
		byRange[f.value[i]/200] = append(byRange[f.value[i]/200], uint32(i))
	}
	f.blocks = append(byLabel, byRange...)
	return f
}

// followBlockLinks makes SearchFiltered follow block links at every
// selectivity for the rest of the test.
func followBlockLinks(t testing.TB) {
	old := BlockLinksSelectivity
	BlockLinksSelectivity = 1
	t.Cleanup(func() { BlockLinksSelectivity = old })
}

// filteredRecall returns the mean recall@k of SearchFiltered under the
// accept predicate each query's index gives, against brute force.
func filteredRecall(t testing.TB, g *Graph, vecs *flatVecs, queries [][]float32, k, ef int, sel float64, accept func(q int) func(uint32) bool) (float64, int) {
	t.Helper()
	var sum float64
	scored := 0
	for qi, q := range queries {
		ok := accept(qi)
		want := bruteForce(vecs, q, k, ok)
		got, n := g.SearchCounted(nil, q, k, ef, ok, sel)
		scored += n
		hit := 0
		for _, r := range got {
			require.True(t, ok(r.ID), "search returned rejected node %d", r.ID)
			if slices.Contains(want, r.ID) {
				hit++
			}
		}
		sum += float64(hit) / float64(len(want))
	}
	return sum / float64(len(queries)), scored
}

// TestBlockLinksFilteredRecall compares filtered searches with block links
// against brute force, for a filter a block serves exactly (one label) and
// one that covers half a block (a range), on a graph whose M is small enough
// that a 10% filter leaves its own links sparse. A 10% filter follows block
// links only when BlockLinksSelectivity says so; the test makes it.
func TestBlockLinksFilteredRecall(t *testing.T) {
	followBlockLinks(t)
	for _, m := range []distance.Metric{distance.Euclid, distance.Cosine} {
		t.Run(m.String(), func(t *testing.T) {
			f := newBlockFixture(t, 4000, m)
			queries := queriesFrom(23, 100, f.vecs)
			byLabel := func(q int) func(uint32) bool {
				return func(id uint32) bool { return f.label[id] == q%10 }
			}
			byRange := func(int) func(uint32) bool {
				return func(id uint32) bool { return f.value[id] < 100 }
			}
			var unfiltered [][]Result
			for _, q := range queries {
				unfiltered = append(unfiltered, f.g.Search(q, 10, 64, nil))
			}
			plainLabel, scoredPlain := filteredRecall(t, f.g, f.vecs, queries, 10, 64, 0.1, byLabel)
			require.NoError(t, f.g.BuildBlockLinks(f.blocks, 6, 0))
			require.True(t, f.g.HasBlockLinks())
			require.NoError(t, f.g.CheckInvariants(true))
			label, scoredLabel := filteredRecall(t, f.g, f.vecs, queries, 10, 64, 0.1, byLabel)
			// The range covers half of its block: the other half's links
			// lead to rejected nodes, and the links-first search steps
			// through those only where nothing accepted is in reach, so it
			// needs a larger ef than a filter its block serves whole. On
			// Euclid it read 0.935 to 0.97 at ef 64 (about 40 builds) and
			// 0.966 to 0.99 at ef 128 (25 builds).
			rng, _ := filteredRecall(t, f.g, f.vecs, queries, 10, 128, 0.05, byRange)
			t.Logf("recall@10: label %.3f at ef 64 (%d scored; %.3f, %d scored without block links), range %.3f at ef 128",
				label, scoredLabel, plainLabel, scoredPlain, rng)
			require.GreaterOrEqual(t, label, 0.95)
			require.GreaterOrEqual(t, rng, 0.95)
			// Unfiltered searches do not read block links.
			for i, q := range queries {
				require.Equal(t, unfiltered[i], f.g.Search(q, 10, 64, nil))
			}
		})
	}
}

// TestBlockLinksBuild checks what BuildBlockLinks keeps: links inside
// blocks only, none the node's own level-0 list holds, none for deleted
// nodes; m = 0 removes them and Repair drops them.
func TestBlockLinksBuild(t *testing.T) {
	f := newBlockFixture(t, 2000, distance.Euclid)
	require.NoError(t, f.g.Delete(7))
	require.NoError(t, f.g.BuildBlockLinks(f.blocks, 4, 2))
	b := f.g.blocks.Load()
	require.NotNil(t, b)
	require.Equal(t, len(b.ids), f.g.BlockLinks())
	require.Empty(t, b.of(7), "a deleted node gets no block links")
	require.True(t, b.sorted)
	for id := uint32(0); id < 2000; id++ {
		own := f.g.links(id, 0)
		// Nearest to the node first.
		for i := 1; i < len(b.of(id)); i++ {
			prev, x := b.of(id)[i-1], b.of(id)[i]
			require.LessOrEqual(t, f.vecs.metric.Distance(f.vecs.Vector(id), f.vecs.Vector(prev)),
				f.vecs.metric.Distance(f.vecs.Vector(id), f.vecs.Vector(x)), "node %d: links %d, %d", id, prev, x)
		}
		for _, x := range b.of(id) {
			require.NotEqual(t, uint32(7), x)
			require.True(t, f.label[x] == f.label[id] || f.value[x]/200 == f.value[id]/200,
				"link %d-%d joins no block", id, x)
			require.NotContains(t, own[1:own[0]+1], x, "link %d-%d duplicates the graph's own", id, x)
		}
	}
	require.Greater(t, f.g.MemoryBytes(), int64(4*len(b.ids)))
	require.NoError(t, f.g.BuildBlockLinks(f.blocks, 0, 0))
	require.False(t, f.g.HasBlockLinks())

	require.NoError(t, f.g.BuildBlockLinks(f.blocks, 4, 0))
	require.NoError(t, f.g.Repair(0))
	require.False(t, f.g.HasBlockLinks())
}

// TestBlockLinksPersist writes a graph with block links in both formats and
// requires the reopened graphs to search exactly as the original, every
// truncation and bit flip of the block links to be rejected, a graph
// without them to be written in the first versions of both formats, and
// one whose block links are in a build's order (graphs written before they
// were sorted) in the second, read back as such.
func TestBlockLinksPersist(t *testing.T) {
	followBlockLinks(t)
	f := newBlockFixture(t, 3000, distance.Euclid)
	for i := uint32(0); i < 3000; i += 17 {
		require.NoError(t, f.g.Delete(i))
	}
	var v1 bytes.Buffer
	_, err := f.g.WriteTo(&v1)
	require.NoError(t, err)
	require.Equal(t, uint32(1), binary.LittleEndian.Uint32(v1.Bytes()[4:]))
	require.Equal(t, uint32(1), binary.LittleEndian.Uint32(inPlaceBytes(t, f.g, 0)[4:]))

	require.NoError(t, f.g.BuildBlockLinks(f.blocks, 6, 0))
	var buf bytes.Buffer
	_, err = f.g.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, uint32(3), binary.LittleEndian.Uint32(buf.Bytes()[4:]))
	require.Greater(t, buf.Len(), v1.Len()+4*f.g.BlockLinks())

	queries := queriesFrom(29, 50, f.vecs)
	same := func(t *testing.T, h *Graph) {
		t.Helper()
		require.NoError(t, h.CheckInvariants(true))
		require.Equal(t, f.g.BlockLinks(), h.BlockLinks())
		for qi, q := range queries {
			ok := func(id uint32) bool { return f.label[id] == qi%10 }
			require.Equal(t, f.g.SearchFiltered(nil, q, 10, 64, ok, 0.1), h.SearchFiltered(nil, q, 10, 64, ok, 0.1))
			require.Equal(t, f.g.Search(q, 10, 64, nil), h.Search(q, 10, 64, nil))
		}
	}
	h, err := Read(bytes.NewReader(buf.Bytes()), f.vecs)
	require.NoError(t, err)
	same(t, h)
	var again bytes.Buffer
	_, err = h.WriteTo(&again)
	require.NoError(t, err)
	require.Equal(t, buf.Bytes(), again.Bytes())

	for _, c := range []struct {
		misalign int
		trusted  bool
	}{{0, false}, {1, false}, {0, true}} {
		b := inPlaceBytes(t, f.g, c.misalign)
		require.Equal(t, uint32(3), binary.LittleEndian.Uint32(b[4:]))
		ip, err := OpenInPlace(b, f.vecs, &InPlaceOptions{Trusted: c.trusted})
		require.NoError(t, err)
		same(t, ip)
		require.Equal(t, b, inPlaceBytes(t, ip, 0))
		cp, err := ip.Copy()
		require.NoError(t, err)
		same(t, cp)
	}

	// The block links section is the end of the serialised graph, before
	// the checksum: damage there is caught.
	enc := buf.Bytes()
	blockBytes := 4 + 4*(len(f.g.blocks.Load().off)-1+f.g.BlockLinks())
	rng := rand.New(rand.NewPCG(7, 7))
	for range 40 {
		c := slices.Clone(enc)
		c[len(c)-4-1-rng.IntN(blockBytes)] ^= 1 << rng.IntN(8)
		_, err := Read(bytes.NewReader(c), f.vecs)
		require.ErrorIs(t, err, ErrCorrupt)
	}
	_, err = Read(bytes.NewReader(enc[:len(enc)-4-blockBytes/2]), f.vecs)
	require.ErrorIs(t, err, ErrCorrupt)

	// In place, the section is checked link by link unless trusted.
	good := inPlaceBytes(t, f.g, 0)
	bl := f.g.blocks.Load()
	nodes := len(bl.off) - 1
	idsAt := len(good) - 4*f.g.BlockLinks()
	require.Equal(t, uint32(nodes), binary.LittleEndian.Uint32(good[idsAt-4*(nodes+1)-8:]))
	owner := uint32(0)
	for len(bl.of(owner)) == 0 {
		owner++
	}
	for name, mutate := range map[string]func(b []byte) []byte{
		"cut":       func(b []byte) []byte { return b[:len(b)-4] },
		"self link": func(b []byte) []byte { binary.LittleEndian.PutUint32(b[idsAt:], owner); return b },
		"out of range": func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[idsAt+8:], 5000)
			return b
		},
		"offsets": func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[idsAt-4*(nodes+1)+4*10:], 1<<30)
			return b
		},
		"total": func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[idsAt-4*(nodes+1)-4:], 3)
			return b
		},
	} {
		_, err := OpenInPlace(mutate(slices.Clone(good)), f.vecs, nil)
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
}

// TestUnsortedBlockLinksPersist writes a graph whose block links are in a
// build's order, as graphs written before they were sorted hold them: both
// formats write it as version 2, and the graph read back takes all of a
// node's block links, searching exactly as the original does.
func TestUnsortedBlockLinksPersist(t *testing.T) {
	followBlockLinks(t)
	f := newBlockFixture(t, 3000, distance.Euclid)
	require.NoError(t, f.g.BuildBlockLinks(f.blocks, 6, 0))
	sorted := f.g.blocks.Load()
	unsorted := &blockLinks{off: sorted.off, ids: sorted.ids}
	f.g.blocks.Store(unsorted)

	var buf bytes.Buffer
	_, err := f.g.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, uint32(2), binary.LittleEndian.Uint32(buf.Bytes()[4:]))
	h, err := Read(bytes.NewReader(buf.Bytes()), f.vecs)
	require.NoError(t, err)
	b := inPlaceBytes(t, f.g, 0)
	require.Equal(t, uint32(2), binary.LittleEndian.Uint32(b[4:]))
	ip, err := OpenInPlace(b, f.vecs, nil)
	require.NoError(t, err)

	queries := queriesFrom(31, 50, f.vecs)
	capped := 0
	for qi, q := range queries {
		ok := func(id uint32) bool { return f.label[id] == qi%10 }
		want, n := f.g.SearchCounted(nil, q, 10, 32, ok, 0.1)
		for _, g := range []*Graph{h, ip} {
			require.False(t, g.blocks.Load().sorted)
			got, m := g.SearchCounted(nil, q, 10, 32, ok, 0.1)
			require.Equal(t, want, got)
			require.Equal(t, n, m)
		}
		f.g.blocks.Store(sorted)
		_, c := f.g.SearchCounted(nil, q, 10, 32, ok, 0.1)
		f.g.blocks.Store(unsorted)
		capped += c - n
	}
	// Sorted, a search takes only the nearest: fewer distances.
	require.Negative(t, capped)
}
