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

	"github.com/example-org/promobot/internal/bot/ghclient"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/evaluate"
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
// request and leaves a completed check run on it, or, when even the
// in-progress check run cannot be created, nothing. Every open pull
// request with the same head is evaluated, and the check run passes only
// when all of them pass. A pull request that is not open gets no write.
func (b *Bot) evaluatePullRequest(ctx context.Context, logger *slog.Logger, gh githubAPI, t target) error {
	pr := t.pr
	if pr == nil {
		var err error
		if pr, err = gh.PullRequest(ctx, t.owner, t.name, t.number); err != nil {
			return err
		}
		if t.sha == "" {
			logger = logger.With(KeySHA, pr.HeadSHA)
		}
	}
	if pr.State != "open" {
		logger.Info("pull request is not open; not evaluated", "state", pr.State)
		return nil
	}
	if pr.HeadSHA == "" || pr.BaseRef == "" {
		return fmt.Errorf("pull request %s#%d has no head commit or base branch", t.fullName(), t.number)
	}
	unlock, err := b.heads.lock(ctx, strings.ToLower(t.fullName())+"@"+pr.HeadSHA)
	if err != nil {
		return err
	}
	defer unlock()
	if t.recheck != nil {
		return b.recheck(ctx, logger, gh, t, pr)
	}

	start := time.Now()
	id, listed, err := gh.StartCheckRun(ctx, t.owner, t.name, ghclient.CheckRun{
		Name:      b.cfg.CheckName,
		HeadSHA:   pr.HeadSHA,
		Status:    ghclient.StatusInProgress,
		StartedAt: b.cfg.Now(),
		Output: &ghclient.Output{
			Title:   "Evaluating",
			Summary: "promobot is checking this pull request against the policy and CODEOWNERS of its base branch.",
		},
	})
	if err != nil {
		return err
	}
	var rep report
	if group, err := b.sharingHead(ctx, gh, t, pr, listed); err != nil {
		// Without the others, a stricter pull request with the same head
		// could be missed: fail closed.
		rep = failureReport(err)
	} else {
		rep = combine(b.judgeAll(ctx, logger, gh, t, group))
	}
	return b.conclude(ctx, logger, gh, t, id, rep, start)
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
	outcome := rep.conclusion
	if rep.cause != nil {
		outcome = "error"
	}
	b.cfg.Metrics.Evaluation(outcome, time.Since(start))
	logger.Info("check run completed", "conclusion", rep.conclusion, "title", rep.title,
		"annotations", len(rep.annotations), "elapsed", time.Since(start))
	return nil
}

// recheck evaluates a head again without writing anything unless the
// verdict or its title differ from the check run t.recheck; then it posts
// a new check run. An evaluation that cannot complete leaves the check run
// as it is: it was a verdict on the same commit, and the next pass tries
// again.
func (b *Bot) recheck(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, pr *ghclient.PullRequest) error {
	start := time.Now()
	group := t.group
	if len(group) == 0 {
		group = []*ghclient.PullRequest{pr}
	}
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
	id, err := gh.CreateCheckRun(ctx, t.owner, t.name, ghclient.CheckRun{
		Name: b.cfg.CheckName, HeadSHA: pr.HeadSHA, Status: ghclient.StatusInProgress, StartedAt: b.cfg.Now(),
		Output: &ghclient.Output{Title: "Evaluating", Summary: "promobot's periodic re-check found a different verdict."},
	})
	if err != nil {
		return err
	}
	return b.conclude(ctx, logger, gh, t, id, rep, start)
}

// sharingHead returns the open pull requests whose head is pr's, ordered by
// number, pr included: a check run belongs to a commit, and GitHub shows it
// on each of them. listed are the numbers GitHub listed on the new check
// run (open pull requests of this repository with that head); each other
// one is read afresh, and kept if it is still open with that head.
func (b *Bot) sharingHead(ctx context.Context, gh githubAPI, t target, pr *ghclient.PullRequest, listed []int) ([]*ghclient.PullRequest, error) {
	group := []*ghclient.PullRequest{pr}
	for _, n := range listed {
		if n == pr.Number {
			continue
		}
		other, err := gh.PullRequest(ctx, t.owner, t.name, n)
		if err != nil {
			return nil, err
		}
		if other.State == "open" && other.HeadSHA == pr.HeadSHA {
			group = append(group, other)
		}
	}
	slices.SortFunc(group, func(a, b *ghclient.PullRequest) int { return cmp.Compare(a.Number, b.Number) })
	return group, nil
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
func (b *Bot) judgeAll(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, group []*ghclient.PullRequest) []prOutcome {
	out := make([]prOutcome, 0, len(group))
	for _, pr := range group {
		one := t.withPullRequest(pr)
		l := logger
		if len(group) > 1 {
			l = logger.With("evaluated_pr", pr.Number)
		}
		o := b.judge(ctx, l, gh, one, pr, b.pullSnapshot(gh, one, pr))
		if o.err != nil {
			l.Error("evaluation failed", "error", o.err, "terminal", IsTerminal(o.err))
		}
		out = append(out, o)
	}
	return out
}

// snapshotFunc gets the git side of an evaluation.
type snapshotFunc func(ctx context.Context) (snapshot, error)

// pullSnapshot fetches a pull request's base branch tip and head.
func (b *Bot) pullSnapshot(gh githubAPI, t target, pr *ghclient.PullRequest) snapshotFunc {
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
func (b *Bot) judge(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, pr *ghclient.PullRequest, snap snapshotFunc) (out prOutcome) {
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
func (b *Bot) input(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, pr *ghclient.PullRequest, snap snapshot) (*evaluate.Input, []ghclient.Review, error) {
	commits, err := gh.PullRequestCommits(ctx, t.owner, t.name, pr.Number)
	if err != nil {
		return nil, nil, err
	}
	in, err := snap.BuildInput(ctx, gitrepo.InputOptions{Identities: identities(commits)})
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
	in.Reviews = convertReviews(reviews)
	if in.Teams, err = teams(ctx, gh, in); err != nil {
		return nil, reviews, err
	}
	if in.WritePermission, err = permissions(ctx, gh, t, in); err != nil {
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
