// Package bottest serves the bot over loopback in front of the GitHub
// emulator and a git server holding the sample GitOps repository, for the
// end-to-end tests of the bot's features (internal/bot/...). The emulated
// GitHub, the sample repository and the bot's services come from package
// world, which the pipeline's own tests inside package bot share (they
// cannot import bottest, which imports bot); only starting the bot is
// done twice, since those tests reach its internals.
package bottest

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// The emulated App and repository (package world).
const (
	AppID          = world.AppID
	InstallationID = world.InstallationID
	Secret         = world.Secret
	Owner          = world.Owner
	Repo           = world.Repo
	// BotLogin is the emulated App's bot user.
	BotLogin = world.BotLogin
)

// Harness is the bot served over loopback, in front of the GitHub emulator
// and a git server holding the sample GitOps repository.
type Harness struct {
	// World is the emulated GitHub and the sample repository: T, Em,
	// Fixture, RepoPath, and Commit, Tip and Latest.
	*world.World
	Bot     *bot.Bot
	Server  *httptest.Server
	Metrics *metrics.Metrics
	// Timers holds the features' delayed callbacks and clock.
	Timers *FakeTimers
	// durable is the durable queue of the running bot, nil with the
	// in-memory queue.
	durable bot.JobQueue
	// Twice makes Deliver send every delivery a second time, with a
	// delivery id of its own, once the bot is done with the first: a
	// message delivered at least once, as a queue redelivers it.
	Twice bool
}

// Env is what a feature is built with at each start of the bot.
type Env struct {
	// Apps are the bot's GitHub clients.
	Apps *githubapi.Apps
	// WorkDir is an empty directory of the feature's own, for its
	// workspaces.
	WorkDir string
	// Timers are the harness's timers and clock.
	Timers *FakeTimers
	// Metrics are the bot's metrics, whose registry /metrics serves.
	Metrics *metrics.Metrics
}

// Options configures the bot.
type Options struct {
	Workers   int
	QueueSize int
	// Features builds the optional features, nil meaning none, at each
	// start.
	Features func(Env) []bot.Feature
	// Durable, when set, runs the bot on this durable queue (an Azurite
	// queue, say) instead of the in-memory one; Idle then also waits for
	// the queue to be empty.
	Durable *bot.DurableQueue
}

// New builds the harness's GitHub and starts a bot.
func New(t testing.TB, opts Options) *Harness {
	t.Helper()
	h := NewWorld(t)
	h.Timers = NewFakeTimers()
	h.Start(opts)
	return h
}

// NewWorld builds the harness's GitHub: the emulator with the seeded
// repository, the App's installation and the teams of the scenarios, every
// member with write access. No bot runs yet.
func NewWorld(t testing.TB) *Harness {
	t.Helper()
	return &Harness{World: world.New(t)}
}

// Start starts a bot, with its own mirrors and metrics, in front of the
// harness's GitHub, replacing h.Bot and h.Server (a restart when one ran).
func (h *Harness) Start(opts Options) {
	t := h.T
	svc := h.Services(nil)
	fixed, _ := time.Parse(time.RFC3339, evaltest.DefaultNow)
	cfg := bot.Config{
		AppID: AppID, WebhookSecrets: [][]byte{[]byte(Secret)}, Apps: svc.Apps, Mirrors: svc.Mirrors,
		Metrics: svc.Metrics, Logger: Logger(t),
		Workers: opts.Workers, QueueSize: opts.QueueSize,
		Now:     func() time.Time { return fixed },
		Durable: opts.Durable,
	}
	h.durable = nil
	if opts.Durable != nil {
		h.durable = opts.Durable.Queue
	}
	if opts.Features != nil {
		cfg.Features = opts.Features(Env{Apps: svc.Apps, WorkDir: t.TempDir(), Timers: h.Timers, Metrics: svc.Metrics})
	}
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.Bot, h.Server, h.Metrics = b, h.Serve(b.Handler(), b.Shutdown), svc.Metrics
}

// Logger logs through t, so a failing test shows what the bot did.
func Logger(t testing.TB) *slog.Logger { return world.Logger(t) }

// MustTime parses an RFC 3339 time.
func MustTime(t testing.TB, s string) time.Time { return world.MustTime(t, s) }

// Deliver sends a signed delivery and returns the status.
func (h *Harness) Deliver(event string, payload any, secret string) int {
	h.T.Helper()
	status := h.Send(h.Server.URL+"/webhook", event, payload, secret)
	if h.Twice {
		h.Idle()
		if again := h.Send(h.Server.URL+"/webhook", event, payload, secret); again != status {
			h.T.Errorf("%s delivered again: status %d, the first time %d", event, again, status)
		}
	}
	return status
}

// Idle waits until the bot has no queued or running job and, on a durable
// queue, the queue holds no message (a job enqueues what it causes before
// its own message is deleted).
func (h *Harness) Idle() {
	h.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.Bot.Busy() || h.queued() {
		if time.Now().After(deadline) {
			h.T.Fatal("the bot did not become idle in 30s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// queued reports whether the durable queue, when there is one, holds a
// message (or cannot be read).
func (h *Harness) queued() bool {
	if h.durable == nil {
		return false
	}
	n, err := h.durable.Length(h.T.Context())
	return err != nil || n > 0
}

// Get returns the body of a GET on the bot's server.
func (h *Harness) Get(path string) string {
	h.T.Helper()
	resp, err := http.Get(h.Server.URL + path)
	if err != nil {
		h.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Counter reports whether GET /metrics shows line.
func (h *Harness) Counter(line string) bool {
	h.T.Helper()
	return strings.Contains(h.Get("/metrics"), line)
}
