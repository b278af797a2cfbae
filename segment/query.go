package segment

import (
	"math/bits"

	"github.com/qlite/qlite/filter"
)

// matchChunk is the number of matching slots Match collects under the lock
// before calling fn without it.
const matchChunk = 256

// Count returns the number of live points f matches (every live point when
// f is nil). It fails only when the PayloadSource does.
func (s *Segment) Count(f *filter.Filter) (int, error) {
	if f == nil {
		return s.Live(), nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.matcher(f)
	defer m.release()
	if m.plan.Exact {
		if m.plan.Candidates == nil {
			return int(s.nlive.Load()), nil
		}
		return int(m.plan.Candidates.AndCardinality(s.mu.all)), nil
	}
	count := 0
	m.each(0, func(uint32) bool { count++; return true })
	if err := m.sc.pr.err; err != nil {
		return 0, err
	}
	return count, nil
}

// Match calls fn for each live slot f matches (every live slot when f is
// nil), in ascending order, until fn returns false. Slots appended after
// the call began are not visited, and a slot deleted before fn would be
// called for it is skipped. fn runs without the segment's locks held, so
// it may call any method of the segment. It fails only when the
// PayloadSource does, before calling fn for any slot past the one whose
// payload it could not read.
func (s *Segment) Match(f *filter.Filter, fn func(off uint32) bool) error {
	s.mu.RLock()
	m := s.matcher(f)
	s.mu.RUnlock()
	defer m.release()
	buf := make([]uint32, 0, matchChunk)
	from := uint32(0)
	for from < m.n {
		buf = buf[:0]
		s.mu.RLock()
		next := m.each(from, func(off uint32) bool {
			buf = append(buf, off)
			return len(buf) < matchChunk
		})
		s.mu.RUnlock()
		if err := m.sc.pr.err; err != nil {
			return err
		}
		for _, off := range buf {
			if s.liveBit(off) && !fn(off) {
				return nil
			}
		}
		if len(buf) < matchChunk {
			return nil
		}
		from = next
	}
	return nil
}

// Matches reports whether slot off is live and f matches it (any live slot
// when f is nil). It fails only when the PayloadSource does.
func (s *Segment) Matches(f *filter.Filter, off uint32) (bool, error) {
	if !s.IsLive(off) {
		return false, nil
	}
	if f == nil {
		return true, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.liveBit(off) {
		return false, nil
	}
	sc := s.getScratch()
	defer s.putScratch(sc)
	if sc.eval == nil {
		sc.eval = filter.NewEvaluator(indexes{s})
	}
	sc.pr.reset(s, f)
	ok := sc.eval.Matches(f, point{&sc.pr, off})
	return ok && sc.pr.err == nil, sc.pr.err
}

// matcher is one filter planned against the segment, for Count and Match.
type matcher struct {
	s    *Segment
	n    uint32
	plan *filter.Plan
	chk  *filter.Checker
	sc   *scratch
}

// matcher plans f (nil: every live slot). The caller holds s.mu shared.
func (s *Segment) matcher(f *filter.Filter) *matcher {
	m := &matcher{s: s, n: s.n.Load(), sc: s.getScratch()}
	ix := indexes{s}
	if m.sc.eval == nil {
		m.sc.eval = filter.NewEvaluator(ix)
	}
	m.plan = f.Plan(ix, int(s.nlive.Load()), s.mu.all)
	m.sc.pr.reset(s, f)
	if !m.plan.Exact {
		m.chk = filter.NewChecker(f, ix, m.sc.eval)
		// each tests slots in ascending order: read their payloads ahead.
		if c := m.plan.Candidates; c != nil {
			m.sc.pr.ahead = func(off uint32) bool { return c.Contains(off) && s.liveBit(off) }
		} else {
			m.sc.pr.ahead = s.liveBit
		}
	}
	return m
}

func (m *matcher) release() { m.s.putScratch(m.sc) }

// each calls fn for the live matching slots from from on, below m.n, in
// ascending order, until fn returns false, and returns the slot after the
// last one it passed to fn (m.n when it ran out). The caller holds s.mu
// shared.
func (m *matcher) each(from uint32, fn func(off uint32) bool) uint32 {
	s, pr := m.s, &m.sc.pr
	test := func(off uint32) bool {
		return s.liveBit(off) && (m.chk == nil || m.chk.Check(off, point{pr, off}))
	}
	if c := m.plan.Candidates; c != nil {
		it := c.Iterator()
		it.AdvanceIfNeeded(from)
		for it.HasNext() {
			off := it.Next()
			if off >= m.n {
				break
			}
			if test(off) && !fn(off) {
				return off + 1
			}
		}
		return m.n
	}
	dir := s.chunks()
	for w := int(from >> 6); w < (int(m.n)+63)>>6; w++ {
		word := liveWord(dir, w)
		base := uint32(w) << 6
		if base < from {
			word &^= 1<<(from-base) - 1
		}
		if end := m.n - base; end < 64 {
			word &= 1<<end - 1
		}
		for word != 0 {
			off := base + uint32(bits.TrailingZeros64(word))
			word &= word - 1
			if (m.chk == nil || m.chk.Check(off, point{pr, off})) && !fn(off) {
				return off + 1
			}
		}
	}
	return m.n
}
