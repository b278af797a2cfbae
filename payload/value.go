package payload

import (
	"math"
	"strconv"
	"unsafe"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of JSON value. Integers and floats are distinct kinds, as in
// Qdrant: an integer match never matches a stored 1.0. Uint holds integers
// above math.MaxInt64, which JSON allows and int64 cannot hold.
const (
	Null Kind = iota
	Bool
	Int
	Uint
	Float
	String
	Array
	Object
)

var kindNames = [...]string{"null", "bool", "integer", "unsigned integer", "float", "string", "array", "object"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is an immutable JSON value with exact integers. The zero Value is
// null. Values share their arrays and objects: do not modify what Array or
// Fields return.
type Value struct {
	kind Kind
	num  uint64 // Bool: 0/1; Int: int64 bits; Uint; Float: float64 bits
	str  string
	arr  []Value // Array elements
	obj  []Field // Object fields in insertion order, keys unique
}

// Field is one key of an object.
type Field struct {
	Key   string
	Value Value
}

// NullValue returns null.
func NullValue() Value { return Value{} }

// BoolValue returns a bool.
func BoolValue(b bool) Value {
	v := Value{kind: Bool}
	if b {
		v.num = 1
	}
	return v
}

// IntValue returns an integer.
func IntValue(i int64) Value { return Value{kind: Int, num: uint64(i)} }

// UintValue returns an unsigned integer; values that fit in int64 are
// returned as Int, so each integer has one representation.
func UintValue(u uint64) Value {
	if u <= math.MaxInt64 {
		return IntValue(int64(u))
	}
	return Value{kind: Uint, num: u}
}

// FloatValue returns a float. f must be finite: JSON has no NaN or Inf.
func FloatValue(f float64) Value { return Value{kind: Float, num: math.Float64bits(f)} }

// StringValue returns a string.
func StringValue(s string) Value { return Value{kind: String, str: s} }

// ArrayValue returns an array of the given elements (not copied).
func ArrayValue(elems ...Value) Value {
	if elems == nil {
		elems = []Value{}
	}
	return Value{kind: Array, arr: elems}
}

// ObjectValue returns an object of the given fields (not copied). Later
// fields win over earlier ones with the same key.
func ObjectValue(fields ...Field) Value {
	if fields == nil {
		fields = []Field{}
	}
	return Value{kind: Object, obj: dedupe(fields)}
}

func dedupe(fields []Field) []Field {
	if !hasDuplicateKeys(fields) {
		return fields
	}
	return compactFields(append([]Field(nil), fields...))
}

// smallObject is the field count up to which key lookups scan the fields
// rather than build a map.
const smallObject = 16

// hasDuplicateKeys reports whether two fields share a key.
func hasDuplicateKeys(fields []Field) bool {
	if len(fields) <= smallObject {
		for i := 1; i < len(fields); i++ {
			for j := range i {
				if fields[i].Key == fields[j].Key {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(fields))
	for _, f := range fields {
		if _, ok := seen[f.Key]; ok {
			return true
		}
		seen[f.Key] = struct{}{}
	}
	return false
}

// compactFields removes duplicate keys from fields in place: a key keeps the
// position of its first occurrence and the value of its last, as serde_json
// does when it reads an object with repeated keys.
func compactFields(fields []Field) []Field {
	pos := make(map[string]int, len(fields))
	n := 0
	for _, f := range fields {
		if i, ok := pos[f.Key]; ok {
			fields[i].Value = f.Value
			continue
		}
		pos[f.Key] = n
		fields[n] = f
		n++
	}
	clear(fields[n:])
	return fields[:n]
}

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == Null }

// Bool returns the value of a bool.
func (v Value) Bool() (bool, bool) { return v.num == 1, v.kind == Bool }

// Int returns the value of an integer (kind Int only: not Uint, not Float).
func (v Value) Int() (int64, bool) { return int64(v.num), v.kind == Int }

// Uint returns the value of an integer that is not negative.
func (v Value) Uint() (uint64, bool) {
	switch v.kind {
	case Uint:
		return v.num, true
	case Int:
		return v.num, int64(v.num) >= 0
	}
	return 0, false
}

// Float returns the value of a float (kind Float only).
func (v Value) Float() (float64, bool) { return math.Float64frombits(v.num), v.kind == Float }

// Number returns any number as a float64, as Qdrant compares numbers in
// range conditions.
func (v Value) Number() (float64, bool) {
	switch v.kind {
	case Int:
		return float64(int64(v.num)), true
	case Uint:
		return float64(v.num), true
	case Float:
		return math.Float64frombits(v.num), true
	}
	return 0, false
}

// Str returns the value of a string.
func (v Value) Str() (string, bool) { return v.str, v.kind == String }

// Array returns the elements of an array, nil for other kinds.
func (v Value) Array() []Value { return v.arr }

// Fields returns the fields of an object in order, nil for other kinds.
func (v Value) Fields() []Field { return v.obj }

// Len returns the number of elements of an array or fields of an object, and
// 0 for other kinds.
func (v Value) Len() int {
	switch v.kind {
	case Array:
		return len(v.arr)
	case Object:
		return len(v.obj)
	}
	return 0
}

// Get returns the field key of an object.
func (v Value) Get(key string) (Value, bool) {
	for i := range v.obj {
		if v.obj[i].Key == key {
			return v.obj[i].Value, true
		}
	}
	return Value{}, false
}

// Equal reports whether a and b are the same JSON value. Objects are equal
// when they have the same keys with equal values, in any order; Int and Float
// are never equal to each other.
func Equal(a, b Value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case Null:
		return true
	case Bool, Int, Uint:
		return a.num == b.num
	case Float:
		return math.Float64frombits(a.num) == math.Float64frombits(b.num)
	case String:
		return a.str == b.str
	case Array:
		if len(a.arr) != len(b.arr) {
			return false
		}
		for i := range a.arr {
			if !Equal(a.arr[i], b.arr[i]) {
				return false
			}
		}
		return true
	case Object:
		if len(a.obj) != len(b.obj) {
			return false
		}
		for _, f := range a.obj {
			g, ok := b.Get(f.Key)
			if !ok || !Equal(f.Value, g) {
				return false
			}
		}
		return true
	}
	return false
}

// With returns a copy of object v with key set to val (appended when new).
// v must be an object or null (treated as the empty object).
func (v Value) With(key string, val Value) Value {
	fields := make([]Field, 0, len(v.obj)+1)
	found := false
	for _, f := range v.obj {
		if f.Key == key {
			f.Value, found = val, true
		}
		fields = append(fields, f)
	}
	if !found {
		fields = append(fields, Field{key, val})
	}
	return Value{kind: Object, obj: fields}
}

// Without returns a copy of object v without key.
func (v Value) Without(key string) Value {
	fields := make([]Field, 0, len(v.obj))
	for _, f := range v.obj {
		if f.Key != key {
			fields = append(fields, f)
		}
	}
	return Value{kind: Object, obj: fields}
}

// ValueSize is the size of a Value's header, in bytes.
const ValueSize = int64(unsafe.Sizeof(Value{}))

// fieldSize is the size of a Field's header, in bytes.
const fieldSize = int64(unsafe.Sizeof(Field{}))

// MemoryBytes estimates the bytes v holds beyond its header: strings,
// elements and fields, recursively.
func (v Value) MemoryBytes() int64 {
	switch v.kind {
	case String:
		return int64(len(v.str))
	case Array:
		var n int64
		for _, e := range v.arr {
			n += ValueSize + e.MemoryBytes()
		}
		return n
	case Object:
		var n int64
		for _, f := range v.obj {
			n += fieldSize + int64(len(f.Key)) + f.Value.MemoryBytes()
		}
		return n
	}
	return 0
}
