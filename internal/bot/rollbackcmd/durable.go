package rollbackcmd

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/githubapi"
)

// RunJob answers a command taken from the durable queue (bot.JobRunner).
// The message names a comment; everything else is read from GitHub again:
// the comment by its id (its author, and its body as it is now), that it
// is on the pull request the message names, and the repository's default
// branch. A comment deleted since, by a bot, or holding no command any
// more asks nothing. runCommand looks for its reply before answering, so a
// message taken twice answers once.
func (f *Feature) RunJob(ctx context.Context, logger *slog.Logger, job bot.FeatureJob) error {
	id, err := strconv.ParseInt(job.Ref, 10, 64)
	if job.Kind != "command" || err != nil || id <= 0 || job.Number <= 0 {
		logger.Warn("chat-ops: dropping a job that names no command", "kind", job.Kind, "ref", job.Ref)
		return nil
	}
	t := featurekit.NewTarget(job.Repo)
	t.Number = job.Number
	gh, err := f.opts.Client(t.Installation)
	if err != nil {
		return err
	}
	cm, err := gh.IssueComment(ctx, t.Owner, t.Name, id)
	switch {
	case githubapi.IsNotFound(err):
		logger.Info("chat-ops: the comment is gone; nothing to answer", "comment_id", id)
		return nil
	case err != nil:
		return err
	case !strings.HasSuffix(cm.IssueURL, fmt.Sprintf("/issues/%d", t.Number)):
		logger.Warn("chat-ops: the comment is not on the pull request the job names; dropped", "comment_id", id, "issue_url", cm.IssueURL)
		return nil
	case isBotAccount(cm.Author, cm.AuthorType):
		return nil
	}
	name, ok := parseCommand(cm.Body)
	if !ok {
		logger.Info("chat-ops: the comment holds no command any more", "comment_id", id)
		return nil
	}
	repo, err := featurekit.Reread(ctx, gh, job.Repo)
	if err != nil {
		return err
	}
	t.CloneURL = repo.CloneURL
	c := command{name: name, commentID: id, author: cm.Author, branch: repo.DefaultBranch}
	return f.runCommand(ctx, t.Logger(logger).With("comment_id", id, "command", name, "commenter", cm.Author), t, c)
}
