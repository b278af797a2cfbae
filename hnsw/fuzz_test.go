package hnsw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/qlite/qlite/distance"
)

// FuzzRead feeds arbitrary bytes to the decoder: it must return a graph or an
// error, never panic, and a graph it returns must be safe to search, insert
// into and repair.
func FuzzRead(f *testing.F) {
	const n = 64
	vecs := newVecs(21, n, 4, distance.Euclid)
	addSeedGraphs(f, vecs, n, (*Graph).WriteTo)
	f.Add([]byte("QLHW"))
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b, vecs, n)
		// Most mutations fail the checksum; give the parser the same bytes
		// with a valid one too, so that it is exercised past the check.
		if len(b) >= 4 {
			c := append([]byte(nil), b[:len(b)-4]...)
			c = binary.LittleEndian.AppendUint32(c, crc32.Checksum(c, castagnoli))
			check(t, c, vecs, n)
		}
	})
}

// addSeedGraphs adds to f's corpus graphs of 0, 1, 5 and n of vecs' nodes
// (one deleted in the larger ones), written with write.
func addSeedGraphs(f *testing.F, vecs *flatVecs, n int, write func(*Graph, io.Writer) (int64, error)) {
	for _, size := range []int{0, 1, 5, n} {
		g, err := New(vecs, &Config{M: 4, EfConstruct: 8, Seed: uint64(size)})
		if err != nil {
			f.Fatal(err)
		}
		if err := g.Build(ids(size), 1); err != nil {
			f.Fatal(err)
		}
		if size > 2 {
			_ = g.Delete(1)
		}
		if size == n {
			// Block links too: the second version of both formats.
			var even, odd []uint32
			for i := range uint32(size) {
				if i%2 == 0 {
					even = append(even, i)
				} else {
					odd = append(odd, i)
				}
			}
			if err := g.BuildBlockLinks([][]uint32{even, odd}, 2, 1); err != nil {
				f.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if _, err := write(g, &buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
}

func check(t *testing.T, b []byte, vecs *flatVecs, n int) {
	{
		g, err := decode(b, vecs)
		if err != nil {
			return
		}
		if g.capacity() > n && g.Len()+g.Tombstones() > 0 {
			// Valid structure naming vectors this test does not have.
			return
		}
		_ = g.CheckInvariants(false)
		g.Search(vecs.Vector(0), 5, 10, nil)
		_ = g.Insert(3)
		_ = g.Delete(3)
		_ = g.Repair(1)
		g.Search(vecs.Vector(0), 5, 10, nil)
	}
}

// FuzzOpenInPlace feeds arbitrary bytes to OpenInPlace (which checks every
// link unless told the bytes are trusted): it must return a graph or an
// error wrapping ErrCorrupt, never panic, and a graph it returns must pass
// its invariants, be safe to search and delete from, and refuse inserts and
// repairs.
func FuzzOpenInPlace(f *testing.F) {
	const n = 64
	vecs := newVecs(21, n, 4, distance.Euclid)
	addSeedGraphs(f, vecs, n, (*Graph).WriteInPlace)
	f.Add([]byte(inPlaceMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkInPlace(t, b, vecs, n)
		// Most header mutations fail its checksum; give the parser the
		// same bytes with a valid one too.
		if len(b) >= inPlaceHeader {
			c := append([]byte(nil), b...)
			binary.LittleEndian.PutUint32(c[60:], crc32.Checksum(c[:60], castagnoli))
			checkInPlace(t, c, vecs, n)
		}
	})
}

func checkInPlace(t *testing.T, b []byte, vecs *flatVecs, n int) {
	g, err := OpenInPlace(b, vecs, nil)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not wrapping ErrCorrupt: %v", err)
		}
		return
	}
	if g.capacity() > n && g.Len()+g.Tombstones() > 0 {
		// Valid structure naming vectors this test does not have.
		return
	}
	if err := g.CheckInvariants(false); err != nil && !strings.Contains(err.Error(), "duplicate link") {
		t.Fatalf("opened graph fails its invariants: %v", err)
	}
	g.Search(vecs.Vector(0), 5, 10, nil)
	g.SearchFiltered(nil, vecs.Vector(0), 5, 10, func(id uint32) bool { return id%3 == 0 }, 0.1)
	if g.Insert(3) == nil || g.Repair(1) == nil {
		t.Fatal("mutation of a read-only graph succeeded")
	}
	_ = g.Delete(3)
	g.Search(vecs.Vector(0), 5, 10, nil)
	var w bytes.Buffer
	if _, err := g.WriteInPlace(&w); err != nil {
		t.Fatal(err)
	}
}
