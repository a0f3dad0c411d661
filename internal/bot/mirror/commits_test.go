package mirror

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// TestSyncCommitsForAMergeGroup builds what a merge queue builds, a merge
// of a pull request's head into the base on a gh-readonly-queue branch, and
// reads it by hash.
func TestSyncCommitsForAMergeGroup(t *testing.T) {
	f := newFixture(t)
	// main moves on after the branch point, touching another file.
	tip := gittest.MustCommit(t, f.repoPath, gittest.Commit{Branch: "main", Files: map[string]string{"other.txt": "x\n"}, Message: "other"})
	const queue = "gh-readonly-queue/main/pr-1-0123456789012345678901234567890123456789"
	group := gittest.MustCommit(t, f.repoPath, gittest.Commit{
		Branch: queue, Parents: []string{tip, f.head}, Files: map[string]string{"README.md": "hello again\n"}, Message: "Merge pull request #1",
	})
	var obs fetches
	set, err := New(t.TempDir(), Options{ObserveFetch: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	req := CommitsRequest{
		Repository: "acme/models", CloneURL: f.cloneURL, Token: token,
		Refs:    []string{"refs/heads/" + queue, "refs/pull/1/head", "refs/heads/main", "refs/heads/feature"},
		Commits: []string{tip, group, f.head},
	}
	commits, err := set.SyncCommits(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.SyncCommits(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]FetchOutcome{FetchUpdated}, obs.seen); diff != "" {
		t.Errorf("fetches (-want +got); the queue branch holds every commit, and the second sync had everything:\n%s", diff)
	}

	mb, err := commits.MergeBase(f.head, tip)
	if err != nil || mb != f.base {
		t.Errorf("MergeBase = %s, %v; want %s", mb, err, f.base)
	}
	groupChanges, err := commits.ChangedFiles(t.Context(), tip, group)
	if err != nil {
		t.Fatal(err)
	}
	if len(groupChanges) != 1 || groupChanges["README.md"] == "" {
		t.Errorf("the group changes %v, want README.md only", groupChanges)
	}
	headVsGroup, err := commits.ChangedFiles(t.Context(), f.head, group)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"other.txt": headVsGroup["other.txt"]}, headVsGroup); diff != "" || headVsGroup["other.txt"] == "" {
		t.Errorf("head vs group (-want +got):\n%s", diff)
	}
	removed, err := commits.ChangedFiles(t.Context(), tip, f.base)
	if err != nil || removed["other.txt"] != "" || len(removed) != 1 {
		t.Errorf("files missing from the older commit: %v, %v", removed, err)
	}

	snap, err := commits.Snapshot(tip, f.head)
	if err != nil {
		t.Fatal(err)
	}
	if snap.BaseCommit() != tip {
		t.Errorf("snapshot base %s, want %s", snap.BaseCommit(), tip)
	}
	in, err := snap.BuildInput(t.Context(), gitrepo.InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Changes) != 1 || in.Changes[0].Path != "README.md" {
		t.Errorf("changes %+v, want README.md", in.Changes)
	}
}

func TestSyncCommitsFailures(t *testing.T) {
	f := newFixture(t)
	set, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	const unknown = "0123456789012345678901234567890123456789"
	tests := []struct {
		name     string
		req      CommitsRequest
		wantErr  bool
		terminal bool
	}{
		{name: "not a hash", req: CommitsRequest{Commits: []string{"main"}, Refs: []string{"refs/heads/main"}}, wantErr: true, terminal: true},
		{name: "not a full ref", req: CommitsRequest{Commits: []string{f.base}, Refs: []string{"main"}}, wantErr: true, terminal: true},
		{name: "nothing requested", req: CommitsRequest{}, wantErr: true, terminal: true},
		{name: "a commit the server lacks", req: CommitsRequest{Commits: []string{unknown}, Refs: []string{"refs/heads/main"}}, wantErr: true},
		{name: "a ref the server lacks", req: CommitsRequest{Commits: []string{unknown}, Refs: []string{"refs/heads/gone"}}, wantErr: true, terminal: true},
		{name: "found after a missing ref", req: CommitsRequest{Commits: []string{f.head}, Refs: []string{"refs/pull/1/head", "refs/heads/feature"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Repository, tc.req.CloneURL, tc.req.Token = "acme/models", f.cloneURL, token
			_, err := set.SyncCommits(t.Context(), tc.req)
			if (err != nil) != tc.wantErr || failure.IsTerminal(err) != tc.terminal {
				t.Errorf("SyncCommits = %v (terminal %v), want error %v, terminal %v", err, failure.IsTerminal(err), tc.wantErr, tc.terminal)
			}
		})
	}
}
