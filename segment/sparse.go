package segment

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/qlite/qlite/filter"
)

// SparseVector is a sparse vector: Values[i] is the value at dimension
// Indices[i]. A stored one has its indices in increasing order.
type SparseVector struct {
	Indices []uint32
	Values  []float32
}

// SparseSpec describes one named sparse vector of a segment.
type SparseSpec struct {
	// Name is the vector's name, distinct from every dense vector's.
	Name string
	// FullScanThreshold is the number of matching points at or below which
	// a filtered search scores the matching points directly instead of
	// walking the posting lists. Default 5000 (Qdrant's).
	FullScanThreshold int
}

// DefaultSparseFullScanThreshold is SparseSpec.FullScanThreshold's default.
const DefaultSparseFullScanThreshold = 5000

// The plans SearchSparse chooses between.
const (
	PlanPostings       = "postings"        // posting lists walked, filter checked per point
	PlanPostingsPruned = "postings-pruned" // the longest lists only looked up for the points already found
	PlanSparseFiltered = "sparse-filtered" // every matching point scored
)

// sparsePageEntries is the number of (index, value) pairs of a storage
// page; a longer vector gets a page of its own.
const sparsePageEntries = 1 << 16

// sparseRef locates the stored vector of one slot: entries [off, off+n) of
// page page. n is 0 for an empty vector (or none: see the presence bit).
type sparseRef struct {
	page, off, n uint32
}

// sparsePage holds the indices and values of many vectors, back to back.
// It is allocated whole and written once per entry, before the slot that
// owns the entry is published.
type sparsePage struct {
	idx []uint32
	val []float32
}

// posting is the posting list of one dimension: the slots whose vector has
// the dimension, ascending, with their values. Slots stay listed after a
// delete (the live bits tell); live counts the live ones.
type posting struct {
	ids  []uint32
	w    []float32
	live int
	// max is the largest value in w (0 for an empty list).
	max float32
}

// sparseSpace is one sparse vector: its storage and inverted index.
type sparseSpace struct {
	spec SparseSpec
	// has is the index of its presence bits in slotChunk.has.
	has int
	// pages is the storage page directory; it grows under appendMu
	// (copy-on-write) and is read without locks. fill is the number of
	// entries used in the last page, guarded by appendMu.
	pages atomic.Pointer[[]sparsePage]
	fill  int

	// The fields below are guarded by Segment.mu.
	//
	// hasBM holds the live slots that have this vector (empty ones too).
	hasBM *roaring.Bitmap
	// dims maps a dimension to its posting list in post.
	dims map[uint32]uint32
	post []posting
	// nlive is the number of live slots with a non-empty vector.
	nlive int
	// neg is set once a negative value is indexed: searches then never
	// prune (partial sums are lower bounds only without negative values).
	neg bool
}

// validateSparse checks a sparse vector: as many values as indices, no
// index twice, finite values.
func validateSparse(name string, v SparseVector) error {
	if len(v.Indices) != len(v.Values) {
		return fmt.Errorf("sparse vector %q: %d indices and %d values", name, len(v.Indices), len(v.Values))
	}
	for _, x := range v.Values {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("sparse vector %q: value %v is not finite", name, x)
		}
	}
	return nil
}

// sparseNamed returns the sparse space called name.
func (s *Segment) sparseNamed(name string) (*sparseSpace, error) {
	sp, ok := s.sparseByName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownVector, name)
	}
	return sp, nil
}

// validateSparseShape checks that every sparse vector is named in the
// segment and names no index twice.
func (s *Segment) validateSparseShape(sparse map[string]SparseVector) error {
	for name, v := range sparse {
		if _, err := s.sparseNamed(name); err != nil {
			return err
		}
		ix := v.Indices
		if !slices.IsSorted(ix) {
			ix = slices.Clone(ix)
			slices.Sort(ix)
		}
		for i := 1; i < len(ix); i++ {
			if ix[i] == ix[i-1] {
				return fmt.Errorf("sparse vector %q: index %d given twice", name, ix[i])
			}
		}
		if len(v.Indices) != len(v.Values) {
			return fmt.Errorf("sparse vector %q: %d indices and %d values", name, len(v.Indices), len(v.Values))
		}
	}
	return nil
}

// placeSparse stores v (validated), sorted by index, as slot off's vector
// of sp. The caller holds appendMu.
func (s *Segment) placeSparse(sp *sparseSpace, off uint32, v SparseVector) {
	n := len(v.Indices)
	pages := *sp.pages.Load()
	if len(pages) == 0 || sp.fill+n > len(pages[len(pages)-1].idx) {
		size := max(sparsePageEntries, n)
		next := append(pages, sparsePage{idx: make([]uint32, size), val: make([]float32, size)})
		sp.pages.Store(&next)
		pages, sp.fill = next, 0
	}
	pg := pages[len(pages)-1]
	idx, val := pg.idx[sp.fill:sp.fill+n], pg.val[sp.fill:sp.fill+n]
	copy(idx, v.Indices)
	copy(val, v.Values)
	if !slices.IsSorted(idx) {
		sortPairs(idx, val)
	}
	s.chunk(off).sparse[sp.has-len(s.spaces)][off&chunkMask] = sparseRef{page: uint32(len(pages) - 1), off: uint32(sp.fill), n: uint32(n)}
	sp.fill += n
	setWordBit(&s.chunk(off).has[sp.has], off)
}

// SortSparse sorts v by index in place, moving the values along.
func SortSparse(v SparseVector) {
	if !slices.IsSorted(v.Indices) {
		sortPairs(v.Indices, v.Values)
	}
}

// sortPairs sorts idx increasingly, moving val along.
func sortPairs(idx []uint32, val []float32) {
	type pair struct {
		i uint32
		v float32
	}
	ps := make([]pair, len(idx))
	for j := range idx {
		ps[j] = pair{idx[j], val[j]}
	}
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.i, b.i) })
	for j, p := range ps {
		idx[j], val[j] = p.i, p.v
	}
}

// sparseAt returns slot off's stored vector of sp (aliasing storage), which
// must be allocated and have the vector.
func (s *Segment) sparseAt(sp *sparseSpace, off uint32) (idx []uint32, val []float32) {
	r := s.chunk(off).sparse[sp.has-len(s.spaces)][off&chunkMask]
	if r.n == 0 {
		return nil, nil
	}
	pg := (*sp.pages.Load())[r.page]
	return pg.idx[r.off : r.off+r.n : r.off+r.n], pg.val[r.off : r.off+r.n : r.off+r.n]
}

// SparseVector returns slot off's sparse vector name, sorted by index, which
// aliases the segment's storage: read it, do not modify it. ok is false
// when the slot has no such vector or off is not a used slot.
func (s *Segment) SparseVector(name string, off uint32) (v SparseVector, ok bool) {
	sp, found := s.sparseByName[name]
	if !found || off >= s.n.Load() || !s.hasBitIdx(sp.has, off) {
		return SparseVector{}, false
	}
	v.Indices, v.Values = s.sparseAt(sp, off)
	return v, true
}

// indexSparse adds live slot off to sp's inverted index. The caller holds
// mu exclusively.
func (s *Segment) indexSparse(sp *sparseSpace, off uint32) {
	if !s.hasBitIdx(sp.has, off) {
		return
	}
	sp.hasBM.Add(off)
	idx, val := s.sparseAt(sp, off)
	if len(idx) == 0 {
		return
	}
	sp.nlive++
	if s.loading {
		return // Seal builds the posting lists at once (buildSparse)
	}
	for i, d := range idx {
		j, ok := sp.dims[d]
		if !ok {
			j = uint32(len(sp.post))
			sp.dims[d] = j
			sp.post = append(sp.post, posting{})
		}
		p := &sp.post[j]
		p.ids = append(p.ids, off)
		p.w = append(p.w, val[i])
		p.live++
		p.max = max(p.max, val[i])
		sp.neg = sp.neg || val[i] < 0
	}
}

// unindexSparse takes slot off out of sp's live counts; its postings stay
// (searches check the live bits). The caller holds mu exclusively.
func (s *Segment) unindexSparse(sp *sparseSpace, off uint32) {
	if !sp.hasBM.CheckedRemove(off) {
		return
	}
	idx, _ := s.sparseAt(sp, off)
	if len(idx) == 0 {
		return
	}
	sp.nlive--
	for _, d := range idx {
		sp.post[sp.dims[d]].live--
	}
}

// buildSparse rebuilds sp's posting lists from the stored vectors of the
// live slots, in slot order, into two flat arrays (one allocation each,
// whatever the number of dimensions): two passes over the entries, one to
// count each dimension's points, one to place them. Seal calls it, so that
// a sealed segment's index holds no deleted slot and no per-list
// allocation, and a loading segment's index (which Fill does not build) is
// built at once. The caller holds mu exclusively.
func (s *Segment) buildSparse(sp *sparseSpace) {
	dims := make(map[uint32]uint32, len(sp.dims))
	var counts []int
	total := 0
	it := sp.hasBM.Iterator()
	for it.HasNext() {
		idx, _ := s.sparseAt(sp, it.Next())
		for _, d := range idx {
			j, ok := dims[d]
			if !ok {
				j = uint32(len(counts))
				dims[d] = j
				counts = append(counts, 0)
			}
			counts[j]++
		}
		total += len(idx)
	}
	ids := make([]uint32, total)
	w := make([]float32, total)
	post := make([]posting, len(counts))
	start := 0
	for j, c := range counts {
		post[j] = posting{ids: ids[start : start : start+c], w: w[start : start : start+c], live: c}
		start += c
	}
	it = sp.hasBM.Iterator()
	for it.HasNext() {
		off := it.Next()
		idx, val := s.sparseAt(sp, off)
		for i, d := range idx {
			p := &post[dims[d]]
			p.ids = append(p.ids, off) // within its capacity: no allocation
			p.w = append(p.w, val[i])
			p.max = max(p.max, val[i])
			sp.neg = sp.neg || val[i] < 0
		}
	}
	sp.dims, sp.post = dims, post
}

// SparseStats adds, for each dimension of dims, the number of live points
// whose vector name has it to df[i], and returns the number of live points
// with a non-empty vector name: the document frequencies of the IDF
// modifier.
func (s *Segment) SparseStats(name string, dims []uint32, df []int) (int, error) {
	sp, err := s.sparseNamed(name)
	if err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i, d := range dims {
		if j, ok := sp.dims[d]; ok {
			df[i] += sp.post[j].live
		}
	}
	return sp.nlive, nil
}

// SearchSparse returns the k live points with the highest dot product with
// q over the vector space name that match the filter, best first. Only
// points that share an index with q are scored (an empty q finds nothing).
// q is validated as Append validates sparse vectors; an index given twice
// counts twice. Options Ef and Exact do not apply.
func (s *Segment) SearchSparse(ctx context.Context, name string, q SparseVector, k int, o *SearchOptions) ([]Hit, error) {
	sp, err := s.sparseNamed(name)
	if err != nil {
		return nil, err
	}
	if err := validateSparse(name, q); err != nil {
		return nil, err
	}
	opts, err := searchOptions(ctx, k, o)
	if err != nil {
		return nil, err
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	sc.top.reset(k)
	st := SearchStats{Candidates: -1}

	s.mu.RLock()
	sc.pr.reset(s, opts.Filter)
	err = s.searchSparse(ctx, sc, sp, q, &opts, &st)
	err = cmp.Or(sc.pr.err, err)
	s.mu.RUnlock()
	if err != nil {
		sc.top.reset(k)
		return nil, err
	}
	return s.hits(nil, sc, &opts, &st, func(d float32) float32 { return -d }), nil
}

// searchSparse runs SearchSparse into sc.top (scores negated: topK keeps
// the lowest). The caller holds s.mu shared.
func (s *Segment) searchSparse(ctx context.Context, sc *scratch, sp *sparseSpace, q SparseVector, opts *SearchOptions, st *SearchStats) error {
	n := s.n.Load() // stable under mu
	if opts.Below > 0 {
		n = min(n, opts.Below)
	}
	total := int(s.nlive.Load())
	st.Estimate = total
	f := opts.Filter
	if f == nil {
		st.Plan = PlanPostings
		return s.walkPostings(ctx, sc, sp, q, n, nil, st)
	}
	ix := indexes{s}
	if sc.eval == nil {
		sc.eval = filter.NewEvaluator(ix)
	}
	chk := filter.NewChecker(f, ix, sc.eval)
	est := f.Estimate(ix, total).Exp
	st.Estimate = est
	if est > sp.spec.FullScanThreshold {
		st.Plan = PlanPostings
		// A bitset straight from the indexes, when the filter allows one,
		// costs a nanosecond per matching point; the checker costs more per
		// point scored.
		if dense, ok := filter.Dense(f, ix, int(n), sc.bits); ok {
			sc.bits = dense
			return s.walkPostings(ctx, sc, sp, q, n, func(off uint32) bool { return dense[off>>6]&(1<<(off&63)) != 0 }, st)
		}
		return s.walkPostings(ctx, sc, sp, q, n, func(off uint32) bool { return chk.Check(off, point{&sc.pr, off}) }, st)
	}
	// Selective: score the matching points directly.
	st.Plan = PlanSparseFiltered
	plan := f.Plan(ix, total, s.mu.all)
	sc.sq.Indices = append(sc.sq.Indices[:0], q.Indices...)
	sc.sq.Values = append(sc.sq.Values[:0], q.Values...)
	if !slices.IsSorted(sc.sq.Indices) {
		sortPairs(sc.sq.Indices, sc.sq.Values)
	}
	if !plan.Exact {
		// The slots are tested in ascending order: read their payloads ahead.
		c := plan.Candidates
		sc.pr.ahead = func(off uint32) bool {
			return (c == nil || c.Contains(off)) && s.liveBit(off) && s.hasBitIdx(sp.has, off)
		}
	}
	scored := 0
	score := func(off uint32) error {
		if !s.liveBit(off) || !s.hasBitIdx(sp.has, off) || !plan.Exact && !chk.Check(off, point{&sc.pr, off}) {
			return sc.pr.err
		}
		idx, val := s.sparseAt(sp, off)
		if d, ok := sparseDot(sc.sq.Indices, sc.sq.Values, idx, val); ok {
			sc.top.push(off, -d)
		}
		if scored++; scored%(ctxEvery*256) == 0 {
			return ctx.Err()
		}
		return nil
	}
	defer func() { st.Scored = scored }()
	if c := plan.Candidates; c != nil {
		st.Candidates = int(c.GetCardinality())
		it := c.Iterator()
		for it.HasNext() {
			off := it.Next()
			if off >= n {
				break
			}
			if err := score(off); err != nil {
				return err
			}
		}
		return nil
	}
	dir := s.chunks()
	for w := 0; w < (int(n)+63)>>6; w++ {
		word := liveWord(dir, w) & hasWordIdx(dir, sp.has, w)
		base := uint32(w) << 6
		if end := n - base; end < 64 {
			word &= 1<<end - 1
		}
		for word != 0 {
			off := base + uint32(bits.TrailingZeros64(word))
			word &= word - 1
			if err := score(off); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkPostings scores the live slots below n that share an index with q
// and pass match (all when nil) by walking q's posting lists, accumulating
// each slot's dot product in a per-slot accumulator and marking the slot
// in a bitset; one pass over the bitset then pushes the marked live slots
// (and leaves accumulators and bitset zeroed for the next query).
//
// Unfiltered, with positive query values and no negative stored value, it
// prunes (exactly): lists are walked shortest first, and once the k-th best
// partial score of a live slot exceeds what the lists left could add up to
// at most (their values' maxima times the query's), no slot not yet seen
// can enter the top k, so the lists left only add to the slots seen.
func (s *Segment) walkPostings(ctx context.Context, sc *scratch, sp *sparseSpace, q SparseVector, n uint32, match func(uint32) bool, st *SearchStats) error {
	if cap(sc.acc) < int(n) {
		sc.acc = make([]float32, n+n/4)
	}
	acc := sc.acc[:n]
	words := (int(n) + 63) / 64
	if cap(sc.seen) < words {
		sc.seen = make([]uint64, words+words/4)
	}
	seen := sc.seen[:words]
	dir := s.chunks()

	terms := sc.terms[:0]
	prune := match == nil && !sp.neg
	for i, d := range q.Indices {
		if j, ok := sp.dims[d]; ok {
			terms = append(terms, sparseTerm{list: j, qw: q.Values[i]})
			prune = prune && q.Values[i] > 0
		}
	}
	sc.terms = terms
	prune = prune && len(terms) > 1
	if prune {
		slices.SortFunc(terms, func(a, b sparseTerm) int {
			return cmp.Compare(len(sp.post[a.list].ids), len(sp.post[b.list].ids))
		})
		// ub of term i: the most the terms from i on can add to a slot.
		var rest float32
		for i := len(terms) - 1; i >= 0; i-- {
			rest += terms[i].qw * sp.post[terms[i].list].max
			terms[i].ub = rest
		}
	}
	var err error
	k := sc.top.k
	var done float32 // the most the terms walked can have added to a slot
	for i, tm := range terms {
		p := &sp.post[tm.list]
		ids, ws := p.ids, p.w
		if len(ids) > 0 && ids[len(ids)-1] >= n {
			end, _ := slices.BinarySearch(ids, n)
			ids = ids[:end]
		}
		ws = ws[:len(ids)]
		// A partial score is at most done: only then can the k-th exceed
		// what the terms left add at most.
		if prune && i > 0 && done > tm.ub {
			if th, ok := s.kthPartial(sc, dir, seen, acc, k); ok && th > tm.ub {
				nseen := 0
				for _, w := range seen {
					nseen += bits.OnesCount64(w)
				}
				for _, rest := range terms[i:] {
					s.addSeen(sp, rest, n, seen, nseen, acc)
				}
				st.Plan = PlanPostingsPruned
				break
			}
		}
		qw := tm.qw
		for t, off := range ids {
			acc[off] += qw * ws[t]
			seen[off>>6] |= 1 << (off & 63)
		}
		done += qw * p.max
		if err = ctx.Err(); err != nil {
			break
		}
	}
	scored := 0
	top := &sc.top
	for w, word := range seen {
		if word == 0 {
			continue
		}
		seen[w] = 0
		live := liveWord(dir, w)
		base := uint32(w) << 6
		for word != 0 {
			off := base + uint32(bits.TrailingZeros64(word))
			word &= word - 1
			a := acc[off]
			acc[off] = 0
			scored++
			if len(top.h) == top.k && -a >= top.h[0].Distance {
				continue // cannot enter the top k (the heap's check, inline)
			}
			if err == nil && live&(1<<(off&63)) != 0 && (match == nil || match(off)) {
				top.push(off, -a)
			}
		}
	}
	st.Scored = scored
	return err
}

// sparseTerm is a query term with a posting list: the list, the query's
// value, and (when pruning) the most the terms from it on can add.
type sparseTerm struct {
	list   uint32
	qw, ub float32
}

// kthPartial returns the k-th best partial score among the live slots
// seen, and false when fewer than k are seen.
func (s *Segment) kthPartial(sc *scratch, dir []*slotChunk, seen []uint64, acc []float32, k int) (float32, bool) {
	h := sc.kth[:0]
	for w, word := range seen {
		word &= liveWord(dir, w)
		base := uint32(w) << 6
		for word != 0 {
			off := base + uint32(bits.TrailingZeros64(word))
			word &= word - 1
			a := acc[off]
			switch {
			case len(h) < k:
				h = append(h, a)
				for c := len(h) - 1; c > 0; { // sift up (min-heap)
					p := (c - 1) / 2
					if h[p] <= h[c] {
						break
					}
					h[p], h[c] = h[c], h[p]
					c = p
				}
			case a > h[0]:
				h[0] = a
				for c := 0; ; { // sift down
					l, m := 2*c+1, c
					if l < len(h) && h[l] < h[m] {
						m = l
					}
					if r := l + 1; r < len(h) && h[r] < h[m] {
						m = r
					}
					if m == c {
						break
					}
					h[c], h[m] = h[m], h[c]
					c = m
				}
			}
		}
	}
	sc.kth = h
	if len(h) < k {
		return 0, false
	}
	return h[0], true
}

// addSeen adds term tm's contributions to the slots below n already seen
// (nseen of them): it finds each in the posting list by galloping from the
// last one found, or, when they are many, walks the list testing each
// entry's bit.
func (s *Segment) addSeen(sp *sparseSpace, tm sparseTerm, n uint32, seen []uint64, nseen int, acc []float32) {
	p := &sp.post[tm.list]
	ids, ws := p.ids, p.w
	if nseen*8 >= len(ids) {
		for t, off := range ids {
			if off >= n {
				return
			}
			if seen[off>>6]&(1<<(off&63)) != 0 {
				acc[off] += tm.qw * ws[t]
			}
		}
		return
	}
	pos := 0
	for w, word := range seen {
		base := uint32(w) << 6
		for word != 0 {
			off := base + uint32(bits.TrailingZeros64(word))
			word &= word - 1
			if off >= n {
				return
			}
			// Gallop to the first entry at or after pos with an id of at
			// least off: entries before lo are below off, and so is lo's
			// unless lo is pos.
			lo, step := pos, 1
			for lo+step < len(ids) && ids[lo+step] < off {
				lo += step
				step *= 2
			}
			j, found := slices.BinarySearch(ids[lo:min(lo+step+1, len(ids))], off)
			pos = lo + j
			if pos == len(ids) {
				return
			}
			if found {
				acc[off] += tm.qw * ws[pos]
			}
		}
	}
}

// SparseDot returns the dot product of sparse vectors sorted by index, and
// whether they share an index.
func SparseDot(a, b SparseVector) (float32, bool) {
	return sparseDot(a.Indices, a.Values, b.Indices, b.Values)
}

// sparseDot returns the dot product of the sparse vectors (qi, qv) and
// (idx, val), both sorted by index, and whether they share an index. An
// index twice in qi counts twice.
func sparseDot(qi []uint32, qv []float32, idx []uint32, val []float32) (float32, bool) {
	var sum float32
	shared := false
	i, j := 0, 0
	for i < len(qi) && j < len(idx) {
		switch a, b := qi[i], idx[j]; {
		case a < b:
			i++
		case a > b:
			j++
		default:
			sum += qv[i] * val[j]
			shared = true
			i++
		}
	}
	return sum, shared
}

// sparseMemory returns the bytes sp holds: storage pages, the slot
// references (in the slot chunks), posting lists and the dimension map. The
// caller holds mu shared.
func (s *Segment) sparseMemory(sp *sparseSpace) int64 {
	var m int64
	for _, pg := range *sp.pages.Load() {
		m += int64(cap(pg.idx))*4 + int64(cap(pg.val))*4
	}
	m += int64(len(s.chunks())) * chunkSlots * int64(unsafe.Sizeof(sparseRef{}))
	for _, p := range sp.post {
		m += int64(cap(p.ids))*4 + int64(cap(p.w))*4
	}
	m += int64(cap(sp.post)) * int64(unsafe.Sizeof(posting{}))
	// A Go map spends about twice its entries' size.
	m += int64(len(sp.dims)) * 2 * 8
	m += int64(sp.hasBM.GetSizeInBytes())
	return m
}

// checkSparse verifies each sparse vector's presence bitmap and document
// frequencies against the live slots' stored vectors, and that every live
// slot's dimensions are in their posting lists. The caller holds mu.
func (s *Segment) checkSparse(live *roaring.Bitmap) error {
	for _, sp := range s.sparse {
		has := roaring.New()
		nlive := 0
		df := map[uint32]int{}
		it := live.Iterator()
		for it.HasNext() {
			off := it.Next()
			if !s.hasBitIdx(sp.has, off) {
				continue
			}
			has.Add(off)
			idx, _ := s.sparseAt(sp, off)
			if len(idx) > 0 {
				nlive++
			}
			for _, d := range idx {
				df[d]++
			}
		}
		if !has.Equals(sp.hasBM) {
			return fmt.Errorf("segment: sparse vector %q: presence bitmap holds %d slots, the live slots with it are %d",
				sp.spec.Name, sp.hasBM.GetCardinality(), has.GetCardinality())
		}
		if nlive != sp.nlive {
			return fmt.Errorf("segment: sparse vector %q: %d live non-empty vectors counted, %d found", sp.spec.Name, sp.nlive, nlive)
		}
		for d, j := range sp.dims {
			if got := sp.post[j].live; got != df[d] {
				return fmt.Errorf("segment: sparse vector %q: dimension %d counts %d live points, %d have it", sp.spec.Name, d, got, df[d])
			}
			if !slices.IsSorted(sp.post[j].ids) {
				return fmt.Errorf("segment: sparse vector %q: posting list of dimension %d is not sorted", sp.spec.Name, d)
			}
		}
		for d, n := range df {
			if _, ok := sp.dims[d]; !ok && n > 0 {
				return fmt.Errorf("segment: sparse vector %q: dimension %d of live points has no posting list", sp.spec.Name, d)
			}
		}
	}
	return nil
}
