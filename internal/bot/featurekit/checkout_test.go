package featurekit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// fakeAPI is an installation's client that only gives its token.
type fakeAPI struct{ token string }

func (a fakeAPI) Token(context.Context) (string, error) { return a.token, nil }

// TestOpenDefaultBranch opens real workspaces of a repository served
// over HTTP with a token: the default branch (main when the payload names
// none), its history at the tip, the job's login and token; failures leave
// the workspace unlocked, and so does the returned function.
func TestOpenDefaultBranch(t *testing.T) {
	const token = "s3cret"
	srv := gittest.NewTestServer(t, gittest.WithToken(token))
	path := gittest.MustInitBare(t, srv.Root(), "org/gitops.git", "main")
	mainTip := gittest.MustCommit(t, path, gittest.Commit{Branch: "main", Files: map[string]string{"README": "main\n"}, Message: "init\n"})
	trunkTip := gittest.MustCommit(t, path, gittest.Commit{Branch: "trunk", Parents: []string{mainTip}, Files: map[string]string{"README": "trunk\n"}, Message: "trunk\n"})

	errClient := errors.New("no client")
	errLogin := errors.New("no login")
	client := func(int64) (fakeAPI, error) { return fakeAPI{token: token}, nil }
	login := func(context.Context) (string, error) { return "promobot[bot]", nil }
	repo := bot.Repo{Installation: 3, Owner: "org", Name: "gitops", CloneURL: srv.RepoURL("org/gitops.git")}
	trunk := repo
	trunk.DefaultBranch = "trunk"
	gone := repo
	gone.DefaultBranch = "gone"

	tests := []struct {
		name       string
		client     func(int64) (fakeAPI, error)
		login      func(context.Context) (string, error)
		repo       bot.Repo
		wantErr    error // compared with errors.Is; nil with wantAnyErr means any error
		wantAnyErr bool
		wantBranch string
		wantTip    string
	}{
		{name: "no default branch named: main", client: client, login: login, repo: repo, wantBranch: "main", wantTip: mainTip},
		{name: "the named default branch", client: client, login: login, repo: trunk, wantBranch: "trunk", wantTip: trunkTip},
		{name: "the client fails", client: func(int64) (fakeAPI, error) { return fakeAPI{}, errClient }, login: login, repo: repo, wantErr: errClient},
		{name: "the bot login fails", client: client, login: func(context.Context) (string, error) { return "", errLogin }, repo: repo, wantErr: errLogin},
		{name: "the branch cannot be fetched", client: client, login: login, repo: gone, wantAnyErr: true},
	}
	// One set for every case: a case that left its workspace locked would
	// block the next one.
	set := workspace.NewSet(t.TempDir())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			co, done, err := featurekit.OpenDefaultBranch(t.Context(), tt.client, tt.login, set, tt.repo)
			if tt.wantErr != nil || tt.wantAnyErr {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if co != nil || done != nil {
					t.Errorf("on an error, got a checkout %+v", co)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			if co.Branch != tt.wantBranch || co.Workspace.Branch != tt.wantBranch {
				t.Errorf("branch %q (workspace %q), want %q", co.Branch, co.Workspace.Branch, tt.wantBranch)
			}
			if co.History.Tip != tt.wantTip {
				t.Errorf("history tip %s, want %s", co.History.Tip, tt.wantTip)
			}
			if co.Bot != "promobot[bot]" || co.Token != token || co.GitHub.token != token {
				t.Errorf("job %+v", co.Job)
			}
		})
	}
	// The set's lock is free after all of the cases.
	co, done, err := featurekit.OpenDefaultBranch(t.Context(), client, login, set, repo)
	if err != nil {
		t.Fatal(err)
	}
	done()
	if co.History.Tip != mainTip {
		t.Errorf("tip %s, want %s", co.History.Tip, mainTip)
	}
}
