// Package policy defines the promotion policy read from .github/promobot.yaml
// on the base branch: the ordered environments and their requirements, where
// artifacts may live, governance of the control files, bundles, and the mode
// of each rule family. Loading and checking the file is
// internal/repoconfig's; the families themselves are internal/evaluate's
// rule table.
//
// The package is pure: it reads no files.
package policy

import (
	"math"
	"regexp"
	"slices"
	"time"
)

// Path is the repository path of the policy file.
const Path = ".github/promobot.yaml"

// Mode says how a rule family is applied.
type Mode string

// The rule modes.
const (
	// Enforce makes failures block the change.
	Enforce Mode = "enforce"
	// Warn reports failures without blocking: how a new rule is rolled out in
	// shadow before it is enforced.
	Warn Mode = "warn"
	// Off skips the rule family.
	Off Mode = "off"
)

// Family names a group of rules that share a mode.
type Family string

// The names of the rule families; internal/evaluate's rule table declares
// each family and their order.
const (
	FamilySchema       Family = "schema"
	FamilyEnvironment  Family = "environment"
	FamilyOrder        Family = "order"
	FamilyImmutability Family = "immutability"
	FamilyValidation   Family = "validation"
	FamilyTicket       Family = "ticket"
	FamilyLocation     Family = "location"
	FamilyLineage      Family = "lineage"
	FamilyBundles      Family = "bundles"
	FamilyFreeze       Family = "freeze"
	FamilyArtifacts    Family = "artifacts"
	FamilyApprovals    Family = "approvals"
	FamilyFieldOwners  Family = "fieldOwners"
	FamilyTiers        Family = "tiers"
	// FamilyEvidence is the validation report's location, digest and,
	// where artifacts are verified, its bytes.
	FamilyEvidence Family = "evidence"
	// FamilyRollbackReady is the incumbent a promotion replaces staying
	// resolvable as its rollback target.
	FamilyRollbackReady Family = "rollbackReady"
	// FamilySBOM is the model's software bill of materials.
	FamilySBOM      Family = "sbom"
	FamilyMetrics   Family = "metrics"
	FamilyRationale Family = "rationale"
)

// LineageFields are the lineage fields an environment may require.
var LineageFields = []string{"trainingRun", "sourceCommit", "dataWindow", "featureSet", "dataVersion"}

// Policy is a parsed, checked promotion policy.
type Policy struct {
	Environments []Environment
	Artifacts    Artifacts
	Governance   Governance
	Bundles      []Bundle
	// Drift tunes promobot drift.
	Drift Drift
	Audit Audit
	// Rules holds the mode of each family that the file sets; Mode gives the
	// effective mode of any family.
	Rules map[Family]Mode
	// FieldOwners name the owners of manifest fields (owners.go).
	FieldOwners []FieldOwners
	// RiskTiers are the declared risk tiers by name, and Models the
	// declared tier of each model (tiers.go).
	RiskTiers map[string]RiskTier
	Models    map[string]ModelPolicy
}

// Environment is one stage of the promotion path.
type Environment struct {
	Name string
	// From is the environment a version must be pinned in before it may be
	// promoted here; empty for the first environment.
	From              string
	Approvals         int
	RequireValidation bool
	RequireTicket     bool
	// TicketPattern is the source of TicketRegexp, empty when any non-empty
	// ticket will do.
	TicketPattern    string
	TicketRegexp     *regexp.Regexp
	RequiredLineage  []string
	RequireSignature bool
	AutoPropose      bool
	// VerifyArtifacts says that the artifact of a manifest changed in this
	// environment must be read from storage and hashed before the change
	// may merge: without a verified outcome the artifacts rule fails
	// ("could not verify"); it is never skipped.
	VerifyArtifacts bool
	// RequireValidationReport says that manifests of this environment
	// must name their validation report (validation.report) and its
	// digest (validation.reportSha256).
	RequireValidationReport bool
	// RequireRollbackReady says that a change replacing a pinned version
	// passes only while that version, its rollback target, still resolves.
	RequireRollbackReady bool
	// RequireSBOM says that manifests of this environment must name the
	// model's SBOM (sbom.uri and sbom.sha256).
	RequireSBOM bool
	Freeze      []FreezeWindow
	// MetricGates are the environment's metric gates, sorted by metric.
	MetricGates []MetricGate
	// MetricExceptionLabel is the pull-request label that overrides failing
	// metric gates, with governance approvals; empty when none may be.
	MetricExceptionLabel string
	// RationaleMinLength is the fewest characters approval.rationale may
	// have; zero when the environment requires no rationale.
	RationaleMinLength int
}

// Direction says which way a metric improves.
type Direction string

// The directions of a metric.
const (
	HigherIsBetter Direction = "higher"
	LowerIsBetter  Direction = "lower"
)

// MetricGate is the gate of one metric in one environment.
type MetricGate struct {
	Metric string
	// Models are the models the gate applies to; empty means every model.
	Models []string
	// Min and Max are inclusive absolute bounds; nil when absent.
	Min, Max *float64
	// Incumbent, when set, asks the candidate to be no worse than the
	// version the environment pins at the base, within a tolerance.
	Incumbent *IncumbentGate
}

// AppliesTo reports whether the gate applies to model.
func (g MetricGate) AppliesTo(model string) bool {
	return len(g.Models) == 0 || slices.Contains(g.Models, model)
}

// IncumbentGate is "no worse than the incumbent".
type IncumbentGate struct {
	Better Direction
	// Tolerance is how much worse the candidate may be: in the metric's
	// units, or, when Relative, as a fraction of |incumbent|.
	Tolerance float64
	Relative  bool
}

// Allowance returns how much worse than incumbent a candidate may be.
func (g IncumbentGate) Allowance(incumbent float64) float64 {
	if g.Relative {
		return g.Tolerance * math.Abs(incumbent)
	}
	return g.Tolerance
}

// Limit returns the worst value a candidate may have against incumbent.
func (g IncumbentGate) Limit(incumbent float64) float64 {
	if g.Better == HigherIsBetter {
		return incumbent - g.Allowance(incumbent)
	}
	return incumbent + g.Allowance(incumbent)
}

// Accepts reports whether candidate is no worse than incumbent within the
// tolerance.
func (g IncumbentGate) Accepts(candidate, incumbent float64) bool {
	if g.Better == HigherIsBetter {
		return candidate >= g.Limit(incumbent)
	}
	return candidate <= g.Limit(incumbent)
}

// FreezeWindow is a period during which an environment does not change.
type FreezeWindow struct {
	Name          string
	Start, End    time.Time
	OverrideLabel string
}

// Contains reports whether t falls in [Start, End).
func (w FreezeWindow) Contains(t time.Time) bool { return !t.Before(w.Start) && t.Before(w.End) }

// Artifacts says where artifacts may live and who may sign them.
type Artifacts struct {
	AllowedLocations []string
	AllowLocal       bool
	// TrustedKeys are repository paths of PEM public keys.
	TrustedKeys []string
}

// Governance governs changes to the control files.
type Governance struct {
	// Approvals needed for control files and frozen-environment overrides.
	Approvals int
}

// Drift tunes the comparison of scoring jobs' reports with the pins.
type Drift struct {
	// GraceMinutes is how long after a merge a job may still load the
	// version pinned before; zero means the default (60 minutes).
	GraceMinutes int
}

// Audit configures promobot audit.
type Audit struct {
	// JudgeFrom is the commit (a hash, full or abbreviated) or the date or
	// RFC 3339 time from which the audit judges bypasses; changes before it
	// (a bootstrap import) are shown as before judging. Empty judges every
	// change.
	JudgeFrom string
}

// Bundle is a group of models that move together.
type Bundle struct {
	Name   string
	Models []string
}

// Mode returns the effective mode of a rule family: enforce unless the policy
// says otherwise.
func (p *Policy) Mode(f Family) Mode {
	if m, ok := p.Rules[f]; ok {
		return m
	}
	return Enforce
}

// Environment returns the named environment.
func (p *Policy) Environment(name string) (*Environment, bool) {
	for i := range p.Environments {
		if p.Environments[i].Name == name {
			return &p.Environments[i], true
		}
	}
	return nil, false
}

// First returns the environment where new versions are registered.
func (p *Policy) First() *Environment { return &p.Environments[0] }

// Next returns the environments promoted from name.
func (p *Policy) Next(name string) []*Environment {
	var out []*Environment
	for i := range p.Environments {
		if p.Environments[i].From == name {
			out = append(out, &p.Environments[i])
		}
	}
	return out
}

// BundleOf returns the bundle that holds model.
func (p *Policy) BundleOf(model string) (*Bundle, bool) {
	for i := range p.Bundles {
		if slices.Contains(p.Bundles[i].Models, model) {
			return &p.Bundles[i], true
		}
	}
	return nil, false
}

// ActiveFreeze returns the freeze window of env in force at t.
func (e *Environment) ActiveFreeze(t time.Time) (*FreezeWindow, bool) {
	for i := range e.Freeze {
		if e.Freeze[i].Contains(t) {
			return &e.Freeze[i], true
		}
	}
	return nil, false
}

// TicketMatches reports whether ticket satisfies the environment's pattern.
func (e *Environment) TicketMatches(ticket string) bool {
	if ticket == "" {
		return false
	}
	return e.TicketRegexp == nil || e.TicketRegexp.MatchString(ticket)
}
