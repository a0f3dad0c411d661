package bot

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

	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

const (
	testAppID          = 4242
	testInstallationID = 77
	testSecret         = "webhook-secret-for-tests"
	testOwner          = "example-org"
	testRepo           = "models"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
	testPEM []byte
)

// appKey returns an RSA key shared by the package's tests: generating one
// per test would dominate their time.
func appKey(t testing.TB) (*rsa.PrivateKey, []byte) {
	t.Helper()
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

// harness is the bot served over loopback, in front of the GitHub emulator
// and a git server holding the sample GitOps repository.
type harness struct {
	t        testing.TB
	fx       *githubtest.Fixture
	em       *githubtest.Emulator
	repoPath string
	bot      *Bot
	server   *httptest.Server
	metrics  *metrics.Metrics
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

// newWorld builds the harness's GitHub: the emulator with the seeded
// repository, the App's installation and the teams of the scenarios, every
// member with write access. No bot runs yet.
func newWorld(t testing.TB) *harness {
	t.Helper()
	key, _ := appKey(t)
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: testAppID, AppPublicKey: &key.PublicKey})
	h := &harness{t: t, fx: fx, em: fx.Emulator}
	h.repoPath = fx.AddRepo(t, testOwner, testRepo, "main")
	h.seed()
	h.em.AddInstallation(testInstallationID, testOwner, testOwner+"/"+testRepo)
	for team, members := range evaltest.Teams() {
		org, slug, _ := strings.Cut(team, "/")
		for _, m := range members {
			h.em.AddTeamMember(org, slug, m, "active")
			if err := h.em.SetPermission(testOwner, testRepo, m, "write"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return h
}

// start starts a bot, with its own mirrors and metrics, in front of the
// harness's GitHub, replacing h.bot and h.server (a restart when one ran).
func (h *harness) start(opts harnessOptions) {
	t := h.t
	_, keyPEM := appKey(t)
	m := metrics.New()
	var wire http.RoundTripper = http.DefaultTransport
	if opts.wire != nil {
		wire = opts.wire(wire)
	}
	apps, err := githubapi.New(githubapi.Config{
		BaseURL: h.fx.URL(), AppID: testAppID, PrivateKey: keyPEM,
		Transport: m.InstrumentTransport(wire),
	})
	if err != nil {
		t.Fatal(err)
	}
	mirrors, err := mirror.New(t.TempDir(), mirror.Options{ObserveFetch: func(o mirror.FetchOutcome, d time.Duration) { m.GitFetch(string(o), d) }})
	if err != nil {
		t.Fatal(err)
	}
	now := opts.now
	if now == nil {
		fixed, _ := time.Parse(time.RFC3339, evaltest.DefaultNow)
		now = func() time.Time { return fixed }
	}
	cfg := Config{
		AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Apps: apps, Mirrors: mirrors,
		Engine: opts.engine, Metrics: m, Logger: testLogger(t),
		Workers: opts.workers, QueueSize: opts.queueSize,
		ResyncInterval: opts.resyncInterval, RecheckInterval: opts.recheckInterval,
		Now: now, Durable: opts.durable,
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitAuthenticated(t, b)
	srv := httptest.NewServer(b.Handler())
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Shutdown(ctx)
	})
	h.bot, h.server, h.metrics = b, srv, m
}

// testLogger logs through t, so a failing test shows what the bot did.
func testLogger(t testing.TB) *slog.Logger {
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
func (h *harness) seed() {
	for _, c := range evaltest.History() {
		h.commit("main", c.Files, "history", "pat", mustTime(h.t, c.Date))
	}
	h.commit("main", evaltest.Base(), "base", "pat", mustTime(h.t, evaltest.DefaultBaseDate))
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// commit commits files on branch as login (with login's noreply address)
// and returns the commit's sha. A branch that does not exist yet starts at
// main's tip.
func (h *harness) commit(branch string, files map[string]string, message, login string, when time.Time) string {
	h.t.Helper()
	c := gittest.Commit{
		Branch: branch, Files: files, Message: message,
		Author: gittest.Signature{Name: login, Email: login + "@users.noreply.github.com", When: when},
	}
	if branch != "main" && h.tip(branch) == "" {
		c.Parents = []string{h.tip("main")}
	}
	return gittest.MustCommit(h.t, h.repoPath, c)
}

// tip returns the commit branch points at, or "" when it does not exist.
func (h *harness) tip(branch string) string {
	h.t.Helper()
	repo, err := git.PlainOpen(h.repoPath)
	if err != nil {
		h.t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return ""
	}
	return ref.Hash().String()
}

// deliver sends a signed delivery and returns the status.
func (h *harness) deliver(event string, payload any, secret string) int {
	h.t.Helper()
	resp, err := githubtest.Deliver(h.t.Context(), h.server.URL+"/webhook", secret, event, payload)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// idle waits until the bot has no queued or running job.
func (h *harness) idle() {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for h.bot.queue.Depth() > 0 || h.bot.queue.Running() > 0 {
		if time.Now().After(deadline) {
			h.t.Fatal("the bot did not become idle in 30s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// latest returns the newest check run on sha.
func (h *harness) latest(sha string) githubtest.CheckRun {
	h.t.Helper()
	runs := h.em.CheckRuns(testOwner, testRepo, sha)
	if len(runs) == 0 {
		h.t.Fatalf("no check run on %s", sha)
	}
	return runs[len(runs)-1]
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
