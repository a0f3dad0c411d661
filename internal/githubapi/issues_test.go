package githubapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/example-org/promobot/internal/failure"
)

func TestIssueCommentAndStatusCalls(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	ctx := t.Context()

	login, err := e.apps.BotLogin(ctx)
	if err != nil || login != "promobot[bot]" {
		t.Fatalf("BotLogin = %q, %v", login, err)
	}
	e.em.ResetCounts()
	if again, err := e.apps.BotLogin(ctx); err != nil || again != login {
		t.Errorf("BotLogin again = %q, %v", again, err)
	}
	if n := e.em.Counts()["GET /app"]; n != 0 {
		t.Errorf("BotLogin asked GitHub again (%d requests)", n)
	}

	issue, err := c.CreateIssue(ctx, "acme", "models", "Unreviewed promotion of m to prod", "first")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EditIssueBody(ctx, "acme", "models", issue.Number, "second"); err != nil {
		t.Fatal(err)
	}
	open, err := c.OpenIssues(ctx, "acme", "models")
	if err != nil {
		t.Fatal(err)
	}
	want := []Issue{
		{Number: issue.Number, Title: "Unreviewed promotion of m to prod", Body: "second", Author: "promobot[bot]", URL: issue.URL},
		{Number: e.pr, Title: "Change a", Author: "alex", PullRequest: true},
	}
	if diff := cmp.Diff(want, open, cmpopts.IgnoreFields(Issue{}, "URL", "Body")); diff != "" {
		t.Errorf("open issues (-want +got):\n%s", diff)
	}
	if open[0].Body != "second" || issue.URL == "" {
		t.Errorf("issue %+v, listed %+v", issue, open[0])
	}

	posted, err := c.CreateComment(ctx, "acme", "models", e.pr, "hello")
	if err != nil {
		t.Fatal(err)
	}
	comments, err := c.IssueComments(ctx, "acme", "models", e.pr)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]IssueComment{posted}, comments); diff != "" || posted.Author != "promobot[bot]" || posted.ID == 0 {
		t.Errorf("comments (-posted +listed):\n%s", diff)
	}

	status := CommitStatus{State: "failure", Context: "promobot/audit", Description: "unreviewed", TargetURL: issue.URL}
	if err := c.CreateStatus(ctx, "acme", "models", e.head, status); err != nil {
		t.Fatal(err)
	}
	got := e.em.Statuses("acme", "models", e.head)
	if len(got) != 1 || got[0].State != "failure" || got[0].Context != "promobot/audit" || got[0].TargetURL != issue.URL || got[0].Creator != login {
		t.Errorf("statuses %+v", got)
	}
	if err := c.CreateStatus(ctx, "acme", "models", "0000000000000000000000000000000000000000", status); !failure.IsTerminal(err) {
		t.Errorf("a status on a missing commit: %v, want a terminal error", err)
	}
}
