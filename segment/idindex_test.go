package segment

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
)

// TestSealedIDIndex checks Lookup against a map of the live points before
// and after Seal compacts the id index, with numeric and UUID ids, points
// replaced and deleted before the seal, and points deleted after it.
func TestSealedIDIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	s := newTestSegment(t, &Options{Vectors: []VectorSpec{{Name: "v", Dim: 2, Metric: distance.Euclid, NoGraph: true}}, Capacity: 4000})
	want := map[filter.PointID]uint32{} // the oracle: live id -> slot
	var ids []filter.PointID
	newID := func() filter.PointID {
		if rng.IntN(3) == 0 {
			var b [16]byte
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return filter.UUIDID(b)
		}
		return filter.NumID(rng.Uint64N(1 << 40))
	}
	appendPoint := func(id filter.PointID) {
		t.Helper()
		off, err := s.Append(&Point{ID: id, Vectors: map[string][]float32{"v": {rng.Float32(), rng.Float32()}}})
		require.NoError(t, err)
		if old, ok := want[id]; ok {
			require.True(t, s.Delete(old)) // the caller's part of a replace
		}
		want[id] = off
	}
	for range 3000 {
		if len(ids) > 0 && rng.IntN(5) == 0 {
			appendPoint(ids[rng.IntN(len(ids))]) // replace
			continue
		}
		id := newID()
		ids = append(ids, id)
		appendPoint(id)
	}
	deleteSome := func(n int) {
		for range n {
			id := ids[rng.IntN(len(ids))]
			if off, ok := want[id]; ok {
				require.True(t, s.Delete(off))
				delete(want, id)
			}
		}
	}
	check := func() {
		t.Helper()
		for _, id := range ids {
			off, ok := s.Lookup(id)
			woff, wok := want[id]
			require.Equal(t, wok, ok, "id %v", id)
			if wok {
				require.Equal(t, woff, off, "id %v", id)
			}
		}
		for range 200 {
			id := newID()
			if _, known := want[id]; !known {
				_, ok := s.Lookup(id)
				require.False(t, ok, "id %v was never live", id)
			}
		}
		require.NoError(t, s.CheckInvariants())
	}
	deleteSome(300)
	check()
	before := s.Memory().Other
	s.Seal()
	require.Nil(t, s.mu.lookup.m, "Seal compacts the id index")
	require.NotEmpty(t, s.mu.lookup.nums)
	require.NotEmpty(t, s.mu.lookup.uuids)
	check()
	require.Less(t, s.Memory().Other, before)
	deleteSome(300)
	check()
}

// TestSealedIDIndexCheck makes sure CheckInvariants sees a sealed index
// whose entry names the wrong slot.
func TestSealedIDIndexCheck(t *testing.T) {
	s, err := New(&Options{Vectors: []VectorSpec{{Name: "v", Dim: 2, Metric: distance.Euclid, NoGraph: true}}, Capacity: 10})
	require.NoError(t, err)
	for i := range 3 {
		_, err := s.Append(&Point{ID: filter.NumID(uint64(10 - i)), Vectors: map[string][]float32{"v": {1, 2}}})
		require.NoError(t, err)
	}
	s.Seal()
	require.NoError(t, s.CheckInvariants())
	s.mu.lookup.numOffs[0], s.mu.lookup.numOffs[1] = s.mu.lookup.numOffs[1], s.mu.lookup.numOffs[0]
	require.Error(t, s.CheckInvariants())
}

// BenchmarkLookup looks up the ids of a 60000-point segment before and
// after Seal compacts its id index.
func BenchmarkLookup(b *testing.B) {
	const n = 60000
	for _, sealed := range []bool{false, true} {
		b.Run(map[bool]string{false: "map", true: "sealed"}[sealed], func(b *testing.B) {
			s, err := New(&Options{Vectors: []VectorSpec{{Name: "v", Dim: 2, Metric: distance.Euclid, NoGraph: true}}, Capacity: n})
			require.NoError(b, err)
			rng := rand.New(rand.NewPCG(1, 1))
			ids := make([]filter.PointID, n)
			for i := range ids {
				ids[i] = filter.NumID(rng.Uint64N(1 << 40))
				_, err := s.Append(&Point{ID: ids[i], Vectors: map[string][]float32{"v": {1, 2}}})
				require.NoError(b, err)
			}
			if sealed {
				s.Seal()
			}
			rng.Shuffle(n, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, ok := s.Lookup(ids[i%n]); !ok {
					b.Fatal("id not found")
				}
			}
		})
	}
}
