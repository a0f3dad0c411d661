package githubtest

import (
	"net/http"
	"net/http/httptest"

	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/gittest"
)

// TB is the part of testing.TB the helpers use; *testing.T satisfies it.
// It is gittest's, since the fixture passes it on to gittest's helpers.
type TB = gittest.TB

// Fixture is an emulator served over loopback together with a git server
// whose pushes and fetches accept the tokens the emulator issues.
type Fixture struct {
	// Emulator is the emulated GitHub.
	Emulator *Emulator
	// Git serves the bare repositories.
	Git *gittest.Server
	// Server serves Emulator.Handler.
	Server *httptest.Server
}

// NewFixture starts a git server and an emulator and stops both when the
// test ends.
func NewFixture(t TB, cfg Config) *Fixture {
	t.Helper()
	e := New(cfg)
	git := gittest.NewTestServer(t, gittest.WithAuthorizer(e.GitAuthorizer()))
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	e.SetBaseURL(srv.URL)
	return &Fixture{Emulator: e, Git: git, Server: srv}
}

// URL returns the emulator's GitHub Enterprise style API base URL, ending in
// "/api/v3/".
func (f *Fixture) URL() string { return f.Server.URL + "/api/v3/" }

// AddRepo creates a bare repository owner/name.git on the git server,
// registers it with the emulator and returns its path on disk.
func (f *Fixture) AddRepo(t TB, owner, name, defaultBranch string) string {
	t.Helper()
	rel := owner + "/" + name + ".git"
	path := gittest.MustInitBare(t, f.Git.Root(), rel, defaultBranch)
	err := f.Emulator.AddRepo(Repo{Owner: owner, Name: name, DefaultBranch: defaultBranch, Path: path, CloneURL: f.Git.RepoURL(rel)})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return path
}

// Client returns a go-github client for the emulator that authenticates
// with token (an installation or user token); an empty token sends none.
func (f *Fixture) Client(t TB, token string) *github.Client {
	t.Helper()
	httpClient := &http.Client{Transport: tokenTransport{token: token}}
	c, err := github.NewClient(httpClient).WithEnterpriseURLs(f.Server.URL, f.Server.URL)
	if err != nil {
		t.Fatalf("build client: %v", err)
	}
	return c
}

type tokenTransport struct{ token string }

func (tt tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if tt.token != "" {
		r.Header.Set("Authorization", "token "+tt.token)
	}
	return http.DefaultTransport.RoundTrip(r)
}
