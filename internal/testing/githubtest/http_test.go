package githubtest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/gittest"
)

func TestReviewsPaginateWithLinkHeaders(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	for i := range 150 {
		if _, err := e.Emulator.Review(org, repoName, n, fmt.Sprintf("reviewer%03d", i), "COMMENTED", "ok"); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		perPage   int
		wantPages int
		wantLast  int
	}{
		{name: "default page size", perPage: 0, wantPages: 5, wantLast: 5},
		{name: "max page size", perPage: 100, wantPages: 2, wantLast: 2},
		{name: "over max is capped", perPage: 500, wantPages: 2, wantLast: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Emulator.ResetCounts()
			opts := &github.ListOptions{PerPage: tt.perPage}
			var logins []string
			pages := 0
			for {
				reviews, resp, err := e.app.PullRequests.ListReviews(t.Context(), org, repoName, n, opts)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if pages == 1 && resp.LastPage != tt.wantLast {
					t.Errorf("first page LastPage = %d, want %d (Link %q)", resp.LastPage, tt.wantLast, resp.Header.Get("Link"))
				}
				for _, r := range reviews {
					logins = append(logins, r.GetUser().GetLogin())
				}
				if resp.NextPage == 0 {
					break
				}
				opts.Page = resp.NextPage
			}
			if pages != tt.wantPages || len(logins) != 150 || logins[0] != "reviewer000" || logins[149] != "reviewer149" {
				t.Errorf("pages %d, %d reviews, first %q last %q", pages, len(logins), logins[0], logins[len(logins)-1])
			}
			want := map[string]int{"GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews": tt.wantPages}
			if diff := cmp.Diff(want, e.Emulator.Counts()); diff != "" {
				t.Errorf("Counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLinkHeaderMatchesGitHub(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	for i := range 7 {
		if _, err := e.Emulator.Review(org, repoName, n, fmt.Sprintf("r%d", i), "COMMENTED", ""); err != nil {
			t.Fatal(err)
		}
	}
	_, resp, err := e.app.PullRequests.ListReviews(t.Context(), org, repoName, n, &github.ListOptions{PerPage: 2, Page: 2})
	if err != nil {
		t.Fatal(err)
	}
	base := e.Server.URL + "/api/v3/repos/acme/models/pulls/1/reviews"
	want := fmt.Sprintf(`<%s?page=1&per_page=2>; rel="prev", <%s?page=3&per_page=2>; rel="next", <%s?page=4&per_page=2>; rel="last", <%s?page=1&per_page=2>; rel="first"`, base, base, base, base)
	if diff := cmp.Diff(want, resp.Header.Get("Link")); diff != "" {
		t.Errorf("Link (-want +got):\n%s", diff)
	}
	if resp.PrevPage != 1 || resp.NextPage != 3 || resp.LastPage != 4 || resp.FirstPage != 1 {
		t.Errorf("parsed pages = %+v", resp)
	}
}

func TestThreeHundredFilesPaginate(t *testing.T) {
	e := newEnv(t)
	files := map[string]string{}
	for i := range 300 {
		files[fmt.Sprintf("many/f%03d.txt", i)] = strconv.Itoa(i) + "\n"
	}
	gittest.MustCommit(t, e.path, gittest.Commit{Branch: "bulk", Parents: []string{e.baseSHA}, Files: files, Message: "bulk"})
	n, err := e.Emulator.OpenPR(org, repoName, NewPullRequest{Title: "bulk", Head: "bulk", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	e.Emulator.ResetCounts()
	opts := &github.ListOptions{PerPage: 100}
	var names []string
	for {
		page, resp, err := e.app.PullRequests.ListFiles(t.Context(), org, repoName, n, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page {
			names = append(names, f.GetFilename())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(names) != 300 || names[0] != "many/f000.txt" || names[299] != "many/f299.txt" {
		t.Errorf("got %d files, first %q last %q", len(names), names[0], names[len(names)-1])
	}
	if got := e.Emulator.Counts()["GET /repos/{owner}/{repo}/pulls/{pull_number}/files"]; got != 3 {
		t.Errorf("files requests = %d, want 3", got)
	}
}

func TestReviewsThroughAPI(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	alice := e.Client(t, e.alice)
	tests := []struct {
		name       string
		client     *github.Client
		event      string
		body       string
		wantStatus int
		wantState  string
	}{
		{name: "author cannot approve", client: alice, event: "APPROVE", wantStatus: 422},
		{name: "bob approves", client: e.bobClient, event: "APPROVE", wantStatus: 200, wantState: "APPROVED"},
		{name: "request changes needs a body", client: e.bobClient, event: "REQUEST_CHANGES", wantStatus: 422},
		{name: "bob comments", client: e.bobClient, event: "COMMENT", body: "nit", wantStatus: 200, wantState: "COMMENTED"},
		{name: "pending without event", client: e.bobClient, wantStatus: 200, wantState: "PENDING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &github.PullRequestReviewRequest{}
			if tt.event != "" {
				req.Event = github.String(tt.event)
			}
			if tt.body != "" {
				req.Body = github.String(tt.body)
			}
			rv, resp, err := tt.client.PullRequests.CreateReview(t.Context(), org, repoName, n, req)
			if resp == nil || resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %v (err %v), want %d", resp, err, tt.wantStatus)
			}
			if tt.wantStatus == 200 && (rv.GetState() != tt.wantState || rv.GetCommitID() != e.headSHA) {
				t.Errorf("review = %s on %s", rv.GetState(), rv.GetCommitID())
			}
		})
	}
	reviews, _, err := e.app.PullRequests.ListReviews(t.Context(), org, repoName, n, nil)
	if err != nil || len(reviews) != 3 {
		t.Fatalf("reviews = %v, %v", reviews, err)
	}
	dismissed, _, err := e.app.PullRequests.DismissReview(t.Context(), org, repoName, n, reviews[0].GetID(), &github.PullRequestReviewDismissalRequest{Message: github.String("stale")})
	if err != nil || dismissed.GetState() != "DISMISSED" {
		t.Fatalf("dismiss = %v, %v", dismissed, err)
	}
	if _, resp, _ := e.app.PullRequests.DismissReview(t.Context(), org, repoName, n, reviews[1].GetID(), &github.PullRequestReviewDismissalRequest{}); resp.StatusCode != 422 {
		t.Errorf("dismissing a comment: status %d, want 422", resp.StatusCode)
	}
	id, err := e.Emulator.Review(org, repoName, n, "carol", "APPROVED", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Emulator.Dismiss(org, repoName, n, id); err != nil {
		t.Fatal(err)
	}
	snap, _ := e.Emulator.PullRequest(org, repoName, n)
	var states []string
	for _, r := range snap.Reviews {
		states = append(states, r.User+":"+r.State)
	}
	if diff := cmp.Diff([]string{"bob:DISMISSED", "bob:COMMENTED", "bob:PENDING", "carol:DISMISSED"}, states); diff != "" {
		t.Errorf("review states (-want +got):\n%s", diff)
	}
}

func TestETagsAndRateLimitHeaders(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	get := func(etag string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("%s/repos/acme/models/pulls/%d", e.Server.URL, n), nil)
		req.Header.Set("Authorization", "token "+e.instToken)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	first := get("")
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("first GET: %d etag %q", first.StatusCode, etag)
	}
	second := get(etag)
	if second.StatusCode != http.StatusNotModified || second.ContentLength > 0 {
		t.Errorf("conditional GET: %d length %d, want 304 empty", second.StatusCode, second.ContentLength)
	}
	type rate struct{ Limit, Remaining, Used, Resource string }
	rateOf := func(r *http.Response) rate {
		return rate{r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining"), r.Header.Get("X-RateLimit-Used"), r.Header.Get("X-RateLimit-Resource")}
	}
	if diff := cmp.Diff(rate{"5000", "4999", "1", "core"}, rateOf(first)); diff != "" {
		t.Errorf("first rate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(rate{"5000", "4999", "1", "core"}, rateOf(second)); diff != "" {
		t.Errorf("304 must not use the budget (-want +got):\n%s", diff)
	}
	if second.Header.Get("X-RateLimit-Reset") == "" {
		t.Error("no X-RateLimit-Reset")
	}
	// Changing the title changes the body, so the old ETag no longer matches.
	if _, _, err := e.app.PullRequests.Edit(t.Context(), org, repoName, n, &github.PullRequest{Title: github.String("changed")}); err != nil {
		t.Fatal(err)
	}
	if third := get(etag); third.StatusCode != 200 || third.Header.Get("ETag") == etag {
		t.Errorf("after a change: %d etag %q", third.StatusCode, third.Header.Get("ETag"))
	}
	want := map[string]int{
		"GET /repos/{owner}/{repo}/pulls/{pull_number} 200":   2,
		"GET /repos/{owner}/{repo}/pulls/{pull_number} 304":   1,
		"PATCH /repos/{owner}/{repo}/pulls/{pull_number} 200": 1,
	}
	if diff := cmp.Diff(want, e.Emulator.StatusCounts()); diff != "" {
		t.Errorf("StatusCounts (-want +got):\n%s", diff)
	}
}

func TestPrimaryRateLimitExhaustion(t *testing.T) {
	f := NewFixture(t, Config{AppID: appID, RateLimit: 2})
	f.AddRepo(t, org, repoName, "main")
	client := f.Client(t, f.Emulator.UserToken("bob"))
	for range 2 {
		if _, _, err := client.Repositories.Get(t.Context(), org, repoName); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := client.Repositories.Get(t.Context(), org, repoName)
	var rl *github.RateLimitError
	if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || rl.Rate.Limit != 2 {
		t.Errorf("third call error = %v, want a go-github RateLimitError", err)
	}
}

func TestFaultInjection(t *testing.T) {
	e := newEnv(t)
	const tmpl = "GET /repos/{owner}/{repo}"
	e.Emulator.FailNext(tmpl, http.StatusBadGateway, nil, 2)
	for i := range 2 {
		if _, resp, _ := e.app.Repositories.Get(t.Context(), org, repoName); resp.StatusCode != 502 {
			t.Errorf("call %d: status %d, want 502", i, resp.StatusCode)
		}
	}
	if _, _, err := e.app.Repositories.Get(t.Context(), org, repoName); err != nil {
		t.Errorf("after faults: %v", err)
	}
	e.Emulator.FailNext(tmpl, http.StatusForbidden, map[string]string{"Retry-After": "30"}, 1)
	_, _, err := e.app.Repositories.Get(t.Context(), org, repoName)
	var abuse *github.AbuseRateLimitError
	if !errors.As(err, &abuse) || abuse.GetRetryAfter().Seconds() != 30 {
		t.Errorf("secondary rate limit error = %v, want AbuseRateLimitError with Retry-After 30s", err)
	}
	e.Emulator.FailNext("*", http.StatusServiceUnavailable, nil, 1)
	// go-github blocks a client after a secondary rate limit, so use a fresh one.
	fresh := e.Client(t, e.instToken)
	if _, resp, _ := fresh.PullRequests.List(t.Context(), org, repoName, nil); resp.StatusCode != 503 {
		t.Errorf("wildcard fault: status %d", resp.StatusCode)
	}
	want := map[string]int{
		"GET /repos/{owner}/{repo} 502":       2,
		"GET /repos/{owner}/{repo} 200":       1,
		"GET /repos/{owner}/{repo} 403":       1,
		"GET /repos/{owner}/{repo}/pulls 503": 1,
	}
	if diff := cmp.Diff(want, e.Emulator.StatusCounts()); diff != "" {
		t.Errorf("StatusCounts (-want +got):\n%s", diff)
	}
}

func TestUnexpectedRequestsAreRecorded(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	req, _ := e.app.NewRequest(http.MethodDelete, fmt.Sprintf("repos/acme/models/pulls/%d", n), nil)
	_, err := e.app.Do(t.Context(), req, nil)
	var errResp *github.ErrorResponse
	if !errors.As(err, &errResp) || errResp.Response.StatusCode != 404 || errResp.Message != "Not Found" {
		t.Errorf("DELETE pull: %v", err)
	}
	if _, _, err := e.app.Repositories.ListHooks(t.Context(), org, repoName, nil); err == nil {
		t.Error("unknown endpoint answered")
	}
	want := []string{"DELETE /api/v3/repos/acme/models/pulls/1", "GET /api/v3/repos/acme/models/hooks"}
	if diff := cmp.Diff(want, e.Emulator.UnexpectedRequests()); diff != "" {
		t.Errorf("UnexpectedRequests (-want +got):\n%s", diff)
	}
	if len(e.Emulator.Counts()) != 0 {
		t.Errorf("unexpected requests must not be counted as endpoints: %v", e.Emulator.Counts())
	}
}
