package bot

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/githubapi/retry"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/retrytest"
)

// The request budget of issue 5: what one evaluation may cost against an
// installation's rate limit (5,000 requests an hour on github.com).
const (
	maxColdRequests      = 8
	maxUnchangedRequests = 3
	installationHourly   = 5000
)

const (
	tokenRoute   = "POST /app/installations/{installation_id}/access_tokens"
	reviewsRoute = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"
	teamsRoute   = "GET /orgs/{org}/teams/{team_slug}/members"
)

// wireRecord is one request on the wire.
type wireRecord struct {
	route  string // METHOD and path
	status int
	at     time.Time // on the budget clock
	// used is the installation's X-RateLimit-Used after the request, -1
	// when the answer had none (App JWT requests have their own bucket;
	// injected faults carry no counters).
	used int
}

// wire records requests below the budget chain and the token transport,
// where GitHub would see them.
type wire struct {
	clock *retrytest.Clock
	next  http.RoundTripper
	mu    sync.Mutex
	log   []wireRecord
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(r)
	rec := wireRecord{route: r.Method + " " + r.URL.Path, at: w.clock.Now(), used: -1}
	if err == nil {
		rec.status = resp.StatusCode
		if v, convErr := strconv.Atoi(resp.Header.Get("X-RateLimit-Used")); convErr == nil && !strings.HasPrefix(r.URL.Path, "/api/v3/app/") {
			rec.used = v
		}
	}
	w.mu.Lock()
	w.log = append(w.log, rec)
	w.mu.Unlock()
	return resp, err
}

// take returns and forgets the requests recorded so far.
func (w *wire) take() []wireRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.log
	w.log = nil
	return out
}

// cost is what a series of requests costs.
type cost struct {
	raw int // requests sent, the installation token included
	// billable are the requests the installation's rate limit counted:
	// not 304s, and not the token request, which is made as the App.
	billable int
	notModified,
	token int
}

func (c cost) String() string {
	return fmt.Sprintf("%d requests on the wire (%d of them 304, %d token), %d billable to the installation", c.raw, c.notModified, c.token, c.billable)
}

// costOf sums records; billable comes from GitHub's own counter.
func costOf(records []wireRecord, usedBefore int) (cost, int) {
	var c cost
	used := usedBefore
	for _, r := range records {
		c.raw++
		switch {
		case strings.HasSuffix(r.route, "/access_tokens"):
			c.token++
		case r.status == http.StatusNotModified:
			c.notModified++
		}
		used = max(used, r.used)
	}
	c.billable = used - usedBefore
	return c, used
}

// budgetHarness is the end-to-end harness with the API budget on.
type budgetHarness struct {
	*harness
	clock *retrytest.Clock
	wire  *wire
	used  int // the installation's X-RateLimit-Used so far
}

// newBudgetHarness is newHarness with githubapi.Config.Budget set, retries
// on the fake clock, and the wire recorded.
func newBudgetHarness(t testing.TB) *budgetHarness {
	t.Helper()
	return newHarnessWithBudget(t, true)
}

// newHarnessWithBudget builds the harness with the budget on or, for
// comparison, off.
func newHarnessWithBudget(t testing.TB, on bool) *budgetHarness {
	t.Helper()
	h := newWorld(t)
	fx := h.Fixture
	_, keyPEM := world.AppKey()
	b := &budgetHarness{harness: h, clock: retrytest.NewClock(time.Now())}
	h.metrics = metrics.New()
	b.wire = &wire{clock: b.clock, next: h.metrics.InstrumentTransport(http.DefaultTransport)}
	cfg := githubapi.Config{BaseURL: fx.URL(), AppID: testAppID, PrivateKey: keyPEM, Transport: b.wire}
	if on {
		cfg.Budget = &githubapi.Budget{
			Retry:    retry.Options{Now: b.clock.Now, Sleep: b.clock.Sleep, Jitter: func() float64 { return 0 }},
			Observer: h.metrics,
		}
	}
	apps, err := githubapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mirrors, err := mirror.New(t.TempDir(), mirror.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now, _ := time.Parse(time.RFC3339, evaltest.DefaultNow)
	h.bot, err = New(Config{
		AppID: testAppID, WebhookSecrets: [][]byte{[]byte(testSecret)}, Apps: apps, Mirrors: mirrors,
		Metrics: h.metrics, Logger: world.Logger(t), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	waitAuthenticated(t, h.bot)
	h.server = httptest.NewServer(h.bot.Handler())
	t.Cleanup(func() {
		h.server.Close()
		_ = h.bot.Shutdown(t.Context())
	})
	return b
}

// measure runs step and returns what it cost on the wire.
func (b *budgetHarness) measure(step func()) (cost, []wireRecord) {
	b.T.Helper()
	b.wire.take()
	b.Em.ResetCounts()
	step()
	records := b.wire.take()
	c, used := costOf(records, b.used)
	b.used = used
	return c, records
}

func routes(records []wireRecord) string {
	var out []string
	for _, r := range records {
		out = append(out, fmt.Sprintf("%s %d", r.route, r.status))
	}
	sort.Strings(out)
	return strings.Join(out, "\n\t")
}

// TestRequestBudgetOfAProdPromotion measures a typical prod promotion (two
// manifests, two approvals from members of the two owning teams): cold, in
// a fresh process; unchanged, evaluated again; and a second pull request
// in the now running bot. The figures are logged; run with -v to see them.
func TestRequestBudgetOfAProdPromotion(t *testing.T) {
	t.Parallel()
	b := newBudgetHarness(t)
	n, head := b.promotion(nil)
	b.approve(n, "mara", "rita")

	cold, records := b.measure(func() { b.pullRequestEvent(n, "opened") })
	b.want("cold", head, "success", []string{"2/2 approvals"}, nil)
	t.Logf("cold evaluation, fresh process: %v\n\t%s", cold, routes(records))
	if cold.billable > maxColdRequests || cold.raw-cold.token > maxColdRequests {
		t.Errorf("a cold evaluation cost %v; the budget is %d", cold, maxColdRequests)
	}
	if cold.token != 1 {
		t.Errorf("%d token requests, want 1", cold.token)
	}

	same, records := b.measure(func() { b.pullRequestEvent(n, "reopened") })
	b.want("unchanged", head, "success", []string{"2/2 approvals"}, nil)
	t.Logf("unchanged evaluation: %v\n\t%s", same, routes(records))
	if same.billable > maxUnchangedRequests {
		t.Errorf("an evaluation of unchanged data cost %v; the budget is %d", same, maxUnchangedRequests)
	}
	if same.token != 0 || same.notModified == 0 {
		t.Errorf("unchanged evaluation %v: want no token request and the reads answered 304", same)
	}

	// A second pull request in the running bot: its own reads are new,
	// the teams and permissions are not.
	files := evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator)
	head2 := b.Commit("promote-prod-again", files, "Promote ndx-forecast to prod again", "alex", world.MustTime(t, evaltest.DefaultNow).Add(-time.Hour))
	n2, err := b.Em.OpenPR(testOwner, testRepo, githubtest.NewPullRequest{Title: "Promote again", Head: "promote-prod-again", Base: "main", User: "alex"})
	if err != nil {
		t.Fatal(err)
	}
	b.approve(n2, "mara", "rita")
	second, records := b.measure(func() { b.pullRequestEvent(n2, "opened") })
	b.want("second pull request", head2, "success", nil, nil)
	t.Logf("cold pull request, running process: %v\n\t%s", second, routes(records))
	if second.billable > cold.billable {
		t.Errorf("a second pull request cost %v, more than the first", second)
	}

	t.Logf("evaluations per installation-hour at %d requests: %d cold (fresh process), %d cold (running process), %d unchanged",
		installationHourly, installationHourly/max(cold.billable, 1), installationHourly/max(second.billable, 1), installationHourly/max(same.billable, 1))
	if !testutilCounter(t, b.harness, `promobot_github_api_cache_total{result="hit"}`) {
		t.Error("cache hits are not in the metrics")
	}
}

// TestBudgetFaults injects GitHub's failures into an approved prod promotion
// and checks that the budget chain cures what a retry can cure, waits as
// long as GitHub asks, and fails closed on the rest.
func TestBudgetFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		route      string
		status     int
		headers    map[string]string
		conclusion string
		summaryHas []string
		wantWaits  []time.Duration
		// wantSent is how often route was requested.
		wantSent int
	}{
		{name: "502 then 200 is retried", route: reviewsRoute, status: http.StatusBadGateway,
			conclusion: "success", wantWaits: []time.Duration{500 * time.Millisecond}, wantSent: 2},
		{name: "secondary rate limit waits for Retry-After", route: reviewsRoute, status: http.StatusForbidden,
			headers: map[string]string{"Retry-After": "30"}, conclusion: "success", wantWaits: []time.Duration{30 * time.Second}, wantSent: 2},
		{name: "a team that cannot be seen is unresolvable: fail closed", route: teamsRoute, status: http.StatusNotFound,
			conclusion: "failure", summaryHas: []string{"team membership unknown"}, wantSent: 2},
		{name: "a 502 creating the check run is not retried: nothing is posted", route: "POST /repos/{owner}/{repo}/check-runs",
			status: http.StatusBadGateway, wantSent: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBudgetHarness(t)
			n, head := b.promotion(nil)
			b.approve(n, "mara", "rita")
			b.Em.FailNext(tc.route, tc.status, tc.headers, 1)
			_, records := b.measure(func() { b.pullRequestEvent(n, "opened") })
			if tc.conclusion == "" {
				if runs := b.Em.CheckRuns(testOwner, testRepo, head); len(runs) != 0 {
					t.Errorf("%d check runs posted, want none", len(runs))
				}
			} else {
				b.want("after the fault", head, tc.conclusion, nil, tc.summaryHas)
			}
			if got := b.Em.Counts()[tc.route]; got != tc.wantSent {
				t.Errorf("%s requested %d times, want %d:\n\t%s", tc.route, got, tc.wantSent, routes(records))
			}
			if diff := cmp.Diff(tc.wantWaits, b.clock.Waits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			// No hammering: after the fault, nothing was sent before the
			// wait it asked for was over.
			for i, r := range records {
				if r.status != tc.status || tc.wantWaits == nil {
					continue
				}
				for _, later := range records[i+1:] {
					if later.at.Before(r.at.Add(tc.wantWaits[0])) {
						t.Errorf("%s sent %v after the %d, before the wait ended", later.route, later.at.Sub(r.at), r.status)
					}
				}
				break
			}
		})
	}
}

// TestBudgetPaginatesLargePullRequests evaluates a pull request of 300
// files with 150 reviews: the files cost no request (they are read with
// git), the reviews two pages, and evaluating it again nothing billable
// but the check run.
func TestBudgetPaginatesLargePullRequests(t *testing.T) {
	t.Parallel()
	b := newBudgetHarness(t)
	extra := map[string]string{}
	for i := range 298 {
		extra[fmt.Sprintf("docs/runbooks/%03d.md", i)] = fmt.Sprintf("# Runbook %d\n", i)
	}
	n, head := b.promotion(extra)
	commenters := []string{"walt", "val", "vic", "erin", "paula", "pat", "mike", "rob"}
	for i := range 148 {
		if _, err := b.Em.Review(testOwner, testRepo, n, commenters[i%len(commenters)], "COMMENTED", "noted"); err != nil {
			t.Fatal(err)
		}
	}
	b.approve(n, "mara", "rita")

	cold, records := b.measure(func() { b.pullRequestEvent(n, "opened") })
	run := b.Latest(head)
	if run.Status != "completed" || strings.HasPrefix(run.Title, "could not evaluate") {
		t.Fatalf("check run %s/%s %q, want a verdict", run.Status, run.Conclusion, run.Title)
	}
	if !strings.Contains(run.Summary, "@mara") || !strings.Contains(run.Summary, "@rita") {
		t.Errorf("the approvals on the second page of reviews are missing from the summary:\n%s", run.Summary)
	}
	t.Logf("300 files, 150 reviews, cold: %v\n\t%s", cold, routes(records))
	if got := b.Em.Counts()[reviewsRoute]; got != 2 {
		t.Errorf("%d requests for 150 reviews, want 2 pages of 100", got)
	}
	for route, count := range b.Em.Counts() {
		if strings.Contains(route, "/files") {
			t.Errorf("%s requested %d times; files come from git", route, count)
		}
	}
	if cold.billable > maxColdRequests+1 {
		t.Errorf("cold evaluation cost %v, want at most one page more than the budget of %d", cold, maxColdRequests)
	}

	same, records := b.measure(func() { b.pullRequestEvent(n, "reopened") })
	t.Logf("300 files, 150 reviews, unchanged: %v\n\t%s", same, routes(records))
	if same.billable > maxUnchangedRequests {
		t.Errorf("unchanged evaluation cost %v; the budget is %d", same, maxUnchangedRequests)
	}
}

// BenchmarkUnchangedEvaluation measures evaluating an approved prod
// promotion again with nothing changed, from the delivery to the completed
// check run, without and with the budget chain (whose reads are then all
// revalidated and answered 304 from the cache).
func BenchmarkUnchangedEvaluation(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("budget=%v", on), func(b *testing.B) {
			h := newHarnessWithBudget(b, on)
			n, _ := h.promotion(nil)
			h.approve(n, "mara", "rita")
			h.pullRequestEvent(n, "opened")
			b.ResetTimer()
			for b.Loop() {
				h.pullRequestEvent(n, "synchronize")
			}
		})
	}
}
