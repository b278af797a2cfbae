package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jkind is the kind of a parsed JSON node.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNum
	jStr
	jArr
	jObj
)

var jkindNames = [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}

// jval is a JSON value as the filter parser sees it: numbers keep their
// text so integers stay exact, and object fields keep their order and
// duplicates.
type jval struct {
	kind jkind
	b    bool
	s    string // string value, or the text of a number
	arr  []jval
	obj  []jfield
}

type jfield struct {
	key string
	val jval
}

// maxDepth bounds JSON nesting, as serde_json's recursion limit does.
const maxDepth = 128

var errTooDeep = errors.New("recursion limit exceeded")

// decodeJSON parses one JSON value that must fill b.
func decodeJSON(b []byte) (jval, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return jval{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("trailing characters after the JSON value")
		}
		return jval{}, err
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (jval, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return jval{}, err
	}
	switch t := tok.(type) {
	case nil:
		return jval{kind: jNull}, nil
	case bool:
		return jval{kind: jBool, b: t}, nil
	case json.Number:
		return jval{kind: jNum, s: string(t)}, nil
	case string:
		return jval{kind: jStr, s: t}, nil
	case json.Delim:
		if depth >= maxDepth {
			return jval{}, errTooDeep
		}
		switch t {
		case '[':
			v := jval{kind: jArr, arr: []jval{}}
			for dec.More() {
				e, err := decodeValue(dec, depth+1)
				if err != nil {
					return jval{}, err
				}
				v.arr = append(v.arr, e)
			}
			if _, err := dec.Token(); err != nil {
				return jval{}, err
			}
			return v, nil
		case '{':
			v := jval{kind: jObj, obj: []jfield{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jval{}, err
				}
				key, ok := kt.(string)
				if !ok {
					return jval{}, errors.New("expected an object key")
				}
				e, err := decodeValue(dec, depth+1)
				if err != nil {
					return jval{}, err
				}
				v.obj = append(v.obj, jfield{key, e})
			}
			if _, err := dec.Token(); err != nil {
				return jval{}, err
			}
			return v, nil
		}
	}
	return jval{}, errors.New("unexpected JSON token")
}

// describe names the kind of v for error messages.
func (v jval) describe() string { return jkindNames[v.kind] }

// get returns the field key of object v. A key given twice is an error, as
// for a serde struct.
func (v jval) get(path, key string) (jval, bool, error) {
	var found jval
	ok := false
	for _, f := range v.obj {
		if f.key == key {
			if ok {
				return jval{}, false, errorf(path, "duplicate field `%s`", key)
			}
			found, ok = f.val, true
		}
	}
	return found, ok, nil
}

// has reports whether object v has the field key.
func (v jval) has(key string) bool {
	for _, f := range v.obj {
		if f.key == key {
			return true
		}
	}
	return false
}

// isInteger reports whether the number text has no fraction or exponent.
func isInteger(s string) bool { return !strings.ContainsAny(s, ".eE") }

// int64Of reads an integer number that fits int64.
func (v jval) int64Of() (int64, bool) {
	if v.kind != jNum || !isInteger(v.s) {
		return 0, false
	}
	i, err := strconv.ParseInt(v.s, 10, 64)
	return i, err == nil
}

// uint64Of reads a non-negative integer number.
func (v jval) uint64Of() (uint64, bool) {
	if v.kind != jNum {
		return 0, false
	}
	return parseJSONUint(v.s)
}

// float64Of reads any number as a float64; it fails for numbers beyond
// the float64 range, as serde_json does.
func (v jval) float64Of() (float64, bool) {
	if v.kind != jNum {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// appendJSONString appends s as a JSON string literal. Invalid UTF-8 is
// replaced by U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
