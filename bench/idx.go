package bench

import (
	"encoding/binary"
	"fmt"
	"io"
)

// The MNIST idx format: a big-endian magic 0x00 0x00 <type> <ndims>, then
// ndims big-endian uint32 sizes, then the data in row-major order. Image
// files are type 0x08 (uint8) with three dimensions (count, rows, cols);
// label files are type 0x08 with one dimension (count), one byte per label.

const idxTypeUint8 = 0x08

// ReadIDXImages reads up to limit images (all when limit <= 0) from an idx3
// uint8 file (optionally gzipped) and returns them as flat float32 rows of
// rows*cols unscaled values in 0..255.
func ReadIDXImages(path string, limit int) (data []float32, n, dim int, err error) {
	r, closeFn, err := openData(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer func() {
		if cerr := closeFn(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	data, n, dim, err = readIDXImages(r, limit)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return data, n, dim, nil
}

func readIDXImages(r io.Reader, limit int) ([]float32, int, int, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, 0, 0, fmt.Errorf("%w: idx header: %v", ErrFormat, err)
	}
	if magic[0] != 0 || magic[1] != 0 || magic[2] != idxTypeUint8 {
		return nil, 0, 0, fmt.Errorf("%w: not a uint8 idx file (magic % x)", ErrFormat, magic)
	}
	ndims := int(magic[3])
	if ndims < 2 || ndims > 4 {
		return nil, 0, 0, fmt.Errorf("%w: idx file has %d dimensions, want images", ErrFormat, ndims)
	}
	sizes := make([]uint32, ndims)
	if err := binary.Read(r, binary.BigEndian, sizes); err != nil {
		return nil, 0, 0, fmt.Errorf("%w: idx sizes: %v", ErrFormat, err)
	}
	n := int(sizes[0])
	dim := 1
	for _, s := range sizes[1:] {
		dim *= int(s)
	}
	if dim <= 0 || dim > 1<<24 {
		return nil, 0, 0, fmt.Errorf("%w: idx image size %v", ErrFormat, sizes[1:])
	}
	if limit > 0 && limit < n {
		n = limit
	}
	data := make([]float32, n*dim)
	buf := make([]byte, 64*dim)
	for i := 0; i < n; {
		rows := min(n-i, 64)
		if _, err := io.ReadFull(r, buf[:rows*dim]); err != nil {
			return nil, 0, 0, fmt.Errorf("%w: idx data truncated at image %d: %v", ErrFormat, i, err)
		}
		out := data[i*dim : (i+rows)*dim]
		for j, b := range buf[:rows*dim] {
			out[j] = float32(b)
		}
		i += rows
	}
	return data, n, dim, nil
}

// ReadIDXLabels reads up to limit labels (all when limit <= 0) from an idx1
// uint8 file (optionally gzipped), such as Fashion-MNIST's
// train-labels-idx1-ubyte.gz.
func ReadIDXLabels(path string, limit int) (labels []uint8, err error) {
	r, closeFn, err := openData(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := closeFn(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	labels, err = readIDXLabels(r, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return labels, nil
}

func readIDXLabels(r io.Reader, limit int) ([]uint8, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: idx header: %v", ErrFormat, err)
	}
	if hdr[0] != 0 || hdr[1] != 0 || hdr[2] != idxTypeUint8 || hdr[3] != 1 {
		return nil, fmt.Errorf("%w: not a uint8 idx1 label file (magic % x)", ErrFormat, hdr[:4])
	}
	n := int(binary.BigEndian.Uint32(hdr[4:]))
	if limit > 0 && limit < n {
		n = limit
	}
	labels := make([]uint8, n)
	if _, err := io.ReadFull(r, labels); err != nil {
		return nil, fmt.Errorf("%w: idx labels truncated: %v", ErrFormat, err)
	}
	return labels, nil
}
