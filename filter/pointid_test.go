package filter

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseUUID(t *testing.T) {
	const canon = "550e8400-e29b-41d4-a716-446655440000"
	ok := func(s string) {
		t.Helper()
		id, err := ParseUUID(s)
		require.NoError(t, err, s)
		require.True(t, id.IsUUID())
		require.Equal(t, canon, id.String())
	}
	ok(canon)
	ok("550E8400-E29B-41D4-A716-446655440000")
	ok("550e8400e29b41d4a716446655440000")
	ok("550E8400E29B41D4A716446655440000")
	ok("{550e8400-e29b-41d4-a716-446655440000}")
	ok("urn:uuid:550e8400-e29b-41d4-a716-446655440000")
	bad := func(s string) {
		t.Helper()
		_, err := ParseUUID(s)
		require.ErrorIs(t, err, ErrBadPointID, s)
	}
	bad("")
	bad("42")
	bad("550e8400-e29b-41d4-a716-44665544000")
	bad("550e8400-e29b-41d4-a716-4466554400000")
	bad("550e8400e29b-41d4-a716-4466554400000")
	bad("550e8400-e29b-41d4-a716-44665544000g")
	bad("{550e8400e29b41d4a716446655440000}")
	bad("URN:UUID:550e8400-e29b-41d4-a716-446655440000")
	bad("(550e8400-e29b-41d4-a716-446655440000)")
}

func TestParsePointID(t *testing.T) {
	id, err := ParsePointID("42")
	require.NoError(t, err)
	require.Equal(t, NumID(42), id)
	id, err = ParsePointID("18446744073709551615")
	require.NoError(t, err)
	n, ok := id.Num()
	require.True(t, ok)
	require.Equal(t, uint64(18446744073709551615), n)
	id, err = ParsePointID("550e8400e29b41d4a716446655440000")
	require.NoError(t, err)
	require.True(t, id.IsUUID())
	for _, s := range []string{"-1", "1.5", "18446744073709551616", "x", ""} {
		_, err := ParsePointID(s)
		require.ErrorIs(t, err, ErrBadPointID, s)
	}
}

func TestPointIDJSON(t *testing.T) {
	u, _ := ParseUUID("550E8400-E29B-41D4-A716-446655440000")
	for _, c := range []struct {
		id   PointID
		json string
	}{
		{NumID(0), `0`},
		{NumID(9007199254740993), `9007199254740993`},
		{NumID(18446744073709551615), `18446744073709551615`},
		{u, `"550e8400-e29b-41d4-a716-446655440000"`},
	} {
		b, err := json.Marshal(c.id)
		require.NoError(t, err)
		require.Equal(t, c.json, string(b))
		var back PointID
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, c.id, back)
	}
	var id PointID
	require.NoError(t, json.Unmarshal([]byte(`"urn:uuid:550e8400-e29b-41d4-a716-446655440000"`), &id))
	require.Equal(t, u, id)
	require.NoError(t, json.Unmarshal([]byte(` -0 `), &id))
	require.Equal(t, NumID(0), id)
	for _, s := range []string{`-1`, `1.5`, `1e3`, `"42"`, `true`, `null`, `18446744073709551616`, `"x"`, `01`} {
		err := json.Unmarshal([]byte(s), &id)
		require.Error(t, err, s)
	}
	err := id.UnmarshalJSON([]byte(`"42"`))
	require.ErrorIs(t, err, ErrBadPointID)
	require.Contains(t, err.Error(), `value 42 is not a valid point ID, valid values are either an unsigned integer or a UUID`)
}

func TestPointIDOrder(t *testing.T) {
	a, _ := ParseUUID("00000000-0000-0000-0000-000000000001")
	b, _ := ParseUUID("ffffffff-0000-0000-0000-000000000000")
	ids := []PointID{b, NumID(18446744073709551615), a, NumID(0), NumID(7)}
	sort.Slice(ids, func(i, j int) bool { return ids[i].Compare(ids[j]) < 0 })
	require.Equal(t, []PointID{NumID(0), NumID(7), NumID(18446744073709551615), a, b}, ids)
	require.Equal(t, 0, a.Compare(a))
	require.Equal(t, 0, NumID(3).Compare(NumID(3)))
	var zero PointID
	require.Equal(t, NumID(0), zero)
	require.Equal(t, "0", zero.String())
	raw, ok := a.UUID()
	require.True(t, ok)
	require.Equal(t, UUIDID(raw), a)
	_, ok = a.Num()
	require.False(t, ok)
}
