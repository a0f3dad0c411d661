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
	t := featurekit.NewTarget(job.Repo)
	t.Number = job.Number
	gh, err := f.opts.Client(t.Installation)
	if err != nil {
		return err
	}
	pr, err := gh.PullRequest(ctx, t.Owner, t.Name, t.Number)
	if err != nil {
		return err
	}
	repo, err := gh.Repository(ctx, t.Owner, t.Name)
	if err != nil {
		return err
	}
	if !pr.Merged || pr.MergeCommitSHA != job.SHA || pr.BaseRef != repo.DefaultBranch {
		logger.Warn("autoPropose: the pull request is not merged into the default branch as the job says; dropped",
			"merged", pr.Merged, "merge_commit", pr.MergeCommitSHA, "base", pr.BaseRef)
		return nil
	}
	t.SHA = pr.MergeCommitSHA
	if repo.CloneURL != "" {
		t.CloneURL = repo.CloneURL
	}
	return f.proposeNext(ctx, logger, t, repo.DefaultBranch)
}
