package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Settings of qlite serve come, as Qdrant's do, from layers where a later
// one overrides an earlier one: the built-in defaults (the flags'
// defaults), the config files (config/config.yaml, config/$RUN_MODE.yaml,
// config/local.yaml under the working directory when they exist, then
// --config-path), the QDRANT__ environment variables (QDRANT__A__B sets
// a.b), and last the flags given on the command line.

// valueKind says how a config value is read.
type valueKind int

const (
	kindString  valueKind = iota
	kindBool              // true/false (also yes/no, on/off, 1/0, as Qdrant's config reader)
	kindNotBool           // a bool that sets a flag to its negation
	kindPort              // an integer 0-65535
	kindPosInt            // an integer >= 1
	kindSeconds           // an integer of seconds >= 1; null turns it off
	kindNone              // accepted and checked, with no flag to set
)

// configKey is a key of Qdrant's config layout that qlite acts on.
type configKey struct {
	path string
	// flag is the serve flag the key sets when the command line does not
	// give it. A flag this build does not define makes the key ignored.
	flag string
	kind valueKind
	// noNull refuses a null value, for keys whose null means something in
	// Qdrant that qlite cannot do.
	noNull string
}

// configKeys are the keys qlite acts on. Where two set one flag, the later
// one wins.
var configKeys = []configKey{
	{path: "log_level", flag: "log-level", kind: kindString},
	// Qdrant's logger.log_level wins over log_level, wherever each is set.
	{path: "logger.log_level", flag: "log-level", kind: kindString},
	{path: "logger.format", flag: "log-format", kind: kindString},
	// qlite's own: Qdrant has no switch for its access log.
	{path: "logger.access_log", flag: "access-log", kind: kindBool},
	{path: "logger.observe_probes", flag: "observe-probes", kind: kindBool},
	{path: "telemetry_disabled", kind: kindNone}, // qlite sends no usage statistics
	{path: "service.host", flag: "host", kind: kindString},
	{path: "service.http_port", flag: "http-port", kind: kindPort},
	{path: "service.grpc_port", flag: "grpc-port", kind: kindPort, noNull: "qlite always serves gRPC"},
	{path: "service.api_key", flag: "api-key", kind: kindString},
	{path: "service.read_only_api_key", flag: "read-only-api-key", kind: kindString},
	{path: "service.enable_cors", flag: "disable-cors", kind: kindNotBool},
	{path: "service.enable_static_content", flag: "disable-dashboard", kind: kindNotBool},
	{path: "service.max_request_size_mb", flag: "max-request-size-mb", kind: kindPosInt},
	{path: "service.enable_tls", flag: "enable-tls", kind: kindBool},
	{path: "service.verify_https_client_certificate", flag: "verify-https-client-certificate", kind: kindBool},
	{path: "storage.storage_path", flag: "storage", kind: kindString},
	{path: "tls.cert", flag: "tls-cert", kind: kindString},
	{path: "tls.key", flag: "tls-key", kind: kindString},
	{path: "tls.ca_cert", flag: "tls-ca-cert", kind: kindString},
	{path: "tls.cert_ttl", flag: "tls-cert-ttl", kind: kindSeconds},
}

// qdrantOnlyKeys are the keys and sections of Qdrant's config layout that
// qlite has no equivalent of; a key under one of these sections is one of
// them. They are reported at startup as ignored.
var qdrantOnlyKeys = []string{
	"logger", // but logger.format, above
	"cluster", "debugger", "inference", "gpu", "feature_flags", "audit",
	"per_collection_metrics_enabled",
	"service.metrics_port", "service.max_workers", "service.alt_api_key",
	"service.jwt_rbac", "service.hide_jwt_dashboard", "service.static_content_dir",
	"service.slow_query_secs",
	"service.hardware_reporting", "service.metrics_prefix",
	"storage.snapshots_path", "storage.snapshots_config", "storage.temp_path",
	"storage.on_disk_payload", "storage.update_concurrency", "storage.wal",
	"storage.node_type", "storage.performance", "storage.optimizers",
	"storage.optimizers_overwrite", "storage.hnsw_index", "storage.shard_transfer_method",
	"storage.collection", "storage.max_collections", "storage.quantization",
	"storage.mmap_advice", "storage.update_queue_size",
	"storage.handle_collection_load_errors", "storage.async_scorer",
	"storage.recovery_mode",
}

// configValue is one layer's value of a key.
type configValue struct {
	raw  string
	tag  string // YAML's tag (!!str, !!int, !!bool, !!null, ...); "!!str" from the environment
	node *yaml.Node
	at   string // where it was set: "FILE line N" or "QDRANT__..."
}

// configReport lists what the layers set that qlite does not act on.
type configReport struct {
	files   []string
	ignored []string // "path (where)"
	unknown []string
}

// lines returns the report as log lines.
func (r *configReport) lines() []string {
	var out []string
	if len(r.files) > 0 {
		out = append(out, "config: read "+strings.Join(r.files, ", "))
	}
	if len(r.ignored) > 0 {
		out = append(out, "config: ignored (Qdrant settings qlite has no equivalent of): "+strings.Join(r.ignored, ", "))
	}
	if len(r.unknown) > 0 {
		out = append(out, "config: unknown key (not a Qdrant setting either): "+strings.Join(r.unknown, ", "))
	}
	return out
}

// configLayers gathers the config files' and the environment's values.
type configLayers struct {
	values map[string]configValue // the last layer's value of each key qlite acts on
	report configReport
}

func newConfigLayers() *configLayers {
	return &configLayers{values: make(map[string]configValue)}
}

// defaultConfigFiles returns the files Qdrant reads without --config-path
// that exist under dir: config/config, config/$RUN_MODE (development when
// unset) and config/local, each as .yaml or .yml.
func defaultConfigFiles(dir, runMode string) []string {
	if runMode == "" {
		runMode = "development"
	}
	var files []string
	for _, name := range []string{"config", runMode, "local"} {
		for _, ext := range []string{".yaml", ".yml"} {
			p := filepath.Join(dir, "config", name+ext)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				files = append(files, p)
				break
			}
		}
	}
	return files
}

// addFile reads a config file in Qdrant's layout.
func (l *configLayers) addFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := l.addYAML(path, data); err != nil {
		return err
	}
	l.report.files = append(l.report.files, path)
	return nil
}

// addYAML reads one YAML document of Qdrant's layout, named name in
// messages.
func (l *configLayers) addYAML(name string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config %s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil
	}
	return l.walk(name, "", root)
}

// walk reads the mapping n found at path prefix.
func (l *configLayers) walk(name, prefix string, n *yaml.Node) error {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		what := "the document"
		if prefix != "" {
			what = prefix
		}
		return fmt.Errorf("%s: want a mapping, got %s (%s line %d)", what, nodeKind(n), name, n.Line)
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			return fmt.Errorf("config %s line %d: keys must be plain names", name, k.Line)
		}
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		if seen[k.Value] {
			return fmt.Errorf("%s: set twice (%s line %d)", path, name, k.Line)
		}
		seen[k.Value] = true
		at := fmt.Sprintf("%s line %d", name, k.Line)
		switch class, _ := classify(path); class {
		case classKey:
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s: want a value, got %s (%s)", path, nodeKind(v), at)
			}
			l.values[path] = configValue{raw: v.Value, tag: v.ShortTag(), node: v, at: at}
		case classSection:
			if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
				continue
			}
			if err := l.walk(name, path, v); err != nil {
				return err
			}
		case classQdrantOnly:
			if !isNull(v) {
				l.report.ignored = append(l.report.ignored, path+" ("+at+")")
			}
		default:
			l.report.unknown = append(l.report.unknown, path+" ("+at+")")
		}
	}
	return nil
}

// isNull reports whether n is null or a section of nulls only, which set
// nothing.
func isNull(n *yaml.Node) bool {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return n.ShortTag() == "!!null"
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if !isNull(n.Content[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!str":
		return "a string"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a bool"
	}
	return "a value"
}

// envPrefix starts the environment variables of Qdrant's settings;
// QDRANT__A__B sets a.b.
const envPrefix = "QDRANT__"

// addEnv reads the QDRANT__ variables of environ (KEY=VALUE strings).
func (l *configLayers) addEnv(environ []string) error {
	environ = slices.Sorted(slices.Values(environ))
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		// The prefix is matched in any case, as Qdrant's reader does.
		if !ok || len(name) < len(envPrefix) || !strings.EqualFold(name[:len(envPrefix)], envPrefix) {
			continue
		}
		path := strings.ToLower(strings.ReplaceAll(name[len(envPrefix):], "__", "."))
		switch class, _ := classify(path); class {
		case classKey:
			l.values[path] = configValue{raw: v, tag: "!!str", at: name}
		case classSection:
			return fmt.Errorf("%s: want a mapping, got a string (%s)", path, name)
		case classQdrantOnly:
			l.report.ignored = append(l.report.ignored, path+" ("+name+")")
		default:
			l.report.unknown = append(l.report.unknown, path+" ("+name+")")
		}
	}
	return nil
}

type keyClass int

const (
	classUnknown    keyClass = iota
	classKey                 // a key qlite acts on
	classSection             // a mapping holding keys qlite acts on
	classQdrantOnly          // a Qdrant key or section qlite ignores
)

func classify(path string) (keyClass, *configKey) {
	for i := range configKeys {
		if configKeys[i].path == path {
			return classKey, &configKeys[i]
		}
	}
	for i := range configKeys {
		if strings.HasPrefix(configKeys[i].path, path+".") {
			return classSection, nil
		}
	}
	for _, q := range qdrantOnlyKeys {
		if path == q || strings.HasPrefix(path, q+".") {
			return classQdrantOnly, nil
		}
	}
	return classUnknown, nil
}

// apply checks the value of every key the layers set and sets its flag,
// unless the command line gave it. A key whose flag this build lacks is
// reported as ignored.
func (l *configLayers) apply(flags *pflag.FlagSet) error {
	given := make(map[string]bool) // on the command line
	flags.Visit(func(f *pflag.Flag) { given[f.Name] = true })
	var errs []error
	for _, k := range configKeys {
		v, ok := l.values[k.path]
		if !ok {
			continue
		}
		s, set, err := k.parse(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if k.flag == "" || !set {
			continue
		}
		if flags.Lookup(k.flag) == nil {
			l.report.ignored = append(l.report.ignored, k.path+" ("+v.at+"; no --"+k.flag+" in this build)")
			continue
		}
		if given[k.flag] {
			continue
		}
		if err := flags.Set(k.flag, s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q: %w (%s)", k.path, v.raw, err, v.at))
		}
	}
	return errors.Join(errs...)
}

// parse checks v and returns the flag value it stands for; set is false
// for a null, which leaves the default.
func (k *configKey) parse(v configValue) (s string, set bool, err error) {
	bad := func(want string) (string, bool, error) {
		return "", false, fmt.Errorf("%s: %q is not %s (%s)", k.path, v.raw, want, v.at)
	}
	if v.tag == "!!null" {
		switch {
		case k.noNull != "":
			return "", false, fmt.Errorf("%s: null is not supported: %s (%s)", k.path, k.noNull, v.at)
		case k.kind == kindSeconds:
			return "0s", true, nil
		}
		return "", false, nil
	}
	switch k.kind {
	case kindString:
		return v.raw, true, nil
	case kindBool, kindNotBool, kindNone:
		b, ok := parseConfigBool(v)
		if !ok {
			return bad("a bool (true or false)")
		}
		if k.kind == kindNotBool {
			b = !b
		}
		return strconv.FormatBool(b), true, nil
	case kindPort, kindPosInt, kindSeconds:
		n, ok := parseConfigInt(v)
		switch {
		case !ok:
			return bad("an integer")
		case k.kind == kindPort && (n < 0 || n > math.MaxUint16):
			return bad("a port number (0 to 65535)")
		case k.kind != kindPort && n < 1:
			return bad("a positive integer")
		case k.kind == kindSeconds:
			if n > math.MaxInt64/int64(time.Second) {
				return bad("a number of seconds")
			}
			return strconv.FormatInt(n, 10) + "s", true, nil
		}
		return strconv.FormatInt(n, 10), true, nil
	}
	panic(fmt.Sprintf("qlite: BUG: config key %s has kind %d", k.path, k.kind))
}

// parseConfigInt reads an integer: a YAML integer, or a string of digits
// as Qdrant's config reader accepts (the environment's values are
// strings).
func parseConfigInt(v configValue) (int64, bool) {
	var n int64
	switch v.tag {
	case "!!int":
		if v.node != nil {
			if err := v.node.Decode(&n); err != nil {
				return 0, false
			}
			return n, true
		}
	case "!!str":
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v.raw), 10, 64)
	return n, err == nil
}

// parseConfigBool reads a bool: a YAML bool, or one of the strings
// Qdrant's config reader takes for one.
func parseConfigBool(v configValue) (bool, bool) {
	if v.tag == "!!bool" && v.node != nil {
		var b bool
		return b, v.node.Decode(&b) == nil
	}
	if v.tag != "!!str" && v.tag != "!!int" && v.tag != "!!bool" {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(v.raw)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

// loadConfig reads the config files (those under dir that Qdrant reads,
// then path when not empty) and the environment, and sets the flags the
// command line did not give.
func loadConfig(flags *pflag.FlagSet, dir, path string, environ []string) (*configReport, error) {
	l := newConfigLayers()
	var runMode string
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "RUN_MODE="); ok {
			runMode = v
		}
	}
	files := defaultConfigFiles(dir, runMode)
	if path != "" {
		files = append(files, path)
	}
	for _, f := range files {
		if err := l.addFile(f); err != nil {
			return nil, err
		}
	}
	if err := l.addEnv(environ); err != nil {
		return nil, err
	}
	if err := l.apply(flags); err != nil {
		return nil, err
	}
	return &l.report, nil
}
