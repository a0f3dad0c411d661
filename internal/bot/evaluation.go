package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/evalinput"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/policy"
)

// postTimeout bounds posting a conclusion after the job's own context
// ended, so that a timed-out evaluation still leaves a failure behind.
const postTimeout = 15 * time.Second

// run is the job of one target.
func (b *Bot) run(ctx context.Context, logger *slog.Logger, t target) error {
	gh, err := b.deps.client(t.installation)
	if err != nil {
		return err
	}
	if t.number == 0 {
		return b.fanOut(ctx, logger, gh, t)
	}
	return b.evaluatePullRequest(ctx, logger, gh, t)
}

// fanOut finds the open pull requests whose head is t.sha and schedules
// each, so that they coalesce with, and never race, other jobs for the same
// pull request.
func (b *Bot) fanOut(ctx context.Context, logger *slog.Logger, gh githubAPI, t target) error {
	prs, err := gh.PullRequestsWithHead(ctx, t.owner, t.name, t.sha)
	if err != nil {
		return err
	}
	var errs []error
	for _, pr := range prs {
		if pr.State == "open" {
			errs = append(errs, b.schedule(logger, t.withPullRequest(pr)))
		}
	}
	if len(errs) == 0 {
		logger.Info("no open pull request has this head commit")
	}
	return errors.Join(errs...)
}

// evaluatePullRequest runs one evaluation of the head commit of t's pull
// request and leaves a completed check run on it, or, when the check run
// cannot be created, nothing. What is evaluated comes from GitHub, never
// from the delivery that scheduled the job: deliveries arrive late and out
// of order, so a payload's state, labels, base and head are only a hint of
// where to look. A pull request that is not open gets no write, and a
// commit that is no longer its head gets no check run. Every open pull
// request with the same head is evaluated, and the check run passes only
// when all of them pass.
//
// The check run is created once the verdict is known, so that it costs
// one write: with the reads answered 304 by the ETag cache, an unchanged
// evaluation costs that write alone.
func (b *Bot) evaluatePullRequest(ctx context.Context, logger *slog.Logger, gh githubAPI, t target) error {
	pr, group, err := b.current(ctx, gh, t)
	if err != nil {
		return err
	}
	if pr.State != "open" {
		logger.Info("pull request is not open; not evaluated", "state", pr.State, "merged", pr.Merged)
		return nil
	}
	if t.sha != pr.HeadSHA {
		logger = logger.With(KeySHA, pr.HeadSHA)
		if t.sha != "" {
			logger.Info("the delivered head commit is no longer the pull request's head; its head is evaluated", "delivered_sha", t.sha)
		}
	}
	// One replica at a time evaluates the pull requests sharing this head
	// and writes their check run.
	gh, release, err := b.hold(ctx, gh, pullLeaseName(t, group))
	if err != nil {
		return err
	}
	defer release()
	if t.recheck != nil {
		return b.recheck(ctx, logger, gh, t, pr, group)
	}
	if !t.force {
		if done, why := b.alreadyEvaluated(ctx, logger, gh, t, pr.HeadSHA, group, t.suspect || b.durable != nil); done {
			b.wq.Coalesced()
			logger.Info("inputs already evaluated; job dropped", "reason", why)
			return nil
		}
	}

	start := time.Now()
	rep := combine(b.judgeAll(ctx, logger, gh, t, group))
	if b.alreadyPosted(ctx, logger, gh, t, pr.HeadSHA, rep) {
		b.cfg.Metrics.Evaluation(rep.conclusion, time.Since(start))
		return nil
	}
	listed, err := b.post(ctx, logger, gh, t, pr.HeadSHA, rep, start)
	if err != nil {
		return err
	}
	// A pull request opened with this head while it was evaluated is not
	// in the verdict: its own evaluation, queued here in case its delivery
	// is lost, posts the verdict of all of them.
	var errs []error
	for _, n := range listed {
		if !slices.ContainsFunc(group, func(p *githubapi.PullRequest) bool { return p.Number == n }) {
			one := t
			one.number, one.sha, one.pr, one.recheck = n, pr.HeadSHA, nil, nil
			errs = append(errs, b.schedule(logger, one))
		}
	}
	return errors.Join(errs...)
}

// current reads t's pull request from GitHub, with the open pull requests
// sharing its head (it included, ordered by number). The delivered head
// commit, when there is one, is only where to look: the pull requests of
// that commit are one read, answered 304 while nothing changed, that also
// lists the others sharing it. When the pull request is not among them (its head
// moved, it was merged, or GitHub does not list it), it is read by number.
func (b *Bot) current(ctx context.Context, gh githubAPI, t target) (*githubapi.PullRequest, []*githubapi.PullRequest, error) {
	var (
		pr     *githubapi.PullRequest
		listed []*githubapi.PullRequest
	)
	if t.sha != "" {
		prs, err := gh.PullRequestsWithHead(ctx, t.owner, t.name, t.sha)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range prs {
			if p.Number == t.number && p.HeadSHA == t.sha {
				pr, listed = p, prs
			}
		}
	}
	if pr == nil {
		var err error
		if pr, err = gh.PullRequest(ctx, t.owner, t.name, t.number); err != nil {
			return nil, nil, err
		}
		if pr.State != "open" {
			return pr, nil, nil
		}
		if listed, err = gh.PullRequestsWithHead(ctx, t.owner, t.name, pr.HeadSHA); err != nil {
			return nil, nil, err
		}
	}
	if pr.State == "open" && (pr.HeadSHA == "" || pr.BaseRef == "") {
		return nil, nil, fmt.Errorf("pull request %s#%d has no head commit or base branch", t.fullName(), t.number)
	}
	group := []*githubapi.PullRequest{pr}
	for _, p := range listed {
		if p.Number != pr.Number && p.State == "open" && p.HeadSHA == pr.HeadSHA && p.BaseRef != "" {
			group = append(group, p)
		}
	}
	slices.SortFunc(group, func(a, b *githubapi.PullRequest) int { return cmp.Compare(a.Number, b.Number) })
	return pr, group, nil
}

// conclude completes check run id with rep, even when ctx has ended, and
// records the evaluation.
func (b *Bot) conclude(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, id int64, rep report, start time.Time) error {
	postCtx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		postCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), postTimeout)
		defer cancel()
	}
	if err := b.complete(postCtx, gh, t, id, rep); err != nil {
		return errors.Join(rep.cause, err)
	}
	b.record(logger, rep, start)
	return nil
}

// post creates the check run of rep on headSHA, completed, even when ctx
// has ended, records the evaluation, and returns the numbers of the open
// pull requests GitHub lists on it. It costs one request, unless the
// annotations need more than one: then the run is created in progress and
// completed by the update carrying the last of them.
func (b *Bot) post(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, headSHA string, rep report, start time.Time) ([]int, error) {
	postCtx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		postCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), postTimeout)
		defer cancel()
	}
	run := githubapi.CheckRun{
		Name:      b.cfg.CheckName,
		HeadSHA:   headSHA,
		StartedAt: b.cfg.Now().Add(-time.Since(start)),
		Output: &githubapi.Output{
			Title:   truncate(rep.title, maxTitle, "…"),
			Summary: truncate(rep.summary, maxSummary, "\n\n_Summary truncated to GitHub's limit._\n"),
		},
	}
	if len(rep.annotations) > githubapi.MaxAnnotationsPerRequest {
		// The annotations take several requests: the run is created in
		// progress and completed by the last of them.
		run.Status = githubapi.StatusInProgress
	} else {
		run.Status, run.Conclusion, run.ExternalID, run.CompletedAt = githubapi.StatusCompleted, rep.conclusion, rep.externalID, b.cfg.Now()
		run.Output.Annotations = rep.annotations
	}
	id, listed, err := gh.StartCheckRun(postCtx, t.owner, t.name, run)
	if err != nil {
		return nil, errors.Join(rep.cause, err)
	}
	if run.Status != githubapi.StatusCompleted {
		if err := b.complete(postCtx, gh, t, id, rep); err != nil {
			return nil, errors.Join(rep.cause, err)
		}
	}
	b.evaluated.put(t, headSHA, rep)
	b.record(logger, rep, start)
	b.posted.remember(postedKey(t, headSHA), postedValue(rep))
	return listed, nil
}

// record counts and logs a completed evaluation.
func (b *Bot) record(logger *slog.Logger, rep report, start time.Time) {
	outcome := rep.conclusion
	if rep.cause != nil {
		outcome = "error"
	}
	b.cfg.Metrics.Evaluation(outcome, time.Since(start))
	logger.Info("check run completed", "conclusion", rep.conclusion, "title", rep.title,
		"annotations", len(rep.annotations), "elapsed", time.Since(start))
}

// recheck evaluates a head again without writing anything unless the
// verdict or its title differ from the check run t.recheck; then it posts
// a new check run. An evaluation that cannot complete leaves the check run
// as it is: it was a verdict on the same commit, and the next pass tries
// again.
//
// pr and group are the pull request and those sharing its head, as read
// from GitHub for this job.
func (b *Bot) recheck(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, pr *githubapi.PullRequest, group []*githubapi.PullRequest) error {
	if pr.HeadSHA != t.sha {
		// The new head's own evaluation, or the next pass, judges it.
		logger.Info("recheck: the head moved since the resynchronization; nothing to recheck")
		return nil
	}
	start := time.Now()
	rep := combine(b.judgeAll(ctx, logger, gh, t, group))
	if rep.cause != nil {
		logger.Warn("recheck could not evaluate; the check run stays", "error", rep.cause)
		return nil
	}
	if rep.conclusion == t.recheck.Conclusion && truncate(rep.title, maxTitle, "…") == t.recheck.Title {
		b.cfg.Metrics.Evaluation(rep.conclusion, time.Since(start))
		logger.Debug("recheck: the check run is up to date", "conclusion", rep.conclusion)
		return nil
	}
	logger.Info("recheck: the verdict changed", "was", t.recheck.Conclusion, "was_title", t.recheck.Title)
	_, err := b.post(ctx, logger, gh, t, pr.HeadSHA, rep, start)
	return err
}

// prOutcome is the evaluation of one pull request.
type prOutcome struct {
	number int
	report report
	// err is set when the evaluation could not complete.
	err error
	// state is what the evaluation read that can change without a push.
	state prState
}

// judgeAll evaluates each pull request of a group sharing one head, in
// order.
func (b *Bot) judgeAll(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, group []*githubapi.PullRequest) []prOutcome {
	out := make([]prOutcome, 0, len(group))
	for _, pr := range group {
		one := t.withPullRequest(pr)
		l := logger
		if len(group) > 1 {
			l = logger.With("evaluated_pr", pr.Number)
		}
		o := b.judge(ctx, l, gh, one, pr, b.pullSnapshot(gh, one, pr))
		if o.err != nil {
			l.Error("evaluation failed", "error", o.err, "terminal", failure.IsTerminal(o.err))
		}
		out = append(out, o)
	}
	return out
}

// snapshotFunc gets the git side of an evaluation.
type snapshotFunc func(ctx context.Context) (snapshot, error)

// pullSnapshot fetches a pull request's base branch tip and head.
func (b *Bot) pullSnapshot(gh githubAPI, t target, pr *githubapi.PullRequest) snapshotFunc {
	return func(ctx context.Context) (snapshot, error) {
		token, err := gh.Token(ctx)
		if err != nil {
			return nil, err
		}
		cloneURL := pr.CloneURL
		if cloneURL == "" {
			cloneURL = t.cloneURL
		}
		return b.deps.mirrors.Sync(ctx, mirror.Request{
			Repository:     t.fullName(),
			CloneURL:       cloneURL,
			Token:          token,
			BaseBranch:     pr.BaseRef,
			PullNumber:     pr.Number,
			HeadBranch:     pr.HeadRef,
			SameRepository: pr.HeadRepo != "" && strings.EqualFold(pr.HeadRepo, t.fullName()),
			HeadSHA:        pr.HeadSHA,
		})
	}
}

// judge gathers the input of one pull request, asks the engine and returns
// the report, or the error that stopped it. A panic while judging (a bug in
// a loader or a rule) is an error too, so the check run it started is
// completed as a failure instead of staying in progress.
func (b *Bot) judge(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, pr *githubapi.PullRequest, snap snapshotFunc) (out prOutcome) {
	out = prOutcome{number: pr.Number, state: prState{number: pr.Number, baseRef: pr.BaseRef, labels: pr.Labels}}
	defer func() {
		if r := recover(); r != nil {
			out.report, out.err = report{}, fmt.Errorf("panic while judging: %v\n%s", r, debug.Stack())
		}
	}()
	s, err := snap(ctx)
	if err != nil {
		out.err = err
		return out
	}
	out.state.baseSHA = s.BaseCommit()
	in, reviews, err := b.input(ctx, logger, gh, t, pr, s)
	out.state.reviews = reviews
	if err != nil {
		out.err = err
		return out
	}
	res := b.cfg.Engine.Evaluate(in)
	if res == nil {
		out.err = errors.New("the policy engine returned no result")
		return out
	}
	if out.report, err = b.report(res); err != nil {
		out.err = err
	}
	return out
}

// input builds the engine's input: git content from the snapshot, the rest
// from the API. It also returns the reviews it read.
func (b *Bot) input(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, pr *githubapi.PullRequest, snap snapshot) (*evaluate.Input, []githubapi.Review, error) {
	commits, err := gh.PullRequestCommits(ctx, t.owner, t.name, pr.Number)
	if err != nil {
		return nil, nil, err
	}
	in, err := snap.BuildInput(ctx, gitrepo.InputOptions{Identities: evalinput.Identities(commits)})
	if err != nil {
		return nil, nil, err
	}
	in.PullRequest.Number = pr.Number
	in.PullRequest.Title = pr.Title
	in.PullRequest.Author = pr.Author
	in.PullRequest.BaseRef = pr.BaseRef
	in.PullRequest.Labels = pr.Labels

	reviews, err := gh.Reviews(ctx, t.owner, t.name, pr.Number)
	if err != nil {
		return nil, nil, err
	}
	in.Reviews = evalinput.Reviews(reviews)
	if in.Teams, err = evalinput.Teams(ctx, gh, in); err != nil {
		return nil, reviews, err
	}
	if in.WritePermission, err = evalinput.WritePermissions(ctx, gh, t.owner, t.name, in); err != nil {
		return nil, reviews, err
	}
	if b.cfg.Artifacts != nil && in.Policy != nil && in.Policy.Mode(policy.FamilyArtifacts) != policy.Off {
		base, err := snap.BaseFS()
		if err != nil {
			return nil, reviews, err
		}
		if err := b.cfg.Artifacts.VerifyArtifacts(ctx, in, base); err != nil {
			return nil, reviews, &artifactError{err: err}
		}
	}
	in.Now = b.cfg.Now()
	logger.Debug("input built", "changes", len(in.Changes), "commits", len(in.Commits),
		"reviews", len(in.Reviews), "teams", len(in.Teams))
	return in, reviews, nil
}
