package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
)

// prometheusServer runs Prometheus scraping target every second as the
// job qlite, stopped at cleanup; it returns its base URL.
func prometheusServer(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian: apt-get install prometheus): the dashboard's queries are not run")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: qlite\n    static_configs:\n      - targets: [%q]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Prometheus does not report the port it listens on: take a free one.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yaml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus:\n%s", out.String())
		}
	})
	return "http://" + addr
}

// promQuery evaluates a PromQL expression now and returns its result's
// samples.
func promQuery(base, expr string) ([]json.RawMessage, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s", r.Error)
	}
	return r.Data.Result, nil
}

// mayBeEmpty are the dashboard's queries that a healthy server without a
// memory limit has no series for: server errors, and the soft limit.
var mayBeEmpty = []string{"panel Error ratio A", "panel Error ratio C", "panel Process memory E"}

// TestLiveQueries runs a real Prometheus scraping a real server under a
// steady workload, then evaluates every query of the dashboard (each has
// data) and every alert rule (none fires on a healthy server, but for the
// disk's, which read the machine's free space).
func TestLiveQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: Prometheus is not run")
	}
	s := startServer(t)
	s.workload(t)
	base := prometheusServer(t, s.http)

	// Searches, REST and gRPC, found and not, until the test ends.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	c := s.client(t)
	wg.Go(func() {
		for ctx.Err() == nil {
			s.do(t, "POST", "/collections/docs/points/search", `{"vector":[1,0],"limit":2}`)
			s.do(t, "POST", "/collections/docs/points/query", `{"query":[0,1],"limit":2}`)
			s.do(t, "POST", "/collections/nope/points/query", `{"query":[1,0]}`)
			c.Query(ctx, &qdrant.QueryPoints{CollectionName: "docs", Query: qdrant.NewQuery(1, 0)})
			c.Query(ctx, &qdrant.QueryPoints{CollectionName: "nope", Query: qdrant.NewQuery(1, 0)})
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	})

	// Enough scrapes for the rates over 10 s windows.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := promQuery(base, `count_over_time(up{job="qlite"}[10s]) >= 5 and up{job="qlite"} == 1`)
		if err == nil && len(r) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has not scraped qlite 5 times: %v %v", r, err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	vars := strings.NewReplacer(`$__rate_interval`, `10s`, `$job`, `qlite`, `$instance`, `.*`)
	for where, q := range dashboardQueries(t, "grafana/qlite.json") {
		if strings.HasPrefix(where, "variable ") {
			// label_values(SELECTOR, LABEL): the label's values on the
			// selector's series.
			m := labelValues.FindStringSubmatch(q)
			if m == nil {
				t.Errorf("%s: %q is not label_values", where, q)
				continue
			}
			r, err := promQuery(base, "count by ("+m[2]+") ("+vars.Replace(m[1])+")")
			if err != nil || len(r) == 0 {
				t.Errorf("%s: %q: %d values, %v", where, q, len(r), err)
			}
			continue
		}
		r, err := promQuery(base, vars.Replace(q))
		if err != nil {
			t.Errorf("%s: %q: %v", where, q, err)
		} else if len(r) == 0 && !slices.Contains(mayBeEmpty, where) {
			t.Errorf("%s: %q: no data", where, q)
		}
	}
	for where, q := range ruleExprs(t, "prometheus/alerts.yaml") {
		r, err := promQuery(base, q)
		if err != nil {
			t.Errorf("%s: %v", where, err)
		} else if len(r) != 0 && !strings.Contains(q, "qlite_storage_free_bytes") {
			// The free space of this machine's file system, shared with
			// whatever else runs on it, is not the test's to keep steady.
			t.Errorf("%s fires on a healthy server: %s", where, r)
		}
	}
}
