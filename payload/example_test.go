package payload_test

import (
	"fmt"
	"time"

	"github.com/qlite/qlite/payload"
)

type Article struct {
	Title     string    `json:"title"`
	Tags      []string  `json:"tags,omitempty"`
	Views     uint64    `json:"views"`
	Published time.Time `json:"published"`
	Draft     string    `json:"-"`
}

func ExampleFromStruct() {
	v, err := payload.FromStruct(Article{
		Title:     "Vectors",
		Views:     18446744073709551615, // stays exact
		Published: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Draft:     "not stored",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(v)
	// Output: {"title":"Vectors","views":18446744073709551615,"published":"2025-03-01T12:00:00Z"}
}

func ExampleValue_Decode() {
	v, err := payload.ParseJSON([]byte(`{"title":"Vectors","tags":["db"],"views":3,"published":"2025-03-01T12:00:00Z","other":true}`))
	if err != nil {
		panic(err)
	}
	var a Article
	if err := v.Decode(&a); err != nil {
		panic(err)
	}
	fmt.Println(a.Title, a.Tags, a.Views, a.Published.Year())
	// Output: Vectors [db] 3 2025
}
