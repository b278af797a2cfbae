package compat

import (
	"encoding/json"
	"errors"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/payload/bm25"
)

// bm25Models caches the BM25 models built for the options documents give
// (compiling stopwords and stemmers is far dearer than embedding a short
// text), keyed by the options' JSON; "" is the defaults. It is cleared
// when it reaches bm25ModelsMax options, so that requests with ever new
// options cannot grow it without bound.
var bm25Models struct {
	sync.Mutex // guards m
	m          map[string]*bm25.Model
}

const bm25ModelsMax = 64

// bm25Model returns the model for options (a JSON object, nil for the
// defaults). Options Qdrant refuses fail as Qdrant answers them (400,
// "Wrong input: Invalid BM25 config: ..."); those qlite cannot honour
// (a stemmer it lacks) are refused as unsupported.
func bm25Model(options json.RawMessage) (*bm25.Model, error) {
	key := string(options)
	bm25Models.Lock()
	m := bm25Models.m[key]
	bm25Models.Unlock()
	if m != nil {
		return m, nil
	}
	o, err := bm25.ParseOptions(options)
	if err == nil {
		m, err = bm25.New(o)
	}
	if err != nil {
		var oe *bm25.OptionsError
		if errors.As(err, &oe) {
			return nil, status.Error(codes.InvalidArgument, "Wrong input: "+oe.Qdrant())
		}
		return nil, Unsupported("BM25 options (" + err.Error() + ")")
	}
	bm25Models.Lock()
	if len(bm25Models.m) >= bm25ModelsMax || bm25Models.m == nil {
		bm25Models.m = make(map[string]*bm25.Model)
	}
	bm25Models.m[key] = m
	bm25Models.Unlock()
	return m, nil
}

// bm25Embed is Qdrant's BM25 model: the sparse vector of text, document
// side or query side, with the model's options (a JSON object, nil for the
// defaults).
func bm25Embed(text string, options json.RawMessage, query bool) (engine.SparseVector, error) {
	m, err := bm25Model(options)
	if err != nil {
		return engine.SparseVector{}, err
	}
	var v engine.SparseVector
	if query {
		v.Indices, v.Values = m.Query(text)
	} else {
		v.Indices, v.Values = m.Document(text)
	}
	return v, nil
}
