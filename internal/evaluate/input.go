// Package evaluate decides whether a proposed change to a GitOps repository
// may merge: it applies the promotion rules and the CODEOWNERS approval rules
// of the base branch's policy to plain data and explains the outcome.
//
// The package is pure. Everything it needs (policy, owners, manifests at base
// and head, history, commits, reviews, teams, permissions, labels, artifact
// verification results, the clock) arrives in an Input built by an adapter
// (go-git for the CLI, GitHub plus go-git for the bot); no rule makes a call.
package evaluate

import (
	"time"

	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// Input is everything one evaluation reads. Trusted inputs (Policy, Owners,
// and the schema used to load Head documents) always come from the base.
type Input struct {
	// Policy is the base branch's policy; nil when it is missing or broken,
	// in which case every gated change fails closed with PolicyProblems.
	Policy         *policy.Policy
	PolicyProblems []diag.Problem

	// Owners is the base branch's CODEOWNERS; nil when the base has none
	// (every gated file is then unowned and fails closed).
	Owners         *codeowners.File
	OwnersPath     string
	OwnersWarnings []codeowners.Warning

	// Changes are the files that differ between the merge base and the head.
	// A rename arrives as a removal plus an addition.
	Changes []Change

	// Base holds every manifest under environments/ at the base commit,
	// keyed by path. Head holds the head version of every changed manifest
	// that still exists at the head, loaded with the base schema.
	Base map[string]*manifest.Document
	Head map[string]*manifest.Document

	// History holds, for each changed manifest path, the versions pinned at
	// that path along the base branch's first-parent history, oldest first.
	History map[string][]Pin

	PullRequest PullRequest
	Commits     []Commit
	// Reviews are in submission order.
	Reviews []Review
	// Teams maps "org/slug" (lower case) to the logins of its active members.
	// A team owner missing from the map could not be resolved.
	Teams map[string][]string
	// WritePermission maps lower-case logins to whether the user can write to
	// the repository. Nil means no permission data: nobody is excluded.
	WritePermission map[string]bool

	// Artifacts holds artifact verification outcomes by manifest path,
	// computed by the caller (storage I/O is not the engine's business). A
	// changed manifest with no entry is reported as not verified (skip).
	Artifacts map[string]ArtifactCheck

	// Reports, SBOMs and Incumbents hold, by manifest path, the caller's
	// readings of a changed manifest's validation report, of its SBOM
	// (digest and format), and of the artifact of the version it replaces
	// (its rollback target). Like Artifacts they are computed by the
	// caller; where the environment verifies artifacts a missing entry
	// fails closed.
	Reports    map[string]ArtifactCheck
	SBOMs      map[string]ArtifactCheck
	Incumbents map[string]ArtifactCheck

	// Now is the evaluation time, used for freeze windows.
	Now time.Time

	// Registrations say who registered the versions the change pins: for
	// each model version pinned by a changed manifest at the head that the
	// base branch pinned before, the identities of the base-branch commit
	// that first pinned it (in any environment). A version the change pins
	// first has none: the change's own authors registered it.
	Registrations []Registration
}

// Registration is who registered one model version: the author and the
// committer of the base-branch commit that first pinned it.
type Registration struct {
	Model   string
	Version string
	// Commit is the commit that first pinned the version.
	Commit    string
	Author    Identity
	Committer Identity
}

// ChangeStatus says how a file changed.
type ChangeStatus string

// The change statuses. Renames are split by the adapter into a removal and an
// addition.
const (
	Added    ChangeStatus = "added"
	Modified ChangeStatus = "modified"
	Removed  ChangeStatus = "removed"
)

// EntryKind is the kind of a git tree entry that is not a folder. Folders
// are never changes themselves: a folder that becomes a file or a link
// arrives as the removal of its files plus the addition of the entry.
type EntryKind string

// The entry kinds.
const (
	// EntryFile is a regular file, executable or not. It is the zero value,
	// so adapters that only ever see files need not say so.
	EntryFile EntryKind = ""
	// EntrySymlink is a symbolic link; git stores its target as the blob.
	EntrySymlink EntryKind = "symlink"
	// EntrySubmodule is a submodule link (a gitlink) to a commit of
	// another repository.
	EntrySubmodule EntryKind = "submodule"
)

// Change is one changed entry.
type Change struct {
	Path   string
	Status ChangeStatus
	// Before is the kind of the entry at the merge base, meaningful unless
	// Status is Added; After is its kind at the head, meaningful unless
	// Status is Removed. A change of kind alone (a file that becomes a
	// symbolic link with the same target text) is a modification.
	Before, After EntryKind
}

// Pin is one period during which a version was pinned at a manifest path.
type Pin struct {
	Version string `json:"version"`
	// Manifest is the manifest as it was pinned.
	Manifest *manifest.Manifest `json:"manifest,omitempty"`
	// Commit is the base-branch commit that pinned it.
	Commit string `json:"commit"`
	// Since is when it was pinned; Until when it was replaced (zero while
	// still pinned).
	Since time.Time `json:"since"`
	Until time.Time `json:"until,omitzero"`
}

// PullRequest describes the change under review.
type PullRequest struct {
	Number  int
	Title   string
	Author  string
	BaseRef string
	BaseSHA string
	HeadSHA string
	Labels  []string
}

// Identity is a git identity with the GitHub login it maps to, if any.
type Identity struct {
	Name  string
	Email string
	// Login is empty when the identity could not be mapped to a GitHub user.
	Login string
}

// Commit is one commit of the change.
type Commit struct {
	SHA       string
	Author    Identity
	Committer Identity
	// CoAuthors come from Co-authored-by trailers.
	CoAuthors []Identity
}

// ReviewState is the state of a pull request review.
type ReviewState string

// The review states, as GitHub names them.
const (
	Approved         ReviewState = "APPROVED"
	ChangesRequested ReviewState = "CHANGES_REQUESTED"
	Commented        ReviewState = "COMMENTED"
	Dismissed        ReviewState = "DISMISSED"
)

// Review is one submitted review.
type Review struct {
	ID          int64
	User        string
	State       ReviewState
	CommitID    string
	SubmittedAt time.Time
}

// ArtifactCheck is the outcome of verifying one manifest's artifact.
type ArtifactCheck struct {
	// Verified is true when size, digest and (if present or required) the
	// signature all verified.
	Verified bool
	// Detail says what was checked or what failed, for messages.
	Detail string
	// Unavailable is true when storage could not be reached: the outcome is
	// unknown and the rule fails closed ("could not verify").
	Unavailable bool
	// NoCredentials is set with Unavailable when storage could not be read
	// because no credentials were configured: a retry will not help.
	NoCredentials bool
}
