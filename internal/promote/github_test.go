package promote

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

// fakeGitHub is a hand-written fake of the pull request, label and team
// methods, recording the calls it receives.
type fakeGitHub struct {
	open    []*github.PullRequest
	members map[string][]string
	listErr error
	calls   []string
	labels  []string
	edited  *github.PullRequest
	created *github.NewPullRequest
}

func (f *fakeGitHub) ListPullRequests(_ context.Context, owner, repo string, opts *github.PullRequestListOptions) ([]*github.PullRequest, *github.Response, error) {
	f.calls = append(f.calls, "list "+opts.Head+" "+opts.State)
	return f.open, &github.Response{}, f.listErr
}

func (f *fakeGitHub) GetPullRequest(context.Context, string, string, int) (*github.PullRequest, *github.Response, error) {
	f.calls = append(f.calls, "get")
	return nil, nil, errors.New("not used")
}

func (f *fakeGitHub) CreatePullRequest(_ context.Context, _, _ string, pull *github.NewPullRequest) (*github.PullRequest, *github.Response, error) {
	f.calls = append(f.calls, "create "+pull.GetHead()+" -> "+pull.GetBase())
	f.created = pull
	return &github.PullRequest{Number: github.Int(7), HTMLURL: github.String("https://github.com/o/r/pull/7")}, &github.Response{}, nil
}

func (f *fakeGitHub) EditPullRequest(_ context.Context, _, _ string, number int, pull *github.PullRequest) (*github.PullRequest, *github.Response, error) {
	f.calls = append(f.calls, "edit")
	f.edited = pull
	return &github.PullRequest{Number: github.Int(number), HTMLURL: github.String("https://github.com/o/r/pull/3"), Labels: f.open[0].Labels}, &github.Response{}, nil
}

func (f *fakeGitHub) AddLabelsToIssue(_ context.Context, _, _ string, number int, labels []string) ([]*github.Label, *github.Response, error) {
	f.calls = append(f.calls, "label")
	f.labels = labels
	return nil, &github.Response{}, nil
}

func (f *fakeGitHub) ListTeamMembersBySlug(_ context.Context, org, slug string, opts *github.TeamListTeamMembersOptions) ([]*github.User, *github.Response, error) {
	logins, ok := f.members[org+"/"+slug]
	if !ok {
		return nil, nil, &github.ErrorResponse{Response: &http.Response{StatusCode: http.StatusForbidden}, Message: "Resource not accessible by integration"}
	}
	var users []*github.User
	lo := min(opts.Page, len(logins)) // one member per page
	for _, l := range logins[lo:min(lo+1, len(logins))] {
		users = append(users, &github.User{Login: github.String(l)})
	}
	resp := &github.Response{}
	if lo+1 < len(logins) {
		resp.NextPage = lo + 1
	}
	return users, resp, nil
}

func (f *fakeGitHub) client() *GitHub {
	return &GitHub{Owner: "o", Repo: "r", api: f}
}

func TestUpsert(t *testing.T) {
	plan := &Plan{Branch: "promobot/prod/m-1", Title: "Promote m 1 to prod", Labels: []string{"promotion", "env:prod"}}
	label := func(names ...string) []*github.Label {
		var out []*github.Label
		for _, n := range names {
			out = append(out, &github.Label{Name: github.String(n)})
		}
		return out
	}
	existing := func(title, body string, labels ...string) []*github.PullRequest {
		return []*github.PullRequest{{
			Number: github.Int(3), Title: github.String(title), Body: github.String(body), Labels: label(labels...),
			Head: &github.PullRequestBranch{Ref: github.String("promobot/prod/m-1")}, HTMLURL: github.String("https://github.com/o/r/pull/3"),
		}}
	}
	tests := []struct {
		name       string
		open       []*github.PullRequest
		wantCalls  []string
		wantPR     PullRequest
		wantLabels []string
	}{
		{"opens a new pull request", nil,
			[]string{"list o:promobot/prod/m-1 open", "create promobot/prod/m-1 -> main", "label"},
			PullRequest{Number: 7, URL: "https://github.com/o/r/pull/7", Created: true}, []string{"promotion", "env:prod"}},
		{"updates the open one", existing("old title", "old body", "promotion"),
			[]string{"list o:promobot/prod/m-1 open", "edit", "label"},
			PullRequest{Number: 3, URL: "https://github.com/o/r/pull/3"}, []string{"env:prod"}},
		{"leaves an up-to-date one alone", existing("Promote m 1 to prod", "body", "Promotion", "env:prod"),
			[]string{"list o:promobot/prod/m-1 open"},
			PullRequest{Number: 3, URL: "https://github.com/o/r/pull/3"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeGitHub{open: tt.open}
			pr, err := f.client().upsert(t.Context(), plan, "main", "body")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantCalls, f.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPR, *pr); diff != "" {
				t.Errorf("pull request (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLabels, f.labels); diff != "" {
				t.Errorf("labels added (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpsertErrorsSayWhetherToRetry(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		retryable bool
		status    int
	}{
		{"server error", &github.ErrorResponse{Response: &http.Response{StatusCode: http.StatusBadGateway}}, true, 502},
		{"validation", &github.ErrorResponse{Response: &http.Response{StatusCode: http.StatusUnprocessableEntity}}, false, 422},
		{"rate limit", &github.RateLimitError{Response: &http.Response{StatusCode: http.StatusForbidden}}, true, 0},
		{"network", errors.New("connection refused"), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeGitHub{listErr: tt.err}
			_, err := f.client().upsert(t.Context(), &Plan{Branch: "b"}, "main", "")
			var ge *GitHubError
			if !errors.As(err, &ge) || ge.Retryable != tt.retryable || ge.Status != tt.status {
				t.Fatalf("err = %#v, want retryable=%v status=%d", err, tt.retryable, tt.status)
			}
		})
	}
}

func TestTeamLogins(t *testing.T) {
	f := &fakeGitHub{members: map[string][]string{"org/risk": {"rita", "raj", "ron"}, "org/empty": {}}}
	got := f.client().teamLogins(t.Context(), []string{"@org/risk", "@ORG/risk", "@org/secret", "@org/empty", "alice@example.com", "@bob"})
	want := map[string][]string{"org/risk": {"rita", "raj", "ron"}, "org/empty": {}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("teams (-want +got):\n%s", diff)
	}
}
