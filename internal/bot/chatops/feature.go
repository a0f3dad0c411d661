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
	"log/slog"

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
	featurekit.AppAPI
	PullRequest(ctx context.Context, owner, repo string, number int) (*githubapi.PullRequest, error)
	featurekit.RepositoryGetter
}

// Options configures the feature. Every field is required.
type Options = featurekit.AppOptions[API]

// Feature is autoPropose, a bot.Feature.
type Feature struct {
	opts Options
	host bot.Host
}

// New returns the feature.
func New(opts Options) (*Feature, error) {
	if err := opts.Check("chatops"); err != nil {
		return nil, err
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
type target = featurekit.Target

// featureJob is what every job starts with.
type featureJob = featurekit.Job[API]

// executor returns a promote.Executor that works in ws as the App.
func (f *Feature) executor(j *featureJob, t target, ws *workspace.Workspace, logger *slog.Logger) *promote.Executor {
	return featurekit.Executor(j.GitHub, j.Bot, j.Token, t.Repo, ws, f.host.Now, logger)
}
