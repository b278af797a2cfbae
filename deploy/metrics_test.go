package deploy

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// selector is one series selector of a PromQL expression: a metric name
// and the label names its matchers use.
type selector struct {
	metric string
	labels []string
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promSelector = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}`)
	promMatcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	grafanaVar   = regexp.MustCompile(`\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?`)
	labelValues  = regexp.MustCompile(`^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)
)

// promKeywords are PromQL's words that are not metric names when not
// followed by a parenthesis.
var promKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"inf": true, "nan": true, "Inf": true, "NaN": true,
}

// promSelectors returns the series selectors of a PromQL expression (or of
// a Grafana label_values query), with Grafana's variables in it. It reads
// just enough PromQL for the expressions of this directory: strings and
// range durations are dropped, grouping label lists skipped, an identifier
// followed by a parenthesis is a function or an aggregation.
func promSelectors(expr string) []selector {
	var extraLabel string
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		expr, extraLabel = m[1], m[2]
	}
	// Matchers keep their label names; values are strings.
	expr = promString.ReplaceAllString(expr, `""`)
	expr = promRange.ReplaceAllString(expr, "")
	expr = grafanaVar.ReplaceAllString(expr, "")
	expr = promGrouping.ReplaceAllString(expr, "")
	var out []selector
	expr = promSelector.ReplaceAllStringFunc(expr, func(s string) string {
		m := promSelector.FindStringSubmatch(s)
		sel := selector{metric: m[1]}
		for _, lm := range promMatcher.FindAllStringSubmatch(m[2], -1) {
			sel.labels = append(sel.labels, lm[1])
		}
		out = append(out, sel)
		return " "
	})
	for _, loc := range promIdent.FindAllStringIndex(expr, -1) {
		word := expr[loc[0]:loc[1]]
		if loc[0] > 0 && (expr[loc[0]-1] >= '0' && expr[loc[0]-1] <= '9' || expr[loc[0]-1] == '.') {
			continue // the exponent of a number such as 1e18
		}
		if promKeywords[word] || strings.HasPrefix(strings.TrimLeft(expr[loc[1]:], " \t\n"), "(") {
			continue
		}
		out = append(out, selector{metric: word})
	}
	if extraLabel != "" && len(out) > 0 {
		out[0].labels = append(out[0].labels, extraLabel)
	}
	return out
}

func TestPromSelectors(t *testing.T) {
	f := func(expr string, want ...string) {
		t.Helper()
		var got []string
		for _, s := range promSelectors(expr) {
			got = append(got, s.metric+"{"+strings.Join(s.labels, ",")+"}")
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", expr, got, want)
		}
	}
	f(`up{job="qlite"} == 0`, "up{job}")
	f(`absent(up{job="qlite"})`, "up{job}")
	f(`histogram_quantile(0.99, sum by (job, instance, endpoint, le) (rate(rest_responses_duration_seconds_bucket[5m]))) > 0.5`,
		"rest_responses_duration_seconds_bucket{}")
	f(`sum by (job) (rate(a_total{status=~"5..", x!="a}b"}[5m])) / on (job) group_left (y) sum(rate(a_total[$__rate_interval])) or vector(0)`,
		"a_total{status,x}", "a_total{}")
	f(`go_gc_gomemlimit_bytes{job=~"$job", instance=~"$instance"} < 1e18`, "go_gc_gomemlimit_bytes{job,instance}")
	f(`time() - min(process_start_time_seconds)`, "process_start_time_seconds{}")
	f(`predict_linear(free_bytes[6h], 24 * 3600) < 0 and bool x`, "free_bytes{}", "x{}")
	f(`label_values(app_info{job=~"$job"}, instance)`, "app_info{job,instance}")
	f(`label_values(app_info, job)`, "app_info{job}")
	f(`{__name__="x"}`, "{__name__}")
}

// exported scrapes /metrics of a server that has served a workload and
// returns the label names of every series name it exports, histogram
// series (_bucket, _sum, _count) included.
func exported(t *testing.T) map[string]map[string]bool {
	t.Helper()
	s := startServer(t)
	s.workload(t)
	resp, err := http.Get("http://" + s.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]map[string]bool)
	add := func(name string, m *dto.Metric, extra ...string) {
		if out[name] == nil {
			out[name] = make(map[string]bool)
		}
		for _, l := range m.GetLabel() {
			out[name][l.GetName()] = true
		}
		for _, l := range extra {
			out[name][l] = true
		}
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				add(name+"_bucket", m, model.BucketLabel)
				add(name+"_sum", m)
				add(name+"_count", m)
			case dto.MetricType_SUMMARY:
				add(name, m, model.QuantileLabel)
				add(name+"_sum", m)
				add(name+"_count", m)
			default:
				add(name, m)
			}
		}
	}
	return out
}

// Prometheus' own series and target labels, which no /metrics exports.
var (
	prometheusSeries = map[string]bool{"up": true}
	targetLabels     = map[string]bool{"job": true, "instance": true}
)

// grafanaDashboard is what the tests read of a Grafana dashboard.
type grafanaDashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Panels []struct {
		Type       string         `json:"type"`
		Title      string         `json:"title"`
		Datasource *grafanaSource `json:"datasource"`
		Targets    []struct {
			RefID      string         `json:"refId"`
			Datasource *grafanaSource `json:"datasource"`
			Expr       string         `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *grafanaSource  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type grafanaSource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// dashboardQueries returns the PromQL of every panel target and template
// variable of a Grafana dashboard, by where it is.
func dashboardQueries(t *testing.T, path string) map[string]string {
	t.Helper()
	var d grafanaDashboard
	readJSON(t, path, &d)
	out := make(map[string]string)
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out["panel "+p.Title+" "+tg.RefID] = tg.Expr
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("%s: variable %s: %v", path, v.Name, err)
		}
		out["variable "+v.Name] = q.Query
	}
	return out
}

// ruleExprs returns the expression of every rule of a Prometheus rules
// file, by alert (or record) name.
func ruleExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, path, &rf)
	out := make(map[string]string)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			out["rule "+r.Alert+r.Record] = r.Expr
		}
	}
	return out
}

// TestMetricNames checks every metric name, and every label a matcher
// names, in the dashboard and the alert rules against what a real server
// exports after a workload: a renamed metric fails here.
func TestMetricNames(t *testing.T) {
	have := exported(t)
	queries := dashboardQueries(t, "grafana/qlite.json")
	for k, v := range ruleExprs(t, "prometheus/alerts.yaml") {
		queries[k] = v
	}
	if len(queries) < 20 {
		t.Fatalf("only %d queries found", len(queries))
	}
	used := map[string]bool{}
	for where, q := range queries {
		sels := promSelectors(q)
		if len(sels) == 0 {
			t.Errorf("%s: no metric in %q", where, q)
		}
		for _, s := range sels {
			labels, ok := have[s.metric]
			switch {
			case prometheusSeries[s.metric]:
				continue
			case !ok:
				t.Errorf("%s: qlite does not export %s (%q)", where, s.metric, q)
				continue
			}
			used[s.metric] = true
			for _, l := range s.labels {
				if !labels[l] && !targetLabels[l] {
					t.Errorf("%s: %s has no label %s (%q)", where, s.metric, l, q)
				}
			}
		}
	}
	t.Logf("%d queries use %d of the %d series names qlite exports", len(queries), len(used), len(have))
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readYAML decodes the one document of a YAML file.
func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
