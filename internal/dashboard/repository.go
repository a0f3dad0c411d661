package dashboard

import (
	"context"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/accessreview"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/gitrepo"
)

// Repository is one repository the dashboard shows, read from a local git
// repository.
type Repository struct {
	// Owner and Name are the repository's GitHub owner and name.
	Owner, Name string
	// Path is the local git repository: the bot's mirror or a checkout,
	// bare or not.
	Path string
	// Ref is the branch to read; empty means the default branch as the
	// audit finds it (origin/HEAD, HEAD of a bare repository, then main).
	Ref string
	// CacheDir holds the audit's incremental index; empty means the audit's
	// default, <git dir>/promobot.
	CacheDir string
	// GitHub, when set, verifies the history's pull requests and approvers
	// and lists the open promotion pull requests.
	GitHub GitHub
	// CheckApp, when set, is the slug of the GitHub App whose promobot
	// check runs count.
	CheckApp string
	// Attestations, when set, tells each pin's attestation status.
	Attestations Attestations
	// Drift, when set, is where scoring jobs report what they loaded.
	Drift drift.Store
	// Sync, when set, brings Path up to date before each read (the served
	// dashboard fetches the bot's mirror when it is missing or stale); it
	// decides itself how fresh is fresh enough. An error makes the page
	// answer 503 without reading Path.
	Sync func(ctx context.Context) error

	initOnce sync.Once

	git *git.Repository        // opened on the first build
	ref plumbing.ReferenceName // the branch read

	now         func() time.Time
	ttl         time.Duration
	logger      *slog.Logger
	mu          sync.Mutex // guards git, ref and the fields below, and serialises rebuilds
	snap        *Snapshot
	views       map[string]any
	prs         *cached[[]PullRequest]
	driftCache  *cached[finding[drift.Result]]
	accessCache *cached[finding[accessreview.Report]]
}

// Attestations tells the attestation status of what an environment pins of
// a model at a commit: a short status (verified, baseline, not attested,
// refused, unavailable) and a detail.
type Attestations interface {
	Status(ctx context.Context, commit, environment, model string) (status, detail string)
}

// init readies r for opts the first time it is served; a repository
// listed again keeps its caches.
func (r *Repository) init(opts Options) {
	r.initOnce.Do(func() {
		r.now, r.ttl, r.logger = opts.Now, opts.FindingsTTL, opts.Logger
		r.views = map[string]any{}
	})
}

// Base is the path of the repository's matrix page; the other pages are
// below it.
func (r *Repository) Base() string {
	return "/r/" + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name) + "/"
}

// FullName is "owner/name".
func (r *Repository) FullName() string { return r.Owner + "/" + r.Name }

// Snapshot is what the dashboard derived from one head commit.
type Snapshot struct {
	// Tip is the head commit; Branch its branch; TipTime its committer
	// time.
	Tip, Branch string
	TipTime     time.Time
	// Environments are in promotion order.
	Environments []string
	// Models are sorted by name.
	Models []string
	// Pins maps model, then environment, to the version pinned now.
	Pins map[string]map[string]*audit.Pin
	// Timeline is every pin over time, as audit.Timeline returns it.
	Timeline []audit.Pin
	// History is the audit's reconstruction.
	History *audit.History
	// Verified is true when GitHub verified the records; VerifyProblem
	// says why it could not, and the records then come from commit
	// messages only.
	Verified      bool
	VerifyProblem string

	built time.Time
}

// Snapshot returns the snapshot of the current head, rebuilding it when the
// head moved. The first build resolves the branch as the audit does; later
// calls read only that reference, from disk each time, so that a fetch into
// the mirror is seen at once.
func (r *Repository) Snapshot(ctx context.Context) (*Snapshot, error) {
	if r.Sync != nil {
		if err := r.Sync(ctx); err != nil {
			return nil, &SyncError{Repository: r.FullName(), Err: err}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.snap != nil {
		ref, err := r.git.Reference(r.ref, true)
		if err != nil {
			return nil, fmt.Errorf("read the head of %s: %w", r.Path, err)
		}
		// A snapshot GitHub could not verify is rebuilt after the time to
		// live, so that verification resumes once GitHub answers again.
		if ref.Hash().String() == r.snap.Tip && (r.snap.VerifyProblem == "" || r.now().Sub(r.snap.built) < r.ttl) {
			return r.snap, nil
		}
	}
	snap, err := r.build(ctx)
	if err != nil {
		return nil, err
	}
	if r.git == nil {
		if r.git, err = gitrepo.OpenGit(r.Path); err != nil {
			return nil, err
		}
		r.ref = plumbing.ReferenceName(snap.History.Ref)
	}
	r.snap = snap
	clear(r.views)
	r.prs, r.driftCache, r.accessCache = nil, nil, nil
	return snap, nil
}

// build reconstructs the history and derives the current pins.
func (r *Repository) build(ctx context.Context) (*Snapshot, error) {
	repo, err := audit.OpenRepository(r.Path, audit.RepositoryOptions{})
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := audit.Reconstruct(ctx, repo, audit.Options{Ref: r.Ref, CacheDir: r.CacheDir, Logger: logger})
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Tip: h.Tip, Branch: h.Branch, TipTime: h.TipTime, Environments: h.Environments, History: h,
		Pins: map[string]map[string]*audit.Pin{}}
	snap.built = r.now()
	if r.GitHub != nil {
		records := slices.Clone(h.Records)
		if err := audit.Enrich(ctx, records, r.reviewer(h.Branch)); err != nil {
			r.logger.Warn("dashboard: verify the history on GitHub", "repo", r.FullName(), "err", err)
			snap.VerifyProblem = err.Error()
		} else {
			h.Records, snap.Verified = records, true
		}
	}
	snap.Timeline = audit.Timeline(h.Records, audit.Filter{})
	for i := range snap.Timeline {
		p := &snap.Timeline[i]
		if !p.Until.IsZero() {
			continue
		}
		row := snap.Pins[p.Model]
		if row == nil {
			row = map[string]*audit.Pin{}
			snap.Pins[p.Model] = row
			snap.Models = append(snap.Models, p.Model)
		}
		row[p.Environment] = p
	}
	sortStrings(snap.Models)
	envs := map[string]bool{}
	for _, e := range snap.Environments {
		envs[e] = true
	}
	for _, row := range snap.Pins {
		for e := range row {
			if !envs[e] {
				envs[e] = true
				snap.Environments = append(snap.Environments, e)
			}
		}
	}
	return snap, nil
}

// cached is a value computed on demand and kept for a while.
type cached[T any] struct {
	value T
	err   error
	at    time.Time
}

// fresh reports whether c holds a value younger than ttl.
func (c *cached[T]) fresh(now time.Time, ttl time.Duration) bool {
	return c != nil && now.Sub(c.at) < ttl
}

// SyncError is a failure of Repository.Sync: the local copy could not be
// brought up to date.
type SyncError struct {
	Repository string
	Err        error
}

// Error returns "fetch owner/name: cause".
func (e *SyncError) Error() string { return "fetch " + e.Repository + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *SyncError) Unwrap() error { return e.Err }

// errNoGitHub says that a page needs GitHub and none is configured.
var errNoGitHub = errors.New("no GitHub repository is configured")
