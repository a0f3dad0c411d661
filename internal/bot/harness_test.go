package bot

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// The emulated App and repository (package world, the harness shared
// with bottest).
const (
	testAppID          = world.AppID
	testInstallationID = world.InstallationID
	testSecret         = world.Secret
	testOwner          = world.Owner
	testRepo           = world.Repo
)

// harness is the bot served over loopback, in front of the GitHub emulator
// and a git server holding the sample GitOps repository.
type harness struct {
	// World is the emulated GitHub and the sample repository: T, Em,
	// Fixture, RepoPath, and Commit, Tip and Latest.
	*world.World
	bot     *Bot
	server  *httptest.Server
	metrics *metrics.Metrics
}

type harnessOptions struct {
	workers   int
	queueSize int
	engine    Engine
	// resyncInterval and recheckInterval are the bot's; zero leaves the
	// resynchronization loop off (tests call Resync).
	resyncInterval, recheckInterval time.Duration
	// now is the bot's clock; nil means evaltest.DefaultNow, fixed.
	now func() time.Time
	// wire wraps the transport to the emulator.
	wire func(http.RoundTripper) http.RoundTripper
	// durable, when set, runs the pipeline on a durable queue.
	durable *DurableQueue
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	h := newWorld(t)
	h.start(opts)
	return h
}

// newWorld builds the harness's GitHub (world.New). No bot runs yet.
func newWorld(t testing.TB) *harness {
	t.Helper()
	return &harness{World: world.New(t)}
}

// start starts a bot, with its own mirrors and metrics, in front of the
// harness's GitHub, replacing h.bot and h.server (a restart when one ran).
func (h *harness) start(opts harnessOptions) {
	t := h.T
	svc := h.Services(opts.wire)
	now := opts.now
	if now == nil {
		fixed, _ := time.Parse(time.RFC3339, evaltest.DefaultNow)
		now = func() time.Time { return fixed }
	}
	cfg := Config{
		AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Apps: svc.Apps, Mirrors: svc.Mirrors,
		Engine: opts.engine, Metrics: svc.Metrics, Logger: world.Logger(t),
		Workers: opts.workers, QueueSize: opts.queueSize,
		ResyncInterval: opts.resyncInterval, RecheckInterval: opts.recheckInterval,
		Now: now, Durable: opts.durable,
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitAuthenticated(t, b)
	h.bot, h.server, h.metrics = b, h.Serve(b.Handler(), b.Shutdown), svc.Metrics
}

// deliver sends a signed delivery and returns the status.
func (h *harness) deliver(event string, payload any, secret string) int {
	h.T.Helper()
	return h.Send(h.server.URL+"/webhook", event, payload, secret)
}

// idle waits until the bot has no queued or running job.
func (h *harness) idle() {
	h.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.bot.queue.Depth() > 0 || h.bot.queue.Running() > 0 {
		if time.Now().After(deadline) {
			h.T.Fatal("the bot did not become idle in 30s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitAuthenticated waits for the bot's authentication as the App at start
// (GET /app), so that tests counting API requests count only their own.
func waitAuthenticated(t testing.TB, b *Bot) {
	t.Helper()
	select {
	case <-b.auth.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the bot did not authenticate as the App")
	}
}
