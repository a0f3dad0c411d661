package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/githubtest"
)

// deliverOpened delivers to the server at url (http://host:port) the
// emulator's "opened" event of example-org/models#n, signed with
// serveSecret, and fails the test unless the server accepts it (202).
func deliverOpened(t *testing.T, fx *githubtest.Fixture, url string, n int) {
	t.Helper()
	payload, err := fx.Emulator.PullRequestEvent(t.Context(), "example-org", "models", n, "opened", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := githubtest.Deliver(t.Context(), url+"/webhook", serveSecret, "pull_request", payload)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery: status %d", resp.StatusCode)
	}
}

// completedCheckRun waits up to 30 seconds for the last check run on head
// of example-org/models to be completed and returns it; it fails the test
// with the server's log (stderr) when none is.
func completedCheckRun(t *testing.T, fx *githubtest.Fixture, head string, stderr *syncBuffer) githubtest.CheckRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs := fx.Emulator.CheckRuns("example-org", "models", head)
		if len(runs) > 0 && runs[len(runs)-1].Status == "completed" {
			return runs[len(runs)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no completed check run after 30s; log:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
