package gitrepo

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/example-org/promobot/internal/testing/gittest"
)

func TestScrub(t *testing.T) {
	const token = "ghs_s3cretT0ken"
	base := fmt.Errorf("fetch: %w", transport.ErrAuthenticationRequired)
	tests := []struct {
		name    string
		err     error
		secrets []string
		want    string
		same    bool // the error is returned as it is
	}{
		{name: "nil", err: nil, secrets: []string{token}},
		{name: "no secret in the message", err: base, secrets: []string{token}, want: base.Error(), same: true},
		{name: "empty secret ignored", err: base, secrets: []string{""}, want: base.Error(), same: true},
		{name: "token", err: fmt.Errorf("bad %s: %w", token, transport.ErrAuthenticationRequired), secrets: []string{token}, want: "bad <token>: authentication required"},
		{name: "URL redacted", err: fmt.Errorf("get https://u:%s@host/r.git: %w", token, transport.ErrAuthenticationRequired), secrets: []string{"https://u:" + token + "@host/r.git", token}, want: "get https://REDACTED@host/r.git: authentication required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Scrub(tt.err, tt.secrets...)
			if tt.err == nil {
				if got != nil {
					t.Fatalf("Scrub(nil) = %v", got)
				}
				return
			}
			if got.Error() != tt.want {
				t.Errorf("Scrub = %q, want %q", got, tt.want)
			}
			if (got == tt.err) != tt.same {
				t.Errorf("returned the error itself = %v, want %v", got == tt.err, tt.same)
			}
			if !errors.Is(got, transport.ErrAuthenticationRequired) {
				t.Errorf("the scrubbed error no longer matches its cause")
			}
			if errors.Unwrap(got) != nil && strings.Contains(errors.Unwrap(got).Error(), token) {
				t.Errorf("the token can be reached by unwrapping")
			}
		})
	}
}

// TestRemoteCloneFetchPush clones, fetches and pushes through Remote
// against a real git server that requires a token, the pushed commit built
// in an Overlay so that nothing reaches the local disk.
func TestRemoteCloneFetchPush(t *testing.T) {
	const token = "s3cret-token"
	srv := gittest.NewTestServer(t, gittest.WithToken(token))
	path := gittest.MustInitBare(t, srv.Root(), "org/app.git", "main")
	first := gittest.MustCommit(t, path, gittest.Commit{Branch: "main", Files: map[string]string{"README": "hi\n"}, Message: "init\n"})
	remote := Remote{URL: srv.RepoURL("org/app.git"), Auth: TokenAuth(token)}
	ctx := t.Context()

	refs, err := remote.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if !hasRef(refs, "refs/heads/main", first) {
		t.Fatalf("List = %v, want refs/heads/main at %s", refs, first)
	}

	dir := filepath.Join(t.TempDir(), "clone.git")
	local, err := remote.CloneBare(ctx, dir)
	if err != nil {
		t.Fatalf("CloneBare: %v", err)
	}
	spec := []config.RefSpec{"+refs/heads/main:refs/remotes/origin/main"}
	if updated, err := remote.Fetch(ctx, local.Storer, FetchOptions{RefSpecs: spec}); err != nil || updated {
		t.Fatalf("Fetch of an up-to-date branch = %v, %v; want false, nil", updated, err)
	}
	second := gittest.MustCommit(t, path, gittest.Commit{Branch: "main", Files: map[string]string{"README": "hello\n"}, Message: "second\n"})
	if updated, err := remote.Fetch(ctx, local.Storer, FetchOptions{RefSpecs: spec}); err != nil || !updated {
		t.Fatalf("Fetch after a commit = %v, %v; want true, nil", updated, err)
	}
	ref, err := local.Reference("refs/remotes/origin/main", true)
	if err != nil || ref.Hash().String() != second {
		t.Fatalf("origin/main = %v, %v; want %s", ref, err, second)
	}
	if _, err := remote.Fetch(ctx, local.Storer, FetchOptions{RefSpecs: []config.RefSpec{"+refs/heads/nope:refs/remotes/origin/nope"}}); !errors.Is(err, git.NoMatchingRefSpecError{}) {
		t.Fatalf("Fetch of a missing branch = %v, want NoMatchingRefSpecError", err)
	}

	overlay, err := Overlay(local)
	if err != nil {
		t.Fatalf("Overlay: %v", err)
	}
	parent, err := overlay.CommitObject(plumbing.NewHash(second))
	if err != nil {
		t.Fatal(err)
	}
	sig := object.Signature{Name: "t", Email: "t@example.com", When: parent.Committer.When}
	obj := overlay.Storer.NewEncodedObject()
	c := &object.Commit{Author: sig, Committer: sig, Message: "overlay\n", TreeHash: parent.TreeHash, ParentHashes: []plumbing.Hash{parent.Hash}}
	if err := c.Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := overlay.Storer.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.CommitObject(h); err == nil {
		t.Fatalf("the overlay's commit reached the disk")
	}
	push := PushOptions{RefSpecs: []config.RefSpec{config.RefSpec(h.String() + ":refs/heads/topic")}}
	if err := remote.Push(ctx, overlay.Storer, push); err != nil {
		t.Fatalf("Push: %v", err)
	}
	if err := remote.Push(ctx, overlay.Storer, push); err != nil {
		t.Fatalf("Push again (up to date): %v", err)
	}
	refs, err = remote.List(ctx)
	if err != nil || !hasRef(refs, "refs/heads/topic", h.String()) {
		t.Fatalf("after Push, List = %v, %v; want refs/heads/topic at %s", refs, err, h)
	}
}

func hasRef(refs []*plumbing.Reference, name, hash string) bool {
	for _, r := range refs {
		if r.Name().String() == name && r.Hash().String() == hash {
			return true
		}
	}
	return false
}

// TestRemoteErrorsHideSecrets makes every operation fail and checks that no
// error shows the token, whether sent as credentials or held in the URL.
func TestRemoteErrorsHideSecrets(t *testing.T) {
	const token = "ghs_verysecrettoken42"
	srv := gittest.NewTestServer(t, gittest.WithToken("another"))
	gittest.MustInitBare(t, srv.Root(), "org/app.git", "main")
	// A port nothing listens on: the connection is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	remotes := map[string]Remote{
		"wrong token":           {URL: srv.RepoURL("org/app.git"), Auth: TokenAuth(token)},
		"token as URL user":     {URL: "http://" + token + "@" + closed + "/org/app.git"},
		"token as URL pass":     {URL: "http://x-access-token:" + token + "@" + closed + "/org/app.git"},
		"token sent, no server": {URL: "http://" + closed + "/org/app.git", Auth: &githttp.BasicAuth{Username: TokenUser, Password: token}},
	}
	for name, remote := range remotes {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			local, err := git.PlainInit(t.TempDir(), true)
			if err != nil {
				t.Fatal(err)
			}
			_, listErr := remote.List(ctx)
			_, fetchErr := remote.Fetch(ctx, local.Storer, FetchOptions{RefSpecs: []config.RefSpec{"+refs/heads/main:refs/remotes/origin/main"}})
			pushErr := remote.Push(ctx, local.Storer, PushOptions{RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/main"}})
			_, cloneErr := remote.CloneBare(ctx, filepath.Join(t.TempDir(), "c.git"))
			for op, err := range map[string]error{"List": listErr, "Fetch": fetchErr, "Push": pushErr, "CloneBare": cloneErr} {
				if err == nil {
					t.Errorf("%s succeeded, want an error", op)
					continue
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("%s error shows the token: %v", op, err)
				}
			}
		})
	}
}
