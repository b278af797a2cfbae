package payload

import (
	"bytes"
	"testing"
)

// FuzzIndexParamsJSON reads any bytes as index params: no panic, and params
// that read back write JSON that reads back to the same JSON, and build an
// index whose tokenizer handles any text.
func FuzzIndexParamsJSON(f *testing.F) {
	f.Add([]byte(`{"type":"text","stopwords":"english","stemmer":{"type":"snowball","language":"en"}}`), "The runners")
	f.Add([]byte(`{"type":"text","tokenizer":"prefix","max_token_len":0,"stopwords":{"languages":["de"],"custom":["X"]}}`), "\xff Straße")
	f.Add([]byte(`{"type":"text","stopwords":{}}`), "")
	f.Add([]byte(`"keyword"`), "a")
	f.Fuzz(func(t *testing.T, b []byte, text string) {
		var p IndexParams
		if p.UnmarshalJSON(b) != nil {
			return
		}
		out, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back IndexParams
		if err := back.UnmarshalJSON(out); err != nil {
			t.Fatalf("%s: written as %s, which does not read back: %v", b, out, err)
		}
		again, _ := back.MarshalJSON()
		if !bytes.Equal(out, again) {
			t.Fatalf("%s: %s then %s", b, out, again)
		}
		if p.Type == TypeText {
			tok, err := NewTokenizer(p.Text)
			if err != nil {
				t.Fatalf("%s: accepted, but no tokenizer: %v", b, err)
			}
			tok.Doc(text, nil)
			tok.Query(text, nil)
		}
	})
}
