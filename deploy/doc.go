// Package deploy holds no code. Its directory holds the files that run
// qlite beside other software: deploy/compose.yaml (qlite, Prometheus,
// Grafana and an OpenTelemetry Collector), deploy/kubernetes (a
// StatefulSet and its Services), deploy/prometheus (scrape configuration
// and alert rules), deploy/grafana (a dashboard and its provisioning) and
// deploy/otel (the collector's configuration); the Dockerfile is at the
// top of the repository. docs/deployment.md describes them.
//
// The package's tests keep those files honest: they parse every YAML and
// JSON file, follow the references between them (mounted files exist,
// ports and paths match what qlite serves), run promtool on the alert
// rules, and check every metric name the dashboard and the rules use
// against the /metrics of a real server.
package deploy
