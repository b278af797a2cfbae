package segment

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/hnsw"
)

// TestGraphInPlace writes a sealed segment's graphs in the in-place layout,
// then (1) switches the segment itself to them and (2) loads a copy of the
// segment from them, and requires every search, filtered or not, to equal
// the segment's answers with its graphs in RAM, before and after deletes;
// a build of slots appended to the loaded copy continues on a heap copy.
func TestGraphInPlace(t *testing.T) {
	specs := twoSpaces()
	fx := newFixture(t, &Options{Vectors: specs, Capacity: 3000})
	fx.indexFields(t)
	fx.append(t, 2000)
	fx.deleteRandom(t, 0, 2000, 0.05)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	fx.deleteRandom(t, 0, 2000, 0.1)
	orig := fx.s
	orig.Seal()

	files := map[string][]byte{}
	for _, sp := range specs {
		var buf bytes.Buffer
		n, err := orig.WriteGraphInPlace(sp.Name, &buf)
		require.NoError(t, err)
		size, err := orig.GraphInPlaceSize(sp.Name)
		require.NoError(t, err)
		require.Equal(t, int64(buf.Len()), n)
		require.Equal(t, n, size)
		files[sp.Name] = buf.Bytes()
	}
	filters := []*filter.Filter{nil, rndBelow(t, 5), rndBelow(t, 600),
		mustFilter(t, `{"must":[{"key":"tag","match":{"value":"green"}}]}`)}
	type answer struct {
		hits []Hit
		st   SearchStats
	}
	queries := map[string][][]float32{}
	for _, sp := range specs {
		for range 10 {
			queries[sp.Name] = append(queries[sp.Name], fx.vector(sp.Name))
		}
	}
	answers := func(s *Segment) []answer {
		var out []answer
		for _, f := range filters {
			for _, sp := range specs {
				for _, q := range queries[sp.Name] {
					var st SearchStats
					hits, err := s.Search(t.Context(), sp.Name, q, 10, &SearchOptions{Filter: f, Ef: 40, Stats: &st})
					require.NoError(t, err)
					out = append(out, answer{hits, st})
				}
			}
		}
		return out
	}
	want := answers(orig)

	// (2) A copy loaded from the files, before the original changes.
	loaded := loadingCopy(t, orig, specs)
	for _, sp := range specs {
		require.ErrorIs(t, loaded.LoadGraphInPlace(sp.Name, files[sp.Name][:100], false), hnsw.ErrCorrupt)
		require.NoError(t, loaded.LoadGraphInPlace(sp.Name, files[sp.Name], false))
	}
	loaded.Seal()
	fx.s = loaded
	fx.indexFields(t)
	fx.s = orig
	require.NoError(t, loaded.CheckInvariants())
	require.Equal(t, want, answers(loaded))

	// (1) The original switches to the files; its heap graphs go.
	memBefore := orig.Memory().Graph
	for _, sp := range specs {
		require.NoError(t, orig.UseGraphInPlace(sp.Name, files[sp.Name], true))
	}
	require.Less(t, orig.Memory().Graph, memBefore/10)
	require.NoError(t, orig.CheckInvariants())
	require.Equal(t, want, answers(orig))

	// Deletes reach both in-place segments; searches still agree with
	// each other and never return a deleted point.
	for _, off := range []uint32{3, 17, 1500, 1999} {
		for _, s := range []*Segment{orig, loaded} {
			s.Delete(off)
		}
	}
	got1, got2 := answers(orig), answers(loaded)
	require.Equal(t, got1, got2)
	for _, a := range got1 {
		for _, h := range a.hits {
			require.True(t, orig.IsLive(h.Off))
		}
	}
	require.NoError(t, orig.CheckInvariants())
	require.NoError(t, loaded.CheckInvariants())
}

// TestGraphInPlaceBuildContinues loads a segment whose graph in place does
// not cover its last slots: the build of the tail goes on in a heap copy.
func TestGraphInPlaceBuildContinues(t *testing.T) {
	specs := twoSpaces()
	fx := newFixture(t, &Options{Vectors: specs, Capacity: 3000})
	fx.append(t, 500)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	fx.append(t, 40) // not indexed
	orig := fx.s
	orig.Seal()
	loaded := loadingCopy(t, orig, specs)
	for _, sp := range specs {
		var buf bytes.Buffer
		_, err := orig.WriteGraphInPlace(sp.Name, &buf)
		require.NoError(t, err)
		require.NoError(t, loaded.LoadGraphInPlace(sp.Name, buf.Bytes(), false))
	}
	loaded.Seal()
	require.Equal(t, 500, loaded.Indexed())
	loaded.Delete(7)
	n, err := loaded.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	require.Equal(t, 40, n)
	require.NoError(t, loaded.CheckInvariants())
	for _, sp := range specs {
		require.False(t, loaded.byName[sp.Name].graph.Load().ReadOnly())
	}
	q := fx.vector(specs[0].Name)
	hits, err := loaded.Search(t.Context(), specs[0].Name, q, 600, &SearchOptions{Ef: 600})
	require.NoError(t, err)
	for _, h := range hits {
		require.NotEqual(t, uint32(7), h.Off)
	}
}

// loadingCopy returns a loading segment filled with orig's slots, ready
// for its graphs.
func loadingCopy(t *testing.T, orig *Segment, specs []VectorSpec) *Segment {
	ids := make([]filter.PointID, orig.Len())
	versions := make([]uint64, orig.Len())
	for off := range ids {
		ids[off], versions[off] = orig.PointAt(uint32(off))
	}
	loaded, err := NewLoading(&Options{Vectors: specs}, ids, versions)
	require.NoError(t, err)
	checkAtCleanup(t, loaded)
	for off := range ids {
		o := uint32(off)
		vecs := map[string][]float32{}
		for _, sp := range specs {
			if v, ok := orig.Vector(sp.Name, o); ok {
				vecs[sp.Name] = slices.Clone(v)
			}
		}
		require.NoError(t, loaded.Fill(o, vecs, nil, mustOK(orig.Payload(o)), orig.IsLive(o)))
	}
	return loaded
}
