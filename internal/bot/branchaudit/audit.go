// Package branchaudit is the bot's audit of each repository's default
// branch, a bot.Feature: bypass detection (bypass.go) reports manifest
// changes that did not come through a reviewed pull request, and the audit
// export (export.go) appends the verified audit records to the
// repository's tamper-evident log. Both run in one job per repository,
// after pushes to the default branch, merges and resynchronization passes.
package branchaudit

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/audit/githubreview"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/queue"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/failure"
)

// The audit of a repository's default branch: bypass detection (bypass.go)
// and the export of the audit log (export.go), run by one job per
// repository, Options.Delay after a push or a merge.
//
// GitHub associates a merged commit with its pull request a little after
// the push, and until it has, the commit looks pushed directly. A false
// alarm would teach people to ignore the real ones, so:
//
//   - the first look at a push waits Options.Delay;
//   - a commit GitHub links to no merged pull request is believed to have
//     none only when a second look, at least Options.Delay after the
//     first, says so again (a look that finds a merged pull request, with a
//     failing check or none, is final at once);
//   - until then the commit is neither reported nor exported, and the job
//     is scheduled again.
//
// The last commit whose push was fully checked is kept in the workspace
// (promobot/bypass-checked), so a restart resumes from it at the next push,
// merge or resynchronization pass rather than losing what was pushed
// meanwhile. A repository checked for the first time starts at the tip of
// its default branch, or at the "before" of the push that woke it: the
// history before that is `promobot audit`'s to judge, not a flood of issues
// on the day the bot is installed.

// checkedState is the workspace state file holding the last checked tip.
const checkedState = "bypass-checked"

// audits holds the audit state of every repository.
type audits struct {
	mu     sync.Mutex
	closed bool
	repos  map[string]*auditState
}

// auditState is one repository's audit state.
type auditState struct {
	t      target
	branch string
	// floor is the "before" of the first push seen while no tip was
	// checked yet: where a first check starts.
	floor string
	// armed is true while a look is scheduled or queued.
	armed bool
	// firstSeen is when a look first found a commit linked to no merged
	// pull request.
	firstSeen map[string]time.Time
	// reported holds the keys (commit:path) of the findings reported by
	// this process.
	reported map[string]bool
	// sink is the repository's audit log, once opened.
	sink chain.Sink
}

func newAudits() *audits { return &audits{repos: map[string]*auditState{}} }

// close stops scheduling: timers that fire afterwards do nothing.
func (a *audits) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
}

// state returns the state of key, creating it.
func (a *audits) state(key string) *auditState {
	st := a.repos[key]
	if st == nil {
		st = &auditState{firstSeen: map[string]time.Time{}, reported: map[string]bool{}}
		a.repos[key] = st
	}
	return st
}

// scheduleAudit arms the audit of t's default branch, Options.Delay
// from now, unless one is already armed. before is the "before" of a push,
// "" for a merge or a resynchronization pass.
func (f *Feature) scheduleAudit(logger *slog.Logger, t target, branch, before string) {
	key := strings.ToLower(t.FullName())
	a := f.audits
	a.mu.Lock()
	if a.closed || branch == "" {
		a.mu.Unlock()
		return
	}
	st := a.state(key)
	st.t = t
	st.branch = branch
	if st.floor == "" && bot.IsCommitHash(before) && strings.Trim(before, "0") != "" {
		st.floor = before
	}
	if st.armed {
		a.mu.Unlock()
		return
	}
	st.armed = true
	a.mu.Unlock()
	logger.Debug("audit scheduled", "in", f.opts.Delay)
	f.opts.AfterFunc(f.opts.Delay, func() { f.queueAudit(key) })
}

// queueAudit queues the audit job of key; when the queue is full it tries
// again after the delay.
func (f *Feature) queueAudit(key string) {
	a := f.audits
	a.mu.Lock()
	st := a.repos[key]
	if a.closed || st == nil {
		a.mu.Unlock()
		return
	}
	t := st.t
	a.mu.Unlock()
	logger := f.host.Logger().With(bot.KeyRepo, t.FullName(), bot.KeyInstallationID, t.Installation, "component", "audit")
	err := f.host.Submit(bot.JobKey{Installation: t.Installation, Repo: key, Kind: "audit"}, logger,
		func(ctx context.Context, logger *slog.Logger) error { return f.runAudit(ctx, logger, key) })
	switch {
	case errors.Is(err, queue.ErrFull):
		logger.Warn("audit not queued: the queue is full; trying again later")
		f.opts.AfterFunc(f.opts.Delay, func() { f.queueAudit(key) })
	case err != nil:
		a.mu.Lock()
		st.armed = false
		a.mu.Unlock()
	}
}

// auditRun is one audit job.
type auditRun struct {
	f        *Feature
	key      string
	logger   *slog.Logger
	j        *featureJob
	t        target
	ws       *workspace.Workspace
	repo     *audit.Repository
	h        *audit.History
	reviewer audit.Reviewer
	verdicts map[string]audit.Verdict
}

// runAudit is the audit job of a repository.
func (f *Feature) runAudit(ctx context.Context, logger *slog.Logger, key string) error {
	a := f.audits
	a.mu.Lock()
	st := a.repos[key]
	st.armed = false
	t, branch, floor := st.t, st.branch, st.floor
	a.mu.Unlock()

	j, err := featurekit.StartJob(ctx, f.opts.Client, f.opts.BotLogin, t.Installation)
	if err != nil {
		f.rearmOnError(logger, t, branch)
		return err
	}
	ws, unlock, err := f.opts.Workspaces.Open(ctx, t.FullName(), t.CloneURL, j.Token, branch)
	if err != nil {
		f.rearmOnError(logger, t, branch)
		return err
	}
	defer unlock()
	repo, h, err := ws.History(ctx)
	if err != nil {
		return err
	}
	defer repo.Close()
	reviewer, err := githubreview.New(j.GitHub, githubreview.Options{
		Owner: t.Owner, Repo: t.Name, DefaultBranch: branch,
		Assess:   j.Assess(f.host.CheckName()),
		CacheDir: ws.StateFile("github"),
		// An answer without a merged pull request is never taken from the
		// cache: the second look must ask GitHub again.
		RecheckAfter: time.Nanosecond,
		Now:          f.opts.Clock,
		Logger:       logger,
	})
	if err != nil {
		return err
	}
	r := &auditRun{f: f, key: key, logger: logger, j: j, t: t, ws: ws, repo: repo, h: h, reviewer: reviewer, verdicts: map[string]audit.Verdict{}}
	var again bool
	var errs []error
	if f.opts.BypassIssues {
		more, err := r.checkBypass(ctx, floor)
		again, errs = again || more, append(errs, err)
	}
	if f.opts.Sink != nil {
		more, err := r.export(ctx)
		again, errs = again || more, append(errs, err)
	}
	if again {
		f.scheduleAudit(logger, t, branch, "")
	}
	return errors.Join(errs...)
}

// rearmOnError schedules the audit again after a failure that a later try
// can cure (GitHub or git unreachable).
func (f *Feature) rearmOnError(logger *slog.Logger, t target, branch string) {
	f.scheduleAudit(logger, t, branch, "")
}

// retryable reports whether looking again later can cure err: not when
// GitHub refused the request (a missing permission, say), which waits for
// the next push, merge or resynchronization pass instead.
func retryable(err error) bool {
	var review *githubreview.Error
	switch {
	case errors.As(err, &review):
		return review.Retryable
	case failure.IsTerminal(err):
		return false
	}
	return true
}

// verdict asks the reviewer about commit once per job.
func (r *auditRun) verdict(ctx context.Context, commit string) (audit.Verdict, error) {
	if v, ok := r.verdicts[commit]; ok {
		return v, nil
	}
	v, err := r.reviewer.Review(ctx, commit)
	if err != nil {
		return v, err
	}
	r.verdicts[commit] = v
	return v, nil
}

// settled reports whether a verdict about commit can be acted on: it found
// a merged pull request, or it found none twice, looks at least
// Options.Delay apart.
func (r *auditRun) settled(commit string, v audit.Verdict) bool {
	a := r.f.audits
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.state(r.key)
	if v.Reviewed || v.PullRequest != nil {
		delete(st.firstSeen, commit)
		return true
	}
	now := r.f.opts.Clock()
	first, ok := st.firstSeen[commit]
	if !ok {
		if len(st.firstSeen) > maxRecentIDs {
			clear(st.firstSeen)
		}
		st.firstSeen[commit] = now
		return false
	}
	return now.Sub(first) >= r.f.opts.Delay
}

// applyVerdict fills a record's review fields from a verdict, as
// audit.Enrich does.
func applyVerdict(rec *audit.Record, v audit.Verdict) {
	rec.Verified = true
	rec.PullRequest = v.PullRequest
	rec.Bypass = !v.Reviewed
	rec.BypassReason = v.Reason
}
