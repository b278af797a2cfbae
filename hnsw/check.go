package hnsw

import "fmt"

// CheckInvariants verifies the graph's structure: link counts within bounds,
// links only to present nodes of a sufficient level, no self-links or
// duplicate links (block links included), an entry point at the top level,
// and, when reachable is true, every live node reachable on level 0 from the
// entry point. It must not run concurrently with Insert, Delete or Repair.
func (g *Graph) CheckInvariants(reachable bool) error {
	capacity := uint32(g.capacity())
	var live, dead int64
	top := int32(-1)
	for id := uint32(0); id < capacity; id++ {
		st := g.state(id)
		switch st {
		case stateAbsent:
			continue
		case stateLive:
			live++
		case stateTombstone:
			dead++
		default:
			return fmt.Errorf("hnsw: node %d: bad state %d", id, st)
		}
		level := g.level(id)
		top = max(top, level)
		if g.ro == nil && level > 0 && len(g.node(id).upper) != int(level)*g.strideU {
			return fmt.Errorf("hnsw: node %d: level %d with %d upper words", id, level, len(g.node(id).upper))
		}
		for l := 0; l <= int(level); l++ {
			list := g.links(id, l)
			c := int(list[0])
			if c > g.maxLinks(l) {
				return fmt.Errorf("hnsw: node %d level %d: degree %d > %d", id, l, c, g.maxLinks(l))
			}
			for i := 1; i <= c; i++ {
				x := list[i]
				if x == id {
					return fmt.Errorf("hnsw: node %d level %d: self-link", id, l)
				}
				if x >= capacity {
					return fmt.Errorf("hnsw: node %d level %d: link to %d outside the graph", id, l, x)
				}
				if g.state(x) == stateAbsent {
					return fmt.Errorf("hnsw: node %d level %d: dangling link to removed node %d", id, l, x)
				}
				if xl := g.level(x); int(xl) < l {
					return fmt.Errorf("hnsw: node %d level %d: link to %d of level %d", id, l, x, xl)
				}
				for j := 1; j < i; j++ {
					if list[j] == x {
						return fmt.Errorf("hnsw: node %d level %d: duplicate link to %d", id, l, x)
					}
				}
			}
		}
	}
	if live != g.live.Load() || dead != g.tombstones.Load() {
		return fmt.Errorf("hnsw: counted %d live and %d tombstones, recorded %d and %d",
			live, dead, g.live.Load(), g.tombstones.Load())
	}
	if err := g.checkBlockLinks(); err != nil {
		return err
	}
	ep, epLevel, ok := unpackEP(g.ep.Load())
	if live+dead == 0 {
		if ok {
			return fmt.Errorf("hnsw: empty graph with entry point %d", ep)
		}
		return nil
	}
	if !ok {
		return fmt.Errorf("hnsw: %d nodes and no entry point", live+dead)
	}
	if g.state(ep) == stateAbsent || g.level(ep) != epLevel || epLevel != top {
		return fmt.Errorf("hnsw: entry point %d at level %d, top level %d", ep, epLevel, top)
	}
	if !reachable {
		return nil
	}
	seen := make([]bool, capacity)
	seen[ep] = true
	stack := []uint32{ep}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		list := g.links(x, 0)
		for i := 1; i <= int(list[0]); i++ {
			if y := list[i]; !seen[y] {
				seen[y] = true
				stack = append(stack, y)
			}
		}
	}
	for id := uint32(0); id < capacity; id++ {
		if !seen[id] && g.state(id) == stateLive {
			return fmt.Errorf("hnsw: live node %d unreachable from entry point %d on level 0", id, ep)
		}
	}
	return nil
}
