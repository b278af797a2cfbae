package telemetry

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestParseLogLevel(t *testing.T) {
	f := func(s string, want slog.Level, ignored string) {
		t.Helper()
		got, ign, err := ParseLogLevel(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got != want || strings.Join(ign, ";") != ignored {
			t.Fatalf("%q: got %v ignoring %q, want %v ignoring %q", s, got, ign, want, ignored)
		}
	}
	f("", slog.LevelInfo, "")
	f("INFO", slog.LevelInfo, "")
	f("trace", LevelTrace, "")
	f("Debug", slog.LevelDebug, "")
	f("WARN", slog.LevelWarn, "")
	f("error", slog.LevelError, "")
	f("off", levelOff, "")
	// Qdrant's filter syntax: the rightmost bare level applies.
	f("debug,warn", slog.LevelWarn, "")
	f("warn, qdrant=debug", slog.LevelWarn, "qdrant=debug")
	f("segment=trace", slog.LevelInfo, "segment=trace")
	f("info,actix_web[path]=warn,error", slog.LevelError, "actix_web[path]=warn")

	for _, bad := range []string{"verbose", "warning", "3", "info,loud"} {
		if _, _, err := ParseLogLevel(bad); err == nil {
			t.Fatalf("%q: no error", bad)
		}
	}
}

// TestNewLogger writes records through text and JSON loggers and reads
// them back with a parser of each format.
func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	l, err := NewLogger(&buf, "JSON", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hidden")
	l.Info("shown", "collection", "c", "status", 200)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%q: %v", buf.String(), err)
	}
	if rec["level"] != "INFO" || rec["msg"] != "shown" || rec["collection"] != "c" || rec["status"] != 200.0 {
		t.Fatalf("record %v", rec)
	}

	buf.Reset()
	l, err = NewLogger(&buf, "", LevelTrace)
	if err != nil {
		t.Fatal(err)
	}
	l.Log(t.Context(), LevelTrace, "deep", "k", "v w")
	l.Warn("careful")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", lines)
	}
	for i, want := range []map[string]string{{"level": "TRACE", "msg": "deep", "k": "v w"}, {"level": "WARN", "msg": "careful"}} {
		got := parseLogfmt(t, lines[i])
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("line %q: %s=%q, want %q", lines[i], k, got[k], v)
			}
		}
	}

	buf.Reset()
	l, _ = NewLogger(&buf, "text", levelOff)
	l.Error("nothing")
	if buf.Len() != 0 {
		t.Fatalf("off logged %q", buf.String())
	}
	if _, err := NewLogger(&buf, "yaml", slog.LevelInfo); err == nil {
		t.Fatal("format yaml: no error")
	}
}

// parseLogfmt reads a line of key=value pairs, values bare or quoted as
// Go strings.
func parseLogfmt(t *testing.T, line string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for line != "" {
		k, rest, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("no = in %q", line)
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for ; end < len(rest) && rest[end] != '"'; end++ {
				if rest[end] == '\\' {
					end++
				}
			}
			var err error
			if err = json.Unmarshal([]byte(rest[:end+1]), &v); err != nil {
				t.Fatalf("value %q: %v", rest[:end+1], err)
			}
			rest = rest[end+1:]
		} else {
			v, rest, _ = strings.Cut(rest, " ")
			rest = " " + rest
		}
		m[k] = v
		line = strings.TrimLeft(rest, " ")
	}
	return m
}
