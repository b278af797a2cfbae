package hnsw

import (
	"math"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/qlite/qlite/distance"
)

// Search returns up to k live nodes closest to q, closest first, found with a
// candidate list of size ef (raised to k when smaller). accept, when not nil,
// restricts the results to the ids it accepts; rejected nodes are still used
// to navigate. q must be preprocessed as the stored vectors are.
func (g *Graph) Search(q []float32, k, ef int, accept func(id uint32) bool) []Result {
	return g.SearchInto(nil, q, k, ef, accept)
}

// SearchInto is Search writing into dst[:0], which it grows as needed. When
// dst has room for k results it allocates nothing.
func (g *Graph) SearchInto(dst []Result, q []float32, k, ef int, accept func(id uint32) bool) []Result {
	dst, _ = g.search(dst, nil, q, k, ef, accept, 1)
	return dst
}

// SearchFiltered is SearchInto for a selective accept predicate. When
// selectivity, the caller's estimate of the fraction of nodes accept allows,
// is below TwoHopSelectivity, the search steps through each rejected
// neighbour to that neighbour's own neighbours, so that the accepted nodes
// stay connected, and scores only accepted nodes (the ACORN-1 expansion);
// below BlockLinksSelectivity it also follows the block links. Otherwise it
// searches as SearchInto does.
func (g *Graph) SearchFiltered(dst []Result, q []float32, k, ef int, accept func(id uint32) bool, selectivity float64) []Result {
	dst, _ = g.search(dst, nil, q, k, ef, accept, selectivity)
	return dst
}

// SearchCounted is SearchFiltered that also returns the number of
// distances it computed.
func (g *Graph) SearchCounted(dst []Result, q []float32, k, ef int, accept func(id uint32) bool, selectivity float64) ([]Result, int) {
	return g.search(dst, nil, q, k, ef, accept, selectivity)
}

// SearchVia is SearchCounted scoring through vecs instead of the graph's
// own Vectors: the same nodes under another representation (quantised
// codes), whose Distances may ignore q. The distances of the results are
// vecs' own.
func (g *Graph) SearchVia(vecs Vectors, dst []Result, q []float32, k, ef int, accept func(id uint32) bool, selectivity float64) ([]Result, int) {
	return g.search(dst, vecs, q, k, ef, accept, selectivity)
}

// TwoHopSelectivity is the selectivity below which SearchFiltered expands
// through rejected nodes.
var TwoHopSelectivity = 0.3

// BlockLinksSelectivity is the selectivity below which SearchFiltered on a
// graph with block links (BuildBlockLinks) walks through them: from each
// accepted node to its accepted links and block links, stepping through a
// rejected neighbour to its links only when those bring no unvisited
// accepted node. The block links keep a filter's nodes connected among
// themselves, so that rejected nodes' lists, which the two-hop search
// reads by the dozen, are seldom read. On Fashion-MNIST (M 16, blocks of
// overlapping value ranges) at 6% and 10% this reached recall 0.95 at 15
// to 30% less CPU a query than the two-hop search, and higher recall at
// every ef; at 20% 15 to 20% less; at 30% the two were even
// (docs/benchmarks/filtered-links/report.md). A filter that covers only
// part of its blocks (a range bound inside one, a conjunction, a must_not)
// leaves its nodes more sparsely linked and needs a larger ef for the same
// recall; gathering through rejected neighbours there too bought recall
// per ef but cost more CPU per query at equal recall.
var BlockLinksSelectivity = 0.25

// UsesBlockLinks reports whether SearchFiltered with this selectivity
// follows block links on this graph.
func (g *Graph) UsesBlockLinks(selectivity float64) bool {
	return selectivity < min(BlockLinksSelectivity, TwoHopSelectivity) && g.HasBlockLinks()
}

func (g *Graph) search(dst []Result, vecs Vectors, q []float32, k, ef int, accept func(id uint32) bool, selectivity float64) ([]Result, int) {
	twoHop := accept != nil && selectivity < TwoHopSelectivity
	dst = dst[:0]
	if k <= 0 {
		return dst, 0
	}
	ep, top, ok := unpackEP(g.ep.Load())
	if !ok {
		return dst, 0
	}
	ef = max(ef, k)
	s := g.getSearcher()
	if vecs != nil {
		s.vecs = vecs
	}
	cur, curDist := g.descend(s, q, ep, top, 0)
	if twoHop {
		var bl *blockLinks
		gather := g.cfg.M0
		if selectivity < BlockLinksSelectivity {
			if bl = g.blocks.Load(); bl != nil {
				gather = 1
			}
		}
		g.searchLayerTwoHop(s, q, cur, curDist, ef, accept, bl, gather)
	} else {
		filtered := accept != nil || g.tombstones.Load() > 0
		g.searchLayer(s, q, cur, curDist, ef, 0, accept, filtered, noID)
	}

	n := min(k, len(s.res))
	for len(s.res) > n {
		s.res.pop()
	}
	dst = slices.Grow(dst, n)[:n]
	for i := n - 1; i >= 0; i-- {
		it := s.res.pop()
		dst[i] = Result{ID: it.id, Distance: it.d}
	}
	scored := s.scored
	g.putSearcher(s)
	return dst, scored
}

// descend scores the entry point ep and walks greedily from it down the
// levels top..stop+1 towards q (see greedy), returning the node reached
// and its distance. The distances it computes are remembered for the
// whole descent (s.memo), so that no node is scored twice.
func (g *Graph) descend(s *searcher, q []float32, ep uint32, top, stop int32) (uint32, float32) {
	s.memo.reset()
	cur, curDist := ep, g.dist(s, q, ep)
	s.scored++
	s.memo.put(cur, curDist)
	for l := top; l > stop; l-- {
		cur, curDist = g.greedy(s, q, cur, curDist, int(l))
	}
	return cur, curDist
}

// greedy walks level l from cur towards q, moving to the closest neighbour
// while that improves the distance. Only neighbours whose distance s.memo
// lacks are scored.
func (g *Graph) greedy(s *searcher, q []float32, cur uint32, curDist float32, l int) (uint32, float32) {
	for changed := true; changed; {
		changed = false
		list := g.links(cur, l)
		n := linkCount(list)
		// The list is copied once: a concurrent insert may rewrite it.
		nbrs, ids := s.nbrs[:0], s.ids[:0]
		for i := 1; i <= n; i++ {
			id := atomic.LoadUint32(&list[i])
			nbrs = append(nbrs, id)
			if _, ok := s.memo.get(id); !ok {
				ids = append(ids, id)
			}
		}
		s.nbrs = nbrs
		if len(ids) > 0 {
			if len(ids) > len(s.dists) {
				s.dists = make([]float32, 2*len(ids))
			}
			d := s.dists[:len(ids)]
			s.vecs.Distances(q, ids, d)
			s.scored += len(ids)
			for i, id := range ids {
				s.memo.put(id, d[i])
			}
		}
		// ids is the subsequence of nbrs not remembered before the
		// scoring: take their distances from d in order, the others'
		// from the memo.
		j := 0
		for _, id := range nbrs {
			var dist float32
			if j < len(ids) && ids[j] == id {
				dist = s.dists[j]
				j++
			} else {
				dist, _ = s.memo.get(id)
			}
			if dist < curDist {
				cur, curDist, changed = id, dist, true
			}
		}
	}
	return cur, curDist
}

// searchLayer runs the beam search of level l from ep, leaving up to ef
// results in s.res. Results are nodes other than exclude, and when filtered
// is true only live ones that accept allows; other nodes are traversed but not
// returned, and the search goes on until it holds ef results or runs out of
// candidates closer than the worst result. filtered may be false only when
// accept is nil and the graph has no tombstones: it spares a metadata read per
// candidate.
func (g *Graph) searchLayer(s *searcher, q []float32, ep uint32, epDist float32, ef, l int,
	accept func(uint32) bool, filtered bool, exclude uint32) {
	s.cand = s.cand[:0]
	s.res = s.res[:0]
	s.vis.visit(ep)
	if exclude != noID {
		s.vis.visit(exclude)
	}
	lower := float32(math.Inf(1))
	if ep != exclude && (!filtered || g.returnable(ep, accept)) {
		s.res.push(item{epDist, ep})
		lower = epDist
	}
	s.cand.push(item{epDist, ep})

	for len(s.cand) > 0 {
		c := s.cand[0]
		if c.d > lower && (len(s.res) >= ef || !filtered) {
			break
		}
		s.cand.pop()
		if len(s.cand) > 0 {
			// The next candidate, unless this one's neighbours bring a
			// closer one: its list loads while these are scored.
			prefetchLinks(g.links(s.cand[0].id, l))
		}
		list := g.links(c.id, l)
		n := linkCount(list)
		ids := s.ids[:0]
		for i := 1; i <= n; i++ {
			id := atomic.LoadUint32(&list[i])
			if !s.vis.visit(id) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		dists := s.dists[:len(ids)]
		s.vecs.Distances(q, ids, dists)
		s.scored += len(ids)
		for i, id := range ids {
			d := dists[i]
			if len(s.res) < ef || d < lower {
				s.cand.push(item{d, id})
				if !filtered || g.returnable(id, accept) {
					if len(s.res) < ef {
						s.res.push(item{d, id})
					} else {
						s.res.replaceTop(item{d, id})
					}
					lower = s.res[0].d
				}
			}
		}
	}
}

// returnable reports whether id may be a search result: live and accepted.
func (g *Graph) returnable(id uint32, accept func(uint32) bool) bool {
	if g.state(id) != stateLive {
		return false
	}
	return accept == nil || accept(id)
}

// searchLayerTwoHop is the level-0 beam search in which only accepted nodes
// are scored and queued. It starts from ep and from the accepted nodes the
// descent to ep scored (s.memo), whose distances are known. The accepted
// nodes among a node's links and its block links (bl, nil to leave them)
// are gathered first; while they are fewer than gather (M0 for a node
// without block links), a rejected neighbour is not scored but stands for
// its own neighbours, gathered in its place up to that many in all: with
// M0 this keeps the cost of an expansion near an unfiltered one; with
// block links, gather 1 steps through rejected nodes only when nothing
// accepted is left in reach.
// When the candidates run out before ef results are held (the entry point
// sits among rejected nodes), the search walks on through the rejected
// nodes it met, breadth first, to the nearest accepted ones.
func (g *Graph) searchLayerTwoHop(s *searcher, q []float32, ep uint32, epDist float32, ef int, accept func(uint32) bool, bl *blockLinks, gather int) {
	s.cand = s.cand[:0]
	s.res = s.res[:0]
	s.frontier, s.head = s.frontier[:0], 0
	s.vis.visit(ep)
	lower := float32(math.Inf(1))
	tomb := g.tombstones.Load() > 0
	if accept(ep) && (!tomb || g.state(ep) == stateLive) {
		s.res.push(item{epDist, ep})
		lower = epDist
	} else {
		s.frontier = append(s.frontier, ep)
	}
	s.cand.push(item{epDist, ep})
	// The accepted nodes the descent scored are level-0 nodes whose
	// distances are known: candidates at no cost.
	for i, k := range s.memo.keys {
		if k == 0 || !accept(k-1) || s.vis.visit(k-1) {
			continue
		}
		id, d := k-1, s.memo.vals[i]
		s.cand.push(item{d, id})
		if !tomb || g.state(id) == stateLive {
			if len(s.res) < ef {
				s.res.push(item{d, id})
			} else if d < lower {
				s.res.replaceTop(item{d, id})
			}
			lower = s.res[0].d
		}
	}
	for {
		for len(s.cand) > 0 {
			c := s.cand[0]
			if c.d > lower && len(s.res) >= ef {
				break
			}
			s.cand.pop()
			list := g.links(c.id, 0)
			// Accepted neighbours first; the rejected ones are stepped
			// through afterwards, their lists touched in one branch-free
			// pass first so that the cache misses overlap instead of each
			// waiting behind the mispredicted filter branches of the list
			// before it.
			ids, rejected := splitUnvisited(s, list, accept, s.ids[:0], s.nbrs[:0])
			s.frontier = append(s.frontier, rejected...)
			// Block links lead to nodes a filter tends to accept together.
			// A node without any (added after they were built, or in no
			// block) is expanded as the two-hop search does.
			limit := gather
			if blocks := bl.of(c.id); len(blocks) > 0 {
				// Sorted block links are taken nearest first until the
				// expansion holds M unvisited accepted nodes, its own
				// links' counted: a node of a class block has about 2M
				// block links, and scoring all of them cost the class
				// filter 35% more CPU at the same recall on
				// Fashion-MNIST (docs/benchmarks/filtered-links).
				capped := bl.sorted
				for _, id := range blocks {
					if capped && len(ids) >= g.cfg.M {
						break
					}
					if accept(id) && !s.vis.visit(id) {
						ids = append(ids, id)
					}
				}
			} else {
				limit = g.cfg.M0
			}
			if len(ids) < limit && len(rejected) > 0 {
				var sink uint32
				for _, id := range rejected {
					// A list spans up to three cache lines: touch each.
					l := g.links(id, 0)
					sink += l[0] + l[len(l)/2] + l[len(l)-1]
				}
				s.sink += sink
			gather:
				for _, id := range rejected {
					hop := g.links(id, 0)
					for j := 1; j <= linkCount(hop); j++ {
						id2 := atomic.LoadUint32(&hop[j])
						if accept(id2) && !s.vis.visit(id2) {
							ids = append(ids, id2)
							if len(ids) >= limit {
								break gather
							}
						}
					}
				}
			}
			g.queueScored(s, q, ids, ef, tomb, &lower)
		}
		if len(s.res) >= ef || !g.unstick(s, q, accept, ef, tomb, &lower) {
			return
		}
	}
}

// queueScored scores the accepted nodes ids, queues them as candidates and
// keeps the best ef live ones as results, lower being the worst result's
// distance.
func (g *Graph) queueScored(s *searcher, q []float32, ids []uint32, ef int, tomb bool, lower *float32) {
	if len(ids) == 0 {
		return
	}
	if len(ids) > len(s.dists) {
		s.dists = make([]float32, 2*len(ids))
	}
	s.ids = ids
	dists := s.dists[:len(ids)]
	s.vecs.Distances(q, ids, dists)
	s.scored += len(ids)
	for i, id := range ids {
		d := dists[i]
		if len(s.res) < ef || d < *lower {
			s.cand.push(item{d, id})
			if !tomb || g.state(id) == stateLive {
				if len(s.res) < ef {
					s.res.push(item{d, id})
				} else {
					s.res.replaceTop(item{d, id})
				}
				*lower = s.res[0].d
			}
		}
	}
}

// splitUnvisited marks the nodes of the link list list visited and appends
// those not visited before to acc when accept allows them, to rej when not.
func splitUnvisited(s *searcher, list []uint32, accept func(uint32) bool, acc, rej []uint32) ([]uint32, []uint32) {
	for i := 1; i <= linkCount(list); i++ {
		id := atomic.LoadUint32(&list[i])
		if s.vis.visit(id) {
			continue
		}
		if accept(id) {
			acc = append(acc, id)
		} else {
			rej = append(rej, id)
		}
	}
	return acc, rej
}

// unstick walks breadth first through the rejected nodes the two-hop search
// met (s.frontier from s.head on) until a node's links lead to unvisited
// accepted nodes, which it scores and queues. It reports whether it found
// any.
func (g *Graph) unstick(s *searcher, q []float32, accept func(uint32) bool, ef int, tomb bool, lower *float32) bool {
	for s.head < len(s.frontier) {
		f := s.frontier[s.head]
		s.head++
		var ids []uint32
		ids, s.frontier = splitUnvisited(s, g.links(f, 0), accept, s.ids[:0], s.frontier)
		if len(ids) > 0 {
			g.queueScored(s, q, ids, ef, tomb, lower)
			return true
		}
	}
	return false
}

// prefetchLinks asks for a link list's cache lines.
func prefetchLinks(list []uint32) {
	distance.Prefetch(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(list))), 4*len(list)))
}
