package attestissue

import (
	"context"
	"log/slog"

	"github.com/example-org/promobot/internal/bot"
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
	repo := job.Repo
	gh, err := f.opts.Client(repo.Installation)
	if err != nil {
		return err
	}
	r, err := gh.Repository(ctx, repo.Owner, repo.Name)
	if err != nil {
		return err
	}
	repo.DefaultBranch = r.DefaultBranch
	if r.CloneURL != "" {
		repo.CloneURL = r.CloneURL
	}
	return f.issueMerges(ctx, logger, repo, job.Before, job.SHA)
}
