// Package featurekit holds what the bot's features that act in a
// repository as the App share, so each piece has one home:
//
//   - the start of a job (client, bot login, installation token: StartJob,
//     Job) and the audit options of the App's own check (Job.Assess);
//   - the options and API of a feature that works in the repositories'
//     workspaces as the App (AppOptions, AppAPI);
//   - the pull request or repository a job is about, with its job key and
//     log attributes (Target);
//   - the workspace of the default branch with its audit history
//     (OpenDefaultBranch);
//   - the promote.Executor that works in a workspace (Executor);
//   - the markers and wording of the bot's comments (Marker, Answered,
//     Quoted, RetryHint).
//
// Package featurekittest holds what the features' end-to-end tests share.
package featurekit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/promote"
)

// Tokener gives an installation token for git.
type Tokener interface {
	Token(ctx context.Context) (string, error)
}

// Job is what every job of a feature starts with: its client, the App's
// bot login and an installation token for git.
type Job[API Tokener] struct {
	GitHub API
	// Bot is the App's bot login, such as "promobot[bot]".
	Bot   string
	Token string
}

// StartJob returns the Job of an installation.
func StartJob[API Tokener](ctx context.Context, client func(installation int64) (API, error), botLogin func(context.Context) (string, error), installation int64) (*Job[API], error) {
	gh, err := client(installation)
	if err != nil {
		return nil, err
	}
	login, err := botLogin(ctx)
	if err != nil {
		return nil, err
	}
	token, err := gh.Token(ctx)
	if err != nil {
		return nil, err
	}
	return &Job[API]{GitHub: gh, Bot: login, Token: token}, nil
}

// Assess returns the options that make the audit count only the check
// runs named checkName that this job's App created: the App's slug is its
// bot login without "[bot]".
func (j *Job[API]) Assess(checkName string) audit.AssessOptions {
	return audit.AssessOptions{CheckName: checkName, App: strings.TrimSuffix(j.Bot, "[bot]")}
}

// Repo names the repository a job acts in.
type Repo struct {
	Owner, Name, CloneURL string
}

// Executor returns a promote.Executor that works in ws as the App: it
// fetches the base into the workspace (whose lock the caller holds),
// pushes with the installation token and opens pull requests as the bot.
func Executor(gh promote.API, bot, token string, r Repo, ws *workspace.Workspace, now func() time.Time, logger *slog.Logger) *promote.Executor {
	return &promote.Executor{
		Git: promote.Git{
			Path: ws.Path, Remote: "origin", URL: r.CloneURL, Base: ws.Branch,
			Auth:   promote.TokenAuth(token),
			Author: promote.Signature{Name: bot, Email: bot + "@users.noreply.github.com", Login: bot},
		},
		GitHub: promote.NewGitHub(gh, r.Owner, r.Name),
		Now:    now,
		Logger: logger,
	}
}

// Marker is a hidden HTML comment that tags what the bot writes, so a
// repeated delivery or a restarted bot finds its earlier answer.
func Marker(kind, key string) string { return fmt.Sprintf("<!-- promobot:%s %s -->", kind, key) }

// CommentLister lists the comments of an issue or pull request.
type CommentLister interface {
	IssueComments(ctx context.Context, owner, repo string, number int) ([]githubapi.IssueComment, error)
}

// Answered reports whether bot already wrote a comment carrying mark on
// pull request number of owner/repo.
func Answered(ctx context.Context, gh CommentLister, bot, owner, repo string, number int, mark string) (bool, error) {
	comments, err := gh.IssueComments(ctx, owner, repo, number)
	if err != nil {
		return false, err
	}
	for _, c := range comments {
		if strings.EqualFold(c.Author, bot) && strings.Contains(c.Body, mark) {
			return true, nil
		}
	}
	return false, nil
}

// RecordsOf returns the records a commit made.
func RecordsOf(h *audit.History, commit string) []audit.Record {
	var out []audit.Record
	for _, r := range h.Records {
		if r.Commit == commit {
			out = append(out, r)
		}
	}
	return out
}

// Quoted renders reasons, which may carry text from manifests, as a plain
// text block: no markup, links or mentions reach the comment.
func Quoted(lines []string) string {
	var b strings.Builder
	b.WriteString("```text\n")
	for _, l := range lines {
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(l, "`", "'"), "\n", " "))
		b.WriteString("\n")
	}
	b.WriteString("```")
	return b.String()
}

// RetryHint says, in a sentence for a comment, whether trying again can
// help; the cause stays in the logs.
func RetryHint(terminal bool) string {
	if terminal {
		return "the problem will not go away by itself (promobot's logs say what it is)."
	}
	return "the problem looks temporary (promobot's logs say what it is)."
}
