package githubtest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/gittest"
)

const (
	org      = "acme"
	repoName = "models"
	instID   = int64(77)
	appID    = int64(12345)
)

var t0 = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)

// env is a fixture with one repository acme/models, an installation with
// access to it, and a feature branch ready for a pull request.
type env struct {
	*Fixture
	clock     *atomic.Int64
	path      string
	baseSHA   string
	headSHA   string
	instToken string
	alice     string // token acting as alice, the PR author
	bob       string // token acting as bob, a reviewer
	app       *github.Client
	bobClient *github.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := &atomic.Int64{}
	clock.Store(t0.Unix())
	f := NewFixture(t, Config{
		AppID:       appID,
		EmailLogins: map[string]string{"alice@example.com": "alice", "bob@example.com": "bob"},
		Now:         func() time.Time { return time.Unix(clock.Load(), 0) },
	})
	path := f.AddRepo(t, org, repoName, "main")
	f.Emulator.AddRepo(Repo{Owner: "other", Name: "secret", Path: path, CloneURL: "x"})
	f.Emulator.AddInstallation(instID, org, org+"/"+repoName)
	alice := gittest.Signature{Name: "Alice", Email: "alice@example.com", When: t0}
	base := gittest.MustCommit(t, path, gittest.Commit{
		Branch: "main",
		Files: map[string]string{
			"environments/dev/fraud.yaml":  "version: 1\nsha256: aaa\n",
			"environments/prod/fraud.yaml": "version: 1\nsha256: aaa\n",
			"docs/old-name.md":             "# Notes\n\nline\nline\nline\n",
			"obsolete.txt":                 "bye\n",
		},
		Message: "seed\n",
		Author:  alice,
	})
	gittest.MustCommit(t, path, gittest.Commit{
		Branch: "promote", Parents: []string{base},
		Files:   map[string]string{"environments/prod/fraud.yaml": "version: 2\nsha256: bbb\n"},
		Message: "Promote fraud to prod\n",
		Author:  alice,
	})
	head := gittest.MustCommit(t, path, gittest.Commit{
		Branch: "promote",
		Files: map[string]string{
			"docs/new-name.md":          "# Notes\n\nline\nline\nline\n",
			"environments/stage/a.yaml": "version: 2\n",
		},
		Delete:    []string{"docs/old-name.md", "obsolete.txt"},
		Message:   "Tidy docs\n\nPromobot-Model: fraud\nSigned-off-by: Alice <alice@example.com>\n",
		Author:    alice,
		Committer: gittest.Signature{Name: "Bob", Email: "bob@example.com", When: t0.Add(time.Minute)},
	})
	instToken, err := f.Emulator.InstallationToken(instID)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{Fixture: f, clock: clock, path: path, baseSHA: base, headSHA: head, instToken: instToken,
		alice: f.Emulator.UserToken("alice"), bob: f.Emulator.UserToken("bob")}
	e.app = f.Client(t, instToken)
	e.bobClient = f.Client(t, e.bob)
	return e
}

// openPR opens the promote → main pull request as alice.
func (e *env) openPR(t *testing.T) int {
	t.Helper()
	n, err := e.Emulator.OpenPR(org, repoName, NewPullRequest{Title: "Promote fraud", Body: "body", Head: "promote", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// advance moves the emulator's clock forward.
func (e *env) advance(d time.Duration) { e.clock.Add(int64(d / time.Second)) }
