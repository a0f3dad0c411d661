// Package rollbackcmd is the second half of chat-ops: it answers
// "/promobot rollback" comments on merged promotion pull requests with the
// pull request that rolls the promotion back (rollback.go). It plugs into
// the bot as a bot.Feature, reacting to issue_comment, and works in the
// repositories' own workspaces (package workspace). `promobot serve
// --chatops` turns it on with autoPropose (package chatops).
package rollbackcmd

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/promote"
)

// API is the part of the REST API the rollback command uses; *githubapi.Client
// implements it.
type API interface {
	PullRequest(ctx context.Context, owner, repo string, number int) (*githubapi.PullRequest, error)
	TeamMembers(ctx context.Context, org, slug string) ([]string, error)
	Permission(ctx context.Context, owner, repo, login string) (string, error)
	IssueComment(ctx context.Context, owner, repo string, id int64) (githubapi.IssueComment, error)
	featurekit.RepositoryGetter
	featurekit.AppAPI
}

// Options configures the feature. Every field is required.
type Options = featurekit.AppOptions[API]

// Feature is the rollback command, a bot.Feature.
type Feature struct {
	opts Options
	host bot.Host
	// comments remembers the ids of the comments taken.
	comments recentIDs
}

// New returns the feature.
func New(opts Options) (*Feature, error) {
	if err := opts.Check("rollbackcmd"); err != nil {
		return nil, err
	}
	return &Feature{opts: opts}, nil
}

// Name is "rollback".
func (f *Feature) Name() string { return "rollback" }

// Events are issue comments.
func (f *Feature) Events() []string { return []string{"issue_comment"} }

// Start keeps the bot's services.
func (f *Feature) Start(h bot.Host) error {
	f.host = h
	return nil
}

// Handle reacts to a comment.
func (f *Feature) Handle(_ context.Context, ev bot.Event) error {
	if ev.Name != "issue_comment" {
		return webhook.Ignore("the rollback command does not handle %s", ev.Name)
	}
	return f.onIssueComment(ev.Delivery)
}

// target is the pull request a job is about.
type target = featurekit.Target

// featureJob is what every job starts with.
type featureJob = featurekit.Job[API]

// executor returns a promote.Executor that works in ws as the App.
func (f *Feature) executor(j *featureJob, t target, ws *workspace.Workspace, logger *slog.Logger) *promote.Executor {
	return featurekit.Executor(j.GitHub, j.Bot, j.Token, t.Repo, ws, f.host.Now, logger)
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
