package hnsw

// item is a node and its distance to the current query.
type item struct {
	d  float32
	id uint32
}

// minHeap keeps the closest item at index 0.
type minHeap []item

func (h *minHeap) push(it item) {
	a := append(*h, it)
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].d <= it.d {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = it
	*h = a
}

func (h *minHeap) pop() item {
	a := *h
	top := a[0]
	last := a[len(a)-1]
	a = a[:len(a)-1]
	n := len(a)
	if n > 0 {
		i := 0
		for {
			l := 2*i + 1
			if l >= n {
				break
			}
			if r := l + 1; r < n && a[r].d < a[l].d {
				l = r
			}
			if last.d <= a[l].d {
				break
			}
			a[i] = a[l]
			i = l
		}
		a[i] = last
	}
	*h = a
	return top
}

// maxHeap keeps the farthest item at index 0.
type maxHeap []item

func (h *maxHeap) push(it item) {
	a := append(*h, it)
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].d >= it.d {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = it
	*h = a
}

func (h *maxHeap) pop() item {
	a := *h
	top := a[0]
	last := a[len(a)-1]
	a = a[:len(a)-1]
	if len(a) > 0 {
		a.siftDown(last)
	}
	*h = a
	return top
}

// replaceTop replaces the farthest item with it.
func (h maxHeap) replaceTop(it item) { h.siftDown(it) }

// siftDown places x at the root and sifts it down to its place.
func (a maxHeap) siftDown(x item) {
	n := len(a)
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		if r := l + 1; r < n && a[r].d > a[l].d {
			l = r
		}
		if x.d >= a[l].d {
			break
		}
		a[i] = a[l]
		i = l
	}
	a[i] = x
}

// sortItems sorts a short slice of items by ascending distance (insertion
// sort: the slices are neighbour lists, a few dozen entries).
func sortItems(a []item) {
	for i := 1; i < len(a); i++ {
		x := a[i]
		j := i - 1
		for j >= 0 && a[j].d > x.d {
			a[j+1] = a[j]
			j--
		}
		a[j+1] = x
	}
}
