package telemetry

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// Module is qlite's module path.
const Module = "github.com/qlite/qlite"

// buildDate is the time the binary was built, in RFC 3339, when the build
// sets it: go build -ldflags "-X github.com/qlite/qlite/telemetry.buildDate=$(date -u +%FT%TZ)".
// The Go toolchain records the commit and its time, not the build's.
var buildDate string

// Build describes the running binary.
type Build struct {
	// Version is the qlite module's version: a release tag, a pseudo-version,
	// or "(devel)" when built from a working tree.
	Version string `json:"version"`
	// Commit is the VCS revision the binary was built from, "" when the
	// build did not record one (go test, go run of a file list).
	Commit string `json:"commit,omitempty"`
	// CommitTime is the time of that revision, zero when unknown.
	CommitTime time.Time `json:"commit_time,omitzero"`
	// Modified is true when the working tree had changes not committed.
	Modified bool `json:"modified,omitempty"`
	// Date is the build time when the build set it (see buildDate), else "".
	Date string `json:"build_date,omitempty"`
	// GoVersion is the toolchain's version, GOOS and GOARCH.
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
}

// BuildInfo returns what the binary records about its build. It is read
// once: the gRPC health check and REST's GET / answer with it, and reading
// it (debug.ReadBuildInfo parses the module list each time) cost about
// 20 us of a 100 us health check.
func BuildInfo() Build { return buildInfo() }

var buildInfo = sync.OnceValue(readBuildInfo)

// readBuildInfo reads what the binary records about its build.
func readBuildInfo() Build {
	b := Build{Version: version(), Date: buildDate, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				b.CommitTime = t
			}
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// version is the version of the qlite module in this binary, "(devel)"
// when built from a working tree.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == Module && bi.Main.Version != "" {
			return bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == Module {
				if d.Replace != nil && d.Replace.Version != "" {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "(devel)"
}
