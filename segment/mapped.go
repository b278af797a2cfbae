package segment

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"unsafe"
)

// Rows are the dense vectors of one vector space kept outside the space's
// own chunks, typically in a memory-mapped file (see the package
// documentation, "Mapped rows"): every slot's row, row-major, and which
// slots have the vector. The segment reads them in place and never writes
// them.
type Rows struct {
	// Data holds slots x Dim float32s: row off at off*Dim. Rows of slots
	// without the vector are zeros. Data must start 64-byte aligned. For
	// a space of datatype Float16 or Uint8, its bytes hold the narrow rows
	// (row off at off*Dim*Size bytes) and it has RowFloats words.
	Data []float32
	// Has holds a bit per slot, slot off at bit off&63 of word off>>6:
	// set when the slot has the vector. len(Has) is (slots+63)/64.
	Has []uint64
	// InHeap says that Data was read into the Go heap (where memory
	// mapping is not available): Memory counts it as Vectors, not
	// MappedVectors.
	InHeap bool
}

// RowsSize returns the bytes WriteRows writes for slots rows of dimension
// dim and datatype d: the rows, zero padding to a multiple of 8 bytes,
// then the presence bits.
func RowsSize(slots, dim int, d Datatype) int64 {
	return int64(RowsHasOffset(slots, dim, d)) + int64((slots+63)/64)*8
}

// RowsHasOffset returns where the presence bits start in what WriteRows
// writes: after the rows, rounded up to 8 bytes.
func RowsHasOffset(slots, dim int, d Datatype) int {
	return (slots*dim*d.Size() + 7) &^ 7
}

// RowFloats returns len(Rows.Data) for slots rows of dimension dim and
// datatype d.
func RowFloats(slots, dim int, d Datatype) int { return rowFloats(slots, dim, d) }

// mappedChunks cuts data into the row chunks of a space whose chunks hold
// 1<<rowBits rows of dim elements of datatype d (a whole number of float32
// words: rowBits is at least 4).
func mappedChunks(data []float32, dim int, rowBits uint, d Datatype) [][]float32 {
	step := rowFloats(1<<rowBits, dim, d)
	chunks := make([][]float32, 0, (len(data)+step-1)/step)
	for lo := 0; lo < len(data); lo += step {
		hi := min(lo+step, len(data))
		chunks = append(chunks, data[lo:hi:hi])
	}
	return chunks
}

// checkRows checks r against a space of dimension dim and slots slots.
func checkRows(name string, sp *space, r Rows, slots int) error {
	if sp.multi != nil {
		return fmt.Errorf("%w: vector %q: a multivector space cannot take mapped rows", ErrBadOptions, name)
	}
	if len(r.Data) != rowFloats(slots, sp.dim, sp.dtype) || len(r.Has) != (slots+63)/64 {
		return fmt.Errorf("%w: vector %q: %d floats and %d presence words for %d slots of dimension %d",
			ErrBadOptions, name, len(r.Data), len(r.Has), slots, sp.dim)
	}
	return nil
}

// MapRows makes the sealed segment read the vectors of space name from r
// instead of its own chunks, which are freed once no reader holds them. r
// must hold the same rows and presence bits as the segment (WriteRows wrote
// them); only the shape is checked. Readers switch at once; a slice
// returned by Vector before stays valid. The caller keeps r's memory
// readable for as long as the segment can be read.
func (s *Segment) MapRows(name string, r Rows) error {
	sp, err := s.space(name)
	if err != nil {
		return err
	}
	if !s.sealed.Load() {
		return fmt.Errorf("%w: vector %q: rows are mapped into sealed segments only", ErrBadOptions, name)
	}
	if err := checkRows(name, sp, r, s.Len()); err != nil {
		return err
	}
	sp.mapRows(r)
	return nil
}

// Mapped reports whether space name reads its vectors from Rows given to
// MapRows or Options.Rows.
func (s *Segment) Mapped(name string) bool {
	sp, ok := s.byName[name]
	return ok && sp.mapped.Load()
}

// WriteRows writes the vectors of space name in the layout of Rows, little
// endian: Len() rows of Dim elements of the space's datatype (zeros for
// slots without the vector), then the presence bits, RowsSize bytes in all. The segment must be
// sealed.
func (s *Segment) WriteRows(name string, w io.Writer) error {
	sp, err := s.space(name)
	if err != nil {
		return err
	}
	if sp.multi != nil {
		return fmt.Errorf("%w: vector %q: a multivector space has no rows", ErrBadOptions, name)
	}
	if !s.sealed.Load() {
		return fmt.Errorf("%w: vector %q: rows are written from sealed segments only", ErrBadOptions, name)
	}
	n := s.Len()
	buf := make([]byte, 0, 1<<20)
	rb := sp.dim * sp.dtype.Size()
	flush := func(force bool) error {
		if len(buf) == 0 || (!force && len(buf) < cap(buf)-rb) {
			return nil
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	for off := range uint32(n) {
		switch sp.dtype {
		case Uint8:
			buf = append(buf, sp.rawRow(off)...)
		case Float16:
			for _, h := range sp.f16Row(off) {
				buf = binary.LittleEndian.AppendUint16(buf, h)
			}
		}
		if sp.dtype != Float32 {
			if err := flush(false); err != nil {
				return err
			}
			continue
		}
		row := sp.vector(off)
		if littleEndian {
			buf = append(buf, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(row))), 4*len(row))...)
		} else {
			for _, f := range row {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
			}
		}
		if err := flush(false); err != nil {
			return err
		}
	}
	if pad := RowsHasOffset(n, sp.dim, sp.dtype) - n*rb; pad > 0 {
		buf = append(buf, make([]byte, pad)...)
	}
	dir := s.chunks()
	for w := range (n + 63) / 64 {
		buf = binary.LittleEndian.AppendUint64(buf, hasWord(dir, sp, w))
		if len(buf) >= cap(buf)-8 {
			if err := flush(true); err != nil {
				return err
			}
		}
	}
	return flush(true)
}

// mapRows makes sp read r.
func (sp *space) mapRows(r Rows) {
	chunks := mappedChunks(r.Data, sp.dim, sp.rowBits, sp.dtype)
	sp.rowsInHeap.Store(r.InHeap)
	sp.rows.Store(&chunks)
	sp.mapped.Store(true)
}

// littleEndian reports whether the host stores a float32 as its little
// endian bytes, so that rows are written as they lie in memory.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
