package compat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// This file decodes the polymorphic parts of Qdrant's REST bodies (point
// ids, vectors, selectors, filters, queries) and encodes points back. Request
// structs keep such members as json.RawMessage and the functions here read
// them with the member's path, so that errors name the field as Qdrant's
// do. Numbers that are point ids or payload values never pass through
// float64.

// restDecode decodes a JSON body into v. An empty body reads as {}. Errors
// are 400 "Format error in JSON body: ...".
func restDecode(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		data = []byte("{}")
	}
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var re *restError
	var ve *engine.ValidationError
	if errors.As(err, &re) || errors.As(err, &ve) {
		return err
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := restLineCol(data, se.Offset)
		return restFormatError("%s at line %d column %d", se.Error(), line, col)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return restFormatPos("", "%s", restSerdeTypeError(te, data))
	}
	return restFormatPos("", "%s", restTrimQlite(err.Error()))
}

// restSerdeTypeError describes a JSON type mismatch in serde's words, as
// Qdrant reports it: "invalid type: string \"x\", expected usize",
// "invalid value: integer `-1`, expected usize". data is the document the
// error's offset is in.
func restSerdeTypeError(te *json.UnmarshalTypeError, data []byte) string {
	t := te.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	exp := restKind(t)
	unsigned := false
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		exp, unsigned = "usize", true
	}
	switch {
	case strings.HasPrefix(te.Value, "number "):
		num := strings.TrimPrefix(te.Value, "number ")
		switch {
		case strings.ContainsAny(num, ".eE"):
			return fmt.Sprintf("invalid type: floating point `%s`, expected %s", num, exp)
		case unsigned && strings.HasPrefix(num, "-"):
			return fmt.Sprintf("invalid value: integer `%s`, expected %s", num, exp)
		}
		return fmt.Sprintf("invalid type: integer `%s`, expected %s", num, exp)
	case te.Value == "string":
		return fmt.Sprintf("invalid type: string %s, expected %s", restTokenBefore(data, te.Offset), exp)
	case te.Value == "bool":
		return fmt.Sprintf("invalid type: boolean `%s`, expected %s", restTokenBefore(data, te.Offset), exp)
	case te.Value == "array":
		return "invalid type: sequence, expected " + exp
	case te.Value == "object":
		return "invalid type: map, expected " + exp
	}
	return fmt.Sprintf("invalid type: %s, expected %s", te.Value, exp)
}

// restTokenBefore returns the scalar JSON token that ends at offset end of
// data (a string with its quotes).
func restTokenBefore(data []byte, end int64) string {
	if end <= 0 || end > int64(len(data)) {
		return ""
	}
	i := int(end) - 1
	if data[i] == '"' {
		for j := i - 1; j >= 0; j-- {
			if data[j] == '"' && (j == 0 || data[j-1] != '\\') {
				return string(data[j:end])
			}
		}
		return string(data[:end])
	}
	j := i
	for j >= 0 && bytes.IndexByte([]byte(" \t\r\n:,[{"), data[j]) < 0 {
		j--
	}
	return string(data[j+1 : end])
}

// restLineCol returns the 1-based line and column of byte offset off.
func restLineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}

// restTypeErrorText describes a JSON type mismatch as serde does: "field:
// invalid type: string, expected an unsigned integer".
func restTypeErrorText(te *json.UnmarshalTypeError) string {
	msg := fmt.Sprintf("invalid type: %s, expected %s", te.Value, restKind(te.Type))
	if te.Field != "" {
		msg = te.Field + ": " + msg
	}
	return msg
}

// restKind describes the JSON a Go type accepts.
func restKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an unsigned integer"
	case reflect.Float32:
		return "f32"
	case reflect.Float64:
		return "f64"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a sequence"
	case reflect.Struct, reflect.Map:
		return "a map"
	}
	return t.String()
}

// restTrimQlite drops the sentinel prefixes of qlite's errors ("qlite: bad
// request: "), leaving the detail.
func restTrimQlite(msg string) string {
	for _, p := range []string{
		engine.ErrBadRequest.Error() + ": ",
		filter.ErrBadPointID.Error() + ": ",
		payload.ErrBadIndexParams.Error() + ": ",
		payload.ErrInvalidJSON.Error() + ": ",
		"qlite: ",
	} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// restFormatAt is restFormatError about the member at path ("" for the
// body itself). As in Qdrant, the message does not name the member; the
// route places it with a position (see restPlace).
func restFormatAt(path, format string, args ...any) error {
	return restFormatPos(path, format, args...)
}

// restMissing is serde's error for a required member that is absent.
func restMissing(path, field string) error {
	return restFormatAt(path, "missing field `%s`", field)
}

// restMissingAt is restMissing for the member at path ("a.b" is member b
// of a).
func restMissingAt(path string) error {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return restMissing(path[:i], path[i+1:])
	}
	return restMissing("", path)
}

// restJoin joins a field path and a member name.
func restJoin(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// restIndex is path[i].
func restIndex(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// restIsNull reports whether raw is absent or null.
func restIsNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// restFirst returns the first byte of the JSON value raw ('{', '[', '"',
// 't', 'f', 'n', or a digit or '-' for a number), or 0 when absent.
func restFirst(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// restDescribe names the kind of the JSON value raw for error messages.
func restDescribe(raw json.RawMessage) string {
	switch c := restFirst(raw); {
	case c == '{':
		return "map"
	case c == '[':
		return "sequence"
	case c == '"':
		return "string " + string(bytes.TrimSpace(raw))
	case c == 't' || c == 'f':
		return "boolean `" + string(bytes.TrimSpace(raw)) + "`"
	case c == 'n':
		return "null"
	case c == 0:
		return "nothing"
	}
	return "number " + string(bytes.TrimSpace(raw))
}

// restUnmarshal decodes raw into v, reporting errors under path.
func restUnmarshal(raw json.RawMessage, path string, v any) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var re *restError
	if errors.As(err, &re) {
		return err
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return restFormatPos(path, "%s", restSerdeTypeError(te, raw))
	}
	return restFormatAt(path, "%s", restTrimQlite(err.Error()))
}

// restObject decodes the JSON object raw into its members.
func restObject(raw json.RawMessage, path string) (map[string]json.RawMessage, error) {
	if restFirst(raw) != '{' {
		return nil, restFormatAt(path, "invalid type: %s, expected a map", restDescribe(raw))
	}
	var m map[string]json.RawMessage
	if err := restUnmarshal(raw, path, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// restArray decodes the JSON array raw into its elements.
func restArray(raw json.RawMessage, path string) ([]json.RawMessage, error) {
	if restFirst(raw) != '[' {
		return nil, restFormatAt(path, "invalid type: %s, expected a sequence", restDescribe(raw))
	}
	var a []json.RawMessage
	if err := restUnmarshal(raw, path, &a); err != nil {
		return nil, err
	}
	return a, nil
}

// restOneOrMany decodes a member that is one value or an array of them.
func restOneOrMany(raw json.RawMessage, path string) ([]json.RawMessage, error) {
	if restIsNull(raw) {
		return nil, nil
	}
	if restFirst(raw) == '[' {
		return restArray(raw, path)
	}
	return []json.RawMessage{raw}, nil
}

// restID reads a point id: an unsigned integer or a UUID string.
func restID(raw json.RawMessage, path string) (filter.PointID, error) {
	var id filter.PointID
	if err := id.UnmarshalJSON(bytes.TrimSpace(raw)); err != nil {
		return id, restFormatAt(path, "%s", restTrimQlite(err.Error()))
	}
	return id, nil
}

// restIDs reads an array of point ids.
func restIDs(raw json.RawMessage, path string) ([]filter.PointID, error) {
	elems, err := restArray(raw, path)
	if err != nil {
		return nil, err
	}
	ids := make([]filter.PointID, len(elems))
	for i, e := range elems {
		if ids[i], err = restID(e, restIndex(path, i)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// restFilter reads a filter with filter.ParseJSON (REST semantics: a present
// empty should matches nothing); null and absent give nil.
func restFilter(raw json.RawMessage, path string) (*filter.Filter, error) {
	if restIsNull(raw) {
		return nil, nil
	}
	f, err := filter.ParseJSON(raw)
	if err == nil {
		return f, nil
	}
	var fe *filter.Error
	if errors.As(err, &fe) {
		p := path + strings.TrimPrefix(fe.Path, "filter")
		if fe.Validation {
			return nil, restValidationError(p, "%s", fe.Msg)
		}
		return nil, restFormatAt(p, "%s", fe.Msg)
	}
	return nil, restFormatAt(path, "%s", restTrimQlite(err.Error()))
}

// restPayload reads a payload: a JSON object, or null for none.
func restPayload(raw json.RawMessage, path string) (payload.Value, error) {
	if restIsNull(raw) {
		return payload.Value{}, nil
	}
	v, err := payload.ParseJSON(raw)
	if err != nil {
		return v, restFormatAt(path, "%s", restTrimQlite(err.Error()))
	}
	if v.Kind() != payload.Object {
		return v, restFormatAt(path, "invalid type: %s, expected a map", restDescribe(raw))
	}
	return v, nil
}

// restWithPayload reads with_payload: a bool, a list of keys to include,
// {"include": [...]} or {"exclude": [...]}. def applies when it is absent.
// It returns the selector to give the engine and whether the answer carries
// payloads (an empty include list asks for empty payloads).
func restWithPayload(raw json.RawMessage, path string, def bool) (engine.PayloadSelector, bool, error) {
	var sel engine.PayloadSelector
	// Qdrant reads with_payload as an untagged enum with its own message
	// for a value that is none of its forms; the list of keys must be
	// valid key paths.
	bad := restFormatPos(path, "Expected a boolean, an array of strings, or an object with an include/exclude field")
	keys := func(raw json.RawMessage) ([]string, error) {
		var keys []string
		if restFirst(raw) != '[' || json.Unmarshal(raw, &keys) != nil {
			return nil, bad
		}
		for _, k := range keys {
			if _, err := payload.ParsePath(k); err != nil {
				return nil, bad
			}
		}
		return keys, nil
	}
	switch restFirst(raw) {
	case 0, 'n':
		sel.Enable = def
		return sel, def, nil
	case 't', 'f':
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return sel, false, bad
		}
		sel.Enable = b
		return sel, b, nil
	case '[':
		k, err := keys(raw)
		if err != nil {
			return sel, false, err
		}
		if len(k) > 0 {
			sel.Include = k
		}
		return sel, true, nil
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil || len(m) != 1 {
			return sel, false, bad
		}
		if inc, ok := m["include"]; ok {
			k, err := keys(inc)
			if err != nil {
				return sel, false, err
			}
			if len(k) > 0 {
				sel.Include = k
			}
			return sel, true, nil
		}
		if exc, ok := m["exclude"]; ok {
			k, err := keys(exc)
			if err != nil {
				return sel, false, err
			}
			sel.Enable, sel.Exclude = true, k
			return sel, true, nil
		}
	}
	return sel, false, bad
}

// restWithVector reads with_vector: a bool or a list of vector names.
func restWithVector(raw json.RawMessage, path string, def bool) (engine.VectorSelector, error) {
	var sel engine.VectorSelector
	switch restFirst(raw) {
	case 0, 'n':
		sel.Enable = def
		return sel, nil
	case 't', 'f':
		var b bool
		err := restUnmarshal(raw, path, &b)
		sel.Enable = b
		return sel, err
	case '[':
		var names []string
		if err := restUnmarshal(raw, path, &names); err != nil {
			return sel, err
		}
		sel.Enable, sel.Names = len(names) > 0, names
		return sel, nil
	}
	return sel, restFormatAt(path, "data did not match any variant of untagged enum WithVector")
}

// restWithVectorField picks with_vector, or its alias with_vectors.
func restWithVectorField(withVector, withVectors json.RawMessage) json.RawMessage {
	if !restIsNull(withVector) {
		return withVector
	}
	return withVectors
}

// restShardKey rejects a shard key selector: qlite collections have one
// shard and no shard keys.
func restShardKey(raw json.RawMessage, path string) error {
	if restIsNull(raw) {
		return nil
	}
	return Unsupported(path + " (custom sharding)")
}

// restArrayDepth counts the leading '[' of raw: 1 for a vector, 2 for a
// multivector or a batch of vectors.
func restArrayDepth(raw json.RawMessage) int {
	n := 0
	for _, c := range bytes.TrimSpace(raw) {
		switch c {
		case '[':
			n++
			continue
		case ' ', '\t', '\n', '\r':
			continue
		}
		break
	}
	return n
}

// errRestNotVector is restDense's error for an array that is not all
// numbers; the caller reports the untagged enum it was reading, as Qdrant
// does.
var errRestNotVector = errors.New("qlite: not a vector")

// restDense reads a dense vector (an array of numbers). An element that is
// not a number, null included (the Python client's NaN), is
// errRestNotVector; an empty vector is a validation error.
func restDense(raw json.RawMessage, path string) ([]float32, error) {
	// The array holds numbers only, so "null" can only be an element.
	if bytes.Contains(raw, []byte("null")) {
		return nil, errRestNotVector
	}
	var v []float32
	if err := json.Unmarshal(raw, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, restFormatAt(path, "%s", err)
		}
		return nil, errRestNotVector
	}
	if len(v) == 0 {
		return nil, restValidationError(path, "value invalid, must not be empty")
	}
	return v, nil
}

// restQueryDense is restDense for a query vector: an empty one is left to
// the engine, which reports its dimension as Qdrant does.
func restQueryDense(raw json.RawMessage, path string) ([]float32, error) {
	v, err := restDense(raw, path)
	var re *restError
	if errors.As(err, &re) && re.status == http.StatusUnprocessableEntity {
		return []float32{}, nil
	}
	return v, err
}

// restInferenceKind tells which inference input the object m is: Qdrant's
// Document ({"text", "model"}), Image or InferenceObject; "" for none.
func restInferenceKind(m map[string]json.RawMessage) string {
	if _, ok := m["model"]; !ok {
		return ""
	}
	switch {
	case m["text"] != nil:
		return "document"
	case m["image"] != nil:
		return "image"
	case m["object"] != nil:
		return "object"
	}
	return ""
}

// restDocument reads a Document {"text", "model", "options"} and embeds it
// (see embedDocument); query says which side. An Image or InferenceObject
// needs an inference service (errNoInference); a member of the wrong type
// is errRestNotVector.
func restDocument(m map[string]json.RawMessage, kind string, query bool) (engine.SparseVector, error) {
	var model, text string
	if restFirst(m["model"]) != '"' || json.Unmarshal(m["model"], &model) != nil {
		return engine.SparseVector{}, errRestNotVector
	}
	if kind != "document" {
		return engine.SparseVector{}, errNoInference
	}
	if restFirst(m["text"]) != '"' || json.Unmarshal(m["text"], &text) != nil {
		return engine.SparseVector{}, errRestNotVector
	}
	var options json.RawMessage
	if o := m["options"]; !restIsNull(o) {
		if restFirst(o) != '{' {
			return engine.SparseVector{}, errRestNotVector
		}
		options = o
	}
	return embedDocument(text, model, options, query)
}

// restSparse reads a sparse vector {"indices", "values"} and validates it
// as Qdrant does, naming vpath in the message. A missing member or an
// element of the wrong type (a negative index, a null value) is
// errRestNotVector. Values too large for a float32 become infinities, as
// in Qdrant.
func restSparse(m map[string]json.RawMessage, vpath string) (engine.SparseVector, error) {
	if restIsNull(m["indices"]) || restIsNull(m["values"]) || bytes.Contains(m["values"], []byte("null")) {
		return engine.SparseVector{}, errRestNotVector
	}
	var v engine.SparseVector
	if err := json.Unmarshal(m["indices"], &v.Indices); err != nil {
		return v, errRestNotVector
	}
	var vals []float64
	if err := json.Unmarshal(m["values"], &vals); err != nil {
		return v, errRestNotVector
	}
	if v.Indices == nil {
		v.Indices = []uint32{}
	}
	v.Values = make([]float32, len(vals))
	for i, x := range vals {
		v.Values[i] = float32(x)
	}
	return v, restSparseCheck(v, vpath)
}

// restSparseOrDocument reads an object that is a sparse vector or, failing
// that, an inference input (the order in which Qdrant tries the variants):
// a Document is embedded, query side when query is set.
func restSparseOrDocument(m map[string]json.RawMessage, vpath string, query bool) (engine.SparseVector, error) {
	sv, err := restSparse(m, vpath)
	if !errors.Is(err, errRestNotVector) {
		return sv, err
	}
	if kind := restInferenceKind(m); kind != "" {
		return restDocument(m, kind, query)
	}
	return sv, err
}

// restVector reads one vector of a named-vector map (Qdrant's Vector): a
// dense array, a sparse vector or a Document (embedded document side);
// vpath is where Qdrant's validation messages put it. Multivectors are
// rejected naming the feature.
func restVector(raw json.RawMessage, path, vpath string) (vectorIn, error) {
	switch restFirst(raw) {
	case '[':
		if restArrayDepth(raw) >= 2 {
			return restMultiOrSparse(raw, vpath)
		}
		v, err := restDense(raw, path)
		return vectorIn{dense: v}, err
	case '{':
		m, err := restObject(raw, path)
		if err != nil {
			return vectorIn{}, err
		}
		sv, err := restSparseOrDocument(m, vpath, false)
		return vectorIn{sparse: &sv}, err
	}
	return vectorIn{}, restFormatAt(path, "data did not match any variant of untagged enum Vector")
}

// restBatchInference is Qdrant's answer to inference inputs given as the
// unnamed vectors of a batch.
var restBatchInference = &restError{http.StatusBadRequest, "Direct Document processing is not supported in top-level batch vectors. Use named vectors."}

// restUnnamedInference is Qdrant's answer to an inference input given as
// the unnamed vector: a BM25 document makes a sparse vector, which must be
// named; anything else needs an inference service. A malformed one is
// errRestNotVector.
func restUnnamedInference(m map[string]json.RawMessage, kind string) error {
	if _, err := restDocument(m, kind, false); errors.Is(err, errRestNotVector) || errors.Is(err, errNoInference) {
		return err
	}
	return errUnnamedDocument
}

// restVectorStruct reads the vectors of a point (Qdrant's VectorStruct): a
// dense array for the unnamed vector, or a map of named vectors (dense,
// sparse or Documents). vpath is where Qdrant's validation messages put the
// map's members.
func restVectorStruct(raw json.RawMessage, path, vpath string) (pointVectors, error) {
	out := pointVectors{dense: map[string][]float32{}}
	switch restFirst(raw) {
	case '[':
		if restArrayDepth(raw) >= 2 {
			mv, err := restMulti(raw, vpath)
			if err != nil {
				return out, restEnum(err, path, restEnumVectorStruct)
			}
			out.add("", vectorIn{multi: mv})
			return out, nil
		}
		v, err := restDense(raw, path)
		if err != nil {
			return out, restEnum(err, path, restEnumVectorStruct)
		}
		out.dense[""] = v
		return out, nil
	case '{':
		m, err := restObject(raw, path)
		if err != nil {
			return out, err
		}
		if kind := restInferenceKind(m); kind != "" {
			return out, restEnum(restUnnamedInference(m, kind), path, restEnumVectorStruct)
		}
		for name, v := range m {
			vec, err := restVector(v, restJoin(path, name), vpath+".?")
			if err != nil {
				return out, restEnum(err, path, restEnumVectorStruct)
			}
			out.add(name, vec)
		}
		return out, nil
	}
	return out, restFormatAt(path, "data did not match any variant of untagged enum VectorStruct")
}

// restEnum reports errRestNotVector, from inside a value read as the
// untagged enum msg names, as Qdrant does: msg about the member at path,
// with the route's position. Other errors pass through.
func restEnum(err error, path, msg string) error {
	if errors.Is(err, errRestNotVector) {
		return restFormatPos(path, "%s", msg)
	}
	return err
}

// Qdrant's messages for a value that is none of the variants of the enums
// vectors are read as.
const (
	restEnumVectorStruct      = "data did not match any variant of untagged enum VectorStruct"
	restEnumBatchVectorStruct = "data did not match any variant of untagged enum BatchVectorStruct"
	restEnumNamedVectorStruct = "data did not match any variant of untagged enum NamedVectorStruct"
	restEnumRecommendExample  = "data did not match any variant of untagged enum RecommendExample"
	restEnumQueryInterface    = "Expected some form of vector, id, or a type of query"
	restEnumUpdateOperation   = "data did not match any variant of untagged enum UpdateOperation"
)

// restBatchVectors reads the vectors of a batch (Qdrant's
// BatchVectorStruct): one dense array per point, or a map from names to one
// vector per point. n is the number of ids; vpath is where Qdrant's
// validation messages put the vectors.
func restBatchVectors(raw json.RawMessage, path, vpath string, n int) ([]pointVectors, error) {
	out := make([]pointVectors, n)
	for i := range out {
		out[i].dense = map[string][]float32{}
	}
	switch restFirst(raw) {
	case '[':
		elems, err := restArray(raw, path)
		if err != nil {
			return nil, err
		}
		if len(elems) > 0 {
			switch c := restFirst(elems[0]); {
			case c == '{':
				m, err := restObject(elems[0], restIndex(path, 0))
				if err != nil {
					return nil, err
				}
				if kind := restInferenceKind(m); kind != "" {
					return nil, restBatchInference
				}
				return nil, restFormatPos(path, "%s", restEnumBatchVectorStruct)
			}
		}
		if len(elems) != n {
			return nil, restValidationError(vpath+".batch", "number of ids and vectors must be equal (%d != %d)", n, len(elems))
		}
		for i, e := range elems {
			if restArrayDepth(e) >= 2 {
				mv, err := restMulti(e, vpath+".?")
				if err != nil {
					return nil, restEnum(err, path, restEnumBatchVectorStruct)
				}
				out[i].add("", vectorIn{multi: mv})
				continue
			}
			v, err := restDense(e, restIndex(path, i))
			if err != nil {
				return nil, restEnum(err, path, restEnumBatchVectorStruct)
			}
			out[i].dense[""] = v
		}
		return out, nil
	case '{':
		m, err := restObject(raw, path)
		if err != nil {
			return nil, err
		}
		for name, vs := range m {
			p := restJoin(path, name)
			elems, err := restArray(vs, p)
			if err != nil {
				return nil, err
			}
			if len(elems) != n {
				return nil, restValidationError(vpath+".batch", "number of ids and vectors must be equal (%d != %d)", n, len(elems))
			}
			for i, e := range elems {
				v, err := restVector(e, restIndex(p, i), vpath+".?")
				if err != nil {
					return nil, restEnum(err, path, restEnumBatchVectorStruct)
				}
				out[i].add(name, v)
			}
		}
		return out, nil
	}
	return nil, restFormatAt(path, "data did not match any variant of untagged enum BatchVectorStruct")
}

// restNamedVector reads the vector of a legacy search (Qdrant's
// NamedVectorStruct): a dense array for the unnamed vector, or {"name": ...,
// "vector": ...} with a dense or a sparse vector.
func restNamedVector(raw json.RawMessage, path string) (string, engine.Example, error) {
	switch restFirst(raw) {
	case 0, 'n':
		return "", engine.Example{}, restMissingAt(path)
	case '[':
		v, err := restQueryDense(raw, path)
		return "", engine.Example{Vector: v}, restEnum(err, path, restEnumNamedVectorStruct)
	case '{':
		m, err := restObject(raw, path)
		if err != nil {
			return "", engine.Example{}, err
		}
		if _, ok := m["indices"]; ok {
			// A bare sparse vector is no NamedVectorStruct.
			return "", engine.Example{}, restFormatPos(path, "%s", restEnumNamedVectorStruct)
		}
		if restIsNull(m["name"]) {
			return "", engine.Example{}, restMissing(path, "name")
		}
		var name string
		if err := restUnmarshal(m["name"], restJoin(path, "name"), &name); err != nil {
			return "", engine.Example{}, err
		}
		vec := m["vector"]
		switch restFirst(vec) {
		case '{':
			vm, err := restObject(vec, restJoin(path, "vector"))
			if err != nil {
				return "", engine.Example{}, err
			}
			sv, err := restSparse(vm, restJoin(path, "vector"))
			return name, engine.Example{Sparse: &sv}, restEnum(err, path, restEnumNamedVectorStruct)
		case '[':
			v, err := restQueryDense(vec, restJoin(path, "vector"))
			return name, engine.Example{Vector: v}, restEnum(err, path, restEnumNamedVectorStruct)
		}
		return "", engine.Example{}, restMissing(path, "vector")
	}
	return "", engine.Example{}, restFormatAt(path, "data did not match any variant of untagged enum NamedVectorStruct")
}

// restExampleVPath is where Qdrant's validation messages put a sparse
// vector read at path: the path itself, except that the universal query's
// recommend examples and context pairs are named by their query
// ("query.recommend", "query.context").
func restExampleVPath(path string) string {
	if i := strings.LastIndex(path, ".recommend."); i >= 0 && !strings.Contains(path[i+len(".recommend."):], ".") {
		return path[:i+len(".recommend")]
	}
	for _, ctx := range []string{"query.context", "query.context["} {
		i := strings.LastIndex(path, ctx)
		if i < 0 || (i > 0 && path[i-1] != '.') {
			continue
		}
		rest := path[i+len("query.context"):]
		if j := strings.IndexByte(rest, ']'); strings.HasPrefix(rest, "[") && j >= 0 {
			rest = rest[j+1:]
		}
		if rest == ".positive" || rest == ".negative" {
			return path[:i+len("query.context")]
		}
	}
	return path
}

// restExample reads a vector input (Qdrant's VectorInput and
// RecommendExample): a point id, a dense or a sparse vector, or, where
// docs is set (the universal query API), a Document embedded query side.
// Multivectors are rejected naming the feature.
func restExample(raw json.RawMessage, path string, docs bool) (engine.Example, error) {
	switch c := restFirst(raw); {
	case c == '[':
		if restArrayDepth(raw) >= 2 {
			v, err := restMultiOrSparse(raw, restExampleVPath(path))
			return v.example(), err
		}
		v, err := restQueryDense(raw, path)
		return engine.Example{Vector: v}, err
	case c == '"' || c == '-' || (c >= '0' && c <= '9'):
		id, err := restID(raw, path)
		return engine.Example{ID: &id}, err
	case c == '{':
		m, err := restObject(raw, path)
		if err != nil {
			return engine.Example{}, err
		}
		if !docs {
			sv, err := restSparse(m, restExampleVPath(path))
			return engine.Example{Sparse: &sv}, err
		}
		sv, err := restSparseOrDocument(m, restExampleVPath(path), true)
		return engine.Example{Sparse: &sv}, err
	}
	return engine.Example{}, restFormatAt(path, "data did not match any variant of untagged enum VectorInput")
}

// restExamples reads a list of examples; null and absent give none.
func restExamples(raw json.RawMessage, path string, docs bool) ([]engine.Example, error) {
	if restIsNull(raw) {
		return nil, nil
	}
	elems, err := restArray(raw, path)
	if err != nil {
		return nil, err
	}
	out := make([]engine.Example, len(elems))
	for i, e := range elems {
		if out[i], err = restExample(e, restIndex(path, i), docs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// restContext reads discovery context pairs: one {"positive", "negative"}
// object or an array of them.
func restContext(raw json.RawMessage, path string, docs bool) ([]engine.ContextPair, error) {
	elems, err := restOneOrMany(raw, path)
	if err != nil {
		return nil, err
	}
	out := make([]engine.ContextPair, 0, len(elems))
	for i, e := range elems {
		p := path
		if restFirst(raw) == '[' {
			p = restIndex(path, i)
		}
		m, err := restObject(e, p)
		if err != nil {
			return nil, err
		}
		var pair engine.ContextPair
		for _, side := range []struct {
			name string
			dst  *engine.Example
		}{{"positive", &pair.Positive}, {"negative", &pair.Negative}} {
			v, ok := m[side.name]
			if !ok || restIsNull(v) {
				return nil, restFormatAt(p, "missing field `%s`", side.name)
			}
			if *side.dst, err = restExample(v, restJoin(p, side.name), docs); err != nil {
				return nil, err
			}
		}
		out = append(out, pair)
	}
	return out, nil
}

// restStrategy reads a recommendation strategy.
func restStrategy(raw json.RawMessage, path string) (engine.RecommendStrategy, error) {
	if restIsNull(raw) {
		return "", nil
	}
	var s string
	if err := restUnmarshal(raw, path, &s); err != nil {
		return "", err
	}
	switch engine.RecommendStrategy(s) {
	case engine.AverageVector, engine.BestScore, engine.SumScores:
		return engine.RecommendStrategy(s), nil
	}
	return "", restFormatAt(path, "unknown variant `%s`, expected one of `average_vector`, `best_score`, `sum_scores`", s)
}

// restOrderBy reads order_by: a key, or {"key", "direction", "start_from"}.
// start_from is a number or a datetime (ordered by its microseconds, as the
// engine orders datetime fields).
func restOrderBy(raw json.RawMessage, path string) (*engine.OrderBy, error) {
	switch restFirst(raw) {
	case 0, 'n':
		return nil, nil
	case '"':
		var key string
		if err := restUnmarshal(raw, path, &key); err != nil {
			return nil, err
		}
		return &engine.OrderBy{Key: key}, nil
	case '{':
		var ob struct {
			Key       *string         `json:"key"`
			Direction *string         `json:"direction"`
			StartFrom json.RawMessage `json:"start_from"`
		}
		if err := restUnmarshal(raw, path, &ob); err != nil {
			return nil, err
		}
		if ob.Key == nil {
			return nil, restMissing(path, "key")
		}
		out := &engine.OrderBy{Key: *ob.Key}
		if ob.Direction != nil {
			switch *ob.Direction {
			case "asc":
			case "desc":
				out.Descending = true
			default:
				return nil, restFormatError("%s.direction: unknown variant `%s`, expected `asc` or `desc`", path, *ob.Direction)
			}
		}
		switch c := restFirst(ob.StartFrom); {
		case c == 0 || c == 'n':
		case c == '"':
			var s string
			if err := restUnmarshal(ob.StartFrom, restJoin(path, "start_from"), &s); err != nil {
				return nil, err
			}
			t, err := payload.ParseDatetime(s)
			if err != nil {
				return nil, restFormatError("%s.start_from: %s", path, restTrimQlite(err.Error()))
			}
			f := float64(t.UnixMicro())
			out.StartFrom = &f
		default:
			var f float64
			if err := restUnmarshal(ob.StartFrom, restJoin(path, "start_from"), &f); err != nil {
				return nil, err
			}
			out.StartFrom = &f
		}
		return out, nil
	}
	return nil, restFormatAt(path, "data did not match any variant of untagged enum OrderByInterface")
}

// restLookup reads lookup_from {"collection", "vector"}.
func restLookup(raw json.RawMessage, path string) (*engine.LookupFrom, error) {
	if restIsNull(raw) {
		return nil, nil
	}
	var l struct {
		Collection *string         `json:"collection"`
		Vector     *string         `json:"vector"`
		ShardKey   json.RawMessage `json:"shard_key"`
	}
	if err := restUnmarshal(raw, path, &l); err != nil {
		return nil, err
	}
	if l.Collection == nil {
		return nil, restMissing(path, "collection")
	}
	if err := restShardKey(l.ShardKey, restJoin(path, "shard_key")); err != nil {
		return nil, err
	}
	out := &engine.LookupFrom{Collection: *l.Collection}
	if l.Vector != nil {
		out.Vector = *l.Vector
	}
	return out, nil
}

// restSearchParams is Qdrant's SearchParams; qlite searches exactly when
// asked and otherwise through its graph with hnsw_ef, and accepts the rest.
type restSearchParams struct {
	HnswEf       *uint64         `json:"hnsw_ef"`
	Exact        *bool           `json:"exact"`
	Quantization json.RawMessage `json:"quantization"`
	IndexedOnly  *bool           `json:"indexed_only"`
	Acorn        json.RawMessage `json:"acorn"`
}

// oversampling returns quantization.oversampling, when given.
func (p *restSearchParams) oversampling() *float64 {
	if p == nil || len(p.Quantization) == 0 {
		return nil
	}
	var q struct {
		Oversampling *float64 `json:"oversampling"`
	}
	if json.Unmarshal(p.Quantization, &q) != nil {
		return nil
	}
	return q.Oversampling
}

// quant returns the quantization search parameters.
func (p *restSearchParams) quant() engine.QuantParams {
	if p == nil || len(p.Quantization) == 0 {
		return engine.QuantParams{}
	}
	var q struct {
		Ignore       *bool    `json:"ignore"`
		Rescore      *bool    `json:"rescore"`
		Oversampling *float64 `json:"oversampling"`
	}
	if json.Unmarshal(p.Quantization, &q) != nil {
		return engine.QuantParams{}
	}
	out := engine.QuantParams{Ignore: q.Ignore != nil && *q.Ignore, Rescore: q.Rescore}
	if q.Oversampling != nil {
		out.Oversampling = *q.Oversampling
	}
	return out
}

// check reads quantization and acorn as Qdrant does (a member of the
// wrong type does not decode) and validates their ranges.
func (p *restSearchParams) check(path string) error {
	if p == nil {
		return nil
	}
	var q struct {
		Ignore       *bool    `json:"ignore"`
		Rescore      *bool    `json:"rescore"`
		Oversampling *float64 `json:"oversampling"`
	}
	var a struct {
		Enable         *bool    `json:"enable"`
		MaxSelectivity *float64 `json:"max_selectivity"`
	}
	if !restIsNull(p.Quantization) {
		if _, err := restObject(p.Quantization, restJoin(path, "quantization")); err != nil {
			return err
		}
		if err := restUnmarshal(p.Quantization, restJoin(path, "quantization"), &q); err != nil {
			return err
		}
	}
	if !restIsNull(p.Acorn) {
		if _, err := restObject(p.Acorn, restJoin(path, "acorn")); err != nil {
			return err
		}
		if err := restUnmarshal(p.Acorn, restJoin(path, "acorn"), &a); err != nil {
			return err
		}
	}
	if bad := searchParamsProblems(q.Oversampling, a.MaxSelectivity, path); len(bad) > 0 {
		return &restError{http.StatusUnprocessableEntity, "Validation error in JSON body: [" + strings.Join(bad, "; ") + "]"}
	}
	return nil
}

// searchParamsProblems returns the validation errors of the search
// parameters at path (both transports): "field: message".
func searchParamsProblems(oversampling, maxSelectivity *float64, path string) []string {
	var bad []string
	if o := oversampling; o != nil && !(*o >= 1) {
		bad = append(bad, fmt.Sprintf("%s: value %s invalid, must be 1.0 or larger", restJoin(path, "quantization.oversampling"), rustFloat64(*o)))
	}
	if s := maxSelectivity; s != nil && !(*s >= 0 && *s <= 1) {
		bad = append(bad, fmt.Sprintf("%s: value %s invalid, must be from 0.0 to 1.0", restJoin(path, "acorn.max_selectivity"), rustFloat64(*s)))
	}
	return bad
}

// rustFloat64 formats f as Rust's Display does: always with a fraction.
func rustFloat64(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eEIN") {
		s += ".0"
	}
	return s
}

// values returns hnsw_ef (capped to an int) and exact.
func (p *restSearchParams) values() (int, bool) {
	if p == nil {
		return 0, false
	}
	ef := 0
	if p.HnswEf != nil {
		ef = int(min(*p.HnswEf, math.MaxInt32))
	}
	return ef, p.Exact != nil && *p.Exact
}

// restVectorOut encodes a point's vectors: an array when the point's only
// vector is the unnamed one (a collection with the unnamed vector only),
// a map of names otherwise, sparse vectors as {"indices", "values"}.
func restVectorOut(vs map[string][]float32, multi map[string][][]float32, sparse map[string]engine.SparseVector) any {
	if v, ok := vs[""]; ok && len(vs) == 1 && len(sparse) == 0 && len(multi) == 0 {
		return v
	}
	if v, ok := multi[""]; ok && len(vs) == 0 && len(sparse) == 0 && len(multi) == 1 {
		return v
	}
	if len(sparse) == 0 && len(multi) == 0 {
		return vs
	}
	out := make(map[string]any, len(vs)+len(multi)+len(sparse))
	for name, v := range vs {
		out[name] = v
	}
	for name, v := range multi {
		out[name] = v
	}
	for name, v := range sparse {
		out[name] = restSparseOut(v)
	}
	return out
}

// restSparseVector is Qdrant's SparseVector as answers write it; values
// that are not finite are written as null, as serde writes them.
type restSparseVector struct {
	Indices []uint32    `json:"indices"`
	Values  []restScore `json:"values"`
}

func restSparseOut(v engine.SparseVector) restSparseVector {
	out := restSparseVector{Indices: v.Indices, Values: make([]restScore, len(v.Values))}
	if out.Indices == nil {
		out.Indices = []uint32{}
	}
	for i, x := range v.Values {
		out.Values[i] = restScore(x)
	}
	return out
}

// restRecord is Qdrant's Record.
type restRecord struct {
	ID         filter.PointID `json:"id"`
	Payload    *payload.Value `json:"payload,omitempty"`
	Vector     any            `json:"vector,omitempty"`
	OrderValue *payload.Value `json:"order_value,omitempty"`
}

// restScoredPoint is Qdrant's ScoredPoint.
type restScoredPoint struct {
	ID         filter.PointID `json:"id"`
	Version    uint64         `json:"version"`
	Score      restScore      `json:"score"`
	Payload    *payload.Value `json:"payload,omitempty"`
	Vector     any            `json:"vector,omitempty"`
	OrderValue *payload.Value `json:"order_value,omitempty"`
}

// restScore is a score, encoded as JSON encodes a float32; a score that is
// not finite (a dot product that overflowed) is written as null, as serde
// writes it, instead of failing the response.
type restScore float32

// MarshalJSON implements json.Marshaler.
func (f restScore) MarshalJSON() ([]byte, error) {
	x := float32(f)
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(x)
}

// restOrderValue encodes an order_by value as Qdrant's OrderValue: the
// number, or a datetime as its microseconds since the epoch.
func restOrderValue(v *payload.Value) *payload.Value {
	if v == nil {
		return nil
	}
	if s, ok := v.Str(); ok {
		if t, err := payload.ParseDatetime(s); err == nil {
			iv := payload.IntValue(t.UnixMicro())
			return &iv
		}
	}
	return v
}

// restRecords encodes records; withPayload says whether payloads were asked
// for.
func restRecords(rs []engine.Record, withPayload bool) []restRecord {
	out := make([]restRecord, len(rs))
	for i := range rs {
		r := &rs[i]
		out[i] = restRecord{ID: r.ID, OrderValue: restOrderValue(r.OrderValue)}
		if withPayload {
			out[i].Payload = restPayloadOut(r.Payload)
		}
		if r.Vectors != nil || r.Sparse != nil || r.Multi != nil {
			out[i].Vector = restVectorOut(r.Vectors, r.Multi, r.Sparse)
		}
	}
	return out
}

// restScored encodes search results.
func restScored(ps []engine.ScoredPoint, withPayload bool) []restScoredPoint {
	out := make([]restScoredPoint, len(ps))
	for i := range ps {
		p := &ps[i]
		out[i] = restScoredPoint{ID: p.ID, Version: p.Version, Score: restScore(p.Score), OrderValue: restOrderValue(p.OrderValue)}
		if withPayload {
			out[i].Payload = restPayloadOut(p.Payload)
		}
		if p.Vectors != nil || p.Sparse != nil || p.Multi != nil {
			out[i].Vector = restVectorOut(p.Vectors, p.Multi, p.Sparse)
		}
	}
	return out
}

// restPayloadOut returns the payload to encode: an empty object for a point
// without one.
func restPayloadOut(v payload.Value) *payload.Value {
	if v.Kind() != payload.Object {
		v = payload.ObjectValue()
	}
	return &v
}
