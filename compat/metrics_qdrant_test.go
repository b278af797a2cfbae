package compat

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
)

// metricsTraffic sends the same requests to a server: two collections,
// points written and searched over REST and gRPC, and one request that
// fails.
func metricsTraffic(t *testing.T, httpAddr, grpcAddr string) {
	t.Helper()
	base := "http://" + httpAddr
	require.NoError(t, resetServer(base))
	do := func(method, path, body string, want int) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, "%s %s", method, path)
	}
	do("PUT", "/collections/mq_a", `{"vectors": {"size": 4, "distance": "Dot"}}`, 200)
	do("PUT", "/collections/mq_b", `{"vectors": {"v": {"size": 2, "distance": "Cosine"}}}`, 200)
	do("PUT", "/collections/mq_a/points?wait=true", `{"points": [{"id": 1, "vector": [1, 2, 3, 4]}, {"id": 2, "vector": [1, 0, 0, 0], "payload": {"x": 1}}]}`, 200)
	do("POST", "/collections/mq_a/points/query", `{"query": [1, 1, 1, 1]}`, 200)
	do("POST", "/collections/mq_b/points/scroll", `{}`, 200)
	do("POST", "/collections/mq_missing/points/query", `{"query": [1, 1, 1, 1]}`, 404)
	do("GET", "/collections/mq_a", "", 200)
	c := grpcClient(t, grpcAddr, qdrant.Config{})
	ctx := context.Background()
	_, err := c.Count(ctx, &qdrant.CountPoints{CollectionName: "mq_a"})
	require.NoError(t, err)
	_, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "mq_a", Query: qdrant.NewQuery(1, 1, 1, 1)})
	require.NoError(t, err)
	_, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "mq_missing", Query: qdrant.NewQuery(1, 1, 1, 1)})
	require.Error(t, err)
	_, err = c.ListCollections(ctx)
	require.NoError(t, err)
}

// scrapeAny gets url and parses it as Prometheus' text format, whatever
// its content type.
func scrapeAny(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// metricShape is what the comparison looks at in a family: its type and
// the label sets of its series (histogram buckets and run-dependent label
// values left out).
type metricShape struct {
	typ    string
	series []string
	labels []string         // the label names of each series, joined
	bounds map[float64]bool // of histograms
}

// ofTraffic returns the series that name a collection of metricsTraffic.
func (s metricShape) ofTraffic() []string {
	var out []string
	for _, x := range s.series {
		if strings.Contains(x, "=mq_") {
			out = append(out, x)
		}
	}
	return out
}

// existing leaves out the series of the traffic's missing collection. Qdrant
// keeps hardware counters for every collection name a request gives, even
// one that does not exist; qlite keeps them for its collections only, so
// that requests naming made-up collections cannot grow its memory.
func existing(series []string) []string {
	var out []string
	for _, x := range series {
		if !strings.Contains(x, "=mq_missing") {
			out = append(out, x)
		}
	}
	return out
}

func metricShapes(fams map[string]*dto.MetricFamily) map[string]metricShape {
	out := map[string]metricShape{}
	for name, f := range fams {
		if strings.HasPrefix(name, "mq_") {
			continue
		}
		s := metricShape{typ: f.GetType().String(), bounds: map[float64]bool{}}
		for _, m := range f.GetMetric() {
			for _, b := range m.GetHistogram().GetBucket() {
				s.bounds[b.GetUpperBound()] = true
			}
			var kv, names []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
				v := l.GetValue()
				switch l.GetName() {
				case "version", "peer_id":
					v = "*"
				}
				kv = append(kv, l.GetName()+"="+v)
			}
			sort.Strings(kv)
			sort.Strings(names)
			s.series = append(s.series, strings.Join(kv, ","))
			s.labels = append(s.labels, strings.Join(names, ","))
		}
		slices.Sort(s.series)
		s.series = slices.Compact(s.series)
		slices.Sort(s.labels)
		s.labels = slices.Compact(s.labels)
		out[name] = s
	}
	return out
}

// unmeasured are Qdrant's metrics that qlite lacks, with why.
var unmeasured = map[string]string{}

// TestMetricsLikeQdrant sends the same traffic to Qdrant and to qlite and
// compares their GET /metrics, with and without per_collection: every
// family Qdrant has must be in qlite's, of the same type, with the same
// label names, and the same series for the collections of the traffic.
// Qdrant's server is shared with other tests, so it may have more
// response series than qlite, but never fewer. Families qlite adds are
// allowed.
func TestMetricsLikeQdrant(t *testing.T) {
	q := realQdrant(t)
	_, h, g := startServer(t, nil)
	metricsTraffic(t, q.httpAddr, q.grpcAddr)
	metricsTraffic(t, h, g)
	for _, query := range []string{"", "?per_collection=true"} {
		want := metricShapes(scrapeAny(t, "http://"+q.httpAddr+"/metrics"+query))
		got := metricShapes(scrapeAny(t, "http://"+h+"/metrics"+query))
		var lacks, differs []string
		for name, w := range want {
			g, ok := got[name]
			switch {
			case !ok && unmeasured[name] != "":
				t.Logf("/metrics%s: qlite lacks Qdrant's %s: %s", query, name, unmeasured[name])
			case !ok:
				lacks = append(lacks, name)
			case w.typ != g.typ:
				differs = append(differs, name+": Qdrant "+w.typ+", qlite "+g.typ)
			case !slices.Equal(w.labels, g.labels):
				differs = append(differs, name+": labels:\n    Qdrant "+strings.Join(w.labels, " | ")+"\n    qlite  "+strings.Join(g.labels, " | "))
			case strings.HasPrefix(name, "collection_hardware_metric_") && !slices.Equal(existing(w.ofTraffic()), g.ofTraffic()):
				differs = append(differs, name+":\n    Qdrant "+strings.Join(w.ofTraffic(), " | ")+"\n    qlite  "+strings.Join(g.ofTraffic(), " | "))
			case strings.HasPrefix(name, "collection_hardware_metric_"):
			case !slices.Equal(w.ofTraffic(), g.ofTraffic()):
				differs = append(differs, name+":\n    Qdrant "+strings.Join(w.ofTraffic(), " | ")+"\n    qlite  "+strings.Join(g.ofTraffic(), " | "))
			case strings.HasPrefix(name, "rest_") || strings.HasPrefix(name, "grpc_"):
				for _, x := range g.series {
					if !slices.Contains(w.series, x) {
						differs = append(differs, name+": qlite has "+x+", Qdrant not")
					}
				}
			}
		}
		for name, w := range want {
			for b := range w.bounds {
				if g, ok := got[name]; ok && !g.bounds[b] {
					differs = append(differs, fmt.Sprintf("%s: qlite lacks Qdrant's bucket le=%v", name, b))
				}
			}
		}
		slices.Sort(lacks)
		slices.Sort(differs)
		if len(lacks) > 0 {
			t.Errorf("/metrics%s: qlite lacks Qdrant's %s", query, strings.Join(lacks, ", "))
		}
		for _, d := range differs {
			t.Errorf("/metrics%s: %s", query, d)
		}
	}
}
