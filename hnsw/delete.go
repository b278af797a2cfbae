package hnsw

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Delete marks id deleted. It is never returned by a search again, but stays
// in the graph as a waypoint until Repair removes it. Deleting an id that is
// not a live node returns ErrNotFound. Safe for concurrent use.
func (g *Graph) Delete(id uint32) error {
	if g.ro != nil {
		g.structMu.RLock()
		defer g.structMu.RUnlock()
		if !g.ro.delete(id) {
			return fmt.Errorf("%w: %d", ErrNotFound, id)
		}
		g.live.Add(-1)
		g.tombstones.Add(1)
		return nil
	}
	g.structMu.RLock()
	defer g.structMu.RUnlock()
	nd := g.nodeIfAny(id)
	if nd == nil {
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.state.Load() != stateLive {
		return fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	nd.state.Store(stateTombstone)
	g.live.Add(-1)
	g.tombstones.Add(1)
	return nil
}

// Repair removes every tombstone from the graph. Each node that linked to a
// tombstone gets a new list chosen with the neighbour heuristic from its
// remaining links and the tombstone's links; nodes that end up unreachable
// from the entry point are linked back in. Removed ids become free for
// Insert; the block links (BuildBlockLinks) are dropped. Repair blocks Insert and Delete while it runs; searches go on
// meanwhile (and may still see a tombstone's old links, never returning it).
func (g *Graph) Repair(workers_ int) error {
	if g.ro != nil {
		return ErrReadOnly
	}
	g.structMu.Lock()
	defer g.structMu.Unlock()
	if g.tombstones.Load() == 0 {
		return nil
	}
	capacity := uint32(g.capacity())
	dead := make([]bool, capacity)
	for id := uint32(0); id < capacity; id++ {
		if g.node(id).state.Load() == stateTombstone {
			dead[id] = true
		}
	}

	// Relink the live nodes that point at tombstones.
	g.parallel(workers_, capacity, func(s *searcher, id uint32) {
		nd := g.node(id)
		if nd.state.Load() != stateLive {
			return
		}
		for l := 0; l <= int(nd.level); l++ {
			g.repairList(s, id, l, dead)
		}
	})

	// Pick a new entry point if the old one goes.
	ep, _, ok := unpackEP(g.ep.Load())
	if ok && dead[ep] {
		best, bestLevel := uint32(noID), int32(-1)
		for id := uint32(0); id < capacity; id++ {
			nd := g.node(id)
			if nd.state.Load() == stateLive && nd.level > bestLevel {
				best, bestLevel = id, nd.level
			}
		}
		if best == noID {
			g.ep.Store(epNone)
		} else {
			g.ep.Store(packEP(best, bestLevel))
		}
	}

	// Remove the tombstones.
	for id := uint32(0); id < capacity; id++ {
		if !dead[id] {
			continue
		}
		nd := g.node(id)
		nd.mu.Lock()
		for l := 0; l <= int(nd.level); l++ {
			atomic.StoreUint32(&g.links(id, l)[0], 0)
		}
		nd.state.Store(stateAbsent)
		nd.mu.Unlock()
	}
	g.tombstones.Store(0)
	// Block links may name the removed nodes, whose ids Insert may reuse.
	g.blocks.Store(nil)

	g.reconnect(workers_)
	return nil
}

// repairList repairs the level-l list of live node id when it links to
// tombstones: it keeps the live links and fills the freed slots with the
// tombstones' live neighbours, chosen with the neighbour heuristic. Keeping
// the live links keeps the density the list had gained from back-links;
// re-selecting the whole list from scratch would thin the graph.
func (g *Graph) repairList(s *searcher, id uint32, l int, dead []bool) {
	list := g.links(id, l)
	n := linkCount(list)
	hit := false
	for i := 1; i <= n; i++ {
		if dead[list[i]] {
			hit = true
			break
		}
	}
	if !hit {
		return
	}
	s.vis.reset(g.capacity())
	s.vis.visit(id)
	keep := s.nbrs[:0]
	for i := 1; i <= n; i++ {
		if x := list[i]; !dead[x] {
			keep = append(keep, x)
			s.vis.visit(x)
		}
	}
	s.nbrs = keep
	var cand []uint32
	for i := 1; i <= n; i++ {
		x := list[i]
		if !dead[x] {
			continue
		}
		xl := g.links(x, l)
		for j := 1; j <= linkCount(xl); j++ {
			if y := xl[j]; !dead[y] && !s.vis.visit(y) {
				cand = append(cand, y)
			}
		}
	}
	q := g.vecs.Vector(id)
	d := make([]float32, len(cand))
	g.vecs.Distances(q, cand, d)
	items := make([]item, 0, len(keep)+len(cand))
	for i, x := range cand {
		items = append(items, item{d[i], x})
	}
	// The heuristic runs over the kept links and the new candidates together,
	// so that a new link must be better than the ones already kept.
	kd := make([]float32, len(keep))
	g.vecs.Distances(q, keep, kd)
	for i, x := range keep {
		items = append(items, item{kd[i], x})
	}
	sortItems(items)
	out := append([]uint32(nil), keep...)
	room := n - len(keep) // as many new links as were lost
	for _, x := range g.selectNeighbours(s, items, g.maxLinks(l)) {
		if room == 0 {
			break
		}
		if !slices.Contains(keep, x) {
			out = append(out, x)
			room--
		}
	}
	nd := g.node(id)
	nd.mu.Lock()
	storeLinks(list, out)
	nd.mu.Unlock()
}

// reconnect links back every live node that is not reachable on level 0 from
// the entry point: it searches for the node's neighbours from the entry point
// as an insert would, then makes sure the closest of them links to it (the
// neighbour heuristic may have declined the link). A forced link can cut off
// another node, so it checks again, a few times at most. It searches on the
// given number of goroutines (GOMAXPROCS when workers <= 0). The caller
// holds structMu exclusively.
func (g *Graph) reconnect(workers_ int) {
	ep, _, ok := unpackEP(g.ep.Load())
	if !ok {
		return
	}
	capacity := uint32(g.capacity())
	seen := make([]bool, capacity)
	var stack []uint32
	walk := func(from uint32) {
		seen[from] = true
		stack = append(stack[:0], from)
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			list := g.links(x, 0)
			for i := 1; i <= linkCount(list); i++ {
				if y := list[i]; !seen[y] {
					seen[y] = true
					stack = append(stack, y)
				}
			}
		}
	}
	indeg := make([]int32, capacity)
	s := g.getSearcher()
	defer g.putSearcher(s)
	var todo []uint32
	var nears [][]item
	for pass := 0; pass < 8; pass++ {
		clear(seen)
		walk(ep)
		clear(indeg)
		for id := uint32(0); id < capacity; id++ {
			if g.node(id).state.Load() != stateAbsent {
				list := g.links(id, 0)
				for i := 1; i <= linkCount(list); i++ {
					indeg[list[i]]++
				}
			}
		}
		fixed := 0
		for next := uint32(0); next < capacity; {
			// The neighbourhoods of a batch of unreachable nodes are
			// searched on workers goroutines (under an inner product
			// thousands of nodes of small norm are no node's nearest),
			// then each node still unreachable is linked back in turn. A
			// search sees the graph as the batch began.
			todo = todo[:0]
			for ; next < capacity && len(todo) < reconnectBatch; next++ {
				if !seen[next] && g.node(next).state.Load() == stateLive {
					todo = append(todo, next)
				}
			}
			nears = slices.Grow(nears[:0], len(todo))[:len(todo)]
			// Search level 0 only: the upper levels can lead into the
			// very component that level 0 cannot reach, and a link from
			// there would not reconnect anything. Tombstones are
			// candidates too: they are navigable, and when most nodes are
			// deleted they may be all that the entry point reaches.
			g.parallel(workers_, uint32(len(todo)), func(ws *searcher, i uint32) {
				nears[i] = append(nears[i][:0], g.nearest(ws, todo[i], ep, 0)...)
			})
			for i, id := range todo {
				near := nears[i]
				if seen[id] || len(near) == 0 {
					continue
				}
				if own := g.links(id, 0); linkCount(own) == 0 {
					nd := g.node(id)
					nd.mu.Lock()
					storeLinks(own, g.selectNeighbours(s, near, g.cfg.M))
					nd.mu.Unlock()
				}
				g.forceLink(near, id, indeg)
				fixed++
				walk(id)
			}
		}
		if fixed == 0 {
			return
		}
	}
}

// reconnectBatch is how many unreachable nodes reconnect searches for at a
// time.
const reconnectBatch = 1024

// nearest returns the level-0 neighbourhood of id found from the entry
// point, closest first, in s.items: nodes other than id, live or
// tombstones.
func (g *Graph) nearest(s *searcher, id, ep uint32, top int32) []item {
	q := g.vecs.Vector(id)
	cur, curDist := g.descend(s, q, ep, top, 0)
	s.vis.reset(g.capacity())
	g.searchLayer(s, q, cur, curDist, g.cfg.EfConstruct, 0, nil, false, id)
	items := s.items[:0]
	for len(s.res) > 0 {
		items = append(items, s.res.pop())
	}
	slices.Reverse(items)
	s.items = items
	return items
}

// forceLink makes one of the nodes in near (closest first) link to id on
// level 0: the first with room, or else the closest, giving up its link to the
// node with the most incoming links. indeg is kept up to date.
func (g *Graph) forceLink(near []item, id uint32, indeg []int32) {
	pick := near[0].id
	for _, nb := range near {
		if linkCount(g.links(nb.id, 0)) < g.cfg.M0 {
			pick = nb.id
			break
		}
	}
	nd := g.node(pick)
	nd.mu.Lock()
	defer nd.mu.Unlock()
	list := g.links(pick, 0)
	n := linkCount(list)
	for i := 1; i <= n; i++ {
		if list[i] == id {
			return
		}
	}
	indeg[id]++
	if n < g.cfg.M0 {
		atomic.StoreUint32(&list[n+1], id)
		atomic.StoreUint32(&list[0], uint32(n+1))
		return
	}
	victim := 1
	for i := 2; i <= n; i++ {
		if indeg[list[i]] > indeg[list[victim]] {
			victim = i
		}
	}
	indeg[list[victim]]--
	atomic.StoreUint32(&list[victim], id)
}

// parallel calls fn for every id below n on the given number of goroutines,
// each with its own searcher.
func (g *Graph) parallel(workers_ int, n uint32, fn func(s *searcher, id uint32)) {
	var next atomic.Uint32
	var wg sync.WaitGroup
	const batch = 256
	for range workers(workers_) {
		wg.Go(func() {
			s := g.getSearcher()
			defer g.putSearcher(s)
			for {
				start := next.Add(batch) - batch
				if start >= n {
					return
				}
				for id := start; id < min(start+batch, n); id++ {
					fn(s, id)
				}
			}
		})
	}
	wg.Wait()
}
