package bot

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/bot/webhook"
)

// onPush reacts to pushes. A push to the default branch moves the base of
// its open pull requests, whose rules, CODEOWNERS and manifests are read
// from that tip: each is evaluated again. Other reactions to pushes (such
// as detecting a push that bypassed the check) belong here too, each
// scheduling its own job.
func (b *Bot) onPush(_ context.Context, d webhook.Delivery) error {
	var ev github.PushEvent
	if err := parse(d, &ev); err != nil {
		return err
	}
	repo := ev.GetRepo()
	branch, ok := strings.CutPrefix(ev.GetRef(), "refs/heads/")
	switch {
	case !ok:
		return webhook.Ignore("push to %s, not a branch", ev.GetRef())
	case ev.GetDeleted():
		return webhook.Ignore("branch %s deleted", branch)
	case branch != repo.GetDefaultBranch():
		return webhook.Ignore("push to %s, not the default branch", branch)
	}
	owner := repo.GetOwner().GetLogin()
	if owner == "" {
		owner = repo.GetOwner().GetName()
	}
	t := target{installation: ev.GetInstallation().GetID(), owner: owner, name: repo.GetName(), cloneURL: repo.GetCloneURL()}
	switch {
	case t.installation <= 0:
		return webhook.BadRequest(errors.New("no installation id: is the webhook configured on the App?"))
	case t.owner == "" || t.name == "":
		return webhook.BadRequest(errors.New("no repository owner or name"))
	}
	logger := d.Logger.With(KeyRepo, t.fullName(), KeyInstallationID, t.installation, "branch", branch, KeySHA, ev.GetAfter())
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
