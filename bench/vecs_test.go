package bench

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFvecsRoundTrip(t *testing.T) {
	for _, name := range []string{"v.fvecs", "v.fvecs.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			want := randomVectors(7, 50, 13)
			writeTestFile(t, path, func(w io.Writer) error { return WriteFvecs(w, want, 13) })

			got, n, dim, err := ReadFvecs(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if n != 50 || dim != 13 || !slices.Equal(got, want) {
				t.Fatalf("got %dx%d, equal=%v", n, dim, slices.Equal(got, want))
			}
			got, n, _, err = ReadFvecs(path, 7)
			if err != nil {
				t.Fatal(err)
			}
			if n != 7 || !slices.Equal(got, want[:7*13]) {
				t.Fatalf("limit 7: got %d rows", n)
			}
		})
	}
}

func TestIvecsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gt.ivecs")
	want := []int32{1, 2, 3, -1, 5, 6, 7, 8, 9}
	writeTestFile(t, path, func(w io.Writer) error { return WriteIvecs(w, want, 3) })
	got, n, dim, err := ReadIvecs(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || dim != 3 || !slices.Equal(got, want) {
		t.Fatalf("got %v (%dx%d)", got, n, dim)
	}
}

func TestBvecs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.bvecs")
	raw := []byte{0, 1, 255, 7, 8, 9}
	writeTestFile(t, path, func(w io.Writer) error { return writeBvecs(w, raw, 3) })
	got, n, dim, err := ReadBvecs(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 1, 255, 7, 8, 9}; n != 2 || dim != 3 || !slices.Equal(got, want) {
		t.Fatalf("got %v (%dx%d)", got, n, dim)
	}
}

func TestVecsMalformed(t *testing.T) {
	dir := t.TempDir()
	f := func(name string, content []byte) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := ReadFvecs(path, 0); !errors.Is(err, ErrFormat) {
			t.Fatalf("%s: err = %v, want ErrFormat", name, err)
		}
	}
	var two bytes.Buffer
	WriteFvecs(&two, []float32{1, 2}, 2)
	var three bytes.Buffer
	WriteFvecs(&three, []float32{1, 2, 3}, 3)

	f("empty.fvecs", nil)
	f("short-header.fvecs", []byte{2, 0})
	f("truncated.fvecs", two.Bytes()[:10])
	f("mixed.fvecs", append(slices.Clone(two.Bytes()), three.Bytes()...))
	f("negative-dim.fvecs", []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	if _, _, _, err := ReadFvecs(filepath.Join(dir, "missing.fvecs"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestWriteVecsRejectsRaggedData(t *testing.T) {
	if err := WriteFvecs(io.Discard, []float32{1, 2, 3}, 2); err == nil {
		t.Fatal("no error for 3 values in rows of 2")
	}
}

func TestIDXImages(t *testing.T) {
	const n, rows, cols = 5, 3, 4
	pixels := make([]byte, n*rows*cols)
	for i := range pixels {
		pixels[i] = byte(i * 7)
	}
	for _, name := range []string{"images-idx3-ubyte", "images-idx3-ubyte.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			writeTestFile(t, path, func(w io.Writer) error { return writeIDX(w, pixels, n, rows, cols) })
			got, gn, dim, err := ReadIDXImages(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if gn != n || dim != rows*cols {
				t.Fatalf("got %dx%d", gn, dim)
			}
			for i, p := range pixels {
				if got[i] != float32(p) {
					t.Fatalf("value %d = %v, want %v", i, got[i], p)
				}
			}
			if _, gn, _, err = ReadIDXImages(path, 2); err != nil || gn != 2 {
				t.Fatalf("limit 2: n=%d err=%v", gn, err)
			}
		})
	}
}

func TestIDXMalformed(t *testing.T) {
	dir := t.TempDir()
	f := func(name string, content []byte) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := ReadIDXImages(path, 0); !errors.Is(err, ErrFormat) {
			t.Fatalf("%s: err = %v, want ErrFormat", name, err)
		}
	}
	var ok bytes.Buffer
	writeIDX(&ok, make([]byte, 2*2*2), 2, 2, 2)
	f("labels", []byte{0, 0, 8, 1, 0, 0, 0, 2, 1, 2})
	f("float", []byte{0, 0, 0x0d, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0})
	f("truncated", ok.Bytes()[:ok.Len()-1])
	f("short", []byte{0, 0})
}
