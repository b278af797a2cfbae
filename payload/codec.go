package payload

// Binary encoding of a Value, for storage.
//
// An encoding is a format byte followed by one value:
//
//	encoding = format value
//	format   = 0xA1 (format 1; a decoder rejects formats it does not know)
//	value    = tag payload
//
//	tag   kind    payload
//	0x00  null    (none)
//	0x01  false   (none)
//	0x02  true    (none)
//	0x03  Int     uvarint of the zigzag-encoded int64: (i << 1) ^ (i >> 63)
//	0x04  Uint    8 bytes, little-endian uint64, greater than MaxInt64
//	0x05  Float   8 bytes, little-endian IEEE 754 binary64 bits, finite
//	0x06  String  uvarint n, then n bytes
//	0x07  Array   uvarint n, then n values
//	0x08  Object  uvarint n, then n fields: uvarint k, k key bytes, value.
//	              Keys are distinct; the fields keep the object's order.
//
// Uvarints are those of encoding/binary. Arrays and objects nest at most
// MaxDepth deep. Each value has one encoding (Int and Uint never overlap),
// so equal Values with fields in the same order encode to the same bytes.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrCorrupt is wrapped by every error DecodeBinary returns.
var ErrCorrupt = errors.New("qlite: corrupt payload encoding")

const binaryFormat = 0xA1

const (
	tagNull byte = iota
	tagFalse
	tagTrue
	tagInt
	tagUint
	tagFloat
	tagString
	tagArray
	tagObject
)

// AppendBinary appends the binary encoding of v to dst. It allocates only
// to grow dst.
func (v Value) AppendBinary(dst []byte) []byte {
	return v.appendBinary(append(dst, binaryFormat))
}

func (v Value) appendBinary(dst []byte) []byte {
	switch v.kind {
	case Null:
		return append(dst, tagNull)
	case Bool:
		if v.num == 1 {
			return append(dst, tagTrue)
		}
		return append(dst, tagFalse)
	case Int:
		i := int64(v.num)
		return binary.AppendUvarint(append(dst, tagInt), uint64(i<<1)^uint64(i>>63))
	case Uint:
		return binary.LittleEndian.AppendUint64(append(dst, tagUint), v.num)
	case Float:
		return binary.LittleEndian.AppendUint64(append(dst, tagFloat), v.num)
	case String:
		dst = binary.AppendUvarint(append(dst, tagString), uint64(len(v.str)))
		return append(dst, v.str...)
	case Array:
		dst = binary.AppendUvarint(append(dst, tagArray), uint64(len(v.arr)))
		for _, e := range v.arr {
			dst = e.appendBinary(dst)
		}
		return dst
	case Object:
		dst = binary.AppendUvarint(append(dst, tagObject), uint64(len(v.obj)))
		for _, f := range v.obj {
			dst = binary.AppendUvarint(dst, uint64(len(f.Key)))
			dst = append(dst, f.Key...)
			dst = f.Value.appendBinary(dst)
		}
		return dst
	}
	panic(fmt.Sprintf("payload: BUG: value of kind %d", v.kind))
}

// DecodeBinary decodes an encoding made by AppendBinary. It checks the
// whole input and returns an error wrapping ErrCorrupt for anything
// AppendBinary cannot have made: unknown formats or tags, truncation,
// trailing bytes, nesting deeper than MaxDepth (also wrapping ErrTooDeep),
// duplicate keys, non-finite floats, and a Uint that fits an Int. It does
// not panic, and it allocates in proportion to len(b).
//
// The decoded strings share one copy of b; b itself is not retained and
// may be reused once DecodeBinary returns.
func DecodeBinary(b []byte) (Value, error) {
	if len(b) == 0 {
		return Value{}, fmt.Errorf("%w: empty input", ErrCorrupt)
	}
	if b[0] != binaryFormat {
		return Value{}, fmt.Errorf("%w: unknown format 0x%02x", ErrCorrupt, b[0])
	}
	d := decoder{b: b, pos: 1}
	var v Value
	if err := d.value(&v, 0); err != nil {
		return Value{}, err
	}
	if d.pos != len(b) {
		return Value{}, d.fail("%d trailing bytes", len(b)-d.pos)
	}
	return v, nil
}

type decoder struct {
	b   []byte
	src string // a copy of b made at the first string; strings are its substrings
	pos int
	// each makes every string its own copy rather than a substring of src:
	// for decoding a small part of b.
	each bool
}

func (d *decoder) fail(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrCorrupt, d.pos, fmt.Sprintf(format, args...))
}

func (d *decoder) uvarint() (uint64, error) {
	var x uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		if d.pos+i >= len(d.b) {
			return 0, d.fail("truncated varint")
		}
		c := d.b[d.pos+i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			return 0, d.fail("varint overflows 64 bits")
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.pos += i + 1
			return x, nil
		}
	}
	return 0, d.fail("varint overflows 64 bits")
}

// count reads a length or element count and checks that the rest of the
// input can hold that many items of at least minSize bytes each, so that
// no allocation exceeds the input.
func (d *decoder) count(minSize int) (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if left := len(d.b) - d.pos; n > uint64(left/minSize) {
		return 0, d.fail("length %d exceeds the %d bytes left", n, left)
	}
	return int(n), nil
}

func (d *decoder) fixed64() (uint64, error) {
	if len(d.b)-d.pos < 8 {
		return 0, d.fail("truncated 8-byte number")
	}
	x := binary.LittleEndian.Uint64(d.b[d.pos:])
	d.pos += 8
	return x, nil
}

func (d *decoder) str() (string, error) {
	n, err := d.count(1)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", nil
	}
	if d.each {
		s := string(d.b[d.pos : d.pos+n])
		d.pos += n
		return s, nil
	}
	if d.src == "" {
		d.src = string(d.b)
	}
	s := d.src[d.pos : d.pos+n]
	d.pos += n
	return s, nil
}

// value decodes one value into *v, which must be the zero Value. Writing
// in place, rather than returning a Value to copy into its slice, keeps the
// hot loop free of whole-struct copies with their write barriers.
func (d *decoder) value(v *Value, depth int) error {
	if d.pos >= len(d.b) {
		return d.fail("truncated value")
	}
	tag := d.b[d.pos]
	d.pos++
	switch tag {
	case tagNull:
		return nil
	case tagFalse, tagTrue:
		v.kind, v.num = Bool, uint64(tag-tagFalse)
		return nil
	case tagInt:
		u, err := d.uvarint()
		if err != nil {
			return err
		}
		v.kind, v.num = Int, uint64(int64(u>>1)^-int64(u&1))
		return nil
	case tagUint:
		u, err := d.fixed64()
		if err != nil {
			return err
		}
		if u <= math.MaxInt64 {
			return d.fail("unsigned integer %d fits an integer", u)
		}
		v.kind, v.num = Uint, u
		return nil
	case tagFloat:
		u, err := d.fixed64()
		if err != nil {
			return err
		}
		if f := math.Float64frombits(u); math.IsNaN(f) || math.IsInf(f, 0) {
			return d.fail("non-finite float")
		}
		v.kind, v.num = Float, u
		return nil
	case tagString:
		s, err := d.str()
		if err != nil {
			return err
		}
		v.kind, v.str = String, s
		return nil
	case tagArray:
		if depth >= MaxDepth {
			return d.tooDeep()
		}
		n, err := d.count(1)
		if err != nil {
			return err
		}
		elems := make([]Value, n)
		for i := range elems {
			if err := d.value(&elems[i], depth+1); err != nil {
				return err
			}
		}
		v.kind, v.arr = Array, elems
		return nil
	case tagObject:
		if depth >= MaxDepth {
			return d.tooDeep()
		}
		n, err := d.count(2) // key length and value tag
		if err != nil {
			return err
		}
		fields := make([]Field, n)
		for i := range fields {
			f := &fields[i]
			if f.Key, err = d.str(); err != nil {
				return err
			}
			if err := d.value(&f.Value, depth+1); err != nil {
				return err
			}
		}
		if hasDuplicateKeys(fields) {
			return d.fail("duplicate key in object")
		}
		v.kind, v.obj = Object, fields
		return nil
	}
	d.pos--
	return d.fail("unknown tag 0x%02x", tag)
}

func (d *decoder) tooDeep() error {
	return fmt.Errorf("%w: offset %d: %w: more than %d levels of arrays and objects", ErrCorrupt, d.pos-1, ErrTooDeep, MaxDepth)
}

// DecodeBinaryFields decodes from an encoding AppendBinary made only the
// top-level fields of an object whose keys are in keys, and skips the
// others without decoding them: what a filter on those keys needs of a
// payload, at a fraction of the cost of DecodeBinary on large payloads.
// The result is an object of the fields found, in encoding order, which
// does not alias b. A value that is not an object is decoded whole. Only
// the structure of skipped fields is checked.
func DecodeBinaryFields(b []byte, keys []string) (Value, error) {
	v, _, err := AppendBinaryFields(nil, b, keys)
	return v, err
}

// AppendBinaryFields is DecodeBinaryFields with the result's fields
// appended to arena, which it returns: decoding many payloads into one
// arena makes one allocation where each would make its own. The Value
// holds its fields in the arena, which the caller must not modify.
func AppendBinaryFields(arena []Field, b []byte, keys []string) (Value, []Field, error) {
	if len(b) == 0 {
		return Value{}, arena, fmt.Errorf("%w: empty input", ErrCorrupt)
	}
	if b[0] != binaryFormat {
		return Value{}, arena, fmt.Errorf("%w: unknown format 0x%02x", ErrCorrupt, b[0])
	}
	if len(b) < 2 || b[1] != tagObject {
		v, err := DecodeBinary(b)
		return v, arena, err
	}
	d := decoder{b: b, pos: 2, each: true}
	n, err := d.count(2)
	if err != nil {
		return Value{}, arena, err
	}
	start := len(arena)
	for range n {
		kl, err := d.count(1)
		if err != nil {
			return Value{}, arena[:start], err
		}
		key := b[d.pos : d.pos+kl]
		d.pos += kl
		want := false
		for _, k := range keys {
			if k == string(key) {
				want = true
				break
			}
		}
		if !want {
			if err := d.skip(1); err != nil {
				return Value{}, arena[:start], err
			}
			continue
		}
		arena = append(arena, Field{Key: string(key)})
		if err := d.value(&arena[len(arena)-1].Value, 1); err != nil {
			return Value{}, arena[:start], err
		}
	}
	if d.pos != len(b) {
		return Value{}, arena[:start], d.fail("%d trailing bytes", len(b)-d.pos)
	}
	fields := arena[start:len(arena):len(arena)]
	if hasDuplicateKeys(fields) {
		return Value{}, arena[:start], d.fail("duplicate key in object")
	}
	if len(fields) == 0 {
		fields = []Field{}
	}
	return Value{kind: Object, obj: fields}, arena, nil
}

// skip moves past one value, checking only its structure.
func (d *decoder) skip(depth int) error {
	if d.pos >= len(d.b) {
		return d.fail("truncated value")
	}
	tag := d.b[d.pos]
	d.pos++
	switch tag {
	case tagNull, tagFalse, tagTrue:
		return nil
	case tagInt:
		_, err := d.uvarint()
		return err
	case tagUint, tagFloat:
		_, err := d.fixed64()
		return err
	case tagString:
		n, err := d.count(1)
		d.pos += n
		return err
	case tagArray, tagObject:
		if depth >= MaxDepth {
			return d.tooDeep()
		}
		n, err := d.count(1)
		if err != nil {
			return err
		}
		for range n {
			if tag == tagObject {
				kl, err := d.count(1)
				if err != nil {
					return err
				}
				d.pos += kl
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
		return nil
	}
	d.pos--
	return d.fail("unknown tag 0x%02x", tag)
}
