package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/bot/queue"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
)

// resyncSlack is added to the job timeout before an in-progress check run
// is taken for abandoned: a job may post its conclusion up to postTimeout
// after its own timeout, and clocks differ a little.
const resyncSlack = postTimeout + time.Minute

// resyncLoop is the background resynchronization: a pass at start, then
// one every Config.ResyncInterval, and one for an installation whenever
// it is created or given more repositories.
type resyncLoop struct {
	cancel  context.CancelFunc
	done    chan struct{}
	trigger chan int64 // installation ids
}

// startResync starts the loop.
func (b *Bot) startResync() *resyncLoop {
	ctx, cancel := context.WithCancel(context.Background())
	l := &resyncLoop{cancel: cancel, done: make(chan struct{}), trigger: make(chan int64, 16)}
	go func() {
		defer close(l.done)
		b.runResync(ctx, l)
	}()
	return l
}

// stop ends the loop and waits for it; nil-safe.
func (l *resyncLoop) stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
}

func (b *Bot) runResync(ctx context.Context, l *resyncLoop) {
	logger := b.cfg.Logger.With("component", "resync")
	ticker := time.NewTicker(b.cfg.ResyncInterval)
	defer ticker.Stop()
	// With leases that expire, leadership is looked at every third of a
	// period: a replica that becomes the leader runs a pass at once rather
	// than at its next tick.
	var leadCheck <-chan time.Time
	if p := b.cfg.Leases.Period(); p > 0 {
		t := time.NewTicker(p / 3)
		defer t.Stop()
		leadCheck = t.C
	}
	led := false
	pass := func() {
		if led = b.cfg.Leases.Leading(); !led {
			// Another replica leads: its pass covers every installation.
			logger.Debug("resynchronization pass skipped: another replica leads")
			return
		}
		recheck := b.dueRecheck(ctx, logger)
		if err := b.resyncAll(ctx, logger, recheck); err != nil && ctx.Err() == nil {
			logger.Warn("resynchronization incomplete; the next pass tries again", "error", err)
		}
	}
	pass()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			pass()
		case <-leadCheck:
			if leading := b.cfg.Leases.Leading(); leading && !led {
				logger.Info("this replica now leads the periodic work; resynchronization pass")
				pass()
			} else {
				led = leading
			}
		case id := <-l.trigger:
			// Only the installation that changed: a full pass waits for
			// the ticker.
			if _, err := b.resyncInstallation(ctx, logger, id, false); err != nil && ctx.Err() == nil {
				logger.Warn("resynchronization of a new installation incomplete", KeyInstallationID, id, "error", err)
			}
		}
	}
}

// dueRecheck reports whether this pass must also recheck: when no leader
// started one within RecheckInterval, as the leases record it (on the
// leader blob with several replicas: a replica that takes over continues
// its predecessor's schedule rather than rechecking every pull request at
// once). It records the start of the recheck it calls for. When the
// record cannot be read it rechecks: a recheck too many only costs
// evaluations, one too few could leave a revoked approval green.
func (b *Bot) dueRecheck(ctx context.Context, logger *slog.Logger) bool {
	if b.cfg.RecheckInterval <= 0 {
		return false
	}
	now := time.Now()
	last, err := b.cfg.Leases.LastRecheck(ctx)
	if err != nil {
		logger.Warn("the time of the last recheck could not be read; rechecking", "error", err)
	} else if age := now.Sub(last); !last.IsZero() && age > -time.Minute && age < b.cfg.RecheckInterval {
		// (A record from the future, beyond the clocks' skew, is not
		// trusted to put the recheck off.)
		return false
	}
	if err := b.cfg.Leases.RecordRecheck(ctx, now); err != nil {
		logger.Warn("the start of this recheck could not be recorded; another leader may recheck again", "error", err)
	}
	return true
}

// Resync checks every open pull request of every installation once and
// queues the evaluations that are due (see docs/github-app.md); recheck
// also re-evaluates, quietly, those that look up to date. It returns when
// every due evaluation is queued, not when they are done. The background
// loop calls it; it is exported for tools and tests.
func (b *Bot) Resync(ctx context.Context, recheck bool) error {
	return b.resyncAll(ctx, b.cfg.Logger.With("component", "resync"), recheck)
}

// ResyncStats counts what one resynchronization pass found.
type ResyncStats struct {
	// Heads is the number of open pull request heads looked at.
	Heads int
	// Queued and Rechecks count the evaluations queued and the quiet
	// re-evaluations queued.
	Queued, Rechecks int
}

func (b *Bot) resyncAll(ctx context.Context, logger *slog.Logger, recheck bool) error {
	if b.deps.installations == nil {
		return errors.New("resync: no way to list installations")
	}
	ids, err := b.deps.installations(ctx)
	if err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	var errs []error
	var total ResyncStats
	for _, id := range ids {
		st, err := b.resyncInstallation(ctx, logger, id, recheck)
		total.Heads, total.Queued, total.Rechecks = total.Heads+st.Heads, total.Queued+st.Queued, total.Rechecks+st.Rechecks
		if err != nil {
			errs = append(errs, fmt.Errorf("installation %d: %w", id, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	logger.Info("resynchronization pass done", "installations", len(ids), "heads", total.Heads,
		"queued", total.Queued, "rechecks", total.Rechecks, "recheck", recheck, "errors", len(errs))
	return errors.Join(errs...)
}

// resyncInstallation checks the open pull requests of one installation.
// A repository or head that fails is logged and skipped.
func (b *Bot) resyncInstallation(ctx context.Context, logger *slog.Logger, id int64, recheck bool) (ResyncStats, error) {
	var st ResyncStats
	gh, err := b.deps.client(id)
	if err != nil {
		return st, err
	}
	repos, err := gh.Repositories(ctx)
	if err != nil {
		return st, err
	}
	var errs []error
	for _, repo := range repos {
		if repo.Archived {
			continue
		}
		t := target{installation: id, owner: repo.Owner, name: repo.Name, cloneURL: repo.CloneURL}
		// A feature's periodic work (the audit of a push or merge whose
		// delivery was lost, or that came while the bot was down, say).
		for _, f := range b.cfg.Features {
			if rs, ok := f.(Resyncer); ok {
				if err := rs.Resync(ctx, t.repo(repo.DefaultBranch), logger); err != nil {
					errs = append(errs, fmt.Errorf("%s: feature %s: %w", t.fullName(), f.Name(), err))
				}
			}
		}
		if err := b.resyncRepository(ctx, logger, gh, t, recheck, &st); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.fullName(), err))
		}
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
	}
	return st, errors.Join(errs...)
}

// resyncRepository checks the open pull requests of one repository, head by
// head.
func (b *Bot) resyncRepository(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, recheck bool, st *ResyncStats) error {
	prs, err := gh.OpenPullRequests(ctx, t.owner, t.name, "")
	if err != nil {
		return err
	}
	heads := map[string][]*githubapi.PullRequest{}
	var order []string
	for _, pr := range prs {
		if pr.HeadSHA == "" || pr.Number <= 0 {
			continue
		}
		if _, ok := heads[pr.HeadSHA]; !ok {
			order = append(order, pr.HeadSHA)
		}
		heads[pr.HeadSHA] = append(heads[pr.HeadSHA], pr)
	}
	tips := map[string]string{} // base branch → tip, read once per pass
	tip := func(branch string) string {
		if sha, ok := tips[branch]; ok {
			return sha
		}
		sha, err := gh.BranchHead(ctx, t.owner, t.name, branch)
		if err != nil {
			logger.Warn("resync: cannot read the base branch", KeyRepo, t.fullName(), "branch", branch, "error", err)
		}
		tips[branch] = sha
		return sha
	}
	var errs []error
	for _, sha := range order {
		group := heads[sha]
		slices.SortFunc(group, func(a, b *githubapi.PullRequest) int { return cmp.Compare(a.Number, b.Number) })
		st.Heads++
		one := t.withPullRequest(group[0])
		l := one.logger(logger)
		action, reason, run, err := b.resyncHead(ctx, gh, t, sha, group, tip)
		if err != nil {
			errs = append(errs, fmt.Errorf("head %s: %w", sha, err))
			continue
		}
		switch {
		case action == resyncEvaluate:
		case action == resyncRecheck && recheck:
			one.recheck = run
		default:
			l.Debug("resync: up to date", "reason", reason)
			continue
		}
		queued, err := b.offer(ctx, l, one)
		if err != nil {
			errs = append(errs, fmt.Errorf("head %s: %w", sha, err))
			continue
		}
		if queued {
			l.Info("resync: evaluation queued", "reason", reason, "recheck", action == resyncRecheck)
			if action == resyncRecheck {
				st.Rechecks++
			} else {
				st.Queued++
			}
		}
	}
	if err := b.concludeSuperseded(ctx, logger, gh, t, prs, heads); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// resyncAction is what a resynchronization does about one head.
type resyncAction int

const (
	// resyncSkip leaves the head alone.
	resyncSkip resyncAction = iota
	// resyncEvaluate evaluates it and posts a check run.
	resyncEvaluate
	// resyncRecheck re-evaluates it quietly, in a pass that rechecks.
	resyncRecheck
)

// resyncHead decides what to do about the open pull requests sharing head
// sha, reading the bot's latest check run on it and, when needed, their
// reviews.
func (b *Bot) resyncHead(ctx context.Context, gh githubAPI, t target, sha string, group []*githubapi.PullRequest, tip func(string) string) (resyncAction, string, *githubapi.ExistingCheckRun, error) {
	run, err := gh.LatestCheckRun(ctx, t.owner, t.name, sha, b.cfg.CheckName, b.cfg.AppID)
	if err != nil {
		return resyncSkip, "", nil, err
	}
	states := make([]prState, len(group))
	for i, pr := range group {
		states[i] = prState{number: pr.Number, baseRef: pr.BaseRef, baseSHA: tip(pr.BaseRef), labels: pr.Labels}
	}
	reviews := func() (string, error) {
		for i, pr := range group {
			list, err := gh.Reviews(ctx, t.owner, t.name, pr.Number)
			if err != nil {
				return "", err
			}
			states[i].reviews = list
		}
		return reviewsHash(states), nil
	}
	action, reason, err := b.decide(run, metaHash(states), reviews)
	return action, reason, run, err
}

// decide is the resynchronization's rule for one head, given the bot's
// latest check run on it (nil when none), the fingerprint of the pull
// requests' metadata now, and a way to read the fingerprint of their
// reviews now. It evaluates heads without a check run, with one that
// could not evaluate, with one left in progress for longer than a job may
// take (a bot stopped mid-evaluation), and with one whose fingerprint
// differs (an event was lost). Heads that touch no gated file are not
// compared by reviews, which cannot change their verdict.
func (b *Bot) decide(run *githubapi.ExistingCheckRun, meta string, reviews func() (string, error)) (resyncAction, string, error) {
	switch {
	case run == nil:
		return resyncEvaluate, "no check run", nil
	case run.Status != githubapi.StatusCompleted:
		if b.abandoned(run) {
			return resyncEvaluate, "check run abandoned in progress", nil
		}
		return resyncSkip, "being evaluated", nil
	case strings.Contains(run.Title, couldNotEvaluate):
		return resyncEvaluate, "the last evaluation could not complete", nil
	}
	wantMeta, wantReviews, ok := parseFingerprint(run.ExternalID)
	switch {
	case !ok:
		return resyncEvaluate, "check run without a fingerprint", nil
	case wantMeta != meta:
		return resyncEvaluate, "base branch, labels or pull requests changed", nil
	case run.Title == evaluate.NoPromotionChanges:
		return resyncSkip, "no gated file", nil
	}
	got, err := reviews()
	if err != nil {
		return resyncSkip, "", err
	}
	if got != wantReviews {
		return resyncEvaluate, "reviews changed", nil
	}
	return resyncRecheck, "up to date; due for a recheck", nil
}

// jobTimeout is the queue's bound on one job.
func (b *Bot) jobTimeout() time.Duration {
	if b.cfg.JobTimeout > 0 {
		return b.cfg.JobTimeout
	}
	return queue.DefaultTimeout
}

// offer queues t's evaluation unless a job for its pull request is already
// waiting or running, first waiting while the queue is more than half
// full, so that the resynchronization never crowds out deliveries.
func (b *Bot) offer(ctx context.Context, logger *slog.Logger, t target) (bool, error) {
	limit := max(b.queue.Size()/2, 1)
	for b.queue.Depth() >= limit {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return b.queue.Offer(t.key(), queue.Job{
		Logger: logger,
		Run:    func(ctx context.Context, logger *slog.Logger) error { return b.run(ctx, logger, t) },
	})
}

func (b *Bot) onInstallation(_ context.Context, d webhook.Delivery) error {
	var ev payloadEnvelope
	if err := parse(d, &ev); err != nil {
		return err
	}
	switch action := ev.Action; action {
	case "created", "new_permissions_accepted", "unsuspend":
	default:
		return webhook.Ignore("action %q", action)
	}
	return b.triggerResync(d, ev.Installation.ID)
}

func (b *Bot) onInstallationRepositories(_ context.Context, d webhook.Delivery) error {
	var ev payloadEnvelope
	if err := parse(d, &ev); err != nil {
		return err
	}
	if action := ev.Action; action != "added" {
		return webhook.Ignore("action %q", action)
	}
	return b.triggerResync(d, ev.Installation.ID)
}

// triggerResync asks the resynchronization loop to check an installation
// now: its pull requests may predate the bot's access to them.
func (b *Bot) triggerResync(d webhook.Delivery, id int64) error {
	if id <= 0 {
		return webhook.Ignore("no installation id: a repository webhook? Configure the webhook on the GitHub App instead")
	}
	if b.resync == nil {
		return webhook.Ignore("resynchronization is off")
	}
	select {
	case b.resync.trigger <- id:
		d.Logger.Info("resynchronization of the installation requested", KeyInstallationID, id)
		return nil
	default:
		return webhook.Ignore("a resynchronization is already pending")
	}
}
