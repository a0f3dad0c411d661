package rollbackcmd_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/bot/rollbackcmd"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/featurekittest"
)

func TestChatOpsRollbackByAnOwner(t *testing.T) {
	t.Parallel()
	h := bottest.New(t, featurekittest.ChatOps)
	n, _ := h.Promotion(nil)
	h.Merge(n, "mara")
	id := h.Comment(n, "mara", "The new forecaster misbehaves.\n/promobot rollback")

	prs := h.BotPullRequests()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests opened by the bot, want 1", len(prs))
	}
	pr := prs[0]
	featurekittest.WantContains(t, "title", pr.Title, "Roll back", "prod", evaltest.V1)
	featurekittest.WantContains(t, "labels", strings.Join(pr.Labels, ","), "rollback", "env:prod")
	for _, model := range []string{evaltest.Forecaster, evaltest.Calibrator} {
		if got, want := h.FileAt(pr.HeadRef, evaltest.ManifestPath("prod", model)), evaltest.Manifest("prod", model, evaltest.V1); got != want {
			t.Errorf("%s restored as:\n%s\nwant the bytes pinned before:\n%s", model, got, want)
		}
	}
	replies := h.BotComments(n)
	if len(replies) != 1 {
		t.Fatalf("%d replies, want 1: %q", len(replies), replies)
	}
	featurekittest.WantContains(t, "the reply", replies[0], "@mara", fmt.Sprintf("opened #%d to roll back #%d", pr.Number, n))

	// mara asked for the rollback, so she is its co-author and her own
	// approval does not count: other owners must look at it.
	h.Review(pr.Number, "mara", "APPROVED")
	h.Want("the requester approves her own rollback", pr.HeadSHA, "failure", nil, []string{"ignored `@mara`: co-author"})

	// The same comment again, then after a restart: answered once.
	h.DeliverComment(n, id, "created")
	h.Start(featurekittest.ChatOps)
	h.DeliverComment(n, id, "created")
	if got := len(h.BotComments(n)); got != 1 {
		t.Errorf("%d replies after the command was delivered three times, want 1", got)
	}
	if got := len(h.BotPullRequests()); got != 1 {
		t.Errorf("%d rollback pull requests, want 1", got)
	}
}

func TestChatOpsRollbackRefusals(t *testing.T) {
	t.Parallel()
	h := bottest.New(t, featurekittest.ChatOps)
	n, _ := h.Promotion(nil)
	h.Merge(n, "mara")
	open, _ := h.OpenPR("docs", "Docs", "alex", map[string]string{"README.md": "# Models\n\nMore.\n"})
	docs, _ := h.OpenPR("docs-2", "More docs", "alex", map[string]string{"docs/x.md": "x\n"})
	h.Merge(docs, "pat")

	tests := []struct {
		name   string
		pr     int
		author string
		body   string
		action string
		// reply is what the bot's answer must say; empty means no answer.
		reply []string
	}{
		{name: "not an owner", pr: n, author: "alex", body: "/promobot rollback",
			reply: []string{"@alex", "only for an owner", "`environments/prod/elasticnet-ndx-threshold.yaml` is owned by `@example-org/model-risk`, `@example-org/release-managers`", "Nothing was opened"}},
		{name: "an owner without write access", pr: n, author: "mike", body: "/promobot rollback",
			reply: []string{"@mike", "needs write access"}},
		{name: "not merged", pr: open, author: "mara", body: "/promobot rollback", reply: []string{"is not merged"}},
		{name: "not a promotion", pr: docs, author: "mara", body: "/promobot rollback", reply: []string{"is not a promotion pull request"}},
		{name: "an unknown command", pr: n, author: "mara", body: "/promobot merge", reply: []string{"understands one command"}},
		{name: "a bot", pr: n, author: "other-app[bot]", body: "/promobot rollback"},
		{name: "an edited comment", pr: n, author: "mara", body: "/promobot rollback", action: "edited"},
		{name: "no command", pr: n, author: "mara", body: "LGTM"},
	}
	if err := h.Em.SetPermission(bottest.Owner, bottest.Repo, "mike", "read"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.BotComments(tc.pr))
			id, err := h.Em.Comment(bottest.Owner, bottest.Repo, tc.pr, tc.author, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			h.DeliverComment(tc.pr, id, cmpOr(tc.action, "created"))
			replies := h.BotComments(tc.pr)[before:]
			if tc.reply == nil {
				if len(replies) != 0 {
					t.Errorf("the bot answered: %q", replies)
				}
				return
			}
			if len(replies) != 1 {
				t.Fatalf("%d replies, want 1: %q", len(replies), replies)
			}
			featurekittest.WantContains(t, "the reply", replies[0], tc.reply...)
			featurekittest.WantContains(t, "the reply", replies[0], fmt.Sprintf("<!-- promobot:reply-to %d -->", id))
		})
	}
	if prs := h.BotPullRequests(); len(prs) != 0 {
		t.Errorf("the bot opened %+v", prs)
	}
}

// TestOptionalEventsNeedTheirFeature keeps issue_comment out of the
// least-privilege install: it is handled only with chat-ops on.
func TestOptionalEventsNeedTheirFeature(t *testing.T) {
	t.Parallel()
	h := bottest.New(t, bottest.Options{})
	n, _ := h.Promotion(nil)
	id, err := h.Em.Comment(bottest.Owner, bottest.Repo, n, "mara", "/promobot rollback")
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Em.IssueCommentEvent(t.Context(), bottest.Owner, bottest.Repo, n, id, "created", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Deliver("issue_comment", p, bottest.Secret); got != http.StatusAccepted {
		t.Fatalf("status %d", got)
	}
	h.Idle()
	if comments := h.Comments(n); len(comments) != 1 {
		t.Errorf("chat-ops is off, yet the bot wrote: %+v", comments)
	}
	if slices.Contains(h.Bot.Events(), "issue_comment") {
		t.Error("issue_comment is handled with chat-ops off")
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// The adapter satisfies the feature's interface.
var _ rollbackcmd.API = (*githubapi.Client)(nil)
