package engine

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"slices"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Point record versions. Versions 1 and 2 hold the whole point: version 2
// adds the sparse vectors after the dense ones, and a point without sparse
// vectors is written as version 1. They are what snapshots hold, and what
// stores of format 1 hold. Version 3, which the store holds since format 2,
// leaves the dense vectors out: they are in the point's vector record.
const (
	recordVersion       = 1
	recordVersionSparse = 2
	recordVersionSplit  = 3
	// vectorRecordVersion is the version of a vector record ('v') whose
	// vectors are all float32; vectorRecordTyped, of one that has a
	// vector of datatype float16 or uint8: each vector names its datatype
	// and holds its elements in it.
	vectorRecordVersion = 1
	vectorRecordTyped   = 2
)

// record is one stored point version (see segment/FORMAT.md, "Point record").
type record struct {
	op      uint64
	vectors map[string][]float32
	// sparse are the sparse vectors, sorted by index.
	sparse  map[string]segment.SparseVector
	payload payload.Value
}

// appendRecord appends the whole-point encoding of r (version 1 or 2, as
// snapshots hold it) to dst.
func appendRecord(dst []byte, r *record) []byte {
	start := len(dst)
	if len(r.sparse) == 0 {
		dst = append(dst, recordVersion)
	} else {
		dst = append(dst, recordVersionSparse)
	}
	dst = binary.LittleEndian.AppendUint64(dst, r.op)
	dst = appendVectors(dst, r.vectors)
	if len(r.sparse) != 0 {
		dst = appendSparse(dst, r.sparse)
	}
	dst, _ = appendPayload(dst, r.payload)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// appendPointRecord appends the point record of r as the store holds it
// (version 3: no dense vectors) to dst. It also returns the length of the
// encoded payload.
func appendPointRecord(dst []byte, r *record) ([]byte, int) {
	start := len(dst)
	dst = append(dst, recordVersionSplit)
	dst = binary.LittleEndian.AppendUint64(dst, r.op)
	dst = appendSparse(dst, r.sparse)
	dst, n := appendPayload(dst, r.payload)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli)), n
}

// appendVectorRecord appends the vector record of r (its dense vectors and
// operation id) to dst. dtype gives each vector's datatype: a record with
// a float16 or uint8 vector is written typed (version 2), its elements in
// their datatype, which must hold their values exactly (they were
// converted when written); else version 1.
func appendVectorRecord(dst []byte, r *record, dtype func(name string) segment.Datatype) []byte {
	start := len(dst)
	typed := false
	for name := range r.vectors {
		typed = typed || dtype(name) != segment.Float32
	}
	if !typed {
		dst = append(dst, vectorRecordVersion)
		dst = binary.LittleEndian.AppendUint64(dst, r.op)
		dst = appendVectors(dst, r.vectors)
	} else {
		dst = append(dst, vectorRecordTyped)
		dst = binary.LittleEndian.AppendUint64(dst, r.op)
		dst = appendTypedVectors(dst, r.vectors, dtype)
	}
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// appendTypedVectors appends the vectors by name, in name order, each
// with its datatype before its dimension and its elements in that type.
func appendTypedVectors(dst []byte, vecs map[string][]float32, dtype func(name string) segment.Datatype) []byte {
	names := slices.Sorted(maps.Keys(vecs))
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	var h [1]uint16
	var u [1]byte
	for _, name := range names {
		v, dt := vecs[name], dtype(name)
		dst = binary.AppendUvarint(dst, uint64(len(name)))
		dst = append(dst, name...)
		dst = append(dst, byte(dt))
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		for i := range v {
			switch dt {
			case segment.Float16:
				distance.F16FromF32(h[:], v[i:i+1])
				dst = binary.LittleEndian.AppendUint16(dst, h[0])
			case segment.Uint8:
				distance.U8FromF32(u[:], v[i:i+1])
				dst = append(dst, u[0])
			default:
				dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v[i]))
			}
		}
	}
	return dst
}

// appendPayload appends the payload part of a point record: the length of
// the encoded payload, then the payload. It also returns that length.
func appendPayload(dst []byte, p payload.Value) ([]byte, int) {
	pl := p.AppendBinary(nil)
	dst = binary.AppendUvarint(dst, uint64(len(pl)))
	return append(dst, pl...), len(pl)
}

// appendVectors appends the vectors by name, in name order.
func appendVectors(dst []byte, vecs map[string][]float32) []byte {
	names := make([]string, 0, len(vecs))
	for name := range vecs {
		names = append(names, name)
	}
	slices.Sort(names)
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, name := range names {
		v := vecs[name]
		dst = binary.AppendUvarint(dst, uint64(len(name)))
		dst = append(dst, name...)
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		for _, x := range v {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
		}
	}
	return dst
}

// appendSparse appends the sparse vectors by name, in name order: count,
// then per vector its name, its number of entries, the indices (u32) and the
// values (f32).
func appendSparse(dst []byte, vecs map[string]segment.SparseVector) []byte {
	names := slices.Sorted(maps.Keys(vecs))
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, name := range names {
		v := vecs[name]
		dst = binary.AppendUvarint(dst, uint64(len(name)))
		dst = append(dst, name...)
		dst = binary.AppendUvarint(dst, uint64(len(v.Indices)))
		for _, i := range v.Indices {
			dst = binary.LittleEndian.AppendUint32(dst, i)
		}
		for _, x := range v.Values {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
		}
	}
	return dst
}

// decodeSparse decodes the sparse vectors of a record into a new map (nil
// when there are none).
func decodeSparse(b []byte) ([]byte, map[string]segment.SparseVector, error) {
	bad := func(what string) ([]byte, map[string]segment.SparseVector, error) {
		return nil, nil, fmt.Errorf("%w: sparse vectors: %s", ErrCorrupt, what)
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return bad("count")
	}
	b = b[k:]
	if n == 0 {
		return b, nil, nil
	}
	m := make(map[string]segment.SparseVector, n)
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return bad("name")
		}
		name := string(b[k : k+int(l)])
		b = b[k+int(l):]
		if _, dup := m[name]; dup {
			return bad("duplicate name")
		}
		nnz, k := binary.Uvarint(b)
		if k <= 0 || nnz > uint64(len(b)-k)/8 {
			return bad("length")
		}
		b = b[k:]
		v := segment.SparseVector{Indices: make([]uint32, nnz), Values: make([]float32, nnz)}
		for i := range v.Indices {
			v.Indices[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
		b = b[4*nnz:]
		for i := range v.Values {
			v.Values[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		b = b[4*nnz:]
		m[name] = v
	}
	return b, m, nil
}

// checked verifies the trailing CRC of b and returns the bytes it covers.
func checked(b []byte, what string) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: %s: %d bytes", ErrCorrupt, what, len(b))
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: %s: checksum mismatch", ErrCorrupt, what)
	}
	return body, nil
}

// decodeRecord decodes a point record and its vector record (nil when the
// point has none) into new buffers.
func decodeRecord(b, vec []byte) (*record, error) {
	r := &record{}
	if err := decodeRecordInto(r, b, vec); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeRecordInto decodes a point record and its vector record (nil when
// the point has none, as for every record of version 1 or 2) into r,
// reusing r's vector buffers: the vectors are valid until the next call.
func decodeRecordInto(r *record, b, vec []byte) error {
	body, op, version, err := recordBody(b)
	if err != nil {
		return err
	}
	r.op = op
	if r.vectors == nil {
		r.vectors = map[string][]float32{}
	}
	rest := body
	switch {
	case version != recordVersionSplit:
		if vec != nil {
			return fmt.Errorf("%w: point record of version %d has a vector record", ErrCorrupt, version)
		}
		if rest, err = decodeVectorsInto(r.vectors, body); err != nil {
			return err
		}
	case vec == nil:
		clear(r.vectors)
	default:
		if err := decodeVectorRecordInto(r.vectors, vec, op); err != nil {
			return err
		}
	}
	r.sparse = nil
	if version != recordVersion {
		if rest, r.sparse, err = decodeSparse(rest); err != nil {
			return err
		}
	}
	r.payload, err = decodeRecordTail(rest)
	return err
}

// decodeVectorRecordInto decodes a vector record into m (as
// decodeVectorsInto does), checking that it belongs to the point version
// op.
func decodeVectorRecordInto(m map[string][]float32, b []byte, op uint64) error {
	body, err := checked(b, "vector record")
	if err != nil {
		return err
	}
	if len(body) < 9 || (body[0] != vectorRecordVersion && body[0] != vectorRecordTyped) {
		return fmt.Errorf("%w: vector record: unknown version", ErrCorrupt)
	}
	if got := binary.LittleEndian.Uint64(body[1:9]); got != op {
		return fmt.Errorf("%w: vector record of operation %d, point record of %d", ErrCorrupt, got, op)
	}
	var rest []byte
	if body[0] == vectorRecordTyped {
		rest, err = decodeTypedVectorsInto(m, body[9:])
	} else {
		rest, err = decodeVectorsInto(m, body[9:])
	}
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: vector record: trailing bytes", ErrCorrupt)
	}
	return nil
}

// recordBody checks a point record and returns its operation id, what
// follows it (the dense vectors unless version 3, the sparse vectors unless
// version 1, then the payload) and its version.
func recordBody(b []byte) (rest []byte, op uint64, version byte, err error) {
	body, err := checked(b, "point record")
	if err != nil {
		return nil, 0, 0, err
	}
	if len(body) < 9 || !validRecordVersion(body[0]) {
		return nil, 0, 0, fmt.Errorf("%w: point record: unknown version", ErrCorrupt)
	}
	return body[9:], binary.LittleEndian.Uint64(body[1:9]), body[0], nil
}

func validRecordVersion(v byte) bool {
	return v == recordVersion || v == recordVersionSparse || v == recordVersionSplit
}

// decodeRecordTail decodes the payload part of a point record.
func decodeRecordTail(rest []byte) (payload.Value, error) {
	enc, err := recordTail(rest)
	if err != nil {
		return payload.Value{}, err
	}
	p, err := payload.DecodeBinary(enc)
	if err != nil {
		return payload.Value{}, fmt.Errorf("%w: point record: %w", ErrCorrupt, err)
	}
	return p, nil
}

// recordTail returns the encoded payload of the payload part of a point
// record.
func recordTail(rest []byte) ([]byte, error) {
	n, k := binary.Uvarint(rest)
	if k <= 0 || n != uint64(len(rest)-k) {
		return nil, fmt.Errorf("%w: point record: bad payload length", ErrCorrupt)
	}
	return rest[k:], nil
}

// vectorCount reads the number of vectors of a record's vector part.
func vectorCount(b []byte) (uint64, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return 0, nil, fmt.Errorf("%w: vectors: count", ErrCorrupt)
	}
	return n, b[k:], nil
}

// vectorHeader reads the name and dimension of the next vector of a
// record's vector part; rest starts with its dim x f32, which it holds.
func vectorHeader(b []byte) (name []byte, dim uint64, rest []byte, err error) {
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return nil, 0, nil, fmt.Errorf("%w: vectors: name", ErrCorrupt)
	}
	name = b[k : k+int(l)]
	b = b[k+int(l):]
	dim, k = binary.Uvarint(b)
	if k <= 0 || dim > uint64(len(b)-k)/4 {
		return nil, 0, nil, fmt.Errorf("%w: vectors: dimension", ErrCorrupt)
	}
	return name, dim, b[k:], nil
}

// decodeVectorsInto decodes vectors into m, reusing the slices it holds and
// removing names b does not have.
func decodeVectorsInto(m map[string][]float32, b []byte) ([]byte, error) {
	return decodeVectorsAs(m, b, false)
}

// decodeTypedVectorsInto is decodeVectorsInto for the vectors of a typed
// vector record (appendTypedVectors), widening them to float32.
func decodeTypedVectorsInto(m map[string][]float32, b []byte) ([]byte, error) {
	return decodeVectorsAs(m, b, true)
}

// decodeVectorsAs decodes float32 vectors, or with typed the vectors of a
// typed vector record, into m as decodeVectorsInto does.
func decodeVectorsAs(m map[string][]float32, b []byte, typed bool) ([]byte, error) {
	bad := func(what string) ([]byte, error) {
		return nil, fmt.Errorf("%w: vectors: %s", ErrCorrupt, what)
	}
	n, b, err := vectorCount(b)
	if err != nil {
		return nil, err
	}
	var got [8]string
	decoded := got[:0]
	for range n {
		var name []byte
		var dim uint64
		dt := segment.Float32
		if typed {
			name, dt, dim, b, err = typedVectorHeader(b)
		} else {
			name, dim, b, err = vectorHeader(b)
		}
		if err != nil {
			return nil, err
		}
		key := string(name)
		if slices.Contains(decoded, key) {
			return bad("duplicate name")
		}
		v := m[key]
		if uint64(cap(v)) < dim {
			v = make([]float32, dim)
		}
		v = v[:dim]
		switch dt {
		case segment.Float16:
			for i := range v {
				v[i] = float32(binary.LittleEndian.Uint16(b[2*i:])) // bits, widened below
			}
			widenF16(v)
		case segment.Uint8:
			for i := range v {
				v[i] = float32(b[i])
			}
		default:
			for i := range v {
				v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		b = b[int(dim)*dt.Size():]
		m[key] = v
		decoded = append(decoded, key)
	}
	if len(m) != len(decoded) {
		for name := range m {
			if !slices.Contains(decoded, name) {
				delete(m, name)
			}
		}
	}
	return b, nil
}

// widenF16 replaces each element of v, which holds float16 bits as
// integers, by the float16 value.
func widenF16(v []float32) {
	var h [64]uint16
	for lo := 0; lo < len(v); lo += len(h) {
		part := v[lo:min(lo+len(h), len(v))]
		for i, x := range part {
			h[i] = uint16(x)
		}
		distance.F32FromF16(part, h[:len(part)])
	}
}

// typedVectorHeader reads the name, datatype and dimension of the next
// vector of a typed vector record; rest starts with its elements, which it
// holds.
func typedVectorHeader(b []byte) (name []byte, dt segment.Datatype, dim uint64, rest []byte, err error) {
	bad := func(what string) ([]byte, segment.Datatype, uint64, []byte, error) {
		return nil, 0, 0, nil, fmt.Errorf("%w: typed vectors: %s", ErrCorrupt, what)
	}
	l, k := binary.Uvarint(b)
	if k <= 0 || l >= uint64(len(b)-k) {
		return bad("name")
	}
	name = b[k : k+int(l)]
	b = b[k+int(l):]
	if dt = segment.Datatype(b[0]); !dt.Valid() {
		return bad("datatype")
	}
	dim, k = binary.Uvarint(b[1:])
	if k <= 0 || dim > uint64(len(b)-1-k)/uint64(dt.Size()) {
		return bad("dimension")
	}
	return name, dt, dim, b[1+k:], nil
}

// recordOp returns the operation id of an encoded record without decoding it.
func recordOp(b []byte) (uint64, error) {
	if len(b) < 13 || !validRecordVersion(b[0]) {
		return 0, fmt.Errorf("%w: point record: too short", ErrCorrupt)
	}
	return binary.LittleEndian.Uint64(b[1:9]), nil
}

// decodeVectors decodes vectors into a new map.
func decodeVectors(b []byte) ([]byte, map[string][]float32, error) {
	m := map[string][]float32{}
	rest, err := decodeVectorsInto(m, b)
	if err != nil {
		return nil, nil, err
	}
	return rest, m, nil
}

// appendGhost appends a ghost record: vectors, then a CRC.
func appendGhost(dst []byte, vecs map[string][]float32) []byte {
	start := len(dst)
	dst = appendVectors(dst, vecs)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func decodeGhost(b []byte) (map[string][]float32, error) {
	body, err := checked(b, "ghost record")
	if err != nil {
		return nil, err
	}
	rest, vecs, err := decodeVectors(body)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: ghost record: trailing bytes", ErrCorrupt)
	}
	return vecs, nil
}

// crc returns the CRC-32C of b.
func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
