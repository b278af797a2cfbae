package compat

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/qlite/qlite/engine"
)

// Qdrant decodes the body of a collection create or update with serde:
// a negative or fractional number in one of its unsigned members is a
// format error naming the Rust type ("invalid value: integer `-1`,
// expected usize"), and anything wrong inside the create request's
// "vectors" (an untagged enum) reports the enum alone. The engine reads
// these bodies with its own words; restConfigFormat finds the first such
// fault in body order and words it as Qdrant does. The route places it
// (restPosValue).

// restUnsigned gives the Rust type of the unsigned members of the
// configuration objects of create and update bodies.
var restUnsigned = map[string]map[string]string{
	"hnsw_config": {"m": "usize", "ef_construct": "usize", "full_scan_threshold": "usize",
		"full_scan_threshold_kb": "usize", "max_indexing_threads": "usize", "payload_m": "usize"},
	"optimizers_config": {"vacuum_min_vector_number": "usize", "default_segment_number": "usize",
		"max_segment_size": "usize", "max_segment_size_kb": "usize", "memmap_threshold": "usize",
		"memmap_threshold_kb": "usize", "indexing_threshold": "usize", "indexing_threshold_kb": "usize",
		"flush_interval_sec": "u64"},
	"wal_config": {"wal_capacity_mb": "usize", "wal_segments_ahead": "usize", "wal_retain_closed": "usize"},
	"":           {"shard_number": "u32", "replication_factor": "u32", "write_consistency_factor": "u32"},
}

// restConfigFormat returns Qdrant's format error for the first member of a
// create (or, with update, an update) body that serde would refuse as
// described above, or nil.
func restConfigFormat(body []byte, update bool) error {
	members := restMembers(body)
	for _, m := range members {
		switch m.name {
		case "vectors":
			if !update {
				if restVectorsBad(m.raw) {
					return restFormatPos("vectors", "data did not match any variant of untagged enum VectorsConfig")
				}
				continue
			}
			for _, v := range restMembers(m.raw) {
				for _, c := range restMembers(v.raw) {
					if c.name == "quantization_config" && !engine.QuantizationDecodes(c.raw, true) {
						return restFormatPos("vectors."+v.name+".quantization_config", "data did not match any variant of untagged enum QuantizationConfigDiff")
					}
					if c.name == "hnsw_config" {
						if err := restUnsignedMembers(c.raw, "vectors."+v.name+".hnsw_config", restUnsigned["hnsw_config"]); err != nil {
							return err
						}
					}
				}
			}
		case "quantization_config", "quantization":
			if !engine.QuantizationDecodes(m.raw, update) {
				enum := "QuantizationConfig"
				if update {
					enum = "QuantizationConfigDiff"
				}
				return restFormatPos(m.name, "data did not match any variant of untagged enum %s", enum)
			}
		case "hnsw_config", "wal_config", "optimizers_config", "optimizer_config":
			kinds := restUnsigned[m.name]
			if m.name == "optimizer_config" {
				kinds = restUnsigned["optimizers_config"]
			}
			if m.name == "wal_config" && update {
				continue
			}
			if err := restUnsignedMembers(m.raw, m.name, kinds); err != nil {
				return err
			}
		default:
			if t, ok := restUnsigned[""][m.name]; ok && !update {
				if err := restUnsignedValue(m.raw, m.name, t); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// restUnsignedMembers checks the members of the object raw at path that
// kinds names.
func restUnsignedMembers(raw json.RawMessage, path string, kinds map[string]string) error {
	for _, m := range restMembers(raw) {
		if t, ok := kinds[m.name]; ok {
			if err := restUnsignedValue(m.raw, path+"."+m.name, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// restUnsignedValue returns serde's error for a number that is not an
// unsigned integer, read as type t.
func restUnsignedValue(raw json.RawMessage, path, t string) error {
	num := string(bytes.TrimSpace(raw))
	if num == "" || !(num[0] == '-' || num[0] >= '0' && num[0] <= '9') {
		return nil
	}
	switch {
	case strings.ContainsAny(num, ".eE"):
		return restFormatPos(path, "invalid type: floating point `%s`, expected %s", num, t)
	case num[0] == '-' && num != "-0":
		return restFormatPos(path, "invalid value: integer `%s`, expected %s", num, t)
	}
	if n, err := strconv.ParseUint(num, 10, 64); t == "u32" && err == nil && n > math.MaxUint32 {
		return restFormatPos(path, "invalid value: integer `%s`, expected %s", num, t)
	}
	return nil
}

// restVectorsBad reports whether the "vectors" of a create request fails
// to decode as Qdrant's VectorsConfig: a member of the wrong type, an
// unknown member, a missing or zero size, a missing distance, a negative
// HNSW parameter.
func restVectorsBad(raw json.RawMessage) bool {
	var v engine.VectorsConfig
	if err := json.Unmarshal(raw, &v); err != nil || restDatatypeBad(raw) {
		return true
	}
	for _, p := range v {
		if p.Size == 0 || p.Distance == 0 || !engine.QuantizationDecodes(p.Quantization, false) {
			return true
		}
		if h := p.HNSW; h != nil {
			for _, n := range []*int{h.M, h.EfConstruct, h.FullScanThreshold, h.MaxIndexingThreads, h.PayloadM} {
				if n != nil && *n < 0 {
					return true
				}
			}
		}
	}
	return false
}

// restDatatypeBad reports whether a vector config of the create request's
// "vectors" (the bare one, or any named one) has a datatype serde refuses:
// anything but null and Qdrant's names, "" included.
func restDatatypeBad(raw json.RawMessage) bool {
	members := restMembers(raw)
	configs := []restMember{{raw: raw}}
	if !slices.ContainsFunc(members, func(m restMember) bool { return m.name == "size" || m.name == "distance" }) {
		configs = members
	}
	for _, c := range configs {
		for _, m := range restMembers(c.raw) {
			if m.name != "datatype" {
				continue
			}
			switch string(bytes.TrimSpace(m.raw)) {
			case "null", `"float32"`, `"float16"`, `"uint8"`:
			default:
				return true
			}
		}
	}
	return false
}

// restMember is one member of a JSON object.
type restMember struct {
	name string
	raw  json.RawMessage
}

// restMembers returns the members of the JSON object raw in order (nil
// when raw is not an object).
func restMembers(raw []byte) []restMember {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []restMember
	for dec.More() {
		k, err := dec.Token()
		name, ok := k.(string)
		if err != nil || !ok {
			return out
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return out
		}
		out = append(out, restMember{name, v})
	}
	return out
}

// restNamedVectorPath writes a validation error about a named vector of a
// create request as Qdrant's validation does, with "?" for the name
// ("vectors.?.size").
func restNamedVectorPath(err error, names []string) error {
	var ve *engine.ValidationError
	if !errors.As(err, &ve) || strings.Contains(ve.Msg, "qlite") {
		return err // qlite's own limits name the vector
	}
	for _, n := range names {
		if p := "vectors." + n + "."; n != "" && strings.HasPrefix(ve.Path, p) {
			return &engine.ValidationError{Path: "vectors.?." + ve.Path[len(p):], Msg: ve.Msg}
		}
	}
	return err
}
