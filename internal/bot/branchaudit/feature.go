package branchaudit

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/audit/githubreview"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
)

// API is the part of the REST API the audit uses; *githubapi.Client
// implements it.
type API interface {
	OpenIssues(ctx context.Context, owner, repo string) ([]githubapi.Issue, error)
	CreateIssue(ctx context.Context, owner, repo, title, body string) (githubapi.Issue, error)
	EditIssueBody(ctx context.Context, owner, repo string, number int, body string) error
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (githubapi.IssueComment, error)
	CreateStatus(ctx context.Context, owner, repo, sha string, s githubapi.CommitStatus) error
	Token(ctx context.Context) (string, error)
	githubreview.API
}

// DefaultDelay is the default of Options.Delay.
const DefaultDelay = time.Minute

// Options configures the feature. Client, BotLogin and Workspaces are
// required, and BypassIssues or Sink.
type Options struct {
	// Client returns the client of an installation.
	Client func(installation int64) (API, error)
	// BotLogin returns the App's bot login, such as "promobot[bot]".
	BotLogin func(ctx context.Context) (string, error)
	// Workspaces are the repositories' workspaces, shared with the other
	// features that write to the repositories.
	Workspaces *workspace.Set
	// BypassIssues checks every manifest change pushed to the default
	// branch, and for one that did not come through a merged pull request
	// with a passing check, opens (or updates) an issue and sets a failing
	// commit status. It needs issues and statuses write.
	BypassIssues bool
	// Sink, when set, opens the tamper-evident audit log of a repository;
	// the audit records are exported to it after merges and pushes to the
	// default branch.
	Sink func(owner, repo string) (chain.Sink, error)
	// Delay is how long after a push or merge the audit (bypass detection
	// and export) looks at it, and how long it waits before believing a
	// second time that a commit has no pull request: GitHub associates a
	// merged commit with its pull request with a delay. Zero means
	// DefaultDelay.
	Delay time.Duration
	// AfterFunc runs f once after d; nil means time.AfterFunc. Clock is the
	// time the delays are measured on; nil means time.Now. Tests replace
	// both.
	AfterFunc func(d time.Duration, f func())
	Clock     func() time.Time
}

// Feature is the audit of the default branch, a bot.Feature.
type Feature struct {
	opts   Options
	host   bot.Host
	audits *audits
}

// New returns the feature.
func New(opts Options) (*Feature, error) {
	switch {
	case opts.Client == nil || opts.BotLogin == nil || opts.Workspaces == nil:
		return nil, errors.New("branchaudit: a GitHub client, the bot login and the workspaces are required")
	case !opts.BypassIssues && opts.Sink == nil:
		return nil, errors.New("branchaudit: neither bypass issues nor an audit sink is on")
	}
	if opts.Delay <= 0 {
		opts.Delay = DefaultDelay
	}
	if opts.AfterFunc == nil {
		opts.AfterFunc = func(delay time.Duration, f func()) { time.AfterFunc(delay, f) }
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Feature{opts: opts, audits: newAudits()}, nil
}

// Name is "audit".
func (f *Feature) Name() string { return "audit" }

// Events are pushes to the default branch and merges into it.
func (f *Feature) Events() []string { return []string{bot.EventDefaultBranchPush, bot.EventMerged} }

// Start keeps the bot's services.
func (f *Feature) Start(h bot.Host) error {
	f.host = h
	return nil
}

// Handle arms the audit of the repository a push or merge changed: it looks
// at the pushed commits after Options.Delay, once GitHub has associated
// merged commits with their pull requests.
func (f *Feature) Handle(_ context.Context, ev bot.Event) error {
	t := featurekit.NewTarget(ev.Repo)
	switch {
	case ev.Name == bot.EventDefaultBranchPush && ev.Push != nil:
		f.scheduleAudit(ev.Logger, t, ev.Repo.DefaultBranch, ev.Push.Before)
	case ev.Name == bot.EventMerged:
		f.scheduleAudit(ev.Logger, t, ev.Repo.DefaultBranch, "")
	default:
		return webhook.Ignore("the audit does not handle %s", ev.Name)
	}
	return nil
}

// Resync arms the audit of every repository at each resynchronization
// pass: a push or merge whose delivery was lost, or that came while the bot
// was down, is audited too.
func (f *Feature) Resync(_ context.Context, repo bot.Repo, logger *slog.Logger) error {
	f.scheduleAudit(logger, featurekit.NewTarget(repo), repo.DefaultBranch, "")
	return nil
}

// Stop stops scheduling: timers that fire afterwards do nothing.
func (f *Feature) Stop() { f.audits.close() }

// target is the repository a job audits (no pull request).
type target = featurekit.Target

// featureJob is what every job starts with: its client, the App's bot
// login and an installation token for git.
type featureJob = featurekit.Job[API]

// maxRecentIDs bounds the audit's memory of each repository's reported
// findings and first sightings.
const maxRecentIDs = 4096
