package evaluate

import (
	"fmt"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// Verdict says whether a change may merge. The zero value is VerdictFail, so
// a Result that was never filled in blocks.
type Verdict int

// The verdicts.
const (
	// VerdictFail blocks the merge.
	VerdictFail Verdict = iota
	// VerdictPass allows the merge.
	VerdictPass
)

// String returns "pass" or "fail".
func (v Verdict) String() string {
	if v == VerdictPass {
		return "pass"
	}
	return "fail"
}

// MarshalText renders the verdict as its name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses "pass" or "fail".
func (v *Verdict) UnmarshalText(b []byte) error {
	switch string(b) {
	case "pass":
		*v = VerdictPass
	case "fail":
		*v = VerdictFail
	default:
		return fmt.Errorf("evaluate: unknown verdict %q (want pass or fail)", b)
	}
	return nil
}

// Status is the outcome of one rule. The zero value is StatusFail, so a rule
// result that was never filled in blocks.
type Status int

// The rule outcomes.
const (
	// StatusFail means the rule failed in enforce mode; it blocks the merge.
	StatusFail Status = iota
	// StatusPass means the rule holds.
	StatusPass
	// StatusWarn means the rule failed in warn mode, or found something worth
	// attention that never blocks (an unresolvable owner, say).
	StatusWarn
	// StatusSkip means the rule does not apply or its family is off.
	StatusSkip
)

var statusNames = [...]string{StatusFail: "fail", StatusPass: "pass", StatusWarn: "warn", StatusSkip: "skip"}

// String returns "fail", "pass", "warn" or "skip".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// MarshalText renders the status as its name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("evaluate: unknown rule status %q (want pass, fail, warn or skip)", b)
}

// FamilyPolicy is the pseudo family of the findings about the base policy
// itself: a missing or broken policy fails every gated change closed.
const FamilyPolicy policy.Family = "policy"

// Result is the outcome of one evaluation. It explains itself: the verdict,
// one line saying what is missing, every rule outcome, the approvals per
// file and the promotions the change makes.
type Result struct {
	// Verdict is VerdictFail when any rule has StatusFail.
	Verdict Verdict `json:"verdict"`
	// Title is one line: what blocks the merge, or that everything passes.
	Title string `json:"title"`
	// Rules are every rule outcome, sorted by file, then family order.
	Rules []RuleResult `json:"rules"`
	// Approvals are the approval outcomes per gated file, sorted by file.
	Approvals []FileApproval `json:"approvals"`
	// Promotions are the manifest changes, sorted by environment order, then
	// model.
	Promotions []Promotion `json:"promotions"`
}

// RuleResult is the outcome of one rule applied to one file (or to the
// change as a whole when File is empty).
type RuleResult struct {
	// ID names the rule within its family, such as "order" or "rollback".
	ID string `json:"id"`
	// Family is the policy rule family whose mode applies.
	Family policy.Family `json:"family"`
	// Status is the outcome after the family's mode was applied.
	Status Status `json:"status"`
	// Mode is the family's mode in the base policy.
	Mode policy.Mode `json:"mode"`
	// File is the repository path the rule is about, if any.
	File string `json:"file,omitempty"`
	// Line and Column locate the offending field in the head version of File;
	// zero means the whole file.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Message is a complete, self-explanatory sentence.
	Message string `json:"message"`
}

// Blocks reports whether the rule outcome blocks the merge.
func (r RuleResult) Blocks() bool { return r.Status == StatusFail }

// FileApproval is the approval outcome of one changed gated file.
type FileApproval struct {
	// File is the changed file.
	File string `json:"file"`
	// Environment is the environment whose approval count applies, empty for
	// control files and files outside any declared environment.
	Environment string `json:"environment,omitempty"`
	// Basis says where Required comes from: "environment", "governance"
	// (control files, layout changes outside an environment and undeclared
	// environments), "freeze-override" (the environment's count during an
	// overridden freeze, with Governance beside it) or "metric-exception"
	// (the environment's count when failing metric gates are overridden,
	// with Governance beside it).
	Basis string `json:"basis"`
	// Layout describes a layout change (a gated path that is, or becomes, a
	// symbolic link or a submodule, or a change to a folder above a gated
	// path), such as "environments is replaced by a symbolic link"; empty
	// for other changes.
	Layout string `json:"layout,omitempty"`
	// Required is the number of distinct eligible owner approvals needed.
	Required int `json:"required"`
	// OwnersOf is the path whose CODEOWNERS owners count, when it is not
	// File: the policy file, for a layout change outside any environment.
	OwnersOf string `json:"ownersOf,omitempty"`
	// Owners are the CODEOWNERS owners of the file (or of OwnersOf) as
	// written in CODEOWNERS, from the last matching line; empty when it is
	// unowned.
	Owners []string `json:"owners"`
	// OwnersLine is the CODEOWNERS line that matched; zero when none did.
	OwnersLine int `json:"ownersLine,omitempty"`
	// Approvers are the logins whose approval counted, sorted.
	Approvers []string `json:"approvers"`
	// Ignored are the reviews that did not count, with the reason.
	Ignored []IgnoredReview `json:"ignored,omitempty"`
	// ChangesRequested are eligible owners whose latest review requests
	// changes; any of them blocks the file.
	ChangesRequested []string `json:"changesRequested,omitempty"`
	// Missing is how many more approvals are needed.
	Missing int `json:"missing"`
	// Unresolvable are owners whose members could not be determined (email
	// owners, teams missing from the membership lookup); they never count.
	Unresolvable []string `json:"unresolvable,omitempty"`
	// Governance is the second count the file needs beside Required, nil
	// when there is none: during an overridden freeze, and for a layout
	// change inside an environment.
	Governance *GovernanceApproval `json:"governance,omitempty"`
}

// Satisfied reports whether the file has enough approvals, governance ones
// included, and nobody blocks.
func (a FileApproval) Satisfied() bool {
	return a.Missing == 0 && len(a.ChangesRequested) == 0 && (a.Governance == nil || a.Governance.Missing == 0)
}

// The reasons a file needs governance approvals beside its own count;
// rule_metrics.go adds GovernanceMetricException.
const (
	// GovernanceFreezeOverride: the pull request overrides a freeze window
	// of the file's environment with the window's label.
	GovernanceFreezeOverride = "freeze-override"
	// GovernanceLayout: the change is a layout change (FileApproval.Layout).
	GovernanceLayout = "layout"
)

// GovernanceApproval is the governance count a file needs beside its own:
// governance.approvals distinct eligible approvals from the owners
// CODEOWNERS gives to the policy file. A person counts here and in the
// file's own count only when CODEOWNERS makes them owner of both.
type GovernanceApproval struct {
	// Reason is GovernanceFreezeOverride, GovernanceMetricException or
	// GovernanceLayout.
	Reason string `json:"reason"`
	// OwnersOf is the path whose owners count: the policy file.
	OwnersOf string `json:"ownersOf"`
	// Required is governance.approvals.
	Required int `json:"required"`
	// Owners are the policy file's CODEOWNERS owners, as written; empty
	// when it is unowned (then the count can never be met).
	Owners []string `json:"owners"`
	// OwnersLine is the CODEOWNERS line that matched; zero when none did.
	OwnersLine int `json:"ownersLine,omitempty"`
	// Approvers are the logins whose approval counted, sorted.
	Approvers []string `json:"approvers"`
	// Missing is how many more governance approvals are needed.
	Missing int `json:"missing"`
	// Unresolvable are owners whose members could not be determined.
	Unresolvable []string `json:"unresolvable,omitempty"`
}

// The reasons a review does not count.
const (
	ReasonAuthor           = "author"
	ReasonCommitter        = "committer"
	ReasonCoAuthor         = "co-author"
	ReasonBot              = "bot"
	ReasonNoWriteAccess    = "no write access"
	ReasonNotOwner         = "not an owner"
	ReasonStaleCommit      = "stale commit"
	ReasonChangesRequested = "changes requested"
	ReasonDismissed        = "dismissed"
)

// IgnoredReview is a review that did not count as an approval of a file.
type IgnoredReview struct {
	// Login is the reviewer as GitHub reported it.
	Login string `json:"login"`
	// Reason is one of the Reason constants.
	Reason string `json:"reason"`
}

// Kind says what a manifest change does.
type Kind string

// The kinds of manifest changes.
const (
	// KindPromote pins a version that is pinned in the source environment.
	KindPromote Kind = "promote"
	// KindRollback pins a version that was pinned in this environment before.
	KindRollback Kind = "rollback"
	// KindRegister pins a new version in an environment without a source,
	// where versions enter the promotion path.
	KindRegister Kind = "register"
	// KindDecommission removes a manifest.
	KindDecommission Kind = "decommission"
	// KindEdit changes a manifest without changing its version.
	KindEdit Kind = "edit"
)

// Promotion describes one manifest change.
type Promotion struct {
	Model       string `json:"model"`
	Environment string `json:"environment"`
	File        string `json:"file"`
	Kind        Kind   `json:"kind"`
	// FromVersion is the version pinned at the base, empty for a new file.
	FromVersion string `json:"fromVersion"`
	// ToVersion is the version pinned at the head, empty for a removal.
	ToVersion string `json:"toVersion"`
	// SourceEnvironment is the environment the version must come from.
	SourceEnvironment string `json:"sourceEnvironment,omitempty"`
	ArtifactSHA256    string `json:"artifactSHA256,omitempty"`
	// Metrics compares the head version's metrics (equal to the source
	// environment's, since metrics are immutable) with the replaced version's.
	Metrics    []MetricComparison        `json:"metrics,omitempty"`
	Validation manifest.ValidationStatus `json:"validation,omitempty"`
	Ticket     string                    `json:"ticket,omitempty"`
	// RollbackOf is the earlier pin a rollback returns to.
	RollbackOf *Pin `json:"rollbackOf,omitempty"`
	// Rationale is the head manifest's approval.rationale.
	Rationale string `json:"rationale,omitempty"`
	// Gates are the outcomes of the environment's metric gates, in metric
	// order; empty when none apply.
	Gates []MetricGateResult `json:"gates,omitempty"`
	// Exception names the metric gates overridden by the exception label;
	// the governance approvals it needs are in the file's approval.
	Exception *MetricException `json:"exception,omitempty"`
	// ExceptionLabel is the label that may override the environment's
	// failing metric gates, empty when none may be.
	ExceptionLabel string `json:"exceptionLabel,omitempty"`
}

// MetricComparison puts one metric of the new version beside the version it
// replaces. A nil value means the version does not report the metric.
type MetricComparison struct {
	Name    string   `json:"name"`
	New     *float64 `json:"new"`
	Current *float64 `json:"current"`
}
