package bench

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// randomVectors returns n random rows of dim components lying near an
// 8-dimensional subspace, as real embeddings do, so that small graphs reach
// high recall at moderate ef. The same seed gives the same subspace.
func randomVectors(seed uint64, n, dim int) []float32 {
	const latent = 8
	rng := rand.New(rand.NewPCG(seed, 1))
	proj := make([]float32, latent*dim)
	prng := rand.New(rand.NewPCG(0, 2)) // one subspace for base and queries
	for i := range proj {
		proj[i] = float32(prng.NormFloat64())
	}
	out := make([]float32, n*dim)
	var z [latent]float32
	for i := range n {
		for j := range z {
			z[j] = float32(rng.NormFloat64())
		}
		row := out[i*dim : (i+1)*dim]
		for j := range row {
			v := float32(rng.NormFloat64()) * 0.05
			for l, zl := range z {
				v += zl * proj[l*dim+j]
			}
			row[j] = v
		}
	}
	return out
}

// writeTestFile writes a file through fn, gzipping it when the name ends in
// ".gz".
func writeTestFile(t *testing.T, path string, fn func(w io.Writer) error) {
	t.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if filepath.Ext(path) == ".gz" {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	if err := fn(w); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeIDX writes n uint8 images of rows x cols in the MNIST idx3 layout.
func writeIDX(w io.Writer, pixels []byte, n, rows, cols int) error {
	hdr := []byte{0, 0, idxTypeUint8, 3}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	if err := binary.Write(w, binary.BigEndian, []uint32{uint32(n), uint32(rows), uint32(cols)}); err != nil {
		return err
	}
	_, err := w.Write(pixels[:n*rows*cols])
	return err
}

// writeBvecs writes uint8 rows in .bvecs format.
func writeBvecs(w io.Writer, data []byte, dim int) error {
	for off := 0; off < len(data); off += dim {
		if err := binary.Write(w, binary.LittleEndian, int32(dim)); err != nil {
			return err
		}
		if _, err := w.Write(data[off : off+dim]); err != nil {
			return err
		}
	}
	return nil
}

// makeFvecsDir writes a TEXMEX-layout dataset of n base and nq query vectors
// into a fresh directory and returns it.
func makeFvecsDir(t *testing.T, n, nq, dim int) string {
	t.Helper()
	dir := t.TempDir()
	base := randomVectors(1, n, dim)
	queries := randomVectors(2, nq, dim)
	writeTestFile(t, filepath.Join(dir, "base.fvecs"), func(w io.Writer) error { return WriteFvecs(w, base, dim) })
	writeTestFile(t, filepath.Join(dir, "query.fvecs"), func(w io.Writer) error { return WriteFvecs(w, queries, dim) })
	return dir
}
