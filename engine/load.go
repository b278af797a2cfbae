package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// openCollection loads a collection from the store: its field index
// definitions, its sealed segments (graphs loaded, not rebuilt), and an
// appendable segment holding every point no sealed segment holds.
func openCollection(db *DB, name string, cid uint32, cfg CollectionConfig) (_ *collection, retErr error) {
	c := &collection{db: db, name: name, cid: cid, fields: map[string]payload.IndexParams{}}
	c.cfg.Store(&cfg)
	store := db.store

	if v, err := readAll(store, opKey(cid)); err != nil {
		return nil, err
	} else if len(v) == 8 {
		c.op = binary.LittleEndian.Uint64(v)
		c.lastOp.Store(c.op)
	}
	if err := c.loadFields(); err != nil {
		return nil, err
	}
	mv, err := readAll(store, manifestKey(cid))
	if err != nil {
		return nil, err
	}
	if mv != nil {
		if c.manifest, err = decodeManifest(mv); err != nil {
			return nil, err
		}
	}
	if err := c.dropOrphans(); err != nil {
		return nil, err
	}
	if err := c.dropOrphanFiles(); err != nil {
		return nil, err
	}
	// A collection that fails below releases the files it mapped.
	var opened []*fileMap
	defer func() {
		if retErr != nil {
			for _, m := range opened {
				m.release()
			}
		}
	}()

	// Sealed segments: reserve their slots.
	type slotRef struct {
		ref *segRef
		off uint32
		ver uint64
	}
	holders := map[PointID][]slotRef{}
	var sealed []*segRef
	graphs := map[*segRef]map[string][]byte{}
	// graphsInPlace are the graphs in segment files, mapped: searched in
	// place, not loaded.
	graphsInPlace := map[*segRef]map[string][]byte{}
	for _, ms := range c.manifest.segs {
		parts, err := c.readArtefact(ms)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", ms.id, err)
		}
		names, err := parseArtefactHeader(parts['h'], ms.slots)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", ms.id, err)
		}
		if !slices.Equal(names, c.vectorNames()) {
			return nil, fmt.Errorf("%w: segment %d: vector names %q, collection has %q", ErrCorrupt, ms.id, names, c.vectorNames())
		}
		ids, vers, err := parseArtefactIDs(parts['i'], int(ms.slots))
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", ms.id, err)
		}
		// Vectors kept in segment files are read in place, not loaded.
		rows, maps, err := c.openVectorFiles(ms.id, int(ms.slots), ms.files, true)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", ms.id, err)
		}
		opened = append(opened, maps...)
		inPlace, gmaps, err := c.openGraphFiles(ms.id, int(ms.slots), ms.files, true)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", ms.id, err)
		}
		opened = append(opened, gmaps...)
		maps = append(maps, gmaps...)
		opts := c.segOptions(max(int(ms.slots), 1))
		opts.Rows = rows
		seg, err := segment.NewLoading(opts, ids, vers)
		if err != nil {
			return nil, err
		}
		ref := &segRef{id: ms.id, seg: seg}
		ref.useMaps(maps)
		qmaps, err := c.openQuantFiles(ref, ms.files, true)
		if err != nil {
			return nil, fmt.Errorf("segment %d: %w", ms.id, err)
		}
		opened = append(opened, qmaps...)
		ref.useMaps(qmaps)
		files := ms.files
		ref.files.Store(&files)
		ref.persisted.Store(true)
		sealed = append(sealed, ref)
		g := map[string][]byte{}
		for i, n := range names {
			if data, ok := parts[byte('G')+byte(i)]; ok {
				g[n] = data
			}
		}
		graphs[ref] = g
		graphsInPlace[ref] = inPlace
		for off, id := range ids {
			holders[id] = append(holders[id], slotRef{ref, uint32(off), vers[off]})
		}
	}
	filled := map[*segRef][]bool{}
	for _, ref := range sealed {
		filled[ref] = make([]bool, ref.seg.Len())
	}

	app, err := c.newAppendable()
	if err != nil {
		return nil, err
	}
	c.segs = append(sealed, app)

	// Points: into the sealed slot holding their version, else appended.
	// One goroutine reads the store (decompressing blocks) while this one
	// decodes records and places them.
	// A point whose version a sealed segment holds with every vector in
	// segment files needs no vector record: it is not read.
	allMapped := map[*segRef]bool{}
	for _, ref := range sealed {
		all := len(c.vectorNames()) > 0
		for i := range c.vectorNames() {
			all = all && ref.hasVectorFile(i)
		}
		allMapped[ref] = all
	}
	skip := func(key, rec []byte) bool {
		if len(rec) < 9 {
			return false // decoding reports it
		}
		id, rest, err := decodeIDKey(key)
		if err != nil || len(rest) != 0 {
			return false
		}
		op := binary.LittleEndian.Uint64(rec[1:])
		for _, h := range holders[id] {
			if h.ver == op {
				return allMapped[h.ref]
			}
		}
		return false
	}
	batches, done, readErr := c.readPoints(cid, skip)
	var rec record
	var failed error
	for b := range batches {
		if failed != nil {
			done <- b
			continue // drain
		}
		for i := 0; i+2 < len(b.ends); i += 3 {
			start := 0
			if i > 0 {
				start = b.ends[i-1]
			}
			key, val, vec := b.buf[start:b.ends[i]], b.buf[b.ends[i]:b.ends[i+1]], b.buf[b.ends[i+1]:b.ends[i+2]]
			if len(vec) == 0 {
				vec = nil
			}
			id, rest, err := decodeIDKey(key)
			if err == nil && len(rest) != 0 {
				err = fmt.Errorf("%w: point key %x", ErrCorrupt, key)
			}
			if err == nil {
				err = decodeRecordInto(&rec, val, vec)
			}
			if err != nil {
				failed = fmt.Errorf("point %s: %w", id, err)
				break
			}
			placed := false
			for _, h := range holders[id] {
				if h.ver == rec.op {
					if err := h.ref.seg.Fill(h.off, rec.vectors, rec.sparse, rec.payload, true); err != nil {
						failed = fmt.Errorf("point %s: %w", id, err)
						break
					}
					filled[h.ref][h.off] = true
					placed = true
					break
				}
			}
			if failed == nil && !placed {
				if err := c.appendLocked(id, &rec); err != nil {
					failed = fmt.Errorf("point %s: %w", id, err)
				}
			}
			if failed != nil {
				break
			}
		}
		done <- b
	}
	if err := errors.Join(failed, <-readErr); err != nil {
		return nil, err
	}

	// Masked slots take their vectors from ghosts; then graphs go in.
	for _, ref := range sealed {
		for off, ok := range filled[ref] {
			if ok {
				continue
			}
			var vecs map[string][]float32
			gv, err := readAll(store, ghostKey(cid, ref.id, uint32(off)))
			if err != nil {
				return nil, err
			}
			if gv != nil {
				if vecs, err = decodeGhost(gv); err != nil {
					return nil, fmt.Errorf("segment %d slot %d: %w", ref.id, off, err)
				}
			}
			if err := ref.seg.Fill(uint32(off), vecs, nil, payload.NullValue(), false); err != nil {
				return nil, err
			}
		}
		for name, data := range graphs[ref] {
			if err := ref.seg.LoadGraph(name, bytes.NewReader(data)); err != nil {
				return nil, fmt.Errorf("segment %d graph %q: %w", ref.id, name, err)
			}
		}
		for name, data := range graphsInPlace[ref] {
			// The file's CRC was checked at open: its links need no
			// second pass.
			if err := ref.seg.LoadGraphInPlace(name, data, true); err != nil {
				return nil, fmt.Errorf("segment %d graph %q: %w", ref.id, name, err)
			}
		}
		ref.seg.Seal()
		for key, p := range c.fields {
			if err := ref.seg.CreateFieldIndex(key, p); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// pointBatch is a run of points copied out of the store: per point its id
// key, its point record and its vector record (empty when it has none), back
// to back in buf; ends[3i], ends[3i+1] and ends[3i+2] are the ends of those
// of point i.
type pointBatch struct {
	buf  []byte
	ends []int
}

// pointBatches is the number of batches readPoints allocates: one being
// filled, the rest sent or being placed.
const pointBatches = 4

// readPoints reads every point of collection cid (its point and vector
// records) on its own goroutine, in key order, and sends them in batches of about 4 MiB; the error channel gets
// one value when it is done. The reader gets each batch back on the done
// channel once it no longer needs it (at the latest before taking the
// next): the batches are reused, so that a load makes no garbage in
// proportion to the data and the heap grows by what it keeps.
func (c *collection) readPoints(cid uint32, skip func(key, rec []byte) bool) (<-chan pointBatch, chan<- pointBatch, <-chan error) {
	out := make(chan pointBatch, pointBatches-2)
	done := make(chan pointBatch, pointBatches)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		it, err := newPointIter(c.db.store, cid)
		if err != nil {
			errc <- err
			return
		}
		it.skip = skip
		const size = 4 << 20
		made := 1
		b := pointBatch{buf: make([]byte, 0, size)}
		next := func() pointBatch {
			select {
			case r := <-done:
				return pointBatch{buf: r.buf[:0], ends: r.ends[:0]}
			default:
			}
			if made < pointBatches {
				made++
				return pointBatch{buf: make([]byte, 0, size)}
			}
			r := <-done
			return pointBatch{buf: r.buf[:0], ends: r.ends[:0]}
		}
		for ok := it.First(); ok; ok = it.Next() {
			val, err := it.Value()
			if err != nil {
				it.Close()
				errc <- err
				return
			}
			b.buf = append(b.buf, it.Key()...)
			b.ends = append(b.ends, len(b.buf))
			b.buf = append(b.buf, val...)
			b.ends = append(b.ends, len(b.buf))
			if v := it.Vectors(); v != nil {
				b.buf = append(b.buf, v...)
				c.loadedVectorRecords.Add(1)
			}
			b.ends = append(b.ends, len(b.buf))
			if len(b.buf) >= size {
				out <- b
				b = next()
			}
		}
		if len(b.ends) > 0 {
			out <- b
		}
		errc <- it.Close()
	}()
	return out, done, errc
}

// newAppendableFor returns an empty appendable segment with id segID.
func (c *collection) newAppendableFor(segID uint32) (*segRef, error) {
	seg, err := segment.New(c.segOptions(c.segmentCapacity()))
	if err != nil {
		return nil, err
	}
	for key, p := range c.fields {
		if err := seg.CreateFieldIndex(key, p); err != nil {
			return nil, err
		}
	}
	return &segRef{id: segID, seg: seg}, nil
}

// loadFields reads the field index definitions.
func (c *collection) loadFields() error {
	prefix := famPrefix(c.cid, famIndex)
	it, err := c.db.store.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		key := string(it.Key()[len(prefix):])
		v := it.Value()
		if len(v) < 1 || v[0] != 1 {
			return fmt.Errorf("%w: field index %q: unknown version", ErrCorrupt, key)
		}
		var p payload.IndexParams
		if err := json.Unmarshal(v[1:], &p); err != nil {
			return fmt.Errorf("%w: field index %q: %w", ErrCorrupt, key, err)
		}
		c.fields[key] = p
	}
	return nil
}

// dropOrphans deletes artefacts and ghosts of segments the manifest does
// not name: the remains of a seal or vacuum that did not commit.
func (c *collection) dropOrphans() error {
	known := map[uint32]bool{}
	for _, s := range c.manifest.segs {
		known[s.id] = true
	}
	b := c.db.store.NewBatch()
	defer b.Close()
	for _, fam := range []byte{famArtefact, famGhost} {
		prefix := famPrefix(c.cid, fam)
		it, err := c.db.store.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
		if err != nil {
			return err
		}
		for it.First(); it.Valid(); {
			k := it.Key()[len(prefix):]
			if len(k) < 4 {
				it.Close()
				return fmt.Errorf("%w: segment key %x", ErrCorrupt, it.Key())
			}
			segID := binary.BigEndian.Uint32(k)
			p := binary.BigEndian.AppendUint32(slices.Clone(prefix), segID)
			if !known[segID] {
				if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
					it.Close()
					return err
				}
			}
			it.SeekGE(prefixEnd(p))
		}
		if err := it.Close(); err != nil {
			return err
		}
	}
	if b.Empty() {
		return nil
	}
	return c.db.commit(b, pebble.Sync, false)
}

// maxPartPrealloc bounds the buffer readArtefact reserves for a part from
// its stored length.
const maxPartPrealloc = 64 << 20

// readArtefact reads and checks every part of a sealed segment.
func (c *collection) readArtefact(ms manifestSeg) (map[byte][]byte, error) {
	parts := map[byte][]byte{}
	for _, p := range ms.parts {
		// The stored length sizes at most maxPartPrealloc ahead of the
		// data; a longer part grows as it is read.
		data := make([]byte, 0, min(p.length, maxPartPrealloc))
		lo := artefactKey(c.cid, ms.id, p.part, 0)
		hi := prefixEnd(artefactKey(c.cid, ms.id, p.part, 0)[:len(lo)-4])
		it, err := c.db.store.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return nil, err
		}
		want := uint32(0)
		for it.First(); it.Valid(); it.Next() {
			if binary.BigEndian.Uint32(it.Key()[len(it.Key())-4:]) != want {
				it.Close()
				return nil, fmt.Errorf("%w: part %q: chunk %d missing", ErrCorrupt, p.part, want)
			}
			want++
			data = append(data, it.Value()...)
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
		if uint64(len(data)) != p.length || crc(data) != p.crc {
			return nil, fmt.Errorf("%w: part %q: length or checksum mismatch", ErrCorrupt, p.part)
		}
		parts[p.part] = data
	}
	for _, need := range []byte{'h', 'i'} {
		if _, ok := parts[need]; !ok {
			return nil, fmt.Errorf("%w: part %q missing", ErrCorrupt, need)
		}
	}
	return parts, nil
}

func parseArtefactHeader(b []byte, slots uint32) ([]string, error) {
	bad := fmt.Errorf("%w: segment header", ErrCorrupt)
	if len(b) < 12 || string(b[:4]) != "QLSG" || binary.LittleEndian.Uint32(b[4:]) != 1 ||
		binary.LittleEndian.Uint32(b[8:]) != slots {
		return nil, bad
	}
	b = b[12:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, bad
	}
	b = b[k:]
	names := make([]string, 0, n)
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, bad
		}
		names = append(names, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, bad
	}
	return names, nil
}

// idRecordMin is the shortest record of the 'i' part: a numeric id key and
// a version.
const idRecordMin = 9 + 8

func parseArtefactIDs(b []byte, slots int) ([]filter.PointID, []uint64, error) {
	// The manifest's slot count sizes nothing before the part confirms it.
	if slots < 0 || slots > len(b)/idRecordMin {
		return nil, nil, fmt.Errorf("%w: segment ids: %d bytes cannot hold %d slots", ErrCorrupt, len(b), slots)
	}
	ids := make([]filter.PointID, 0, slots)
	vers := make([]uint64, 0, slots)
	for len(b) > 0 {
		id, rest, err := decodeIDKey(b)
		if err != nil {
			return nil, nil, err
		}
		if len(rest) < 8 {
			return nil, nil, fmt.Errorf("%w: segment ids: truncated", ErrCorrupt)
		}
		ids = append(ids, id)
		vers = append(vers, binary.LittleEndian.Uint64(rest))
		b = rest[8:]
	}
	if len(ids) != slots {
		return nil, nil, fmt.Errorf("%w: segment ids: %d, want %d", ErrCorrupt, len(ids), slots)
	}
	return ids, vers, nil
}
