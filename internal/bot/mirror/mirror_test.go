package mirror

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/gittest"
)

const token = "ghs_secret_token"

type fixture struct {
	server   *gittest.Server
	repoPath string
	cloneURL string
	base     string
	head     string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := gittest.NewTestServer(t, gittest.WithToken(token))
	path := gittest.MustInitBare(t, srv.Root(), "acme/models.git", "main")
	base := gittest.MustCommit(t, path, gittest.Commit{Branch: "main", Files: map[string]string{"README.md": "hello\n"}, Message: "init"})
	head := gittest.MustCommit(t, path, gittest.Commit{Branch: "feature", Parents: []string{base}, Files: map[string]string{"README.md": "hello again\n"}, Message: "change"})
	return &fixture{server: srv, repoPath: path, cloneURL: srv.RepoURL("acme/models.git"), base: base, head: head}
}

func (f *fixture) request() Request {
	return Request{
		Repository: "acme/models", CloneURL: f.cloneURL, Token: token,
		BaseBranch: "main", PullNumber: 1, HeadBranch: "feature", SameRepository: true, HeadSHA: f.head,
	}
}

type fetches struct {
	mu   sync.Mutex
	seen []FetchOutcome
}

func (f *fetches) observe(o FetchOutcome, _ time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, o)
}

func TestSyncFetchesOnlyWhatIsMissing(t *testing.T) {
	f := newFixture(t)
	var obs fetches
	set, err := New(t.TempDir(), Options{ObserveFetch: obs.observe})
	if err != nil {
		t.Fatal(err)
	}

	snap, err := set.Sync(t.Context(), f.request())
	if err != nil {
		t.Fatalf("first Sync: %v", err)
	}
	if snap.Base.String() != f.base || snap.Head.String() != f.head {
		t.Errorf("snapshot %s..%s, want %s..%s", snap.Base, snap.Head, f.base, f.head)
	}
	in, err := snap.BuildInput(t.Context(), gitrepo.InputOptions{})
	if err != nil {
		t.Fatalf("BuildInput: %v", err)
	}
	if len(in.Changes) != 1 || in.Changes[0].Path != "README.md" {
		t.Errorf("changes %+v, want README.md", in.Changes)
	}

	// Nothing changed: one cheap fetch of the base branch, same reader.
	again, err := set.Sync(t.Context(), f.request())
	if err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	if again.repo != snap.repo {
		t.Error("the reader was reopened although nothing was fetched")
	}

	// The base moves on: the new tip is fetched and seen.
	tip := gittest.MustCommit(t, f.repoPath, gittest.Commit{Branch: "main", Files: map[string]string{"other.txt": "x\n"}, Message: "more"})
	moved, err := set.Sync(t.Context(), f.request())
	if err != nil {
		t.Fatalf("third Sync: %v", err)
	}
	if moved.Base.String() != tip {
		t.Errorf("base after the push %s, want %s", moved.Base, tip)
	}
	if _, err := moved.BuildInput(t.Context(), gitrepo.InputOptions{}); err != nil {
		t.Errorf("BuildInput after the base moved: %v", err)
	}
	if diff := cmp.Diff([]FetchOutcome{FetchUpdated, FetchUnchanged, FetchUpdated}, obs.seen); diff != "" {
		t.Errorf("fetch outcomes (-want +got):\n%s", diff)
	}
}

func TestSyncPrefersThePullRequestRef(t *testing.T) {
	f := newFixture(t)
	// A fork's head: only refs/pull/7/head holds it.
	fork := gittest.MustCommit(t, f.repoPath, gittest.Commit{Parents: []string{f.base}, Files: map[string]string{"fork.txt": "x\n"}, Message: "from a fork"})
	bare, err := git.PlainOpen(f.repoPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := bare.Storer.SetReference(plumbing.NewHashReference("refs/pull/7/head", plumbing.NewHash(fork))); err != nil {
		t.Fatal(err)
	}
	set, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := f.request()
	req.PullNumber, req.HeadSHA, req.HeadBranch, req.SameRepository = 7, fork, "patch-1", false
	snap, err := set.Sync(t.Context(), req)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if snap.Head.String() != fork {
		t.Errorf("head %s, want %s", snap.Head, fork)
	}
}

func TestSyncErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name         string
		edit         func(*Request)
		wantTerminal bool
		wantIn       string
	}{
		{name: "wrong token", edit: func(r *Request) { r.Token = "nope" }, wantIn: "fetch acme/models"},
		{name: "head not on the server", edit: func(r *Request) { r.HeadSHA = strings.Repeat("ab", 20) }, wantIn: "is not on the server"},
		{name: "unknown base branch", edit: func(r *Request) { r.BaseBranch = "gone" }, wantTerminal: true, wantIn: "fetch acme/models"},
		{name: "fork without a pull ref", edit: func(r *Request) { r.SameRepository = false }, wantTerminal: true},
		{name: "local clone URL", edit: func(r *Request) { r.CloneURL = "file:///etc" }, wantTerminal: true, wantIn: "not a plain http(s) URL"},
		{name: "credentials in the clone URL", edit: func(r *Request) { r.CloneURL = strings.Replace(r.CloneURL, "http://", "http://u:p@", 1) }, wantTerminal: true},
		{name: "path traversal in the name", edit: func(r *Request) { r.Repository = "acme/.." }, wantTerminal: true, wantIn: "invalid repository name"},
		{name: "head is not a hash", edit: func(r *Request) { r.HeadSHA = "main" }, wantTerminal: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := New(t.TempDir(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			req := f.request()
			tc.edit(&req)
			_, err = set.Sync(t.Context(), req)
			checkRefusal(t, "Sync", err, tc.wantTerminal, tc.wantIn)
		})
	}
}

// checkRefusal fails the test unless err is a refusal of op: terminal or
// not as wanted, mentioning wantIn, and without the token.
func checkRefusal(t *testing.T, op string, err error, wantTerminal bool, wantIn string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded", op)
	}
	if got := failure.IsTerminal(err); got != wantTerminal {
		t.Errorf("failure.IsTerminal(%v) = %v, want %v", err, got, wantTerminal)
	}
	if !strings.Contains(err.Error(), wantIn) {
		t.Errorf("error %q does not mention %q", err, wantIn)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error %q leaks the token", err)
	}
}

func TestConcurrentSyncsOfOneRepository(t *testing.T) {
	f := newFixture(t)
	set, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			snap, err := set.Sync(t.Context(), f.request())
			if err == nil {
				_, err = snap.BuildInput(t.Context(), gitrepo.InputOptions{})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
