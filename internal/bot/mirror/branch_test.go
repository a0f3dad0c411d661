package mirror

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// tokens counts the tokens a SyncBranch asked for.
type tokens struct {
	calls atomic.Int32
	value string
}

func (k *tokens) token(context.Context) (string, error) {
	k.calls.Add(1)
	return k.value, nil
}

func (f *fixture) branchRequest(k *tokens, maxAge time.Duration) BranchRequest {
	return BranchRequest{Repository: "acme/models", CloneURL: f.cloneURL, Token: k.token, Branch: "main", MaxAge: maxAge}
}

// tipOf reads the commit ref names in the mirror at path.
func tipOf(t *testing.T, b *Branch) string {
	t.Helper()
	repo, err := gitrepo.OpenGit(b.Path)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := repo.Reference(b.Ref, true)
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash().String()
}

func TestSyncBranchMakesTheMirrorAndKeepsItFresh(t *testing.T) {
	f := newFixture(t)
	var obs fetches
	set, err := New(t.TempDir(), Options{ObserveFetch: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	k := &tokens{value: token}
	b, err := set.SyncBranch(t.Context(), f.branchRequest(k, time.Hour))
	if err != nil {
		t.Fatalf("first SyncBranch: %v", err)
	}
	want, err := set.Path("acme/models", f.cloneURL)
	if err != nil {
		t.Fatal(err)
	}
	if b.Path != want || b.Ref != "refs/remotes/origin/main" || tipOf(t, b) != f.base {
		t.Errorf("branch %+v at %s, want %s, refs/remotes/origin/main at %s", b, tipOf(t, b), want, f.base)
	}

	// Fresh: neither a token nor a fetch, even after a push.
	tip := gittest.MustCommit(t, f.repoPath, gittest.Commit{Branch: "main", Files: map[string]string{"other.txt": "x\n"}, Message: "more"})
	if _, err := set.SyncBranch(t.Context(), f.branchRequest(k, time.Hour)); err != nil {
		t.Fatalf("fresh SyncBranch: %v", err)
	}
	if got := k.calls.Load(); got != 1 {
		t.Errorf("a fresh branch asked for a token: %d calls", got)
	}
	// Stale (MaxAge 0): fetched again, and the push is seen.
	if b, err = set.SyncBranch(t.Context(), f.branchRequest(k, 0)); err != nil {
		t.Fatalf("stale SyncBranch: %v", err)
	}
	if tipOf(t, b) != tip {
		t.Errorf("after the push the mirror holds %s, want %s", tipOf(t, b), tip)
	}
	if diff := cmp.Diff([]FetchOutcome{FetchUpdated, FetchUpdated}, obs.seen); diff != "" {
		t.Errorf("fetch outcomes (-want +got):\n%s", diff)
	}
}

func TestSyncBranchCountsTheBotsFetches(t *testing.T) {
	f := newFixture(t)
	set, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Sync(t.Context(), f.request()); err != nil {
		t.Fatal(err)
	}
	k := &tokens{value: token}
	b, err := set.SyncBranch(t.Context(), f.branchRequest(k, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if k.calls.Load() != 0 || tipOf(t, b) != f.base {
		t.Errorf("after the bot fetched main: %d token calls, tip %s", k.calls.Load(), tipOf(t, b))
	}
}

func TestSyncBranchConcurrentCallersShareOneFetch(t *testing.T) {
	f := newFixture(t)
	var obs fetches
	set, err := New(t.TempDir(), Options{ObserveFetch: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	k := &tokens{value: token}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := set.SyncBranch(t.Context(), f.branchRequest(k, time.Hour))
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
	if k.calls.Load() != 1 || len(obs.seen) != 1 {
		t.Errorf("8 concurrent callers: %d tokens, fetches %v; want one", k.calls.Load(), obs.seen)
	}
}

func TestSyncBranchErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name         string
		edit         func(*BranchRequest)
		wantTerminal bool
		wantIn       string
	}{
		{name: "wrong token", edit: func(r *BranchRequest) { r.Token = (&tokens{value: "nope"}).token }, wantIn: "fetch acme/models"},
		{name: "no token", edit: func(r *BranchRequest) {
			r.Token = func(context.Context) (string, error) { return "", errors.New("GitHub is down") }
		}, wantIn: "GitHub is down"},
		{name: "unknown branch", edit: func(r *BranchRequest) { r.Branch = "gone" }, wantTerminal: true, wantIn: "fetch acme/models"},
		{name: "no branch", edit: func(r *BranchRequest) { r.Branch = "" }, wantTerminal: true, wantIn: "lacks the branch"},
		{name: "local clone URL", edit: func(r *BranchRequest) { r.CloneURL = "file:///etc" }, wantTerminal: true, wantIn: "not a plain http(s) URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := New(t.TempDir(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			req := f.branchRequest(&tokens{value: token}, time.Hour)
			tc.edit(&req)
			_, err = set.SyncBranch(t.Context(), req)
			checkRefusal(t, "SyncBranch", err, tc.wantTerminal, tc.wantIn)
		})
	}
}

// A failed fetch is answered again, without asking GitHub, until
// RetryAfter has passed; without RetryAfter every call fetches.
func TestSyncBranchRemembersAFailureForRetryAfter(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		retryAfter time.Duration
		wantTokens int32
	}{
		{name: "remembered", retryAfter: time.Hour, wantTokens: 1},
		{name: "retried every time", retryAfter: 0, wantTokens: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := New(t.TempDir(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			k := &tokens{value: token}
			req := f.branchRequest(k, time.Hour)
			req.Branch, req.RetryAfter = "gone", tc.retryAfter
			var first error
			for i := range 3 {
				_, err := set.SyncBranch(t.Context(), req)
				if err == nil {
					t.Fatalf("call %d: SyncBranch succeeded", i)
				}
				if i == 0 {
					first = err
				} else if tc.retryAfter > 0 && err != first {
					t.Errorf("call %d: error %v, want the remembered %v", i, err, first)
				}
			}
			if got := k.calls.Load(); got != tc.wantTokens {
				t.Errorf("tokens asked for = %d, want %d", got, tc.wantTokens)
			}
		})
	}
}
