package githubreview

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/audittest"
)

func newFor(t *testing.T, h *audittest.History, opts Options) *Reviewer {
	t.Helper()
	apps, err := githubapi.New(githubapi.Config{BaseURL: h.Fixture.URL(), Token: h.Token(t)})
	if err != nil {
		t.Fatal(err)
	}
	client, err := apps.Client()
	if err != nil {
		t.Fatal(err)
	}
	opts.Owner, opts.Repo, opts.DefaultBranch = audittest.Owner, audittest.Name, "main"
	r, err := New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestVerdictsOfTheHistory asks about every step of the shared history.
func TestVerdictsOfTheHistory(t *testing.T) {
	t.Parallel()
	h := audittest.BuildHistory(t)
	r := newFor(t, h, Options{})
	for _, tc := range []struct {
		step      string
		reviewed  bool
		reason    string
		number    int
		approvers []string
	}{
		{step: "register-1.0.0", reviewed: true, number: 1, approvers: []string{}},
		{step: "promote-1.0.0-prod", reviewed: true, number: 4, approvers: []string{"bob", "carol"}},
		{step: "admin-bypass", reason: `had concluded "failure" when dave merged it`, number: 6, approvers: []string{"bob"}},
		{step: "direct-rollback", reason: "was pushed to main directly"},
		{step: "edit-ticket", reviewed: true, number: 7, approvers: []string{"bob", "dave"}},
		{step: "unfinished-check", reason: "had not completed when it was merged", number: 9, approvers: []string{}},
	} {
		t.Run(tc.step, func(t *testing.T) {
			v, err := r.Review(t.Context(), h.Commits[tc.step])
			if err != nil {
				t.Fatal(err)
			}
			if v.Reviewed != tc.reviewed || (tc.reason != "" && !strings.Contains(v.Reason, tc.reason)) {
				t.Errorf("reviewed %v, reason %q; want %v, %q", v.Reviewed, v.Reason, tc.reviewed, tc.reason)
			}
			number := 0
			var approvers []string
			if v.PullRequest != nil {
				number, approvers = v.PullRequest.Number, v.PullRequest.Approvers
			}
			if number != tc.number || (tc.number != 0 && !cmp.Equal(approvers, tc.approvers)) {
				t.Errorf("pull request #%d approvers %v; want #%d %v", number, approvers, tc.number, tc.approvers)
			}
		})
	}
	if u := h.Fixture.Emulator.UnexpectedRequests(); len(u) > 0 {
		t.Errorf("unexpected requests: %v", u)
	}
}

// TestCache proves final answers are never fetched twice and answers
// without a merged pull request are fetched again after RecheckAfter.
func TestCache(t *testing.T) {
	t.Parallel()
	h := audittest.BuildHistory(t)
	now := h.Now()
	dir := t.TempDir()
	r := newFor(t, h, Options{CacheDir: dir, RecheckAfter: time.Hour, Now: func() time.Time { return now }})
	em := h.Fixture.Emulator
	ask := func(step string) map[string]int {
		t.Helper()
		em.ResetCounts()
		if _, err := r.Review(t.Context(), h.Commits[step]); err != nil {
			t.Fatal(err)
		}
		return em.Counts()
	}
	const listPulls = "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"
	first := ask("promote-1.0.0-prod")
	want := map[string]int{
		listPulls: 1,
		"GET /repos/{owner}/{repo}/pulls/{pull_number}":         1,
		"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews": 1,
		"GET /repos/{owner}/{repo}/commits/{ref}/check-runs":    2, // head and merge commit
	}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first question (-want +got):\n%s", diff)
	}
	now = now.Add(365 * 24 * time.Hour)
	if got := ask("promote-1.0.0-prod"); len(got) != 0 {
		t.Errorf("a final answer was fetched again: %v", got)
	}
	now = h.Now()
	if got := ask("direct-rollback"); got[listPulls] != 1 {
		t.Errorf("direct push: %v", got)
	}
	now = now.Add(30 * time.Minute)
	if got := ask("direct-rollback"); len(got) != 0 {
		t.Errorf("asked again within RecheckAfter: %v", got)
	}
	now = now.Add(time.Hour)
	if got := ask("direct-rollback"); got[listPulls] != 1 {
		t.Errorf("not asked again after RecheckAfter: %v", got)
	}
	// Another reviewer on the same cache directory reuses the answers.
	r2 := newFor(t, h, Options{CacheDir: dir, Now: func() time.Time { return now }})
	em.ResetCounts()
	if _, err := r2.Review(t.Context(), h.Commits["promote-1.0.0-prod"]); err != nil || len(em.Counts()) != 0 {
		t.Errorf("a new reviewer asked again: %v, %v", em.Counts(), err)
	}
}

func TestErrorsSayWhetherARetryHelps(t *testing.T) {
	t.Parallel()
	h := audittest.BuildHistory(t)
	r := newFor(t, h, Options{})
	em := h.Fixture.Emulator
	const listPulls = "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls"
	for _, tc := range []struct {
		status int
		retry  bool
	}{
		{http.StatusBadGateway, true},
		{http.StatusNotFound, false},
		{http.StatusUnauthorized, false},
	} {
		em.FailNext(listPulls, tc.status, nil, 1)
		_, err := r.Review(t.Context(), h.Commits["register-1.0.0"])
		var e *Error
		if !errors.As(err, &e) || e.Retryable != tc.retry {
			t.Errorf("status %d: err = %v, want retryable %v", tc.status, err, tc.retry)
		}
	}
	if _, err := r.Review(t.Context(), "not-a-commit"); err == nil {
		t.Error("a bad commit name was accepted")
	}
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New without a repository accepted")
	}
	var _ audit.Reviewer = (*Reviewer)(nil)
}
