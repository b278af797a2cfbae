package payload

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// MaxDepth is the deepest nesting of arrays and objects that ParseJSON,
// DecodeBinary and Path.Set accept. A payload is an object, so its fields
// sit at depth 2. The limit keeps recursive code from exhausting the stack
// on hostile input.
const MaxDepth = 64

var (
	// ErrInvalidJSON is wrapped by every JSON syntax error.
	ErrInvalidJSON = errors.New("qlite: invalid JSON")
	// ErrTooDeep is wrapped by errors for values nested deeper than
	// MaxDepth.
	ErrTooDeep = errors.New("qlite: value nested too deeply")
	// ErrNotObject is returned for a payload that is valid JSON but not an
	// object.
	ErrNotObject = errors.New("qlite: payload must be a JSON object")
)

// SyntaxError is the error ParseJSON returns for input it rejects. It wraps
// ErrTooDeep when the input nests deeper than MaxDepth and ErrInvalidJSON
// otherwise.
type SyntaxError struct {
	// Offset is the byte offset in the input where the error was found.
	Offset int
	msg    string
	class  error
}

func (e *SyntaxError) Error() string {
	return e.class.Error() + " at offset " + strconv.Itoa(e.Offset) + ": " + e.msg
}

func (e *SyntaxError) Unwrap() error { return e.class }

// ParseJSON parses one JSON value, as Qdrant's serde_json reads payloads:
//
//   - An integer literal (no fraction or exponent) that fits int64 is an
//     Int, one that fits uint64 is a Uint, and a longer one is a Float.
//     Integers are never routed through float64. "-0" is the Float -0.0.
//   - Any number with a fraction or exponent is a Float, correctly rounded
//     (serde_json does that with its float_roundtrip feature; without it,
//     it can be one unit in the last place off); a number too large for
//     float64 is an error, as JSON has no Inf or NaN.
//   - An object with a repeated key keeps the last value at the position
//     of the first occurrence.
//   - Strings must be valid UTF-8; escapes must be valid, and \u escapes of
//     UTF-16 surrogates must come in pairs.
//   - Nesting deeper than MaxDepth is an error wrapping ErrTooDeep.
//
// Whitespace around the value is allowed; anything else after it is an
// error. Errors are *SyntaxError values with the byte offset.
func ParseJSON(b []byte) (Value, error) {
	p := parserPool.Get().(*parser)
	p.b, p.pos, p.depth = b, 0, 0
	v, err := p.document()
	p.release()
	return v, err
}

// ParseObject is ParseJSON for a payload: the value must be an object, and
// other values give an error wrapping ErrNotObject.
func ParseObject(b []byte) (Value, error) {
	v, err := ParseJSON(b)
	if err != nil {
		return Value{}, err
	}
	if v.kind != Object {
		return Value{}, fmt.Errorf("%w, not %s", ErrNotObject, v.kind)
	}
	return v, nil
}

// UnmarshalJSON implements json.Unmarshaler with ParseJSON.
func (v *Value) UnmarshalJSON(b []byte) error {
	x, err := ParseJSON(b)
	if err != nil {
		return err
	}
	*v = x
	return nil
}

// MarshalJSON implements json.Marshaler with AppendJSON. Note that
// encoding/json re-escapes '<', '>' and '&' in what it gets from
// MarshalJSON unless its Encoder has SetEscapeHTML(false); AppendJSON gives
// the exact bytes.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// String returns v as compact JSON.
func (v Value) String() string { return string(v.AppendJSON(nil)) }

var parserPool = sync.Pool{New: func() any { return new(parser) }}

// parser is a recursive-descent JSON parser. Parsers are pooled for their
// scratch stacks, which hold the elements and fields of the containers being
// parsed until their closing bracket gives the exact size.
type parser struct {
	b      []byte
	pos    int
	depth  int
	vals   []Value // elements of the open arrays
	fields []Field // fields of the open objects
	buf    []byte  // unescaped string bytes
}

// maxPooledScratch bounds the scratch kept by a pooled parser.
const maxPooledScratch = 4096

func (p *parser) release() {
	p.b = nil
	// Only an error leaves elements on the stacks; clear them so the pool
	// does not keep their strings alive.
	clear(p.vals)
	clear(p.fields)
	p.vals, p.fields, p.buf = p.vals[:0], p.fields[:0], p.buf[:0]
	if cap(p.vals) > maxPooledScratch || cap(p.fields) > maxPooledScratch || cap(p.buf) > 16*maxPooledScratch {
		return
	}
	parserPool.Put(p)
}

func (p *parser) fail(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, msg: fmt.Sprintf(format, args...), class: ErrInvalidJSON}
}

// unexpected reports the byte at p.pos, or the end of input, as wrong.
func (p *parser) unexpected(what string) error {
	if p.pos >= len(p.b) {
		return p.fail(p.pos, "unexpected end of input, expected %s", what)
	}
	return p.fail(p.pos, "unexpected %s, expected %s", quoteByte(p.b[p.pos]), what)
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *parser) document() (Value, error) {
	v, err := p.value()
	if err != nil {
		return Value{}, err
	}
	p.skipSpace()
	if p.pos < len(p.b) {
		return Value{}, p.fail(p.pos, "unexpected %s after the value", quoteByte(p.b[p.pos]))
	}
	return v, nil
}

func (p *parser) skipSpace() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (Value, error) {
	p.skipSpace()
	if p.pos >= len(p.b) {
		return Value{}, p.unexpected("a value")
	}
	switch c := p.b[p.pos]; c {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		s, err := p.str()
		return Value{kind: String, str: s}, err
	case 't':
		return BoolValue(true), p.literal("true")
	case 'f':
		return BoolValue(false), p.literal("false")
	case 'n':
		return Value{}, p.literal("null")
	default:
		if c == '-' || isDigit(c) {
			return p.number()
		}
		return Value{}, p.unexpected("a value")
	}
}

func (p *parser) literal(word string) error {
	for i := range len(word) {
		if p.pos+i >= len(p.b) || p.b[p.pos+i] != word[i] {
			p.pos += i
			return p.unexpected(fmt.Sprintf("%q", word))
		}
	}
	p.pos += len(word)
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// enter counts one more level of nesting at the bracket at p.pos.
func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return &SyntaxError{Offset: p.pos, msg: fmt.Sprintf("more than %d levels of arrays and objects", MaxDepth), class: ErrTooDeep}
	}
	p.pos++
	return nil
}

func (p *parser) array() (Value, error) {
	if err := p.enter(); err != nil {
		return Value{}, err
	}
	base := len(p.vals)
	p.skipSpace()
	if p.pos < len(p.b) && p.b[p.pos] == ']' {
		p.pos++
		p.depth--
		return Value{kind: Array, arr: []Value{}}, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return Value{}, err
		}
		p.vals = append(p.vals, v)
		p.skipSpace()
		if p.pos < len(p.b) && p.b[p.pos] == ',' {
			p.pos++
			p.skipSpace()
			if p.pos < len(p.b) && p.b[p.pos] == ']' {
				return Value{}, p.fail(p.pos, "trailing comma in array")
			}
			continue
		}
		if p.pos < len(p.b) && p.b[p.pos] == ']' {
			p.pos++
			break
		}
		return Value{}, p.unexpected("',' or ']'")
	}
	elems := slices.Clone(p.vals[base:])
	clear(p.vals[base:])
	p.vals = p.vals[:base]
	p.depth--
	return Value{kind: Array, arr: elems}, nil
}

func (p *parser) object() (Value, error) {
	if err := p.enter(); err != nil {
		return Value{}, err
	}
	base := len(p.fields)
	p.skipSpace()
	if p.pos < len(p.b) && p.b[p.pos] == '}' {
		p.pos++
		p.depth--
		return Value{kind: Object, obj: []Field{}}, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.b) || p.b[p.pos] != '"' {
			return Value{}, p.unexpected("a string key")
		}
		key, err := p.str()
		if err != nil {
			return Value{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.b) || p.b[p.pos] != ':' {
			return Value{}, p.unexpected("':'")
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return Value{}, err
		}
		p.fields = append(p.fields, Field{Key: key, Value: v})
		p.skipSpace()
		if p.pos < len(p.b) && p.b[p.pos] == ',' {
			p.pos++
			p.skipSpace()
			if p.pos < len(p.b) && p.b[p.pos] == '}' {
				return Value{}, p.fail(p.pos, "trailing comma in object")
			}
			continue
		}
		if p.pos < len(p.b) && p.b[p.pos] == '}' {
			p.pos++
			break
		}
		return Value{}, p.unexpected("',' or '}'")
	}
	fields := slices.Clone(p.fields[base:])
	clear(p.fields[base:])
	p.fields = p.fields[:base]
	if hasDuplicateKeys(fields) {
		fields = compactFields(fields)
	}
	p.depth--
	return Value{kind: Object, obj: fields}, nil
}

// strPlain marks the bytes a string can hold without a closer look: not
// '"', '\\', a control character, or a byte of a multi-byte UTF-8 sequence.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads the string starting at the quote at p.pos.
func (p *parser) str() (string, error) {
	start := p.pos + 1
	i := start
	b := p.b
	ascii := true
	for i < len(b) {
		c := b[i]
		if strPlain[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			raw := b[start:i]
			if !ascii && !utf8.Valid(raw) {
				return "", p.fail(start+firstInvalidUTF8(raw), "invalid UTF-8 in string")
			}
			p.pos = i + 1
			return string(raw), nil
		case c == '\\':
			return p.strEscaped(start, i)
		case c < 0x20:
			return "", p.fail(i, "control character %#02x in string", c)
		default:
			ascii = false
			i++
		}
	}
	return "", p.fail(len(b), "unexpected end of input in string")
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// strEscaped finishes a string that has an escape at b[i], unescaping into
// p.buf.
func (p *parser) strEscaped(start, i int) (string, error) {
	b := p.b
	buf := append(p.buf[:0], b[start:i]...)
	if !utf8.Valid(buf) {
		return "", p.fail(start+firstInvalidUTF8(buf), "invalid UTF-8 in string")
	}
	for i < len(b) {
		c := b[i]
		switch {
		case strPlain[c]:
			buf = append(buf, c)
			i++
		case c == '"':
			p.pos = i + 1
			p.buf = buf
			return string(buf), nil
		case c == '\\':
			if i+1 >= len(b) {
				return "", p.fail(len(b), "unexpected end of input in string")
			}
			i += 2
			switch b[i-1] {
			case '"':
				buf = append(buf, '"')
			case '\\':
				buf = append(buf, '\\')
			case '/':
				buf = append(buf, '/')
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, n, err := p.unicodeEscape(i - 2)
				if err != nil {
					return "", err
				}
				buf = utf8.AppendRune(buf, r)
				i += n - 2
			default:
				return "", p.fail(i-1, "invalid escape %s", quoteByte(b[i-1]))
			}
		case c < 0x20:
			return "", p.fail(i, "control character %#02x in string", c)
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return "", p.fail(i, "invalid UTF-8 in string")
			}
			buf = append(buf, b[i:i+n]...)
			i += n
		}
	}
	return "", p.fail(len(b), "unexpected end of input in string")
}

// unicodeEscape decodes the \uXXXX escape at b[i], and the low surrogate
// escape after it when it is a high surrogate. It returns the rune and the
// number of bytes used.
func (p *parser) unicodeEscape(i int) (rune, int, error) {
	r1, err := p.hex4(i + 2)
	if err != nil {
		return 0, 0, err
	}
	switch {
	case 0xDC00 <= r1 && r1 <= 0xDFFF:
		return 0, 0, p.fail(i, "lone low surrogate in \\u escape")
	case 0xD800 <= r1 && r1 <= 0xDBFF:
		if i+8 > len(p.b) || p.b[i+6] != '\\' || p.b[i+7] != 'u' {
			return 0, 0, p.fail(i, "lone high surrogate in \\u escape")
		}
		r2, err := p.hex4(i + 8)
		if err != nil {
			return 0, 0, err
		}
		if r2 < 0xDC00 || r2 > 0xDFFF {
			return 0, 0, p.fail(i+6, "high surrogate not followed by a low surrogate")
		}
		return utf16.DecodeRune(r1, r2), 12, nil
	}
	return r1, 6, nil
}

func (p *parser) hex4(i int) (rune, error) {
	var r rune
	for j := i; j < i+4; j++ {
		if j >= len(p.b) {
			return 0, p.fail(j, "unexpected end of input in \\u escape")
		}
		c := p.b[j]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, p.fail(j, "invalid hex digit %s in \\u escape", quoteByte(c))
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}

// number reads the number at p.pos.
func (p *parser) number() (Value, error) {
	b := p.b
	start := p.pos
	i := start
	neg := b[i] == '-'
	if neg {
		i++
	}
	digits := i
	switch {
	case i >= len(b):
		p.pos = i
		return Value{}, p.unexpected("a digit")
	case b[i] == '0':
		i++
		if i < len(b) && isDigit(b[i]) {
			return Value{}, p.fail(i, "leading zero in number")
		}
	case isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		p.pos = i
		return Value{}, p.unexpected("a digit")
	}
	intEnd := i
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			p.pos = i
			return Value{}, p.unexpected("a digit after '.'")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			p.pos = i
			return Value{}, p.unexpected("a digit in the exponent")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	p.pos = i
	if i == intEnd {
		if v, ok := parseInteger(neg, b[digits:i]); ok {
			return v, nil
		}
	}
	// The string does not outlive the call: strconv copies the input into
	// any error it returns, and the error is dropped here.
	f, err := strconv.ParseFloat(unsafe.String(&b[start], i-start), 64)
	if err != nil {
		return Value{}, p.fail(start, "number out of range")
	}
	return FloatValue(f), nil
}

// parseInteger returns the integer with the given sign and decimal digits
// as serde_json reads it: Int when it fits int64, Uint when it fits uint64,
// and ok false when it must be read as a float (larger magnitudes, and -0).
func parseInteger(neg bool, digits []byte) (Value, bool) {
	var m uint64
	for _, c := range digits {
		d := uint64(c - '0')
		if m > (math.MaxUint64-d)/10 {
			return Value{}, false
		}
		m = m*10 + d
	}
	if !neg {
		return UintValue(m), true
	}
	if m == 0 || m > 1<<63 {
		return Value{}, false
	}
	return IntValue(int64(-m)), true
}

// AppendJSON appends v as compact JSON to dst, byte for byte as serde_json
// writes it: object fields in order, integers exact, floats in their
// shortest round-trip form with a ".0" or an exponent so they never read
// back as integers, strings with only '"', '\\' and control characters
// escaped. Non-finite floats, which JSON cannot hold, are written as null,
// and invalid UTF-8 in strings as U+FFFD.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.kind {
	case Null:
		return append(dst, "null"...)
	case Bool:
		if v.num == 1 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case Int:
		return strconv.AppendInt(dst, int64(v.num), 10)
	case Uint:
		return strconv.AppendUint(dst, v.num, 10)
	case Float:
		return appendFloat(dst, math.Float64frombits(v.num))
	case String:
		return appendString(dst, v.str)
	case Array:
		dst = append(dst, '[')
		for i, e := range v.arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.AppendJSON(dst)
		}
		return append(dst, ']')
	case Object:
		dst = append(dst, '{')
		for i, f := range v.obj {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, f.Key)
			dst = append(dst, ':')
			dst = f.Value.AppendJSON(dst)
		}
		return append(dst, '}')
	}
	panic(fmt.Sprintf("payload: BUG: value of kind %d", v.kind))
}

// appendFloat writes f as serde_json does. The digits are the shortest that
// read back as f (strconv and serde_json's formatter agree on them); the
// layout is fixed-point when the decimal point falls within the first 16
// digits or at most 5 places before them, and d.ddde±x otherwise: 1.0,
// 0.00001, 1e-6, 1e+16, 1.5e-7, 1.7976931348623157e+308.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var scratch [32]byte
	// s is [-]d[.ddd]e±xx.
	s := strconv.AppendFloat(scratch[:0], f, 'e', -1, 64)
	if s[0] == '-' {
		dst = append(dst, '-')
		s = s[1:]
	}
	var digits [17]byte
	n := 0
	i := 0
	for ; s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits[n] = s[i]
			n++
		}
	}
	e := 0
	for _, c := range s[i+2:] {
		e = e*10 + int(c-'0')
	}
	if s[i+1] == '-' {
		e = -e
	}
	d := digits[:n]
	point := e + 1 // digits before the decimal point
	switch {
	case n <= point && point <= 16:
		dst = append(dst, d...)
		for range point - n {
			dst = append(dst, '0')
		}
		return append(dst, ".0"...)
	case 0 < point && point <= 16:
		dst = append(dst, d[:point]...)
		dst = append(dst, '.')
		return append(dst, d[point:]...)
	case -5 < point && point <= 0:
		dst = append(dst, "0."...)
		for range -point {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	}
	dst = append(dst, d[0])
	if n > 1 {
		dst = append(dst, '.')
		dst = append(dst, d[1:]...)
	}
	dst = append(dst, 'e')
	if e >= 0 {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(e), 10)
}

// escapes holds the escape for each byte a JSON string cannot hold as is:
// a one-letter escape, or 'u' for \u00XX.
var escapes = func() (t [256]byte) {
	for c := range 0x20 {
		t[c] = 'u'
	}
	t['\b'], t['\f'], t['\n'], t['\r'], t['\t'] = 'b', 'f', 'n', 'r', 't'
	t['"'], t['\\'] = '"', '\\'
	return t
}()

const hexDigits = "0123456789abcdef"

func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	valid := utf8.ValidString(s)
	run := 0 // start of the bytes not yet copied
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			if valid {
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, s[run:i]...)
				dst = append(dst, "\uFFFD"...)
				i++
				run = i
				continue
			}
			i += n
			continue
		}
		esc := escapes[c]
		if esc == 0 {
			i++
			continue
		}
		dst = append(dst, s[run:i]...)
		dst = append(dst, '\\', esc)
		if esc == 'u' {
			dst = append(dst, '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		run = i
	}
	dst = append(dst, s[run:]...)
	return append(dst, '"')
}

// FromGo converts a Go value to a Value. It takes nil, bool, string,
// json.Number, the integer types, finite float32 and float64, Value,
// []any, []Value and map[string]any (its keys sorted, as Go maps have no
// order); anything else goes through encoding/json. A float32 keeps its
// shortest decimal form, so float32(0.1) becomes 0.1 as serde_json writes
// an f32.
func FromGo(x any) (Value, error) { return fromGo(x, 0) }

func fromGo(x any, depth int) (Value, error) {
	switch x := x.(type) {
	case nil:
		return Value{}, nil
	case Value:
		return x, nil
	case bool:
		return BoolValue(x), nil
	case string:
		return StringValue(x), nil
	case json.Number:
		return parseNumberString(string(x))
	case int:
		return IntValue(int64(x)), nil
	case int8:
		return IntValue(int64(x)), nil
	case int16:
		return IntValue(int64(x)), nil
	case int32:
		return IntValue(int64(x)), nil
	case int64:
		return IntValue(x), nil
	case uint:
		return UintValue(uint64(x)), nil
	case uint8:
		return UintValue(uint64(x)), nil
	case uint16:
		return UintValue(uint64(x)), nil
	case uint32:
		return UintValue(uint64(x)), nil
	case uint64:
		return UintValue(x), nil
	case float32:
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return finiteFloat(f)
	case float64:
		return finiteFloat(x)
	case []Value:
		if depth >= MaxDepth {
			return Value{}, tooDeepGo()
		}
		return ArrayValue(slices.Clone(x)...), nil
	case []any:
		if depth >= MaxDepth {
			return Value{}, tooDeepGo()
		}
		elems := make([]Value, len(x))
		for i, e := range x {
			v, err := fromGo(e, depth+1)
			if err != nil {
				return Value{}, err
			}
			elems[i] = v
		}
		return Value{kind: Array, arr: elems}, nil
	case map[string]any:
		if depth >= MaxDepth {
			return Value{}, tooDeepGo()
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		fields := make([]Field, len(keys))
		for i, k := range keys {
			v, err := fromGo(x[k], depth+1)
			if err != nil {
				return Value{}, fmt.Errorf("key %q: %w", k, err)
			}
			fields[i] = Field{Key: k, Value: v}
		}
		return Value{kind: Object, obj: fields}, nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return Value{}, fmt.Errorf("qlite: payload from %T: %w", x, err)
	}
	return ParseJSON(b)
}

func finiteFloat(f float64) (Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Value{}, fmt.Errorf("%w: %v is not a JSON number", ErrInvalidJSON, f)
	}
	return FloatValue(f), nil
}

func tooDeepGo() error {
	return fmt.Errorf("%w: more than %d levels of arrays and objects", ErrTooDeep, MaxDepth)
}

// parseNumberString parses s, which must be exactly one JSON number.
func parseNumberString(s string) (Value, error) {
	if s == "" || (s[0] != '-' && !isDigit(s[0])) || !isDigit(s[len(s)-1]) {
		return Value{}, fmt.Errorf("%w: %q is not a JSON number", ErrInvalidJSON, s)
	}
	return ParseJSON([]byte(s))
}

// ToGo converts v to plain Go values: nil, bool, int64 (Int), uint64
// (Uint), float64, string, []any and map[string]any. Maps lose the order
// of the fields.
func (v Value) ToGo() any {
	switch v.kind {
	case Bool:
		return v.num == 1
	case Int:
		return int64(v.num)
	case Uint:
		return v.num
	case Float:
		return math.Float64frombits(v.num)
	case String:
		return v.str
	case Array:
		out := make([]any, len(v.arr))
		for i, e := range v.arr {
			out[i] = e.ToGo()
		}
		return out
	case Object:
		out := make(map[string]any, len(v.obj))
		for _, f := range v.obj {
			out[f.Key] = f.Value.ToGo()
		}
		return out
	}
	return nil
}
