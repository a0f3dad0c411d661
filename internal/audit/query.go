package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Filter selects records. Empty fields select everything.
type Filter struct {
	// Environments and Models keep records of these names.
	Environments []string
	Models       []string
	// Since and Until keep records at or after Since and at or before
	// Until; zero values are open ends.
	Since, Until time.Time
}

// Matches reports whether a record passes the filter.
func (f Filter) Matches(r *Record) bool {
	return f.matchesName(r.Environment, r.Model) &&
		(f.Since.IsZero() || !r.Time.Before(f.Since)) &&
		(f.Until.IsZero() || !r.Time.After(f.Until))
}

func (f Filter) matchesName(env, model string) bool {
	return (len(f.Environments) == 0 || slices.Contains(f.Environments, env)) &&
		(len(f.Models) == 0 || slices.Contains(f.Models, model))
}

// Apply returns the records that pass the filter, in order.
func (f Filter) Apply(records []Record) []Record {
	var out []Record
	for i := range records {
		if f.Matches(&records[i]) {
			out = append(out, records[i])
		}
	}
	return out
}

// ParseTime reads a command-line instant: RFC 3339 ("2026-06-05T14:00:00Z")
// or a date ("2026-06-05", UTC). For a date, endOfDay picks its last
// instant instead of its first, and span reports that a whole day was meant.
func ParseTime(s string, endOfDay bool) (t time.Time, span bool, err error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), false, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%q is neither a date (2006-01-02) nor an RFC 3339 time (2006-01-02T15:04:05Z)", s)
	}
	if endOfDay {
		d = d.Add(24*time.Hour - time.Nanosecond)
	}
	return d, true, nil
}

// Pin is a version pinned in an environment over a period.
type Pin struct {
	// Environment, Model and Version say what was pinned where.
	Environment string `json:"environment"`
	Model       string `json:"model"`
	Version     string `json:"version"`
	// ArtifactSHA256 is the pinned artifact digest.
	ArtifactSHA256 string `json:"artifactSha256,omitempty"`
	// From is when the version was pinned; Until when it stopped being,
	// zero while it still is.
	From  time.Time `json:"from"`
	Until time.Time `json:"until,omitzero"`
	// Pinned is the change that pinned the version: its commit, pull
	// request, approvers and bypass status.
	Pinned Record `json:"pinned"`
	// Edits are later changes that kept the version.
	Edits []Record `json:"edits,omitempty"`
}

// PinRecords returns the changes behind pins, in order: each pin's pinning
// change followed by its edits.
func PinRecords(pins []Pin) []Record {
	var out []Record
	for i := range pins {
		out = append(out, pins[i].Pinned)
		out = append(out, pins[i].Edits...)
	}
	return out
}

// Contains reports whether the pin was in force at t.
func (p *Pin) Contains(t time.Time) bool {
	return !t.Before(p.From) && (p.Until.IsZero() || t.Before(p.Until))
}

// Timeline returns, for each environment and model that pass the filter's
// names, the periods during which each version was pinned, in order. The
// filter's times are ignored: a timeline starts at the beginning.
func Timeline(records []Record, f Filter) []Pin {
	type key struct{ env, model string }
	open := map[key]int{} // index in out of the pin in force
	var out []Pin
	for _, r := range records {
		if !f.matchesName(r.Environment, r.Model) {
			continue
		}
		k := key{r.Environment, r.Model}
		i, isOpen := open[k]
		if isOpen && r.Kind == KindEdit && r.ToVersion == out[i].Version && r.Problem == "" {
			out[i].Edits = append(out[i].Edits, r)
			if r.ArtifactSHA256 != "" {
				out[i].ArtifactSHA256 = r.ArtifactSHA256
			}
			continue
		}
		if isOpen {
			out[i].Until = r.Time
			delete(open, k)
		}
		if r.Kind == KindDecommission || r.ToVersion == "" {
			continue
		}
		open[k] = len(out)
		out = append(out, Pin{Environment: r.Environment, Model: r.Model, Version: r.ToVersion, ArtifactSHA256: r.ArtifactSHA256, From: r.Time, Pinned: r})
	}
	return out
}

// PinsAt answers "which version was pinned in each environment during
// [from, to], and who approved it?": the pins of the timeline in force at
// some instant of the window (a single instant when from equals to),
// ordered by environment (in the given order), model and time.
func PinsAt(records []Record, f Filter, envOrder []string, from, to time.Time) []Pin {
	var out []Pin
	for _, p := range Timeline(records, f) {
		if p.From.After(to) || (!p.Until.IsZero() && !p.Until.After(from)) {
			continue
		}
		out = append(out, p)
	}
	rank := func(env string) int {
		if i := slices.Index(envOrder, env); i >= 0 {
			return i
		}
		return len(envOrder)
	}
	slices.SortStableFunc(out, func(a, b Pin) int {
		if d := rank(a.Environment) - rank(b.Environment); d != 0 {
			return d
		}
		if c := strings.Compare(a.Environment, b.Environment); c != 0 {
			return c
		}
		if c := strings.Compare(a.Model, b.Model); c != 0 {
			return c
		}
		return a.From.Compare(b.From)
	})
	return out
}
