package githubtest

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"

	"github.com/example-org/promobot/internal/testing/gittest"
)

func TestCreatePullThroughAPI(t *testing.T) {
	e := newEnv(t)
	alice := e.Client(t, e.alice)
	pr, resp, err := alice.PullRequests.Create(t.Context(), org, repoName, &github.NewPullRequest{
		Title: github.String("Promote fraud"), Head: github.String("acme:promote"), Base: github.String("main"),
		Body: github.String("please"),
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v (%v)", err, resp)
	}
	got := map[string]any{
		"number": pr.GetNumber(), "state": pr.GetState(), "user": pr.GetUser().GetLogin(),
		"head.ref": pr.GetHead().GetRef(), "head.sha": pr.GetHead().GetSHA(), "head.label": pr.GetHead().GetLabel(),
		"base.ref": pr.GetBase().GetRef(), "base.sha": pr.GetBase().GetSHA(), "commits": pr.GetCommits(),
		"changed_files": pr.GetChangedFiles(), "mergeable": pr.GetMergeable(), "merged": pr.GetMerged(),
		"repo": pr.GetBase().GetRepo().GetFullName(),
	}
	want := map[string]any{
		"number": 1, "state": "open", "user": "alice", "head.ref": "promote", "head.sha": e.headSHA,
		"head.label": "acme:promote", "base.ref": "main", "base.sha": e.baseSHA, "commits": 2, "changed_files": 4,
		"mergeable": true, "merged": false, "repo": "acme/models",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created PR (-want +got):\n%s", diff)
	}

	tests := []struct {
		name        string
		head, base  string
		wantMessage string
	}{
		{name: "duplicate", head: "promote", base: "main", wantMessage: "A pull request already exists for acme:promote."},
		{name: "missing head", head: "nope", base: "main"},
		{name: "no commits", head: "main", base: "main", wantMessage: "No commits between main and main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := alice.PullRequests.Create(t.Context(), org, repoName, &github.NewPullRequest{
				Title: github.String("again"), Head: github.String(tt.head), Base: github.String(tt.base),
			})
			var errResp *github.ErrorResponse
			if !errors.As(err, &errResp) || resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("err = %v, want 422", err)
			}
			if errResp.Message != "Validation Failed" || len(errResp.Errors) != 1 {
				t.Fatalf("error body = %+v", errResp)
			}
			if tt.wantMessage != "" && errResp.Errors[0].Message != tt.wantMessage {
				t.Errorf("error message = %q, want %q", errResp.Errors[0].Message, tt.wantMessage)
			}
		})
	}
}

func TestListGetUpdatePulls(t *testing.T) {
	e := newEnv(t)
	first := e.openPR(t)
	gittest.MustCommit(t, e.path, gittest.Commit{Branch: "other", Parents: []string{e.baseSHA}, Files: map[string]string{"x": "1"}, Message: "x"})
	e.advance(time.Minute)
	second, err := e.Emulator.OpenPR(org, repoName, NewPullRequest{Title: "Other", Head: "other", User: "bob", Draft: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Emulator.SetPRState(org, repoName, second, "closed"); err != nil {
		t.Fatal(err)
	}
	numbers := func(prs []*github.PullRequest) []int {
		var out []int
		for _, p := range prs {
			out = append(out, p.GetNumber())
		}
		return out
	}
	tests := []struct {
		name string
		opts github.PullRequestListOptions
		want []int
	}{
		{name: "default is open", want: []int{first}},
		{name: "all newest first", opts: github.PullRequestListOptions{State: "all"}, want: []int{second, first}},
		{name: "all ascending", opts: github.PullRequestListOptions{State: "all", Direction: "asc"}, want: []int{first, second}},
		{name: "closed", opts: github.PullRequestListOptions{State: "closed"}, want: []int{second}},
		{name: "head filter", opts: github.PullRequestListOptions{State: "all", Head: "acme:other"}, want: []int{second}},
		{name: "base filter", opts: github.PullRequestListOptions{State: "all", Base: "release"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prs, _, err := e.app.PullRequests.List(t.Context(), org, repoName, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, numbers(prs)); diff != "" {
				t.Errorf("numbers (-want +got):\n%s", diff)
			}
		})
	}

	pr, _, err := e.app.PullRequests.Get(t.Context(), org, repoName, second)
	if err != nil {
		t.Fatal(err)
	}
	if !pr.GetDraft() || pr.GetState() != "closed" || pr.ClosedAt == nil {
		t.Errorf("closed draft PR = draft %v state %v closed_at %v", pr.GetDraft(), pr.GetState(), pr.ClosedAt)
	}
	updated, _, err := e.app.PullRequests.Edit(t.Context(), org, repoName, first, &github.PullRequest{Title: github.String("New title"), State: github.String("closed")})
	if err != nil {
		t.Fatal(err)
	}
	if updated.GetTitle() != "New title" || updated.GetState() != "closed" {
		t.Errorf("edited PR = %q %q", updated.GetTitle(), updated.GetState())
	}
	if _, resp, err := e.app.PullRequests.Get(t.Context(), org, repoName, 99); resp == nil || resp.StatusCode != 404 {
		t.Errorf("missing PR: %v %v", resp, err)
	}
}

func TestPullFilesComputedFromGit(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	files, _, err := e.app.PullRequests.ListFiles(t.Context(), org, repoName, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	type file struct {
		Name, Status, Previous string
		Additions, Deletions   int
	}
	var got []file
	for _, f := range files {
		got = append(got, file{f.GetFilename(), f.GetStatus(), f.GetPreviousFilename(), f.GetAdditions(), f.GetDeletions()})
		if f.GetSHA() == "" || f.GetBlobURL() == "" || f.GetRawURL() == "" || f.GetContentsURL() == "" {
			t.Errorf("%s lacks sha or URLs: %+v", f.GetFilename(), f)
		}
	}
	want := []file{
		{Name: "docs/new-name.md", Status: "renamed", Previous: "docs/old-name.md"},
		{Name: "environments/prod/fraud.yaml", Status: "modified", Additions: 2, Deletions: 2},
		{Name: "environments/stage/a.yaml", Status: "added", Additions: 1},
		{Name: "obsolete.txt", Status: "removed", Deletions: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	wantPatch := "@@ -1,2 +1,2 @@\n-version: 1\n-sha256: aaa\n+version: 2\n+sha256: bbb"
	if diff := cmp.Diff(wantPatch, files[1].GetPatch()); diff != "" {
		t.Errorf("patch (-want +got):\n%s", diff)
	}
}

func TestPullCommitsCarryMessagesAndLogins(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	commits, _, err := e.app.PullRequests.ListCommits(t.Context(), org, repoName, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ SHA, Message, AuthorLogin, CommitterLogin, CommitterName string }
	var got []row
	for _, c := range commits {
		got = append(got, row{c.GetSHA(), c.GetCommit().GetMessage(), c.GetAuthor().GetLogin(), c.GetCommitter().GetLogin(), c.GetCommit().GetCommitter().GetName()})
	}
	if len(got) != 2 {
		t.Fatalf("commits = %+v", got)
	}
	want := row{e.headSHA, "Tidy docs\n\nPromobot-Model: fraud\nSigned-off-by: Alice <alice@example.com>\n", "alice", "bob", "Bob"}
	if diff := cmp.Diff(want, got[1]); diff != "" {
		t.Errorf("last commit (-want +got):\n%s", diff)
	}
	if got[0].Message != "Promote fraud to prod\n" {
		t.Errorf("first commit message = %q; commits must be oldest first", got[0].Message)
	}
	if d := commits[1].GetCommit().GetCommitter().GetDate(); !d.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("committer date = %v", d)
	}
}

func TestMergeWritesRealCommits(t *testing.T) {
	for _, method := range []string{"merge", "squash"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t)
			n := e.openPR(t)
			// Move main independently so the merge is a real three-way merge.
			mainTip := gittest.MustCommit(t, e.path, gittest.Commit{Branch: "main", Files: map[string]string{"environments/dev/fraud.yaml": "version: 3\n"}, Message: "dev bump"})
			sha, err := e.Emulator.Merge(org, repoName, n, MergeOptions{Method: method, User: "bob"})
			if err != nil {
				t.Fatal(err)
			}
			pr, err := e.Emulator.PullRequest(org, repoName, n)
			if err != nil {
				t.Fatal(err)
			}
			if !pr.Merged || pr.State != "closed" || pr.MergeCommitSHA != sha || pr.MergedBy != "bob" {
				t.Errorf("PR after merge = %+v", pr)
			}
			commit, _, err := e.app.Repositories.GetCommit(t.Context(), org, repoName, "main", nil)
			if err != nil {
				t.Fatal(err)
			}
			var parents []string
			for _, p := range commit.Parents {
				parents = append(parents, p.GetSHA())
			}
			wantParents := []string{mainTip, e.headSHA}
			wantMessage := fmt.Sprintf("Merge pull request #%d from acme/promote\n\nPromote fraud\n", n)
			if method == "squash" {
				wantParents = wantParents[:1]
				wantMessage = "Promote fraud (#1)\n\n* Promote fraud to prod\n\n* Tidy docs\n\nPromobot-Model: fraud\nSigned-off-by: Alice <alice@example.com>\n"
			}
			if commit.GetSHA() != sha {
				t.Errorf("main = %s, want merge commit %s", commit.GetSHA(), sha)
			}
			if diff := cmp.Diff(wantParents, parents); diff != "" {
				t.Errorf("parents (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantMessage, commit.GetCommit().GetMessage()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			for path, want := range map[string]string{"environments/dev/fraud.yaml": "version: 3\n", "environments/prod/fraud.yaml": "version: 2\nsha256: bbb\n"} {
				fc, _, _, err := e.app.Repositories.GetContents(t.Context(), org, repoName, path, &github.RepositoryContentGetOptions{Ref: "main"})
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := fc.GetContent(); got != want {
					t.Errorf("%s on main = %q, want %q", path, got, want)
				}
			}
			assoc, _, err := e.app.PullRequests.ListPullRequestsWithCommit(t.Context(), org, repoName, sha, nil)
			if err != nil || len(assoc) != 1 || assoc[0].GetNumber() != n || assoc[0].GetMergeCommitSHA() != sha {
				t.Errorf("PRs for merge commit = %v, %v", assoc, err)
			}
		})
	}
}

func TestMergeConflictsAndAPI(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	gittest.MustCommit(t, e.path, gittest.Commit{Branch: "main", Files: map[string]string{"environments/prod/fraud.yaml": "version: 9\n"}, Message: "conflict"})
	pr, _, err := e.app.PullRequests.Get(t.Context(), org, repoName, n)
	if err != nil {
		t.Fatal(err)
	}
	if pr.GetMergeable() || pr.GetMergeableState() != "dirty" {
		t.Errorf("mergeable = %v %q, want false dirty", pr.GetMergeable(), pr.GetMergeableState())
	}
	_, resp, err := e.bobClient.PullRequests.Merge(t.Context(), org, repoName, n, "", nil)
	if resp == nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("conflicting merge: %v %v, want 405", resp, err)
	}

	e2 := newEnv(t)
	n2 := e2.openPR(t)
	_, resp, err = e2.bobClient.PullRequests.Merge(t.Context(), org, repoName, n2, "", &github.PullRequestOptions{SHA: e2.baseSHA})
	if resp == nil || resp.StatusCode != http.StatusConflict {
		t.Fatalf("stale sha merge: %v %v, want 409", resp, err)
	}
	res, _, err := e2.bobClient.PullRequests.Merge(t.Context(), org, repoName, n2, "", &github.PullRequestOptions{MergeMethod: "squash", SHA: e2.headSHA})
	if err != nil || !res.GetMerged() || res.GetSHA() == "" {
		t.Fatalf("merge: %v %v", res, err)
	}
	got, _ := e2.Emulator.PullRequest(org, repoName, n2)
	if got.MergedBy != "bob" || got.MergeCommitSHA != res.GetSHA() {
		t.Errorf("merged PR = %+v", got)
	}
}

// TestHidePullsOfCommit holds back the association of a merge commit with
// its pull request, as GitHub does for a moment after a merge.
func TestHidePullsOfCommit(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	sha, err := e.Emulator.Merge(org, repoName, n, MergeOptions{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		t.Helper()
		prs, _, err := e.app.PullRequests.ListPullRequestsWithCommit(t.Context(), org, repoName, sha, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(prs)
	}
	e.Emulator.HidePullsOfCommit(org, repoName, sha)
	if got := count(); got != 0 {
		t.Errorf("hidden: %d pull requests listed, want none", got)
	}
	e.Emulator.RevealPullsOfCommit(org, repoName, sha)
	if got := count(); got != 1 {
		t.Errorf("revealed: %d pull requests listed, want 1", got)
	}
}
