package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/githubapi/retry"
	"github.com/example-org/promobot/internal/testing/retrytest"
)

// TestPromobotRidesOutSecondaryRateLimit shows a command-line command
// taking the server's route to GitHub: a secondary rate limit on the call
// that opens the pull request is waited out and the call repeated, where
// it used to end the command with exit 4.
func TestPromobotRidesOutSecondaryRateLimit(t *testing.T) {
	t.Parallel()
	const createPull = "POST /repos/{owner}/{repo}/pulls"
	tests := []struct {
		name    string
		status  int
		headers map[string]string
	}{
		{"403 with retry-after", http.StatusForbidden, map[string]string{"Retry-After": "1"}},
		{"429 with retry-after", http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newPromoteFixture(t)
			// The Retry-After is waited on a fake clock, which records it.
			clock := retrytest.NewClock(time.Now())
			f.githubRetry = &retry.Options{Now: clock.Now, Sleep: clock.Sleep}
			f.fx.Emulator.FailNext(createPull, tt.status, tt.headers, 1)
			code, stdout, stderr := f.run("rollback", "--model", "elasticnet-ndx", "--model", "elasticnet-ndx-threshold", "--env", "prod", "--github-repo", "example-org/gitops")
			if code != 0 {
				t.Fatalf("rollback: exit %d\n%s%s", code, stdout, stderr)
			}
			if got := f.fx.Emulator.Counts()[createPull]; got != 2 {
				t.Errorf("%s was sent %d times, want 2 (the limited one and its retry)", createPull, got)
			}
			if waits := clock.Waits(); !slices.Contains(waits, time.Second) {
				t.Errorf("waits %v: want the Retry-After of 1s among them", waits)
			}
			if pr, err := f.fx.Emulator.PullRequest("example-org", "gitops", 1); err != nil || pr.Title == "" {
				t.Errorf("no pull request #1 after the retry: %+v, %v", pr, err)
			}
		})
	}
}
