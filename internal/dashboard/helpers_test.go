package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/audittest"
	"github.com/example-org/promobot/internal/testing/githubtest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// world is the audit's small history with an owners file and one open
// promotion pull request that lacks an approval, served by the emulator.
type world struct {
	history *audittest.History
	client  *githubapi.Client
	pull    int
}

// newWorld builds the world. The open pull request promotes forecaster
// 1.2.0 to test, which CODEOWNERS gives to bob and carol.
func newWorld(t *testing.T) *world {
	t.Helper()
	h := audittest.BuildHistory(t)
	at := time.Date(2026, 6, 11, 9, 0, 0, 0, time.UTC)
	who := gittest.Signature{Name: "Dave Admin", Email: "dave@example.com", When: at}
	gittest.MustCommit(t, h.Path, gittest.Commit{Branch: "main", Message: "Name the owners of each environment\n", Author: who,
		Files: map[string]string{"CODEOWNERS": "/environments/dev/ @alice\n/environments/test/ @bob @carol\n/environments/prod/ @carol @dave\n/.github/ @dave\n/CODEOWNERS @dave\n"}})
	tip := gitTip(t, h.Path)
	pin := audittest.Pin{Environment: "test", Model: "forecaster", Version: "1.2.0"}
	alice := gittest.Signature{Name: "Alice Ng", Email: "alice@example.com", When: at.Add(time.Hour)}
	gittest.MustCommit(t, h.Path, gittest.Commit{Branch: "promote-1.2.0-test", Parents: []string{tip},
		Files: map[string]string{pin.Path(): pin.YAML()}, Message: "Promote forecaster 1.2.0 to test\n", Author: alice})
	n, err := h.Fixture.Emulator.OpenPR(audittest.Owner, audittest.Name, githubtest.NewPullRequest{
		Title: "Promote forecaster 1.2.0 to test", Head: "promote-1.2.0-test", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := githubapi.New(githubapi.Config{BaseURL: h.Fixture.URL(), Token: h.Token(t)})
	if err != nil {
		t.Fatal(err)
	}
	client, err := apps.Client()
	if err != nil {
		t.Fatal(err)
	}
	return &world{history: h, client: client, pull: n}
}

func gitTip(t *testing.T, path string) string {
	t.Helper()
	repo, err := audittestOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	return repo
}

// server serves a dashboard of repo in local mode.
func server(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path and returns the status and body.
func get(t *testing.T, srv *httptest.Server, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header
}

// contains fails the test unless body holds every one of want.
func contains(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q:\n%.3000s", what, w, body)
		}
	}
}

func audittestOpen(path string) (string, error) {
	repo, err := git.PlainOpen(path)
	if err != nil {
		return "", err
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName("main"), true)
	if err != nil {
		return "", err
	}
	return ref.Hash().String(), nil
}
