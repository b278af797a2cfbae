package payload

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// indexParamsJSON is IndexParams in Qdrant's PayloadSchemaParams shape.
type indexParamsJSON struct {
	Type         string          `json:"type"`
	Lookup       *bool           `json:"lookup,omitempty"`
	Range        *bool           `json:"range,omitempty"`
	IsTenant     *bool           `json:"is_tenant,omitempty"`
	IsPrincipal  *bool           `json:"is_principal,omitempty"`
	OnDisk       *bool           `json:"on_disk,omitempty"`
	EnableHNSW   *bool           `json:"enable_hnsw,omitempty"`
	Tokenizer    string          `json:"tokenizer,omitempty"`
	MinTokenLen  *int            `json:"min_token_len,omitempty"`
	MaxTokenLen  *int            `json:"max_token_len,omitempty"`
	Lowercase    *bool           `json:"lowercase,omitempty"`
	ASCIIFolding *bool           `json:"ascii_folding,omitempty"`
	PhraseMatch  *bool           `json:"phrase_matching,omitempty"`
	Stopwords    json.RawMessage `json:"stopwords,omitempty"`
	Stemmer      json.RawMessage `json:"stemmer,omitempty"`
}

func boolPtr(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

func intPtr(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}

// MarshalJSON writes p as Qdrant's PayloadSchemaParams: the type and the
// parameters that apply to it.
func (p IndexParams) MarshalJSON() ([]byte, error) {
	j := indexParamsJSON{Type: p.Type.String(), OnDisk: boolPtr(p.OnDisk)}
	switch p.Type {
	case TypeInteger:
		j.Lookup, j.Range = p.Lookup, p.Range
		j.IsPrincipal = boolPtr(p.IsPrincipal)
	case TypeFloat, TypeDatetime:
		j.IsPrincipal = boolPtr(p.IsPrincipal)
	case TypeKeyword, TypeUUID:
		j.IsTenant = boolPtr(p.IsTenant)
	case TypeText:
		t := p.Text
		j.Tokenizer = t.Tokenizer
		if j.Tokenizer == "" {
			j.Tokenizer = "word"
		}
		j.MinTokenLen, j.MaxTokenLen = intPtr(t.MinTokenLen), intPtr(t.MaxTokenLen)
		j.Lowercase = t.Lowercase
		j.ASCIIFolding = boolPtr(t.ASCIIFolding)
		j.PhraseMatch = boolPtr(t.PhraseMatching)
		if len(t.Stopwords) > 0 {
			sw, err := json.Marshal(map[string][]string{"custom": t.Stopwords})
			if err != nil {
				return nil, err
			}
			j.Stopwords = sw
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads Qdrant's PayloadSchemaParams, or a bare type name
// ("keyword"), rejecting unknown fields. Stopword language lists and
// stemmers are not supported and are rejected with an error naming them.
func (p *IndexParams) UnmarshalJSON(b []byte) error {
	var name string
	if json.Unmarshal(b, &name) == nil {
		t, err := ParseFieldType(name)
		if err != nil {
			return err
		}
		*p = IndexParams{Type: t}
		return nil
	}
	var j indexParamsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %w", ErrBadIndexParams, err)
	}
	t, err := ParseFieldType(j.Type)
	if err != nil {
		return err
	}
	q := IndexParams{Type: t, Lookup: j.Lookup, Range: j.Range}
	q.IsTenant = j.IsTenant != nil && *j.IsTenant
	q.IsPrincipal = j.IsPrincipal != nil && *j.IsPrincipal
	q.OnDisk = j.OnDisk != nil && *j.OnDisk
	if t == TypeText {
		q.Text.Tokenizer = j.Tokenizer
		if j.MinTokenLen != nil {
			q.Text.MinTokenLen = *j.MinTokenLen
		}
		if j.MaxTokenLen != nil {
			q.Text.MaxTokenLen = *j.MaxTokenLen
		}
		q.Text.Lowercase = j.Lowercase
		q.Text.ASCIIFolding = j.ASCIIFolding != nil && *j.ASCIIFolding
		q.Text.PhraseMatching = j.PhraseMatch != nil && *j.PhraseMatch
		if len(j.Stemmer) > 0 && string(j.Stemmer) != "null" {
			return fmt.Errorf("%w: stemmer: stemming is not supported by qlite", ErrBadIndexParams)
		}
		if len(j.Stopwords) > 0 && string(j.Stopwords) != "null" {
			var sw struct {
				Languages []string `json:"languages"`
				Custom    []string `json:"custom"`
			}
			if err := json.Unmarshal(j.Stopwords, &sw); err != nil {
				return fmt.Errorf("%w: stopwords: built-in language lists are not supported by qlite; give {\"custom\": [...]}", ErrBadIndexParams)
			}
			if len(sw.Languages) > 0 {
				return fmt.Errorf("%w: stopwords.languages: built-in language lists are not supported by qlite; give custom words", ErrBadIndexParams)
			}
			q.Text.Stopwords = sw.Custom
		}
	} else if j.Tokenizer != "" || j.MinTokenLen != nil || j.MaxTokenLen != nil || j.Lowercase != nil ||
		j.ASCIIFolding != nil || j.PhraseMatch != nil || len(j.Stopwords) > 0 || len(j.Stemmer) > 0 {
		return fmt.Errorf("%w: text parameters given for a %s index", ErrBadIndexParams, t)
	}
	if _, err := NewIndex(q); err != nil {
		return err
	}
	*p = q
	return nil
}
