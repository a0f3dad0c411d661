package audittest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// The repository of the small history.
const (
	Owner          = "acme"
	Name           = "models"
	InstallationID = int64(42)
	AppID          = int64(4242)
)

// Policy is the promotion policy committed at the start of the history.
const Policy = `apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - name: dev
    approvals: 0
  - name: test
    from: dev
    approvals: 1
  - name: prod
    from: test
    approvals: 2
`

// ExceptionLabel is the metric exception label of GatedPolicy.
const ExceptionLabel = "metric-exception"

// GatedPolicy is Policy with prod's metric gates, which every version of
// the history fails (r2 0.63 is below the minimum), and their exception
// label; the history commits it before its last promotion to prod.
const GatedPolicy = Policy + `    metricGates:
      r2:
        min: 0.65
        incumbent: {better: higher, tolerance: {absolute: 0.01}}
      rmse:
        max: 0.0125
    metricGateExceptions:
      label: ` + ExceptionLabel + `
`

// People of the history: login → (name, email).
var people = map[string][2]string{
	"alice":   {"Alice Ng", "alice@example.com"},
	"bob":     {"Bob Stone", "bob@example.com"},
	"carol":   {"Carol Diaz", "carol@example.com"},
	"dave":    {"Dave Admin", "dave@example.com"},
	"mallory": {"Mallory Quick", "mallory@example.com"},
}

// History is the small history the audit tests share: eleven commits on
// main, with merge and squash merges, an admin bypass, a direct push, an
// edit, a decommission and a check still running at merge (BuildHistory),
// followed, in BuildGatedHistory, by prod's metric gates and a promotion
// whose failing gate an exception label overrode, served by a
// GitHub emulator that knows the pull requests, reviews and check runs.
type History struct {
	// Fixture is the emulator and git server.
	Fixture *githubtest.Fixture
	// Path is the bare repository on disk.
	Path string
	// Commits maps each step's name to its commit on main.
	Commits map[string]string
	// Start is the time of the first commit.
	Start time.Time
	clock *atomic.Int64
}

// Now is the emulator's clock.
func (h *History) Now() time.Time { return time.Unix(h.clock.Load(), 0).UTC() }

// Token mints a fresh installation token.
func (h *History) Token(t githubtest.TB) string {
	t.Helper()
	tok, err := h.Fixture.Emulator.InstallationToken(InstallationID)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return tok
}

// HistoryStart is when the small history begins.
var HistoryStart = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// step is one change made to the history.
type step struct {
	name    string
	at      time.Time
	by      string
	title   string
	files   map[string]string
	deletes []string
	// direct pushes to main instead of opening a pull request.
	direct bool
	// method is "merge" or "squash".
	method   string
	reviews  [][2]string // login, state
	check    string      // conclusion of the promobot check; "" for none, "in_progress" for unfinished
	mergedBy string
	labels   []string
}

func pin(env, model, version, ticket, notes string) map[string]string {
	p := Pin{Environment: env, Model: model, Version: version, Ticket: ticket, Notes: notes}
	return map[string]string{p.Path(): p.YAML()}
}

// explained adds approval.rationale to the one manifest of a pin.
func explained(m map[string]string, rationale string) map[string]string {
	for k, v := range m {
		m[k] = strings.Replace(v, "\napproval:\n  ticket: ", "\napproval:\n  rationale: "+rationale+"\n  ticket: ", 1)
	}
	return m
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func day(d, hour int) time.Time { return time.Date(2026, 5, d, hour, 0, 0, 0, time.UTC) }

// steps is the history, in order.
var steps = []step{
	{name: "policy", at: day(1, 9), by: "dave", title: "Add promotion policy", direct: true,
		files: map[string]string{".github/promobot.yaml": Policy, "README.md": "# models\n"}},
	{name: "register-1.0.0", at: day(2, 10), by: "alice", title: "Register forecaster 1.0.0", method: "merge", check: "success", mergedBy: "alice",
		files: pin("dev", "forecaster", "1.0.0", "", "")},
	{name: "promote-1.0.0-test", at: day(4, 11), by: "alice", title: "Promote forecaster 1.0.0 to test", method: "squash", check: "success", mergedBy: "bob",
		reviews: [][2]string{{"bob", "APPROVED"}}, files: pin("test", "forecaster", "1.0.0", "", "")},
	{name: "register-bundle", at: day(6, 9), by: "alice", title: "Register forecaster 1.1.0 and threshold 0.1.0", method: "squash", check: "success", mergedBy: "alice",
		files: merge(pin("dev", "forecaster", "1.1.0", "", ""), pin("dev", "threshold", "0.1.0", "", ""))},
	{name: "promote-1.0.0-prod", at: day(8, 15), by: "alice", title: "Promote forecaster 1.0.0 to prod", method: "merge", check: "success", mergedBy: "carol",
		reviews: [][2]string{{"bob", "APPROVED"}, {"carol", "APPROVED"}, {"carol", "COMMENTED"}}, files: pin("prod", "forecaster", "1.0.0", "CHG-1001", "")},
	{name: "promote-1.1.0-test", at: day(12, 10), by: "alice", title: "Promote forecaster 1.1.0 to test", method: "squash", check: "success", mergedBy: "bob",
		reviews: [][2]string{{"bob", "APPROVED"}}, files: pin("test", "forecaster", "1.1.0", "", "")},
	{name: "admin-bypass", at: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), by: "alice", title: "Promote forecaster 1.1.0 to prod", method: "squash", check: "failure", mergedBy: "dave",
		reviews: [][2]string{{"bob", "APPROVED"}}, files: pin("prod", "forecaster", "1.1.0", "CHG-1010", "")},
	{name: "direct-rollback", at: time.Date(2026, 6, 3, 14, 0, 0, 0, time.UTC), by: "mallory", title: "Hotfix: roll back forecaster in prod to 1.0.0", direct: true,
		files: pin("prod", "forecaster", "1.0.0", "CHG-1001", "")},
	{name: "edit-ticket", at: time.Date(2026, 6, 5, 10, 0, 0, 0, time.UTC), by: "carol", title: "Record the rollback ticket for forecaster in prod", method: "squash", check: "success", mergedBy: "carol",
		reviews: [][2]string{{"bob", "APPROVED"}, {"dave", "APPROVED"}}, files: explained(pin("prod", "forecaster", "1.0.0", "CHG-1011", "Rolled back after the 1.1.0 incident."), "1.1.0 raised the error rate; keep 1.0.0 until the retrained version passes test")},
	{name: "decommission-threshold", at: time.Date(2026, 6, 8, 10, 0, 0, 0, time.UTC), by: "alice", title: "Decommission threshold in dev", method: "squash", check: "success", mergedBy: "alice",
		deletes: []string{"environments/dev/threshold.yaml"}},
	{name: "readme", at: time.Date(2026, 6, 9, 8, 0, 0, 0, time.UTC), by: "dave", title: "Explain the repository", direct: true,
		files: map[string]string{"README.md": "# models\n\nPromotions go through pull requests.\n"}},
	{name: "unfinished-check", at: time.Date(2026, 6, 10, 16, 0, 0, 0, time.UTC), by: "alice", title: "Register forecaster 1.2.0", method: "merge", check: "in_progress", mergedBy: "alice",
		files: pin("dev", "forecaster", "1.2.0", "", "")},
}

// gatedSteps follow steps in BuildGatedHistory.
var gatedSteps = []step{
	{name: "gate-prod", at: time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC), by: "dave", title: "Gate prod's metrics", direct: true,
		files: map[string]string{".github/promobot.yaml": GatedPolicy}},
	{name: "promote-1.2.0-test", at: time.Date(2026, 6, 12, 10, 0, 0, 0, time.UTC), by: "alice", title: "Promote forecaster 1.2.0 to test", method: "squash", check: "success", mergedBy: "bob",
		reviews: [][2]string{{"bob", "APPROVED"}}, files: pin("test", "forecaster", "1.2.0", "", "")},
	{name: "exception-1.2.0-prod", at: time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC), by: "alice", title: "Promote forecaster 1.2.0 to prod under a metric exception", method: "squash", check: "success", mergedBy: "carol",
		labels: []string{ExceptionLabel}, reviews: [][2]string{{"bob", "APPROVED"}, {"dave", "APPROVED"}},
		files: explained(pin("prod", "forecaster", "1.2.0", "CHG-1020", ""), "r2 stays below prod's floor until the June data lands; 1.2.0 fixes the 1.0.0 pricing gap")},
}

// BuildHistory creates the small history in a fresh emulator and git
// server. Times are fixed, so commit hashes are the same on every run.
func BuildHistory(t githubtest.TB) *History {
	t.Helper()
	return buildHistory(t, steps)
}

// BuildGatedHistory is BuildHistory followed by a direct push of
// GatedPolicy, a promotion of forecaster 1.2.0 to test, and its promotion
// to prod through a pull request labelled ExceptionLabel, approved by bob
// and dave: r2 fails prod's minimum.
func BuildGatedHistory(t githubtest.TB) *History {
	t.Helper()
	return buildHistory(t, append(append([]step{}, steps...), gatedSteps...))
}

func buildHistory(t githubtest.TB, steps []step) *History {
	t.Helper()
	clock := &atomic.Int64{}
	clock.Store(HistoryStart.Unix())
	logins := map[string]string{}
	for login, p := range people {
		logins[p[1]] = login
	}
	f := githubtest.NewFixture(t, githubtest.Config{
		AppID:       AppID,
		EmailLogins: logins,
		Now:         func() time.Time { return time.Unix(clock.Load(), 0) },
	})
	path := f.AddRepo(t, Owner, Name, "main")
	f.Emulator.AddInstallation(InstallationID, Owner, Owner+"/"+Name)
	h := &History{Fixture: f, Path: path, Commits: map[string]string{}, Start: HistoryStart, clock: clock}
	for _, s := range steps {
		h.apply(t, s)
	}
	return h
}

func (h *History) set(at time.Time) { h.clock.Store(at.Unix()) }

func sig(login string, at time.Time) gittest.Signature {
	p := people[login]
	return gittest.Signature{Name: p[0], Email: p[1], When: at}
}

func (h *History) apply(t githubtest.TB, s step) {
	t.Helper()
	e := h.Fixture.Emulator
	h.set(s.at)
	if s.direct {
		h.Commits[s.name] = gittest.MustCommit(t, h.Path, gittest.Commit{
			Branch: "main", Files: s.files, Delete: s.deletes, Message: s.title + "\n", Author: sig(s.by, s.at),
		})
		return
	}
	head := gittest.MustCommit(t, h.Path, gittest.Commit{
		Branch: s.name, Parents: []string{h.tip(t)}, Files: s.files, Delete: s.deletes, Message: s.title + "\n", Author: sig(s.by, s.at),
	})
	number, err := e.OpenPR(Owner, Name, githubtest.NewPullRequest{Title: s.title, Head: s.name, User: s.by, Labels: s.labels})
	if err != nil {
		t.Fatalf("open %s: %v", s.name, err)
	}
	for i, r := range s.reviews {
		h.set(s.at.Add(time.Duration(10+i) * time.Minute))
		if _, err := e.Review(Owner, Name, number, r[0], r[1], ""); err != nil {
			t.Fatalf("review %s: %v", s.name, err)
		}
	}
	if s.check != "" {
		h.checkRun(t, head, s.check, s.at.Add(30*time.Minute))
	}
	h.set(s.at.Add(time.Hour))
	sha, err := e.Merge(Owner, Name, number, githubtest.MergeOptions{Method: s.method, User: s.mergedBy})
	if err != nil {
		t.Fatalf("merge %s: %v", s.name, err)
	}
	h.Commits[s.name] = sha
	if s.check == "failure" {
		// A re-run after the merge turns green: it must not count.
		h.checkRun(t, head, "success", s.at.Add(2*time.Hour))
	}
}

// checkRun creates a promobot check run on head, completed at done unless
// conclusion is "in_progress".
func (h *History) checkRun(t githubtest.TB, head, conclusion string, done time.Time) {
	t.Helper()
	h.set(done.Add(-5 * time.Minute))
	client := h.Fixture.Client(t, h.Token(t))
	opts := github.CreateCheckRunOptions{Name: "promobot", HeadSHA: head}
	if conclusion == "in_progress" {
		opts.Status = github.String("in_progress")
	} else {
		opts.Status = github.String("completed")
		opts.Conclusion = github.String(conclusion)
		opts.CompletedAt = &github.Timestamp{Time: done}
	}
	if _, _, err := client.Checks.CreateCheckRun(context.Background(), Owner, Name, opts); err != nil {
		t.Fatalf("create check run: %v", err)
	}
}

func (h *History) tip(t githubtest.TB) string {
	t.Helper()
	repo, err := git.PlainOpen(h.Path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName("main"), true)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return ref.Hash().String()
}

// String describes the history for failure messages.
func (h *History) String() string {
	return fmt.Sprintf("history at %s with %d steps", h.Path, len(h.Commits))
}
