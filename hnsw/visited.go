package hnsw

// visitedSet is a generation-stamped set of node ids: a node is visited when
// its mark equals the current generation, so clearing the set is one
// increment. The marks are wiped only when the generation wraps.
type visitedSet struct {
	marks []uint16
	gen   uint16
}

// reset empties the set and makes room for ids below n.
func (v *visitedSet) reset(n int) {
	if len(v.marks) < n {
		v.marks = make([]uint16, n+n/4)
		v.gen = 0
	}
	v.gen++
	if v.gen == 0 {
		clear(v.marks)
		v.gen = 1
	}
}

// visit marks id and reports whether it was already marked.
func (v *visitedSet) visit(id uint32) bool {
	if int(id) >= len(v.marks) {
		// The graph grew while this search ran.
		m := make([]uint16, int(id)+1+int(id)/4)
		copy(m, v.marks)
		v.marks = m
	}
	if v.marks[id] == v.gen {
		return true
	}
	v.marks[id] = v.gen
	return false
}
