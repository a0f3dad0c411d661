package gittest

import (
	"os/exec"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/google/go-cmp/cmp"
)

var when = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestCommitFilesBuildsValidHistory(t *testing.T) {
	root := t.TempDir()
	path := MustInitBare(t, root, "org/app.git", "main")
	first := MustCommit(t, path, Commit{
		Branch:  "main",
		Files:   map[string]string{"a.txt": "a\n", "dir/b.txt": "b\n", "dir-x": "x\n", "dir.y/c": "c\n"},
		Message: "first\n",
		Author:  Signature{Name: "Ann", Email: "ann@example.com", When: when},
	})
	second := MustCommit(t, path, Commit{
		Branch:    "main",
		Files:     map[string]string{"dir/b.txt": "b2\n"},
		Delete:    []string{"a.txt"},
		Message:   "second\n\nSigned-off-by: Ann <ann@example.com>\n",
		Author:    Signature{Name: "Ann", Email: "ann@example.com", When: when},
		Committer: Signature{Name: "Bob", Email: "bob@example.com", When: when.Add(time.Minute)},
	})
	if out, err := exec.Command("git", "-C", path, "fsck", "--strict").CombinedOutput(); err != nil {
		t.Fatalf("git fsck: %v\n%s", err, out)
	}
	out, err := exec.Command("git", "-C", path, "log", "--format=%H %P %an %cn", "main").Output()
	if err != nil {
		t.Fatalf("git log: %v", err)
	}
	want := second + " " + first + " Ann Bob\n" + first + "  Ann Ann\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("git log (-want +got):\n%s", diff)
	}
	cfg, err := exec.Command("git", "-C", path, "config", "http.receivepack").Output()
	if err != nil || string(cfg) != "true\n" {
		t.Errorf("http.receivepack = %q, %v; want true", cfg, err)
	}
}

func TestServerCloneAndPushWithToken(t *testing.T) {
	const token = "s3cret"
	srv := NewTestServer(t, WithToken(token))
	path := MustInitBare(t, srv.Root(), "org/app.git", "main")
	base := MustCommit(t, path, Commit{Branch: "main", Files: map[string]string{"README": "hi\n"}, Message: "init\n"})
	url := srv.RepoURL("org/app.git")

	tests := []struct {
		name    string
		auth    *githttp.BasicAuth
		wantErr bool
	}{
		{name: "no credentials", auth: nil, wantErr: true},
		{name: "wrong token", auth: &githttp.BasicAuth{Username: "x-access-token", Password: "nope"}, wantErr: true},
		{name: "right token", auth: &githttp.BasicAuth{Username: "x-access-token", Password: token}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &git.CloneOptions{URL: url}
			if tt.auth != nil {
				opts.Auth = tt.auth
			}
			_, err := git.CloneContext(t.Context(), memory.NewStorage(), memfs.New(), opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("clone error = %v, want error %v", err, tt.wantErr)
			}
		})
	}

	auth := &githttp.BasicAuth{Username: "x-access-token", Password: token}
	clone, err := git.CloneContext(t.Context(), memory.NewStorage(), memfs.New(), &git.CloneOptions{URL: url, Auth: auth})
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	wt, err := clone.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("feature"), Create: true}); err != nil {
		t.Fatal(err)
	}
	f, err := wt.Filesystem.Create("new.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("new\n"))
	_ = f.Close()
	if _, err := wt.Add("new.txt"); err != nil {
		t.Fatal(err)
	}
	head, err := wt.Commit("add new\n", &git.CommitOptions{Author: &object.Signature{Name: "Ann", Email: "ann@example.com", When: when}})
	if err != nil {
		t.Fatal(err)
	}
	refspec := config.RefSpec("refs/heads/feature:refs/heads/feature")
	if err := clone.PushContext(t.Context(), &git.PushOptions{RefSpecs: []config.RefSpec{refspec}}); err == nil {
		t.Fatal("push without credentials succeeded, want 401")
	}
	if err := clone.PushContext(t.Context(), &git.PushOptions{RefSpecs: []config.RefSpec{refspec}, Auth: auth}); err != nil {
		t.Fatalf("push: %v", err)
	}
	bare, err := git.PlainOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := bare.Reference(plumbing.NewBranchReferenceName("feature"), true)
	if err != nil {
		t.Fatalf("pushed branch missing: %v", err)
	}
	if ref.Hash() != head {
		t.Errorf("feature = %s, want %s", ref.Hash(), head)
	}
	commit, err := bare.CommitObject(head)
	if err != nil || commit.ParentHashes[0].String() != base {
		t.Errorf("pushed commit parent = %v (%v), want %s", commit, err, base)
	}

	var sawReceivePack bool
	for _, r := range srv.Requests() {
		if r.Path == "/org/app.git/git-receive-pack" && r.Status == 200 {
			sawReceivePack = true
			if !r.HasCredentials || r.User != "x-access-token" {
				t.Errorf("receive-pack request credentials = %+v", r)
			}
		}
	}
	if !sawReceivePack {
		t.Errorf("no successful receive-pack request recorded: %+v", srv.Requests())
	}
}

func TestServerWithoutAuthAllowsAnonymous(t *testing.T) {
	srv := NewTestServer(t)
	path := MustInitBare(t, srv.Root(), "solo.git", "trunk")
	MustCommit(t, path, Commit{Branch: "trunk", Files: map[string]string{"f": "1"}, Message: "m"})
	repo, err := git.CloneContext(t.Context(), memory.NewStorage(), nil, &git.CloneOptions{URL: srv.RepoURL("solo.git"), NoCheckout: true})
	if err != nil {
		t.Fatalf("clone: %v", err)
	}
	if _, err := repo.Reference(plumbing.NewRemoteReferenceName("origin", "trunk"), true); err != nil {
		t.Errorf("trunk not fetched: %v", err)
	}
	_, err = git.CloneContext(t.Context(), memory.NewStorage(), nil, &git.CloneOptions{URL: srv.RepoURL("missing.git")})
	if err == nil {
		t.Errorf("clone of a missing repository succeeded")
	}
}
