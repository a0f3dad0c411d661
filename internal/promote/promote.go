// Package promote opens the pull requests that move model versions between
// environments: registering a new candidate in the first environment,
// promoting a version along the policy's path (several models at once for a
// bundle), and rolling an environment back to a version it pinned before.
//
// The package has two halves. The planner (PlanRegister, PlanPromote,
// PlanRollback) is pure: given the files of the base commit and, for
// rollbacks, the history of the manifests (per manifest, and for a bundle
// rolled back to a version, the bundle's states commit by commit), it
// decides the file edits, the branch, the commit message with its trailers
// and the pull request's title and labels. The executor (Executor) does the I/O: it fetches the base from
// the remote with go-git, writes the planned files into a commit that lives
// only in memory, asks the policy engine whether the change could ever pass,
// pushes the commit to the branch, and opens or updates the pull request
// with go-github. A refused change leaves nothing behind, locally or on the
// remote: the local repository's objects, references and working tree are
// never written.
package promote

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/manifest"
)

// Kind says what a change does.
type Kind string

// The kinds of change.
const (
	// Register writes a new candidate version into the first environment.
	Register Kind = "register"
	// Promote copies a version pinned in one environment into the next.
	Promote Kind = "promote"
	// Rollback restores a manifest the environment pinned before.
	Rollback Kind = "rollback"
)

// Move is one model's change in one environment.
type Move struct {
	// Model and Environment name the manifest at Path.
	Model       string
	Environment string
	Path        string
	// Version is the version pinned after the change.
	Version string
	// From is the environment the version is copied from when promoting,
	// empty otherwise.
	From string
	// Replaces is the version pinned before the change, empty when the
	// environment had no manifest for the model.
	Replaces string
	// Before and After are the file's bytes; Before is nil for a new file.
	Before, After []byte
	// Previous and Next are the decoded manifests; Previous is nil for a new
	// file.
	Previous, Next *manifest.Manifest
	// Source is the decoded manifest the version was copied from when
	// promoting (its environment is From).
	Source *manifest.Manifest
	// Restored says, for a rollback, when and by which commit the restored
	// manifest was pinned.
	Restored *PinRecord
	// RollbackTarget is what a rollback of this change would restore: the
	// pin that Replaces came from. Nil when nothing was pinned before or the
	// history was not available.
	RollbackTarget *PinRecord
}

// PinRecord is one period during which a version was pinned at a path,
// with the exact bytes of the manifest as pinned.
type PinRecord struct {
	Version string
	// Commit is the base-branch commit that pinned the version.
	Commit string
	// Since is when that commit was made.
	Since time.Time
	// Content is the manifest file at Commit.
	Content []byte
}

// Plan is a planned change: what to write, where, and how to describe it.
type Plan struct {
	Kind        Kind
	Environment string
	// Ticket is the change ticket recorded in the promoted or restored
	// manifests: empty for registrations, and for rollbacks that keep the
	// restored manifests' own approval.
	Ticket string
	// Moves are sorted by model.
	Moves []Move
	// Branch is the deterministic branch the change is pushed to.
	Branch string
	// Title is the pull request's and the commit's subject.
	Title string
	// Labels are the pull request's labels.
	Labels []string
	// CommitMessage is the full commit message, trailers included.
	CommitMessage string
	// Reverts is, for the rollback of a merged pull request, its number.
	Reverts int
}

// Files returns the planned contents by repository path.
func (p *Plan) Files() map[string][]byte {
	out := make(map[string][]byte, len(p.Moves))
	for _, m := range p.Moves {
		out[m.Path] = m.After
	}
	return out
}

// Versions returns the version each moved model ends up at.
func (p *Plan) Versions() map[string]string {
	out := make(map[string]string, len(p.Moves))
	for _, m := range p.Moves {
		out[m.Model] = m.Version
	}
	return out
}

// RefusedError says a change was refused: the policy engine found a rule it
// can never pass, or the repository's state makes the request impossible
// (nothing pinned in the source environment, a version id reused for other
// bytes). Retrying does not help until the repository or the request
// changes. The CLI exits with status 1.
type RefusedError struct {
	// Reasons are full sentences, one per problem.
	Reasons []string
}

// Error joins the reasons.
func (e *RefusedError) Error() string {
	return "refused: " + strings.Join(e.Reasons, "; ")
}

func refusef(format string, args ...any) error {
	return &RefusedError{Reasons: []string{fmt.Sprintf(format, args...)}}
}

// UsageError says the request itself is wrong: an unknown environment, a
// malformed name, contradictory options. Retrying does not help.
type UsageError struct {
	// Message is the sentence shown to the user.
	Message string
}

// Error returns the message.
func (e *UsageError) Error() string { return e.Message }

func usagef(format string, args ...any) error {
	return &UsageError{Message: fmt.Sprintf(format, args...)}
}

// NothingToDoError says the requested state is already the base's state,
// so no branch, commit or pull request was made.
type NothingToDoError struct {
	// Message says what is already in place.
	Message string
}

// Error returns the message.
func (e *NothingToDoError) Error() string { return e.Message }

// The errors of this package say, through failure.KindOf, whether
// retrying the same request can succeed (failure.IsTerminal): a refusal,
// a usage error, a change that is already in place, credentials the
// remote refuses and a GitHub error that is not temporary cannot. Network
// failures and a push rejected because the branch moved can.

// FailureKind returns failure.Refused: the CLI exits with status 1.
func (e *RefusedError) FailureKind() failure.Kind { return failure.Refused }

// FailureKind returns failure.Usage.
func (e *UsageError) FailureKind() failure.Kind { return failure.Usage }

// FailureKind returns failure.Usage: retrying the request changes nothing.
func (e *NothingToDoError) FailureKind() failure.Kind { return failure.Usage }

// FailureKind is failure.Usage when the remote refused the credentials or
// does not know the repository, else failure.Unavailable.
func (e *TransportError) FailureKind() failure.Kind {
	if e.terminal() {
		return failure.Usage
	}
	return failure.Unavailable
}

// FailureKind is failure.NotFound for a 404, failure.Unavailable when a
// retry may help, else failure.Usage.
func (e *GitHubError) FailureKind() failure.Kind {
	switch {
	case e.Status == http.StatusNotFound:
		return failure.NotFound
	case e.Retryable:
		return failure.Unavailable
	}
	return failure.Usage
}
