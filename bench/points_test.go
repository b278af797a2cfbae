package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGeneratePayloadsDeterministic(t *testing.T) {
	const n = 5000
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i * 7 % 10)
	}
	a := GeneratePayloads(n, labels, 42)
	b := GeneratePayloads(n, labels, 42)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different payloads")
	}
	if prefix := GeneratePayloads(100, labels, 42); !slices.Equal(prefix, a[:100]) {
		t.Fatal("a prefix of the base got different payloads")
	}
	other := GeneratePayloads(n, labels, 43)
	same := 0
	for i := range a {
		if a[i].Rnd == other[i].Rnd {
			same++
		}
	}
	if same > n/100 {
		t.Fatalf("seeds 42 and 43 agree on %d of %d rnd values", same, n)
	}
	// Without labels, rnd, loc and ts are unchanged and classes are drawn.
	unlabelled := GeneratePayloads(n, nil, 42)
	var counts [10]int
	for i := range a {
		if a[i].Class != labels[i] {
			t.Fatalf("point %d: class %d, label %d", i, a[i].Class, labels[i])
		}
		u := unlabelled[i]
		u.Class = a[i].Class
		if u != a[i] {
			t.Fatalf("point %d: labels changed the other fields: %+v vs %+v", i, unlabelled[i], a[i])
		}
		counts[unlabelled[i].Class]++
	}
	for c, cnt := range counts {
		if cnt < n/10/2 {
			t.Fatalf("generated class %d drawn %d times of %d", c, cnt, n)
		}
	}

	first := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC)
	var below int
	for i, p := range a {
		if p.Rnd < 0 || p.Rnd >= RndRange || p.Lon < -180 || p.Lon > 180 || p.Lat < -90 || p.Lat > 90 {
			t.Fatalf("point %d out of range: %+v", i, p)
		}
		if ts := p.Time(); ts.Before(first) || ts.After(last) {
			t.Fatalf("point %d: ts %v", i, ts)
		}
		if p.Rnd < RndRange/2 {
			below++
		}
	}
	if below < n*45/100 || below > n*55/100 {
		t.Fatalf("%d of %d rnd values below the median", below, n)
	}
}

func TestPointPayloadJSON(t *testing.T) {
	p := PointPayload{Class: 0, Rnd: 123456, Lon: -12.5, Lat: 45.000001, TS: time.Date(2021, 4, 5, 6, 7, 8, 0, time.UTC).Unix()}
	got := string(p.AppendJSON([]byte("x")))
	want := `x{"class":0,"class_name":"T-shirt/top","rnd":123456,"loc":{"lon":-12.5,"lat":45.000001},"ts":"2021-04-05T06:07:08Z"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Every generated payload is valid JSON with the documented fields.
	for i, p := range GeneratePayloads(200, nil, 1) {
		var v struct {
			Class     *int   `json:"class"`
			ClassName string `json:"class_name"`
			Rnd       *int   `json:"rnd"`
			Loc       struct{ Lon, Lat *float64 }
			TS        string  `json:"ts"`
			Extra     *string `json:"extra"`
		}
		raw := p.AppendJSON(nil)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("payload %d %s: %v", i, raw, err)
		}
		ts, err := time.Parse(time.RFC3339, v.TS)
		if v.Class == nil || *v.Class != int(p.Class) || v.ClassName != FashionMNISTClasses[p.Class] || v.Rnd == nil || *v.Rnd != int(p.Rnd) ||
			v.Loc.Lon == nil || *v.Loc.Lon != p.Lon || v.Loc.Lat == nil || *v.Loc.Lat != p.Lat || err != nil || ts.Unix() != p.TS || !strings.HasSuffix(v.TS, "Z") {
			t.Fatalf("payload %d %s decodes to %+v", i, raw, v)
		}
	}
}

func TestReadIDXLabels(t *testing.T) {
	dir := t.TempDir()
	labels := []byte{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}
	write := func(w io.Writer) error {
		if _, err := w.Write([]byte{0, 0, idxTypeUint8, 1, 0, 0, 0, byte(len(labels))}); err != nil {
			return err
		}
		_, err := w.Write(labels)
		return err
	}
	for _, name := range []string{"labels-idx1-ubyte", "labels-idx1-ubyte.gz"} {
		path := filepath.Join(dir, name)
		writeTestFile(t, path, write)
		got, err := ReadIDXLabels(path, 0)
		if err != nil || !bytes.Equal(got, labels) {
			t.Fatalf("%s: %v, %v", name, got, err)
		}
		got, err = ReadIDXLabels(path, 4)
		if err != nil || !bytes.Equal(got, labels[:4]) {
			t.Fatalf("%s limit 4: %v, %v", name, got, err)
		}
	}

	// An image file is not a label file, nor is a truncated one.
	bad := filepath.Join(dir, "images")
	writeTestFile(t, bad, func(w io.Writer) error { return writeIDX(w, make([]byte, 16), 1, 4, 4) })
	if _, err := ReadIDXLabels(bad, 0); err == nil {
		t.Fatal("read labels from an image file")
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte{0, 0, idxTypeUint8, 1, 0, 0, 0, 20, 1, 2}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadIDXLabels(short, 0); err == nil {
		t.Fatal("read labels from a truncated file")
	}
}

func TestFashionMNISTLabels(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultFashionMNISTDir, "train-labels-idx1-ubyte.gz")); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
	}
	ds, err := LoadDataset("fashion-mnist-784-euclidean", &LoadOptions{MaxPoints: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.BaseLabels) != 1000 || len(ds.QueryLabels) != ds.NQ {
		t.Fatalf("%d base labels, %d query labels", len(ds.BaseLabels), len(ds.QueryLabels))
	}
	// The first training image of Fashion-MNIST is an ankle boot, the first
	// test image too.
	if ds.BaseLabels[0] != 9 || ds.QueryLabels[0] != 9 {
		t.Fatalf("first labels %d, %d", ds.BaseLabels[0], ds.QueryLabels[0])
	}
}
