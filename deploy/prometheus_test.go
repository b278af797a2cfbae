package deploy

import (
	"os/exec"
	"testing"
)

// promtool returns the path of Prometheus' promtool, skipping the test
// without it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian: apt-get install prometheus): Prometheus files not checked by promtool")
	}
	return p
}

// TestAlertRules checks the alert rules with promtool and runs their unit
// tests: synthetic series under which each alert fires, beside healthy
// ones under which it does not.
func TestAlertRules(t *testing.T) {
	// Every alert has a test in which it fires.
	var tests struct {
		Tests []struct {
			Name          string `yaml:"name"`
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	readYAML(t, "prometheus/alerts_test.yaml", &tests)
	fires := map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			fires[a.Alertname] = fires[a.Alertname] || len(a.ExpAlerts) > 0
		}
	}
	rules := ruleExprs(t, "prometheus/alerts.yaml")
	for name := range rules {
		alert := name[len("rule "):]
		if !fires[alert] {
			t.Errorf("alerts_test.yaml has no test in which %s fires", alert)
		}
	}

	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "prometheus/alerts.yaml"},
		{"test", "rules", "prometheus/alerts_test.yaml"},
	} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
