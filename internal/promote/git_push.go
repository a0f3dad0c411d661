package promote

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/example-org/promobot/internal/gitrepo"
)

// pushResult says what publishing the commit did.
type pushResult struct {
	commit plumbing.Hash
	// pushed is false when the branch already held an equivalent commit.
	pushed bool
	// replaced is the earlier promobot commit the branch was moved from.
	replaced plumbing.Hash
}

// publish pushes c to the branch. An existing branch whose tip is an
// equivalent promobot commit (same tree, same base) is left alone; one whose
// tip promobot made earlier is replaced, but only if it still holds that
// tip when the push lands; anything else must fast-forward, which fails
// when someone else committed to the branch.
func (s *session) publish(ctx context.Context, branch string, c *object.Commit) (*pushResult, error) {
	ref := plumbing.NewBranchReferenceName(branch)
	spec := config.RefSpec(fmt.Sprintf("%s:%s", c.Hash, ref))
	opts := gitrepo.PushOptions{RefSpecs: []config.RefSpec{spec}}
	res := &pushResult{commit: c.Hash, pushed: true}
	if old, ok := s.remoteRefs[ref]; ok {
		tip, err := s.fetchBranch(ctx, branch, old)
		if err != nil {
			return nil, err
		}
		if tip.TreeHash == c.TreeHash && len(tip.ParentHashes) == 1 && tip.ParentHashes[0] == s.base.Hash && isPromobotCommit(tip) {
			return &pushResult{commit: tip.Hash}, nil
		}
		if isPromobotCommit(tip) {
			opts.RefSpecs = []config.RefSpec{"+" + spec}
			opts.RequireRemoteRefs = []config.RefSpec{config.RefSpec(fmt.Sprintf("%s:%s", old, ref))}
			res.replaced = old
		}
	}
	if err := s.remote.Push(ctx, s.overlay.Storer, opts); err != nil {
		return nil, pushError(branch, s.remoteName(), err)
	}
	return res, nil
}

// fetchBranch fetches an existing remote branch into the overlay only.
func (s *session) fetchBranch(ctx context.Context, branch string, tip plumbing.Hash) (*object.Commit, error) {
	spec := config.RefSpec(fmt.Sprintf("+%s:%s", plumbing.NewBranchReferenceName(branch), s.trackingRef(branch)))
	if _, err := s.remote.Fetch(ctx, s.overlay.Storer, gitrepo.FetchOptions{RefSpecs: []config.RefSpec{spec}}); err != nil {
		return nil, transportError("fetch the existing branch "+branch, err)
	}
	c, err := s.overlay.CommitObject(tip)
	if err != nil {
		return nil, fmt.Errorf("read the tip of the existing branch %s: %w", branch, err)
	}
	return c, nil
}

// isPromobotCommit reports whether promobot made c: one parent and the
// action trailer.
func isPromobotCommit(c *object.Commit) bool {
	if len(c.ParentHashes) != 1 {
		return false
	}
	for _, line := range strings.Split(c.Message, "\n") {
		if strings.HasPrefix(line, TrailerAction+": ") {
			return true
		}
	}
	return false
}

// PushRejectedError says the remote did not accept the branch. Retrying
// helps once the cause is gone: fetch, look at the branch, run again.
type PushRejectedError struct {
	Branch, Remote string
	// Reason is "non-fast-forward" when the branch holds commits this push
	// does not contain, or the remote's own reason.
	Reason string
	Err    error
}

// Error explains the rejection and what to do.
func (e *PushRejectedError) Error() string {
	if e.Reason == "non-fast-forward" {
		return fmt.Sprintf("push to %s rejected: branch %s is not a fast-forward (it has commits promobot did not make, or it moved since it was read); nothing was changed locally; look at the branch, delete or merge it, and run the command again", e.Remote, e.Branch)
	}
	return fmt.Sprintf("push to %s rejected: branch %s: %s; nothing was changed locally", e.Remote, e.Branch, e.Reason)
}

// Unwrap returns the cause.
func (e *PushRejectedError) Unwrap() error { return e.Err }

func pushError(branch, remote string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "non-fast-forward"), strings.Contains(msg, "fetch first"), strings.Contains(msg, "required to be"):
		return &PushRejectedError{Branch: branch, Remote: remote, Reason: "non-fast-forward", Err: err}
	case strings.Contains(msg, "command error on"):
		reason := msg[strings.LastIndex(msg, ": ")+2:]
		return &PushRejectedError{Branch: branch, Remote: remote, Reason: reason, Err: err}
	}
	return transportError("push "+branch+" to "+remote, err)
}

// TransportError is a failure to talk to the remote. Authentication
// failures and an unknown repository are terminal (see IsTerminal);
// network failures may pass.
type TransportError struct {
	Op  string
	Err error
}

// Error says what failed.
func (e *TransportError) Error() string {
	hint := ""
	switch {
	case errors.Is(e.Err, transport.ErrAuthenticationRequired), errors.Is(e.Err, transport.ErrAuthorizationFailed):
		hint = " (set GITHUB_TOKEN, or SSH credentials for an SSH remote)"
	case errors.Is(e.Err, transport.ErrRepositoryNotFound):
		hint = " (check the remote URL and that the credentials can read it)"
	}
	return fmt.Sprintf("git: %s: %v%s", e.Op, e.Err, hint)
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// terminal reports whether the remote refused the credentials or does not
// know the repository, which retrying does not change.
func (e *TransportError) terminal() bool {
	return errors.Is(e.Err, transport.ErrAuthenticationRequired) || errors.Is(e.Err, transport.ErrAuthorizationFailed) ||
		errors.Is(e.Err, transport.ErrRepositoryNotFound)
}

func transportError(op string, err error) error { return &TransportError{Op: op, Err: err} }
