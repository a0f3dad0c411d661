package githubtest

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v60/github"
)

func TestCheckRuns(t *testing.T) {
	e := newEnv(t)
	n := e.openPR(t)
	ctx := t.Context()
	run, resp, err := e.app.Checks.CreateCheckRun(ctx, org, repoName, github.CreateCheckRunOptions{
		Name: "promobot/gate", HeadSHA: e.headSHA, Status: github.String("in_progress"),
		Output: &github.CheckRunOutput{Title: github.String("Evaluating"), Summary: github.String("…")},
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v %v", resp, err)
	}
	if run.GetStatus() != "in_progress" || run.GetCheckSuite().GetID() == 0 || run.GetApp().GetID() != appID ||
		len(run.PullRequests) != 1 || run.PullRequests[0].GetNumber() != n {
		t.Errorf("created run = %+v", run)
	}
	annotations := func(count int) []*github.CheckRunAnnotation {
		var out []*github.CheckRunAnnotation
		for i := range count {
			out = append(out, &github.CheckRunAnnotation{
				Path: github.String("environments/prod/fraud.yaml"), StartLine: github.Int(i + 1), EndLine: github.Int(i + 1),
				AnnotationLevel: github.String("failure"), Message: github.String(fmt.Sprintf("problem %d", i)),
			})
		}
		return out
	}
	update := func(count int, conclusion string) (*github.CheckRun, *github.Response, error) {
		opts := github.UpdateCheckRunOptions{
			Name:   "promobot/gate",
			Output: &github.CheckRunOutput{Title: github.String("Blocked"), Summary: github.String("2 problems"), Text: github.String("details"), Annotations: annotations(count)},
		}
		if conclusion != "" {
			opts.Conclusion = github.String(conclusion)
		}
		return e.app.Checks.UpdateCheckRun(ctx, org, repoName, run.GetID(), opts)
	}
	if _, _, err := update(50, ""); err != nil {
		t.Fatalf("50 annotations: %v", err)
	}
	if _, resp, _ := update(51, ""); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("51 annotations: status %d, want 422", resp.StatusCode)
	}
	done, _, err := update(10, "failure")
	if err != nil {
		t.Fatal(err)
	}
	if done.GetStatus() != "completed" || done.GetConclusion() != "failure" || done.GetOutput().GetAnnotationsCount() != 60 || done.CompletedAt == nil {
		t.Errorf("completed run = status %s conclusion %s annotations %d", done.GetStatus(), done.GetConclusion(), done.GetOutput().GetAnnotationsCount())
	}
	snap := e.Emulator.CheckRuns(org, repoName, e.headSHA)
	if len(snap) != 1 || len(snap[0].Annotations) != 60 || snap[0].Title != "Blocked" || snap[0].Text != "details" {
		t.Errorf("snapshot = %+v", snap)
	}
	got, _, err := e.app.Checks.ListCheckRunAnnotations(ctx, org, repoName, run.GetID(), &github.ListOptions{PerPage: 100})
	if err != nil || len(got) != 60 || got[59].GetMessage() != "problem 9" {
		t.Errorf("annotations = %d, %v", len(got), err)
	}

	// A second run with the same name supersedes the first for filter=latest.
	if _, _, err := e.app.Checks.CreateCheckRun(ctx, org, repoName, github.CreateCheckRunOptions{Name: "promobot/gate", HeadSHA: e.headSHA}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.app.Checks.CreateCheckRun(ctx, org, repoName, github.CreateCheckRunOptions{Name: "other", HeadSHA: e.headSHA, Conclusion: github.String("success")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ref  string
		opts github.ListCheckRunsOptions
		want int
	}{
		{name: "latest per name", ref: e.headSHA, want: 2},
		{name: "all", ref: e.headSHA, opts: github.ListCheckRunsOptions{Filter: github.String("all")}, want: 3},
		{name: "by name", ref: e.headSHA, opts: github.ListCheckRunsOptions{CheckName: github.String("promobot/gate"), Filter: github.String("all")}, want: 2},
		{name: "by branch", ref: "promote", opts: github.ListCheckRunsOptions{CheckName: github.String("other")}, want: 1},
		{name: "other commit", ref: e.baseSHA, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _, err := e.app.Checks.ListCheckRunsForRef(ctx, org, repoName, tt.ref, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.GetTotal() != tt.want || len(res.CheckRuns) != tt.want {
				t.Errorf("total %d, %d runs, want %d", res.GetTotal(), len(res.CheckRuns), tt.want)
			}
		})
	}
	if _, resp, _ := e.app.Checks.CreateCheckRun(ctx, org, repoName, github.CreateCheckRunOptions{Name: "x", HeadSHA: "0000000000000000000000000000000000000000"}); resp.StatusCode != 422 {
		t.Errorf("unknown sha: status %d, want 422", resp.StatusCode)
	}
}

func TestCommitStatuses(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, s := range []struct{ context, state string }{{"ci", "pending"}, {"ci", "success"}, {"lint", "success"}} {
		if _, _, err := e.app.Repositories.CreateStatus(ctx, org, repoName, e.headSHA, &github.RepoStatus{State: github.String(s.state), Context: github.String(s.context)}); err != nil {
			t.Fatal(err)
		}
	}
	combined, _, err := e.app.Repositories.GetCombinedStatus(ctx, org, repoName, "promote", nil)
	if err != nil {
		t.Fatal(err)
	}
	if combined.GetState() != "success" || combined.GetTotalCount() != 2 || combined.GetSHA() != e.headSHA {
		t.Errorf("combined = %s %d %s", combined.GetState(), combined.GetTotalCount(), combined.GetSHA())
	}
	if _, _, err := e.app.Repositories.CreateStatus(ctx, org, repoName, e.headSHA, &github.RepoStatus{State: github.String("failure"), Context: github.String("lint")}); err != nil {
		t.Fatal(err)
	}
	combined, _, _ = e.app.Repositories.GetCombinedStatus(ctx, org, repoName, e.headSHA, nil)
	if combined.GetState() != "failure" {
		t.Errorf("combined after failure = %s", combined.GetState())
	}
	if len(e.Emulator.Statuses(org, repoName, e.headSHA)) != 4 {
		t.Errorf("statuses snapshot = %v", e.Emulator.Statuses(org, repoName, e.headSHA))
	}
	if _, resp, _ := e.app.Repositories.CreateStatus(ctx, org, repoName, e.headSHA, &github.RepoStatus{State: github.String("bogus")}); resp.StatusCode != 422 {
		t.Errorf("bad state: %d", resp.StatusCode)
	}
}

func TestTeamsAndPermissions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.Emulator.AddTeamMember(org, "ml-owners", "bob", "active")
	e.Emulator.AddTeamMember(org, "ml-owners", "dave", "pending")
	for i := range 35 {
		e.Emulator.AddTeamMember(org, "big", fmt.Sprintf("member%02d", i), "active")
	}
	tests := []struct {
		name, team, user string
		wantStatus       int
		wantState        string
	}{
		{name: "active", team: "ml-owners", user: "bob", wantStatus: 200, wantState: "active"},
		{name: "pending", team: "ml-owners", user: "dave", wantStatus: 200, wantState: "pending"},
		{name: "not a member", team: "ml-owners", user: "alice", wantStatus: 404},
		{name: "no such team", team: "ghosts", user: "bob", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, resp, _ := e.app.Teams.GetTeamMembershipBySlug(ctx, org, tt.team, tt.user)
			if resp.StatusCode != tt.wantStatus || (tt.wantStatus == 200 && (m.GetState() != tt.wantState || m.GetRole() != "member")) {
				t.Errorf("status %d membership %+v", resp.StatusCode, m)
			}
		})
	}
	var members []string
	opts := &github.TeamListTeamMembersOptions{}
	for {
		page, resp, err := e.app.Teams.ListTeamMembersBySlug(ctx, org, "big", opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page {
			members = append(members, u.GetLogin())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(members) != 35 || members[0] != "member00" {
		t.Errorf("members = %v", members)
	}
	if got, _, _ := e.app.Teams.ListTeamMembersBySlug(ctx, org, "ml-owners", nil); len(got) != 1 {
		t.Errorf("pending members must not be listed: %v", got)
	}

	if err := e.Emulator.SetPermission(org, repoName, "bob", "maintain"); err != nil {
		t.Fatal(err)
	}
	perms := []struct{ user, permission, role string }{
		{"bob", "write", "maintain"}, {"alice", "none", "none"}, {org, "admin", "admin"},
	}
	for _, p := range perms {
		got, _, err := e.app.Repositories.GetPermissionLevel(ctx, org, repoName, p.user)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetPermission() != p.permission || got.GetUser().GetRoleName() != p.role || got.GetUser().GetLogin() != p.user {
			t.Errorf("%s: permission %q role %q", p.user, got.GetPermission(), got.GetUser().GetRoleName())
		}
	}
	if _, resp, _ := e.app.Repositories.GetPermissionLevel(ctx, org, repoName, "nobody-known"); resp.StatusCode != 404 {
		t.Errorf("unknown user: %d", resp.StatusCode)
	}
}

func TestContentsAndRefs(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	file, dir, _, err := e.app.Repositories.GetContents(ctx, org, repoName, "environments/prod/fraud.yaml", &github.RepositoryContentGetOptions{Ref: "promote"})
	if err != nil || dir != nil {
		t.Fatalf("file: %v %v", err, dir)
	}
	content, err := file.GetContent()
	if err != nil || content != "version: 2\nsha256: bbb\n" || file.GetEncoding() != "base64" || len(file.GetSHA()) != 40 {
		t.Errorf("file = %q %v %+v", content, err, file)
	}
	_, dir, _, err = e.app.Repositories.GetContents(ctx, org, repoName, "environments", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dir {
		names = append(names, d.GetType()+":"+d.GetPath())
	}
	if diff := cmp.Diff([]string{"dir:environments/dev", "dir:environments/prod"}, names); diff != "" {
		t.Errorf("dir on main (-want +got):\n%s", diff)
	}
	if _, _, resp, _ := e.app.Repositories.GetContents(ctx, org, repoName, "missing.yaml", nil); resp.StatusCode != 404 {
		t.Errorf("missing file: %d", resp.StatusCode)
	}
	ref, _, err := e.app.Git.GetRef(ctx, org, repoName, "heads/promote")
	if err != nil || ref.GetObject().GetSHA() != e.headSHA || ref.GetRef() != "refs/heads/promote" {
		t.Errorf("ref = %+v %v", ref, err)
	}
	if _, resp, _ := e.app.Git.GetRef(ctx, org, repoName, "heads/nope"); resp.StatusCode != 404 {
		t.Errorf("missing ref: %d", resp.StatusCode)
	}
}

func TestIssuesLabelsAndComments(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	n := e.openPR(t)
	issue, resp, err := e.bobClient.Issues.Create(ctx, org, repoName, &github.IssueRequest{
		Title: github.String("Drift in prod"), Body: github.String("audit"), Labels: &[]string{"audit", "prod"},
	})
	if err != nil || resp.StatusCode != 201 || issue.GetNumber() != n+1 || issue.GetUser().GetLogin() != "bob" {
		t.Fatalf("create issue: %v %v", issue, err)
	}
	labels, _, err := e.app.Issues.AddLabelsToIssue(ctx, org, repoName, n, []string{"promotion", "env:prod"})
	if err != nil || len(labels) != 2 {
		t.Fatalf("add labels: %v %v", labels, err)
	}
	labels, _, err = e.app.Issues.AddLabelsToIssue(ctx, org, repoName, n, []string{"promotion", "blocked"})
	if err != nil || len(labels) != 3 {
		t.Errorf("add again: %v %v", labels, err)
	}
	if _, err := e.app.Issues.RemoveLabelForIssue(ctx, org, repoName, n, "blocked"); err != nil {
		t.Errorf("remove label: %v", err)
	}
	got, _, err := e.app.Issues.ListLabelsByIssue(ctx, org, repoName, n, nil)
	if err != nil || len(got) != 2 || got[0].GetName() != "promotion" || got[0].GetColor() == "" {
		t.Errorf("labels = %v %v", got, err)
	}
	pr, _, _ := e.app.PullRequests.Get(ctx, org, repoName, n)
	if len(pr.Labels) != 2 {
		t.Errorf("PR labels = %v", pr.Labels)
	}
	tests := []struct {
		name string
		opts github.IssueListByRepoOptions
		want []int
	}{
		{name: "open, newest first", want: []int{n + 1, n}},
		{name: "labels must all match", opts: github.IssueListByRepoOptions{Labels: []string{"audit", "prod"}}, want: []int{n + 1}},
		{name: "creator", opts: github.IssueListByRepoOptions{Creator: "alice"}, want: []int{n}},
		{name: "closed", opts: github.IssueListByRepoOptions{State: "closed"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, _, err := e.app.Issues.ListByRepo(ctx, org, repoName, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var numbers []int
			for _, is := range list {
				numbers = append(numbers, is.GetNumber())
			}
			if diff := cmp.Diff(tt.want, numbers); diff != "" {
				t.Errorf("numbers (-want +got):\n%s", diff)
			}
		})
	}
	closed, _, err := e.app.Issues.Edit(ctx, org, repoName, n+1, &github.IssueRequest{State: github.String("closed"), StateReason: github.String("not_planned")})
	if err != nil || closed.GetState() != "closed" || closed.GetStateReason() != "not_planned" || closed.GetClosedBy().GetLogin() != e.Emulator.AppBotLogin() {
		t.Errorf("closed issue = %+v %v", closed, err)
	}
	comment, resp, err := e.app.Issues.CreateComment(ctx, org, repoName, n, &github.IssueComment{Body: github.String("Gate: blocked")})
	if err != nil || resp.StatusCode != 201 || comment.GetUser().GetLogin() != "promobot[bot]" {
		t.Fatalf("comment: %v %v", comment, err)
	}
	if _, _, err := e.app.Issues.EditComment(ctx, org, repoName, comment.GetID(), &github.IssueComment{Body: github.String("Gate: passed")}); err != nil {
		t.Fatal(err)
	}
	comments, _, err := e.app.Issues.ListComments(ctx, org, repoName, n, nil)
	if err != nil || len(comments) != 1 || comments[0].GetBody() != "Gate: passed" {
		t.Errorf("comments = %v %v", comments, err)
	}
	snap := e.Emulator.Issues(org, repoName)
	if len(snap) != 2 || !snap[0].IsPullRequest || snap[0].Comments[0].Body != "Gate: passed" {
		t.Errorf("issues snapshot = %+v", snap)
	}
}
