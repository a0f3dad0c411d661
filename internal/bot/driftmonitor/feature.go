package driftmonitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/keptissue"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/repoconfig"
)

// API is the part of the REST API the feature uses; *githubapi.Client
// implements it.
type API interface {
	keptissue.Issues
	Token(ctx context.Context) (string, error)
}

// The defaults of Options.
const (
	DefaultInterval = 15 * time.Minute
	DefaultStale    = 25 * time.Hour
	DefaultWindow   = 7 * 24 * time.Hour
)

// Options configures the feature. Client, BotLogin, Workspaces, Store and
// Metrics are required.
type Options struct {
	// Client returns the client of an installation.
	Client func(installation int64) (API, error)
	// BotLogin returns the App's bot login, such as "promobot[bot]".
	BotLogin func(ctx context.Context) (string, error)
	// Workspaces are the repositories' workspaces, shared with the other
	// features.
	Workspaces *workspace.Set
	// Store holds the scoring jobs' load reports (resolve --report).
	Store drift.Store
	// Metrics receive the findings.
	Metrics *Metrics
	// Issue keeps one drift issue per repository (opt-in; the App needs
	// issues write).
	Issue bool
	// Interval is the least time between two comparisons of one
	// repository; the bot's resynchronization passes, which call the
	// feature, may run more often. Zero means DefaultInterval.
	Interval time.Duration
	// Stale is how long a job may go without reporting before it is
	// reported as stopped; zero means DefaultStale.
	Stale time.Duration
	// Window is how far back reports are read; zero means DefaultWindow.
	Window time.Duration
	// Clock is the time comparisons are made at; nil means time.Now.
	Clock func() time.Time
}

// Feature compares each repository's load reports with its pins, a
// bot.Feature and a bot.Resyncer: at most once per Options.Interval, at a
// resynchronization pass, it compares as promobot drift does, exports the
// result as metrics and, with Options.Issue, keeps the drift issue.
type Feature struct {
	opts     Options
	host     bot.Host
	schedule *keptissue.Schedule
}

// New returns the feature.
func New(opts Options) (*Feature, error) {
	if opts.Client == nil || opts.BotLogin == nil || opts.Workspaces == nil || opts.Store == nil || opts.Metrics == nil {
		return nil, errors.New("driftmonitor: a GitHub client, the bot login, the workspaces, the report store and the metrics are required")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Stale <= 0 {
		opts.Stale = DefaultStale
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Feature{opts: opts, schedule: &keptissue.Schedule{Interval: opts.Interval}}, nil
}

// Name is "drift".
func (f *Feature) Name() string { return "drift" }

// Events is empty: the feature works at resynchronization passes only.
func (f *Feature) Events() []string { return nil }

// Start keeps the bot's services.
func (f *Feature) Start(h bot.Host) error {
	f.host = h
	return nil
}

// Handle is never called: the feature lists no event.
func (f *Feature) Handle(context.Context, bot.Event) error {
	return webhook.Ignore("the drift monitor handles no event")
}

// Resync queues the comparison of repo when its last successful one is
// Options.Interval old or more. A failed comparison is tried again at the
// next pass.
func (f *Feature) Resync(_ context.Context, repo bot.Repo, logger *slog.Logger) error {
	return f.schedule.SubmitDue(f.host, repo, "compare", "drift comparison", f.opts.Clock, logger.With("feature", f.Name()),
		func(ctx context.Context, logger *slog.Logger) error { return f.run(ctx, repo, logger) })
}

// run compares repo's reports with the history of its default branch.
func (f *Feature) run(ctx context.Context, repo bot.Repo, logger *slog.Logger) error {
	co, done, err := featurekit.OpenDefaultBranch(ctx, f.opts.Client, f.opts.BotLogin, f.opts.Workspaces, repo)
	if err != nil {
		return err
	}
	defer done()
	j, ws, h := co.Job, co.Workspace, co.History
	grace := drift.DefaultGrace
	if fsys, err := ws.Files(h.Tip); err == nil {
		_, sch, _ := repoconfig.Schemas(fsys)
		if pol, _, err := repoconfig.ReadPolicy(fsys, sch); err == nil && pol != nil && pol.Drift.GraceMinutes > 0 {
			grace = time.Duration(pol.Drift.GraceMinutes) * time.Minute
		}
	}
	m := &Monitor{Metrics: f.opts.Metrics, Author: j.Bot, Logger: logger,
		Compare: func(ctx context.Context, r keptissue.Repo) (drift.Result, error) {
			now := f.opts.Clock().UTC()
			loads, skipped, err := f.opts.Store.Loads(ctx, now.Add(-f.opts.Window), now)
			if err != nil {
				return drift.Result{}, fmt.Errorf("read the reports in %s: %w", f.opts.Store, err)
			}
			res := drift.Compare(LoadsOf(loads, r), audit.Timeline(h.Records, audit.Filter{}), drift.Options{
				Now: now, Grace: grace, Stale: f.opts.Stale,
			})
			res.Skipped = skipped
			return res, nil
		},
	}
	if f.opts.Issue {
		m.Issues = j.GitHub
	}
	return m.Run(ctx, keptissue.Repo{Owner: repo.Owner, Name: repo.Name})
}

// LoadsOf returns the loads reported for repo: those naming it as
// "owner/name", or by its name alone (as resolve --report names a
// repository it knows no GitHub name of), in any case.
func LoadsOf(loads []drift.Load, repo keptissue.Repo) []drift.Load {
	var out []drift.Load
	for _, l := range loads {
		if strings.EqualFold(l.Repository, repo.String()) || strings.EqualFold(l.Repository, repo.Name) {
			out = append(out, l)
		}
	}
	return out
}
