package filter

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrBadPointID is wrapped by every point id parse error.
var ErrBadPointID = errors.New("qlite: invalid point id")

// PointID is a Qdrant point id: an unsigned 64-bit integer or a UUID. The
// zero PointID is the number 0. PointIDs are comparable and may be used as
// map keys.
type PointID struct {
	// hi and lo hold a UUID's bytes big-endian (hi the first 8); a number
	// is lo, with hi 0. Two words rather than a [16]byte beside the number
	// keep the id at 24 bytes: segments hold one per point.
	hi, lo uint64
	isUUID bool
}

// NumID returns the numeric point id n.
func NumID(n uint64) PointID { return PointID{lo: n} }

// UUIDID returns the UUID point id with the given 16 bytes (big-endian, as
// written in the canonical text form).
func UUIDID(b [16]byte) PointID {
	return PointID{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:]), isUUID: true}
}

// IsUUID reports whether id is a UUID.
func (id PointID) IsUUID() bool { return id.isUUID }

// Num returns the number of a numeric id.
func (id PointID) Num() (uint64, bool) { return id.lo, !id.isUUID }

// UUID returns the bytes of a UUID id.
func (id PointID) UUID() ([16]byte, bool) { return id.bytes(), id.isUUID }

// bytes returns the 16 bytes of a UUID id.
func (id PointID) bytes() [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], id.hi)
	binary.BigEndian.PutUint64(b[8:], id.lo)
	return b
}

// Compare orders ids as Qdrant does: every numeric id before every UUID,
// numbers ascending, UUIDs by their bytes. It returns -1, 0 or +1.
func (id PointID) Compare(other PointID) int {
	switch {
	case !id.isUUID && !other.isUUID:
		switch {
		case id.lo < other.lo:
			return -1
		case id.lo > other.lo:
			return 1
		}
		return 0
	case !id.isUUID:
		return -1
	case !other.isUUID:
		return 1
	}
	if c := cmp.Compare(id.hi, other.hi); c != 0 {
		return c
	}
	return cmp.Compare(id.lo, other.lo)
}

// String returns the decimal number, or the UUID in lower-case hyphenated
// form.
func (id PointID) String() string {
	if !id.isUUID {
		return strconv.FormatUint(id.lo, 10)
	}
	return string(id.appendUUID(nil))
}

const hexDigits = "0123456789abcdef"

func (id PointID) appendUUID(dst []byte) []byte {
	for i, b := range id.bytes() {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return dst
}

// AppendJSON appends id as JSON: a number, or a quoted UUID.
func (id PointID) AppendJSON(dst []byte) []byte {
	if !id.isUUID {
		return strconv.AppendUint(dst, id.lo, 10)
	}
	dst = append(dst, '"')
	dst = id.appendUUID(dst)
	return append(dst, '"')
}

// MarshalJSON encodes a numeric id as a JSON number (exact for every
// uint64) and a UUID as a lower-case hyphenated string.
func (id PointID) MarshalJSON() ([]byte, error) { return id.AppendJSON(nil), nil }

// UnmarshalJSON accepts what Qdrant accepts in a JSON body: an unsigned
// integer, or a string holding a UUID. A string of digits is not a numeric
// id.
func (id *PointID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: %v", ErrBadPointID, err)
		}
		p, err := ParseUUID(s)
		if err != nil {
			return badPointID(string(b))
		}
		*id = p
		return nil
	}
	n, ok := parseJSONUint(string(b))
	if !ok {
		return badPointID(string(b))
	}
	*id = NumID(n)
	return nil
}

// badPointID is Qdrant's error for a JSON value v that is not a point id;
// a string is shown without its quotes, as Qdrant shows it.
func badPointID(v string) error {
	if u, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
		v = u
	}
	return fmt.Errorf("%w: value %s is not a valid point ID, valid values are either an unsigned integer or a UUID", ErrBadPointID, v)
}

// parseJSONUint parses the text of a JSON number that must be an unsigned
// integer: no fraction, no exponent ("-0" is 0, as serde reads it).
func parseJSONUint(s string) (uint64, bool) {
	if s == "-0" {
		return 0, true
	}
	if s == "" || s[0] < '0' || s[0] > '9' || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// ParsePointID parses an id as Qdrant does in a URL path: a decimal
// unsigned integer first, then any UUID form ParseUUID accepts.
func ParsePointID(s string) (PointID, error) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return NumID(n), nil
	}
	id, err := ParseUUID(s)
	if err != nil {
		return PointID{}, fmt.Errorf("%w: %q is neither an unsigned integer nor a UUID", ErrBadPointID, s)
	}
	return id, nil
}

// ParseUUID parses a UUID id in the forms Qdrant's uuid crate accepts:
// 32 hex digits, hyphenated 8-4-4-4-12, the hyphenated form in braces, or
// with the prefix "urn:uuid:"; hex digits in either case.
func ParseUUID(s string) (PointID, error) {
	var u [16]byte
	var ok bool
	switch len(s) {
	case 32:
		ok = parseHex(s, u[:])
	case 36:
		ok = parseHyphenated(s, &u)
	case 38:
		ok = s[0] == '{' && s[37] == '}' && parseHyphenated(s[1:37], &u)
	case 45:
		ok = s[:9] == "urn:uuid:" && parseHyphenated(s[9:], &u)
	}
	if !ok {
		return PointID{}, fmt.Errorf("%w: %q is not a UUID", ErrBadPointID, s)
	}
	return UUIDID(u), nil
}

func parseHyphenated(s string, u *[16]byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	return parseHex(s[0:8], u[0:4]) && parseHex(s[9:13], u[4:6]) &&
		parseHex(s[14:18], u[6:8]) && parseHex(s[19:23], u[8:10]) &&
		parseHex(s[24:36], u[10:16])
}

func parseHex(s string, dst []byte) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
