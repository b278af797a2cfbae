package engine

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
)

// Graph files (FORMAT.md, "Segment files"): with hnsw_config.on_disk, a
// sealed segment's graph of a vector is written in hnsw's in-place layout
// (hnsw.Graph.WriteInPlace) to a segment file of kind fileGraph instead of
// an artefact part, and searched from a read-only mapping of it: open maps
// it (after the file's checksum) and builds nothing.

// fileGraph is the kind of a segment file holding the graph of one vector
// in hnsw's in-place layout. Its header's a is the segment's slots.
const fileGraph byte = 'g'

// graphOnDisk reports whether the graph of vector name is to be kept in a
// segment file: hnsw_config.on_disk, per vector or collection-wide.
func (c *collection) graphOnDisk(name string) bool {
	h := c.config().VectorHNSW(name)
	return h.OnDisk != nil && *h.OnDisk && h.M > 0
}

// wantGraphFile reports whether the sealed segment ref should have a
// graph file for the vector of index i: its graph is on disk by the
// configuration, and complete (a graph in place takes no inserts).
func (c *collection) wantGraphFile(ref *segRef, i int) bool {
	names := c.vectorNames()
	return i < len(names) && c.graphOnDisk(names[i]) && c.indexingThreshold() > 0 &&
		ref.seg.Indexed() >= ref.seg.Len()
}

// hasGraphFile reports whether the manifest names a graph file of ref for
// the vector of index i.
func (ref *segRef) hasGraphFile(i int) bool {
	p := ref.files.Load()
	return p != nil && slices.ContainsFunc(*p, func(f fileInfo) bool { return f.kind == fileGraph && f.index == uint32(i) })
}

// graphFilesOutdated reports whether a persisted, sealed segment's graph
// files do not match what the configuration asks for.
func (c *collection) graphFilesOutdated(ref *segRef) bool {
	for i := range c.vectorNames() {
		if c.wantGraphFile(ref, i) != ref.hasGraphFile(i) {
			return true
		}
	}
	return false
}

// graphFileIndexes returns the indexes of the vectors of the sealed
// segment ref whose graphs go to files.
func (c *collection) graphFileIndexes(ref *segRef) []int {
	var out []int
	for i := range c.vectorNames() {
		if c.wantGraphFile(ref, i) {
			out = append(out, i)
		}
	}
	return out
}

// writeSegmentFiles writes the vector, graph and quantised-code files of
// the sealed segment ref (writeVectorFiles, writeGraphFiles,
// writeQuantFiles). On error, none is left.
func (c *collection) writeSegmentFiles(ref *segRef) ([]fileInfo, error) {
	files, err := c.writeVectorFiles(ref)
	if err != nil {
		return nil, err
	}
	graphs, err := c.writeGraphFiles(ref)
	if err != nil {
		c.db.removeSegFiles(c.cid, ref.id, files)
		return nil, err
	}
	files = append(files, graphs...)
	// Quantised codes (engine/quant.go), which it also installs in the
	// segment.
	codes, err := c.writeQuantFiles(ref)
	if err != nil {
		c.db.removeSegFiles(c.cid, ref.id, files)
		return nil, err
	}
	return append(files, codes...), nil
}

// writeGraphFiles writes a graph file for each vector of the sealed
// segment ref whose graph is on disk. On error, the files written are
// removed.
func (c *collection) writeGraphFiles(ref *segRef) (files []fileInfo, err error) {
	idx := c.graphFileIndexes(ref)
	if len(idx) == 0 {
		return nil, nil
	}
	names := c.vectorNames()
	dir := c.db.segFilesDir(c.cid)
	defer func() {
		if err != nil {
			c.db.removeSegFiles(c.cid, ref.id, files)
			files = nil
		}
	}()
	for _, i := range idx {
		name := names[i]
		size, err := ref.seg.GraphInPlaceSize(name)
		if err != nil {
			return files, err
		}
		h := segFileHeader{kind: fileGraph, a: uint32(ref.seg.Len()), dataLen: uint64(size)}
		if err := c.db.checkSpace(int64(segFileDataOff + h.dataLen)); err != nil {
			return files, err
		}
		fi, err := c.db.writeSegFile(dir, segFileName(ref.id, fileInfo{kind: fileGraph, index: uint32(i)}), fileGraph, uint32(i), h,
			func(w io.Writer) error {
				_, err := ref.seg.WriteGraphInPlace(name, w)
				return err
			})
		if err != nil {
			return files, fmt.Errorf("segment %d: graph %q: %w", ref.id, name, err)
		}
		files = append(files, fi)
	}
	return files, nil
}

// openGraphFiles opens the graph files among a manifest segment's files,
// checking them (check false skips the CRC pass, for files this process
// has just written and synced), and returns their data by vector name
// with the mappings holding it.
func (c *collection) openGraphFiles(segID uint32, slots int, files []fileInfo, check bool) (map[string][]byte, []*fileMap, error) {
	names := c.vectorNames()
	dir := c.db.segFilesDir(c.cid)
	out := map[string][]byte{}
	var maps []*fileMap
	for _, f := range files {
		if f.kind != fileGraph {
			continue
		}
		path := filepath.Join(dir, segFileName(segID, f))
		if int(f.index) >= len(names) {
			for _, m := range maps {
				m.release()
			}
			return nil, nil, fmt.Errorf("%w: segment file %s: unknown vector", ErrCorrupt, path)
		}
		h := segFileHeader{kind: fileGraph, a: uint32(slots), dataLen: f.length - segFileDataOff}
		if f.length < segFileDataOff {
			h.dataLen = 0
		}
		m, err := c.db.openSegFile(path, f, h, check)
		if err != nil {
			for _, m := range maps {
				m.release()
			}
			return nil, nil, err
		}
		maps = append(maps, m)
		out[names[f.index]] = m.data
	}
	return out, maps, nil
}

// mapGraphFiles makes the sealed segment ref, whose graph files just
// committed, search its graphs from them, freeing its heap graphs. A file
// that cannot be opened leaves the segment on its heap graph, which is the
// same.
func (c *collection) mapGraphFiles(ref *segRef, files []fileInfo) {
	graphs, maps, err := c.openGraphFiles(ref.id, ref.seg.Len(), files, false)
	if err != nil || len(graphs) == 0 {
		return
	}
	for name, data := range graphs {
		// The bytes are the file this process has just written from
		// this very graph, synced, under the manifest's CRC.
		if err := ref.seg.UseGraphInPlace(name, data, true); err != nil {
			// The heap graph stays; the mapping is released with the
			// segment.
			continue
		}
	}
	c.rw.Lock()
	ref.useMaps(maps)
	c.rw.Unlock()
}
