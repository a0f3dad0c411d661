package main

import "log/slog"

// humanDurations writes durations in logs as Go durations ("1m30s",
// "250ms") rather than nanoseconds, for the JSON and the text handler alike.
func humanDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}
