package rollbackcmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/codeowners"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/promote"
)

// Chat-ops, part two: "/promobot rollback" in a comment on a merged
// promotion pull request opens the pull request that rolls it back, when
// the commenter owns every manifest it changed, as the CODEOWNERS of the
// default branch's tip say, and may write to the repository. The bot
// answers every command with one comment, which carries a marker naming
// the command's comment, so no command is answered or acted on twice.

// command is a chat-ops command read from a comment.
type command struct {
	// name is the word after "/promobot", "" when there is none.
	name      string
	commentID int64
	author    string
	// branch is the repository's default branch.
	branch string
}

// parseCommand finds the first line of a comment that starts with
// "/promobot", outside fenced code blocks and quotes, and returns the word
// after it.
func parseCommand(body string) (string, bool) {
	fenced := false
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "```") || strings.HasPrefix(line, "~~~") {
			fenced = !fenced
			continue
		}
		fields := strings.Fields(line)
		if fenced || len(fields) == 0 || fields[0] != "/promobot" {
			continue
		}
		if len(fields) == 1 {
			return "", true
		}
		return strings.ToLower(fields[1]), true
	}
	return "", false
}

// issueCommentPayload is an issue_comment delivery, reduced to the fields
// chat-ops reads.
type issueCommentPayload struct {
	Action     string `json:"action"`
	Repository struct {
		DefaultBranch string `json:"default_branch"`
	} `json:"repository"`
	Issue struct {
		Number int `json:"number"`
		// PullRequest is present when the issue is a pull request's.
		PullRequest *struct{} `json:"pull_request"`
	} `json:"issue"`
	Comment struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
		User struct {
			Login string `json:"login"`
			// Type is "User", "Bot" or "Organization".
			Type string `json:"type"`
		} `json:"user"`
	} `json:"comment"`
}

// onIssueComment takes a "/promobot" command from a new comment on a pull
// request and queues its answer.
func (f *Feature) onIssueComment(d webhook.Delivery) error {
	var ev issueCommentPayload
	if err := bot.ParsePayload(d, &ev); err != nil {
		return err
	}
	author := ev.Comment.User
	switch {
	case ev.Action != "created":
		return webhook.Ignore("action %q", ev.Action)
	case ev.Issue.PullRequest == nil:
		return webhook.Ignore("a comment on an issue, not a pull request")
	case isBotAccount(author.Login, author.Type):
		return webhook.Ignore("a comment by a bot")
	}
	name, ok := parseCommand(ev.Comment.Body)
	if !ok {
		return webhook.Ignore("no /promobot command")
	}
	repo, err := bot.RepoOf(d)
	if err != nil {
		return err
	}
	t := featurekit.NewTarget(repo)
	c := command{name: name, commentID: ev.Comment.ID, author: author.Login, branch: ev.Repository.DefaultBranch}
	if t.Number = ev.Issue.Number; t.Number <= 0 || c.commentID <= 0 || c.author == "" || c.branch == "" {
		return webhook.BadRequest(errors.New("a comment without an issue number, comment id, author or default branch"))
	}
	if !f.comments.add(c.commentID) {
		return webhook.Ignore("comment %d already taken", c.commentID)
	}
	logger := t.Logger(d.Logger).With("comment_id", c.commentID, "command", c.name, "commenter", c.author)
	job := bot.FeatureJob{Repo: repo, Number: t.Number, Kind: "command", Ref: strconv.FormatInt(c.commentID, 10)}
	err = f.host.SubmitJob(job, logger, func(ctx context.Context, logger *slog.Logger) error { return f.runCommand(ctx, logger, t, c) })
	if err != nil {
		f.comments.forget(c.commentID)
	}
	return err
}

// runCommand answers one command.
func (f *Feature) runCommand(ctx context.Context, logger *slog.Logger, t target, c command) error {
	j, err := f.opts.StartJob(ctx, t.Installation)
	if err != nil {
		return err
	}
	mark := featurekit.Marker("reply-to", strconv.FormatInt(c.commentID, 10))
	if done, err := featurekit.Answered(ctx, j.GitHub, j.Bot, t.Owner, t.Name, t.Number, mark); err != nil || done {
		if done {
			f.host.Metrics().ChatOps("rollback", "duplicate")
			logger.Info("chat-ops: the command was answered already")
		}
		return err
	}
	var outcome, text string
	if c.name == "rollback" {
		outcome, text, err = f.rollbackCommand(ctx, logger, j, t, c)
	} else {
		outcome = "unknown_command"
		text = "promobot understands one command: `/promobot rollback`, on a merged promotion pull request, opens the pull request that rolls it back."
	}
	f.host.Metrics().ChatOps("rollback", outcome)
	logger.Info("chat-ops command answered", "outcome", outcome)
	reply := fmt.Sprintf("@%s %s\n\n%s", c.author, text, mark)
	if _, cerr := j.GitHub.CreateComment(ctx, t.Owner, t.Name, t.Number, reply); cerr != nil {
		return errors.Join(err, cerr)
	}
	return err
}

// rollbackCommand opens the rollback of t's pull request for c.author when
// it is a merged promotion and the author owns what it changed. It returns
// the outcome for metrics, the reply, and the error that stopped it, if any.
func (f *Feature) rollbackCommand(ctx context.Context, logger *slog.Logger, j *featureJob, t target, c command) (string, string, error) {
	pr, err := j.GitHub.PullRequest(ctx, t.Owner, t.Name, t.Number)
	if err != nil {
		return "error", "promobot could not read this pull request: " + featurekit.RetryHint(failure.IsTerminal(err)), err
	}
	switch {
	case !pr.Merged || pr.MergeCommitSHA == "":
		return "not_merged", fmt.Sprintf("#%d is not merged, so there is nothing to roll back.", t.Number), nil
	case pr.BaseRef != c.branch:
		return "not_promotion", fmt.Sprintf("#%d merged into `%s`; promobot rolls back only what merged into `%s`.", t.Number, pr.BaseRef, c.branch), nil
	}
	ws, unlock, err := f.opts.Open(ctx, t, j.Token, c.branch)
	if err != nil {
		return "error", "promobot could not fetch the repository: " + featurekit.RetryHint(false), err
	}
	defer unlock()
	repo, h, err := ws.History(ctx)
	if err != nil {
		return "error", "promobot could not read the repository's history: " + featurekit.RetryHint(false), err
	}
	records := featurekit.RecordsOf(h, pr.MergeCommitSHA)
	_ = repo.Close()
	var paths []string
	for _, r := range records {
		if !slices.Contains(paths, r.Path) {
			paths = append(paths, r.Path)
		}
	}
	if len(paths) == 0 {
		return "not_promotion", fmt.Sprintf("#%d is not a promotion pull request: its merge changed no manifest under `environments/`.", t.Number), nil
	}
	owner, why, err := mayRollBack(ctx, j.GitHub, t, ws, c.author, paths)
	switch {
	case err != nil:
		return "error", "promobot could not check who owns the manifests: " + featurekit.RetryHint(failure.IsTerminal(err)), err
	case !owner:
		return "not_owner", "promobot rolls back only for an owner of the manifests: " + why + ". Nothing was opened.", nil
	}
	// The commenter asked for this change: as its co-author they cannot
	// approve it, so a rollback still needs other owners' eyes.
	out, err := f.executor(j, t, ws, logger).RollbackPullRequest(ctx, t.Number, promote.Options{OnBehalfOf: []string{c.author}})
	var (
		refused *promote.RefusedError
		nothing *promote.NothingToDoError
	)
	switch {
	case err == nil && out.PullRequest != nil && out.PullRequest.Created:
		return "opened", fmt.Sprintf("opened #%d to roll back #%d. It needs the approvals of the environment's owners, like any change to it.", out.PullRequest.Number, t.Number), nil
	case err == nil && out.PullRequest != nil:
		return "updated", fmt.Sprintf("the rollback of #%d is already open: #%d (brought up to date).", t.Number, out.PullRequest.Number), nil
	case errors.As(err, &nothing):
		return "nothing_to_do", "nothing to roll back: " + strings.ReplaceAll(nothing.Message, "`", "'") + ".", nil
	case errors.As(err, &refused):
		return "refused", fmt.Sprintf("promobot cannot roll back #%d:\n\n%s", t.Number, featurekit.Quoted(refused.Reasons)), nil
	case err == nil:
		err = errors.New("the rollback opened no pull request")
	}
	logger.Error("rollback failed", "error", err, "terminal", failure.IsTerminal(err))
	return "error", "promobot could not open the rollback pull request: " + featurekit.RetryHint(failure.IsTerminal(err)), err
}

// mayRollBack reports whether login may have the bot roll back a change of
// paths: an owner of every one of them per the CODEOWNERS of the default
// branch's tip (a user owner, or an active member of a team owner, looked
// up as the evaluation does), with write access. why says who owns what
// when not. Anything that cannot be established is an error: fail closed.
func mayRollBack(ctx context.Context, gh API, t target, ws *workspace.Workspace, login string, paths []string) (bool, string, error) {
	files, err := ws.Files(ws.Tip.String())
	if err != nil {
		return false, "", err
	}
	_, data, err := codeowners.Find(func(p string) ([]byte, bool, error) {
		data, err := fs.ReadFile(files, p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return data, err == nil, err
	})
	switch {
	case errors.Is(err, codeowners.ErrNotFound):
		return false, "the default branch has no CODEOWNERS file, so the manifests have no owner", nil
	case err != nil:
		return false, "", err
	}
	owners, _ := codeowners.Parse(data)
	members := map[string][]string{}
	for _, p := range paths {
		rule, ok := owners.Match(p)
		if !ok || len(rule.Owners) == 0 {
			return false, fmt.Sprintf("`%s` has no code owner", p), nil
		}
		owned := false
		var names []string
		for _, o := range rule.Owners {
			names = append(names, "`"+o.String()+"`")
			switch o.Kind {
			case codeowners.OwnerUser:
				owned = owned || strings.EqualFold(o.Name(), login)
			case codeowners.OwnerTeam:
				list, seen := members[o.Name()]
				if !seen {
					org, slug, _ := strings.Cut(o.Name(), "/")
					list, err = gh.TeamMembers(ctx, org, slug)
					if err != nil && !githubapi.IsNotFound(err) {
						return false, "", err
					}
					members[o.Name()] = list
				}
				owned = owned || slices.ContainsFunc(list, func(m string) bool { return strings.EqualFold(m, login) })
			}
		}
		if !owned {
			return false, fmt.Sprintf("`%s` is owned by %s", p, strings.Join(names, ", ")), nil
		}
	}
	perm, err := gh.Permission(ctx, t.Owner, t.Name, login)
	switch {
	case githubapi.IsNotFound(err):
		perm = "none"
	case err != nil:
		return false, "", err
	}
	if perm != "admin" && perm != "maintain" && perm != "write" {
		return false, "an owner also needs write access to the repository", nil
	}
	return true, "", nil
}
