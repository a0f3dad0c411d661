package accessreviewissue

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"time"

	"github.com/example-org/promobot/internal/accessreview"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/githubreview"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/keptissue"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/bot/workspace"
)

// API is the part of the REST API the feature uses; *githubapi.Client
// implements it.
type API interface {
	keptissue.Issues
	accessreview.GitHub
	githubreview.API
	Token(ctx context.Context) (string, error)
}

// DefaultInterval is the default of Options.Interval.
const DefaultInterval = 24 * time.Hour

// Options configures the feature. Client, BotLogin and Workspaces are
// required.
type Options struct {
	// Client returns the client of an installation.
	Client func(installation int64) (API, error)
	// BotLogin returns the App's bot login, such as "promobot[bot]".
	BotLogin func(ctx context.Context) (string, error)
	// Workspaces are the repositories' workspaces, shared with the other
	// features.
	Workspaces *workspace.Set
	// Interval is the least time between two reviews of one repository;
	// the bot's resynchronization passes, which call the feature, run more
	// often. Zero means DefaultInterval.
	Interval time.Duration
	// Review tunes the findings; zero values take the command's defaults
	// (a share of 0.5 over 90 days).
	Review accessreview.Options
	// Clock is the time reviews are measured on; nil means time.Now.
	Clock func() time.Time
}

// Feature keeps each repository's access-review issue, a bot.Feature and a
// bot.Resyncer: at most once per Options.Interval, at a resynchronization
// pass, it reviews the default branch's CODEOWNERS and policy as
// promobot access-review does and updates the issue.
type Feature struct {
	opts     Options
	host     bot.Host
	schedule *keptissue.Schedule
}

// New returns the feature.
func New(opts Options) (*Feature, error) {
	if opts.Client == nil || opts.BotLogin == nil || opts.Workspaces == nil {
		return nil, errors.New("accessreviewissue: a GitHub client, the bot login and the workspaces are required")
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Review.MakerCheckerShare == 0 {
		opts.Review.MakerCheckerShare = 0.5
	}
	if opts.Review.WindowDays == 0 {
		opts.Review.WindowDays = 90
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Feature{opts: opts, schedule: &keptissue.Schedule{Interval: opts.Interval}}, nil
}

// Name is "access-review".
func (f *Feature) Name() string { return "access-review" }

// Events is empty: the feature works at resynchronization passes only.
func (f *Feature) Events() []string { return nil }

// Start keeps the bot's services.
func (f *Feature) Start(h bot.Host) error {
	f.host = h
	return nil
}

// Handle is never called: the feature lists no event.
func (f *Feature) Handle(context.Context, bot.Event) error {
	return webhook.Ignore("the access review handles no event")
}

// Resync queues the review of repo when its last successful review is
// Options.Interval old or more. A failed review is tried again at the next
// pass.
func (f *Feature) Resync(_ context.Context, repo bot.Repo, logger *slog.Logger) error {
	return f.schedule.SubmitDue(f.host, repo, "review", "access review", f.opts.Clock, logger.With("feature", f.Name()),
		func(ctx context.Context, logger *slog.Logger) error { return f.run(ctx, repo, logger) })
}

// run reviews repo at the tip of its default branch and keeps its issue.
func (f *Feature) run(ctx context.Context, repo bot.Repo, logger *slog.Logger) error {
	co, done, err := featurekit.OpenDefaultBranch(ctx, f.opts.Client, f.opts.BotLogin, f.opts.Workspaces, repo)
	if err != nil {
		return err
	}
	defer done()
	j, ws, h := co.Job, co.Workspace, co.History
	reviewer, err := githubreview.New(j.GitHub, githubreview.Options{
		Owner: repo.Owner, Repo: repo.Name, DefaultBranch: co.Branch,
		Assess:   j.Assess(f.host.CheckName()),
		CacheDir: ws.StateFile("github"),
		Now:      f.opts.Clock,
		Logger:   logger,
	})
	if err != nil {
		return err
	}
	fsys, err := ws.Files(h.Tip)
	if err != nil {
		return err
	}
	job := &Job{
		Issues: j.GitHub, Author: j.Bot, Logger: logger,
		Review: func(ctx context.Context, r keptissue.Repo) (accessreview.Report, error) {
			now := f.opts.Clock().UTC()
			promotions, err := Promotions(ctx, h, reviewer, now.AddDate(0, 0, -f.opts.Review.WindowDays))
			if err != nil {
				return accessreview.Report{}, err
			}
			return ReviewTree(ctx, j.GitHub, fsys, r, promotions, now, f.opts.Review)
		},
	}
	return job.Run(ctx, keptissue.Repo{Owner: repo.Owner, Name: repo.Name})
}

// Promotions returns the promotions (registrations and rollbacks
// included) of h since since, with their pull requests' authors as
// reviewer finds them on GitHub.
func Promotions(ctx context.Context, h *audit.History, reviewer audit.Reviewer, since time.Time) ([]accessreview.Promotion, error) {
	var records []audit.Record
	for _, r := range (audit.Filter{Since: since}).Apply(h.Records) {
		if r.Kind == audit.KindPromote || r.Kind == audit.KindRegister || r.Kind == audit.KindRollback {
			records = append(records, r)
		}
	}
	if reviewer != nil {
		if err := audit.Enrich(ctx, records, reviewer); err != nil {
			return nil, err
		}
	}
	return accessreview.PromotionsOf(records), nil
}

// ReviewTree reviews the access to repo as the tree fsys (a commit of its
// default branch) sets it: its policy and CODEOWNERS. A missing or invalid
// policy is an error.
func ReviewTree(ctx context.Context, gh accessreview.GitHub, fsys fs.FS, repo keptissue.Repo, promotions []accessreview.Promotion, now time.Time, opts accessreview.Options) (accessreview.Report, error) {
	tree, err := accessreview.ReadTree(fsys)
	if err != nil {
		return accessreview.Report{}, err
	}
	snap, err := accessreview.Gather(ctx, gh, tree.Input(repo.Owner, repo.Name, promotions, now))
	if err != nil {
		return accessreview.Report{}, err
	}
	return accessreview.Review(snap, opts), nil
}
