package payload

import (
	"encoding/json"
	"fmt"
)

// FromStruct converts a Go value to a payload object as encoding/json
// writes it: a struct's fields named and omitted by their `json` tags
// (omitempty, "-", the string option), embedded structs flattened,
// time.Time as an RFC 3339 string (which Qdrant's datetime index and
// datetime range conditions read), pointers followed, nil pointers, maps
// and slices as null, maps as objects with their keys sorted, and
// json.Marshaler honoured. The result is what ParseJSON gives for the bytes
// json.Marshal writes, so integers stay exact; a float field holding a
// whole number is written as an integer (2, not 2.0), as encoding/json
// writes it (range conditions compare it as the number it is). v must marshal to a JSON
// object (a struct, a map, or a pointer to one); anything else gives an
// error wrapping ErrNotObject.
func FromStruct(v any) (Value, error) {
	out, err := FromGo(v)
	if err != nil {
		return Value{}, err
	}
	if out.kind != Object {
		return Value{}, fmt.Errorf("qlite: payload from %T: %w, not %s", v, ErrNotObject, out.kind)
	}
	return out, nil
}

// Decode stores v in the value dst points to, as json.Unmarshal stores the
// JSON form of v (AppendJSON): fields are matched by their `json` tags,
// case-insensitively as encoding/json does; unknown fields are ignored;
// datetime strings decode into time.Time fields when they are RFC 3339;
// and a mismatch (a string into an int field, 1.5 or a float such as 2.0
// into an int field, an integer beyond the field's range) is an error
// naming the field. Into an `any`, numbers decode as float64 as they do
// with json.Unmarshal; use a json.Number field or ToGo to keep integers
// exact. The zero Value (a record read without its payload) decodes as
// null, which leaves dst unchanged.
func (v Value) Decode(dst any) error {
	if err := json.Unmarshal(v.AppendJSON(nil), dst); err != nil {
		return fmt.Errorf("qlite: decode payload into %T: %w", dst, err)
	}
	return nil
}
