package mirror

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/gitrepo"
)

// CommitsRequest asks for commits by hash rather than by pull request, as
// checking a merge queue's merge group does: its base, its head and the
// heads of the pull requests it merges.
type CommitsRequest struct {
	// Repository is "owner/name".
	Repository string
	// CloneURL is the repository's HTTP(S) clone URL.
	CloneURL string
	// Token authenticates the fetch as user TokenUser; it is never stored
	// or logged.
	Token string
	// Refs are full reference names (such as "refs/heads/main" or
	// "refs/pull/12/head") fetched one after the other, in order, while a
	// commit is missing; a reference the server lacks is skipped.
	Refs []string
	// Commits must be in the mirror afterwards.
	Commits []string
}

// Commits is a mirror holding the commits of a CommitsRequest.
type Commits struct {
	m      *mirror
	reader *gitrepo.Repo
}

// SyncCommits fetches req.Refs into the repository's mirror while one of
// req.Commits is missing, and fails when one is still missing afterwards.
func (s *Set) SyncCommits(ctx context.Context, req CommitsRequest) (*Commits, error) {
	op := "sync " + req.Repository
	if len(req.Commits) == 0 {
		return nil, &Error{Op: op, Err: errors.New("no commit requested"), Terminal: true}
	}
	var want []plumbing.Hash
	for _, c := range req.Commits {
		if !plumbing.IsHash(c) {
			return nil, &Error{Op: op, Err: fmt.Errorf("%q is not a commit hash", c), Terminal: true}
		}
		want = append(want, plumbing.NewHash(c))
	}
	var specs []gitconfig.RefSpec
	for _, r := range req.Refs {
		if !strings.HasPrefix(r, "refs/") || strings.ContainsAny(r, "*: ") {
			return nil, &Error{Op: op, Err: fmt.Errorf("%q is not a full reference name", r), Terminal: true}
		}
		specs = append(specs, refSpec(plumbing.ReferenceName(r), localName(r)))
	}
	m, err := s.mirror(Request{Repository: req.Repository, CloneURL: req.CloneURL})
	if err != nil {
		return nil, err
	}

	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	updated, refMissing := false, false
	for _, spec := range specs {
		if m.missing(want) == nil {
			break
		}
		start := time.Now()
		got, err := m.fetch(ctx, Request{Repository: req.Repository, CloneURL: req.CloneURL, Token: req.Token}, []gitconfig.RefSpec{spec})
		observeFetch(s.opts.ObserveFetch, err, got, start)
		switch {
		case errors.Is(err, git.NoMatchingRefSpecError{}):
			refMissing = true // try the next reference
		case err != nil:
			return nil, err
		}
		updated = updated || got
	}
	if h := m.missing(want); h != nil {
		// When a reference is gone (a merge queue branch removed once its
		// group was merged or dropped), fetching again will not help.
		return nil, &Error{Op: op, Err: fmt.Errorf("commit %s is not on the server (pushed over since?)", h), Terminal: refMissing}
	}
	reader, err := m.readerAfter(updated)
	if err != nil {
		return nil, err
	}
	return &Commits{m: m, reader: reader}, nil
}

// localName is where a fetched reference is kept in the mirror: branches
// as origin's remote branches, pull request heads as "origin/pull/<n>",
// anything else under refs/remotes/origin/.
func localName(r string) plumbing.ReferenceName {
	rest := strings.TrimPrefix(r, "refs/")
	switch {
	case strings.HasPrefix(r, "refs/heads/"):
		rest = strings.TrimPrefix(r, "refs/heads/")
	case strings.HasPrefix(r, "refs/pull/") && strings.HasSuffix(r, "/head"):
		rest = strings.TrimSuffix(strings.TrimPrefix(r, "refs/"), "/head")
	}
	return plumbing.NewRemoteReferenceName("origin", rest)
}

// missing returns the first hash not in the mirror, nil when all are.
// Called with fetchMu held.
func (m *mirror) missing(want []plumbing.Hash) *plumbing.Hash {
	for _, h := range want {
		if !m.hasCommit(h) {
			return &h
		}
	}
	return nil
}

// Snapshot returns the view of the change from base to head, with the
// trusted files read from base itself rather than from a branch tip.
func (c *Commits) Snapshot(base, head string) (*Snapshot, error) {
	if !plumbing.IsHash(base) || !plumbing.IsHash(head) {
		return nil, &Error{Op: "snapshot", Err: fmt.Errorf("%q or %q is not a commit hash", base, head), Terminal: true}
	}
	return &Snapshot{repo: c.reader, Base: plumbing.NewHash(base), Head: plumbing.NewHash(head)}, nil
}

// ChangedFiles returns the files whose content or mode differs between the
// trees of commits from and to, each with its blob hash at to ("" when to
// lacks it).
func (c *Commits) ChangedFiles(ctx context.Context, from, to string) (map[string]string, error) {
	c.m.fetchMu.Lock()
	defer c.m.fetchMu.Unlock()
	a, err := c.m.tree(from)
	if err != nil {
		return nil, err
	}
	b, err := c.m.tree(to)
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(ctx, a, b, &object.DiffTreeOptions{})
	if err != nil {
		return nil, &Error{Op: "compare " + from + " with " + to, Err: err}
	}
	out := make(map[string]string, len(changes))
	for _, ch := range changes {
		if ch.To.Name != "" {
			out[ch.To.Name] = ch.To.TreeEntry.Hash.String()
		} else {
			out[ch.From.Name] = ""
		}
	}
	return out, nil
}

// MergeBase returns a best common ancestor of commits a and b.
func (c *Commits) MergeBase(a, b string) (string, error) {
	c.m.fetchMu.Lock()
	defer c.m.fetchMu.Unlock()
	ca, err := c.m.commit(a)
	if err != nil {
		return "", err
	}
	cb, err := c.m.commit(b)
	if err != nil {
		return "", err
	}
	bases, err := ca.MergeBase(cb)
	if err != nil {
		return "", &Error{Op: "merge base of " + a + " and " + b, Err: err}
	}
	if len(bases) == 0 {
		return "", &Error{Op: "merge base of " + a + " and " + b, Err: errors.New("no common ancestor"), Terminal: true}
	}
	return bases[0].Hash.String(), nil
}

// commit reads commit h. Called with fetchMu held.
func (m *mirror) commit(h string) (*object.Commit, error) {
	if !plumbing.IsHash(h) {
		return nil, &Error{Op: "read commit", Err: fmt.Errorf("%q is not a commit hash", h), Terminal: true}
	}
	c, err := m.git.CommitObject(plumbing.NewHash(h))
	if err != nil {
		return nil, &Error{Op: "read commit " + h, Err: err}
	}
	return c, nil
}

// tree reads the tree of commit h. Called with fetchMu held.
func (m *mirror) tree(h string) (*object.Tree, error) {
	c, err := m.commit(h)
	if err != nil {
		return nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, &Error{Op: "read the tree of " + h, Err: err}
	}
	return t, nil
}
