// Package chatops is the bot's autoPropose feature, the first half of
// chat-ops: when a promotion merges into the default branch and the policy
// marks the next environment autoPropose, it opens the next promotion pull
// request (propose.go). It plugs into the bot as a bot.Feature, reacting to
// bot.EventMerged, and works in the repositories' own workspaces (package
// workspace). The second half, "/promobot rollback" comments, is package
// rollbackcmd; `promobot serve --chatops` turns both on.
package chatops

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/promote"
)

// API is the part of the REST API autoPropose uses; *githubapi.Client
// implements it.
type API interface {
	IssueComments(ctx context.Context, owner, repo string, number int) ([]githubapi.IssueComment, error)
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (githubapi.IssueComment, error)
	PullRequest(ctx context.Context, owner, repo string, number int) (*githubapi.PullRequest, error)
	Repository(ctx context.Context, owner, repo string) (githubapi.Repository, error)
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

// Feature is autoPropose, a bot.Feature.
type Feature struct {
	opts Options
	host bot.Host
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

// Events are merges into the default branch.
func (f *Feature) Events() []string { return []string{bot.EventMerged} }

// Start keeps the bot's services.
func (f *Feature) Start(h bot.Host) error {
	f.host = h
	return nil
}

// Handle reacts to a merge.
func (f *Feature) Handle(_ context.Context, ev bot.Event) error {
	if ev.Name != bot.EventMerged || ev.Merge == nil {
		return webhook.Ignore("autoPropose does not handle %s", ev.Name)
	}
	return f.onMerged(ev)
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

// jobKey is the key of the job of kind about t's pull request.
func (t target) jobKey(kind, ref string) bot.JobKey {
	return bot.JobKey{Installation: t.installation, Repo: strings.ToLower(t.fullName()), Number: t.number, Kind: kind, Ref: ref}
}

// open locks and fetches t's workspace.
func (f *Feature) open(ctx context.Context, t target, token, branch string) (*workspace.Workspace, func(), error) {
	return f.opts.Workspaces.Open(ctx, t.fullName(), t.cloneURL, token, branch)
}

// featureJob is what every job starts with.
type featureJob = featurekit.Job[API]

func (f *Feature) startJob(ctx context.Context, installation int64) (*featureJob, error) {
	return featurekit.StartJob(ctx, f.opts.Client, f.opts.BotLogin, installation)
}

// executor returns a promote.Executor that works in ws as the App.
func (f *Feature) executor(j *featureJob, t target, ws *workspace.Workspace, logger *slog.Logger) *promote.Executor {
	return featurekit.Executor(j.GitHub, j.Bot, j.Token, featurekit.Repo{Owner: t.owner, Name: t.name, CloneURL: t.cloneURL}, ws, f.host.Now, logger)
}
