package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogsShowDurationsAsText logs a duration through both handlers of
// serve and expects Go's duration text, not nanoseconds.
func TestLogsShowDurationsAsText(t *testing.T) {
	for name, newHandler := range map[string]func(*strings.Builder) slog.Handler{
		"json": func(b *strings.Builder) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{ReplaceAttr: humanDurations})
		},
		"text": func(b *strings.Builder) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{ReplaceAttr: humanDurations})
		},
	} {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			slog.New(newHandler(&b)).Info("shutting down", "timeout", 90*time.Second, slog.Group("job", "took", 1500*time.Millisecond))
			out := b.String()
			for _, want := range []string{"1m30s", "1.5s"} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q: %s", want, out)
				}
			}
			if strings.Contains(out, "90000000000") {
				t.Errorf("log shows nanoseconds: %s", out)
			}
		})
	}
}
