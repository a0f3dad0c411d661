package githubapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/testing/gittest"
)

func TestResyncCalls(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	ctx := t.Context()

	ids, err := e.apps.InstallationIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{installationID}, ids); diff != "" {
		t.Errorf("installations (-want +got):\n%s", diff)
	}

	open, err := c.OpenPullRequests(ctx, "acme", "models", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].Number != e.pr || open[0].HeadSHA != e.head || open[0].BaseRef != "main" ||
		!cmp.Equal(open[0].Labels, []string{"freeze-override"}) {
		t.Errorf("open pull requests: %+v", open)
	}
	if none, err := c.OpenPullRequests(ctx, "acme", "models", "release"); err != nil || len(none) != 0 {
		t.Errorf("open pull requests into release: %v, %v", none, err)
	}

	withHead, err := c.PullRequestsWithHead(ctx, "acme", "models", e.head)
	if err != nil {
		t.Fatal(err)
	}
	if len(withHead) != 1 || withHead[0].Number != e.pr || withHead[0].State != "open" {
		t.Errorf("pull requests with head %s: %+v", e.head, withHead)
	}

	tip, err := c.BranchHead(ctx, "acme", "models", "main")
	if err != nil {
		t.Fatal(err)
	}
	if want := gittest.MustCommit(t, e.path, gittest.Commit{Branch: "main", Files: map[string]string{"b": "1"}, Message: "more"}); tip == want {
		t.Fatal("the tip is the commit made after reading it")
	}
	if tip, err = c.BranchHead(ctx, "acme", "models", "main"); err != nil || len(tip) != 40 {
		t.Errorf("BranchHead = %q, %v", tip, err)
	}
	if _, err := c.BranchHead(ctx, "acme", "models", "no/such/branch"); !IsNotFound(err) {
		t.Errorf("BranchHead of a missing branch: %v, want a 404", err)
	}

	if run, err := c.LatestCheckRun(ctx, "acme", "models", e.head, "promobot", appID); err != nil || run != nil {
		t.Fatalf("LatestCheckRun before any = %+v, %v", run, err)
	}
	started := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	first, err := c.CreateCheckRun(ctx, "acme", "models", CheckRun{Name: "promobot", HeadSHA: e.head, Status: StatusInProgress, StartedAt: started})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCheckRun(ctx, "acme", "models", CheckRun{Name: "lint", HeadSHA: e.head, Status: StatusInProgress}); err != nil {
		t.Fatal(err)
	}
	second, listed, err := c.StartCheckRun(ctx, "acme", "models", CheckRun{Name: "promobot", HeadSHA: e.head, Status: StatusInProgress, StartedAt: started})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{e.pr}, listed); diff != "" {
		t.Errorf("pull requests listed on the new check run (-want +got):\n%s", diff)
	}
	err = c.UpdateCheckRun(ctx, "acme", "models", second, CheckRun{
		Name: "promobot", Status: StatusCompleted, Conclusion: ConclusionFailure, CompletedAt: started.Add(time.Minute),
		ExternalID: "fp", Output: &Output{Title: "needs 1 more approval", Summary: "s"},
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.LatestCheckRun(ctx, "acme", "models", e.head, "promobot", appID)
	if err != nil {
		t.Fatal(err)
	}
	want := &ExistingCheckRun{ID: second, Status: StatusCompleted, Conclusion: ConclusionFailure, Title: "needs 1 more approval",
		ExternalID: "fp", StartedAt: started, CompletedAt: started.Add(time.Minute)}
	if diff := cmp.Diff(want, run); diff != "" {
		t.Errorf("latest check run (-want +got), first was %d:\n%s", first, diff)
	}
}

func TestRepositories(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/installation/repositories" || r.Header.Get("Authorization") != "token ghs_x" {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"total_count":2,"repositories":[
			{"name":"models","full_name":"acme/models","owner":{"login":"acme"},"clone_url":"https://git.example/acme/models.git","default_branch":"main","archived":false},
			{"name":"old","full_name":"acme/old","owner":{"login":"acme"},"clone_url":"https://git.example/acme/old.git","default_branch":"master","archived":true}]}`))
	}))
	t.Cleanup(srv.Close)
	rt := extraRoundTrip(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "token ghs_x")
		return http.DefaultTransport.RoundTrip(r)
	})
	c, err := NewClient(srv.URL+"/api/v3/", rt, func(context.Context) (string, error) { return "ghs_x", nil })
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Repositories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []Repository{
		{Owner: "acme", Name: "models", CloneURL: "https://git.example/acme/models.git", DefaultBranch: "main"},
		{Owner: "acme", Name: "old", CloneURL: "https://git.example/acme/old.git", DefaultBranch: "master", Archived: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("repositories (-want +got):\n%s", diff)
	}
}

type extraRoundTrip func(*http.Request) (*http.Response, error)

func (f extraRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
