package hnsw

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
)

// inPlaceBytes returns g in the in-place layout, in a buffer whose first
// byte sits at the given offset from an 8-byte boundary.
func inPlaceBytes(t testing.TB, g *Graph, misalign int) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := g.WriteInPlace(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	require.Equal(t, n, g.InPlaceSize())
	// Go allocates byte slices of 8 bytes or more 8-byte aligned.
	raw := make([]byte, buf.Len()+misalign+8)
	b := raw[misalign : misalign+buf.Len()]
	copy(b, buf.Bytes())
	return b
}

// ramCopy returns g decoded into RAM through the older, decoded format.
func ramCopy(t testing.TB, g *Graph, vecs Vectors) *Graph {
	t.Helper()
	var buf bytes.Buffer
	_, err := g.WriteTo(&buf)
	require.NoError(t, err)
	r, err := Read(&buf, vecs)
	require.NoError(t, err)
	return r
}

// TestInPlaceSearchEqualsRAM opens a graph in place (aligned, misaligned, and
// trusted) and requires every search, unfiltered, filtered and two-hop
// filtered, to return exactly what the same graph in RAM returns.
func TestInPlaceSearchEqualsRAM(t *testing.T) {
	for _, m := range []distance.Metric{distance.Euclid, distance.Cosine} {
		vecs := newVecs(11, 3000, 16, m)
		g := newTestGraph(t, vecs, &Config{M: 8, Seed: 5}, ids(2900), true)
		// Tombstones and an absent tail: ids 2900.. were never inserted,
		// and some are deleted.
		rng := rand.New(rand.NewPCG(3, 3))
		for _, i := range rng.Perm(2900)[:150] {
			require.NoError(t, g.Delete(uint32(i)))
		}
		ram := ramCopy(t, g, vecs)
		queries := queriesFrom(17, 200, vecs)
		for _, c := range []struct {
			name     string
			misalign int
			trusted  bool
		}{{"aligned", 0, false}, {"misaligned", 1, false}, {"trusted", 0, true}} {
			t.Run(m.String()+"/"+c.name, func(t *testing.T) {
				b := inPlaceBytes(t, g, c.misalign)
				ip, err := OpenInPlace(b, vecs, &InPlaceOptions{Trusted: c.trusted})
				require.NoError(t, err)
				require.True(t, ip.ReadOnly())
				require.NoError(t, ip.CheckInvariants(true))
				require.Equal(t, ram.Len(), ip.Len())
				require.Equal(t, ram.Tombstones(), ip.Tombstones())
				if c.misalign == 0 && nativeLittleEndian {
					require.Equal(t, int64(len(b)), ip.InPlaceBytes())
					// No per-node metadata: the heap holds a directory entry
					// per 1024 nodes.
					require.Less(t, ip.MemoryBytes(), int64(1024))
				} else {
					// The word sections were copied; the state bytes
					// are still read in place.
					require.Less(t, ip.InPlaceBytes(), int64(len(b)/8))
					require.Greater(t, ip.MemoryBytes(), int64(len(b))*7/8)
				}
				for id := uint32(0); id < 3100; id++ {
					require.Equal(t, ram.Contains(id), ip.Contains(id), "id %d", id)
				}
				even := func(id uint32) bool { return id%2 == 0 }
				rare := func(id uint32) bool { return id%13 == 0 }
				for _, q := range queries {
					require.Equal(t, ram.Search(q, 10, 64, nil), ip.Search(q, 10, 64, nil))
					require.Equal(t, ram.Search(q, 10, 64, even), ip.Search(q, 10, 64, even))
					require.Equal(t, ram.SearchFiltered(nil, q, 10, 64, rare, 1.0/13), ip.SearchFiltered(nil, q, 10, 64, rare, 1.0/13))
				}
				// Written again, both formats round-trip to the same bytes.
				require.Equal(t, b, inPlaceBytes(t, ip, 0))
				var a, bb bytes.Buffer
				_, err = ram.WriteTo(&a)
				require.NoError(t, err)
				_, err = ip.WriteTo(&bb)
				require.NoError(t, err)
				require.Equal(t, a.Bytes(), bb.Bytes())

				require.ErrorIs(t, ip.Insert(2950), ErrReadOnly)
				require.ErrorIs(t, ip.Repair(1), ErrReadOnly)
				require.ErrorIs(t, ip.Build([]uint32{2990}, 1), ErrReadOnly)
				require.Equal(t, ram.Search(queries[0], 10, 64, nil), ip.Search(queries[0], 10, 64, nil))

				// Deletes go to a bitset beside the buffer, which stays
				// unchanged, and searches still equal the RAM graph's
				// with the same deletes.
				before := append([]byte(nil), b...)
				r2 := ramCopy(t, g, vecs)
				for _, i := range rng.Perm(2900)[:300] {
					errRAM, errIP := r2.Delete(uint32(i)), ip.Delete(uint32(i))
					require.Equal(t, errRAM == nil, errIP == nil, "delete %d: %v / %v", i, errRAM, errIP)
				}
				require.ErrorIs(t, ip.Delete(2990), ErrNotFound)
				require.Equal(t, before, b)
				require.Equal(t, r2.Len(), ip.Len())
				require.Equal(t, r2.Tombstones(), ip.Tombstones())
				require.NoError(t, ip.CheckInvariants(false))
				for _, q := range queries[:50] {
					require.Equal(t, r2.Search(q, 10, 64, nil), ip.Search(q, 10, 64, nil))
					require.Equal(t, r2.Search(q, 10, 64, even), ip.Search(q, 10, 64, even))
				}
				var w1, w2 bytes.Buffer
				_, err = r2.WriteInPlace(&w1)
				require.NoError(t, err)
				_, err = ip.WriteInPlace(&w2)
				require.NoError(t, err)
				require.Equal(t, w1.Bytes(), w2.Bytes(), "the deletes are written")
			})
		}
	}
}

func TestInPlaceEmptyAndTiny(t *testing.T) {
	vecs := newVecs(1, 10, 4, distance.Euclid)
	for _, n := range []int{0, 1, 2} {
		g, err := New(vecs, nil)
		require.NoError(t, err)
		require.NoError(t, g.Build(ids(n), 1))
		ip, err := OpenInPlace(inPlaceBytes(t, g, 0), vecs, nil)
		require.NoError(t, err)
		require.Equal(t, n, ip.Len())
		require.Equal(t, g.Search(vecs.Vector(3), 5, 10, nil), ip.Search(vecs.Vector(3), 5, 10, nil))
		require.NoError(t, ip.CheckInvariants(true))
	}
}

// TestInPlaceCorrupt flips, cuts and rewrites parts of a valid layout: every
// case must give ErrCorrupt.
func TestInPlaceCorrupt(t *testing.T) {
	vecs := newVecs(2, 500, 8, distance.Euclid)
	g := newTestGraph(t, vecs, &Config{M: 4, Seed: 9}, ids(500), true)
	good := inPlaceBytes(t, g, 0)
	_, err := OpenInPlace(good, vecs, nil)
	require.NoError(t, err)
	slots := int(binary.LittleEndian.Uint32(good[20:]))
	offUpperOff, offLinks0, offUpper, _ := inPlaceSections(slots, g.stride0, int(binary.LittleEndian.Uint32(good[56:])))
	reseal := func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
		return b
	}
	f := func(name string, mutate func(b []byte) []byte) {
		t.Helper()
		b := mutate(append([]byte(nil), good...))
		_, err := OpenInPlace(b, vecs, nil)
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
	f("short", func(b []byte) []byte { return b[:40] })
	f("cut", func(b []byte) []byte { return b[:len(b)-4] })
	f("longer", func(b []byte) []byte { return append(b, 0, 0, 0, 0) })
	f("magic", func(b []byte) []byte { b[0] = 'X'; return b })
	f("header byte", func(b []byte) []byte { b[9] ^= 1; return b })
	f("version", func(b []byte) []byte { b[4] = 9; return reseal(b) })
	f("slots", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[20:], 1<<31); return reseal(b) })
	f("entry", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[40:], uint32(slots)); return reseal(b) })
	f("live count", func(b []byte) []byte { b[48]++; return reseal(b) })
	f("state", func(b []byte) []byte { b[inPlaceHeader+7] = 7; return b })
	f("upper offset", func(b []byte) []byte { b[offUpperOff+4*5]++; return b })
	f("link out of range", func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[offLinks0+4*(3*g.stride0+1):], uint32(slots)+5)
		return b
	})
	f("link count", func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[offLinks0+4*(3*g.stride0):], uint32(g.stride0))
		return b
	})
	f("self link", func(b []byte) []byte {
		binary.LittleEndian.PutUint32(b[offLinks0+4*(3*g.stride0+1):], 3)
		return b
	})
	if offUpper < len(good) {
		f("upper link level", func(b []byte) []byte {
			// Point an upper-level link at a node of level 0.
			for id := range slots {
				if g.level(uint32(id)) == 0 {
					binary.LittleEndian.PutUint32(b[offUpper+4:], uint32(id))
					break
				}
			}
			return b
		})
	}
}

// TestInPlaceConcurrentDelete deletes from a graph opened in place while
// searches run (run it with -race): no search returns a node deleted before
// it started.
func TestInPlaceConcurrentDelete(t *testing.T) {
	vecs := newVecs(4, 2000, 8, distance.Euclid)
	g := newTestGraph(t, vecs, &Config{M: 8, Seed: 1}, ids(2000), true)
	ip, err := OpenInPlace(inPlaceBytes(t, g, 0), vecs, nil)
	require.NoError(t, err)
	queries := queriesFrom(5, 50, vecs)
	var deleted [2000]atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 200 {
				q := queries[(i+w)%len(queries)]
				var gone []uint32
				for id := range uint32(2000) {
					if deleted[id].Load() {
						gone = append(gone, id)
					}
				}
				for _, r := range ip.Search(q, 10, 32, nil) {
					require.NotContains(t, gone, r.ID)
				}
			}
		})
	}
	for _, i := range rand.New(rand.NewPCG(6, 6)).Perm(2000)[:1000] {
		require.NoError(t, ip.Delete(uint32(i)))
		deleted[i].Store(true)
	}
	wg.Wait()
	require.Equal(t, 1000, ip.Len())
	require.NoError(t, ip.CheckInvariants(false))
}
