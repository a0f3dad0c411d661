package bot

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// botLogin is the emulated App's bot user.
const botLogin = "promobot[bot]"

// prodTicketRule is the part of the sample policy that makes prod require
// a ticket, which a bot's proposal cannot carry.
const prodTicketRule = "    requireTicket: true\n    ticketPattern: \"CHG-[0-9]{3,7}\"\n"

// setPolicy commits a new policy to main directly, as pat.
func (h *harness) setPolicy(policy string) {
	h.t.Helper()
	h.commit("main", map[string]string{".github/promobot.yaml": policy}, "Change the policy", "pat", mustTime(h.t, evaltest.DefaultBaseDate).Add(time.Hour))
}

// openPR commits files on branch as author and opens its pull request into
// main.
func (h *harness) openPR(branch, title, author string, files map[string]string) (int, string) {
	h.t.Helper()
	sha := h.commit(branch, files, title, author, mustTime(h.t, evaltest.DefaultNow).Add(-time.Hour))
	n, err := h.em.OpenPR(testOwner, testRepo, githubtest.NewPullRequest{Title: title, Head: branch, Base: "main", User: author})
	if err != nil {
		h.t.Fatal(err)
	}
	return n, sha
}

// merge merges pull request n as login, delivers the push to main and the
// pull request's closed event, and waits for the bot. It returns the merge
// commit.
func (h *harness) merge(n int, login string) string {
	h.t.Helper()
	before := h.tip("main")
	sha, err := h.em.Merge(testOwner, testRepo, n, githubtest.MergeOptions{User: login})
	if err != nil {
		h.t.Fatal(err)
	}
	h.push(before, sha, login)
	h.pullRequestEvent(n, "closed")
	return sha
}

// push delivers a push of main from before to after and waits for the bot.
func (h *harness) push(before, after, pusher string) {
	h.t.Helper()
	p, err := h.em.PushEvent(h.t.Context(), testOwner, testRepo, "refs/heads/main", before, after, pusher)
	if err != nil {
		h.t.Fatal(err)
	}
	if got := h.deliver("push", p, testSecret); got != http.StatusAccepted {
		h.t.Fatalf("push: status %d", got)
	}
	h.idle()
}

// comment comments on n as login, delivers the event and waits for the
// bot; it returns the comment's id.
func (h *harness) comment(n int, login, body string) int64 {
	h.t.Helper()
	id, err := h.em.Comment(testOwner, testRepo, n, login, body)
	if err != nil {
		h.t.Fatal(err)
	}
	h.deliverComment(n, id, "created")
	return id
}

func (h *harness) deliverComment(n int, id int64, action string) {
	h.t.Helper()
	p, err := h.em.IssueCommentEvent(h.t.Context(), testOwner, testRepo, n, id, action, "")
	if err != nil {
		h.t.Fatal(err)
	}
	if got := h.deliver("issue_comment", p, testSecret); got != http.StatusAccepted {
		h.t.Fatalf("issue_comment: status %d", got)
	}
	h.idle()
}

// botPullRequests returns the pull requests the App opened.
func (h *harness) botPullRequests() []githubtest.PullRequest {
	h.t.Helper()
	var out []githubtest.PullRequest
	for _, is := range h.em.Issues(testOwner, testRepo) {
		if !is.IsPullRequest || is.User != botLogin {
			continue
		}
		pr, err := h.em.PullRequest(testOwner, testRepo, is.Number)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, pr)
	}
	return out
}

// botComments returns the comments the App wrote on n.
func (h *harness) botComments(n int) []string {
	h.t.Helper()
	var out []string
	for _, c := range h.comments(n) {
		if c.User == botLogin {
			out = append(out, c.Body)
		}
	}
	return out
}

// fileAt reads path on branch of the remote repository.
func (h *harness) fileAt(branch, path string) string {
	h.t.Helper()
	repo, err := git.PlainOpen(h.repoPath)
	if err != nil {
		h.t.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		h.t.Fatalf("branch %s: %v", branch, err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		h.t.Fatal(err)
	}
	f, err := c.File(path)
	if err != nil {
		h.t.Fatalf("%s on %s: %v", path, branch, err)
	}
	text, err := f.Contents()
	if err != nil {
		h.t.Fatal(err)
	}
	return text
}

func wantContains(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, text)
		}
	}
}

func TestChatOpsProposesTheNextPromotion(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{chatOps: true})
	h.setPolicy(evaltest.Replace(evaltest.Policy, prodTicketRule, "    autoPropose: true\n"))
	n, _ := h.openPR("promote-test", "Promote ndx-forecast to test", "alex",
		evaltest.Promote("test", evaltest.V3, evaltest.Forecaster, evaltest.Calibrator))
	h.merge(n, "val")

	prs := h.botPullRequests()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests opened by the bot, want 1: %+v", len(prs), prs)
	}
	pr := prs[0]
	if pr.BaseRef != "main" || pr.State != "open" || !strings.Contains(pr.Title, "to prod") {
		t.Errorf("proposed pull request %+v", pr)
	}
	wantContains(t, "labels", strings.Join(pr.Labels, ","), "promotion", "env:prod")
	for _, model := range []string{evaltest.Forecaster, evaltest.Calibrator} {
		wantContains(t, "proposed manifest", h.fileAt(pr.HeadRef, evaltest.ManifestPath("prod", model)),
			"environment: prod", fmt.Sprintf("version: %q", evaltest.V3))
	}
	comments := h.botComments(n)
	if len(comments) != 1 {
		t.Fatalf("%d comments by the bot on #%d, want 1: %q", len(comments), n, comments)
	}
	wantContains(t, "the comment", comments[0], fmt.Sprintf("opened #%d", pr.Number), "autoPropose")

	// The same merge delivered again proposes nothing more.
	h.pullRequestEvent(n, "closed")
	if got := len(h.botPullRequests()); got != 1 {
		t.Errorf("%d pull requests after a repeated delivery, want 1", got)
	}
	if got := len(h.botComments(n)); got != 1 {
		t.Errorf("%d comments after a repeated delivery, want 1", got)
	}
	if !testutilCounter(t, h, `promobot_chatops_actions_total{action="propose",outcome="opened"} 1`) {
		t.Error("the proposal is not counted")
	}
}

func TestChatOpsSaysWhyItCannotPropose(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{chatOps: true})
	// prod still requires a ticket, which only a person can give.
	h.setPolicy(evaltest.Replace(evaltest.Policy, prodTicketRule, prodTicketRule+"    autoPropose: true\n"))
	n, _ := h.openPR("promote-test", "Promote ndx-forecast to test", "alex",
		evaltest.Promote("test", evaltest.V3, evaltest.Forecaster, evaltest.Calibrator))
	h.merge(n, "val")
	if prs := h.botPullRequests(); len(prs) != 0 {
		t.Errorf("the bot opened %+v", prs)
	}
	comments := h.botComments(n)
	if len(comments) != 1 {
		t.Fatalf("%d comments by the bot, want 1: %q", len(comments), comments)
	}
	wantContains(t, "the comment", comments[0], "did not open the promotion", "to `prod`", "ticket", "promobot promote --model elasticnet-ndx --model elasticnet-ndx-threshold --to prod")

	// Without autoPropose, a merge gets no comment at all.
	h2 := newHarness(t, harnessOptions{chatOps: true})
	n2, _ := h2.openPR("promote-test", "Promote ndx-forecast to test", "alex",
		evaltest.Promote("test", evaltest.V3, evaltest.Forecaster, evaltest.Calibrator))
	h2.merge(n2, "val")
	if got := h2.comments(n2); len(got) != 0 || len(h2.botPullRequests()) != 0 {
		t.Errorf("without autoPropose the bot wrote %+v", got)
	}
}

func TestChatOpsRollbackByAnOwner(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{chatOps: true})
	n, _ := h.promotion(nil)
	h.merge(n, "mara")
	id := h.comment(n, "mara", "The new forecaster misbehaves.\n/promobot rollback")

	prs := h.botPullRequests()
	if len(prs) != 1 {
		t.Fatalf("%d pull requests opened by the bot, want 1", len(prs))
	}
	pr := prs[0]
	wantContains(t, "title", pr.Title, "Roll back", "prod", evaltest.V1)
	wantContains(t, "labels", strings.Join(pr.Labels, ","), "rollback", "env:prod")
	for _, model := range []string{evaltest.Forecaster, evaltest.Calibrator} {
		if got, want := h.fileAt(pr.HeadRef, evaltest.ManifestPath("prod", model)), evaltest.Manifest("prod", model, evaltest.V1); got != want {
			t.Errorf("%s restored as:\n%s\nwant the bytes pinned before:\n%s", model, got, want)
		}
	}
	replies := h.botComments(n)
	if len(replies) != 1 {
		t.Fatalf("%d replies, want 1: %q", len(replies), replies)
	}
	wantContains(t, "the reply", replies[0], "@mara", fmt.Sprintf("opened #%d to roll back #%d", pr.Number, n))

	// mara asked for the rollback, so she is its co-author and her own
	// approval does not count: other owners must look at it.
	h.review(pr.Number, "mara", "APPROVED")
	h.want("the requester approves her own rollback", pr.HeadSHA, "failure", nil, []string{"ignored `@mara`: co-author"})

	// The same comment again, then after a restart: answered once.
	h.deliverComment(n, id, "created")
	h.start(harnessOptions{chatOps: true})
	h.deliverComment(n, id, "created")
	if got := len(h.botComments(n)); got != 1 {
		t.Errorf("%d replies after the command was delivered three times, want 1", got)
	}
	if got := len(h.botPullRequests()); got != 1 {
		t.Errorf("%d rollback pull requests, want 1", got)
	}
}

func TestChatOpsRollbackRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{chatOps: true})
	n, _ := h.promotion(nil)
	h.merge(n, "mara")
	open, _ := h.openPR("docs", "Docs", "alex", map[string]string{"README.md": "# Models\n\nMore.\n"})
	docs, _ := h.openPR("docs-2", "More docs", "alex", map[string]string{"docs/x.md": "x\n"})
	h.merge(docs, "pat")

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
	if err := h.em.SetPermission(testOwner, testRepo, "mike", "read"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.botComments(tc.pr))
			id, err := h.em.Comment(testOwner, testRepo, tc.pr, tc.author, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			h.deliverComment(tc.pr, id, cmpOr(tc.action, "created"))
			replies := h.botComments(tc.pr)[before:]
			if tc.reply == nil {
				if len(replies) != 0 {
					t.Errorf("the bot answered: %q", replies)
				}
				return
			}
			if len(replies) != 1 {
				t.Fatalf("%d replies, want 1: %q", len(replies), replies)
			}
			wantContains(t, "the reply", replies[0], tc.reply...)
			wantContains(t, "the reply", replies[0], fmt.Sprintf("<!-- promobot:reply-to %d -->", id))
		})
	}
	if prs := h.botPullRequests(); len(prs) != 0 {
		t.Errorf("the bot opened %+v", prs)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
