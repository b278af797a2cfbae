package bm25

import "testing"

var benchTexts = []string{
	"Package bufio implements buffered I/O. It wraps an io.Reader or io.Writer object, creating another object (Reader or Writer) that also implements the interface but provides buffering and some help for textual I/O.",
	"The quick brown foxes were running over the lazy dogs while the children watched from the windows of the old house.",
	"Les enfants jouaient tranquillement dans le jardin pendant que leurs parents préparaient le dîner.",
}

// BenchmarkDocument measures the document side with the default options
// (word tokenizer, English stopwords and stemmer): the work of an upsert.
func BenchmarkDocument(b *testing.B) {
	m, err := New(DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, t := range benchTexts {
		n += len(t)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range benchTexts {
			m.Document(t)
		}
	}
}

// BenchmarkQuery measures the query side.
func BenchmarkQuery(b *testing.B) {
	m, err := New(DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Query("buffered readers and writers")
	}
}

// BenchmarkNew measures compiling the options, which a caller pays per
// request unless it caches the Model.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
