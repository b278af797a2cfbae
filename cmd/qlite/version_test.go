package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/telemetry"
)

type versionOut struct {
	telemetry.Build
	QdrantAPI string `json:"qdrant_api"`
}

func TestVersion(t *testing.T) {
	out, err := execute(t, "version", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v versionOut
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if v.Build != telemetry.BuildInfo() || v.QdrantAPI != compat.QdrantVersion || v.GoVersion != runtime.Version() {
		t.Errorf("version --json: %+v", v)
	}
	out, err = execute(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"qlite " + v.Version + "\n", "qdrant api  " + compat.QdrantVersion, runtime.Version()} {
		if !strings.Contains(out, want) {
			t.Errorf("version does not say %q:\n%s", want, out)
		}
	}
}

// TestVersionOfBinary builds the qlite binary as a release would, with the
// build date set, and checks that it reports the commit of the checkout it
// was built from.
func TestVersionOfBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the binary is not built")
	}
	bin := filepath.Join(t.TempDir(), "qlite")
	const date = "2026-01-02T03:04:05Z"
	// A release build stamps the commit (-buildvcs=true, whatever GOFLAGS
	// says), which needs a git checkout.
	head, gitErr := exec.Command("git", "rev-parse", "HEAD").Output()
	vcs := "-buildvcs=true"
	if gitErr != nil {
		vcs = "-buildvcs=false"
	} else if top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err != nil {
		gitErr = err
	} else if fi, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !fi.IsDir() {
		// Go stamps no VCS information in a linked worktree.
		gitErr = fmt.Errorf("a linked git worktree")
	}
	build := exec.Command("go", "build", vcs, "-ldflags", "-X github.com/qlite/qlite/telemetry.buildDate="+date, "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v versionOut
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if v.Date != date || v.QdrantAPI != compat.QdrantVersion || v.Version == "" {
		t.Errorf("version --json of the binary: %+v", v)
	}
	if gitErr != nil {
		t.Logf("the commit is not checked: no git checkout Go can stamp from (%v)", gitErr)
		return
	}
	if v.Commit != strings.TrimSpace(string(head)) || v.CommitTime.IsZero() {
		t.Errorf("the binary reports commit %q (%v), the checkout is at %s", v.Commit, v.CommitTime, head)
	}
}
