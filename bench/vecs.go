package bench

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// The TEXMEX vector formats store one vector per record: a little-endian
// int32 dimension d followed by d components, 4-byte float32 (.fvecs), 4-byte
// int32 (.ivecs) or 1-byte uint8 (.bvecs). Every record of a file has the same
// d.

// ErrFormat reports a malformed data file.
var ErrFormat = errors.New("bench: malformed data file")

// openData opens path for reading, transparently decompressing it when its
// name ends in ".gz".
func openData(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if !strings.HasSuffix(path, ".gz") {
		return bufio.NewReaderSize(f, 1<<20), f.Close, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return zr, func() error { return errors.Join(zr.Close(), f.Close()) }, nil
}

// vecsReader decodes a stream of TEXMEX records whose components are width
// bytes wide.
type vecsReader struct {
	r     io.Reader
	width int
	dim   int
	rec   []byte
}

// next reads one record into buf (len dim*width after the first call) and
// returns io.EOF at a clean end of stream.
func (vr *vecsReader) next() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(vr.r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: truncated record header", ErrFormat)
		}
		return nil, err
	}
	d := int(int32(binary.LittleEndian.Uint32(hdr[:])))
	if d <= 0 || d > 1<<20 {
		return nil, fmt.Errorf("%w: bad dimension %d", ErrFormat, d)
	}
	if vr.dim == 0 {
		vr.dim = d
		vr.rec = make([]byte, d*vr.width)
	} else if d != vr.dim {
		return nil, fmt.Errorf("%w: dimension %d after %d", ErrFormat, d, vr.dim)
	}
	if _, err := io.ReadFull(vr.r, vr.rec); err != nil {
		return nil, fmt.Errorf("%w: truncated record: %v", ErrFormat, err)
	}
	return vr.rec, nil
}

// readVecs reads up to limit records (all when limit <= 0) of a TEXMEX file
// and converts each component with conv, appending to a flat slice.
func readVecs[T any](path string, width, limit int, conv func(b []byte) T) (data []T, n, dim int, err error) {
	r, closeFn, err := openData(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer func() {
		if cerr := closeFn(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if st, serr := os.Stat(path); serr == nil && limit <= 0 && !strings.HasSuffix(path, ".gz") {
		// Reserve capacity for the whole file (an upper bound: it counts
		// the record headers too) so that append never copies.
		data = make([]T, 0, st.Size()/int64(width))
	}
	vr := &vecsReader{r: r, width: width}
	for limit <= 0 || n < limit {
		rec, rerr := vr.next()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, 0, 0, fmt.Errorf("%s: record %d: %w", path, n, rerr)
		}
		for i := 0; i < len(rec); i += width {
			data = append(data, conv(rec[i:i+width]))
		}
		n++
	}
	if n == 0 {
		return nil, 0, 0, fmt.Errorf("%s: %w: no vectors", path, ErrFormat)
	}
	return data, n, vr.dim, nil
}

// ReadFvecs reads up to limit vectors (all when limit <= 0) from an .fvecs
// file (optionally gzipped) into one flat row-major slice.
func ReadFvecs(path string, limit int) (data []float32, n, dim int, err error) {
	return readVecs(path, 4, limit, func(b []byte) float32 {
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	})
}

// ReadBvecs reads up to limit vectors from a .bvecs file, converting the
// uint8 components to float32 unscaled (0..255).
func ReadBvecs(path string, limit int) (data []float32, n, dim int, err error) {
	return readVecs(path, 1, limit, func(b []byte) float32 { return float32(b[0]) })
}

// ReadIvecs reads up to limit rows from an .ivecs file.
func ReadIvecs(path string, limit int) (data []int32, n, dim int, err error) {
	return readVecs(path, 4, limit, func(b []byte) int32 {
		return int32(binary.LittleEndian.Uint32(b))
	})
}

// WriteFvecs writes the rows of the flat row-major slice data (row length dim)
// in .fvecs format.
func WriteFvecs(w io.Writer, data []float32, dim int) error {
	return writeVecs(w, data, dim, func(dst []byte, v float32) {
		binary.LittleEndian.PutUint32(dst, math.Float32bits(v))
	})
}

// WriteIvecs writes the rows of data (row length dim) in .ivecs format.
func WriteIvecs(w io.Writer, data []int32, dim int) error {
	return writeVecs(w, data, dim, func(dst []byte, v int32) {
		binary.LittleEndian.PutUint32(dst, uint32(v))
	})
}

func writeVecs[T any](w io.Writer, data []T, dim int, put func([]byte, T)) error {
	if dim <= 0 || len(data)%dim != 0 {
		return fmt.Errorf("bench: write vecs: %d values do not form rows of %d", len(data), dim)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	rec := make([]byte, 4+4*dim)
	binary.LittleEndian.PutUint32(rec, uint32(dim))
	for off := 0; off < len(data); off += dim {
		for i, v := range data[off : off+dim] {
			put(rec[4+4*i:], v)
		}
		if _, err := bw.Write(rec); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeFileAtomic writes a file through fn into a temporary file in the same
// directory and renames it into place, so that readers never see a partial
// file.
func writeFileAtomic(path string, fn func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := fn(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
