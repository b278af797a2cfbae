package compat

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/engine"
)

// multiProblem is Qdrant's validation of a multivector: every vector
// non-empty, then all of one dimension; "" when it is valid.
func multiProblem(mv [][]float32) string {
	for _, v := range mv {
		if len(v) == 0 {
			return "all vectors must be non-empty"
		}
	}
	for _, v := range mv {
		if len(v) != len(mv[0]) {
			return fmt.Sprintf("all vectors must have the same dimension, found vector with dimension %d", len(v))
		}
	}
	return ""
}

// restMulti reads a multivector (an array of arrays of numbers) and
// validates it as Qdrant does, naming vpath+".data". An element that is not
// a number is errRestNotVector.
func restMulti(raw json.RawMessage, vpath string) ([][]float32, error) {
	if bytes.Contains(raw, []byte("null")) {
		return nil, errRestNotVector
	}
	var mv [][]float32
	if err := json.Unmarshal(raw, &mv); err != nil {
		return nil, errRestNotVector
	}
	if p := multiProblem(mv); p != "" {
		return nil, restValidationError(vpath+".data", "%s", p)
	}
	return mv, nil
}

// restSparseTuple reads, as Qdrant does, an array of two arrays, the first
// of which holds only indices (non-negative integers), as the sparse vector
// {"indices": first, "values": second}: Qdrant's sparse vector also
// deserialises from a sequence of its fields, and Qdrant tries that form
// before the multivector one wherever a vector may be sparse. ok is false
// when raw is no such pair.
func restSparseTuple(raw json.RawMessage, vpath string) (sv engine.SparseVector, ok bool, err error) {
	var pair []json.RawMessage
	if json.Unmarshal(raw, &pair) != nil || len(pair) != 2 || bytes.Contains(raw, []byte("null")) {
		return sv, false, nil
	}
	if json.Unmarshal(pair[0], &sv.Indices) != nil || json.Unmarshal(pair[1], &sv.Values) != nil {
		return engine.SparseVector{}, false, nil
	}
	if sv.Indices == nil {
		sv.Indices = []uint32{}
	}
	if sv.Values == nil {
		sv.Values = []float32{}
	}
	return sv, true, restSparseCheck(sv, vpath)
}

// restMultiOrSparse reads an array of arrays where a vector may be sparse
// (a named vector, a query vector): a sparse pair (restSparseTuple), else a
// multivector.
func restMultiOrSparse(raw json.RawMessage, vpath string) (vectorIn, error) {
	if sv, ok, err := restSparseTuple(raw, vpath); ok {
		return vectorIn{sparse: &sv}, err
	}
	mv, err := restMulti(raw, vpath)
	return vectorIn{multi: mv}, err
}

// multiFromProto reads a MultiDenseVector and validates it as Qdrant does
// (path names it in the message).
func multiFromProto(m *qdrant.MultiDenseVector, path string) (vectorIn, error) {
	mv := make([][]float32, len(m.GetVectors()))
	for i, v := range m.GetVectors() {
		mv[i] = v.GetData()
		if mv[i] == nil {
			mv[i] = []float32{}
		}
	}
	return vectorIn{multi: mv}, grpcMultiCheck(mv, path)
}

// multiFromFlat reads the deprecated form of a multivector: the vectors'
// elements back to back in data, and their number.
func multiFromFlat(data []float32, count uint32, path string) (vectorIn, error) {
	if count == 0 {
		return vectorIn{}, invalidArg(`Validation error in body: [%s.data: Validation error: invalid_vector_count [{"vectors_count": String("vectors count must be greater than 0")}]]`, path)
	}
	if len(data)%int(count) != 0 {
		return vectorIn{}, invalidArg(`Validation error in body: [%s.data: Validation error: invalid dense vector length for vectors count [{"vector_len": Number(%d), "vectors_count": Number(%d)}]]`, path, len(data), count)
	}
	dim := len(data) / int(count)
	mv := make([][]float32, count)
	for i := range mv {
		mv[i] = data[i*dim : (i+1)*dim : (i+1)*dim]
	}
	return vectorIn{multi: mv}, grpcMultiCheck(mv, path)
}

// grpcMultiCheck is Qdrant's gRPC validation of a multivector at path.
func grpcMultiCheck(mv [][]float32, path string) error {
	if len(mv) == 0 {
		return invalidArg("Validation error in body: [%s.data: multi vector must not be empty]", path)
	}
	if p := multiProblem(mv); p != "" {
		return invalidArg("Validation error in body: [%s.data: %s]", path, p)
	}
	return nil
}
