package scalebench

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	ghworld "github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// The emulated App and repository: the bot's end-to-end tests' own.
const (
	appID          = ghworld.AppID
	installationID = ghworld.InstallationID
	owner          = ghworld.Owner
	repoName       = ghworld.Repo
	secret         = ghworld.Secret
	author         = "alex"
)

// world is the emulated GitHub: one repository with the sample history and
// policy, its installation, the sample teams (ghworld.World), and the open
// promotion pull requests.
type world struct {
	*ghworld.World
	keyFile string // the App's private key, PEM
	prs     []*pr

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
	_, pemBytes := ghworld.AppKey()
	w := &world{World: ghworld.NewWith(t, ghworld.Options{RateLimit: 1 << 30}), keyFile: filepath.Join(t.TempDir(), "app.pem")}
	if err := os.WriteFile(w.keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	when := ghworld.MustTime(t, evaltest.DefaultNow)
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
		w.Commit(p.branch, files, fmt.Sprintf("Promotion %d", i), author, when)
		number, err := w.Em.OpenPR(owner, repoName, githubtest.NewPullRequest{
			Title: fmt.Sprintf("Promotion %d", i), Head: p.branch, Base: "main", User: author,
		})
		if err != nil {
			t.Fatal(err)
		}
		p.number = number
		w.prs = append(w.prs, p)
	}
	return w
}

// tip returns the commit branch points at, or "" when it does not exist
// or cannot be read; any goroutine may call it.
func (w *world) tip(branch string) string {
	tip, _ := w.TryTip(branch)
	return tip
}
