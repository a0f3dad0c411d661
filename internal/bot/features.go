package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/example-org/promobot/internal/audit/githubreview"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/promote"
)

// featureAPI is the part of the REST API the optional features use on top
// of an evaluation's; *githubapi.Client implements it.
type featureAPI interface {
	githubAPI
	IssueComments(ctx context.Context, owner, repo string, number int) ([]githubapi.IssueComment, error)
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (githubapi.IssueComment, error)
	OpenIssues(ctx context.Context, owner, repo string) ([]githubapi.Issue, error)
	CreateIssue(ctx context.Context, owner, repo, title, body string) (githubapi.Issue, error)
	EditIssueBody(ctx context.Context, owner, repo string, number int, body string) error
	CreateStatus(ctx context.Context, owner, repo, sha string, s githubapi.CommitStatus) error
	promote.API
	githubreview.API
}

// featuresOn reports whether any optional feature is on.
func (c Config) featuresOn() bool { return c.ChatOps || c.BypassIssues || c.AuditSink != nil }

// auditOn reports whether pushes and merges are audited.
func (c Config) auditOn() bool { return c.BypassIssues || c.AuditSink != nil }

// featureJob is what every optional feature's job starts with: its client,
// the App's bot login and an installation token for git.
type featureJob struct {
	gh    featureAPI
	bot   string
	token string
}

func (b *Bot) startFeatureJob(ctx context.Context, installation int64) (*featureJob, error) {
	gh, err := b.deps.features(installation)
	if err != nil {
		return nil, err
	}
	login, err := b.deps.botLogin(ctx)
	if err != nil {
		return nil, err
	}
	token, err := gh.Token(ctx)
	if err != nil {
		return nil, err
	}
	return &featureJob{gh: gh, bot: login, token: token}, nil
}

// executor returns a promote.Executor that works in ws as the App: it
// fetches the base into the workspace (whose lock the caller holds),
// pushes with the installation token and opens pull requests as the bot.
func (b *Bot) executor(j *featureJob, t target, ws *workspace, logger *slog.Logger) *promote.Executor {
	return &promote.Executor{
		Git: promote.Git{
			Path: ws.path, Remote: "origin", URL: t.cloneURL, Base: ws.branch,
			Auth:   promote.TokenAuth(j.token),
			Author: promote.Signature{Name: j.bot, Email: j.bot + "@users.noreply.github.com", Login: j.bot},
		},
		GitHub: promote.NewGitHub(j.gh, t.owner, t.name),
		Now:    b.cfg.Now,
		Logger: logger,
	}
}

// marker is a hidden HTML comment that tags what the bot writes, so a
// repeated delivery or a restarted bot finds its earlier answer.
func marker(kind, key string) string { return fmt.Sprintf("<!-- promobot:%s %s -->", kind, key) }

// answered reports whether the bot already wrote a comment carrying mark
// on pull request number.
func answered(ctx context.Context, j *featureJob, t target, number int, mark string) (bool, error) {
	comments, err := j.gh.IssueComments(ctx, t.owner, t.name, number)
	if err != nil {
		return false, err
	}
	for _, c := range comments {
		if strings.EqualFold(c.Author, j.bot) && strings.Contains(c.Body, mark) {
			return true, nil
		}
	}
	return false, nil
}

// isBotAccount reports whether a login or account type is a bot's: Apps
// act as "<slug>[bot]" users of type Bot.
func isBotAccount(login, kind string) bool {
	return strings.EqualFold(kind, "Bot") || strings.HasSuffix(strings.ToLower(login), "[bot]")
}

// recentIDs remembers the last ids added, to act once on each.
type recentIDs struct {
	mu   sync.Mutex
	seen map[int64]bool
	ring []int64
	next int
}

// maxRecentIDs bounds recentIDs.
const maxRecentIDs = 4096

// add records id and reports whether it was new.
func (r *recentIDs) add(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[int64]bool{}
		r.ring = make([]int64, maxRecentIDs)
	}
	if r.seen[id] {
		return false
	}
	if old := r.ring[r.next]; old != 0 {
		delete(r.seen, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % maxRecentIDs
	r.seen[id] = true
	return true
}

// forget drops id, so that a delivery refused for a full queue is taken
// when GitHub sends it again.
func (r *recentIDs) forget(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.seen, id)
}
