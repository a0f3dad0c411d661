package attestissue

import (
	"context"
	"log/slog"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
)

// RunJob issues the attestations of a push taken from the durable queue
// (bot.JobRunner). The message names the push's commits; the repository's
// default branch is read from GitHub again, the mirror is synced up to the
// pushed commit on that branch, and every merge is judged from GitHub's
// state as the in-memory job judges it, so a forged message attests
// nothing that is not green. Issuing is idempotent (an attestation already
// stored for a pin is not issued again), so a message taken twice issues
// once.
func (f *Feature) RunJob(ctx context.Context, logger *slog.Logger, job bot.FeatureJob) error {
	if job.Kind != "merge" || !bot.IsCommitHash(job.SHA) {
		logger.Warn("attestations: dropping a job that names no push", "kind", job.Kind)
		return nil
	}
	gh, err := f.opts.Client(job.Repo.Installation)
	if err != nil {
		return err
	}
	repo, err := featurekit.Reread(ctx, gh, job.Repo)
	if err != nil {
		return err
	}
	return f.issueMerges(ctx, logger, repo, job.Before, job.SHA)
}
