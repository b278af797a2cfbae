package distance

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMetricText(t *testing.T) {
	f := func(m Metric, want string) {
		t.Helper()
		b, err := json.Marshal(m)
		require.NoError(t, err)
		require.Equal(t, `"`+want+`"`, string(b))
		var back Metric
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, m, back)
	}
	f(Cosine, "Cosine")
	f(Euclid, "Euclid")
	f(Dot, "Dot")
	f(Manhattan, "Manhattan")
}

func TestMetricTextParse(t *testing.T) {
	f := func(in string, want Metric) {
		t.Helper()
		var m Metric
		require.NoError(t, json.Unmarshal([]byte(in), &m))
		require.Equal(t, want, m)
	}
	f(`"cosine"`, Cosine)
	f(`"EUCLID"`, Euclid)
	f(`"l1"`, Manhattan)
	f(`"ip"`, Dot)
}

func TestMetricTextInvalid(t *testing.T) {
	_, err := json.Marshal(Metric(0))
	require.Error(t, err)
	_, err = json.Marshal(Metric(9))
	require.Error(t, err)

	var m Metric
	require.Error(t, json.Unmarshal([]byte(`"Hamming"`), &m))
	require.Error(t, json.Unmarshal([]byte(`1`), &m))
	require.Equal(t, Metric(0), m)
}
