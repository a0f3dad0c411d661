package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/example-org/promobot/internal/bot/webhook"
)

// onPush reacts to pushes. A push to the default branch moves the base of
// its open pull requests, whose rules, CODEOWNERS and manifests are read
// from that tip: each is evaluated again. With bypass detection or the
// audit export on, the pushed commits are also audited: the features
// listening to EventDefaultBranchPush get the push first.
func (b *Bot) onPush(ctx context.Context, d webhook.Delivery) error {
	var ev pushPayload
	if err := parse(d, &ev); err != nil {
		return err
	}
	branch, ok := strings.CutPrefix(ev.Ref, "refs/heads/")
	switch {
	case !ok:
		return webhook.Ignore("push to %s, not a branch", ev.Ref)
	case ev.Deleted:
		return webhook.Ignore("branch %s deleted", branch)
	case branch != ev.Repository.DefaultBranch:
		return webhook.Ignore("push to %s, not the default branch", branch)
	}
	t, err := newTarget(ev.payloadEnvelope)
	if err != nil {
		return err
	}
	logger := d.Logger.With(KeyRepo, t.fullName(), KeyInstallationID, t.installation, "branch", branch, KeySHA, ev.After)
	if len(b.featuresOf(EventDefaultBranchPush)) > 0 {
		err := b.dispatch(ctx, Event{
			Name: EventDefaultBranchPush, Delivery: d, Logger: logger,
			Repo: t.repo(branch), Push: &Push{Before: ev.Before, After: ev.After},
		})
		if err != nil && !errors.Is(err, webhook.ErrIgnored) {
			return err
		}
	}
	if b.durable != nil {
		return b.enqueue(logger, hint{V: hintVersion, Kind: hintBaseMoved, Event: d.Event, Delivery: d.ID,
			Installation: t.installation, Owner: t.owner, Repo: t.name, CloneURL: t.cloneURL, Ref: branch, SHA: ev.After})
	}
	key := jobKey{kind: jobBaseMoved, installation: t.installation, repo: strings.ToLower(t.fullName()), ref: branch}
	return b.submit(key, logger, func(ctx context.Context, logger *slog.Logger) error { return b.baseMoved(ctx, logger, t, branch) })
}

// baseMoved schedules the evaluation of every open pull request into
// branch, each with the pull request as listed now.
func (b *Bot) baseMoved(ctx context.Context, logger *slog.Logger, t target, branch string) error {
	gh, err := b.deps.client(t.installation)
	if err != nil {
		return err
	}
	prs, err := gh.OpenPullRequests(ctx, t.owner, t.name, branch)
	if err != nil {
		return err
	}
	logger.Info("base branch moved; evaluating its open pull requests", "pull_requests", len(prs))
	var errs []error
	for _, pr := range prs {
		if pr.HeadSHA != "" {
			errs = append(errs, b.schedule(logger, t.withPullRequest(pr)))
		}
	}
	return errors.Join(errs...)
}
