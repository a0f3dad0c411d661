package chatops_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/bot/chatops"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/featurekittest"
)

// prodTicketRule is the part of the sample policy that makes prod require
// a ticket, which a bot's proposal cannot carry.
const prodTicketRule = "    requireTicket: true\n    ticketPattern: \"CHG-[0-9]{3,7}\"\n"

func TestChatOpsProposesTheNextPromotion(t *testing.T) {
	t.Parallel()
	h := bottest.New(t, featurekittest.ChatOps)
	h.SetPolicy(evaltest.Replace(evaltest.Policy, prodTicketRule, "    autoPropose: true\n"))
	n, _ := h.OpenPR("promote-test", "Promote ndx-forecast to test", "alex",
		evaltest.Promote("test", evaltest.V3, evaltest.Forecaster, evaltest.Calibrator))
	h.Merge(n, "val")

	prs := h.BotPullRequests()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests opened by the bot, want 1: %+v", len(prs), prs)
	}
	pr := prs[0]
	if pr.BaseRef != "main" || pr.State != "open" || !strings.Contains(pr.Title, "to prod") {
		t.Errorf("proposed pull request %+v", pr)
	}
	featurekittest.WantContains(t, "labels", strings.Join(pr.Labels, ","), "promotion", "env:prod")
	for _, model := range []string{evaltest.Forecaster, evaltest.Calibrator} {
		featurekittest.WantContains(t, "proposed manifest", h.FileAt(pr.HeadRef, evaltest.ManifestPath("prod", model)),
			"environment: prod", fmt.Sprintf("version: %q", evaltest.V3))
	}
	comments := h.BotComments(n)
	if len(comments) != 1 {
		t.Fatalf("%d comments by the bot on #%d, want 1: %q", len(comments), n, comments)
	}
	featurekittest.WantContains(t, "the comment", comments[0], fmt.Sprintf("opened #%d", pr.Number), "autoPropose")

	// The same merge delivered again proposes nothing more.
	h.PullRequestEvent(n, "closed")
	if got := len(h.BotPullRequests()); got != 1 {
		t.Errorf("%d pull requests after a repeated delivery, want 1", got)
	}
	if got := len(h.BotComments(n)); got != 1 {
		t.Errorf("%d comments after a repeated delivery, want 1", got)
	}
	if !h.Counter(`promobot_chatops_actions_total{action="propose",outcome="opened"} 1`) {
		t.Error("the proposal is not counted")
	}
}

func TestChatOpsSaysWhyItCannotPropose(t *testing.T) {
	t.Parallel()
	h := bottest.New(t, featurekittest.ChatOps)
	// prod still requires a ticket, which only a person can give.
	h.SetPolicy(evaltest.Replace(evaltest.Policy, prodTicketRule, prodTicketRule+"    autoPropose: true\n"))
	n, _ := h.OpenPR("promote-test", "Promote ndx-forecast to test", "alex",
		evaltest.Promote("test", evaltest.V3, evaltest.Forecaster, evaltest.Calibrator))
	h.Merge(n, "val")
	if prs := h.BotPullRequests(); len(prs) != 0 {
		t.Errorf("the bot opened %+v", prs)
	}
	comments := h.BotComments(n)
	if len(comments) != 1 {
		t.Fatalf("%d comments by the bot, want 1: %q", len(comments), comments)
	}
	featurekittest.WantContains(t, "the comment", comments[0], "did not open the promotion", "to `prod`", "ticket", "promobot promote --model elasticnet-ndx --model elasticnet-ndx-threshold --to prod")

	// Without autoPropose, a merge gets no comment at all.
	h2 := bottest.New(t, featurekittest.ChatOps)
	n2, _ := h2.OpenPR("promote-test", "Promote ndx-forecast to test", "alex",
		evaltest.Promote("test", evaltest.V3, evaltest.Forecaster, evaltest.Calibrator))
	h2.Merge(n2, "val")
	if got := h2.Comments(n2); len(got) != 0 || len(h2.BotPullRequests()) != 0 {
		t.Errorf("without autoPropose the bot wrote %+v", got)
	}
}

// The adapter satisfies the feature's interface.
var _ chatops.API = (*githubapi.Client)(nil)
