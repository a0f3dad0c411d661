package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEndpoint(t *testing.T) {
	tests := []struct {
		name, path, want string
	}{
		{name: "pull request", path: "/repos/acme/models/pulls/12", want: "/repos/{}/{}/pulls/{}"},
		{name: "reviews", path: "/repos/acme/models/pulls/12/reviews", want: "/repos/{}/{}/pulls/{}/reviews"},
		{name: "enterprise prefix", path: "/api/v3/repos/acme/models/check-runs/99", want: "/repos/{}/{}/check-runs/{}"},
		{name: "check run create", path: "/repos/acme/models/check-runs", want: "/repos/{}/{}/check-runs"},
		{name: "team members", path: "/orgs/acme/teams/ml-prod/members", want: "/orgs/{}/teams/{}/members"},
		{name: "permission", path: "/repos/acme/models/collaborators/alice/permission", want: "/repos/{}/{}/collaborators/{}/permission"},
		{name: "token", path: "/app/installations/42/access_tokens", want: "/app/installations/{}/access_tokens"},
		{name: "pulls for commit", path: "/repos/a/b/commits/0123abc/pulls", want: "/repos/{}/{}/commits/{}/pulls"},
		{name: "contents path", path: "/repos/a/b/contents/environments/prod/x.yaml", want: "/repos/{}/{}/contents/{}"},
		{name: "root", path: "/", want: "/"},
		{name: "truncated", path: "/repos/a", want: "/repos/{}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Endpoint(tc.path); got != tc.want {
				t.Errorf("Endpoint(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestInstrumentTransportCountsRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	m := New()
	client := &http.Client{Transport: m.InstrumentTransport(srv.Client().Transport)}
	for _, p := range []string{"/repos/a/b/pulls/1", "/repos/a/b/pulls/2", "/repos/a/b/missing"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	if got := testutil.ToFloat64(m.apiRequests.WithLabelValues("GET", "/repos/{}/{}/pulls/{}", "200")); got != 2 {
		t.Errorf("pull request GETs counted %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.apiRequests.WithLabelValues("GET", "/repos/{}/{}/missing", "404")); got != 1 {
		t.Errorf("404s counted %v, want 1", got)
	}
}

func TestHandlerExposesTheBotMetrics(t *testing.T) {
	m := New()
	m.Delivery("pull_request", "accepted")
	m.Delivery("", "unauthorized")
	m.Job("coalesced", 0)
	m.Evaluation("success", 20*time.Millisecond)
	m.GitFetch("unchanged", time.Millisecond)
	m.QueueDepth(func() int { return 3 }, func() int { return 1 })
	m.GitHubCache("hit")
	m.GitHubCache("hit")
	m.GitHubRetry("secondary_rate_limit", 30*time.Second)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`promobot_webhook_deliveries_total{event="pull_request",outcome="accepted"} 1`,
		`promobot_webhook_deliveries_total{event="unknown",outcome="unauthorized"} 1`,
		`promobot_queue_jobs_total{outcome="coalesced"} 1`,
		`promobot_evaluation_duration_seconds_count{conclusion="success"} 1`,
		`promobot_git_fetch_duration_seconds_count{outcome="unchanged"} 1`,
		`promobot_queue_depth 3`,
		`promobot_queue_running 1`,
		`promobot_github_api_cache_total{result="hit"} 2`,
		`promobot_github_api_retries_total{reason="secondary_rate_limit"} 1`,
		`promobot_github_api_retry_wait_seconds_total{reason="secondary_rate_limit"} 30`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics output lacks %q", want)
		}
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.Delivery("ping", "accepted")
	m.Job("failed", time.Second)
	m.Evaluation("failure", time.Second)
	m.GitFetch("error", time.Second)
	m.GitHubCache("miss")
	m.GitHubRetry("paused", time.Second)
	m.QueueDepth(func() int { return 0 }, func() int { return 0 })
	if rt := m.InstrumentTransport(http.DefaultTransport); rt != http.DefaultTransport {
		t.Error("a nil *Metrics wrapped the transport")
	}
}
