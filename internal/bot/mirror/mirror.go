// Package mirror keeps a local bare copy of each repository the bot
// evaluates, fetched with the installation token before each evaluation, and
// hands out read-only snapshots of a pull request's base and head for the
// policy engine's git adapter (package gitrepo).
//
// A fetch only asks for what is missing: the base branch every time (its tip
// decides which rules apply) and the pull request's head only when the head
// commit is not already in the mirror. Fetches of one repository are
// serialized; reading snapshots never blocks on a fetch, because a fetch only
// adds objects and moves references.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"golang.org/x/sync/singleflight"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
)

// TokenUser is the basic-auth user name GitHub expects with an installation
// token.
const TokenUser = gitrepo.TokenUser

// Request says what an evaluation needs from a repository.
type Request struct {
	// Repository is "owner/name".
	Repository string
	// CloneURL is the repository's HTTP(S) clone URL.
	CloneURL string
	// Token authenticates the fetch as user TokenUser; it is never stored
	// or logged.
	Token string
	// BaseBranch is the branch the pull request merges into.
	BaseBranch string
	// PullNumber is the pull request; its head is fetched from
	// refs/pull/<n>/head.
	PullNumber int
	// HeadBranch is the head branch, fetched instead of refs/pull/<n>/head
	// when the server has no such ref and SameRepository is true.
	HeadBranch     string
	SameRepository bool
	// HeadSHA is the head commit to evaluate.
	HeadSHA string
}

// Snapshot is a consistent view of a pull request in a mirror: the current
// tip of the base branch and the head commit.
type Snapshot struct {
	repo *gitrepo.Repo
	// Base is the tip of the base branch after the fetch.
	Base plumbing.Hash
	// Head is the pull request's head commit.
	Head plumbing.Hash
}

// BuildInput reads the change from Base to Head; see gitrepo.Repo.BuildInput.
func (s *Snapshot) BuildInput(ctx context.Context, opts gitrepo.InputOptions) (*evaluate.Input, error) {
	return s.repo.BuildInput(ctx, s.Base, s.Head, opts)
}

// BaseCommit returns the hash of Base.
func (s *Snapshot) BaseCommit() string { return s.Base.String() }

// BaseFS returns the tree of Base, from which trusted files such as the
// artifact signing keys are read.
func (s *Snapshot) BaseFS() (fs.FS, error) { return s.repo.FS(s.Base) }

// Error is a failure to bring a mirror up to date. Terminal says whether
// retrying can help.
type Error struct {
	Op       string
	Err      error
	Terminal bool
}

// Error returns "mirror: op: cause".
func (e *Error) Error() string { return "mirror: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// FailureKind classifies e for failure.IsTerminal: a terminal error is
// Usage (the repository or the credentials must change first); whether
// any other may be cured by a retry is left open (Unknown).
func (e *Error) FailureKind() failure.Kind {
	if e.Terminal {
		return failure.Usage
	}
	return failure.Unknown
}

// FetchOutcome says what a fetch did, for metrics.
type FetchOutcome string

// The fetch outcomes.
const (
	FetchUpdated   FetchOutcome = "updated"
	FetchUnchanged FetchOutcome = "unchanged"
	FetchFailed    FetchOutcome = "error"
)

// Options configure a Set.
type Options struct {
	// ObserveFetch, when set, is called after every fetch.
	ObserveFetch func(o FetchOutcome, d time.Duration)
}

// Set is the collection of mirrors under one directory. It is safe for
// concurrent use.
type Set struct {
	dir  string
	opts Options

	mu      sync.Mutex
	mirrors map[string]*mirror

	branches singleflight.Group // one SyncBranch fetch per branch at a time
}

// New returns a set of mirrors kept under dir, creating dir if needed.
func New(dir string, opts Options) (*Set, error) {
	if dir == "" {
		return nil, errors.New("mirror: no cache directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("mirror: cache directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("mirror: cache directory: %w", err)
	}
	return &Set{dir: abs, opts: opts, mirrors: map[string]*mirror{}}, nil
}

// mirror is one repository's bare copy.
type mirror struct {
	path string

	fetchMu sync.Mutex // serializes fetches
	git     *git.Repository

	mu      sync.Mutex // guards reader, fetched and failed
	reader  *gitrepo.Repo
	fetched map[plumbing.ReferenceName]time.Time    // when each branch was last fetched
	failed  map[plumbing.ReferenceName]fetchFailure // the last failed fetch of each branch
}

// Sync fetches what req needs into the repository's mirror and returns a
// snapshot of the base tip and the head.
func (s *Set) Sync(ctx context.Context, req Request) (*Snapshot, error) {
	m, err := s.mirror(req)
	if err != nil {
		return nil, err
	}
	return m.sync(ctx, req, s.opts.ObserveFetch)
}

// mirror returns the mirror of req's repository, creating it on first use.
func (s *Set) mirror(req Request) (*mirror, error) {
	path, err := s.Path(req.Repository, req.CloneURL)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.mirrors[path]; ok {
		return m, nil
	}
	repo, err := gitrepo.OpenOrInit(path, req.CloneURL, true)
	if err != nil {
		return nil, &Error{Op: "open mirror of " + req.Repository, Err: err}
	}
	m := &mirror{path: path, git: repo}
	s.mirrors[path] = m
	return m, nil
}

func (m *mirror) sync(ctx context.Context, req Request, observe func(FetchOutcome, time.Duration)) (*Snapshot, error) {
	if req.BaseBranch == "" || req.HeadSHA == "" || req.PullNumber <= 0 {
		return nil, &Error{Op: "sync " + req.Repository, Err: errors.New("the request lacks the base branch, the head commit or the pull request number"), Terminal: true}
	}
	if !plumbing.IsHash(req.HeadSHA) {
		return nil, &Error{Op: "sync " + req.Repository, Err: fmt.Errorf("head %q is not a commit hash", req.HeadSHA), Terminal: true}
	}
	head := plumbing.NewHash(req.HeadSHA)
	baseRef := plumbing.NewRemoteReferenceName(git.DefaultRemoteName, req.BaseBranch)

	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()

	specs := []gitconfig.RefSpec{refSpec(plumbing.NewBranchReferenceName(req.BaseBranch), baseRef)}
	fetchHead := !m.hasCommit(head)
	if fetchHead {
		specs = append(specs, refSpec(plumbing.ReferenceName(fmt.Sprintf("refs/pull/%d/head", req.PullNumber)),
			plumbing.NewRemoteReferenceName(git.DefaultRemoteName, fmt.Sprintf("pull/%d", req.PullNumber))))
	}
	start := time.Now()
	updated, err := m.fetch(ctx, req, specs)
	if err != nil && fetchHead && errors.Is(err, git.NoMatchingRefSpecError{}) && req.SameRepository && req.HeadBranch != "" {
		// The server keeps no refs/pull/<n>/head: take the branch instead.
		specs[1] = refSpec(plumbing.NewBranchReferenceName(req.HeadBranch), plumbing.NewRemoteReferenceName(git.DefaultRemoteName, req.HeadBranch))
		updated, err = m.fetch(ctx, req, specs)
	}
	observeFetch(observe, err, updated, start)
	if err != nil {
		return nil, err
	}
	m.noteFetched(baseRef, start)

	ref, err := m.git.Reference(baseRef, true)
	if err != nil {
		return nil, &Error{Op: "resolve " + req.BaseBranch, Err: err, Terminal: errors.Is(err, plumbing.ErrReferenceNotFound)}
	}
	if !m.hasCommit(head) {
		return nil, &Error{Op: "sync " + req.Repository, Err: fmt.Errorf("head commit %s is not on the server (pushed over since?)", head)}
	}
	reader, err := m.readerAfter(updated)
	if err != nil {
		return nil, err
	}
	return &Snapshot{repo: reader, Base: ref.Hash(), Head: head}, nil
}

// observeFetch reports a fetch's outcome to observe, when set.
func observeFetch(observe func(FetchOutcome, time.Duration), err error, updated bool, start time.Time) {
	if observe == nil {
		return
	}
	outcome := FetchUnchanged
	switch {
	case err != nil:
		outcome = FetchFailed
	case updated:
		outcome = FetchUpdated
	}
	observe(outcome, time.Since(start))
}

func refSpec(src, dst plumbing.ReferenceName) gitconfig.RefSpec {
	return gitconfig.RefSpec("+" + src.String() + ":" + dst.String())
}

// fetch runs one fetch and reports whether it changed anything.
func (m *mirror) fetch(ctx context.Context, req Request, specs []gitconfig.RefSpec) (bool, error) {
	return Fetch(ctx, m.git, req.Repository, req.CloneURL, req.Token, specs)
}

// hasCommit reports whether the mirror holds commit h. Called with fetchMu
// held: the fetching repository's object index is updated by its own
// fetches.
func (m *mirror) hasCommit(h plumbing.Hash) bool {
	_, err := m.git.CommitObject(h)
	return err == nil
}

// readerAfter returns the reader for the current objects, reopening it when
// a fetch added objects: a go-git repository indexes pack files when it
// opens them, so objects fetched since are invisible to an older reader.
// Reopen keeps the parsed-file caches, so an unchanged base is parsed once.
// Readers already handed out stay valid for what they saw; they are not
// closed here because evaluations may still use them, and release their
// pack files when collected.
func (m *mirror) readerAfter(updated bool) (*gitrepo.Repo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reader != nil && !updated {
		return m.reader, nil
	}
	var r *gitrepo.Repo
	var err error
	if m.reader == nil {
		r, err = gitrepo.Open(m.path)
	} else {
		r, err = m.reader.Reopen()
	}
	if err != nil {
		return nil, &Error{Op: "open mirror", Err: err}
	}
	m.reader = r
	return r, nil
}
