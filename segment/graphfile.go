package segment

import (
	"fmt"
	"io"

	"github.com/qlite/qlite/hnsw"
)

// Graphs in place: a sealed segment's graph can live in a file of its own,
// in hnsw's in-place layout (hnsw.Graph.WriteInPlace), and be searched from
// a read-only mapping of that file rather than from the heap. The caller
// (the engine) owns the bytes: they must stay valid and unchanged for as
// long as the segment may be searched.

// GraphInPlaceSize returns the length WriteGraphInPlace will write for
// vector space name: the deletes a sealed segment takes meanwhile do not
// change it.
func (s *Segment) GraphInPlaceSize(name string) (int64, error) {
	sp, err := s.space(name)
	if err != nil {
		return 0, err
	}
	return sp.graph.Load().InPlaceSize(), nil
}

// WriteGraphInPlace writes the graph of vector space name to w in hnsw's
// in-place layout. Inserts and deletes wait while it runs; searches do not.
func (s *Segment) WriteGraphInPlace(name string, w io.Writer) (int64, error) {
	sp, err := s.space(name)
	if err != nil {
		return 0, err
	}
	return sp.graph.Load().WriteInPlace(w)
}

// LoadGraphInPlace is LoadGraph for a graph in hnsw's in-place layout,
// searched from b in place (hnsw.OpenInPlace; trusted skips the checks of
// every link, for bytes whose checksum the caller has verified).
func (s *Segment) LoadGraphInPlace(name string, b []byte, trusted bool) error {
	sp, err := s.space(name)
	if err != nil {
		return err
	}
	g, err := hnsw.OpenInPlace(b, vectors{sp}, &hnsw.InPlaceOptions{Trusted: trusted})
	if err != nil {
		return fmt.Errorf("segment: graph %q: %w", name, err)
	}
	return s.installLoadedGraph(sp, g, g.Slots())
}

// UseGraphInPlace replaces the graph of vector space name in a sealed,
// fully indexed segment by the same graph in place in b, written by
// WriteGraphInPlace after the segment was sealed, so that the heap copy
// is freed. Slots deleted since then are deleted from the new graph too.
func (s *Segment) UseGraphInPlace(name string, b []byte, trusted bool) error {
	sp, err := s.space(name)
	if err != nil {
		return err
	}
	if !s.sealed.Load() {
		return fmt.Errorf("segment: graph %q: segment not sealed", name)
	}
	g, err := hnsw.OpenInPlace(b, vectors{sp}, &hnsw.InPlaceOptions{Trusted: trusted})
	if err != nil {
		return fmt.Errorf("segment: graph %q: %w", name, err)
	}
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	n := s.n.Load()
	if sp.indexed.Load() != n || sp.dirty.Load() {
		return fmt.Errorf("segment: graph %q: not fully indexed", name)
	}
	if old := sp.graph.Load(); g.Len()+g.Tombstones() != old.Len()+old.Tombstones() {
		return fmt.Errorf("segment: graph %q: %w: %d nodes in place, %d in memory", name, hnsw.ErrCorrupt,
			g.Len()+g.Tombstones(), old.Len()+old.Tombstones())
	}
	s.swapGraph(sp, g, n)
	return nil
}

// swapGraph makes g, a copy of sp's graph over its first n slots, sp's
// graph. It swaps first, then deletes what was masked before: a delete
// after the swap reaches g itself, and one before it has cleared the live
// bit already (Delete clears it before it looks in the graph).
func (s *Segment) swapGraph(sp *space, g *hnsw.Graph, n uint32) {
	sp.graph.Store(g)
	for off := range n {
		if !s.liveBit(off) && g.Contains(off) {
			_ = g.Delete(off)
		}
	}
}
