package segment

import "github.com/qlite/qlite/hnsw"

// topK keeps the k closest results seen so far in a max-heap on distance.
type topK struct {
	k int
	h []hnsw.Result
}

func (t *topK) reset(k int) {
	t.k = k
	t.h = t.h[:0]
}

func (t *topK) push(id uint32, d float32) {
	if len(t.h) < t.k {
		t.h = append(t.h, hnsw.Result{ID: id, Distance: d})
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if t.h[p].Distance >= t.h[i].Distance {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	if d >= t.h[0].Distance {
		return
	}
	t.h[0] = hnsw.Result{ID: id, Distance: d}
	i, n := 0, len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		if r := l + 1; r < n && t.h[r].Distance > t.h[l].Distance {
			l = r
		}
		if t.h[i].Distance >= t.h[l].Distance {
			break
		}
		t.h[i], t.h[l] = t.h[l], t.h[i]
		i = l
	}
}

// sorted returns the results closest first, emptying the heap.
func (t *topK) sorted(dst []hnsw.Result) []hnsw.Result {
	n := len(t.h)
	start := len(dst)
	dst = append(dst, t.h...)
	out := dst[start:]
	// Heap-sort in place: repeatedly move the max to the end.
	for end := n - 1; end > 0; end-- {
		out[0], out[end] = out[end], out[0]
		i := 0
		for {
			l := 2*i + 1
			if l >= end {
				break
			}
			if r := l + 1; r < end && out[r].Distance > out[l].Distance {
				l = r
			}
			if out[i].Distance >= out[l].Distance {
				break
			}
			out[i], out[l] = out[l], out[i]
			i = l
		}
	}
	t.h = t.h[:0]
	return dst
}
