package bot

import (
	"context"
	"errors"

	"github.com/example-org/promobot/internal/bot/webhook"
)

// onClosed reacts to a merged pull request: the features listening to
// EventMerged (chat-ops proposes the next promotion, the audit looks at the
// merge once GitHub has associated it) get the merge.
func (b *Bot) onClosed(ctx context.Context, d webhook.Delivery, ev pullRequestPayload) error {
	pr := ev.PullRequest
	branch := ev.Repository.DefaultBranch
	switch {
	case !pr.Merged:
		return webhook.Ignore("closed without merging")
	case branch == "" || pr.Base.Ref != branch:
		return webhook.Ignore("merged into %s, not the default branch", pr.Base.Ref)
	case len(b.featuresOf(EventMerged)) == 0:
		return webhook.Ignore("merged; no optional feature is on")
	}
	t, err := newTarget(ev.payloadEnvelope)
	if err != nil {
		return err
	}
	if t.number = pr.Number; t.number <= 0 || !commitHash.MatchString(pr.MergeCommitSHA) {
		return webhook.BadRequest(errors.New("a merged pull request without a number or merge commit"))
	}
	t.sha = pr.MergeCommitSHA
	return b.dispatch(ctx, Event{
		Name: EventMerged, Delivery: d, Logger: t.logger(d.Logger),
		Repo:  t.repo(branch),
		Merge: &Merge{Number: t.number, MergeCommit: t.sha},
	})
}
