package compat

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
)

// Sparse vectors and inference inputs, shared by the REST and gRPC
// conversions.
//
// Qdrant validates a sparse vector when it deserialises a request, before
// anything else: indices must be unique and as many as the values. Values
// are not checked (NaN and infinities are stored as given). The messages
// name the field by a path that differs by route, which the callers give.

// sparseProblems returns Qdrant's validation messages about v, each naming
// its field under path, joined as Qdrant joins them (Qdrant itself gives
// the two in no fixed order); "" when v is valid.
func sparseProblems(v engine.SparseVector, path string) string {
	if path != "" {
		path += "."
	}
	var out []string
	if !sparseUniqueIndices(v.Indices) {
		out = append(out, path+"indices: Validation error: must be unique [{}]")
	}
	if len(v.Indices) != len(v.Values) {
		out = append(out, path+"values: Validation error: must be the same length as indices [{}]")
	}
	return strings.Join(out, "; ")
}

// sparseUniqueIndices reports whether no index occurs twice.
func sparseUniqueIndices(ix []uint32) bool {
	s := slices.Clone(ix)
	slices.Sort(s)
	return len(slices.Compact(s)) == len(ix)
}

// restSparseCheck is Qdrant's REST validation of a sparse vector read at
// vpath (the path Qdrant's message names, see restExampleVPath).
func restSparseCheck(v engine.SparseVector, vpath string) error {
	if p := sparseProblems(v, vpath); p != "" {
		return &restError{http.StatusUnprocessableEntity, "Validation error in JSON body: [" + p + "]"}
	}
	return nil
}

// grpcSparseCheck is Qdrant's gRPC validation of a sparse vector at path.
func grpcSparseCheck(v engine.SparseVector, path string) error {
	if p := sparseProblems(v, path); p != "" {
		return status.Error(codes.InvalidArgument, "Validation error in body: ["+p+"]")
	}
	return nil
}

// sparseFromParts returns the sparse vector of indices and values, empty rather
// than nil when a protobuf message leaves them out.
func sparseFromParts(indices []uint32, values []float32) engine.SparseVector {
	if indices == nil {
		indices = []uint32{}
	}
	if values == nil {
		values = []float32{}
	}
	return engine.SparseVector{Indices: indices, Values: values}
}

// searchVectorFromProto reads the query vector of a legacy gRPC search:
// dense, or sparse when indices are given (vec then holds the values).
func searchVectorFromProto(vec []float32, indices *qdrant.SparseIndices, name string) (engine.Example, error) {
	if indices == nil {
		return engine.Example{Vector: denseOrEmpty(vec)}, nil
	}
	if name == "" {
		return engine.Example{}, invalidArg("Sparse vector must have a name specified")
	}
	sv := sparseFromParts(indices.GetData(), vec)
	if p := sparseProblems(sv, ""); p != "" {
		return engine.Example{}, invalidArg("Sparse indices does not match sparse vector conditions: %s", p)
	}
	return engine.Example{Sparse: &sv}, nil
}

// vectorIn is one vector of a request: dense, or sparse (given as such
// or made from a Document).
type vectorIn struct {
	dense  []float32
	multi  [][]float32
	sparse *engine.SparseVector
}

// example returns v as a query example.
func (v vectorIn) example() engine.Example {
	if v.sparse != nil {
		return engine.Example{Sparse: v.sparse}
	}
	if v.multi != nil {
		return engine.Example{Multi: v.multi}
	}
	return engine.Example{Vector: denseOrEmpty(v.dense)}
}

// pointVectors are the vectors of one point, by name ("" for the
// unnamed one).
type pointVectors struct {
	dense  map[string][]float32
	multi  map[string][][]float32
	sparse map[string]engine.SparseVector
}

// add files v under name.
func (pv *pointVectors) add(name string, v vectorIn) {
	if v.sparse != nil {
		if pv.sparse == nil {
			pv.sparse = map[string]engine.SparseVector{}
		}
		pv.sparse[name] = *v.sparse
		return
	}
	if v.multi != nil {
		if pv.multi == nil {
			pv.multi = map[string][][]float32{}
		}
		pv.multi[name] = v.multi
		return
	}
	pv.dense[name] = v.dense
}

// errNoInference is Qdrant's answer to an inference input that needs an
// inference service (any model but the built-in BM25, images and inference
// objects): qlite, as a Qdrant server with none configured, has none.
var errNoInference = status.Error(codes.Internal, "Service internal error: InferenceService URL not configured - please provide valid address in config")

// errQueryNoInference is errNoInference as gRPC queries report it.
var errQueryNoInference = status.Error(codes.Internal, "Inference error: "+status.Convert(errNoInference).Message())

// errUnnamedDocument is Qdrant's answer to a document given as the unnamed
// vector: BM25 makes a sparse vector, and sparse vectors have names.
var errUnnamedDocument = status.Error(codes.InvalidArgument, "Bad request: Sparse vector from document inference should be named")

// bm25Model is the name of Qdrant's built-in BM25 model, compared without
// regard to case as Qdrant does.
const bm25ModelName = "qdrant/bm25"

// embedDocument turns a Document into the sparse vector Qdrant's BM25 model
// gives it: the document side when the text is stored (upserts, vector
// updates), the query side when it is searched for. options is the
// Document's "options" object as JSON (nil when absent). Other models need an
// inference service and fail with errNoInference.
func embedDocument(text, model string, options json.RawMessage, query bool) (engine.SparseVector, error) {
	if !strings.EqualFold(model, bm25ModelName) {
		return engine.SparseVector{}, errNoInference
	}
	return bm25Embed(text, options, query)
}
