package bot

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/openapitest"
)

// TestWebhookExamplesAreAcceptedAndNeverFail replays every payload example
// of @octokit/webhooks-examples (installed by `make npm-deps`) for the
// events the App subscribes to, correctly signed, through the real
// dispatcher and handlers, with a fake GitHub behind them. Each is accepted
// or deliberately ignored (202), none panics. Some examples come from
// repository webhooks and lack the installation every App delivery
// carries: those are ignored.
func TestWebhookExamplesAreAcceptedAndNeverFail(t *testing.T) {
	examples := openapitest.RequireExamples(t)
	gh := &fakeGitHub{pulls: map[int]*githubapi.PullRequest{}}
	m := metrics.New()
	u := newUnitBot(t, gh, &fakeMirrors{err: errFake}, func(c *Config) {
		c.QueueSize, c.Workers, c.Metrics = 10000, 4, m
	})
	h := u.Handler()
	events := []string{"pull_request", "pull_request_review", "check_run", "check_suite", "merge_group", "push", "installation", "ping"}
	for _, event := range events {
		list := examples[event]
		if len(list) == 0 {
			t.Errorf("no examples of %s: has the package layout changed?", event)
		}
		statuses := map[int]int{}
		for i, ex := range list {
			body, err := json.Marshal(ex)
			if err != nil {
				t.Fatal(err)
			}
			got := post(t, h, event, string(body))
			statuses[got]++
			if got != http.StatusAccepted {
				action, _ := ex["action"].(string)
				t.Errorf("%s example %d (action %q): status %d, want 202", event, i, action, got)
			}
		}
		t.Logf("%s: %d examples, statuses %v", event, len(list), statuses)
	}
	u.idle(t)
	text := metricsText(t, m)
	if strings.Contains(text, `outcome="panicked"`) || strings.Contains(text, `outcome="error"`) {
		t.Errorf("a job panicked or a delivery failed:\n%s", grepLines(text, "outcome="))
	}
}

// metricsText renders the metrics as the /metrics endpoint does.
func metricsText(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := newRecorder()
	m.Handler().ServeHTTP(rec, mustRequest(t, "/metrics"))
	return rec.Body.String()
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t *testing.T, path string) *http.Request {
	t.Helper()
	return httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil)
}
