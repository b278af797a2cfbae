package payload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
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
		j.MinTokenLen, j.MaxTokenLen = t.MinTokenLen, t.MaxTokenLen
		j.Lowercase = t.Lowercase
		j.ASCIIFolding = boolPtr(t.ASCIIFolding)
		j.PhraseMatch = boolPtr(t.PhraseMatching)
		sw, err := marshalStopwords(t)
		if err != nil {
			return nil, err
		}
		j.Stopwords = sw
		if t.Stemmer != "" {
			st, err := json.Marshal(stemmerJSON{Type: "snowball", Language: t.Stemmer})
			if err != nil {
				return nil, err
			}
			j.Stemmer = st
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads Qdrant's PayloadSchemaParams, or a bare type name
// ("keyword"), rejecting unknown fields. A stopwords or stemmer value that
// is not one of Qdrant's shapes, or names a language Qdrant does not know,
// is an *UnknownLanguageError.
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
		q.Text.MinTokenLen, q.Text.MaxTokenLen = j.MinTokenLen, j.MaxTokenLen
		q.Text.Lowercase = j.Lowercase
		q.Text.ASCIIFolding = j.ASCIIFolding != nil && *j.ASCIIFolding
		q.Text.PhraseMatching = j.PhraseMatch != nil && *j.PhraseMatch
		if err := unmarshalStemmer(j.Stemmer, &q.Text); err != nil {
			return err
		}
		if err := unmarshalStopwords(j.Stopwords, &q.Text); err != nil {
			return err
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

// stemmerJSON is Qdrant's StemmingAlgorithm: {"type": "snowball",
// "language": ...}.
type stemmerJSON struct {
	Type     string `json:"type"`
	Language string `json:"language"`
}

func isNullJSON(b json.RawMessage) bool {
	return len(b) == 0 || string(bytes.TrimSpace(b)) == "null"
}

// unmarshalStemmer reads a StemmingAlgorithm into t.Stemmer.
func unmarshalStemmer(b json.RawMessage, t *TextParams) error {
	if isNullJSON(b) {
		return nil
	}
	var st stemmerJSON
	err := json.Unmarshal(b, &st)
	lang, ok := StemmerLanguage(st.Language)
	if err != nil || st.Type != "snowball" || !ok {
		return &UnknownLanguageError{What: "stemmer", Language: st.Language}
	}
	t.Stemmer = lang
	return nil
}

// unmarshalStopwords reads a StopwordsInterface: a language name or a set
// of languages and custom words. The lists are sorted and deduplicated, as
// Qdrant keeps them.
func unmarshalStopwords(b json.RawMessage, t *TextParams) error {
	if isNullJSON(b) {
		return nil
	}
	var lang string
	if json.Unmarshal(b, &lang) == nil {
		l, ok := StopwordLanguage(lang)
		if !ok {
			return &UnknownLanguageError{What: "stopwords", Language: lang}
		}
		t.StopwordLanguages, t.StopwordsForm = []string{l}, StopwordsLanguage
		return nil
	}
	var set struct {
		Languages *[]string `json:"languages"`
		Custom    *[]string `json:"custom"`
	}
	if err := json.Unmarshal(b, &set); err != nil || b[0] != '{' {
		return &UnknownLanguageError{What: "stopwords", Language: string(b)}
	}
	t.StopwordsForm = StopwordsSet
	if set.Languages != nil {
		langs := make([]string, len(*set.Languages))
		for i, name := range *set.Languages {
			l, ok := StopwordLanguage(name)
			if !ok {
				return &UnknownLanguageError{What: "stopwords", Language: name}
			}
			langs[i] = l
		}
		t.StopwordLanguages = sortedSet(langs)
	}
	if set.Custom != nil {
		t.Stopwords = sortedSet(*set.Custom)
	}
	return nil
}

// sortedSet returns the distinct strings of s in byte order, never nil.
func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return append(make([]string, 0, len(out)), slices.Compact(out)...)
}

// marshalStopwords writes t's stopwords in the form they were given; nil
// when there are none.
func marshalStopwords(t TextParams) (json.RawMessage, error) {
	switch {
	case t.StopwordsForm == StopwordsLanguage && len(t.StopwordLanguages) == 1 && len(t.Stopwords) == 0:
		return json.Marshal(t.StopwordLanguages[0])
	case t.StopwordsForm != StopwordsSet && t.StopwordLanguages == nil && t.Stopwords == nil:
		return nil, nil
	}
	// omitempty drops empty slices; write members by presence instead.
	var b bytes.Buffer
	b.WriteByte('{')
	if t.StopwordLanguages != nil {
		l, err := json.Marshal(append([]string{}, t.StopwordLanguages...))
		if err != nil {
			return nil, err
		}
		b.WriteString(`"languages":`)
		b.Write(l)
	}
	if t.Stopwords != nil {
		c, err := json.Marshal(append([]string{}, t.Stopwords...))
		if err != nil {
			return nil, err
		}
		if t.StopwordLanguages != nil {
			b.WriteByte(',')
		}
		b.WriteString(`"custom":`)
		b.Write(c)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
