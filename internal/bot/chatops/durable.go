package chatops

import (
	"context"
	"log/slog"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
)

// RunJob proposes the next promotion after a merge taken from the durable
// queue (bot.JobRunner). The message names a pull request and its merge
// commit; both are read from GitHub again: the pull request must be merged
// as that commit into the repository's default branch, as GitHub has it
// now. proposeNext looks for its own note on the merged pull request
// before proposing, so a message taken twice proposes once.
func (f *Feature) RunJob(ctx context.Context, logger *slog.Logger, job bot.FeatureJob) error {
	if job.Kind != "merged" || job.Number <= 0 || !bot.IsCommitHash(job.SHA) {
		logger.Warn("autoPropose: dropping a job that names no merge", "kind", job.Kind)
		return nil
	}
	gh, err := f.opts.Client(job.Repo.Installation)
	if err != nil {
		return err
	}
	pr, err := gh.PullRequest(ctx, job.Repo.Owner, job.Repo.Name, job.Number)
	if err != nil {
		return err
	}
	repo, err := featurekit.Reread(ctx, gh, job.Repo)
	if err != nil {
		return err
	}
	if !pr.Merged || pr.MergeCommitSHA != job.SHA || pr.BaseRef != repo.DefaultBranch {
		logger.Warn("autoPropose: the pull request is not merged into the default branch as the job says; dropped",
			"merged", pr.Merged, "merge_commit", pr.MergeCommitSHA, "base", pr.BaseRef)
		return nil
	}
	t := featurekit.NewTarget(repo)
	t.Number, t.SHA = job.Number, pr.MergeCommitSHA
	return f.proposeNext(ctx, logger, t, repo.DefaultBranch)
}
