package deploy

import (
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Environment map[string]string `yaml:"environment"`
	DependsOn   []string          `yaml:"depends_on"`
	Restart     string            `yaml:"restart"`
}

// mounts returns the files and directories of this directory a service
// mounts, by their path in the container.
func (s *composeService) mounts() map[string]string {
	out := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if strings.HasPrefix(parts[0], ".") {
			out[parts[1]] = filepath.Clean(parts[0])
		}
	}
	return out
}

// file returns the local file a service mounts at path, failing the test
// when it mounts none there.
func (s *composeService) file(t *testing.T, name, path string) string {
	t.Helper()
	for dst, src := range s.mounts() {
		if dst == path {
			return src
		}
		if rel, err := filepath.Rel(dst, path); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join(src, rel)
		}
	}
	t.Fatalf("service %s mounts nothing at %s", name, path)
	return ""
}

// flag returns the value of --name=value in args.
func flag(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

type collectorConfig struct {
	Receivers struct {
		OTLP struct {
			Protocols struct {
				GRPC struct {
					Endpoint string `yaml:"endpoint"`
				} `yaml:"grpc"`
				HTTP struct {
					Endpoint string `yaml:"endpoint"`
				} `yaml:"http"`
			} `yaml:"protocols"`
		} `yaml:"otlp"`
	} `yaml:"receivers"`
	Processors map[string]any `yaml:"processors"`
	Exporters  struct {
		Debug      map[string]any `yaml:"debug"`
		Prometheus struct {
			Endpoint string `yaml:"endpoint"`
		} `yaml:"prometheus"`
	} `yaml:"exporters"`
	Service struct {
		Pipelines map[string]struct {
			Receivers  []string `yaml:"receivers"`
			Processors []string `yaml:"processors"`
			Exporters  []string `yaml:"exporters"`
		} `yaml:"pipelines"`
	} `yaml:"service"`
}

type prometheusConfig struct {
	Global        map[string]string `yaml:"global"`
	RuleFiles     []string          `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func port(t *testing.T, hostport string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompose follows every reference of compose.yaml: the files it
// mounts, the services and ports each configuration names, and the path
// Prometheus scrapes, which a real qlite server must serve.
func TestCompose(t *testing.T) {
	var c composeFile
	readYAMLStrict(t, "compose.yaml", &c)
	for _, want := range []string{"qlite", "prometheus", "grafana", "otel-collector"} {
		if _, ok := c.Services[want]; !ok {
			t.Fatalf("compose.yaml has no service %s", want)
		}
	}
	for name, s := range c.Services {
		for _, d := range s.DependsOn {
			if _, ok := c.Services[d]; !ok {
				t.Errorf("%s depends on %s, not a service", name, d)
			}
		}
		for _, v := range s.Volumes {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s mounts volume %s, not declared", name, src)
			}
		}
	}

	q := c.Services["qlite"]
	d := readDockerfile(t)
	if q.Build == nil {
		t.Fatal("service qlite is not built")
	}
	if _, err := os.Stat(filepath.Join(q.Build.Context, q.Build.Dockerfile)); err != nil || filepath.Clean(q.Build.Context) != ".." {
		t.Errorf("qlite builds %s in %s: want the top-level Dockerfile (%v)", q.Build.Dockerfile, q.Build.Context, err)
	}
	for _, p := range d.expose {
		if !slices.Contains(q.Ports, p+":"+p) {
			t.Errorf("qlite does not publish port %s: %v", p, q.Ports)
		}
	}
	storage := false
	for _, v := range q.Volumes {
		parts := strings.Split(v, ":")
		_, named := c.Volumes[parts[0]]
		storage = storage || named && parts[1] == d.volumes[0]
	}
	if !storage {
		t.Errorf("qlite keeps no volume at %s: %v", d.volumes[0], q.Volumes)
	}

	// qlite exports OTLP/gRPC to the collector.
	col := c.Services["otel-collector"]
	var cc collectorConfig
	readYAMLStrict(t, col.file(t, "otel-collector", flag(col.Command, "config")), &cc)
	for name, p := range cc.Service.Pipelines {
		for _, r := range p.Receivers {
			if r != "otlp" {
				t.Errorf("pipeline %s: receiver %s not configured", name, r)
			}
		}
		for _, pr := range p.Processors {
			if _, ok := cc.Processors[pr]; !ok {
				t.Errorf("pipeline %s: processor %s not configured", name, pr)
			}
		}
		for _, e := range p.Exporters {
			if e != "debug" && e != "prometheus" {
				t.Errorf("pipeline %s: exporter %s not configured", name, e)
			}
		}
	}
	if p := cc.Service.Pipelines["metrics"]; !slices.Contains(p.Exporters, "prometheus") {
		t.Error("the collector's metrics do not reach its Prometheus exporter")
	}
	u, err := url.Parse(q.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
	if err != nil || u.Hostname() != "otel-collector" || u.Port() != port(t, cc.Receivers.OTLP.Protocols.GRPC.Endpoint) {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q is not the collector's OTLP/gRPC receiver (%s)",
			q.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"], cc.Receivers.OTLP.Protocols.GRPC.Endpoint)
	}

	// Prometheus scrapes qlite and the collector, and loads the rules.
	prom := c.Services["prometheus"]
	promFile := prom.file(t, "prometheus", flag(prom.Command, "config.file"))
	var pc prometheusConfig
	readYAMLStrict(t, promFile, &pc)
	var rules []string
	for _, r := range pc.RuleFiles {
		rules = append(rules, prom.file(t, "prometheus", r))
	}
	if !slices.Contains(rules, filepath.Join("prometheus", "alerts.yaml")) {
		t.Errorf("Prometheus loads %v, not prometheus/alerts.yaml", rules)
	}
	srv := startServer(t)
	scraped := map[string]bool{}
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, p, err := net.SplitHostPort(target)
				if err != nil {
					t.Fatal(err)
				}
				scraped[host] = true
				switch host {
				case "qlite":
					if sc.JobName != "qlite" {
						t.Errorf("qlite is scraped as job %s; the rules and the dashboard want qlite", sc.JobName)
					}
					if !slices.Contains(d.expose, p) || p != "6333" {
						t.Errorf("qlite scraped on port %s, not its REST port", p)
					}
					path := sc.MetricsPath
					if path == "" {
						path = "/metrics"
					}
					resp, err := http.Get("http://" + srv.http + path)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
						t.Errorf("GET %s of qlite: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
					}
				case "otel-collector":
					if want := port(t, cc.Exporters.Prometheus.Endpoint); p != want {
						t.Errorf("the collector scraped on port %s, its Prometheus exporter listens on %s", p, want)
					}
				default:
					t.Errorf("Prometheus scrapes %s, not a service", target)
				}
			}
		}
	}
	if !scraped["qlite"] || !scraped["otel-collector"] {
		t.Errorf("Prometheus scrapes %v", scraped)
	}
	if bin, err := exec.LookPath("promtool"); err == nil {
		// promtool reads the rule files where the config names them: a copy
		// names them where they are here.
		b, err := os.ReadFile(promFile)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for i, r := range pc.RuleFiles {
			abs, _ := filepath.Abs(rules[i])
			text = strings.ReplaceAll(text, r, abs)
		}
		tmp := filepath.Join(t.TempDir(), "prometheus.yaml")
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(bin, "check", "config", tmp).CombinedOutput(); err != nil {
			t.Errorf("promtool check config: %v\n%s", err, out)
		}
	} else {
		t.Log("promtool is not installed: prometheus.yaml not checked by promtool")
	}

	// Grafana reads Prometheus and loads the dashboard.
	g := c.Services["grafana"]
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name      string `yaml:"name"`
			UID       string `yaml:"uid"`
			Type      string `yaml:"type"`
			Access    string `yaml:"access"`
			URL       string `yaml:"url"`
			IsDefault bool   `yaml:"isDefault"`
		} `yaml:"datasources"`
	}
	readYAMLStrict(t, g.file(t, "grafana", "/etc/grafana/provisioning/datasources/prometheus.yaml"), &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
		t.Fatalf("datasources: %+v", ds.Datasources)
	}
	if u, err := url.Parse(ds.Datasources[0].URL); err != nil || u.Hostname() != "prometheus" || u.Port() != "9090" || flag(prom.Command, "web.listen-address") != "" {
		t.Errorf("the datasource's URL %s is not Prometheus' (prometheus:9090)", ds.Datasources[0].URL)
	}
	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name           string `yaml:"name"`
			Folder         string `yaml:"folder"`
			Type           string `yaml:"type"`
			AllowUIUpdates bool   `yaml:"allowUiUpdates"`
			Options        struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAMLStrict(t, g.file(t, "grafana", "/etc/grafana/provisioning/dashboards/qlite.yaml"), &dp)
	if len(dp.Providers) != 1 {
		t.Fatalf("dashboard providers: %+v", dp.Providers)
	}
	if f := g.file(t, "grafana", dp.Providers[0].Options.Path+"/qlite.json"); f != filepath.Join("grafana", "qlite.json") {
		t.Errorf("the dashboard provider loads %s, not grafana/qlite.json", f)
	}
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" {
		g.file(t, "grafana", home)
	}
}

// TestDashboardDatasource checks that every panel and query of the
// dashboard reads the data source its variable chooses, so that it works
// with the provisioned Prometheus and when imported elsewhere.
func TestDashboardDatasource(t *testing.T) {
	var d grafanaDashboard
	readJSON(t, "grafana/qlite.json", &d)
	want := grafanaSource{Type: "prometheus", UID: "${datasource}"}
	found := false
	for _, v := range d.Templating.List {
		if v.Name == "datasource" {
			found = v.Type == "datasource" && string(v.Query) == `"prometheus"`
		} else if v.Datasource == nil || *v.Datasource != want {
			t.Errorf("variable %s reads %+v", v.Name, v.Datasource)
		}
	}
	if !found {
		t.Error("no datasource variable of type prometheus")
	}
	graphs := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		graphs++
		if p.Datasource == nil || *p.Datasource != want {
			t.Errorf("panel %s reads %+v", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %s has no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || *tg.Datasource != want || tg.Expr == "" {
				t.Errorf("panel %s: a query reads %+v: %q", p.Title, tg.Datasource, tg.Expr)
			}
		}
	}
	if d.UID == "" || graphs < 10 {
		t.Errorf("dashboard %q (uid %q): %d panels", d.Title, d.UID, graphs)
	}
}

// TestComposeSchema validates compose.yaml against the Compose file
// schema with Docker Compose (docker compose, or Debian's docker-compose),
// which reads it without a Docker daemon.
func TestComposeSchema(t *testing.T) {
	var cmd *exec.Cmd
	if bin, err := exec.LookPath("docker-compose"); err == nil {
		cmd = exec.Command(bin, "-f", "compose.yaml", "config", "-q")
	} else if exec.Command("docker", "compose", "version").Run() == nil {
		cmd = exec.Command("docker", "compose", "-f", "compose.yaml", "config", "-q")
	} else {
		t.Skip("neither docker compose nor docker-compose is installed (Debian: apt-get install docker-compose): compose.yaml not checked against the Compose schema")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%v: %v\n%s", cmd.Args, err, out)
	}
}
