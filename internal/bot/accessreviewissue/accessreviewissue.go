// Package accessreviewissue keeps, opt-in and on a schedule, one
// access-review issue per repository up to date with the findings of
// promobot's access review (internal/accessreview).
//
// Run does one pass for one repository; Loop runs passes on an interval.
// The review itself is injected (Reviewer), so the package holds no GitHub
// or git plumbing beyond the issue it keeps.
package accessreviewissue

import (
	"context"
	"log/slog"
	"time"

	"github.com/example-org/promobot/internal/accessreview"
	"github.com/example-org/promobot/internal/bot/keptissue"
)

// Title is the title of the kept issue.
const Title = "promobot access review"

// Reviewer reviews the access to one repository.
type Reviewer func(ctx context.Context, repo keptissue.Repo) (accessreview.Report, error)

// Job keeps the access-review issues.
type Job struct {
	// Review reviews one repository.
	Review Reviewer
	// Issues reads and writes the issues.
	Issues keptissue.Issues
	// Author is the bot's login: only its own issue is edited. Empty
	// means any author.
	Author string
	// Logger receives one line per pass; nil discards.
	Logger *slog.Logger
}

// Run reviews repo and makes its access-review issue show the report. The
// issue is opened on the first findings; once open it is kept, saying when
// there are none.
func (j *Job) Run(ctx context.Context, repo keptissue.Repo) error {
	rep, err := j.Review(ctx, repo)
	if err != nil {
		return err
	}
	body := accessreview.Markdown(rep) + "\n\n<!-- promobot:access-review -->\n"
	number, err := keptissue.Keep(ctx, j.Issues, repo, j.Author, Title, body, len(rep.Findings) > 0)
	if err != nil {
		return err
	}
	j.logger().Info("access review", "repo", repo.String(), "findings", len(rep.Findings), "unsatisfiable", rep.Unsatisfiable, "issue", number)
	return nil
}

// Loop runs a pass over the repositories repos returns every interval,
// starting at once, until ctx ends. A failing repository is logged and
// retried at the next pass.
func (j *Job) Loop(ctx context.Context, interval time.Duration, repos func(context.Context) ([]keptissue.Repo, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		list, err := repos(ctx)
		if err != nil {
			j.logger().Warn("access review: list repositories", "err", err)
		}
		for _, r := range list {
			if err := j.Run(ctx, r); err != nil {
				j.logger().Warn("access review failed", "repo", r.String(), "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (j *Job) logger() *slog.Logger {
	if j.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Logger
}
