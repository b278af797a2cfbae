package compat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Qdrant's format errors end with serde's position, " at line L column
// C", when the failing value was read from the body itself. Most point
// request bodies are read whole into a buffer first (their members are
// flattened next to a shard key selector), so the position is the last
// byte of the body; in batches each element is buffered, so it is the last
// byte of the element. Errors raised while decoding an untagged enum from
// a buffer carry no position at all (the upsert body is one).

// restPos says where a route's positioned format errors point.
type restPos int

const (
	// restPosNone: no position.
	restPosNone restPos = iota
	// restPosBody: the last byte of the body.
	restPosBody
	// restPosElem: the last byte of the element of the top-level array
	// the error is in ("searches[2]"), or of the body when it is in no
	// element.
	restPosElem
	// restPosSeq: as restPosElem, then past what serde reads while
	// closing the array after a failed element: the whitespace and the
	// ',' or ']' that follow it (and the whitespace after a ',').
	restPosSeq
	// restPosMember: the last byte of the member the error is about, then
	// what serde reads while closing the object after a failed member:
	// the whitespace and a '}' that follow it.
	restPosMember
	// restPosValue: the last byte of the value the error is about; when
	// that value is an object or an array (an untagged enum, which serde
	// buffers), then also what serde reads while closing the object it is
	// a member of, as restPosMember.
	restPosValue
)

// restPosRule returns the position rule of the route pattern.
func restPosRule(pattern string) restPos {
	method, path, _ := strings.Cut(pattern, " ")
	if path == "/collections/aliases" {
		return restPosSeq
	}
	path = strings.TrimPrefix(path, "/collections/{collection_name}")
	if path == "" && (method == "PUT" || method == "PATCH") {
		return restPosValue
	}
	if method == "POST" && path == "/points" {
		return restPosBody
	}
	switch path {
	case "/points/scroll", "/points/count":
		return restPosBody
	case "/points/payload", "/index":
		return restPosMember
	case "/points/search", "/points/search/groups", "/points/recommend", "/points/recommend/groups",
		"/points/discover", "/points/query", "/points/query/groups":
		return restPosBody
	case "/points/search/batch", "/points/recommend/batch", "/points/discover/batch",
		"/points/query/batch", "/points/vectors":
		return restPosElem
	case "/points/batch":
		return restPosSeq
	}
	return restPosNone
}

// restRequestState is what the REST handler keeps about one request while
// it runs: the body, once read, to place errors in.
type restRequestState struct {
	body []byte
}

type restStateKey struct{}

// restPosError is a format error about the member at path of the body,
// which Qdrant reports with a position.
type restPosError struct {
	restError
	path string
}

func (e *restPosError) Unwrap() error { return &e.restError }

// restFormatPos is restFormatError about the member at path, reported
// with the position the route's rule gives.
func restFormatPos(path, format string, args ...any) error {
	e := restFormatError(format, args...).(*restError)
	return &restPosError{restError: *e, path: path}
}

// restValidationPrefix returns the name Qdrant's validation errors give
// the request struct of a route, whose members are flattened into the body
// next to shard_key ("search_request.limit"); "" for none.
func restValidationPrefix(pattern string) string {
	_, path, _ := strings.Cut(pattern, " ")
	switch strings.TrimPrefix(path, "/collections/{collection_name}") {
	case "/points/search", "/points/search/batch":
		return "search_request"
	case "/points/query", "/points/query/batch":
		return "internal"
	case "/points/scroll":
		return "scroll_request"
	case "/points/recommend", "/points/recommend/batch":
		return "recommend_request"
	case "/points/discover", "/points/discover/batch":
		return "discover_request"
	case "/points/search/groups", "/points/query/groups":
		return "search_group_request.group_request"
	case "/facet":
		return "facet_request"
	}
	return ""
}

// restPrefixValidation writes prefix into the field of a validation error
// ("[limit: ..." becomes "[search_request.limit: ...", and
// "[searches[0].limit: ..." becomes "[searches[0].search_request.limit: ...").
func restPrefixValidation(err error, prefix string) error {
	const head = "Validation error in JSON body: ["
	var re *restError
	if prefix == "" || !errors.As(err, &re) || re.status != 422 || !strings.HasPrefix(re.msg, head) {
		return err
	}
	field := re.msg[len(head):]
	if prefix == "search_group_request.group_request" && restGroupQueryField(field) {
		// The query of a groups request is not in its group_request.
		prefix = "search_group_request"
	}
	// A message may list several fields ("a.x: ...; a.y: ..."): each of
	// the request's own gets the prefix.
	parts := strings.Split(field, "; ")
	root, _, _ := strings.Cut(parts[0], ".")
	for i, p := range parts {
		if i > 0 && !strings.HasPrefix(p, root+".") {
			continue
		}
		parts[i] = restPrefixField(p, prefix)
	}
	return &restError{re.status, head + strings.Join(parts, "; ")}
}

// restPrefixField writes prefix into one field of a validation error.
func restPrefixField(field, prefix string) string {
	if strings.HasPrefix(field, "searches[") {
		if i := strings.Index(field, "]."); i >= 0 {
			return field[:i+2] + prefix + "." + field[i+2:]
		}
	}
	return prefix + "." + field
}

// restGroupQueryField reports whether a validation error of a groups
// request is about its query or vector.
func restGroupQueryField(field string) bool {
	for _, f := range []string{"query", "vector", "prefetch"} {
		if strings.HasPrefix(field, f+".") || strings.HasPrefix(field, f+"[") {
			return true
		}
	}
	return false
}

// restPlace appends the position of a positioned format error.
func restPlace(err error, rule restPos, body []byte) error {
	var pe *restPosError
	if rule == restPosNone || body == nil || !errors.As(err, &pe) {
		return err
	}
	container := ""
	switch rule {
	case restPosElem, restPosSeq:
		if i := strings.IndexByte(pe.path, ']'); i >= 0 {
			container = pe.path[:i+1]
		}
	case restPosMember, restPosValue:
		container = pe.path
	}
	data := bytes.TrimLeft(body, " \t\r\n")
	if len(bytes.TrimSpace(data)) == 0 {
		return err
	}
	end, ok := restValueEnd(data, container)
	if !ok {
		return err
	}
	end += len(body) - len(data)
	data = body
	switch {
	case rule == restPosSeq && container != "":
		end = restSeqClose(data, end)
	case rule == restPosMember && container != "":
		end = restMapClose(data, end)
	case rule == restPosValue && container != "":
		if restIsCompound(data, container) {
			end = restMapClose(data, end)
		}
	}
	line, col := restLineCol(data, int64(end))
	return &restError{pe.status, fmt.Sprintf("%s at line %d column %d", pe.msg, line, col)}
}

// restValueEnd returns the offset just past the value at path ("a.b[2]")
// of the JSON document data.
func restValueEnd(data []byte, path string) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	for _, part := range restSplitPath(path) {
		tok, err := dec.Token()
		if err != nil {
			return 0, false
		}
		switch tok {
		case json.Delim('{'):
			found := false
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return 0, false
				}
				if k == part {
					found = true
					break
				}
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return 0, false
				}
			}
			if !found {
				return 0, false
			}
		case json.Delim('['):
			n, err := strconv.Atoi(part)
			if err != nil {
				return 0, false
			}
			for ; n > 0; n-- {
				var skip json.RawMessage
				if !dec.More() || dec.Decode(&skip) != nil {
					return 0, false
				}
			}
			if !dec.More() {
				return 0, false
			}
		default:
			return 0, false
		}
	}
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return 0, false
	}
	return int(dec.InputOffset()), true
}

// restSplitPath splits "a.b[2].c" into "a", "b", "2", "c". An empty member
// name (the unnamed vector, "vectors..hnsw_config") is kept.
func restSplitPath(path string) []string {
	if path == "" {
		return nil
	}
	var out []string
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			out = append(out, "")
			continue
		}
		out = append(out, strings.FieldsFunc(seg, func(r rune) bool { return r == '[' || r == ']' })...)
	}
	return out
}

// restSeqClose returns the offset past what serde reads after an array
// element ending at off when the element failed: whitespace, then a ']'
// or a ',' and the whitespace after it.
func restSeqClose(data []byte, off int) int {
	ws := func(i int) int {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
			i++
		}
		return i
	}
	i := ws(off)
	if i < len(data) {
		switch data[i] {
		case ']':
			return i + 1
		case ',':
			return ws(i + 1)
		}
	}
	return i
}

// restMapClose returns the offset past what serde reads after an object
// member ending at off when the member failed: whitespace, then a '}'.
func restMapClose(data []byte, off int) int {
	i := off
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	if i < len(data) && data[i] == '}' {
		return i + 1
	}
	return i
}

// restIsCompound reports whether the value at path ("a.b") of the JSON
// document data is an object or an array.
func restIsCompound(data []byte, path string) bool {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return false
	}
	for _, part := range restSplitPath(path) {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[part]; !ok {
			return false
		}
	}
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}
