package bot

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/githubapi"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

type m = map[string]any

func repoJSON() m {
	return m{"id": 1, "name": "models", "full_name": "example-org/models", "owner": m{"login": "example-org"}, "clone_url": "https://example.invalid/example-org/models.git"}
}

func prJSON(n int, sha string) m {
	return m{"number": n, "state": "open", "title": "t", "user": m{"login": "alex"},
		"head": m{"ref": "feature", "sha": sha, "repo": repoJSON()}, "base": m{"ref": "main", "sha": shaB, "repo": repoJSON()}}
}

func envelope(action string, extra m) m {
	out := m{"action": action, "repository": repoJSON(), "installation": m{"id": testInstallationID}}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// deliveries numbers the deliveries of post, each unique.
var deliveries atomic.Int64

// post signs and serves one delivery in process.
func post(t *testing.T, h http.Handler, event string, payload any) int {
	t.Helper()
	var body []byte
	switch p := payload.(type) {
	case string:
		body = []byte(p)
	default:
		var err error
		if body, err = json.Marshal(p); err != nil {
			t.Fatal(err)
		}
	}
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write(body)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("d-%d", deliveries.Add(1)))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestEventsScheduleTheRightPullRequests(t *testing.T) {
	ourRun := func(action string, name string, appID int, prs ...any) m {
		return envelope(action, m{"check_run": m{"name": name, "head_sha": shaA, "app": m{"id": appID}, "pull_requests": prs}})
	}
	suite := func(action string, prs ...any) m {
		return envelope(action, m{"check_suite": m{"head_sha": shaA, "pull_requests": prs}})
	}
	listed := func(n int) m { return m{"number": n, "base": m{"ref": "main", "repo": m{"id": 1}}} }
	elsewhere := m{"number": 9, "base": m{"ref": "main", "repo": m{"id": 99}}}

	tests := []struct {
		name    string
		event   string
		payload any
		status  int
		// want are the calls made: every evaluation reads its pull request
		// from GitHub (the pull requests of the delivered head commit, or
		// the pull request itself when it is not among them) before it
		// creates a check run.
		want []string
	}{
		{name: "opened", event: "pull_request", payload: envelope("opened", m{"number": 5, "pull_request": prJSON(5, shaA)}),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "synchronize", event: "pull_request", payload: envelope("synchronize", m{"number": 5, "pull_request": prJSON(5, shaA)}),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "ready for review", event: "pull_request", payload: envelope("ready_for_review", m{"number": 5, "pull_request": prJSON(5, shaA)}),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "base changed", event: "pull_request", payload: envelope("edited", m{"number": 5, "pull_request": prJSON(5, shaA), "changes": m{"base": m{"ref": m{"from": "dev"}}}}),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "title edited", event: "pull_request", payload: envelope("edited", m{"number": 5, "pull_request": prJSON(5, shaA), "changes": m{"title": m{"from": "x"}}}),
			status: 202},
		{name: "labeled: the labels are read afresh", event: "pull_request", payload: envelope("labeled", m{"number": 5, "label": m{"name": "freeze-override"}, "pull_request": prJSON(5, shaA)}),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "unlabeled: the labels are read afresh", event: "pull_request", payload: envelope("unlabeled", m{"number": 5, "label": m{"name": "freeze-override"}, "pull_request": prJSON(5, shaA)}),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "assigned", event: "pull_request", payload: envelope("assigned", m{"number": 5, "pull_request": prJSON(5, shaA)}), status: 202},
		{name: "review submitted", event: "pull_request_review", payload: envelope("submitted", m{"review": m{"id": 1}, "pull_request": prJSON(5, shaA)}),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "review dismissed", event: "pull_request_review", payload: envelope("dismissed", m{"review": m{"id": 1}, "pull_request": prJSON(5, shaA)}),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "check run re-run with its pull request", event: "check_run", payload: ourRun("rerequested", DefaultCheckName, testAppID, listed(5)),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "check run re-run from a fork: looked up", event: "check_run", payload: ourRun("rerequested", DefaultCheckName, testAppID),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "PullRequestsWithHead " + shaA, "CreateCheckRun " + shaA}},
		{name: "another App's check run", event: "check_run", payload: ourRun("rerequested", DefaultCheckName, 1, listed(5)), status: 202},
		{name: "another check's name", event: "check_run", payload: ourRun("rerequested", "lint", testAppID, listed(5)), status: 202},
		{name: "check run created", event: "check_run", payload: ourRun("created", DefaultCheckName, testAppID, listed(5)), status: 202},
		// The suite follows every push, like pull_request synchronize: its
		// jobs first read the head's check run, to drop a repeat.
		{name: "suite requested for two pull requests", event: "check_suite", payload: suite("requested", listed(5), listed(6), elsewhere),
			status: 202, want: []string{"PullRequestsWithHead " + shaA, "LatestCheckRun " + shaA, "CreateCheckRun " + shaA, "PullRequestsWithHead " + shaA, "PullRequest 6", "PullRequestsWithHead " + shaB, "LatestCheckRun " + shaB, "CreateCheckRun " + shaB}},
		{name: "suite requested for a push without pull request", event: "check_suite", payload: suite("requested"), status: 202},
		{name: "suite requested for another repository's pull request", event: "check_suite", payload: suite("requested", elsewhere), status: 202},
		{name: "suite completed", event: "check_suite", payload: suite("completed", listed(5)), status: 202},
		{name: "ping", event: "ping", payload: m{"zen": "Speak like a human.", "hook_id": 3}, status: 202},
		{name: "malformed", event: "pull_request", payload: `{"action": "opened", `, status: 400},
		{name: "wrong type", event: "pull_request", payload: `{"action": 5}`, status: 400},
		{name: "no installation: a repository webhook", event: "pull_request", payload: m{"action": "opened", "repository": repoJSON(), "pull_request": prJSON(5, shaA)}, status: 202},
		{name: "no repository", event: "pull_request", payload: m{"action": "opened", "installation": m{"id": 1}, "pull_request": prJSON(5, shaA)}, status: 400},
		{name: "no pull request number", event: "pull_request", payload: envelope("opened", m{"pull_request": m{}}), status: 400},
		{name: "check suite without head", event: "check_suite", payload: envelope("rerequested", m{"check_suite": m{}}), status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gh := &fakeGitHub{
				pulls: map[int]*githubapi.PullRequest{
					5: {Number: 5, State: "open", HeadSHA: shaA, BaseRef: "main"},
					6: {Number: 6, State: "open", HeadSHA: shaB, BaseRef: "main"},
				},
			}
			u := newUnitBot(t, gh, &fakeMirrors{err: &mirror.Error{Op: "fetch", Err: errFake, Terminal: true}}, func(c *Config) { c.Workers = 1 })
			if got := post(t, u.Handler(), tc.event, tc.payload); got != tc.status {
				t.Errorf("status %d, want %d", got, tc.status)
			}
			u.idle(t)
			var got []string
			for _, c := range gh.callList() {
				switch {
				case c == "Token " || len(c) > 14 && c[:14] == "UpdateCheckRun":
				default:
					got = append(got, c)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}
