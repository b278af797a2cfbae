package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// readYAMLStrict decodes the one document of a YAML file into v, refusing
// keys v has no field for, so that a misspelt key fails the test.
func readYAMLStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readYAMLDocs decodes every document of a YAML file as generic values.
func readYAMLDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// TestYAMLFilesParse parses every YAML file of this directory.
func TestYAMLFilesParse(t *testing.T) {
	n := 0
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			if docs := readYAMLDocs(t, path); len(docs) == 0 {
				t.Errorf("%s: no document", path)
			}
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("only %d YAML files", n)
	}
}

// dockerfile is what the tests read of the top-level Dockerfile's runtime
// stage (its last).
type dockerfile struct {
	expose  []string
	volumes []string
	env     map[string]string
	user    string
	health  string
}

var dockerInstr = regexp.MustCompile(`^([A-Z]+)\s+(.*)$`)

func readDockerfile(t *testing.T) *dockerfile {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	var d *dockerfile
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		m := dockerInstr.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "#") {
			continue
		}
		arg := strings.TrimSpace(m[2])
		switch m[1] {
		case "FROM":
			d = &dockerfile{env: map[string]string{}}
		case "EXPOSE":
			d.expose = append(d.expose, strings.Fields(arg)...)
		case "VOLUME":
			d.volumes = append(d.volumes, strings.Trim(arg, `[]" `))
		case "ENV":
			for _, kv := range strings.Fields(arg) {
				k, v, _ := strings.Cut(kv, "=")
				d.env[k] = v
			}
		case "USER":
			d.user = arg
		case "HEALTHCHECK":
			d.health = arg
		}
	}
	if d == nil {
		t.Fatal("Dockerfile: no FROM")
	}
	return d
}

// TestDockerfile checks the runtime stage against what qlite serves and
// the layout of qdrant/qdrant.
func TestDockerfile(t *testing.T) {
	d := readDockerfile(t)
	if strings.Join(d.expose, " ") != "6333 6334" {
		t.Errorf("EXPOSE %v, want 6333 6334", d.expose)
	}
	if len(d.volumes) != 1 || d.volumes[0] != "/qdrant/storage" {
		t.Errorf("VOLUME %v, want /qdrant/storage", d.volumes)
	}
	if d.env["QDRANT__STORAGE__STORAGE_PATH"] != "/qdrant/storage" {
		t.Errorf("ENV QDRANT__STORAGE__STORAGE_PATH=%q", d.env["QDRANT__STORAGE__STORAGE_PATH"])
	}
	if d.env["RUN_MODE"] != "production" {
		t.Errorf("ENV RUN_MODE=%q: qdrant/qdrant reads config/production.yaml", d.env["RUN_MODE"])
	}
	if uid, _, _ := strings.Cut(d.user, ":"); uid == "" || uid == "0" || strings.Trim(uid, "0123456789") != "" {
		t.Errorf("USER %q: want a numeric user other than root", d.user)
	}
	if !strings.Contains(d.health, `["/qdrant/qlite", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %q does not run qlite healthcheck", d.health)
	}
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(ignore), "\n") {
		if l := strings.TrimSpace(line); l == ".git" || l == "go.mod" || l == "cmd/" || l == "*.go" {
			t.Errorf(".dockerignore leaves out %s, which the build needs", l)
		}
	}
}
