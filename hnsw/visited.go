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

// memoSize is the number of slots of a distMemo: a power of two, well above
// the few dozen distinct nodes a descent through the upper levels scores.
const memoSize = 256

// distMemo remembers the distances the greedy descent through the upper
// levels computed, so that a node met again (the node just left, a
// neighbour shared by two nodes, a node of the level above) is not scored a
// second time. It is an open-addressing table that stops taking entries
// when three quarters full; a miss only costs a distance.
type distMemo struct {
	keys [memoSize]uint32 // id+1; 0 marks an empty slot
	vals [memoSize]float32
	n    int
}

func (m *distMemo) reset() {
	if m.n > 0 {
		clear(m.keys[:])
		m.n = 0
	}
}

func memoSlot(id uint32) uint32 { return (id * 0x9E3779B1) >> (32 - 8) }

// get returns the remembered distance of id.
func (m *distMemo) get(id uint32) (float32, bool) {
	for h := memoSlot(id); ; h = (h + 1) & (memoSize - 1) {
		switch m.keys[h] {
		case 0:
			return 0, false
		case id + 1:
			return m.vals[h], true
		}
	}
}

// put remembers the distance of id, unless the table is full enough.
func (m *distMemo) put(id uint32, d float32) {
	if m.n >= memoSize*3/4 {
		return
	}
	for h := memoSlot(id); ; h = (h + 1) & (memoSize - 1) {
		switch m.keys[h] {
		case 0:
			m.keys[h], m.vals[h] = id+1, d
			m.n++
			return
		case id + 1:
			return
		}
	}
}
