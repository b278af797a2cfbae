package segment

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
)

// decodeRows reads what WriteRows wrote into Rows, 64-byte aligned, as a
// mapping of the file would hold it.
func decodeRows(t *testing.T, b []byte, slots, dim int) Rows {
	t.Helper()
	require.Len(t, b, int(RowsSize(slots, dim, Float32)))
	r := Rows{Data: distance.MakeAligned(max(slots*dim, 1))[:slots*dim], Has: make([]uint64, (slots+63)/64)}
	for i := range r.Data {
		r.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	off := RowsHasOffset(slots, dim, Float32)
	for i := range r.Has {
		r.Has[i] = binary.LittleEndian.Uint64(b[off+8*i:])
	}
	return r
}

// A sealed segment written with WriteRows and read back through Rows
// (MapRows on the sealed segment, Options.Rows on a loading one) keeps
// every slot's vectors and presence, and searches as before; Fill ignores
// the vectors of mapped spaces; multivector spaces and unsealed segments
// refuse rows.
func TestMappedRows(t *testing.T) {
	specs := twoSpaces()
	specs[1].Dim = 5 // odd rows: the presence bits are padded to 8 bytes
	fx := newFixture(t, &Options{Vectors: specs, Capacity: 5000})
	fx.append(t, 2100)
	fx.deleteRandom(t, 0, 2100, 0.1)
	_, err := fx.s.BuildGraph(t.Context(), 2)
	require.NoError(t, err)
	var unsealed bytes.Buffer
	require.ErrorIs(t, fx.s.WriteRows("img", &unsealed), ErrBadOptions)
	fx.s.Seal()
	n := fx.s.Len()
	files := map[string]Rows{}
	for _, sp := range specs {
		var buf bytes.Buffer
		require.NoError(t, fx.s.WriteRows(sp.Name, &buf))
		files[sp.Name] = decodeRows(t, buf.Bytes(), n, sp.Dim)
	}
	for _, sp := range specs {
		require.NoError(t, fx.s.MapRows(sp.Name, files[sp.Name]))
		require.True(t, fx.s.Mapped(sp.Name))
		addr, _ := fx.s.Vector(sp.Name, 3)
		require.Equal(t, unsafe.SliceData(files[sp.Name].Data[3*sp.Dim:]), unsafe.SliceData(addr), "rows not used in place")
	}
	after := fx.s.Memory()
	require.Zero(t, after.Vectors)
	require.Positive(t, after.MappedVectors)
	fx.checkState(t)
	fx.checkExact(t, "img", 20, nil)
	fx.checkExact(t, "txt", 20, rndBelow(t, 500))
	require.GreaterOrEqual(t, fx.recall(t, "img", 50, nil, 64, nil), 0.9)

	// Loading: the rows come from Rows, Fill's vectors are ignored.
	ids := make([]filter.PointID, n)
	vers := make([]uint64, n)
	for off := range uint32(n) {
		ids[off], vers[off] = fx.s.PointAt(off)
	}
	ld, err := NewLoading(&Options{Vectors: specs, Rows: files}, ids, vers)
	require.NoError(t, err)
	junk := map[string][]float32{"img": make([]float32, 16), "txt": make([]float32, 5)}
	for off := range uint32(n) {
		require.NoError(t, ld.Fill(off, junk, nil, mustOK(fx.s.Payload(off)), fx.s.IsLive(off)))
	}
	ld.Seal()
	for off := range uint32(n) {
		for _, sp := range specs {
			want, wok := fx.s.Vector(sp.Name, off)
			got, gok := ld.Vector(sp.Name, off)
			require.Equal(t, wok, gok, "slot %d %q presence", off, sp.Name)
			require.Equal(t, want, got, "slot %d %q", off, sp.Name)
		}
	}
	require.NoError(t, ld.CheckInvariants())

	bad := []*Options{
		{Vectors: specs, Rows: map[string]Rows{"img": {Data: files["img"].Data[16:], Has: files["img"].Has}}},
		{Vectors: specs, Rows: map[string]Rows{"nope": files["img"]}},
		{Vectors: []VectorSpec{{Name: "m", Dim: 16, Metric: distance.Dot, Multi: true}}, Rows: map[string]Rows{"m": files["img"]}},
	}
	for _, o := range bad {
		_, err := NewLoading(o, ids, vers)
		require.ErrorIs(t, err, ErrBadOptions)
	}
	_, err = New(&Options{Vectors: specs, Capacity: 10, Rows: files})
	require.ErrorIs(t, err, ErrBadOptions)
}
