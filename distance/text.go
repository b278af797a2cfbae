package distance

import "fmt"

// MarshalText implements encoding.TextMarshaler with Qdrant's name for the
// metric ("Cosine", "Euclid", "Dot" or "Manhattan"), so that a Metric is a JSON
// string. The zero Metric and other invalid values are an error.
func (m Metric) MarshalText() ([]byte, error) {
	if !m.Valid() {
		return nil, fmt.Errorf("qlite: invalid distance %v", m)
	}
	return []byte(metricNames[m]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseMetric, so it
// accepts Qdrant's names in any case and ParseMetric's aliases.
func (m *Metric) UnmarshalText(text []byte) error {
	v, err := ParseMetric(string(text))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
