package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/qlite/qlite/hnsw"
)

// buildBatch is the number of graph inserts between two checks of the
// build's context.
const buildBatch = 256

// BuildGraph inserts every live slot that is not yet indexed into the graph
// of each vector space it has a vector in, on the given number of
// goroutines (all cores when workers <= 0). Appends, deletes and searches
// proceed meanwhile: the build holds no lock they need. It checks ctx
// between batches of inserts and on cancellation returns ctx.Err(),
// leaving a consistent partial graph that later builds continue. It
// returns by how many slots Indexed advanced. Builds are serialised.
// A build that makes a space's whole graph (from no indexed slot to all)
// also gives it payload links (BuildPayloadLinks) when the segment has
// payload indexes; one that extends a graph drops its payload links
// (EnsurePayloadLinks builds them again).
func (s *Segment) BuildGraph(ctx context.Context, workers int) (int, error) {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	before := s.Indexed()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := s.n.Load()
	var err error
	var fresh []*space // spaces whose whole graph this build made
	for _, sp := range s.spaces {
		was := sp.indexed.Load()
		empty := was == 0 && !sp.graph.Load().ReadOnly()
		err = s.buildSpace(ctx, sp, n, workers)
		if g := sp.graph.Load(); !empty && sp.indexed.Load() > was && g.HasBlockLinks() {
			// Payload links cover all of a graph's nodes or none: a
			// filtered search that follows them steps through rejected
			// nodes only where they run out, and would miss the nodes
			// added since. EnsurePayloadLinks builds them again.
			_ = g.BuildBlockLinks(nil, 0, 0) // m 0 drops them; never fails
		}
		if err != nil {
			break
		}
		if empty && n > 0 && sp.indexed.Load() == n && sp.spec.PayloadM > 0 && !sp.spec.NoGraph {
			fresh = append(fresh, sp)
		}
	}
	if err == nil && len(fresh) > 0 && s.hasFieldIndexes() {
		_, err = s.buildPayloadLinks(ctx, workers, fresh)
	}
	return s.Indexed() - before, err
}

// hasFieldIndexes reports whether the segment has a payload index.
func (s *Segment) hasFieldIndexes() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.mu.indexes) > 0
}

// buildSpace brings sp's graph up to slot n.
//
// Inserts run in batches claimed in slot order by the workers; a worker
// checks ctx before claiming one, and every claimed batch is finished, so
// on cancellation the inserted slots form a prefix and indexed can stop
// right after it. The last batch goes through hnsw's Build, whose final
// pass links back any node the inserts left unreachable.
//
// A slot deleted while the build runs may be inserted after Delete looked
// for it in the graph; the build therefore checks each slot's live bit
// after inserting it and deletes it from the graph itself. (Delete clears
// the bit before looking, so one of the two always sees the other.)
func (s *Segment) buildSpace(ctx context.Context, sp *space, n uint32, workers int) error {
	from := sp.indexed.Load()
	if from >= n {
		return nil
	}
	if sp.spec.NoGraph {
		// No graph: searches scan, and the space counts as indexed.
		sp.indexed.Store(n)
		sp.building.Store(max(sp.building.Load(), n))
		return nil
	}
	g := sp.graph.Load()
	if g.ReadOnly() {
		// A graph in place takes no inserts: continue on a copy in the
		// heap.
		ram, err := g.Copy()
		if err != nil {
			return fmt.Errorf("segment: graph %q: %w", sp.spec.Name, err)
		}
		s.swapGraph(sp, ram, n)
		g = ram
	}
	var ids []uint32
	for off := from; off < n; off++ {
		if s.liveBit(off) && s.hasBit(sp, off) && !g.Contains(off) {
			ids = append(ids, off)
		}
	}
	if len(ids) == 0 {
		sp.indexed.Store(n)
		sp.building.Store(max(sp.building.Load(), n))
		return nil
	}
	prevBuilding := sp.building.Load()
	sp.building.Store(n)
	recheck := func(off uint32) {
		if !s.liveBit(off) && g.Contains(off) {
			_ = g.Delete(off) // ErrNotFound: Delete got there first
		}
	}

	last := (len(ids) - 1) / buildBatch * buildBatch
	head, tail := ids[:last], ids[last:]
	batches := int64(len(head) / buildBatch)
	var (
		next     atomic.Int64
		failed   atomic.Bool
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	w := workers
	if w <= 0 {
		w = defaultWorkers()
	}
	for range min(int64(w), batches) {
		wg.Go(func() {
			for !failed.Load() && ctx.Err() == nil {
				b := next.Add(1) - 1
				if b >= batches {
					return
				}
				if s.buildHook != nil {
					s.buildHook()
				}
				for _, off := range head[b*buildBatch : (b+1)*buildBatch] {
					if err := g.Insert(off); err != nil {
						errOnce.Do(func() { firstErr = err })
						failed.Store(true)
						return
					}
					recheck(off)
					// Let waiting goroutines (searches) run between inserts
					// rather than after the scheduler's time slice, as
					// hnsw's Build does.
					runtime.Gosched()
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		sp.dirty.Store(true)
		return fmt.Errorf("segment: build vector %q: %w", sp.spec.Name, firstErr)
	}
	done := int(min(next.Load(), batches)) * buildBatch
	if done < len(head) || ctx.Err() != nil {
		// Cancelled: every slot before ids[done] is in the graph or
		// skipped, and this build inserted none from it on.
		if done > 0 {
			sp.dirty.Store(true)
		}
		sp.indexed.Store(ids[done])
		sp.building.Store(max(ids[done], prevBuilding))
		return ctx.Err()
	}
	if s.buildHook != nil {
		s.buildHook()
	}
	if err := g.Build(tail, workers); err != nil {
		sp.dirty.Store(true)
		return fmt.Errorf("segment: build vector %q: %w", sp.spec.Name, err)
	}
	for _, off := range tail {
		recheck(off)
	}
	sp.dirty.Store(false)
	sp.indexed.Store(n)
	return nil
}

// Indexed returns the number of leading slots every graph covers: each
// live slot below it that has a vector is a node of that vector's graph
// (deleted slots and slots lacking the vector count as covered). Without
// dense vectors (no graphs) every slot is covered.
func (s *Segment) Indexed() int {
	if len(s.spaces) == 0 {
		return s.Len()
	}
	m := s.spaces[0].indexed.Load()
	for _, sp := range s.spaces[1:] {
		m = min(m, sp.indexed.Load())
	}
	return int(m)
}

// WriteGraph writes the graph of vector space name to w in hnsw's format
// (hnsw.Graph.WriteTo): the segment artefact's 'G' part. Inserts and
// deletes wait while it runs; searches do not.
func (s *Segment) WriteGraph(name string, w io.Writer) (int64, error) {
	sp, err := s.space(name)
	if err != nil {
		return 0, err
	}
	return sp.graph.Load().WriteTo(w)
}

// hnswSlotsOffset is where hnsw's serialised header holds the number of
// slots (one past the highest present node): after the magic, version, M,
// M0, EfConstruct, LevelMult and Seed (hnsw/encode.go).
const hnswSlotsOffset = 4 + 4 + 4*3 + 8 + 8

// LoadGraph installs the persisted graph of vector space name (read with
// hnsw.Read) into a loading segment, replacing its empty graph, and marks
// the space indexed. A space without a graph (NoGraph) checks and drops it. The graph may not name a slot past the reserved ones.
// It may come before or after the Fill calls: Seal reconciles the graph
// with the filled slots (see Seal).
func (s *Segment) LoadGraph(name string, r io.Reader) error {
	sp, err := s.space(name)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("segment: read graph %q: %w", name, err)
	}
	g, err := hnsw.Read(bytes.NewReader(b), vectors{sp})
	if err != nil {
		return fmt.Errorf("segment: graph %q: %w", name, err)
	}
	return s.installLoadedGraph(sp, g, binary.LittleEndian.Uint32(b[hnswSlotsOffset:]))
}

// installLoadedGraph installs g, a persisted graph naming slots slots, as
// the graph of sp in a loading segment.
func (s *Segment) installLoadedGraph(sp *space, g *hnsw.Graph, slots uint32) error {
	name := sp.spec.Name
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	if s.sealed.Load() || !s.loading {
		return fmt.Errorf("segment: graph %q: %w", name, ErrSealed)
	}
	n := s.n.Load()
	if slots > n {
		return fmt.Errorf("segment: graph %q: %w: %d slots in a segment of %d", name, hnsw.ErrCorrupt, slots, n)
	}
	if sp.spec.NoGraph {
		// A graph persisted before the vector lost it (hnsw m set to 0):
		// dropped, the space is scanned.
		return nil
	}
	for i, x := range s.spaces {
		if x == sp {
			s.loadedG[i] = true
		}
	}
	sp.graph.Store(g)
	sp.dirty.Store(false)
	sp.indexed.Store(n)
	sp.building.Store(n)
	return nil
}

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }
