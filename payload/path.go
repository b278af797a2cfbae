package payload

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadPath is wrapped by every key-path parse error.
var ErrBadPath = errors.New("qlite: invalid key path")

type segKind uint8

const (
	segKey   segKind = iota // .key
	segIndex                // [N]
	segAll                  // []
)

type seg struct {
	kind  segKind
	key   string
	index int
}

// Path is a parsed payload key path as Qdrant writes them: a first key,
// then any of .key, ."quoted key", [N] and []. Examples: "color",
// "country.cities[].population", "a[0]", "\"dotted.key\".b".
type Path struct {
	raw  string
	segs []seg
}

// ParsePath parses a key path as Qdrant does. The first key is either a
// raw key, one or more Unicode letters, numbers, '_' or '-' (Rust's
// char::is_alphanumeric plus those two), or a double-quoted key, which may
// hold any characters but '"' and '\\' and may be empty. Then come any
// number of .key, ."quoted key", [N] (a decimal index) and [] (every
// element). Nothing else is allowed: no spaces, no empty path.
func ParsePath(s string) (Path, error) {
	p := Path{raw: s}
	rest := s
	first := true
	for len(rest) > 0 || first {
		switch {
		case first || rest[0] == '.':
			if !first {
				rest = rest[1:]
			}
			key, n, err := parseKey(rest)
			if err != nil {
				return Path{}, fmt.Errorf("%w %q: %v", ErrBadPath, s, err)
			}
			p.segs = append(p.segs, seg{kind: segKey, key: key})
			rest = rest[n:]
			first = false
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return Path{}, fmt.Errorf("%w %q: unclosed '['", ErrBadPath, s)
			}
			inner := rest[1:end]
			if inner == "" {
				p.segs = append(p.segs, seg{kind: segAll})
			} else {
				i, err := parseIndex(inner)
				if err != nil {
					return Path{}, fmt.Errorf("%w %q: %v", ErrBadPath, s, err)
				}
				p.segs = append(p.segs, seg{kind: segIndex, index: i})
			}
			rest = rest[end+1:]
		default:
			return Path{}, fmt.Errorf("%w %q: unexpected %q", ErrBadPath, s, rest[:1])
		}
	}
	return p, nil
}

// parseIndex parses the decimal digits of an [N] index. Qdrant reads it as
// a usize; an index beyond math.MaxInt cannot name an element of any array
// and is kept as math.MaxInt.
func parseIndex(s string) (int, error) {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return 0, fmt.Errorf("bad index %q", s)
		}
	}
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("index %q out of range", s)
	}
	return int(min(u, math.MaxInt)), nil
}

// parseKey reads a raw or quoted key at the start of s and returns it with
// the number of bytes consumed.
func parseKey(s string) (string, int, error) {
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexAny(s[1:], `"\`)
		if end < 0 {
			return "", 0, errors.New("unclosed quote")
		}
		if s[1+end] == '\\' {
			return "", 0, errors.New("backslash in quoted key")
		}
		return s[1 : 1+end], end + 2, nil
	}
	n := 0
	for i, r := range s {
		if !isKeyRune(r) {
			break
		}
		n = i + utf8.RuneLen(r)
	}
	if n == 0 {
		return "", 0, errors.New("empty key")
	}
	return s[:n], n, nil
}

// isKeyRune reports whether r may appear in a raw key: an alphabetic rune
// (letters, letter numbers and other alphabetic marks), any number, '_' or
// '-'.
func isKeyRune(r rune) bool {
	return r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// MustParsePath is ParsePath for constant paths; it panics on error.
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the path as it was written.
func (p Path) String() string { return p.raw }

// IsZero reports whether p is the zero Path (no key).
func (p Path) IsZero() bool { return len(p.segs) == 0 }

// Head returns the first key of the path: the top-level payload field.
func (p Path) Head() string {
	if len(p.segs) == 0 {
		return ""
	}
	return p.segs[0].key
}

// Find appends to dst the values at p in v, as Qdrant resolves a path: .key
// descends only into objects (never into arrays: write a[].key), [N] takes
// an element of an array, [] takes every element. Arrays at the end of the
// path are returned as arrays, not expanded; a condition then matches if any
// element does. A path that leads nowhere appends nothing.
func (p Path) Find(v Value, dst []Value) []Value {
	return find(p.segs, v, dst)
}

func find(segs []seg, v Value, dst []Value) []Value {
	if len(segs) == 0 {
		return append(dst, v)
	}
	s := segs[0]
	switch s.kind {
	case segKey:
		if v.kind == Object {
			if x, ok := v.Get(s.key); ok {
				return find(segs[1:], x, dst)
			}
		}
	case segIndex:
		if v.kind == Array && s.index < len(v.arr) {
			return find(segs[1:], v.arr[s.index], dst)
		}
	case segAll:
		if v.kind == Array {
			for _, x := range v.arr {
				dst = find(segs[1:], x, dst)
			}
		}
	}
	return dst
}

// Extend returns the path p followed by the path q, as a nested condition
// joins its key with the keys inside it.
func (p Path) Extend(q Path) Path {
	segs := make([]seg, 0, len(p.segs)+len(q.segs))
	segs = append(append(segs, p.segs...), q.segs...)
	return Path{raw: p.raw + "." + q.raw, segs: segs}
}

// Set merges the object x into the object that p names in the payload v and
// returns the new payload, as Qdrant's set_payload does when given a key:
//
//   - .key descends into that field, creating it when missing; a field
//     that holds a non-object is replaced by a new object.
//   - [N] descends into that element of an array; a non-array is replaced
//     by an empty array, and an index past the end changes nothing (no
//     padding with nulls).
//   - [] descends into every element; a non-array is replaced by an empty
//     array.
//   - At the end of the path, a non-object is replaced by an empty object
//     and x is merged into it as Merge does: each field of x is set, and a
//     field of x that is null removes that key.
//
// For example, with x = {"x": 1}, the path a.b turns {"a": 10} into
// {"a": {"b": {"x": 1}}}, and a[].b turns {"a": [{}, 5]} into
// {"a": [{"b": {"x": 1}}, {"b": {"x": 1}}]}. The zero Path merges x into
// v itself. v must be an object (or null, taken as {}), and so must x. The
// result shares unchanged parts with v. Set fails with ErrTooDeep when the
// merged value could nest deeper than MaxDepth.
func (p Path) Set(v, x Value) (Value, error) {
	if x.kind != Object {
		return Value{}, fmt.Errorf("qlite: set payload: value must be an object, not %s", x.kind)
	}
	if v.kind != Object && v.kind != Null {
		return Value{}, fmt.Errorf("%w, not %s", ErrNotObject, v.kind)
	}
	if len(p.segs)+depth(x) > MaxDepth {
		return Value{}, fmt.Errorf("%w: setting %q would nest more than %d levels", ErrTooDeep, p.raw, MaxDepth)
	}
	return set(p.segs, v, x), nil
}

func set(segs []seg, dest, x Value) Value {
	if len(segs) == 0 {
		return Merge(dest, x)
	}
	s := segs[0]
	switch s.kind {
	case segKey:
		cur, _ := dest.Get(s.key) // a non-object has no fields
		return dest.With(s.key, set(segs[1:], cur, x))
	case segIndex:
		if dest.kind != Array {
			return Value{kind: Array, arr: []Value{}}
		}
		if s.index >= len(dest.arr) {
			return dest
		}
		arr := slices.Clone(dest.arr)
		arr[s.index] = set(segs[1:], arr[s.index], x)
		return Value{kind: Array, arr: arr}
	default: // segAll
		if dest.kind != Array {
			return Value{kind: Array, arr: []Value{}}
		}
		arr := make([]Value, len(dest.arr))
		for i, e := range dest.arr {
			arr[i] = set(segs[1:], e, x)
		}
		return Value{kind: Array, arr: arr}
	}
}

// Merge returns the object dst with the fields of the object src merged in,
// as Qdrant's set_payload merges a payload: each field of src replaces the
// field of dst with that key (keeping its position) or is appended, and a
// field of src whose value is null removes that key from dst. A dst that is
// not an object is taken as {}; the fields of a src that is not an object
// are none.
func Merge(dst, src Value) Value {
	if dst.kind != Object {
		dst = Value{kind: Object, obj: []Field{}}
	}
	inSrc := newKeyIndex(src.obj)
	inDst := newKeyIndex(dst.obj)
	out := make([]Field, 0, len(dst.obj)+len(src.obj))
	for _, f := range dst.obj {
		if i := inSrc.find(f.Key); i >= 0 {
			if src.obj[i].Value.kind == Null {
				continue
			}
			f.Value = src.obj[i].Value
		}
		out = append(out, f)
	}
	for _, f := range src.obj {
		if f.Value.kind != Null && inDst.find(f.Key) < 0 {
			out = append(out, f)
		}
	}
	return Value{kind: Object, obj: out}
}

// keyIndex finds fields by key: by scanning small objects, through a map
// for large ones.
type keyIndex struct {
	fields []Field
	m      map[string]int
}

func newKeyIndex(fields []Field) keyIndex {
	k := keyIndex{fields: fields}
	if len(fields) > smallObject {
		k.m = make(map[string]int, len(fields))
		for i, f := range fields {
			k.m[f.Key] = i
		}
	}
	return k
}

func (k keyIndex) find(key string) int {
	if k.m != nil {
		if i, ok := k.m[key]; ok {
			return i
		}
		return -1
	}
	for i := range k.fields {
		if k.fields[i].Key == key {
			return i
		}
	}
	return -1
}

// depth returns how deeply arrays and objects nest in v: 0 for a scalar, 1
// for an array or object of scalars.
func depth(v Value) int {
	d := 0
	for _, e := range v.arr {
		d = max(d, depth(e))
	}
	for _, f := range v.obj {
		d = max(d, depth(f.Value))
	}
	if v.kind == Array || v.kind == Object {
		d++
	}
	return d
}

// Delete removes what p names from the payload v and reports whether v
// changed, as Qdrant's delete_payload does with a key: .key removes that
// field of an object, [] at the end empties an array, [] inside the path
// applies the rest of the path to every element, and [N] inside the path to
// that element. [N] at the end removes nothing: Qdrant does not delete array
// elements by index (it would not be idempotent). A path that leads nowhere
// removes nothing. The result shares unchanged parts with v; the relative
// order of the remaining fields is kept.
func (p Path) Delete(v Value) (Value, bool) {
	if len(p.segs) == 0 {
		return v, false
	}
	return del(p.segs, v)
}

func del(segs []seg, v Value) (Value, bool) {
	s := segs[0]
	last := len(segs) == 1
	switch s.kind {
	case segKey:
		if v.kind != Object {
			return v, false
		}
		i := slices.IndexFunc(v.obj, func(f Field) bool { return f.Key == s.key })
		if i < 0 {
			return v, false
		}
		if last {
			return Value{kind: Object, obj: slices.Delete(slices.Clone(v.obj), i, i+1)}, true
		}
		x, ok := del(segs[1:], v.obj[i].Value)
		if !ok {
			return v, false
		}
		obj := slices.Clone(v.obj)
		obj[i].Value = x
		return Value{kind: Object, obj: obj}, true
	case segIndex:
		if last || v.kind != Array || s.index >= len(v.arr) {
			return v, false
		}
		x, ok := del(segs[1:], v.arr[s.index])
		if !ok {
			return v, false
		}
		arr := slices.Clone(v.arr)
		arr[s.index] = x
		return Value{kind: Array, arr: arr}, true
	default: // segAll
		if v.kind != Array || len(v.arr) == 0 {
			return v, false
		}
		if last {
			return Value{kind: Array, arr: []Value{}}, true
		}
		var arr []Value
		for i, e := range v.arr {
			x, ok := del(segs[1:], e)
			if !ok {
				continue
			}
			if arr == nil {
				arr = slices.Clone(v.arr)
			}
			arr[i] = x
		}
		if arr == nil {
			return v, false
		}
		return Value{kind: Array, arr: arr}, true
	}
}

// Depth returns how deeply arrays and objects nest in v: 0 for a scalar, 1
// for a flat array or object. Values deeper than MaxDepth cannot be stored
// (parsers refuse them; a Value built in Go must be checked).
func Depth(v Value) int { return depth(v) }
