// Package chatops is the bot's chat-ops feature: when a promotion merges
// into the default branch and the policy marks the next environment
// autoPropose, it opens the next promotion pull request (propose.go), and
// it answers "/promobot rollback" comments on merged promotion pull
// requests with the pull request that rolls the promotion back
// (rollback.go). It plugs into the bot as a bot.Feature, reacting to
// bot.EventMerged and issue_comment, and works in the repositories' own
// workspaces (package workspace).
package chatops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/promote"
)

// API is the part of the REST API chat-ops uses; *githubapi.Client
// implements it.
type API interface {
	PullRequest(ctx context.Context, owner, repo string, number int) (*githubapi.PullRequest, error)
	TeamMembers(ctx context.Context, org, slug string) ([]string, error)
	Permission(ctx context.Context, owner, repo, login string) (string, error)
	IssueComments(ctx context.Context, owner, repo string, number int) ([]githubapi.IssueComment, error)
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (githubapi.IssueComment, error)
	Token(ctx context.Context) (string, error)
	promote.API
}

// Options configures the feature. Every field is required.
type Options struct {
	// Client returns the client of an installation.
	Client func(installation int64) (API, error)
	// BotLogin returns the App's bot login, such as "promobot[bot]".
	BotLogin func(ctx context.Context) (string, error)
	// Workspaces are the repositories' workspaces, shared with the other
	// features that write to the repositories.
	Workspaces *workspace.Set
}

// Feature is chat-ops, a bot.Feature.
type Feature struct {
	opts Options
	host bot.Host
	// comments remembers the ids of the comments taken.
	comments recentIDs
}

// New returns the feature.
func New(opts Options) (*Feature, error) {
	if opts.Client == nil || opts.BotLogin == nil || opts.Workspaces == nil {
		return nil, errors.New("chatops: a GitHub client, the bot login and the workspaces are required")
	}
	return &Feature{opts: opts}, nil
}

// Name is "chatops".
func (f *Feature) Name() string { return "chatops" }

// Events are merges into the default branch and issue comments.
func (f *Feature) Events() []string { return []string{bot.EventMerged, "issue_comment"} }

// Start keeps the bot's services.
func (f *Feature) Start(h bot.Host) error {
	f.host = h
	return nil
}

// Handle reacts to a merge or a comment.
func (f *Feature) Handle(_ context.Context, ev bot.Event) error {
	switch ev.Name {
	case bot.EventMerged:
		return f.onMerged(ev)
	case "issue_comment":
		return f.onIssueComment(ev.Delivery)
	}
	return webhook.Ignore("chat-ops does not handle %s", ev.Name)
}

// target is the pull request a job is about.
type target struct {
	installation int64
	owner, name  string
	cloneURL     string
	number       int
	sha          string
}

func newTarget(r bot.Repo) target {
	return target{installation: r.Installation, owner: r.Owner, name: r.Name, cloneURL: r.CloneURL}
}

func (t target) fullName() string { return t.owner + "/" + t.name }

// logger enriches logger with the target.
func (t target) logger(logger *slog.Logger) *slog.Logger {
	logger = logger.With(bot.KeyRepo, t.fullName(), bot.KeyPR, t.number, bot.KeyInstallationID, t.installation)
	if t.sha != "" {
		logger = logger.With(bot.KeySHA, t.sha)
	}
	return logger
}

// jobKey is the key of the job of kind about t's pull request.
func (t target) jobKey(kind, ref string) bot.JobKey {
	return bot.JobKey{Installation: t.installation, Repo: strings.ToLower(t.fullName()), Number: t.number, Kind: kind, Ref: ref}
}

// featureJob is what every job starts with: its client, the App's bot
// login and an installation token for git.
type featureJob struct {
	gh    API
	bot   string
	token string
}

func (f *Feature) startJob(ctx context.Context, installation int64) (*featureJob, error) {
	gh, err := f.opts.Client(installation)
	if err != nil {
		return nil, err
	}
	login, err := f.opts.BotLogin(ctx)
	if err != nil {
		return nil, err
	}
	token, err := gh.Token(ctx)
	if err != nil {
		return nil, err
	}
	return &featureJob{gh: gh, bot: login, token: token}, nil
}

// open locks and fetches t's workspace.
func (f *Feature) open(ctx context.Context, t target, token, branch string) (*workspace.Workspace, func(), error) {
	return f.opts.Workspaces.Open(ctx, t.fullName(), t.cloneURL, token, branch)
}

// executor returns a promote.Executor that works in ws as the App: it
// fetches the base into the workspace (whose lock the caller holds),
// pushes with the installation token and opens pull requests as the bot.
func (f *Feature) executor(j *featureJob, t target, ws *workspace.Workspace, logger *slog.Logger) *promote.Executor {
	return &promote.Executor{
		Git: promote.Git{
			Path: ws.Path, Remote: "origin", URL: t.cloneURL, Base: ws.Branch,
			Auth:   promote.TokenAuth(j.token),
			Author: promote.Signature{Name: j.bot, Email: j.bot + "@users.noreply.github.com", Login: j.bot},
		},
		GitHub: promote.NewGitHub(j.gh, t.owner, t.name),
		Now:    f.host.Now,
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
