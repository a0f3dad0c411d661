package scalebench

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
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
	appID          = 5150
	installationID = 88
	owner          = "example-org"
	repoName       = "models"
	secret         = "scalebench-webhook-secret"
	author         = "alex"
)

// world is the emulated GitHub: one repository with the sample history and
// policy, its installation, the sample teams, and the open promotion pull
// requests.
type world struct {
	fx       *githubtest.Fixture
	em       *githubtest.Emulator
	repoPath string
	keyFile  string // the App's private key, PEM
	prs      []*pr

	gitMu sync.Mutex // serializes commits to the bare repository

	bin      string // promobot, for the expected verdicts
	oracleMu sync.Mutex
	oracle   map[string]verdict // expected verdicts by pull request state
}

// pr is one open promotion pull request and what the load generator knows
// of it.
type pr struct {
	number    int
	branch    string
	reviewers []string // the owners of the environment it promotes to, and one other
	files     map[string]string
	pushes    int
}

// newWorld builds the emulator, its git server and n promotion pull
// requests: the even ones promote the bundle to test (one approval of a
// model validator), the odd ones to prod (approvals of model risk and of
// release management).
func newWorld(t testing.TB, n int) *world {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{keyFile: filepath.Join(t.TempDir(), "app.pem")}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(w.keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	w.fx = githubtest.NewFixture(t, githubtest.Config{AppID: appID, AppPublicKey: &key.PublicKey, RateLimit: 1 << 30})
	w.em = w.fx.Emulator
	w.repoPath = w.fx.AddRepo(t, owner, repoName, "main")
	for _, c := range evaltest.History() {
		w.commit(t, "main", c.Files, "history", "pat", mustTime(t, c.Date))
	}
	w.commit(t, "main", evaltest.Base(), "base", "pat", mustTime(t, evaltest.DefaultBaseDate))
	w.em.AddInstallation(installationID, owner, owner+"/"+repoName)
	for team, members := range evaltest.Teams() {
		org, slug, _ := strings.Cut(team, "/")
		for _, m := range members {
			w.em.AddTeamMember(org, slug, m, "active")
			if err := w.em.SetPermission(owner, repoName, m, "write"); err != nil {
				t.Fatal(err)
			}
		}
	}
	when := mustTime(t, evaltest.DefaultNow)
	for i := range n {
		p := &pr{branch: fmt.Sprintf("promote-%03d", i)}
		var files map[string]string
		if i%2 == 0 {
			files = evaltest.Promote("test", evaltest.V3, evaltest.Forecaster, evaltest.Calibrator)
			p.reviewers = []string{"val", "vic", "walt"}
		} else {
			files = evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator)
			p.reviewers = []string{"mara", "mike", "rita", "rob", "walt"}
		}
		p.files = files
		w.commit(t, p.branch, files, fmt.Sprintf("Promotion %d", i), author, when)
		p.number, err = w.em.OpenPR(owner, repoName, githubtest.NewPullRequest{
			Title: fmt.Sprintf("Promotion %d", i), Head: p.branch, Base: "main", User: author,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.prs = append(w.prs, p)
	}
	return w
}

// commit commits files on branch as login and returns the commit. A
// branch that does not exist yet starts at main's tip.
func (w *world) commit(t testing.TB, branch string, files map[string]string, message, login string, when time.Time) string {
	t.Helper()
	sha, err := w.tryCommit(branch, files, message, login, when)
	if err != nil {
		t.Fatal(err)
	}
	return sha
}

func (w *world) tryCommit(branch string, files map[string]string, message, login string, when time.Time) (string, error) {
	w.gitMu.Lock()
	defer w.gitMu.Unlock()
	c := gittest.Commit{
		Branch: branch, Files: files, Message: message,
		Author: gittest.Signature{Name: login, Email: login + "@users.noreply.github.com", When: when},
	}
	if branch != "main" && w.tip(branch) == "" {
		c.Parents = []string{w.tip("main")}
	}
	return gittest.CommitFiles(w.repoPath, c)
}

// tip returns the commit branch points at, or "" when it does not exist.
func (w *world) tip(branch string) string {
	repo, err := git.PlainOpen(w.repoPath)
	if err != nil {
		return ""
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return ""
	}
	return ref.Hash().String()
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
