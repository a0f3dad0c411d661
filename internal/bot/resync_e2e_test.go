package bot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// simplePR opens a pull request changing a README on its own branch: no
// gated file, so it passes on its own.
func (h *harness) simplePR(branch string) (int, string) {
	h.T.Helper()
	sha := h.Commit(branch, map[string]string{"README.md": "# Models\n\n" + branch + "\n"}, "Docs for "+branch, "alex", world.MustTime(h.T, evaltest.DefaultNow).Add(-time.Hour))
	n, err := h.Em.OpenPR(testOwner, testRepo, githubtest.NewPullRequest{Title: "Docs " + branch, Head: branch, Base: "main", User: "alex"})
	if err != nil {
		h.T.Fatal(err)
	}
	return n, sha
}

// resync runs one resynchronization pass and waits for its evaluations.
func (h *harness) resync(recheck bool) {
	h.T.Helper()
	if err := h.bot.Resync(h.T.Context(), recheck); err != nil {
		h.T.Fatal(err)
	}
	h.idle()
}

// runs returns how many check runs sha has.
func (h *harness) runs(sha string) int { return len(h.Em.CheckRuns(testOwner, testRepo, sha)) }

func TestEndToEndResyncFindsWhatWasLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	_, docsHead := h.simplePR("docs")

	// Nothing was delivered: both pull requests get their check run.
	h.resync(false)
	h.want("opened, not delivered", head, "failure", []string{"needs 2 more approvals"}, nil)
	h.want("docs, not delivered", docsHead, "success", []string{"no promotion changes"}, nil)

	// Up to date: a pass reads, never writes.
	h.Em.ResetCounts()
	h.resync(false)
	for endpoint := range h.Em.Counts() {
		if !strings.HasPrefix(endpoint, "GET ") {
			t.Errorf("a pass over up-to-date pull requests caused %s", endpoint)
		}
	}
	if got := h.Em.Counts()["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"]; got != 1 {
		t.Errorf("%d review lists read, want 1: the docs pull request has no gated file", got)
	}

	// Lost reviews are found.
	h.approve(n, "mara", "rita")
	h.resync(false)
	h.want("reviews, not delivered", head, "success", []string{"2/2 approvals"}, nil)

	// A lost label is found (the verdict stays, the fingerprint changes).
	before := h.runs(head)
	if _, _, err := h.apiAs("alex").Issues.AddLabelsToIssue(t.Context(), testOwner, testRepo, n, []string{"freeze-override"}); err != nil {
		t.Fatal(err)
	}
	h.resync(false)
	if got := h.runs(head); got != before+1 {
		t.Errorf("%d check runs after a lost label, want %d", got, before+1)
	}

	// A team membership change sends no event: only the recheck sees it,
	// and writes only because the verdict changed.
	h.Em.RemoveTeamMember("example-org", "model-risk", "mara")
	before = h.runs(head)
	h.resync(false)
	if got := h.runs(head); got != before {
		t.Errorf("a pass without recheck wrote %d check runs", got-before)
	}
	h.resync(true)
	h.want("mara left model-risk", head, "failure", []string{"needs 1 more approval"}, nil)
	before = h.runs(head)
	h.resync(true)
	if got := h.runs(head); got != before {
		t.Errorf("a recheck with the same verdict wrote %d check runs", got-before)
	}
	if got := h.runs(docsHead); got != 1 {
		t.Errorf("the docs pull request has %d check runs, want 1", got)
	}

	// An evaluation that could not complete is retried. (A re-run asked
	// for evaluates even unchanged inputs.)
	h.Em.FailNext("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", 502, nil, 1)
	p, err := h.Em.CheckSuiteEvent(t.Context(), testOwner, testRepo, docsHead, "rerequested", "alex")
	if err != nil {
		t.Fatal(err)
	}
	h.event("check_suite", p)
	h.want("GitHub failed", docsHead, "failure", []string{"could not evaluate"}, nil)
	h.resync(false)
	h.want("retried", docsHead, "success", []string{"no promotion changes"}, nil)
}

// killableWire is a transport that fails every request once killed, like
// a process that is gone.
type killableWire struct {
	next http.RoundTripper
	dead atomic.Bool
}

func (k *killableWire) RoundTrip(r *http.Request) (*http.Response, error) {
	if k.dead.Load() {
		return nil, errors.New("killed")
	}
	return k.next.RoundTrip(r)
}

// TestEndToEndRestartLosesNothing stops a bot with a review queued behind
// an evaluation that is cut off in the middle, as a crash or a deploy
// would, and starts another: its first resynchronization finishes both.
func TestEndToEndRestartLosesNothing(t *testing.T) {
	t.Parallel()
	engine := &gatedEngine{gateAt: 2, started: make(chan struct{}), release: make(chan struct{})}
	wire := &killableWire{}
	h := newHarness(t, harnessOptions{workers: 1, engine: engine, wire: func(rt http.RoundTripper) http.RoundTripper {
		wire.next = rt
		return wire
	}})
	n, head := h.promotion(nil)
	h.pullRequestEvent(n, "opened")
	h.want("opened", head, "failure", []string{"needs 2 more approvals"}, nil)

	// The second evaluation (of another pull request) holds the only
	// worker; the approvals' evaluation waits behind it.
	docs, docsHead := h.simplePR("docs")
	p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, docs, "opened", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.deliver("pull_request", p, testSecret); got != http.StatusAccepted {
		t.Fatalf("status %d", got)
	}
	<-engine.started
	for _, login := range []string{"mara", "rita"} {
		h.submitReview(n, login, "APPROVED")
	}

	// The process dies: nothing it does from now on reaches GitHub.
	wire.dead.Store(true)
	close(engine.release)
	old := h.bot
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_ = old.Shutdown(ctx)
	// The check run is created with the verdict: the killed evaluation
	// left none.
	if runs := h.Em.CheckRuns(testOwner, testRepo, docsHead); len(runs) != 0 {
		t.Fatalf("the killed evaluation left %d check runs, want none", len(runs))
	}
	if run := h.Latest(head); run.Conclusion != "failure" {
		t.Fatalf("the approvals were evaluated before the restart: %s", run.Conclusion)
	}

	// A new process, an hour later: its first pass finds the approvals and
	// the head without a check run.
	later := world.MustTime(t, evaltest.DefaultNow).Add(time.Hour)
	h.start(harnessOptions{resyncInterval: time.Hour, now: func() time.Time { return later }})
	deadline := time.Now().Add(30 * time.Second)
	for h.Latest(head).Conclusion != "success" || len(h.Em.CheckRuns(testOwner, testRepo, docsHead)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: %+v / %+v", h.Latest(head), h.Latest(docsHead))
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.idle()
	h.want("after the restart", head, "success", []string{"2/2 approvals"}, nil)
	h.want("abandoned evaluation finished", docsHead, "success", []string{"no promotion changes"}, nil)
}

func TestEndToEndFullQueueAnswers503AndResyncRecovers(t *testing.T) {
	t.Parallel()
	engine := &gatedEngine{started: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, harnessOptions{workers: 1, queueSize: 1, engine: engine})
	var heads []string
	statuses := map[int]int{}
	for i, branch := range []string{"a", "b", "c"} {
		n, head := h.simplePR(branch)
		heads = append(heads, head)
		p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "opened", "")
		if err != nil {
			t.Fatal(err)
		}
		statuses[i] = h.deliver("pull_request", p, testSecret)
		if i == 0 {
			<-engine.started
		}
	}
	if statuses[0] != 202 || statuses[1] != 202 || statuses[2] != http.StatusServiceUnavailable {
		t.Fatalf("statuses %v, want 202, 202 (queued), 503 (full)", statuses)
	}
	close(engine.release)
	h.idle()
	if got := h.runs(heads[2]); got != 0 {
		t.Fatalf("the refused delivery was evaluated anyway: %d check runs", got)
	}
	h.resync(false)
	for i, head := range heads {
		if got := h.runs(head); got != 1 {
			t.Errorf("pull request %d: %d check runs, want 1", i+1, got)
		}
	}
	if !testutilCounter(t, h, `promobot_webhook_deliveries_total{event="pull_request",outcome="busy"} 1`) {
		t.Error("the refused delivery was not counted")
	}
}

func TestEndToEndDuplicateDeliveryIsProcessedOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "opened", "")
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	for range 3 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, h.server.URL+"/webhook", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d", resp.StatusCode)
		}
		h.idle()
	}
	if got := h.runs(head); got != 1 {
		t.Errorf("one delivery sent three times made %d check runs, want 1", got)
	}
	if !testutilCounter(t, h, `promobot_webhook_deliveries_total{event="pull_request",outcome="duplicate"} 2`) {
		t.Errorf("duplicates not counted:\n%s", grep(h.get("/metrics"), "deliveries_total"))
	}
}
