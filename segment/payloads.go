package segment

import (
	"fmt"
	"slices"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// PayloadSource reads the payloads of point versions for a segment that
// keeps none (Options.Payloads). Versions are immutable, so a source may
// cache what it returns. A version the source no longer holds (replaced or
// deleted since; the slot is masked, or is about to be) reads as ok false,
// or null. Implementations are safe for concurrent use and must not call
// back into the segment.
type PayloadSource interface {
	// LoadPayload returns the whole payload of one version: the point
	// lookups of results.
	LoadPayload(id filter.PointID, version uint64) (p payload.Value, ok bool, err error)
	// LoadPayloads sets dst[i] to the payload of refs[i], or null when the
	// source no longer holds that version; dst is as long as refs. With
	// keys set, only the top-level fields named in keys need be present
	// (others may be): what a filter reads of many payloads in a scan.
	LoadPayloads(refs []PayloadRef, keys []string, dst []payload.Value) error
}

// PayloadRef names a point version whose payload to read.
type PayloadRef struct {
	ID      filter.PointID
	Version uint64
}

// Payloads reads the payloads of slots offs (each below Len; ascending
// reads fastest) into dst, which is as long as offs, as Payload does: with
// a PayloadSource, in one LoadPayloads call rather than one read each.
func (s *Segment) Payloads(offs []uint32, dst []payload.Value) error {
	if len(dst) != len(offs) {
		return fmt.Errorf("qlite: %d payloads for %d slots", len(dst), len(offs))
	}
	for _, off := range offs {
		s.checkSlot(off)
	}
	if s.src == nil {
		for i, off := range offs {
			dst[i] = s.heldPayload(off)
		}
		return nil
	}
	refs := make([]PayloadRef, len(offs))
	for i, off := range offs {
		ch := s.chunk(off)
		refs[i] = PayloadRef{ch.ids[off&chunkMask], ch.versions[off&chunkMask]}
	}
	clear(dst)
	return s.src.LoadPayloads(refs, nil, dst)
}

// readAhead is the number of slots whose payloads a scan asks its
// PayloadSource for in one LoadPayloads call, and readAheadSpan bounds how
// far past the slot asked for it looks for them.
const (
	readAhead     = 1024
	readAheadSpan = 64 * readAhead
)

// payloadReader reads the payloads a filter evaluation needs. With a
// PayloadSource, a scan that tests slots in ascending order sets ahead:
// asked for a slot it has not read, the reader then fetches in one batch
// that slot and the next ones ahead accepts (those the scan will test),
// only the top-level keys the filter reads. Without ahead (graph searches,
// which visit slots in no order) each slot is one point read, through the
// source's cache. The first error is kept in err, and reads after it give
// null: the caller returns err once its evaluation is done.
type payloadReader struct {
	s     *Segment
	keys  []string
	ahead func(off uint32) bool
	err   error

	// The batch last fetched: slots in ascending order and their payloads.
	offs []uint32
	vals []payload.Value
	refs []PayloadRef
}

// reset prepares r for a filter evaluation on s of f.
func (r *payloadReader) reset(s *Segment, f *filter.Filter) {
	r.s, r.ahead, r.err = s, nil, nil
	r.keys = f.PayloadKeys(r.keys[:0])
	r.offs = r.offs[:0]
	clear(r.vals)
	r.vals = r.vals[:0]
}

// release drops what r holds of its last evaluation.
func (r *payloadReader) release() {
	r.s, r.ahead, r.err = nil, nil, nil
	r.offs = r.offs[:0]
	clear(r.vals)
	clear(r.refs)
	// Emptied, so that the next query does not clear them again.
	r.vals, r.refs = r.vals[:0], r.refs[:0]
}

// payload returns the payload of slot off.
func (r *payloadReader) payload(off uint32) payload.Value {
	s := r.s
	if s.src == nil {
		return s.heldPayload(off)
	}
	if r.err != nil {
		return payload.Value{}
	}
	if i, ok := slices.BinarySearch(r.offs, off); ok {
		return r.vals[i]
	}
	if r.ahead == nil {
		p, err := s.loadPayload(off)
		r.err = err
		return p
	}
	offs := append(r.offs[:0], off)
	end := min(s.n.Load(), off+readAheadSpan)
	for o := off + 1; o < end && len(offs) < readAhead; o++ {
		if r.ahead(o) {
			offs = append(offs, o)
		}
	}
	r.fetch(offs)
	if r.err != nil {
		return payload.Value{}
	}
	return r.vals[0]
}

// fetch reads the payloads of offs, which ascend, in one batch.
func (r *payloadReader) fetch(offs []uint32) {
	r.offs = offs
	r.refs = r.refs[:0]
	for _, off := range offs {
		ch := r.s.chunk(off)
		r.refs = append(r.refs, PayloadRef{ch.ids[off&chunkMask], ch.versions[off&chunkMask]})
	}
	r.vals = slices.Grow(r.vals[:0], len(offs))[:len(offs)]
	clear(r.vals)
	if err := r.s.src.LoadPayloads(r.refs, r.keys, r.vals); err != nil {
		r.err = err
		r.offs = r.offs[:0]
	}
}
