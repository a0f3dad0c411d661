// Package bottest serves the bot over loopback in front of the GitHub
// emulator and a git server holding the sample GitOps repository, for the
// end-to-end tests of the bot's features (internal/bot/...). The pipeline's
// own tests keep their harness inside package bot, where they reach its
// internals.
package bottest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// The emulated App and repository.
const (
	AppID          = 4242
	InstallationID = 77
	Secret         = "webhook-secret-for-tests"
	Owner          = "example-org"
	Repo           = "models"
	// BotLogin is the emulated App's bot user.
	BotLogin = "promobot[bot]"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
	testPEM []byte
)

// appKey returns an RSA key shared by the tests of a package: generating
// one per test would dominate their time.
func appKey() (*rsa.PrivateKey, []byte) {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
		testPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	})
	return testKey, testPEM
}

// Harness is the bot served over loopback, in front of the GitHub emulator
// and a git server holding the sample GitOps repository.
type Harness struct {
	T        testing.TB
	Fixture  *githubtest.Fixture
	Em       *githubtest.Emulator
	RepoPath string
	Bot      *bot.Bot
	Server   *httptest.Server
	Metrics  *metrics.Metrics
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
	key, _ := appKey()
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: AppID, AppPublicKey: &key.PublicKey})
	h := &Harness{T: t, Fixture: fx, Em: fx.Emulator}
	h.RepoPath = fx.AddRepo(t, Owner, Repo, "main")
	h.seed()
	h.Em.AddInstallation(InstallationID, Owner, Owner+"/"+Repo)
	for team, members := range evaltest.Teams() {
		org, slug, _ := strings.Cut(team, "/")
		for _, m := range members {
			h.Em.AddTeamMember(org, slug, m, "active")
			if err := h.Em.SetPermission(Owner, Repo, m, "write"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return h
}

// Start starts a bot, with its own mirrors and metrics, in front of the
// harness's GitHub, replacing h.Bot and h.Server (a restart when one ran).
func (h *Harness) Start(opts Options) {
	t := h.T
	_, keyPEM := appKey()
	m := metrics.New()
	apps, err := githubapi.New(githubapi.Config{
		BaseURL: h.Fixture.URL(), AppID: AppID, PrivateKey: keyPEM,
		Transport: m.InstrumentTransport(http.DefaultTransport),
	})
	if err != nil {
		t.Fatal(err)
	}
	mirrors, err := mirror.New(t.TempDir(), mirror.Options{ObserveFetch: func(o mirror.FetchOutcome, d time.Duration) { m.GitFetch(string(o), d) }})
	if err != nil {
		t.Fatal(err)
	}
	fixed, _ := time.Parse(time.RFC3339, evaltest.DefaultNow)
	cfg := bot.Config{
		AppID: AppID, WebhookSecrets: [][]byte{[]byte(Secret)}, Apps: apps, Mirrors: mirrors,
		Metrics: m, Logger: Logger(t),
		Workers: opts.Workers, QueueSize: opts.QueueSize,
		Now:     func() time.Time { return fixed },
		Durable: opts.Durable,
	}
	h.durable = nil
	if opts.Durable != nil {
		h.durable = opts.Durable.Queue
	}
	if opts.Features != nil {
		cfg.Features = opts.Features(Env{Apps: apps, WorkDir: t.TempDir(), Timers: h.Timers, Metrics: m})
	}
	b, err := bot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Shutdown(ctx)
	})
	h.Bot, h.Server, h.Metrics = b, srv, m
}

// Logger logs through t, so a failing test shows what the bot did.
func Logger(t testing.TB) *slog.Logger {
	if _, bench := t.(*testing.B); bench {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// seed writes the sample base branch: its history, then the base commit.
func (h *Harness) seed() {
	for _, c := range evaltest.History() {
		h.Commit("main", c.Files, "history", "pat", MustTime(h.T, c.Date))
	}
	h.Commit("main", evaltest.Base(), "base", "pat", MustTime(h.T, evaltest.DefaultBaseDate))
}

// MustTime parses an RFC 3339 time.
func MustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Commit commits files on branch as login (with login's noreply address)
// and returns the commit's sha. A branch that does not exist yet starts at
// main's tip.
func (h *Harness) Commit(branch string, files map[string]string, message, login string, when time.Time) string {
	h.T.Helper()
	c := gittest.Commit{
		Branch: branch, Files: files, Message: message,
		Author: gittest.Signature{Name: login, Email: login + "@users.noreply.github.com", When: when},
	}
	if branch != "main" && h.Tip(branch) == "" {
		c.Parents = []string{h.Tip("main")}
	}
	return gittest.MustCommit(h.T, h.RepoPath, c)
}

// Tip returns the commit branch points at, or "" when it does not exist.
func (h *Harness) Tip(branch string) string {
	h.T.Helper()
	repo, err := git.PlainOpen(h.RepoPath)
	if err != nil {
		h.T.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return ""
	}
	return ref.Hash().String()
}

// Deliver sends a signed delivery and returns the status.
func (h *Harness) Deliver(event string, payload any, secret string) int {
	h.T.Helper()
	resp, err := githubtest.Deliver(h.T.Context(), h.Server.URL+"/webhook", secret, event, payload)
	if err != nil {
		h.T.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if h.Twice {
		h.Idle()
		again, err := githubtest.Deliver(h.T.Context(), h.Server.URL+"/webhook", secret, event, payload)
		if err != nil {
			h.T.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, again.Body)
		_ = again.Body.Close()
		if again.StatusCode != resp.StatusCode {
			h.T.Errorf("%s delivered again: status %d, the first time %d", event, again.StatusCode, resp.StatusCode)
		}
	}
	return resp.StatusCode
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

// Latest returns the newest check run on sha.
func (h *Harness) Latest(sha string) githubtest.CheckRun {
	h.T.Helper()
	runs := h.Em.CheckRuns(Owner, Repo, sha)
	if len(runs) == 0 {
		h.T.Fatalf("no check run on %s", sha)
	}
	return runs[len(runs)-1]
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
