package filter

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload"
)

// testPoint is a Point for tests.
type testPoint struct {
	id      PointID
	payload payload.Value
	vectors []string
}

func (p *testPoint) ID() PointID            { return p.id }
func (p *testPoint) Payload() payload.Value { return p.payload }
func (p *testPoint) HasVector(name string) bool {
	for _, v := range p.vectors {
		if v == name {
			return true
		}
	}
	return false
}

func mustPayload(t testing.TB, js string) payload.Value {
	t.Helper()
	v, err := payload.ParseJSON([]byte(js))
	require.NoError(t, err, js)
	return v
}

func mustFilter(t testing.TB, js string) *Filter {
	t.Helper()
	f, err := ParseJSON([]byte(js))
	require.NoError(t, err, js)
	return f
}

func ptr[T any](v T) *T { return &v }
