// Package bot is promobot's GitHub App: it receives webhook deliveries,
// queues one evaluation per pull request, and reports the policy engine's
// verdict as a check run on the pull request's head commit.
//
// The flow of one delivery:
//
//  1. webhook.Dispatcher verifies the signature, drops a delivery id it has
//     already processed, and calls the handler registered for the event
//     (events.go); the handler maps the action to a pull request (or a
//     commit, a merge group or a moved base branch whose pull requests are
//     looked up later), enriches the logger and submits a job. The delivery
//     is answered 202 in well under a millisecond, or 503 when the queue is
//     full.
//  2. The queue (package queue) coalesces jobs per pull request and runs
//     them on a fixed number of workers. With Config.Durable the pipeline's
//     jobs go instead, as small hints, through a durable queue shared by
//     every replica (durable.go). Either way a job whose head already has
//     a check run with its inputs' fingerprint is dropped (coalesce.go).
//  3. The job (evaluation.go) creates an in-progress check run, brings the
//     repository's mirror up to date (package mirror), reads the change
//     with gitrepo, fills in what only the API knows (input.go), asks the
//     Engine for every open pull request sharing the head commit
//     (combine.go), and completes the check run (checkrun.go). Any failure
//     on the way completes the check run as a failure titled "could not
//     evaluate": nothing green is ever posted without a verdict.
//
// Because GitHub does not redeliver failed deliveries, a resynchronization
// (resync.go) lists the open pull requests of every installation at start
// and periodically, and evaluates those whose check run is missing, failed
// to evaluate, was left in progress by a stopped bot, or no longer matches
// the pull request's reviews, labels or base. Merge queue commits are
// checked in mergegroup.go, moved base branches in push.go.
//
// Optional features, each off by default because it needs more App
// permissions, are packages of their own that plug into the event table
// through the Feature contract (feature.go) and are listed in
// Config.Features: autoPropose (package chatops) proposes the next
// promotion after a merge when the policy says so, the rollback command
// (package rollbackcmd) answers "/promobot rollback" comments, and the
// audit of the default branch (package branchaudit) reports changes that
// bypassed the check as issues and failing commit statuses and exports the
// audit log, and the promotion attestations (package attestissue) sign
// the pins of every green merge. Those that write to the repositories work
// in their own copy of each repository (package workspace).
package bot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/bot/queue"
	"github.com/example-org/promobot/internal/bot/webhook"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/gitrepo"
)

// Log keys, constant across the bot.
const (
	KeyDeliveryID     = webhook.KeyDeliveryID
	KeyEvent          = webhook.KeyEvent
	KeyRepo           = "repo"
	KeyPR             = "pr"
	KeySHA            = "sha"
	KeyInstallationID = "installation_id"
)

// DefaultCheckName is the name of the check run the bot posts.
const DefaultCheckName = "promobot"

// Config configures a Bot. AppID, WebhookSecrets, Apps and Mirrors are
// required.
type Config struct {
	// AppID is the GitHub App's id; check_run deliveries about other Apps'
	// check runs are ignored.
	AppID int64
	// CheckName is the check run's name; empty means DefaultCheckName.
	CheckName string
	// WebhookSecrets verify deliveries: one signed with any of them is
	// accepted. Usually one; during a rotation the old and the new.
	WebhookSecrets [][]byte
	// Apps gives installation clients.
	Apps *githubapi.Apps
	// Mirrors holds the local repository mirrors.
	Mirrors *mirror.Set
	// Engine judges changes; nil means PolicyEngine.
	Engine Engine
	// Artifacts, when set, verifies the artifacts of changed manifests
	// when the base policy enforces or warns on the artifacts family.
	Artifacts ArtifactVerifier
	// Metrics records metrics; nil records none.
	Metrics *metrics.Metrics
	// Logger is the base logger; nil discards.
	Logger *slog.Logger
	// Workers and QueueSize size the job queue; JobTimeout bounds one
	// evaluation. Zero values pick the queue's defaults.
	Workers    int
	QueueSize  int
	JobTimeout time.Duration
	// ResyncInterval is how often every open pull request of every
	// installation is checked for a missing, failed or outdated check run;
	// the first pass runs at start. Zero turns resynchronization off.
	ResyncInterval time.Duration
	// RecheckInterval is how often a resynchronization pass also evaluates
	// again, quietly, the pull requests whose check run looks up to date,
	// to catch changes GitHub sends no event for (team membership,
	// permissions, freeze windows). The check run is rewritten only when
	// the verdict or its title changed. Zero turns rechecks off.
	RecheckInterval time.Duration
	// DeliveryMemory is how many delivery ids are remembered to process a
	// delivery seen twice once; zero means webhook.DefaultDeliveryMemory.
	DeliveryMemory int
	// Now is the clock, for freeze windows and check run times; nil means
	// time.Now.
	Now func() time.Time

	// Leases coordinate replicas: one evaluation of a pull request at a
	// time across them, and one leader for the periodic work. Nil means
	// in-process leases, for a single replica.
	Leases Leases

	// Durable, when set, carries the pipeline's jobs on a durable queue
	// shared by every replica instead of the in-memory queue (durable.go).
	Durable *DurableQueue

	// Features are the optional features, each off unless listed: see
	// Feature. Their events join the event table.
	Features []Feature
}

// Engine judges a change and renders the verdict for a check run.
type Engine interface {
	// Evaluate judges the input.
	Evaluate(in *evaluate.Input) *evaluate.Result
	// Summary renders the result as the check run's markdown summary.
	Summary(r *evaluate.Result) (string, error)
	// Annotations returns the result's annotations on manifest lines.
	Annotations(r *evaluate.Result) []evaluate.Annotation
}

// ArtifactVerifier verifies the artifacts of the changed manifests of an
// input and records the outcomes in in.Artifacts, with the trusted keys of
// base, the base branch's tree. It is called only when the base policy
// enforces or warns on the artifacts family. An error means verification as
// a whole could not run (the evaluation then fails closed); per-artifact
// problems, storage outages included, belong in the recorded outcomes.
type ArtifactVerifier interface {
	VerifyArtifacts(ctx context.Context, in *evaluate.Input, base fs.FS) error
}

// githubAPI is the part of the GitHub REST API an evaluation uses;
// *githubapi.Client implements it.
type githubAPI interface {
	PullRequest(ctx context.Context, owner, repo string, number int) (*githubapi.PullRequest, error)
	PullRequestCommits(ctx context.Context, owner, repo string, number int) ([]githubapi.Commit, error)
	Reviews(ctx context.Context, owner, repo string, number int) ([]githubapi.Review, error)
	TeamMembers(ctx context.Context, org, slug string) ([]string, error)
	Permission(ctx context.Context, owner, repo, login string) (string, error)
	PullRequestsWithHead(ctx context.Context, owner, repo, sha string) ([]*githubapi.PullRequest, error)
	OpenPullRequests(ctx context.Context, owner, repo, base string) ([]*githubapi.PullRequest, error)
	Repositories(ctx context.Context) ([]githubapi.Repository, error)
	LatestCheckRun(ctx context.Context, owner, repo, sha, name string, appID int64) (*githubapi.ExistingCheckRun, error)
	BranchHead(ctx context.Context, owner, repo, branch string) (string, error)
	CreateCheckRun(ctx context.Context, owner, repo string, run githubapi.CheckRun) (int64, error)
	StartCheckRun(ctx context.Context, owner, repo string, run githubapi.CheckRun) (int64, []int, error)
	UpdateCheckRun(ctx context.Context, owner, repo string, id int64, run githubapi.CheckRun) error
	Token(ctx context.Context) (string, error)
}

// snapshot is a pull request's base and head in a mirror;
// *mirror.Snapshot implements it.
type snapshot interface {
	BuildInput(ctx context.Context, opts gitrepo.InputOptions) (*evaluate.Input, error)
	BaseFS() (fs.FS, error)
	BaseCommit() string
}

// commitSet is a mirror holding given commits; *mirror.Commits implements
// it.
type commitSet interface {
	Snapshot(base, head string) (snapshot, error)
	ChangedFiles(ctx context.Context, from, to string) (map[string]string, error)
	MergeBase(a, b string) (string, error)
}

// mirrors brings mirrors up to date.
type mirrors interface {
	Sync(ctx context.Context, req mirror.Request) (snapshot, error)
	SyncCommits(ctx context.Context, req mirror.CommitsRequest) (commitSet, error)
}

// deps are the bot's connections to the outside, replaced by fakes in tests.
type deps struct {
	client        func(installationID int64) (githubAPI, error)
	installations func(ctx context.Context) ([]int64, error)
	mirrors       mirrors
	// botLogin authenticates as the App itself and returns its bot login;
	// /readyz waits for its first success. Nil counts as authenticated.
	botLogin func(ctx context.Context) (string, error)
}

// Bot is the GitHub App. Create it with New, serve Handler, and call
// Shutdown to drain.
type Bot struct {
	cfg        Config
	deps       deps
	queue      *queue.Queue[jobKey]
	dispatcher *webhook.Dispatcher
	draining   atomic.Bool
	// auth says whether the App has authenticated as itself once.
	auth *authentication
	// resync is the resynchronization loop, nil when it is off.
	resync *resyncLoop
	// posted remembers the check runs posted, to post each verdict once.
	posted postedRuns
	// subscribers lists, by event, the features that listed it.
	subscribers map[string][]Feature
	// durable is the durable queue's consumer, nil with the in-memory
	// queue; wq records coalescing and the durable queue.
	durable *durable
	wq      *metrics.WorkQueue
	// evaluated remembers the check runs this replica completed, to drop
	// jobs whose inputs were already evaluated (coalesce.go).
	evaluated evaluatedHeads
}

// New checks cfg, starts the features and the bot's workers.
func New(cfg Config) (*Bot, error) {
	if cfg.Apps == nil || cfg.Mirrors == nil {
		return nil, errors.New("bot: Apps and Mirrors are required")
	}
	d := deps{
		client: func(id int64) (githubAPI, error) {
			c, err := cfg.Apps.Installation(id)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		installations: cfg.Apps.InstallationIDs,
		mirrors:       mirrorSet{cfg.Mirrors},
		botLogin:      cfg.Apps.BotLogin,
	}
	return newBot(cfg, d)
}

func newBot(cfg Config, d deps) (*Bot, error) {
	if cfg.AppID <= 0 {
		return nil, errors.New("bot: the App id is required")
	}
	if cfg.CheckName == "" {
		cfg.CheckName = DefaultCheckName
	}
	if cfg.Engine == nil {
		cfg.Engine = PolicyEngine{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leases == nil {
		cfg.Leases = &processLeases{}
	}
	b := &Bot{cfg: cfg, deps: d, wq: cfg.Metrics.WorkQueue()}
	if err := b.startFeatures(b.pipelineHandlers()); err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.queue = queue.New[jobKey](queue.Options{
		Workers: cfg.Workers,
		Size:    cfg.QueueSize,
		Timeout: cfg.JobTimeout,
		Logger:  cfg.Logger,
		Observe: func(o queue.Outcome, d time.Duration) { cfg.Metrics.Job(string(o), d) },
	})
	cfg.Metrics.QueueDepth(b.queue.Depth, b.queue.Running)
	dispatcher, err := webhook.NewDispatcher(cfg.WebhookSecrets, b.handlers(), webhook.Options{
		Logger:     cfg.Logger,
		Observe:    cfg.Metrics.Delivery,
		Deliveries: webhook.NewDeliverySet(cfg.DeliveryMemory, 0, nil),
	})
	if err != nil {
		_ = b.queue.Shutdown(context.Background())
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.dispatcher = dispatcher
	b.auth = b.startAuthentication()
	if cfg.Durable != nil {
		if cfg.Durable.Queue == nil {
			_ = b.queue.Shutdown(context.Background())
			return nil, errors.New("bot: a durable queue needs its Queue")
		}
		b.durable = b.startDurable(*cfg.Durable)
	}
	if cfg.ResyncInterval > 0 && d.installations != nil {
		b.resync = b.startResync()
	}
	return b, nil
}

// Handler serves POST /webhook, GET /healthz, GET /readyz and, when metrics
// are configured, GET /metrics.
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/webhook", b.dispatcher)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", b.readyz)
	if b.cfg.Metrics != nil {
		mux.Handle("GET /metrics", b.cfg.Metrics.Handler())
	}
	return mux
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, text)
}

// Shutdown stops the resynchronization and taking jobs (readyz turns 503
// and deliveries are answered 503), finishes the queued jobs and waits for
// them, or until ctx ends. Jobs dropped when ctx ends first are logged; the
// resynchronization of the next start evaluates their pull requests.
func (b *Bot) Shutdown(ctx context.Context) error {
	b.draining.Store(true)
	b.auth.stop()
	b.resync.stop()
	for _, f := range b.cfg.Features {
		if s, ok := f.(Stopper); ok {
			s.Stop()
		}
	}
	return errors.Join(b.durable.stop(ctx), b.queue.Shutdown(ctx))
}

// Busy reports whether a job is queued or running.
func (b *Bot) Busy() bool {
	return b.queue.Depth() > 0 || b.queue.Running() > 0 || b.durable.busy()
}

// mirrorSet adapts *mirror.Set to mirrors.
type mirrorSet struct{ set *mirror.Set }

func (m mirrorSet) Sync(ctx context.Context, req mirror.Request) (snapshot, error) {
	s, err := m.set.Sync(ctx, req)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (m mirrorSet) SyncCommits(ctx context.Context, req mirror.CommitsRequest) (commitSet, error) {
	c, err := m.set.SyncCommits(ctx, req)
	if err != nil {
		return nil, err
	}
	return mirrorCommits{c}, nil
}

// mirrorCommits adapts *mirror.Commits to commitSet.
type mirrorCommits struct{ *mirror.Commits }

func (m mirrorCommits) Snapshot(base, head string) (snapshot, error) {
	s, err := m.Commits.Snapshot(base, head)
	if err != nil {
		return nil, err
	}
	return s, nil
}
