// Package world builds the GitHub the bot's end-to-end tests run against:
// the GitHub emulator with the App's installation, the teams of the
// scenarios, and a git server holding the sample GitOps repository. It is
// the one harness shared by package bottest (the features' tests) and the
// pipeline's own tests inside package bot, which cannot import bottest (it
// imports bot): this package imports no part of the bot.
package world

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

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

// AppKey returns the App's RSA key, shared by the tests of a package:
// generating one per test would dominate their time.
func AppKey() (*rsa.PrivateKey, []byte) {
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

// World is the GitHub of a test: the emulator and the sample repository.
type World struct {
	T        testing.TB
	Fixture  *githubtest.Fixture
	Em       *githubtest.Emulator
	RepoPath string

	gitMu sync.Mutex // serializes commits to the repository
}

// Options change what New builds.
type Options struct {
	// RateLimit is the emulator's requests per hour per installation;
	// zero keeps GitHub's.
	RateLimit int
}

// New builds the emulator with the seeded repository, the App's
// installation and the teams of the scenarios, every member with write
// access.
func New(t testing.TB) *World {
	t.Helper()
	return NewWith(t, Options{})
}

// NewWith is New with opts.
func NewWith(t testing.TB, opts Options) *World {
	t.Helper()
	key, _ := AppKey()
	fx := githubtest.NewFixture(t, githubtest.Config{AppID: AppID, AppPublicKey: &key.PublicKey, RateLimit: opts.RateLimit})
	w := &World{T: t, Fixture: fx, Em: fx.Emulator}
	w.RepoPath = fx.AddRepo(t, Owner, Repo, "main")
	w.seed()
	w.Em.AddInstallation(InstallationID, Owner, Owner+"/"+Repo)
	for team, members := range evaltest.Teams() {
		org, slug, _ := strings.Cut(team, "/")
		for _, m := range members {
			w.Em.AddTeamMember(org, slug, m, "active")
			if err := w.Em.SetPermission(Owner, Repo, m, "write"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

// seed writes the sample base branch: its history, then the base commit.
func (w *World) seed() {
	for _, c := range evaltest.History() {
		w.Commit("main", c.Files, "history", "pat", MustTime(w.T, c.Date))
	}
	w.Commit("main", evaltest.Base(), "base", "pat", MustTime(w.T, evaltest.DefaultBaseDate))
}

// Logger logs through t, so a failing test shows what the bot did; a
// benchmark logs nothing.
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
func (w *World) Commit(branch string, files map[string]string, message, login string, when time.Time) string {
	w.T.Helper()
	sha, err := w.TryCommit(branch, files, message, login, when)
	if err != nil {
		w.T.Fatal(err)
	}
	return sha
}

// TryCommit is Commit for a goroutine other than the test's: it returns
// the error instead of failing the test. Commits are serialized.
func (w *World) TryCommit(branch string, files map[string]string, message, login string, when time.Time) (string, error) {
	w.gitMu.Lock()
	defer w.gitMu.Unlock()
	c := gittest.Commit{
		Branch: branch, Files: files, Message: message,
		Author: gittest.Signature{Name: login, Email: login + "@users.noreply.github.com", When: when},
	}
	tip, err := w.TryTip(branch)
	if err != nil {
		return "", err
	}
	if branch != "main" && tip == "" {
		if tip, err = w.TryTip("main"); err != nil {
			return "", err
		}
		c.Parents = []string{tip}
	}
	return gittest.CommitFiles(w.RepoPath, c)
}

// Tip returns the commit branch points at, or "" when it does not exist.
func (w *World) Tip(branch string) string {
	w.T.Helper()
	tip, err := w.TryTip(branch)
	if err != nil {
		w.T.Fatal(err)
	}
	return tip
}

// TryTip is Tip for a goroutine other than the test's.
func (w *World) TryTip(branch string) (string, error) {
	repo, err := git.PlainOpen(w.RepoPath)
	if err != nil {
		return "", err
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return "", nil
	}
	return ref.Hash().String(), nil
}

// Send sends a signed delivery to the webhook at url and returns the
// status.
func (w *World) Send(url, event string, payload any, secret string) int {
	w.T.Helper()
	resp, err := githubtest.Deliver(w.T.Context(), url, secret, event, payload)
	if err != nil {
		w.T.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// Latest returns the newest check run on sha.
func (w *World) Latest(sha string) githubtest.CheckRun {
	w.T.Helper()
	runs := w.Em.CheckRuns(Owner, Repo, sha)
	if len(runs) == 0 {
		w.T.Fatalf("no check run on %s", sha)
	}
	return runs[len(runs)-1]
}
