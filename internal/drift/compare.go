package drift

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/example-org/promobot/internal/audit"
)

// Kind names a kind of drift.
type Kind string

// The kinds of drift.
const (
	// KindNotPinned: the job's latest load is a version the environment
	// pinned once, but not at that time, and the pin had changed longer
	// than the grace period before.
	KindNotPinned Kind = "not-pinned"
	// KindNeverPinned: a version the environment never pinned.
	KindNeverPinned Kind = "never-pinned"
	// KindDigestMismatch: the pinned version with another artifact digest.
	KindDigestMismatch Kind = "digest-mismatch"
	// KindUnverified: the artifact was not verified against storage.
	KindUnverified Kind = "unverified"
	// KindUnattested: no promotion attestation was required.
	KindUnattested Kind = "unattested"
	// KindStoppedReporting: no load reported for longer than the stale
	// period, while the environment still pins the model.
	KindStoppedReporting Kind = "stopped-reporting"
)

// Kinds lists every kind, in report order.
var Kinds = []Kind{KindNotPinned, KindNeverPinned, KindDigestMismatch, KindUnverified, KindUnattested, KindStoppedReporting}

// DefaultGrace is how long after a merge a job may still load the version
// pinned before, when the policy sets no drift.graceMinutes.
const DefaultGrace = 60 * time.Minute

// Options tune Compare.
type Options struct {
	// Now is the time of the comparison.
	Now time.Time
	// Grace is how long after a pin changed a load of the previous
	// version is not drift; zero means DefaultGrace.
	Grace time.Duration
	// Stale is how long a job may go without a report before it is
	// reported as stopped; zero turns the check off.
	Stale time.Duration
	// Environments and Models, when not empty, restrict the comparison.
	Environments, Models []string
}

// Finding is one drift.
type Finding struct {
	Kind        Kind   `json:"kind"`
	Job         string `json:"job"`
	Environment string `json:"environment"`
	Model       string `json:"model"`
	// Loaded is the version the job reported; Pinned the version the
	// manifest pinned at that time (empty when none).
	Loaded string `json:"loaded,omitempty"`
	Pinned string `json:"pinned,omitempty"`
	// At is the time of the job's load the finding is about.
	At time.Time `json:"at"`
	// Message says what is wrong in a full sentence.
	Message string `json:"message"`
}

// Result is the outcome of a comparison.
type Result struct {
	// Now, Grace and Stale repeat the options.
	Now   time.Time `json:"now"`
	Grace string    `json:"grace"`
	Stale string    `json:"stale"`
	// Jobs are the latest load of every job, environment and model.
	Jobs []Load `json:"jobs"`
	// Findings are the drifts, by kind, then environment, model and job.
	Findings []Finding `json:"findings"`
	// Skipped counts report lines that could not be read.
	Skipped int `json:"skipped"`
}

// Drift reports whether anything drifted.
func (r Result) Drift() bool { return len(r.Findings) > 0 }

// Compare checks the latest load of each job, environment and model
// against the pins in force when it loaded (pins from audit.Timeline).
// Only a job's latest load counts: a job that loaded the wrong version and
// then the right one has stopped drifting.
func Compare(loads []Load, pins []audit.Pin, opts Options) Result {
	grace := opts.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	res := Result{Now: opts.Now, Grace: grace.String(), Stale: opts.Stale.String(), Jobs: []Load{}, Findings: []Finding{}}
	keep := func(env, model string) bool {
		return (len(opts.Environments) == 0 || slices.Contains(opts.Environments, env)) &&
			(len(opts.Models) == 0 || slices.Contains(opts.Models, model))
	}
	type key struct{ job, env, model string }
	latest := map[key]Load{}
	for _, l := range loads {
		if !keep(l.Environment, l.Model) {
			continue
		}
		k := key{l.Job, l.Environment, l.Model}
		if prev, ok := latest[k]; !ok || !l.Time.Before(prev.Time) {
			latest[k] = l
		}
	}
	byManifest := map[[2]string][]audit.Pin{}
	for _, p := range pins {
		k := [2]string{p.Environment, p.Model}
		byManifest[k] = append(byManifest[k], p)
	}
	keys := make([]key, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.env != b.env {
			return a.env < b.env
		}
		if a.model != b.model {
			return a.model < b.model
		}
		return a.job < b.job
	})
	for _, k := range keys {
		l := latest[k]
		res.Jobs = append(res.Jobs, l)
		timeline := byManifest[[2]string{l.Environment, l.Model}]
		add := func(kind Kind, pinned, format string, args ...any) {
			res.Findings = append(res.Findings, Finding{Kind: kind, Job: l.Job, Environment: l.Environment, Model: l.Model, Loaded: l.Version, Pinned: pinned, At: l.Time, Message: fmt.Sprintf(format, args...)})
		}
		inForce, previous := pinAt(timeline, l.Time)
		switch {
		case !everPinned(timeline, l.Version):
			add(KindNeverPinned, versionOf(inForce), "Job %s loaded %s %s in %s at %s, a version %s never pinned.", l.Job, l.Model, l.Version, l.Environment, stamp(l.Time), l.Environment)
		case inForce == nil:
			add(KindNotPinned, "", "Job %s loaded %s %s in %s at %s, when %s pinned no version of it.", l.Job, l.Model, l.Version, l.Environment, stamp(l.Time), l.Environment)
		case inForce.Version != l.Version:
			withinGrace := previous != nil && previous.Version == l.Version && l.Time.Sub(inForce.From) < grace
			if !withinGrace {
				add(KindNotPinned, inForce.Version, "Job %s loaded %s %s in %s at %s, but %s was pinned since %s (grace %s).", l.Job, l.Model, l.Version, l.Environment, stamp(l.Time), inForce.Version, stamp(inForce.From), grace)
			}
		case inForce.ArtifactSHA256 != "" && l.SHA256 != inForce.ArtifactSHA256:
			add(KindDigestMismatch, inForce.Version, "Job %s loaded %s %s in %s at %s with digest %s, but the manifest pins %s.", l.Job, l.Model, l.Version, l.Environment, stamp(l.Time), short(l.SHA256), short(inForce.ArtifactSHA256))
		}
		if !l.Verified {
			add(KindUnverified, versionOf(inForce), "Job %s loaded %s %s in %s at %s without verifying the artifact against storage.", l.Job, l.Model, l.Version, l.Environment, stamp(l.Time))
		}
		if l.Attestation == "" || l.Attestation == AttestationNone {
			add(KindUnattested, versionOf(inForce), "Job %s loaded %s %s in %s at %s without requiring a promotion attestation.", l.Job, l.Model, l.Version, l.Environment, stamp(l.Time))
		}
		if opts.Stale > 0 && opts.Now.Sub(l.Time) > opts.Stale {
			if now, _ := pinAt(timeline, opts.Now); now != nil {
				add(KindStoppedReporting, now.Version, "Job %s last reported loading %s in %s at %s, more than %s ago, while %s still pins %s.", l.Job, l.Model, l.Environment, stamp(l.Time), opts.Stale, l.Environment, now.Version)
			}
		}
	}
	sort.SliceStable(res.Findings, func(i, j int) bool {
		return slices.Index(Kinds, res.Findings[i].Kind) < slices.Index(Kinds, res.Findings[j].Kind)
	})
	return res
}

// pinAt returns the pin in force at t and the one before it.
func pinAt(timeline []audit.Pin, t time.Time) (inForce, previous *audit.Pin) {
	for i := range timeline {
		if timeline[i].Contains(t) {
			if i > 0 && timeline[i-1].Until.Equal(timeline[i].From) {
				previous = &timeline[i-1]
			}
			return &timeline[i], previous
		}
	}
	return nil, nil
}

func everPinned(timeline []audit.Pin, version string) bool {
	for _, p := range timeline {
		if p.Version == version {
			return true
		}
	}
	return false
}

func versionOf(p *audit.Pin) string {
	if p == nil {
		return ""
	}
	return p.Version
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
