// Package accessreviewissue keeps, opt-in and on a schedule, one
// access-review issue per repository up to date with the findings of
// promobot's access review (internal/accessreview).
//
// Job.Run does one pass for one repository; Feature runs it at the bot's
// resynchronization passes, at most once per interval. The review itself
// is injected (Reviewer), so Job holds no GitHub or git plumbing beyond
// the issue it keeps.
package accessreviewissue

import (
	"context"
	"log/slog"

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

func (j *Job) logger() *slog.Logger {
	if j.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Logger
}
