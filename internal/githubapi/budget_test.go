package githubapi

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi/httpcache"
	"github.com/example-org/promobot/internal/githubapi/retry"
	"github.com/example-org/promobot/internal/testing/retrytest"
)

const (
	reviewsEndpoint    = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"
	permissionEndpoint = "GET /repos/{owner}/{repo}/collaborators/{username}/permission"
	tokenEndpoint      = "POST /app/installations/{installation_id}/access_tokens"
)

// observer records what the budget reports.
type observer struct {
	mu      sync.Mutex
	events  []string
	retries []string
}

func (o *observer) GitHubCache(result string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, result)
}

func (o *observer) GitHubRetry(reason string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retries = append(o.retries, reason)
}

func (o *observer) take() (cache, retries []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	cache, retries = o.events, o.retries
	o.events, o.retries = nil, nil
	return cache, retries
}

type budgetEnv struct {
	*env
	clock *retrytest.Clock
	obs   *observer
	// conditions records, per installation client in creation order,
	// whether each request below the budget chain carried If-None-Match.
	mu         sync.Mutex
	conditions map[int][]bool
}

func newBudgetEnv(t *testing.T) *budgetEnv {
	t.Helper()
	b := &budgetEnv{clock: retrytest.NewClock(time.Now()), obs: &observer{}, conditions: map[int][]bool{}}
	var created int
	record := func(next http.RoundTripper) http.RoundTripper {
		b.mu.Lock()
		index := created
		created++
		b.mu.Unlock()
		return rtFunc(func(r *http.Request) (*http.Response, error) {
			b.mu.Lock()
			b.conditions[index] = append(b.conditions[index], r.Header.Get("If-None-Match") != "")
			b.mu.Unlock()
			return next.RoundTrip(r)
		})
	}
	b.env = newEnvConfig(t, Config{
		Middleware: []Middleware{record},
		Budget: &Budget{
			Retry:    retry.Options{Now: b.clock.Now, Sleep: b.clock.Sleep, Jitter: func() float64 { return 0 }},
			Observer: b.obs,
		},
	})
	return b
}

func (b *budgetEnv) installation(t *testing.T, id int64) *Client {
	t.Helper()
	c, err := b.apps.Installation(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBudgetRevalidatesPerInstallation(t *testing.T) {
	b := newBudgetEnv(t)
	b.em.AddInstallation(33, "acme", "acme/models")
	first, second := b.installation(t, installationID), b.installation(t, 33)
	for _, c := range []*Client{first, first, second, second} {
		if _, err := c.Reviews(t.Context(), "acme", "models", b.pr); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int][]bool{0: {false, true}, 1: {false, true}}
	if diff := cmp.Diff(want, b.conditions); diff != "" {
		t.Errorf("If-None-Match sent per installation (-want +got):\n%s", diff)
	}
	status := b.em.StatusCounts()
	if status[reviewsEndpoint+" 200"] != 2 || status[reviewsEndpoint+" 304"] != 2 {
		t.Errorf("status counts %v, want two 200s and two 304s", status)
	}
	cache, _ := b.obs.take()
	if diff := cmp.Diff([]string{httpcache.Miss, httpcache.Hit, httpcache.Miss, httpcache.Hit}, cache); diff != "" {
		t.Errorf("cache results (-want +got):\n%s", diff)
	}

	// A new review changes the answer: the next read pays, and sees it.
	if _, err := b.em.Review("acme", "models", b.pr, "mara", "APPROVED", ""); err != nil {
		t.Fatal(err)
	}
	reviews, err := first.Reviews(t.Context(), "acme", "models", b.pr)
	if err != nil || len(reviews) != 1 || reviews[0].User != "mara" {
		t.Errorf("after a new review: %+v, %v", reviews, err)
	}
}

func TestBudgetRetriesBeforeGoGitHubSeesTheLimit(t *testing.T) {
	b := newBudgetEnv(t)
	c := b.client(t)
	ctx := t.Context()
	if _, err := c.PullRequest(ctx, "acme", "models", b.pr); err != nil { // the token first
		t.Fatal(err)
	}
	b.em.ResetCounts()

	b.em.FailNext(reviewsEndpoint, http.StatusForbidden, map[string]string{"Retry-After": "30"}, 1)
	if _, err := c.Reviews(ctx, "acme", "models", b.pr); err != nil {
		t.Fatalf("Reviews after a secondary rate limit: %v", err)
	}
	b.em.FailNext(reviewsEndpoint, http.StatusBadGateway, nil, 1)
	if _, err := c.Reviews(ctx, "acme", "models", b.pr); err != nil {
		t.Fatalf("Reviews after a 502: %v", err)
	}
	// go-github saw only successes, so it does not refuse the next call.
	if _, err := c.Permission(ctx, "acme", "models", "alex"); err != nil {
		t.Fatalf("Permission after the retried limit: %v", err)
	}
	if diff := cmp.Diff([]time.Duration{30 * time.Second, 500 * time.Millisecond}, b.clock.Waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	want := map[string]int{reviewsEndpoint: 4, permissionEndpoint: 1}
	if diff := cmp.Diff(want, b.em.Counts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	_, retries := b.obs.take()
	if diff := cmp.Diff([]string{"secondary_rate_limit", "server_error"}, retries); diff != "" {
		t.Errorf("retries observed (-want +got):\n%s", diff)
	}
}

func TestBudgetPausesTheInstallationWhenTheLimitOutlastsTheWait(t *testing.T) {
	b := newBudgetEnv(t)
	b.em.AddInstallation(33, "acme", "acme/models")
	c, other := b.client(t), b.installation(t, 33)
	ctx := t.Context()
	if _, err := c.PullRequest(ctx, "acme", "models", b.pr); err != nil {
		t.Fatal(err)
	}
	b.em.ResetCounts()

	b.em.FailNext(reviewsEndpoint, http.StatusForbidden, map[string]string{"Retry-After": "3600"}, 1)
	_, err := c.Reviews(ctx, "acme", "models", b.pr)
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != http.StatusForbidden || ge.Terminal || ge.RetryAfter < 59*time.Minute {
		t.Fatalf("Reviews error %#v, want a non-terminal 403 asking for an hour", err)
	}
	// The installation's next call is refused without being sent.
	_, err = c.Permission(ctx, "acme", "models", "alex")
	if !errors.As(err, &ge) || ge.Terminal || ge.RetryAfter <= 0 {
		t.Fatalf("Permission error %v, want a non-terminal error with a RetryAfter", err)
	}
	// Other installations are not paused.
	if _, err := other.Reviews(ctx, "acme", "models", b.pr); err != nil {
		t.Fatalf("another installation: %v", err)
	}
	want := map[string]int{reviewsEndpoint: 2, tokenEndpoint: 1}
	if diff := cmp.Diff(want, b.em.Counts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if w := b.clock.Waits(); len(w) != 0 {
		t.Errorf("waited %v for a limit longer than the wait allowed", w)
	}
}

func TestBudgetWaitsForThePrimaryReset(t *testing.T) {
	b := newBudgetEnv(t)
	c := b.client(t)
	reset := b.clock.Now().Add(90 * time.Second).Truncate(time.Second)
	b.em.FailNext(reviewsEndpoint, http.StatusForbidden, map[string]string{
		"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10),
	}, 1)
	if _, err := c.Reviews(t.Context(), "acme", "models", b.pr); err != nil {
		t.Fatalf("Reviews after a primary rate limit: %v", err)
	}
	if w := b.clock.Waits(); len(w) != 1 || w[0] < 89*time.Second || w[0] > 92*time.Second {
		t.Errorf("waits %v, want one until the reset", w)
	}
}

func TestBudgetRetriesAFailedTokenFetchForAnyMethod(t *testing.T) {
	b := newBudgetEnv(t)
	c := b.client(t)
	b.em.FailNext(tokenEndpoint, http.StatusBadGateway, nil, 1)
	if _, err := c.CreateCheckRun(t.Context(), "acme", "models", CheckRun{Name: "promobot", HeadSHA: b.head, Status: StatusInProgress}); err != nil {
		t.Fatalf("CreateCheckRun after a token 502: %v", err)
	}
	want := map[string]int{tokenEndpoint: 2, "POST /repos/{owner}/{repo}/check-runs": 1}
	if diff := cmp.Diff(want, b.em.Counts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// A refused token (4xx) is not retried.
	b2 := newBudgetEnv(t)
	b2.em.FailNext(tokenEndpoint, http.StatusUnauthorized, nil, 1)
	if _, err := b2.client(t).Reviews(t.Context(), "acme", "models", b2.pr); !failure.IsTerminal(err) {
		t.Errorf("Reviews with a refused token: %v, want a terminal error", err)
	}
	if got := b2.em.Counts()[tokenEndpoint]; got != 1 {
		t.Errorf("%d token requests, want 1", got)
	}
}

func TestBudgetDoesNotRetryWhatCannotChange(t *testing.T) {
	b := newBudgetEnv(t)
	c := b.client(t)
	b.em.FailNext("GET /orgs/{org}/teams/{team_slug}/members", http.StatusNotFound, nil, 1)
	if _, err := c.TeamMembers(t.Context(), "acme", "risk"); !IsNotFound(err) || !failure.IsTerminal(err) {
		t.Errorf("TeamMembers: %v, want a terminal not-found error", err)
	}
	b.em.FailNext("POST /repos/{owner}/{repo}/check-runs", http.StatusBadGateway, nil, 1)
	if _, err := c.CreateCheckRun(t.Context(), "acme", "models", CheckRun{Name: "promobot", HeadSHA: b.head}); failure.IsTerminal(err) || err == nil {
		t.Errorf("CreateCheckRun on a 502: %v, want a non-terminal error", err)
	}
	want := map[string]int{tokenEndpoint: 1, "GET /orgs/{org}/teams/{team_slug}/members": 1, "POST /repos/{owner}/{repo}/check-runs": 1}
	if diff := cmp.Diff(want, b.em.Counts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}
