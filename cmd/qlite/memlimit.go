package main

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// byteUnits are the units a byte size may end with: the binary ones
// GOMEMLIMIT takes, and their decimal counterparts.
var byteUnits = []struct {
	suffix string // lower case
	scale  int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"b", 1},
}

// parseByteSize parses a positive whole number of bytes with an optional
// unit: 536870912, 512MiB, 2GiB, 1.5GiB, 500MB (units are case-blind).
func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	low := strings.ToLower(t)
	scale := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(low, u.suffix) {
			scale = u.scale
			t = strings.TrimSpace(t[:len(t)-len(u.suffix)])
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || t == "" || strings.ContainsAny(t, "eEnNxXpP_") {
		return 0, fmt.Errorf("%q is not a size in bytes (e.g. 512MiB, 2GiB)", s)
	}
	n := v * float64(scale)
	if !(n >= 1) || n >= math.MaxInt64 {
		return 0, fmt.Errorf("%q: want at least 1 byte and less than 8 EiB", s)
	}
	return int64(n), nil
}

// formatBytes writes n with the largest binary unit that keeps it whole
// enough to read (e.g. 512MiB, 1.5GiB, 1000B).
func formatBytes(n int64) string {
	for _, u := range []struct {
		name  string
		scale int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.scale {
			return strconv.FormatFloat(float64(n)/float64(u.scale), 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// memoryLimit is the value of --memory-limit: a byte size, 0 when not set
// (the runtime keeps the limit GOMEMLIMIT gave it, or none).
type memoryLimit int64

func (m *memoryLimit) String() string {
	if *m == 0 {
		return ""
	}
	return formatBytes(int64(*m))
}

func (m *memoryLimit) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*m = memoryLimit(n)
	return nil
}

func (m *memoryLimit) Type() string { return "bytes" }

// apply sets the Go runtime's memory limit when the flag was given, and
// returns the limit in force (math.MaxInt64 for none).
func (m memoryLimit) apply() int64 {
	if m > 0 {
		debug.SetMemoryLimit(int64(m))
	}
	return debug.SetMemoryLimit(-1)
}
