package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/githubapi"
)

// The check run that concludes an evaluation nobody will finish on a commit
// no open pull request has as its head any more.
const (
	conclusionNeutral = "neutral"
	supersededTitle   = "superseded"
	supersededSummary = "This commit is no longer the head of an open pull request, and the evaluation that started this check run did not finish " +
		"(the replica running it stopped). The pull request's current head has a check run of its own.\n"
)

// supersededDepth is how many of a pull request's commits before its head
// the resynchronization looks at for a check run left in progress: an
// ordinary push moves the head by a commit or a few. A force push drops
// the old head from the pull request's commits, so it is not found here:
// the synchronize delivery names it (before), and scheduleSuperseded
// looks at it then.
const supersededDepth = 3

// abandonedAfter is how long a check run may stay in progress before it is
// taken for abandoned by a replica that stopped: one lease period when
// leases expire (its writer would have stopped writing by then, or renewed
// and finished), else the job timeout with some slack.
func (b *Bot) abandonedAfter() time.Duration {
	if b.cfg.Leases != nil && b.cfg.Leases.Period() > 0 {
		return b.cfg.Leases.Period()
	}
	return b.jobTimeout() + resyncSlack
}

// abandoned reports whether run is in progress for longer than a live
// evaluation may leave it so.
func (b *Bot) abandoned(run *githubapi.ExistingCheckRun) bool {
	return run.Status != githubapi.StatusCompleted &&
		(run.StartedAt.IsZero() || b.cfg.Now().Sub(run.StartedAt) > b.abandonedAfter())
}

// concludeSuperseded completes, as neutral and titled "superseded", the
// bot's check runs left in progress on the commits just before the heads
// of the open pull requests prs, unless the commit is still the head of one
// (heads). A check run in progress on a commit nobody evaluates any more
// would otherwise stay so forever.
func (b *Bot) concludeSuperseded(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, prs []*githubapi.PullRequest, heads map[string][]*githubapi.PullRequest) error {
	seen := map[string]bool{}
	var errs []error
	for _, pr := range prs {
		if pr.Number <= 0 || pr.HeadSHA == "" {
			continue
		}
		commits, err := gh.PullRequestCommits(ctx, t.owner, t.name, pr.Number)
		if err != nil {
			errs = append(errs, fmt.Errorf("pull request #%d: %w", pr.Number, err))
			continue
		}
		looked := 0
		for i := len(commits) - 1; i >= 0 && looked < supersededDepth; i-- {
			sha := commits[i].SHA
			if sha == "" || sha == pr.HeadSHA {
				continue
			}
			looked++
			if _, open := heads[sha]; open || seen[sha] {
				continue
			}
			seen[sha] = true
			if err := b.concludeIfAbandoned(ctx, logger, gh, t, pr.Number, sha); err != nil {
				errs = append(errs, fmt.Errorf("commit %s: %w", sha, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (b *Bot) concludeIfAbandoned(ctx context.Context, logger *slog.Logger, gh githubAPI, t target, number int, sha string) error {
	run, err := gh.LatestCheckRun(ctx, t.owner, t.name, sha, b.cfg.CheckName, b.cfg.AppID)
	if err != nil || run == nil || !b.abandoned(run) {
		return err
	}
	err = b.concludeAsSuperseded(ctx, gh, t, run)
	if err == nil {
		logger.Info("resync: a check run left in progress on a former head concluded as superseded",
			KeyRepo, t.fullName(), KeyPR, number, KeySHA, sha, "check_run", run.ID)
	}
	return err
}

// concludeAsSuperseded completes run as neutral, titled "superseded".
func (b *Bot) concludeAsSuperseded(ctx context.Context, gh githubAPI, t target, run *githubapi.ExistingCheckRun) error {
	return gh.UpdateCheckRun(ctx, t.owner, t.name, run.ID, githubapi.CheckRun{
		Name: b.cfg.CheckName, Status: githubapi.StatusCompleted, Conclusion: conclusionNeutral,
		CompletedAt: b.cfg.Now(), Output: &githubapi.Output{Title: supersededTitle, Summary: supersededSummary},
	})
}

// scheduleSuperseded queues, for a synchronize delivery on the in-memory
// queue, the look at the pull request's former head (the delivery's
// before) that concludes a check run left in progress there: after a
// force push that head is no longer among the pull request's commits, so
// the resynchronization (concludeSuperseded) would never find it. It is a
// job of its own, which the pull request's later jobs do not coalesce
// away. On the durable queue the pull request's message carries the
// former head instead (target.former), which saves a second message.
func (b *Bot) scheduleSuperseded(d webhook.Delivery, ev pullRequestPayload) error {
	before := formerHead(ev)
	if before == "" {
		return nil
	}
	t, err := newTarget(ev.payloadEnvelope)
	if err != nil {
		return err
	}
	t.number = ev.PullRequest.Number
	logger := t.logger(d.Logger).With("former_head", before)
	key := jobKey{kind: jobSuperseded, installation: t.installation, repo: strings.ToLower(t.fullName()), number: t.number, ref: before}
	return b.submit(key, logger, func(ctx context.Context, logger *slog.Logger) error { return b.supersede(ctx, logger, t, before) })
}

// formerHead returns the head a synchronize delivery moved the pull
// request from (its before), or "" for any other delivery or a before that
// is no other commit.
func formerHead(ev pullRequestPayload) string {
	if ev.Action != "synchronize" || !commitHash.MatchString(ev.Before) || ev.Before == ev.PullRequest.Head.SHA {
		return ""
	}
	return ev.Before
}

// supersede concludes, as neutral and titled "superseded", the bot's check
// run left in progress on former, a former head of t's pull request, once
// no evaluation of the pull request can still be writing it: the job
// waits for the pull request's lease, which every evaluation holds while
// it writes its check run, so an evaluation still running finishes first,
// and one whose replica died has let its lease expire. A former head that
// is the head of an open pull request again (or still) is left to that
// pull request's evaluation. Most former heads carry a completed check
// run: that costs one read.
func (b *Bot) supersede(ctx context.Context, logger *slog.Logger, t target, former string) error {
	gh, err := b.deps.client(t.installation)
	if err != nil {
		return err
	}
	run, err := gh.LatestCheckRun(ctx, t.owner, t.name, former, b.cfg.CheckName, b.cfg.AppID)
	if err != nil || run == nil || run.Status == githubapi.StatusCompleted {
		return err
	}
	prs, err := gh.PullRequestsWithHead(ctx, t.owner, t.name, former)
	if err != nil {
		return err
	}
	for _, pr := range prs {
		if pr.State == "open" && pr.HeadSHA == former {
			logger.Info("the former head is the head of an open pull request; its evaluation concludes its check run", "head_of", pr.Number)
			return nil
		}
	}
	gh, release, err := b.hold(ctx, gh, pullLeaseName(t, nil))
	if err != nil {
		return err
	}
	defer release()
	// The evaluation that held the lease may have completed the run.
	if run, err = gh.LatestCheckRun(ctx, t.owner, t.name, former, b.cfg.CheckName, b.cfg.AppID); err != nil || run == nil || run.Status == githubapi.StatusCompleted {
		return err
	}
	if err := b.concludeAsSuperseded(ctx, gh, t, run); err != nil {
		return err
	}
	logger.Info("a check run left in progress on a former head concluded as superseded", "check_run", run.ID)
	return nil
}
