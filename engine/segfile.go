package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/qlite/qlite/segment"
)

// Segment files (FORMAT.md, "Segment files"): parts of a sealed segment
// kept as files of their own beside the store, so that they can be used in
// place through a read-only memory mapping. A file is written by the
// optimizer before the manifest that names it commits, and deleted once a
// manifest that no longer names it has.

const (
	segFileMagic   = "QLSF"
	segFileVersion = 1
	// segFileDataOff is where a file's data starts: a page boundary, so
	// that a mapping of the file has its data page-aligned (and so aligned
	// for the distance kernels).
	segFileDataOff = 4096
	// segFileHeadLen is the length of the header's fields, crc included.
	segFileHeadLen = 44
	// segFileDir is the directory of segment files under the database
	// directory; each collection has a subdirectory named by its cid.
	segFileDir = "segments"
)

// Kinds of segment file.
const (
	// fileVectors holds the dense vectors of one vector name: every slot's
	// row, then the presence bits (segment.Rows, segment.WriteRows).
	fileVectors byte = 'v'
)

// fileInfo names one segment file in the manifest.
type fileInfo struct {
	kind byte
	// index is the index of the vector name the file belongs to, among
	// the collection's vector names in sorted order.
	index  uint32
	length uint64 // bytes of the whole file
	crc    uint32 // CRC-32C of the whole file
}

// segFileHeader is the header of a segment file. a and b are the kind's
// parameters: for fileVectors, the dimension and the number of rows.
type segFileHeader struct {
	kind    byte
	a, b    uint32
	c       uint32 // v: the datatype (segment.Datatype); zero elsewhere
	dataLen uint64
}

func (h segFileHeader) encode() []byte {
	b := make([]byte, segFileDataOff)
	copy(b, segFileMagic)
	binary.LittleEndian.PutUint32(b[4:], segFileVersion)
	b[8] = h.kind
	binary.LittleEndian.PutUint32(b[12:], h.a)
	binary.LittleEndian.PutUint32(b[16:], h.b)
	binary.LittleEndian.PutUint32(b[20:], h.c)
	binary.LittleEndian.PutUint64(b[24:], segFileDataOff)
	binary.LittleEndian.PutUint64(b[32:], h.dataLen)
	binary.LittleEndian.PutUint32(b[40:], crc(b[:40]))
	return b
}

func decodeSegFileHeader(b []byte) (segFileHeader, error) {
	var h segFileHeader
	if len(b) < segFileHeadLen || string(b[:4]) != segFileMagic {
		return h, errors.New("not a segment file")
	}
	if crc(b[:40]) != binary.LittleEndian.Uint32(b[40:]) {
		return h, errors.New("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != segFileVersion {
		return h, fmt.Errorf("version %d, this build reads %d", v, segFileVersion)
	}
	if off := binary.LittleEndian.Uint64(b[24:]); off != segFileDataOff {
		return h, fmt.Errorf("data offset %d", off)
	}
	h.kind = b[8]
	h.a = binary.LittleEndian.Uint32(b[12:])
	h.b = binary.LittleEndian.Uint32(b[16:])
	h.c = binary.LittleEndian.Uint32(b[20:])
	h.dataLen = binary.LittleEndian.Uint64(b[32:])
	return h, nil
}

// segFilesDir returns the directory of collection cid's segment files.
func (db *DB) segFilesDir(cid uint32) string {
	return filepath.Join(db.dir, segFileDir, strconv.FormatUint(uint64(cid), 10))
}

// segFileName returns the name of a segment file: segid, a dash, the kind
// and the index, as "12-v0".
func segFileName(segID uint32, f fileInfo) string {
	return fmt.Sprintf("%d-%c%d", segID, f.kind, f.index)
}

// segFileTmp ends the name of a file being written.
const segFileTmp = ".tmp"

// noSpace wraps a file system's "no space left" as ErrNoSpace.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: writing a segment file: %w", ErrNoSpace, err)
	}
	return err
}

// writeSegFile writes a segment file: the header, then exactly h.dataLen
// bytes from body. It writes a temporary file, syncs it, renames it into
// place and syncs the directory, so that the file is whole under its name
// or absent; on error nothing is left behind.
func (db *DB) writeSegFile(dir, name string, kind byte, index uint32, h segFileHeader, body func(io.Writer) error) (fi fileInfo, err error) {
	fs := db.opts.fs
	if err := db.mkdirSynced(dir); err != nil {
		return fi, noSpace(err)
	}
	tmp := filepath.Join(dir, name+segFileTmp)
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fi, noSpace(err)
	}
	defer func() {
		if err != nil {
			err = noSpace(err)
			_ = fs.Remove(tmp)
		}
	}()
	sum := crc32.New(castagnoli)
	cw := &countWriter{w: io.MultiWriter(f, sum)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	_, err = bw.Write(h.encode())
	if err == nil {
		err = body(bw)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && uint64(cw.n) != segFileDataOff+h.dataLen {
		err = fmt.Errorf("segment file %s: wrote %d bytes, header says %d", name, cw.n, segFileDataOff+h.dataLen)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fi, err
	}
	if err = fs.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fi, err
	}
	if err = syncDir(fs, dir); err != nil {
		_ = fs.Remove(filepath.Join(dir, name))
		return fi, err
	}
	return fileInfo{kind: kind, index: index, length: uint64(cw.n), crc: sum.Sum32()}, nil
}

// mkdirSynced creates dir and its parents if needed, syncing each parent
// whose entries changed.
func (db *DB) mkdirSynced(dir string) error {
	fs := db.opts.fs
	if _, err := fs.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := db.mkdirSynced(parent); err != nil {
			return err
		}
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return syncDir(fs, parent)
}

func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileMap is the data of an open segment file: mapped read-only, or read
// into the heap where mapping is not available. It is released once, when
// the segment using it can no longer be read (segRef.release), or by the
// garbage collector's cleanup of the segment otherwise.
type fileMap struct {
	data   []byte // the file's data, after the header
	mapped bool   // data is a memory mapping (else heap)
	once   sync.Once
	unmap  func() error
}

// release unmaps the file. The caller guarantees that no reader can reach
// the data any more.
func (m *fileMap) release() {
	m.once.Do(func() {
		if m.unmap != nil {
			_ = m.unmap()
		}
		m.data = nil
	})
}

// forcePread, when set (tests), makes openSegFile read files into the heap
// instead of mapping them.
var forcePread bool

// openSegFile opens a segment file of the manifest and checks it: its
// length and CRC against the manifest's, its header against what the
// caller expects (kind, a, b, data length). It then maps the data
// read-only, or reads it into the heap. check false skips the CRC pass (a
// file this process has just written and synced). Any mismatch is an error
// wrapping ErrCorrupt that names the file.
func (db *DB) openSegFile(path string, want fileInfo, h segFileHeader, check bool) (_ *fileMap, err error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: segment file %s: %s", ErrCorrupt, path, fmt.Sprintf(format, a...))
	}
	f, err := db.opts.fs.Open(path)
	if err != nil {
		if os.IsNotExist(err) || errors.Is(err, os.ErrNotExist) {
			return nil, bad("missing")
		}
		return nil, fmt.Errorf("segment file %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("segment file %s: %w", path, err)
	}
	if uint64(st.Size()) != want.length {
		return nil, bad("%d bytes, the manifest says %d", st.Size(), want.length)
	}
	head := make([]byte, segFileHeadLen)
	if want.length < segFileDataOff {
		return nil, bad("shorter than its header")
	}
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("segment file %s: %w", path, err)
	}
	got, err := decodeSegFileHeader(head)
	if err != nil {
		return nil, bad("%v", err)
	}
	if got != h {
		return nil, bad("header says kind %q, %d, %d, %d, %d data bytes; expected %q, %d, %d, %d, %d",
			got.kind, got.a, got.b, got.c, got.dataLen, h.kind, h.a, h.b, h.c, h.dataLen)
	}
	if segFileDataOff+h.dataLen != want.length {
		return nil, bad("length %d does not match its header", want.length)
	}
	if check {
		sum, err := crcFile(f, int64(want.length))
		if err != nil {
			return nil, fmt.Errorf("segment file %s: %w", path, err)
		}
		if sum != want.crc {
			return nil, bad("checksum mismatch")
		}
	}
	m := &fileMap{}
	if h.dataLen == 0 {
		return m, nil
	}
	if !forcePread && littleEndian && f.Fd() != vfs.InvalidFd {
		if data, unmap, err := mmapFile(f.Fd(), int64(want.length)); err == nil {
			m.data, m.mapped, m.unmap = data[segFileDataOff:], true, unmap
			return m, nil
		}
	}
	// No mapping: read the data into the heap, 64-byte aligned.
	words := make([]uint64, (h.dataLen+7)/8+8)
	pad := (64 - int(uintptr(unsafe.Pointer(&words[0]))%64)) % 64
	buf := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)[pad : pad+int(h.dataLen)]
	if _, err := f.ReadAt(buf, segFileDataOff); err != nil {
		return nil, fmt.Errorf("segment file %s: %w", path, err)
	}
	m.data = buf
	return m, nil
}

// crcFile returns the CRC-32C of the first n bytes of f, read in 1 MiB
// steps (through the page cache, not the heap).
func crcFile(f io.ReaderAt, n int64) (uint32, error) {
	var sum hash.Hash32 = crc32.New(castagnoli)
	buf := make([]byte, 1<<20)
	for off := int64(0); off < n; {
		k, err := f.ReadAt(buf[:min(int64(len(buf)), n-off)], off)
		sum.Write(buf[:k])
		off += int64(k)
		if err != nil && !(errors.Is(err, io.EOF) && off == n) {
			return 0, err
		}
	}
	return sum.Sum32(), nil
}

// littleEndian reports whether the host is little endian: mapped rows are
// used in place only then (the file is little endian).
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// vectorRows returns the rows of a fileVectors file's data for slots slots
// of dimension dim and datatype dt. On a big-endian host the data was read
// into the heap and is converted in place.
func vectorRows(m *fileMap, slots, dim int, dt segment.Datatype) segment.Rows {
	nf := segment.RowFloats(slots, dim, dt)
	nw := (slots + 63) / 64
	hasOff := segment.RowsHasOffset(slots, dim, dt)
	r := segment.Rows{InHeap: !m.mapped}
	if nf > 0 {
		r.Data = unsafe.Slice((*float32)(unsafe.Pointer(&m.data[0])), nf)
	} else {
		r.Data = []float32{}
	}
	if nw > 0 {
		r.Has = unsafe.Slice((*uint64)(unsafe.Pointer(&m.data[hasOff])), nw)
	}
	if !littleEndian {
		switch dt {
		case segment.Float32:
			for i := range r.Data {
				r.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(m.data[4*i:]))
			}
		case segment.Float16:
			h := unsafe.Slice((*uint16)(unsafe.Pointer(&m.data[0])), slots*dim)
			for i := range h {
				h[i] = binary.LittleEndian.Uint16(m.data[2*i:])
			}
		}
		for i := range r.Has {
			r.Has[i] = binary.LittleEndian.Uint64(m.data[hasOff+8*i:])
		}
	}
	return r
}

// vectorFileHeader returns the header of a fileVectors file of slots rows
// of dimension dim and datatype dt.
func vectorFileHeader(slots, dim int, dt segment.Datatype) segFileHeader {
	return segFileHeader{kind: fileVectors, a: uint32(dim), b: uint32(slots), c: uint32(dt), dataLen: uint64(segment.RowsSize(slots, dim, dt))}
}

// removeSegFiles deletes the files of segment segID of collection cid
// (best effort: a file left behind is deleted by the next Open).
func (db *DB) removeSegFiles(cid, segID uint32, files []fileInfo) {
	dir := db.segFilesDir(cid)
	for _, f := range files {
		_ = db.opts.fs.Remove(filepath.Join(dir, segFileName(segID, f)))
	}
}

// dropOrphanFiles deletes the files in the collection's directory that the
// manifest does not name: the remains of a seal, merge or vacuum that did
// not commit, or of a segment whose drop committed before its files were
// deleted.
func (c *collection) dropOrphanFiles() error {
	dir := c.db.segFilesDir(c.cid)
	names, err := c.db.opts.fs.List(dir)
	if err != nil {
		if os.IsNotExist(err) || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	known := map[string]bool{}
	for _, s := range c.manifest.segs {
		for _, f := range s.files {
			known[segFileName(s.id, f)] = true
		}
	}
	removed := false
	for _, n := range names {
		if known[n] {
			continue
		}
		if err := c.db.opts.fs.Remove(filepath.Join(dir, n)); err != nil && !os.IsNotExist(err) {
			return err
		}
		removed = true
	}
	if removed {
		return syncDir(c.db.opts.fs, dir)
	}
	return nil
}

// removeCollectionFiles deletes the segment files of collection cid.
func (db *DB) removeCollectionFiles(cid uint32) error {
	return db.opts.fs.RemoveAll(db.segFilesDir(cid))
}

// sweepOrphanFiles deletes the segment file directories of collection ids
// not in cids.
func (db *DB) sweepOrphanFiles(cids map[uint32]bool) error {
	root := filepath.Join(db.dir, segFileDir)
	names, err := db.opts.fs.List(root)
	if err != nil {
		return nil // no directory: nothing to sweep
	}
	var errs []error
	for _, n := range names {
		cid, err := strconv.ParseUint(n, 10, 32)
		if err == nil && cids[uint32(cid)] {
			continue
		}
		if err != nil && strings.HasPrefix(n, ".") {
			continue
		}
		errs = append(errs, db.opts.fs.RemoveAll(filepath.Join(root, n)))
	}
	return errors.Join(errs...)
}

// onDiskNames returns the indexes, among the sorted vector names, of the
// vectors of the sealed segment ref that go to segment files: dense (not
// multivectors), and on disk by their configuration or by the collection's
// memmap_threshold (pastMemmapThreshold) unless on_disk is false.
func (c *collection) onDiskNames(ref *segRef) []int {
	cfg := c.config()
	past := c.pastMemmapThreshold(ref)
	var out []int
	for i, name := range c.vectorNames() {
		vp := cfg.Params.Vectors[name]
		if vp.IsMulti() {
			continue
		}
		if vp.OnDisk != nil && *vp.OnDisk || vp.OnDisk == nil && past {
			out = append(out, i)
		}
	}
	return out
}

// pastMemmapThreshold reports whether the sealed segment ref is past the
// collection's optimizers_config.memmap_threshold, as Qdrant's optimizer
// judges it (deprecated since Qdrant 1.15, still applied in 1.17): its
// largest vector storage, live vectors times the bytes of a dimension (4,
// or 2 and 1 for float16 and uint8) for each
// dense vector name, reaches the threshold in KB. Null or 0 disables it.
func (c *collection) pastMemmapThreshold(ref *segRef) bool {
	cfg := c.config()
	t := cfg.Optimizers.MemmapThreshold
	if t == nil || *t <= 0 {
		return false
	}
	var largest int64
	for _, name := range c.vectorNames() {
		vp := cfg.Params.Vectors[name]
		if vp.IsMulti() {
			continue
		}
		largest = max(largest, int64(ref.seg.VectorCount(name))*int64(vp.SegmentDatatype().Size())*int64(vp.Size))
	}
	return largest >= int64(kbToBytes(*t))
}

// writeVectorFiles writes a vector file for each on-disk vector of the
// sealed segment ref. On error, the files written are removed.
func (c *collection) writeVectorFiles(ref *segRef) (files []fileInfo, err error) {
	idx := c.onDiskNames(ref)
	if len(idx) == 0 {
		return nil, nil
	}
	names := c.vectorNames()
	specs := ref.seg.Specs()
	dir := c.db.segFilesDir(c.cid)
	defer func() {
		if err != nil {
			c.db.removeSegFiles(c.cid, ref.id, files)
			files = nil
		}
	}()
	n := ref.seg.Len()
	for _, i := range idx {
		name := names[i]
		k := slices.IndexFunc(specs, func(s segment.VectorSpec) bool { return s.Name == name })
		if k < 0 {
			return files, fmt.Errorf("segment %d: no vector %q", ref.id, name)
		}
		h := vectorFileHeader(n, specs[k].Dim, specs[k].Datatype)
		if err := c.db.checkSpace(int64(segFileDataOff + h.dataLen)); err != nil {
			return files, err
		}
		fi, err := c.db.writeSegFile(dir, segFileName(ref.id, fileInfo{kind: fileVectors, index: uint32(i)}), fileVectors, uint32(i), h,
			func(w io.Writer) error { return ref.seg.WriteRows(name, w) })
		if err != nil {
			return files, fmt.Errorf("segment %d: vector %q: %w", ref.id, name, err)
		}
		files = append(files, fi)
	}
	return files, nil
}

// openVectorFiles opens the vector files of a manifest segment, checking
// them, and returns the rows by vector name with the mappings holding
// them. check false skips the CRC pass.
func (c *collection) openVectorFiles(segID uint32, slots int, files []fileInfo, check bool) (map[string]segment.Rows, []*fileMap, error) {
	if len(files) == 0 {
		return nil, nil, nil
	}
	names := c.vectorNames()
	cfg := c.config()
	dir := c.db.segFilesDir(c.cid)
	rows := map[string]segment.Rows{}
	var maps []*fileMap
	fail := func(err error) (map[string]segment.Rows, []*fileMap, error) {
		for _, m := range maps {
			m.release()
		}
		return nil, nil, err
	}
	for _, f := range files {
		path := filepath.Join(dir, segFileName(segID, f))
		if f.kind == fileGraph || f.kind == fileQuant {
			continue // openGraphFiles, openQuantFiles
		}
		if f.kind != fileVectors || int(f.index) >= len(names) {
			return fail(fmt.Errorf("%w: segment file %s: unknown kind or vector", ErrCorrupt, path))
		}
		name := names[f.index]
		vp := cfg.Params.Vectors[name]
		if vp.IsMulti() {
			return fail(fmt.Errorf("%w: segment file %s: vector %q is a multivector", ErrCorrupt, path, name))
		}
		dt := vp.SegmentDatatype()
		m, err := c.db.openSegFile(path, f, vectorFileHeader(slots, int(vp.Size), dt), check)
		if err != nil {
			return fail(err)
		}
		maps = append(maps, m)
		rows[name] = vectorRows(m, slots, int(vp.Size), dt)
	}
	return rows, maps, nil
}
