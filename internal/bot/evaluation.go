package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	numbers, err := gh.OpenPullRequestsForCommit(ctx, t.owner, t.name, t.sha)
	if err != nil {
		return err
	}
	if len(numbers) == 0 {
		logger.Info("no open pull request has this head commit")
		return nil
	}
	var errs []error
	for _, n := range numbers {
		one := t
		one.number = n
		errs = append(errs, b.schedule(logger, one))
	}
	return errors.Join(errs...)
}

// evaluatePullRequest runs one evaluation and leaves a completed check run
// on the pull request's head, or, when even the in-progress check run
// cannot be created, nothing.
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
	start := time.Now()
	id, err := gh.CreateCheckRun(ctx, t.owner, t.name, ghclient.CheckRun{
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

	rep, evalErr := b.judge(ctx, logger, gh, t, pr)
	outcome := rep.conclusion
	if evalErr != nil {
		logger.Error("evaluation failed", "error", evalErr, "terminal", IsTerminal(evalErr))
		rep, outcome = failureReport(evalErr), "error"
	}
	postCtx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		postCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), postTimeout)
		defer cancel()
	}
	if err := b.complete(postCtx, gh, t, id, rep); err != nil {
		return errors.Join(evalErr, err)
	}
	b.cfg.Metrics.Evaluation(outcome, time.Since(start))
	logger.Info("check run completed", "conclusion", rep.conclusion, "title", rep.title,
		"annotations", len(rep.annotations), "elapsed", time.Since(start))
	return nil
}

// judge gathers the input, asks the engine and returns the report.
func (b *Bot) judge(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, pr *ghclient.PullRequest) (report, error) {
	in, err := b.input(ctx, logger, gh, t, pr)
	if err != nil {
		return report{}, err
	}
	res := b.cfg.Engine.Evaluate(in)
	if res == nil {
		return report{}, errors.New("the policy engine returned no result")
	}
	return b.report(res)
}

// input builds the engine's input: git content from the mirror, the rest
// from the API.
func (b *Bot) input(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, pr *ghclient.PullRequest) (*evaluate.Input, error) {
	token, err := gh.Token(ctx)
	if err != nil {
		return nil, err
	}
	cloneURL := pr.CloneURL
	if cloneURL == "" {
		cloneURL = t.cloneURL
	}
	snap, err := b.deps.mirrors.Sync(ctx, mirror.Request{
		Repository:     t.fullName(),
		CloneURL:       cloneURL,
		Token:          token,
		BaseBranch:     pr.BaseRef,
		PullNumber:     t.number,
		HeadBranch:     pr.HeadRef,
		SameRepository: pr.HeadRepo != "" && strings.EqualFold(pr.HeadRepo, t.fullName()),
		HeadSHA:        pr.HeadSHA,
	})
	if err != nil {
		return nil, err
	}
	commits, err := gh.PullRequestCommits(ctx, t.owner, t.name, t.number)
	if err != nil {
		return nil, err
	}
	in, err := snap.BuildInput(ctx, gitrepo.InputOptions{Identities: identities(commits)})
	if err != nil {
		return nil, err
	}
	in.PullRequest.Number = pr.Number
	in.PullRequest.Title = pr.Title
	in.PullRequest.Author = pr.Author
	in.PullRequest.BaseRef = pr.BaseRef
	in.PullRequest.Labels = pr.Labels

	reviews, err := gh.Reviews(ctx, t.owner, t.name, t.number)
	if err != nil {
		return nil, err
	}
	in.Reviews = convertReviews(reviews)
	if in.Teams, err = teams(ctx, gh, in); err != nil {
		return nil, err
	}
	if in.WritePermission, err = permissions(ctx, gh, t, in); err != nil {
		return nil, err
	}
	if b.cfg.Artifacts != nil && in.Policy != nil && in.Policy.Mode(policy.FamilyArtifacts) != policy.Off {
		base, err := snap.BaseFS()
		if err != nil {
			return nil, err
		}
		if err := b.cfg.Artifacts.VerifyArtifacts(ctx, in, base); err != nil {
			return nil, &artifactError{err: err}
		}
	}
	in.Now = b.cfg.Now()
	logger.Debug("input built", "changes", len(in.Changes), "commits", len(in.Commits),
		"reviews", len(in.Reviews), "teams", len(in.Teams))
	return in, nil
}
