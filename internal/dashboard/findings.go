package dashboard

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/accessreview"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/repoconfig"
)

// Findings are the latest drift and access-review findings.
type Findings struct {
	// Drift is the comparison of the last week's loads with the pins; nil
	// when no report store is configured or it could not be computed
	// (DriftProblem says why).
	Drift        *drift.Result
	DriftProblem string
	// Access is the access review; nil without GitHub, for a person who is
	// not an admin, or when it could not be computed (AccessProblem says
	// why).
	Access        *accessreview.Report
	AccessProblem string
	// DriftAt and AccessAt are when they were computed.
	DriftAt, AccessAt time.Time
}

// finding is a computed value with the reason it is missing.
type finding[T any] struct {
	value   *T
	problem string
	at      time.Time
}

// drifted reports whether the drift findings name environment/model.
func drifted(res *drift.Result, environment, model string) bool {
	if res == nil {
		return false
	}
	for _, d := range res.Findings {
		if d.Environment == environment && d.Model == model {
			return true
		}
	}
	return false
}

// DriftFindings compares the reports with the pins of snap, or returns the
// comparison made for the same head within the time to live.
func (r *Repository) DriftFindings(ctx context.Context, snap *Snapshot) finding[drift.Result] {
	if r.Drift == nil {
		return finding[drift.Result]{}
	}
	return computeCached(r, &r.driftCache, snap, func(now time.Time) (*drift.Result, error) {
		res, err := r.drift(ctx, snap, now)
		return &res, err
	})
}

// AccessFindings reviews who can approve what, or returns the review made
// for the same head within the time to live.
func (r *Repository) AccessFindings(ctx context.Context, snap *Snapshot) finding[accessreview.Report] {
	if r.GitHub == nil {
		return finding[accessreview.Report]{problem: errNoGitHub.Error()}
	}
	return computeCached(r, &r.accessCache, snap, func(now time.Time) (*accessreview.Report, error) {
		rep, err := r.accessReview(ctx, snap, now)
		return &rep, err
	})
}

// computeCached returns *slot when it is fresh, else computes and keeps it
// for the snapshot it was computed from.
func computeCached[T any](r *Repository, slot **cached[finding[T]], snap *Snapshot, compute func(now time.Time) (*T, error)) finding[T] {
	r.mu.Lock()
	c := *slot
	r.mu.Unlock()
	if c.fresh(r.now(), r.ttl) {
		return c.value
	}
	now := r.now().UTC()
	v, err := compute(now)
	f := finding[T]{value: v, at: now}
	if err != nil {
		f = finding[T]{problem: err.Error(), at: now}
	}
	r.mu.Lock()
	if r.snap == snap {
		*slot = &cached[finding[T]]{value: f, at: now}
	}
	r.mu.Unlock()
	return f
}

// drift compares the last week of loads with the pins, as promobot drift
// does with its defaults.
func (r *Repository) drift(ctx context.Context, snap *Snapshot, now time.Time) (drift.Result, error) {
	loads, skipped, err := r.Drift.Loads(ctx, now.AddDate(0, 0, -7), now)
	if err != nil {
		return drift.Result{}, fmt.Errorf("read the reports in %s: %w", r.Drift, err)
	}
	grace := drift.DefaultGrace
	if pol, err := r.policyAt(snap.Tip); err == nil && pol.grace > 0 {
		grace = pol.grace
	}
	res := drift.Compare(loads, snap.Timeline, drift.Options{Now: now, Grace: grace, Stale: 25 * time.Hour})
	res.Skipped = skipped
	return res, nil
}

// tipFiles is what the access review and drift read from the tip's tree.
type tipFiles struct {
	fsys  fs.FS
	grace time.Duration
}

func (r *Repository) policyAt(tip string) (*tipFiles, error) {
	repo, err := gitrepo.Open(r.Path)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	fsys, err := repo.FS(plumbing.NewHash(tip))
	if err != nil {
		return nil, err
	}
	out := &tipFiles{fsys: fsys}
	_, sch, _ := repoconfig.Schemas(fsys)
	if pol, _, err := repoconfig.ReadPolicy(fsys, sch); err == nil && pol != nil && pol.Drift.GraceMinutes > 0 {
		out.grace = time.Duration(pol.Drift.GraceMinutes) * time.Minute
	}
	return out, nil
}

// accessReview reviews who can approve what, as promobot access-review does
// with its defaults (a 90-day window, a maker-checker share of one half).
func (r *Repository) accessReview(ctx context.Context, snap *Snapshot, now time.Time) (accessreview.Report, error) {
	const windowDays, share = 90, 0.5
	repo, err := gitrepo.Open(r.Path)
	if err != nil {
		return accessreview.Report{}, err
	}
	defer repo.Close()
	fsys, err := repo.FS(plumbing.NewHash(snap.Tip))
	if err != nil {
		return accessreview.Report{}, err
	}
	tree, err := accessreview.ReadTree(fsys)
	if err != nil {
		return accessreview.Report{}, err
	}
	promotions := accessreview.PromotionsOf((audit.Filter{Since: now.AddDate(0, 0, -windowDays)}).Apply(snap.History.Records))
	s, err := accessreview.Gather(ctx, r.GitHub, tree.Input(r.Owner, r.Name, promotions, now))
	if err != nil {
		return accessreview.Report{}, err
	}
	return accessreview.Review(s, accessreview.Options{MakerCheckerShare: share, WindowDays: windowDays}), nil
}
