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
	c, err := newCatalog(opts, opts.Repositories, func(err error) error { return err })
	if err != nil {
		return nil, err
	}
	rs.current.Store(c)
	return rs, nil
}

// errListedTwice is a repository named twice in one list.
var errListedTwice = errors.New("listed twice")

// newCatalog builds the catalog of repos, each initialised with opts. A
// repository without a proper name, or named twice, is handed to bad: an
// error it returns fails the catalog, nil leaves the repository out.
func newCatalog(opts Options, repos []*Repository, bad func(error) error) (*catalog, error) {
	c := &catalog{byKey: map[string]*Repository{}}
	for _, r := range repos {
		err := checkName(r)
		k := key(r.Owner, r.Name)
		if err == nil && c.byKey[k] != nil {
			err = fmt.Errorf("dashboard: repository %s/%s %w", r.Owner, r.Name, errListedTwice)
		}
		if err != nil {
			if err := bad(err); err != nil {
				return nil, err
			}
			continue
		}
		r.init(opts)
		c.byKey[k] = r
		c.list = append(c.list, r)
	}
	return c, nil
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
	next, _ := newCatalog(rs.opts, listed, func(err error) error {
		if errors.Is(err, errListedTwice) {
			rs.opts.Logger.Warn("dashboard: a repository listed twice is shown once", "err", err)
		} else {
			rs.opts.Logger.Error("dashboard: a listed repository is skipped", "err", err)
		}
		return nil
	})
	next.next = now.Add(rs.opts.ListTTL)
	slices.SortFunc(next.list, func(a, b *Repository) int { return strings.Compare(key(a.Owner, a.Name), key(b.Owner, b.Name)) })
	rs.opts.Logger.Info("dashboard: repositories listed", "repositories", len(next.list))
	rs.current.Store(next)
	return next, nil
}

// catalogUnavailable answers 503 when the repositories cannot be listed.
func (s *Server) catalogUnavailable(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusServiceUnavailable, "The list of repositories cannot be read from GitHub right now; try again shortly.")
}
