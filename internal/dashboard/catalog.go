package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultListTTL is how long the served dashboard keeps a listing of its
// repositories (Options.List) before asking again: a repository added to an
// installation appears, and one removed disappears, within this time.
const DefaultListTTL = 5 * time.Minute

// listRetry bounds how long a failed listing is kept from being retried.
const listRetry = 30 * time.Second

// Lister lists the repositories served. It should return the same
// *Repository for a repository that did not change, so that what was
// derived from it is kept.
type Lister func(ctx context.Context) ([]*Repository, error)

// catalog is the repositories served, looked up by lower-case
// "owner/name".
type catalog struct {
	byKey map[string]*Repository
	list  []*Repository
	// next is when the listing is asked for again; zero for a fixed list.
	next time.Time
}

// repositories keeps the served repositories: a fixed list, or one listed
// with the Lister and listed again after its time to live.
type repositories struct {
	opts    Options
	current atomic.Pointer[catalog]
	listMu  sync.Mutex // one listing at a time; the others wait for it
}

func key(owner, name string) string { return strings.ToLower(owner + "/" + name) }

// newRepositories checks the fixed list of opts, if any.
func newRepositories(opts Options) (*repositories, error) {
	rs := &repositories{opts: opts}
	if opts.List != nil {
		if len(opts.Repositories) > 0 {
			return nil, errors.New("dashboard: both a list of repositories and a Lister")
		}
		return rs, nil
	}
	if len(opts.Repositories) == 0 {
		return nil, errors.New("dashboard: no repository to show")
	}
	c := &catalog{byKey: map[string]*Repository{}}
	for _, r := range opts.Repositories {
		if err := checkName(r); err != nil {
			return nil, err
		}
		k := key(r.Owner, r.Name)
		if c.byKey[k] != nil {
			return nil, fmt.Errorf("dashboard: repository %s/%s listed twice", r.Owner, r.Name)
		}
		r.init(opts)
		c.byKey[k] = r
		c.list = append(c.list, r)
	}
	rs.current.Store(c)
	return rs, nil
}

func checkName(r *Repository) error {
	if r.Owner == "" || r.Name == "" || strings.Contains(r.Owner+r.Name, "/") {
		return fmt.Errorf("dashboard: repository %q/%q: want an owner and a name", r.Owner, r.Name)
	}
	return nil
}

// get returns the current catalog, listing the repositories again when the
// listing is older than its time to live. When listing fails, the previous
// catalog is kept (who may read each repository is still asked of GitHub
// on every page) and the listing is retried shortly; with no previous
// catalog the error is returned.
func (rs *repositories) get(ctx context.Context) (*catalog, error) {
	c := rs.current.Load()
	if rs.opts.List == nil || (c != nil && rs.opts.Now().Before(c.next)) {
		return c, nil
	}
	rs.listMu.Lock()
	defer rs.listMu.Unlock()
	c = rs.current.Load()
	now := rs.opts.Now()
	if c != nil && now.Before(c.next) {
		return c, nil // listed while this request waited
	}
	listed, err := rs.opts.List(ctx)
	if err != nil {
		rs.opts.Logger.Error("dashboard: list the repositories", "err", err)
		if c == nil {
			return nil, err
		}
		retry := *c
		retry.next = now.Add(min(rs.opts.ListTTL, listRetry))
		rs.current.Store(&retry)
		return &retry, nil
	}
	next := &catalog{byKey: map[string]*Repository{}, next: now.Add(rs.opts.ListTTL)}
	for _, r := range listed {
		if err := checkName(r); err != nil {
			rs.opts.Logger.Error("dashboard: a listed repository is skipped", "err", err)
			continue
		}
		k := key(r.Owner, r.Name)
		if next.byKey[k] != nil {
			rs.opts.Logger.Warn("dashboard: a repository listed twice is shown once", "repo", r.FullName())
			continue
		}
		r.init(rs.opts)
		next.byKey[k] = r
		next.list = append(next.list, r)
	}
	slices.SortFunc(next.list, func(a, b *Repository) int { return strings.Compare(key(a.Owner, a.Name), key(b.Owner, b.Name)) })
	rs.opts.Logger.Info("dashboard: repositories listed", "repositories", len(next.list))
	rs.current.Store(next)
	return next, nil
}

// catalogUnavailable answers 503 when the repositories cannot be listed.
func (s *Server) catalogUnavailable(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusServiceUnavailable, "The list of repositories cannot be read from GitHub right now; try again shortly.")
}
