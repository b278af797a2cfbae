package engine

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// pointIter walks the point records of a collection in key order together
// with their vector records: the two families are in the same point-key
// order, so one step of each suffices. A vector record without a point
// record is corruption, which Error reports.
type pointIter struct {
	p, v             *pebble.Iterator
	pPrefix, vPrefix []byte
	vValid           bool
	// vUsed is set when vec is the vector iterator's current value: it
	// moves on at the next step, which keeps vec valid until then.
	vUsed bool
	vec   []byte
	err   error
	// skip, when set, is asked for each point (its id key and point
	// record) whether its vector record is needed; for a point it says
	// false for, the vector iterator is not moved (no vector bytes are
	// read) and Vectors returns nil. The vector iterator catches up with
	// a seek at the next point that needs it (a vector record of no point
	// between the two is then not seen).
	skip func(key, rec []byte) bool
	// vStale is set when points were skipped since the vector iterator
	// last moved.
	vStale bool
}

// newPointIter returns an iterator over the points of collection cid in r
// (the store or a snapshot of it), unpositioned.
func newPointIter(r pebble.Reader, cid uint32) (*pointIter, error) {
	it := &pointIter{pPrefix: famPrefix(cid, famPoint), vPrefix: famPrefix(cid, famVectors)}
	var err error
	if it.p, err = r.NewIter(&pebble.IterOptions{LowerBound: it.pPrefix, UpperBound: prefixEnd(it.pPrefix)}); err != nil {
		return nil, err
	}
	if it.v, err = r.NewIter(&pebble.IterOptions{LowerBound: it.vPrefix, UpperBound: prefixEnd(it.vPrefix)}); err != nil {
		it.p.Close()
		return nil, err
	}
	return it, nil
}

// First moves to the first point and reports whether there is one.
func (it *pointIter) First() bool {
	it.vValid, it.vUsed = it.v.First(), false
	return it.settle(it.p.First())
}

// Next moves to the next point and reports whether there is one.
func (it *pointIter) Next() bool { return it.settle(it.p.Next()) }

// settle moves the vector iterator to the point the point iterator is at
// (valid), or past the end.
func (it *pointIter) settle(valid bool) bool {
	it.vec = nil
	if it.err != nil {
		return false
	}
	if it.vUsed {
		it.vValid, it.vUsed = it.v.Next(), false
	}
	if !valid {
		if it.vValid && !it.vStale {
			it.err = fmt.Errorf("%w: vector record %x of no point", ErrCorrupt, it.v.Key())
		}
		return false
	}
	key := it.Key()
	if it.skip != nil {
		rec, err := it.p.ValueAndErr()
		if err != nil {
			it.err = err
			return false
		}
		if it.skip(key, rec) {
			it.vStale = true
			return true
		}
		if it.vStale {
			it.vStale = false
			it.vValid = it.v.SeekGE(append(it.vPrefix[:len(it.vPrefix):len(it.vPrefix)], key...))
		}
	}
	for it.vValid {
		switch c := bytes.Compare(it.v.Key()[len(it.vPrefix):], key); {
		case c < 0:
			it.err = fmt.Errorf("%w: vector record %x of no point", ErrCorrupt, it.v.Key())
			return false
		case c == 0:
			if it.vec, it.err = it.v.ValueAndErr(); it.err != nil {
				return false
			}
			it.vUsed = true
			return true
		default:
			return true
		}
	}
	return true
}

// Key returns the point id key of the current point (after the family
// prefix), valid until the next move.
func (it *pointIter) Key() []byte { return it.p.Key()[len(it.pPrefix):] }

// Value returns the point record of the current point, valid until the
// next move.
func (it *pointIter) Value() ([]byte, error) { return it.p.ValueAndErr() }

// Vectors returns the vector record of the current point, nil when it has
// none, valid until the next move.
func (it *pointIter) Vectors() []byte { return it.vec }

// Error returns the error that stopped the iteration, if any.
func (it *pointIter) Error() error { return errors.Join(it.err, it.p.Error(), it.v.Error()) }

// Close closes the iterator and returns the error that stopped it, if any.
func (it *pointIter) Close() error {
	return errors.Join(it.err, it.p.Close(), it.v.Close())
}
