package mirror

import (
	"context"
	"errors"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// The dashboard reads a repository's default branch from its mirror, which
// the bot only makes when it first evaluates a pull request there.
// SyncBranch makes the mirror on demand and keeps it fresh: one fetch at a
// time per branch, shared by every caller that asks meanwhile, and none at
// all while the branch was fetched (by anyone) less than MaxAge ago.

// BranchRequest asks for a branch of a repository, with its history.
type BranchRequest struct {
	// Repository is "owner/name".
	Repository string
	// CloneURL is the repository's HTTP(S) clone URL.
	CloneURL string
	// Token returns the token that authenticates the fetch as user
	// TokenUser; it is called only when a fetch is needed, and the token is
	// never stored or logged.
	Token func(ctx context.Context) (string, error)
	// Branch is the branch to fetch, such as "main".
	Branch string
	// MaxAge is how old the last fetch of Branch may be before it is
	// fetched again; zero fetches every time.
	MaxAge time.Duration
	// RetryAfter is how long a failed fetch of Branch is remembered: until
	// then SyncBranch answers with that failure again instead of asking
	// GitHub, so a repository that cannot be fetched (an empty one, say)
	// costs one fetch per RetryAfter, not one per page. Zero retries every
	// time.
	RetryAfter time.Duration
}

// Branch is a mirror holding a branch.
type Branch struct {
	// Path is the mirror's bare repository.
	Path string
	// Ref is where the branch is kept in it: refs/remotes/origin/<branch>.
	Ref plumbing.ReferenceName
	// FetchedAt is when the branch was last fetched.
	FetchedAt time.Time
}

// Path returns where the mirror of repository ("owner/name"), cloned from
// cloneURL, lives: LocalPath under the set's directory, with ".git".
func (s *Set) Path(repository, cloneURL string) (string, error) {
	base, err := LocalPath(s.dir, repository, cloneURL)
	if err != nil {
		return "", err
	}
	return base + ".git", nil
}

// SyncBranch fetches req.Branch into the repository's mirror, creating the
// mirror if needed, unless it was fetched less than req.MaxAge ago.
// Concurrent calls for the same branch share one fetch and its outcome; a
// caller whose ctx ends stops waiting, without cancelling the fetch the
// others wait for. A failure is an *Error without the token, terminal when
// the branch does not exist.
func (s *Set) SyncBranch(ctx context.Context, req BranchRequest) (*Branch, error) {
	if req.Branch == "" || req.Token == nil {
		return nil, &Error{Op: "sync " + req.Repository, Err: errors.New("the request lacks the branch or the token"), Terminal: true}
	}
	m, err := s.mirror(Request{Repository: req.Repository, CloneURL: req.CloneURL})
	if err != nil {
		return nil, err
	}
	ref := plumbing.NewRemoteReferenceName(git.DefaultRemoteName, req.Branch)
	if at, ok := m.fetchedWithin(ref, req.MaxAge); ok {
		return &Branch{Path: m.path, Ref: ref, FetchedAt: at}, nil
	}
	if err := m.failedWithin(ref, req.RetryAfter); err != nil {
		return nil, err
	}
	// The shared fetch outlives the first caller's cancellation (the
	// others still wait for it) but keeps its deadline.
	shared := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		shared, cancel = context.WithDeadline(shared, deadline)
		defer cancel()
	}
	done := s.branches.DoChan(m.path+"\x00"+ref.String(), func() (any, error) {
		return m.syncBranch(shared, req, ref, s.opts.ObserveFetch)
	})
	select {
	case <-ctx.Done():
		return nil, &Error{Op: "sync " + req.Repository, Err: ctx.Err()}
	case res := <-done:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Branch), nil
	}
}

// syncBranch fetches ref's branch unless a fetch that ended while this one
// waited for the lock made it fresh.
func (m *mirror) syncBranch(ctx context.Context, req BranchRequest, ref plumbing.ReferenceName, observe func(FetchOutcome, time.Duration)) (*Branch, error) {
	m.fetchMu.Lock()
	defer m.fetchMu.Unlock()
	if at, ok := m.fetchedWithin(ref, req.MaxAge); ok {
		return &Branch{Path: m.path, Ref: ref, FetchedAt: at}, nil
	}
	if err := m.failedWithin(ref, req.RetryAfter); err != nil {
		return nil, err
	}
	token, err := req.Token(ctx)
	if err != nil {
		return nil, &Error{Op: "sync " + req.Repository, Err: err}
	}
	start := time.Now()
	updated, err := m.fetch(ctx, Request{Repository: req.Repository, CloneURL: req.CloneURL, Token: token},
		[]gitconfig.RefSpec{refSpec(plumbing.NewBranchReferenceName(req.Branch), ref)})
	observeFetch(observe, err, updated, start)
	if err != nil {
		if ctx.Err() == nil {
			m.noteFailed(ref, start, err)
		}
		return nil, err
	}
	at := m.noteFetched(ref, start)
	if err := m.keepReaderCurrent(updated); err != nil {
		return nil, err
	}
	return &Branch{Path: m.path, Ref: ref, FetchedAt: at}, nil
}

// keepReaderCurrent reopens the reader handed to evaluations, if there is
// one, when a fetch added objects, so that it sees them even if the next
// evaluation's own fetch finds nothing new.
func (m *mirror) keepReaderCurrent(updated bool) error {
	m.mu.Lock()
	open := m.reader != nil
	m.mu.Unlock()
	if !updated || !open {
		return nil
	}
	_, err := m.readerAfter(true)
	return err
}

// noteFetched records that ref was fetched by a fetch that started at
// start, and returns start. A fetch's start, not its end, bounds what it
// saw.
func (m *mirror) noteFetched(ref plumbing.ReferenceName, start time.Time) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fetched == nil {
		m.fetched = map[plumbing.ReferenceName]time.Time{}
	}
	m.fetched[ref] = start
	return start
}

// fetchFailure is a fetch of a branch that failed: when it started, and why.
type fetchFailure struct {
	at  time.Time
	err error
}

// noteFailed records that a fetch of ref that started at start failed
// with err.
func (m *mirror) noteFailed(ref plumbing.ReferenceName, start time.Time, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed == nil {
		m.failed = map[plumbing.ReferenceName]fetchFailure{}
	}
	m.failed[ref] = fetchFailure{at: start, err: err}
}

// failedWithin returns the error of the last fetch of ref if it failed
// less than retryAfter ago and no fetch succeeded since, else nil.
func (m *mirror) failedWithin(ref plumbing.ReferenceName, retryAfter time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.failed[ref]
	if !ok || retryAfter <= 0 || time.Since(f.at) >= retryAfter || !m.fetched[ref].Before(f.at) {
		return nil
	}
	return f.err
}

// fetchedWithin returns when ref was last fetched, and whether that was
// less than maxAge ago.
func (m *mirror) fetchedWithin(ref plumbing.ReferenceName, maxAge time.Duration) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.fetched[ref]
	return at, ok && maxAge > 0 && time.Since(at) < maxAge
}
