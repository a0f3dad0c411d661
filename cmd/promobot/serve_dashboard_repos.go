package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/dashboard"
	"github.com/example-org/promobot/internal/githubapi"
)

// dashboardMirrorMaxAge is how old the last fetch of a repository's default
// branch into its mirror (by the bot or the dashboard) may be when a
// dashboard page reads it; an older or missing mirror is fetched first.
const dashboardMirrorMaxAge = time.Minute

// dashboardMirrorRetryAfter is how long a failed fetch of a repository's
// default branch is answered again (a 503 page) before the dashboard asks
// GitHub anew, so that a repository that cannot be fetched costs one fetch
// per half minute rather than one per page view.
const dashboardMirrorRetryAfter = 30 * time.Second

// servedRepositories lists, for the served dashboard, the repositories of
// every installation, each read from the bot's mirror of its default
// branch, which the dashboard fetches when it is missing or stale. The
// dashboard lists them again after dashboard.DefaultListTTL.
type servedRepositories struct {
	apps    *githubapi.Apps
	mirrors *mirror.Set
	logger  *slog.Logger

	mu    sync.Mutex
	known map[string]servedRepository // by lower-case owner/name
}

// servedRepository is a listed repository and where it came from; the same
// origin gives back the same *dashboard.Repository, with its caches.
type servedRepository struct {
	installation     int64
	cloneURL, branch string
	repo             *dashboard.Repository
}

// list is the dashboard's Lister.
func (s *servedRepositories) list(ctx context.Context) ([]*dashboard.Repository, error) {
	ids, err := s.apps.InstallationIDs(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[string]servedRepository{}
	var out []*dashboard.Repository
	for _, id := range ids {
		client, err := s.apps.Installation(id)
		if err != nil {
			return nil, err
		}
		repos, err := client.Repositories(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			full := r.Owner + "/" + r.Name
			key := strings.ToLower(full)
			origin := servedRepository{installation: id, cloneURL: r.CloneURL, branch: r.DefaultBranch}
			if old, ok := s.known[key]; ok && old.installation == id && old.cloneURL == r.CloneURL && old.branch == r.DefaultBranch {
				origin.repo = old.repo
			} else if origin.repo, err = s.repository(r, client); err != nil {
				s.logger.Warn("dashboard: a repository is not shown", "repo", full, "installation_id", id, "err", err)
				continue
			}
			if _, dup := next[key]; dup {
				continue
			}
			next[key] = origin
			out = append(out, origin.repo)
		}
	}
	s.known = next
	return out, nil
}

// repository is the dashboard's view of r, read from its mirror, which is
// fetched with client's installation token when missing or stale.
func (s *servedRepositories) repository(r githubapi.Repository, client *githubapi.Client) (*dashboard.Repository, error) {
	full := r.Owner + "/" + r.Name
	if r.DefaultBranch == "" {
		return nil, &mirror.Error{Op: "mirror " + full, Err: errNoDefaultBranch, Terminal: true}
	}
	path, err := s.mirrors.Path(full, r.CloneURL)
	if err != nil {
		return nil, err
	}
	req := mirror.BranchRequest{Repository: full, CloneURL: r.CloneURL, Token: client.Token, Branch: r.DefaultBranch, MaxAge: dashboardMirrorMaxAge, RetryAfter: dashboardMirrorRetryAfter}
	return &dashboard.Repository{
		Owner: r.Owner, Name: r.Name, Path: path, Ref: "refs/remotes/origin/" + r.DefaultBranch, GitHub: client,
		Sync: func(ctx context.Context) error {
			_, err := s.mirrors.SyncBranch(ctx, req)
			return err
		},
	}, nil
}

// errNoDefaultBranch says GitHub named no default branch.
var errNoDefaultBranch = errors.New("GitHub names no default branch")
