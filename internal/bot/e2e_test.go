package bot

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// promotion opens alex's pull request promoting the bundle to prod and
// returns its number and head.
func (h *harness) promotion(extra map[string]string) (int, string) {
	h.T.Helper()
	files := evaltest.Merge(evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator), extra)
	sha := h.Commit("promote-prod", files, "Promote ndx-forecast to prod", "alex", world.MustTime(h.T, evaltest.DefaultNow).Add(-time.Hour))
	n, err := h.Em.OpenPR(testOwner, testRepo, githubtest.NewPullRequest{Title: "Promote ndx-forecast to prod", Head: "promote-prod", Base: "main", User: "alex"})
	if err != nil {
		h.T.Fatal(err)
	}
	return n, sha
}

// pullRequestEvent delivers a pull_request event and waits for the bot.
func (h *harness) pullRequestEvent(n int, action string) {
	h.T.Helper()
	p, err := h.Em.PullRequestEvent(h.T.Context(), testOwner, testRepo, n, action, "")
	if err != nil {
		h.T.Fatal(err)
	}
	if got := h.deliver("pull_request", p, testSecret); got != http.StatusAccepted {
		h.T.Fatalf("pull_request %s: status %d, want 202", action, got)
	}
	h.idle()
}

// approve submits approvals without delivering their events.
func (h *harness) approve(n int, logins ...string) {
	h.T.Helper()
	for _, login := range logins {
		if _, err := h.Em.Review(testOwner, testRepo, n, login, "APPROVED", ""); err != nil {
			h.T.Fatal(err)
		}
	}
}

// review submits a review, delivers its event and waits for the bot.
func (h *harness) review(n int, login, state string) {
	h.T.Helper()
	h.submitReview(n, login, state)
	h.idle()
}

// submitReview submits a review and delivers its event without waiting for
// the bot; it returns the event's payload, for redelivery.
func (h *harness) submitReview(n int, login, state string) githubtest.Payload {
	h.T.Helper()
	id, err := h.Em.Review(testOwner, testRepo, n, login, state, "")
	if err != nil {
		h.T.Fatal(err)
	}
	p, err := h.Em.PullRequestReviewEvent(h.T.Context(), testOwner, testRepo, n, id, "submitted", "")
	if err != nil {
		h.T.Fatal(err)
	}
	if got := h.deliver("pull_request_review", p, testSecret); got != http.StatusAccepted {
		h.T.Fatalf("review by %s: status %d, want 202", login, got)
	}
	return p
}

// want checks the newest check run on sha.
func (h *harness) want(step, sha, conclusion string, titleHas, summaryHas []string) {
	h.T.Helper()
	run := h.Latest(sha)
	if run.Status != "completed" || run.Conclusion != conclusion {
		h.T.Errorf("%s: check run %s/%s %q, want completed/%s", step, run.Status, run.Conclusion, run.Title, conclusion)
	}
	if run.Name != DefaultCheckName {
		h.T.Errorf("%s: check run named %q", step, run.Name)
	}
	for _, s := range titleHas {
		if !strings.Contains(run.Title, s) {
			h.T.Errorf("%s: title %q lacks %q", step, run.Title, s)
		}
	}
	for _, s := range summaryHas {
		if !strings.Contains(run.Summary, s) {
			h.T.Errorf("%s: summary lacks %q:\n%s", step, s, run.Summary)
		}
	}
}

func TestEndToEndProdPromotion(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)

	h.Em.ResetCounts()
	h.pullRequestEvent(n, "opened")
	h.want("opened", head, "failure", []string{"needs 2 more approvals", "elasticnet-ndx in prod"}, nil)
	t.Logf("cold evaluation: %d API requests: %v", total(h.Em.Counts()), h.Em.Counts())
	if len(h.Latest(head).Annotations) == 0 {
		t.Error("no annotation on the manifests that lack approvals")
	}

	h.review(n, "mara", "APPROVED")
	h.want("one owner approved", head, "failure", []string{"needs 1 more approval"}, []string{"@mara"})

	h.review(n, "alex", "APPROVED")
	h.want("the author approved", head, "failure", []string{"needs 1 more approval"}, []string{"alex", "author"})

	h.review(n, "rita", "APPROVED")
	h.want("a second owner approved", head, "success", []string{"2/2 approvals"}, []string{"@mara", "@rita"})

	// A new push makes every approval stale.
	newHead := h.Commit("promote-prod", map[string]string{"README.md": "# Models\n\nNow with prod.\n"}, "Say so", "alex", world.MustTime(t, evaltest.DefaultNow))
	if got, err := h.Em.SyncPR(testOwner, testRepo, n); err != nil || got != newHead {
		t.Fatalf("SyncPR = %s, %v; want %s", got, err, newHead)
	}
	h.pullRequestEvent(n, "synchronize")
	h.want("new push", newHead, "failure", []string{"needs 2 more approvals"}, []string{"stale"})
	if got := h.Latest(head).Conclusion; got != "success" {
		t.Errorf("the old head's check run changed to %s", got)
	}
	if unexpected := h.Em.UnexpectedRequests(); len(unexpected) > 0 {
		t.Errorf("requests the emulator does not know: %v", unexpected)
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestEndToEndChangedCodeOwnersAreNotTrusted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	// alex makes himself the owner of prod in the same change.
	owners := evaltest.CodeOwners + "/environments/prod/          @alex\n"
	n, head := h.promotion(map[string]string{".github/CODEOWNERS": owners})
	h.pullRequestEvent(n, "opened")
	h.want("opened", head, "failure", nil, []string{"@example-org/model-risk"})

	h.review(n, "alex", "APPROVED")
	h.review(n, "mara", "APPROVED")
	h.review(n, "rita", "APPROVED")
	// The base's owners approved the manifests; the change to CODEOWNERS
	// itself still needs the platform admins, and alex counts for nothing.
	h.want("owners approved", head, "failure", []string{".github/CODEOWNERS", "platform-admins"}, []string{"author"})
	run := h.Latest(head)
	for _, line := range strings.Split(run.Summary, "\n") {
		if strings.Contains(line, "environments/prod/") && strings.Contains(line, "`@alex`") && !strings.Contains(line, "author") {
			t.Errorf("the head's CODEOWNERS was used: %s", line)
		}
	}
}

func TestEndToEndForgedSignatureIsRefusedWithoutAnyCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, _ := h.promotion(nil)
	p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "opened", "")
	if err != nil {
		t.Fatal(err)
	}
	h.Em.ResetCounts()
	if got := h.deliver("pull_request", p, "not-the-secret"); got != http.StatusUnauthorized {
		t.Errorf("forged delivery: status %d, want 401", got)
	}
	if err := h.bot.Shutdown(t.Context()); err != nil { // drain: nothing may be queued
		t.Fatal(err)
	}
	if counts := h.Em.Counts(); len(counts) != 0 {
		t.Errorf("the forged delivery caused API requests: %v", counts)
	}
	if got := testutilCounter(t, h, `promobot_webhook_deliveries_total{event="unknown",outcome="unauthorized"} 1`); !got {
		t.Error("the refused delivery was not counted")
	}
}

func TestEndToEndGitHubErrorsAreNeverGreen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		status   int
		// wantTitle is the failure's title; empty means no completed run is
		// expected (nothing could be posted, or the conclusion could not).
		wantTitle string
	}{
		{name: "reviews", endpoint: "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", status: 502,
			wantTitle: "could not evaluate: GitHub answered 502 to list reviews of example-org/models#1"},
		{name: "commits", endpoint: "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", status: 500,
			wantTitle: "could not evaluate: GitHub answered 500 to list commits of example-org/models#1"},
		{name: "team members", endpoint: "GET /orgs/{org}/teams/{team_slug}/members", status: 503,
			wantTitle: "could not evaluate: GitHub answered 503 to list members of team example-org/model-risk"},
		{name: "permission, secondary rate limit", endpoint: "GET /repos/{owner}/{repo}/collaborators/{username}/permission", status: 403,
			wantTitle: "could not evaluate: GitHub answered 403 to get the permission of mara on example-org/models"},
		{name: "token", endpoint: "POST /app/installations/{installation_id}/access_tokens", status: 500},
		{name: "creating the check run", endpoint: "POST /repos/{owner}/{repo}/check-runs", status: 502},
		{name: "reading the pull request", endpoint: "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", status: 502},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, harnessOptions{})
			n, head := h.promotion(nil)
			h.approve(n, "mara", "rita")
			h.Em.FailNext(tc.endpoint, tc.status, nil, 1)
			h.pullRequestEvent(n, "opened")
			for _, run := range h.Em.CheckRuns(testOwner, testRepo, head) {
				if run.Conclusion == "success" {
					t.Fatalf("a green check run was posted despite the error: %+v", run.Title)
				}
			}
			if tc.wantTitle != "" {
				h.want("after the error", head, "failure", []string{tc.wantTitle}, []string{"fails closed"})
			}

			// Control: without the error the same pull request passes.
			h.pullRequestEvent(n, "reopened")
			h.want("control", head, "success", nil, nil)
		})
	}
}

func TestEndToEndRerequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	h.pullRequestEvent(n, "opened")
	first := h.Latest(head)

	// The check run's "Re-run" button.
	p, err := h.Em.CheckRunEvent(t.Context(), testOwner, testRepo, first.ID, "rerequested", "mara")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.deliver("check_run", p, testSecret); got != http.StatusAccepted {
		t.Fatalf("check_run: status %d", got)
	}
	h.idle()
	if runs := h.Em.CheckRuns(testOwner, testRepo, head); len(runs) != 2 {
		t.Errorf("%d check runs after a re-run, want 2", len(runs))
	}

	// "Re-run all checks": a check suite without pull requests listed is
	// resolved through the API.
	p, err = h.Em.CheckSuiteEvent(t.Context(), testOwner, testRepo, head, "rerequested", "mara")
	if err != nil {
		t.Fatal(err)
	}
	p["check_suite"].(map[string]any)["pull_requests"] = []any{}
	if got := h.deliver("check_suite", p, testSecret); got != http.StatusAccepted {
		t.Fatalf("check_suite: status %d", got)
	}
	h.idle()
	if runs := h.Em.CheckRuns(testOwner, testRepo, head); len(runs) != 3 {
		t.Errorf("%d check runs after re-running the suite, want 3", len(runs))
	}
	h.want("rerequested", head, "failure", []string{"needs 2 more approvals"}, nil)
}

func TestEndToEndIgnoredDeliveries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	tests := []struct {
		name, event string
		payload     func() githubtest.Payload
	}{
		{name: "ping", event: "ping", payload: func() githubtest.Payload {
			return githubtest.Payload{"zen": "Keep it logically awesome.", "hook_id": 1}
		}},
		{name: "closed", event: "pull_request", payload: func() githubtest.Payload {
			p, _ := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "closed", "")
			return p
		}},
		{name: "edited title only", event: "pull_request", payload: func() githubtest.Payload {
			p, _ := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "edited", "")
			p["changes"] = map[string]any{"title": map[string]any{"from": "old"}}
			return p
		}},
		{name: "an event nobody subscribed to", event: "star", payload: func() githubtest.Payload {
			return githubtest.Payload{"action": "created"}
		}},
	}
	h.Em.ResetCounts()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.deliver(tc.event, tc.payload(), testSecret); got != http.StatusAccepted {
				t.Errorf("status %d, want 202", got)
			}
		})
	}
	h.idle()
	if counts := h.Em.Counts(); len(counts) != 0 {
		t.Errorf("ignored deliveries caused API requests: %v", counts)
	}
	if runs := h.Em.CheckRuns(testOwner, testRepo, head); len(runs) != 0 {
		t.Errorf("ignored deliveries created check runs: %d", len(runs))
	}
}

// gatedEngine is the policy engine with hooks: it counts evaluations, can
// hold one until released, and can pad the output.
type gatedEngine struct {
	PolicyEngine
	mu          sync.Mutex
	evaluations int
	gateAt      int           // the evaluation that waits; 0 means the first
	started     chan struct{} // closed when the gated evaluation starts
	release     chan struct{} // the gated evaluation waits for it
	extraAnns   int
	padSummary  int
}

func (g *gatedEngine) Evaluate(in *evaluate.Input) *evaluate.Result {
	g.mu.Lock()
	g.evaluations++
	gated := g.evaluations == max(g.gateAt, 1)
	g.mu.Unlock()
	if gated && g.release != nil {
		close(g.started)
		<-g.release
	}
	return g.PolicyEngine.Evaluate(in)
}

func (g *gatedEngine) Summary(r *evaluate.Result) (string, error) {
	s, err := g.PolicyEngine.Summary(r)
	return s + strings.Repeat("é", g.padSummary), err
}

func (g *gatedEngine) Annotations(r *evaluate.Result) []evaluate.Annotation {
	out := g.PolicyEngine.Annotations(r)
	for i := range g.extraAnns {
		out = append(out, evaluate.Annotation{Path: "environments/prod/elasticnet-ndx.yaml", Line: i + 1, Level: evaluate.AnnotationNotice, Title: "extra", Message: fmt.Sprintf("note %d", i)})
	}
	return out
}

func (g *gatedEngine) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.evaluations
}

func TestEndToEndCoalescesReviewBursts(t *testing.T) {
	t.Parallel()
	engine := &gatedEngine{started: make(chan struct{}), release: make(chan struct{})}
	h := newHarness(t, harnessOptions{workers: 4, engine: engine})
	n, head := h.promotion(nil)
	p := h.submitReview(n, "mara", "APPROVED")
	<-engine.started
	for range 50 {
		if got := h.deliver("pull_request_review", p, testSecret); got != http.StatusAccepted {
			t.Fatalf("status %d", got)
		}
	}
	close(engine.release)
	h.idle()
	if got := engine.count(); got > 3 {
		t.Errorf("51 deliveries about one pull request caused %d evaluations, want at most 3", got)
	}
	t.Logf("51 deliveries, %d evaluations, %d check runs", engine.count(), len(h.Em.CheckRuns(testOwner, testRepo, head)))
	if !testutilCounter(t, h, `promobot_queue_jobs_total{outcome="coalesced"} 49`) {
		t.Errorf("coalesced jobs not counted:\n%s", grep(h.get("/metrics"), "queue_jobs_total"))
	}
}

func TestEndToEndBatchesAnnotationsAndTruncatesTheSummary(t *testing.T) {
	t.Parallel()
	engine := &gatedEngine{extraAnns: 118, padSummary: 40000} // 80,000 bytes of padding
	h := newHarness(t, harnessOptions{engine: engine})
	n, head := h.promotion(nil)
	h.Em.ResetCounts()
	h.pullRequestEvent(n, "opened")
	run := h.Latest(head)
	if run.Status != "completed" || run.Conclusion != "failure" {
		t.Fatalf("check run %s/%s", run.Status, run.Conclusion)
	}
	if got := len(run.Annotations); got != 120 {
		t.Errorf("%d annotations posted, want 120", got)
	}
	if got := h.Em.Counts()["PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}"]; got != 3 {
		t.Errorf("%d check run updates for 120 annotations, want 3", got)
	}
	if got := len(run.Summary); got > 65535 || !utf8.ValidString(run.Summary) || !strings.Contains(run.Summary, "truncated") {
		t.Errorf("summary of %d bytes (valid UTF-8: %v), want at most 65535 with a truncation note", got, utf8.ValidString(run.Summary))
	}
}

func TestEndToEndOperationalEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, _ := h.promotion(nil)
	h.pullRequestEvent(n, "opened")
	if got := h.get("/healthz"); got != "ok\n" {
		t.Errorf("healthz: %q", got)
	}
	// Ready once the App has authenticated as itself, which it does in the
	// background from the start.
	deadline := time.Now().Add(10 * time.Second)
	for h.get("/readyz") != "ready\n" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := h.get("/readyz"); got != "ready\n" {
		t.Errorf("readyz: %q", got)
	}
	m := h.get("/metrics")
	for _, want := range []string{
		`promobot_webhook_deliveries_total{event="pull_request",outcome="accepted"} 1`,
		`promobot_evaluation_duration_seconds_count{conclusion="failure"} 1`,
		`promobot_github_api_requests_total{code="201",endpoint="/repos/{}/{}/check-runs",method="POST"} 1`,
		`promobot_github_api_requests_total{code="201",endpoint="/app/installations/{}/access_tokens",method="POST"} 1`,
		`promobot_git_fetch_duration_seconds_count{outcome="updated"} 1`,
		`promobot_queue_depth 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, testSecret) {
		t.Error("the metrics show the webhook secret")
	}
	if err := h.bot.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := h.get("/readyz"); got != "draining\n" {
		t.Errorf("readyz while draining: %q", got)
	}
	p, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "synchronize", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.deliver("pull_request", p, testSecret); got != http.StatusServiceUnavailable {
		t.Errorf("delivery while draining: status %d, want 503", got)
	}
}

func grep(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestEndToEndRequestBudget pins what one cold evaluation of an approved
// prod promotion costs, per endpoint, so a change in cost is a decision.
func TestEndToEndRequestBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	h.approve(n, "mara", "rita")
	h.Em.ResetCounts()
	h.pullRequestEvent(n, "opened")
	h.want("approved", head, "success", nil, nil)
	want := map[string]int{
		"POST /app/installations/{installation_id}/access_tokens":       1,
		"POST /repos/{owner}/{repo}/check-runs":                         1,
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/commits":         1,
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews":         1,
		"GET /orgs/{org}/teams/{team_slug}/members":                     2,
		"GET /repos/{owner}/{repo}/collaborators/{username}/permission": 2,
		"GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls":          1,
	}
	if diff := cmp.Diff(want, h.Em.Counts()); diff != "" {
		t.Errorf("requests of a cold evaluation (-want +got):\n%s", diff)
	}

	// Warm, inputs unchanged: the token is reused, and the job is dropped
	// once the base tip and the reviews show the inputs' fingerprint is the
	// check run's (coalesce.go): no commits, teams, permissions or write.
	h.Em.ResetCounts()
	h.pullRequestEvent(n, "reopened")
	h.idle()
	coalesced := map[string]int{
		"GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls":  1,
		"GET /repos/{owner}/{repo}/git/ref/{ref}":               1,
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews": 1,
	}
	if diff := cmp.Diff(coalesced, h.Em.Counts()); diff != "" {
		t.Errorf("requests of a repeated evaluation (-want +got):\n%s", diff)
	}

	// Warm, a label changed: the token is reused.
	if _, _, err := h.apiAs("alex").Issues.AddLabelsToIssue(t.Context(), testOwner, testRepo, n, []string{"docs"}); err != nil {
		t.Fatal(err)
	}
	h.Em.ResetCounts()
	h.pullRequestEvent(n, "labeled")
	h.idle()
	delete(want, "POST /app/installations/{installation_id}/access_tokens")
	want["GET /repos/{owner}/{repo}/git/ref/{ref}"] = 1
	if diff := cmp.Diff(want, h.Em.Counts()); diff != "" {
		t.Errorf("requests of a warm evaluation (-want +got):\n%s", diff)
	}
}
