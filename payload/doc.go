// Package payload is qlite's model of Qdrant point payloads: JSON objects
// whose integers stay exact (never routed through float64) and stay distinct
// from floats, key paths as Qdrant parses and resolves them, a compact binary
// encoding for storage, and the field indexes that answer filter conditions
// with posting lists.
//
// FromStruct and Value.Decode convert payloads to and from Go structs
// through their json tags, with encoding/json's rules.
//
// Values are immutable and share structure; functions that change a payload
// return a new Value.
package payload
