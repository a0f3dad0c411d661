// Package audit reconstructs the promotion history of a GitOps repository
// from git: every change of a manifest under environments/ on the default
// branch becomes a Record (register, promote, rollback, decommission or
// edit) with its commit, author and committer, and, when GitHub answers, the
// pull request that merged it, its approvers and the promobot check
// conclusion at merge. Changes that did not come through a reviewed pull
// request are flagged as bypasses.
//
// The history walk follows first parents only and reads objects through
// internal/gitrepo/objectstore: it compares the hash of the environments/
// subtree of each commit with its parent's and diffs only inside that
// subtree when it differs, uses the commit-graph when the repository has
// one, and keeps an incremental index so a re-run walks only new commits.
package audit

import (
	"fmt"
	"time"

	"github.com/example-org/promobot/internal/evaluate"
)

// Kind classifies a manifest change.
type Kind string

// The kinds of manifest change.
const (
	// KindRegister pins a version that no environment has pinned before.
	KindRegister Kind = "register"
	// KindPromote pins a version taken from another environment.
	KindPromote Kind = "promote"
	// KindRollback pins a version this environment has pinned before.
	KindRollback Kind = "rollback"
	// KindDecommission removes the manifest.
	KindDecommission Kind = "decommission"
	// KindEdit changes other fields and keeps the version.
	KindEdit Kind = "edit"
)

// Person is a commit author or committer.
type Person struct {
	// Name is the person's name.
	Name string `json:"name"`
	// Email is the person's email address.
	Email string `json:"email"`
	// Time is when the person authored or committed.
	Time time.Time `json:"time"`
}

// String returns "Name <email>".
func (p Person) String() string { return fmt.Sprintf("%s <%s>", p.Name, p.Email) }

// Record is one manifest change on the default branch.
type Record struct {
	// Time is when the change landed: the committer time of its commit.
	Time time.Time `json:"time"`
	// Environment and Model name the manifest.
	Environment string `json:"environment"`
	Model       string `json:"model"`
	// Path is the manifest's repository path.
	Path string `json:"path"`
	// Kind classifies the change.
	Kind Kind `json:"kind"`
	// FromVersion is the version pinned before, empty for a new file.
	FromVersion string `json:"fromVersion,omitempty"`
	// ToVersion is the version pinned after, empty for a removed file.
	ToVersion string `json:"toVersion,omitempty"`
	// PromotedFrom is, for a promotion, an environment where the version
	// was pinned before.
	PromotedFrom string `json:"promotedFrom,omitempty"`
	// ArtifactSHA256 is the artifact digest pinned after the change (before
	// it, for a decommission).
	ArtifactSHA256 string `json:"artifactSha256,omitempty"`
	// ChangedFields lists, for an edit, the top-level manifest keys whose
	// values changed.
	ChangedFields []string `json:"changedFields,omitempty"`
	// Problem says why the new (or old) manifest could not be read.
	Problem string `json:"problem,omitempty"`
	// Commit is the commit on the default branch that made the change.
	Commit string `json:"commit"`
	// Subject is the first line of the commit message.
	Subject string `json:"subject"`
	// Author and Committer are the commit's signatures.
	Author    Person `json:"author"`
	Committer Person `json:"committer"`
	// PullRequest is the pull request that merged the commit, when known.
	PullRequest *PullRequest `json:"pullRequest,omitempty"`
	// Verified is true when Bypass was decided from GitHub data, false when
	// only the commit message was available.
	Verified bool `json:"verified"`
	// Bypass is true when the change did not come through a merged pull
	// request with a successful promobot check.
	Bypass bool `json:"bypass"`
	// BypassReason explains Bypass, or why it could not be verified.
	BypassReason string `json:"bypassReason,omitempty"`
	// Ticket is the change ticket the manifest names (approval.ticket)
	// after the change, before it for a decommission; empty when it names
	// none or the audit did not read it.
	Ticket string `json:"ticket,omitempty"`
	// Rationale is why the change was made, as the manifest says
	// (approval.rationale), read like Ticket.
	Rationale string `json:"rationale,omitempty"`
	// BeforeJudging is true when the change landed before the point from
	// which the audit judges bypasses (--judge-from, audit.judgeFrom in the
	// policy): a repository's bootstrap import. Such a change is never a
	// bypass.
	BeforeJudging bool `json:"beforeJudging,omitempty"`
	// Freeze is set when the change landed during a freeze window of its
	// environment, as the policy at the audited tip declares the windows.
	Freeze *Freeze `json:"freeze,omitempty"`
	// MetricException is set when the pull request that merged the change
	// carried its environment's metric exception label, as the policy at
	// the audited tip names it: failing metric gates were overridden.
	MetricException *MetricException `json:"metricException,omitempty"`

	// ExceptionLabel is the environment's metric exception label, as the
	// policy at the audited tip names it, which Enrich looks for on the
	// pull request; it is not part of the output.
	ExceptionLabel string `json:"-"`
	// FailedGates are the bounds of the environment's metric gates the
	// change fails, as the policy at the audited tip declares them, which
	// Enrich reports when the pull request carried ExceptionLabel; it is
	// not part of the output.
	FailedGates []evaluate.GateFailure `json:"-"`
}

// MetricException says that a change's failing metric gates were let
// through by the environment's exception label, which gates and with whose
// approval.
type MetricException struct {
	// Label is the exception label the pull request carried.
	Label string `json:"label"`
	// Gates are the bounds of the environment's metric gates (as the policy
	// at the audited tip declares them) that the change fails: metric,
	// gate (min, max, incumbent or missing), candidate, bound and
	// incumbent values. Empty when none fails under that policy.
	Gates []evaluate.GateFailure `json:"gates,omitempty"`
	// Approvers are the approvers of that pull request: whose approval,
	// governance approvals from the policy file's owners included, let
	// the gates be overridden.
	Approvers []string `json:"approvers,omitempty"`
}

// Freeze says that a change landed during a freeze window and whether the
// window's override label let it through.
type Freeze struct {
	// Window is the name of the freeze window in force.
	Window string `json:"window"`
	// OverrideLabel is the window's override label, empty when it has none.
	OverrideLabel string `json:"overrideLabel,omitempty"`
	// Overridden is true when the pull request that merged the change
	// carried the override label: the freeze was overridden, which the
	// bot allows only with the environment's approvals and governance
	// approvals from the policy file's owners.
	Overridden bool `json:"overridden"`
	// Approvers are, for an overridden freeze, the approvers of that pull
	// request: whose approval let the change through the freeze.
	Approvers []string `json:"approvers,omitempty"`
}

// Initiator is who started the change: the pull request's author when
// GitHub said, else the commit's author.
func (r *Record) Initiator() string {
	if r.PullRequest != nil && r.PullRequest.Author != "" {
		return r.PullRequest.Author
	}
	return r.Author.Name
}

// Merger is who landed the change on the branch: whoever merged the pull
// request when GitHub said, else the commit's committer.
func (r *Record) Merger() string {
	if r.PullRequest != nil && r.PullRequest.MergedBy != "" {
		return r.PullRequest.MergedBy
	}
	return r.Committer.Name
}

// Key identifies a record across runs: a commit changes a path once.
func (r *Record) Key() string { return r.Commit + ":" + r.Path }

// PullRequest is what GitHub says about the pull request that merged a
// commit.
type PullRequest struct {
	// Number is the pull request number.
	Number int `json:"number"`
	// Title is its title.
	Title string `json:"title,omitempty"`
	// Author is the login of the person who opened it.
	Author string `json:"author,omitempty"`
	// URL is its web address.
	URL string `json:"url,omitempty"`
	// MergedAt is when it was merged.
	MergedAt time.Time `json:"mergedAt,omitzero"`
	// MergedBy is the login of the person who merged it.
	MergedBy string `json:"mergedBy,omitempty"`
	// Approvers are the distinct reviewers, other than the author, whose
	// latest review before the merge approved it, sorted.
	Approvers []string `json:"approvers"`
	// Check is the conclusion of the promobot check run at merge, empty
	// when there was none.
	Check string `json:"check,omitempty"`
	// Labels are the pull request's labels as GitHub shows them now.
	Labels []string `json:"labels,omitempty"`
}
