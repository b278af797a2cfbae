package telemetry

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
)

// Log formats of NewLogger, as Qdrant's logger.format names them.
const (
	LogFormatText = "text"
	LogFormatJSON = "json"
)

// LevelTrace is Qdrant's TRACE level, below slog.LevelDebug. Records at it
// print as TRACE.
const LevelTrace = slog.Level(-8)

// levelOff is above every record's level: log_level "off" logs nothing.
const levelOff = slog.Level(1 << 20)

// ParseLogLevel reads Qdrant's log_level setting: one of trace, debug,
// info, warn, error or off, in any case. Qdrant's value is a filter: a
// comma-separated list in which target=level directives tune one module
// and the rightmost bare level applies to the rest; qlite has no targets,
// so it takes that bare level (info when there is none) and returns the
// directives it did not use in ignored, for the caller to report. An empty
// value is info, Qdrant's default.
func ParseLogLevel(s string) (level slog.Level, ignored []string, err error) {
	level = slog.LevelInfo
	found := false
	parts := strings.Split(s, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		d := strings.TrimSpace(parts[i])
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "=[{") {
			ignored = append(ignored, d)
			continue
		}
		l, ok := levelNames[strings.ToLower(d)]
		if !ok {
			return 0, nil, fmt.Errorf("log level %q: want trace, debug, info, warn, error or off", d)
		}
		if !found {
			level, found = l, true
		}
	}
	return level, ignored, nil
}

var levelNames = map[string]slog.Level{
	"trace": LevelTrace,
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
	"off":   levelOff,
}

// NewLogger returns a logger that writes records at level and above to w,
// one line each, as text (key=value pairs, slog's TextHandler) or JSON
// (one object per line, slog's JSONHandler); format is "text" or "json" in
// any case, and empty is text.
func NewLogger(w io.Writer, format string, level slog.Level) (*slog.Logger, error) {
	o := &slog.HandlerOptions{Level: level}
	if level <= LevelTrace {
		// Only a trace logger can meet a level slog has no name for.
		o.ReplaceAttr = nameTrace
	}
	switch strings.ToLower(format) {
	case "", LogFormatText:
		return slog.New(slog.NewTextHandler(w, o)), nil
	case LogFormatJSON:
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func nameTrace(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if l, ok := a.Value.Any().(slog.Level); ok && l <= LevelTrace {
			a.Value = slog.StringValue("TRACE")
		}
	}
	return a
}

// SetDefaultLogger makes l the process's logger: slog's default (and so
// the standard log package's output, at level info) and OpenTelemetry's.
// OpenTelemetry's errors (a collector that cannot be reached, spans dropped
// from a full queue) become records at level error, and its internal
// messages at verbosity V(n) records at level -n (V(4) is debug, V(8)
// trace).
func SetDefaultLogger(l *slog.Logger) {
	slog.SetDefault(l)
	otel.SetLogger(logr.FromSlogHandler(l.Handler()))
	otelErrorsOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			slog.Default().Error("opentelemetry", "err", err)
		}))
	})
}

// otelErrorsOnce installs OpenTelemetry's error handler once: it logs to
// whatever logger is slog's default when an error comes.
var otelErrorsOnce sync.Once
