package quant

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"unsafe"

	"github.com/qlite/qlite/distance"
)

// Serialised quantisers, specified in FORMAT.md: a 64-byte little-endian
// header, a float32 array (binary statistics or product centroids) starting
// at byte 64, and a CRC-32C of everything before it in the last 4 bytes.

const (
	magic      = "qlqz"
	version    = 1
	headerSize = 64
)

// scalarNorms is the scalar p1 flag of Euclid rows that carry Σcode².
const scalarNorms = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFormat appends header fields, the float array and the checksum.
func appendFormat(dst []byte, kind Kind, metric distance.Metric, dim int, p1 uint32, a, b float32, floats []float32) []byte {
	start := len(dst)
	var h [headerSize]byte
	copy(h[0:4], magic)
	binary.LittleEndian.PutUint16(h[4:], version)
	h[6], h[7] = byte(kind), byte(metric)
	binary.LittleEndian.PutUint32(h[8:], uint32(dim))
	binary.LittleEndian.PutUint32(h[12:], p1)
	binary.LittleEndian.PutUint32(h[16:], math.Float32bits(a))
	binary.LittleEndian.PutUint32(h[20:], math.Float32bits(b))
	binary.LittleEndian.PutUint32(h[24:], uint32(len(floats)))
	dst = append(dst, h[:]...)
	for _, f := range floats {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// AppendBinary appends the serialised quantiser.
func (s *Scalar) AppendBinary(dst []byte) []byte {
	var p1 uint32
	if s.norms {
		p1 = scalarNorms
	}
	return appendFormat(dst, KindScalar, s.metric, s.dim, p1, s.alpha, s.offset, nil)
}

// AppendBinary appends the serialised quantiser.
func (b *Binary) AppendBinary(dst []byte) []byte {
	var stats []float32
	if b.mean != nil {
		stats = append(append(make([]float32, 0, 2*b.dim), b.mean...), b.stddev...)
	}
	return appendFormat(dst, KindBinary, b.metric, b.dim, uint32(b.enc)|uint32(b.qenc)<<8, 0, 0, stats)
}

// AppendBinary appends the serialised quantiser.
func (p *Product) AppendBinary(dst []byte) []byte {
	return appendFormat(dst, KindProduct, p.metric, p.dim, uint32(p.sub), 0, 0, p.cents)
}

// Open reads a serialised quantiser. The float array (binary statistics,
// product centroids) aliases buf when buf's array is 4-byte aligned and the
// machine little-endian, so buf must then stay unmodified while the
// quantiser is in use; otherwise it is copied. Damaged or inconsistent input
// returns an error wrapping ErrCorrupt, never a panic.
func Open(buf []byte) (Quantizer, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	if len(buf) < headerSize+4 {
		return nil, corrupt("%d bytes", len(buf))
	}
	if string(buf[:4]) != magic {
		return nil, corrupt("bad magic %q", buf[:4])
	}
	if v := binary.LittleEndian.Uint16(buf[4:]); v != version {
		return nil, corrupt("version %d, want %d", v, version)
	}
	body := buf[:len(buf)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(buf[len(buf)-4:]); got != want {
		return nil, corrupt("checksum %08x, want %08x", got, want)
	}
	kind, metric := Kind(buf[6]), distance.Metric(buf[7])
	dim64 := uint64(binary.LittleEndian.Uint32(buf[8:]))
	p1 := binary.LittleEndian.Uint32(buf[12:])
	a := math.Float32frombits(binary.LittleEndian.Uint32(buf[16:]))
	b := math.Float32frombits(binary.LittleEndian.Uint32(buf[20:]))
	nf := uint64(binary.LittleEndian.Uint32(buf[24:]))
	if !metric.Valid() || dim64 == 0 || dim64 > 1<<16 {
		return nil, corrupt("metric %d, dimension %d", metric, dim64)
	}
	if uint64(len(body)-headerSize) != 4*nf {
		return nil, corrupt("%d floats in %d bytes", nf, len(body)-headerSize)
	}
	dim := int(dim64)
	floats := viewFloats(body[headerSize:])
	switch kind {
	case KindScalar:
		if nf != 0 || !finite(a) || !finite(b) || a < 0 {
			return nil, corrupt("scalar alpha %v offset %v", a, b)
		}
		if p1 != 0 && (p1 != scalarNorms || metric != distance.Euclid) {
			return nil, corrupt("scalar flags %#x for metric %v", p1, metric)
		}
		return &Scalar{dim: dim, metric: metric, alpha: a, offset: b, norms: p1 == scalarNorms}, nil
	case KindBinary:
		enc, qenc := Encoding(p1&0xff), QueryEncoding(p1>>8)
		if enc > OneAndHalfBits || qenc > QueryScalar8Bits || (nf != 0 && nf != 2*dim64) {
			return nil, corrupt("binary encoding %d/%d with %d floats", enc, qenc, nf)
		}
		bq := &Binary{dim: dim, metric: metric, enc: enc, qenc: qenc}
		if (enc != OneBit || qenc != QueryDefault) != (nf != 0) {
			return nil, corrupt("binary encoding %d/%d with %d floats", enc, qenc, nf)
		}
		if nf != 0 {
			bq.mean, bq.stddev = floats[:dim:dim], floats[dim:]
		}
		return bq, nil
	case KindProduct:
		sub := int(p1)
		switch Compression(4 * sub) {
		case X4, X8, X16, X32, X64:
		default:
			return nil, corrupt("product sub-vector size %d", sub)
		}
		if nf != uint64(Centroids)*dim64 {
			return nil, corrupt("product with %d floats for dimension %d", nf, dim)
		}
		p := &Product{dim: dim, sub: sub, m: (dim + sub - 1) / sub, metric: metric, cents: floats}
		p.transpose()
		return p, nil
	}
	return nil, corrupt("kind %d", kind)
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// viewFloats returns b as little-endian float32s, aliasing b where it can.
func viewFloats(b []byte) []float32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n)
	}
	f := make([]float32, n)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}
