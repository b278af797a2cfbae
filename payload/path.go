package payload

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
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

// ParsePath parses a key path. The first key is either made of Unicode
// letters, digits, '_' and '-', or a double-quoted string.
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
				i, err := strconv.ParseUint(inner, 10, 31)
				if err != nil {
					return Path{}, fmt.Errorf("%w %q: bad index %q", ErrBadPath, s, inner)
				}
				p.segs = append(p.segs, seg{kind: segIndex, index: int(i)})
			}
			rest = rest[end+1:]
		default:
			return Path{}, fmt.Errorf("%w %q: unexpected %q", ErrBadPath, s, rest[:1])
		}
	}
	return p, nil
}

// parseKey reads a raw or quoted key at the start of s and returns it with
// the number of bytes consumed.
func parseKey(s string) (string, int, error) {
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", 0, errors.New("unclosed quote")
		}
		return s[1 : 1+end], end + 2, nil
	}
	n := 0
	for i, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
			break
		}
		n = i + len(string(r))
	}
	if n == 0 {
		return "", 0, errors.New("empty key")
	}
	return s[:n], n, nil
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
