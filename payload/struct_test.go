package payload

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type structAddr struct {
	City string   `json:"city"`
	Geo  *GeoLike `json:"geo,omitempty"`
}

type GeoLike struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

type structBase struct {
	Tenant string `json:"tenant"`
}

type structDoc struct {
	structBase
	ID       uint64            `json:"id"`
	Big      uint64            `json:"big"`
	Neg      int64             `json:"neg"`
	Title    string            `json:"title"`
	Lang     string            `json:"lang,omitempty"`
	Secret   string            `json:"-"`
	Dash     string            `json:"-,"`
	Count    int               `json:"count,string"`
	Price    float64           `json:"price"`
	Ratio    float32           `json:"ratio"`
	Whole    float64           `json:"whole"`
	Flag     bool              `json:"flag"`
	Tags     []string          `json:"tags"`
	NilTags  []string          `json:"nil_tags"`
	Omitted  []int             `json:"omitted,omitempty"`
	Attrs    map[string]int    `json:"attrs"`
	NilMap   map[string]string `json:"nil_map"`
	Addr     structAddr        `json:"addr"`
	AddrPtr  *structAddr       `json:"addr_ptr"`
	Created  time.Time         `json:"created"`
	Updated  *time.Time        `json:"updated,omitempty"`
	Raw      json.RawMessage   `json:"raw"`
	Num      json.Number       `json:"num"`
	Untagged string
	private  int
}

func sampleDocs() []structDoc {
	zone := time.FixedZone("CEST", 2*3600)
	upd := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	return []structDoc{
		{}, // every field zero: nil slices and maps, zero time
		{
			structBase: structBase{Tenant: "acme"},
			ID:         7, Big: math.MaxUint64, Neg: math.MinInt64,
			Title: "<b>Tom & Jerry</b> \u2028 é", Lang: "en", Secret: "hidden", Dash: "dash",
			Count: 42, Price: 19.99, Ratio: 0.1, Whole: 2, Flag: true,
			Tags: []string{"a", "b"}, Omitted: []int{1}, Attrs: map[string]int{"z": 1, "a": 2},
			Addr:     structAddr{City: "Berlin", Geo: &GeoLike{Lon: 13.4, Lat: 52.5}},
			AddrPtr:  &structAddr{City: "Paris"},
			Created:  time.Date(2023, 12, 31, 23, 59, 58, 123456789, zone),
			Updated:  &upd,
			Raw:      json.RawMessage(`{"k":[1,2.5,"x"]}`),
			Num:      "12345678901234567890",
			Untagged: "plain", private: 3,
		},
	}
}

// TestFromStructMatchesEncodingJSON checks FromStruct against
// encoding/json: the payload is what ParseJSON reads from json.Marshal's
// bytes, field for field and kind for kind, and Decode stores what
// json.Unmarshal stores from those bytes.
func TestFromStructMatchesEncodingJSON(t *testing.T) {
	for i, doc := range sampleDocs() {
		for _, in := range []any{doc, &doc} {
			got, err := FromStruct(in)
			if err != nil {
				t.Fatalf("doc %d (%T): %v", i, in, err)
			}
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParseJSON(b)
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(got, want) {
				t.Fatalf("doc %d (%T):\n got %s\nwant %s", i, in, got, want)
			}

			var dec, oracle structDoc
			if err := got.Decode(&dec); err != nil {
				t.Fatalf("doc %d: Decode: %v", i, err)
			}
			if err := json.Unmarshal(b, &oracle); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(dec, oracle) {
				t.Fatalf("doc %d: Decode gives\n%+v\njson.Unmarshal gives\n%+v", i, dec, oracle)
			}
		}
	}
}

// TestFromStructFields checks what the tags and types become, independently
// of encoding/json's output.
func TestFromStructFields(t *testing.T) {
	doc := sampleDocs()[1]
	v, err := FromStruct(doc)
	if err != nil {
		t.Fatal(err)
	}
	f := func(path string, want Value) {
		t.Helper()
		got := MustParsePath(path).Find(v, nil)
		if len(got) != 1 || !Equal(got[0], want) {
			t.Fatalf("%s = %v, want %s", path, got, want)
		}
	}
	missing := func(key string) {
		t.Helper()
		if _, ok := v.Get(key); ok {
			t.Fatalf("%s present in %s", key, v)
		}
	}
	f("tenant", StringValue("acme")) // embedded struct flattened
	f("id", UintValue(7))
	f("big", UintValue(math.MaxUint64)) // exact, not rounded through float64
	f("neg", IntValue(math.MinInt64))
	f("count", StringValue("42")) // the string option
	f("ratio", FloatValue(0.1))   // float32's shortest form
	f("whole", UintValue(2))      // encoding/json writes a whole float64 as 2
	f("title", StringValue("<b>Tom & Jerry</b> \u2028 é"))
	f("-", StringValue("dash"))
	f("nil_tags", NullValue())
	f("nil_map", NullValue())
	f("attrs.a", IntValue(2))
	f("addr.geo.lat", FloatValue(52.5))
	f("addr_ptr.city", StringValue("Paris"))
	f("raw.k[1]", FloatValue(2.5))
	f("num", UintValue(12345678901234567890))
	f("Untagged", StringValue("plain"))
	missing("Secret")
	missing("private")
	missing("omitted_absent")
	if keys := v.Fields(); keys[0].Key != "tenant" || keys[1].Key != "id" {
		t.Fatalf("fields not in declaration order: %s", v)
	}
	if attrs, _ := v.Get("attrs"); attrs.Fields()[0].Key != "a" {
		t.Fatalf("map keys not sorted: %s", attrs)
	}

	// time.Time is an RFC 3339 string that reads back as the same instant
	// with Qdrant's datetime parser.
	created, _ := v.Get("created")
	s, ok := created.Str()
	if !ok {
		t.Fatalf("created = %s, want a string", created)
	}
	tm, err := ParseDatetime(s)
	if err != nil {
		t.Fatalf("ParseDatetime(%q): %v", s, err)
	}
	if !tm.Equal(doc.Created) {
		t.Fatalf("created %q reads as %v, want %v", s, tm, doc.Created)
	}

	zero, err := FromStruct(structDoc{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"lang", "omitted", "updated"} {
		if _, ok := zero.Get(k); ok {
			t.Fatalf("omitempty field %q present in %s", k, zero)
		}
	}
	if c, _ := zero.Get("addr_ptr"); !c.IsNull() {
		t.Fatalf("nil pointer = %s, want null", c)
	}

	// Round trip: decoding gives the struct back, up to what JSON drops.
	var back structDoc
	if err := v.Decode(&back); err != nil {
		t.Fatal(err)
	}
	want := doc
	want.Secret, want.private = "", 0
	if !back.Created.Equal(want.Created) {
		t.Fatalf("created %v, want %v", back.Created, want.Created)
	}
	back.Created, want.Created = time.Time{}, time.Time{}
	if !reflect.DeepEqual(back, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, want)
	}
}

func TestFromStructMaps(t *testing.T) {
	v, err := FromStruct(map[string]any{"b": []any{1, "x", nil}, "a": map[string]int{"n": -1}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ParseJSON([]byte(`{"a":{"n":-1},"b":[1,"x",null]}`))
	if !Equal(v, want) {
		t.Fatalf("got %s, want %s", v, want)
	}
}

func TestFromStructErrors(t *testing.T) {
	for _, in := range []any{nil, 3, "s", []int{1}, (*structDoc)(nil)} {
		if _, err := FromStruct(in); !errors.Is(err, ErrNotObject) {
			t.Fatalf("FromStruct(%#v) error %v, want ErrNotObject", in, err)
		}
	}
	if _, err := FromStruct(struct{ F float64 }{math.NaN()}); err == nil {
		t.Fatal("NaN field accepted")
	}
	if _, err := FromStruct(struct{ C chan int }{}); err == nil {
		t.Fatal("channel field accepted")
	}
}

func TestDecodeErrors(t *testing.T) {
	v, _ := ParseJSON([]byte(`{"n":2.0,"s":"x","big":18446744073709551615}`))
	f := func(dst any, want string) {
		t.Helper()
		err := v.Decode(dst)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Decode into %T: error %v, want one containing %q", dst, err, want)
		}
		var oracle error = json.Unmarshal(v.AppendJSON(nil), dst)
		if oracle == nil {
			t.Fatalf("json.Unmarshal accepts what Decode refused")
		}
	}
	f(&struct {
		N int `json:"n"`
	}{}, "n")
	f(&struct {
		S int `json:"s"`
	}{}, "s")
	f(&struct {
		Big int64 `json:"big"`
	}{}, "big")
	f(struct{}{}, "non-pointer")
	f(nil, "nil")

	// The zero Value decodes as null: dst is left as it was.
	keep := structAddr{City: "x"}
	if err := (Value{}).Decode(&keep); err != nil || keep.City != "x" {
		t.Fatalf("zero Value: %v, %+v", err, keep)
	}
}
