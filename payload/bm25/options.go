package bm25

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/qlite/qlite/payload"
)

// ParseOptions reads a Document's "options" object as Qdrant reads it for
// qdrant/bm25: absent members take their defaults, unknown members are
// ignored, and a member of the wrong type or an unknown tokenizer,
// stopwords or stemmer is an *OptionsError with serde's message. Nil or
// null is the default options.
func ParseOptions(raw json.RawMessage) (Options, error) {
	o := DefaultOptions()
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return o, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return o, &OptionsError{Msg: "invalid type: " + describe(raw) + ", expected struct Bm25Config"}
	}
	for _, f := range []struct {
		name string
		dst  *float64
	}{{"k", &o.K}, {"b", &o.B}, {"avg_len", &o.AvgLen}} {
		if v, ok := m[f.name]; ok {
			x, err := parseFloat(v)
			if err != nil {
				return o, err
			}
			*f.dst = x
		}
	}
	if v, ok := m["tokenizer"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return o, &OptionsError{Msg: "invalid type: " + describe(v) + ", expected enum TokenizerType"}
		}
		switch s {
		case payload.TokenizerPrefix, payload.TokenizerWhitespace, payload.TokenizerWord, payload.TokenizerMultilingual:
			o.Tokenizer = s
		default:
			return o, &OptionsError{Msg: fmt.Sprintf("unknown variant `%s`, expected one of `prefix`, `whitespace`, `word`, `multilingual`", s)}
		}
	}
	if v, ok := m["language"]; ok && !isNull(v) {
		if json.Unmarshal(v, &o.Language) != nil {
			return o, &OptionsError{Msg: "invalid type: " + describe(v) + ", expected a string"}
		}
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"lowercase", &o.Lowercase}, {"ascii_folding", &o.ASCIIFolding}} {
		if v, ok := m[f.name]; ok && !isNull(v) {
			if json.Unmarshal(v, f.dst) != nil {
				return o, &OptionsError{Msg: "invalid type: " + describe(v) + ", expected a boolean"}
			}
		}
	}
	for _, f := range []struct {
		name string
		dst  **int
	}{{"min_token_len", &o.MinTokenLen}, {"max_token_len", &o.MaxTokenLen}} {
		if v, ok := m[f.name]; ok && !isNull(v) {
			n, err := parseUsize(v)
			if err != nil {
				return o, err
			}
			*f.dst = &n
		}
	}
	if v, ok := m["stopwords"]; ok && !isNull(v) {
		var tp payload.IndexParams
		if tp.UnmarshalJSON(textParamsJSON("stopwords", v)) != nil {
			return o, &OptionsError{Msg: "data did not match any variant of untagged enum StopwordsInterface"}
		}
		o.Stopwords = &Stopwords{Languages: tp.Text.StopwordLanguages, Custom: tp.Text.Stopwords}
	}
	if v, ok := m["stemmer"]; ok && !isNull(v) {
		var tp payload.IndexParams
		if tp.UnmarshalJSON(textParamsJSON("stemmer", v)) != nil {
			return o, &OptionsError{Msg: "data did not match any variant of untagged enum StemmingAlgorithm"}
		}
		o.Stemmer = &tp.Text.Stemmer
	}
	return o, nil
}

// textParamsJSON is a text index's params with one member set.
func textParamsJSON(member string, v json.RawMessage) []byte {
	b := []byte(`{"type":"text","` + member + `":`)
	b = append(b, v...)
	return append(b, '}')
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func parseFloat(v json.RawMessage) (float64, error) {
	var x float64
	if err := json.Unmarshal(v, &x); err != nil || isNull(v) || math.IsInf(x, 0) {
		return 0, &OptionsError{Msg: "invalid type: " + describe(v) + ", expected f64"}
	}
	return x, nil
}

func parseUsize(v json.RawMessage) (int, error) {
	s := string(bytes.TrimSpace(v))
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err == nil && n < 0:
		return 0, &OptionsError{Msg: fmt.Sprintf("invalid value: integer `%d`, expected usize", n)}
	case err == nil && n <= math.MaxInt32:
		return int(n), nil
	case err == nil:
		return math.MaxInt32, nil // longer than any token
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil && u > 0 {
		return math.MaxInt32, nil
	}
	return 0, &OptionsError{Msg: "invalid type: " + describe(v) + ", expected usize"}
}

// describe names a JSON value as serde's "invalid type" errors do.
func describe(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "unit"
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return "string " + strconv.Quote(s)
		}
	case 't', 'f':
		return "boolean `" + string(v) + "`"
	case 'n':
		return "null"
	case '[':
		return "sequence"
	case '{':
		return "map"
	}
	if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return "integer `" + string(v) + "`"
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil {
		return "floating point `" + strconv.FormatFloat(f, 'f', -1, 64) + "`"
	}
	return string(v)
}
