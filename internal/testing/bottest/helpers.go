package bottest

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// Promotion opens alex's pull request promoting the bundle to prod and
// returns its number and head.
func (h *Harness) Promotion(extra map[string]string) (int, string) {
	h.T.Helper()
	files := evaltest.Merge(evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator), extra)
	sha := h.Commit("promote-prod", files, "Promote ndx-forecast to prod", "alex", MustTime(h.T, evaltest.DefaultNow).Add(-time.Hour))
	n, err := h.Em.OpenPR(Owner, Repo, githubtest.NewPullRequest{Title: "Promote ndx-forecast to prod", Head: "promote-prod", Base: "main", User: "alex"})
	if err != nil {
		h.T.Fatal(err)
	}
	return n, sha
}

// PullRequestEvent delivers a pull_request event and waits for the bot.
func (h *Harness) PullRequestEvent(n int, action string) {
	h.T.Helper()
	p, err := h.Em.PullRequestEvent(h.T.Context(), Owner, Repo, n, action, "")
	if err != nil {
		h.T.Fatal(err)
	}
	if got := h.Deliver("pull_request", p, Secret); got != http.StatusAccepted {
		h.T.Fatalf("pull_request %s: status %d, want 202", action, got)
	}
	h.Idle()
}

// Review submits a review, delivers its event and waits for the bot.
func (h *Harness) Review(n int, login, state string) {
	h.T.Helper()
	id, err := h.Em.Review(Owner, Repo, n, login, state, "")
	if err != nil {
		h.T.Fatal(err)
	}
	p, err := h.Em.PullRequestReviewEvent(h.T.Context(), Owner, Repo, n, id, "submitted", "")
	if err != nil {
		h.T.Fatal(err)
	}
	if got := h.Deliver("pull_request_review", p, Secret); got != http.StatusAccepted {
		h.T.Fatalf("review by %s: status %d, want 202", login, got)
	}
	h.Idle()
}

// Want checks the newest check run on sha.
func (h *Harness) Want(step, sha, conclusion string, titleHas, summaryHas []string) {
	h.T.Helper()
	run := h.Latest(sha)
	if run.Status != "completed" || run.Conclusion != conclusion {
		h.T.Errorf("%s: check run %s/%s %q, want completed/%s", step, run.Status, run.Conclusion, run.Title, conclusion)
	}
	if run.Name != bot.DefaultCheckName {
		h.T.Errorf("%s: check run named %q", step, run.Name)
	}
	for _, s := range titleHas {
		if !strings.Contains(run.Title, s) {
			h.T.Errorf("%s: title %q lacks %q", step, run.Title, s)
		}
	}
	for _, s := range summaryHas {
		if !strings.Contains(run.Summary, s) {
			h.T.Errorf("%s: summary lacks %q:\n%s", step, s, run.Summary)
		}
	}
}

// Comments returns the comments of issue or pull request n.
func (h *Harness) Comments(n int) []githubtest.Comment {
	h.T.Helper()
	for _, is := range h.Em.Issues(Owner, Repo) {
		if is.Number == n {
			return is.Comments
		}
	}
	h.T.Fatalf("no issue #%d", n)
	return nil
}

// SetPolicy commits a new policy to main directly, as pat.
func (h *Harness) SetPolicy(policy string) {
	h.T.Helper()
	h.Commit("main", map[string]string{".github/promobot.yaml": policy}, "Change the policy", "pat", MustTime(h.T, evaltest.DefaultBaseDate).Add(time.Hour))
}

// OpenPR commits files on branch as author and opens its pull request into
// main.
func (h *Harness) OpenPR(branch, title, author string, files map[string]string) (int, string) {
	h.T.Helper()
	sha := h.Commit(branch, files, title, author, MustTime(h.T, evaltest.DefaultNow).Add(-time.Hour))
	n, err := h.Em.OpenPR(Owner, Repo, githubtest.NewPullRequest{Title: title, Head: branch, Base: "main", User: author})
	if err != nil {
		h.T.Fatal(err)
	}
	return n, sha
}

// Merge merges pull request n as login, delivers the push to main and the
// pull request's closed event, and waits for the bot. It returns the merge
// commit.
func (h *Harness) Merge(n int, login string) string {
	h.T.Helper()
	before := h.Tip("main")
	sha, err := h.Em.Merge(Owner, Repo, n, githubtest.MergeOptions{User: login})
	if err != nil {
		h.T.Fatal(err)
	}
	h.Push(before, sha, login)
	h.PullRequestEvent(n, "closed")
	return sha
}

// Push delivers a push of main from before to after and waits for the bot.
func (h *Harness) Push(before, after, pusher string) {
	h.T.Helper()
	p, err := h.Em.PushEvent(h.T.Context(), Owner, Repo, "refs/heads/main", before, after, pusher)
	if err != nil {
		h.T.Fatal(err)
	}
	if got := h.Deliver("push", p, Secret); got != http.StatusAccepted {
		h.T.Fatalf("push: status %d", got)
	}
	h.Idle()
}

// Comment comments on n as login, delivers the event and waits for the
// bot; it returns the comment's id.
func (h *Harness) Comment(n int, login, body string) int64 {
	h.T.Helper()
	id, err := h.Em.Comment(Owner, Repo, n, login, body)
	if err != nil {
		h.T.Fatal(err)
	}
	h.DeliverComment(n, id, "created")
	return id
}

// DeliverComment delivers an issue_comment event about comment id on n and
// waits for the bot.
func (h *Harness) DeliverComment(n int, id int64, action string) {
	h.T.Helper()
	p, err := h.Em.IssueCommentEvent(h.T.Context(), Owner, Repo, n, id, action, "")
	if err != nil {
		h.T.Fatal(err)
	}
	if got := h.Deliver("issue_comment", p, Secret); got != http.StatusAccepted {
		h.T.Fatalf("issue_comment: status %d", got)
	}
	h.Idle()
}

// BotPullRequests returns the pull requests the App opened.
func (h *Harness) BotPullRequests() []githubtest.PullRequest {
	h.T.Helper()
	var out []githubtest.PullRequest
	for _, is := range h.Em.Issues(Owner, Repo) {
		if !is.IsPullRequest || is.User != BotLogin {
			continue
		}
		pr, err := h.Em.PullRequest(Owner, Repo, is.Number)
		if err != nil {
			h.T.Fatal(err)
		}
		out = append(out, pr)
	}
	return out
}

// BotComments returns the comments the App wrote on n.
func (h *Harness) BotComments(n int) []string {
	h.T.Helper()
	var out []string
	for _, c := range h.Comments(n) {
		if c.User == BotLogin {
			out = append(out, c.Body)
		}
	}
	return out
}

// BotIssues returns the issues, not pull requests, the App opened.
func (h *Harness) BotIssues() []githubtest.Issue {
	h.T.Helper()
	var out []githubtest.Issue
	for _, is := range h.Em.Issues(Owner, Repo) {
		if !is.IsPullRequest && is.User == BotLogin {
			out = append(out, is)
		}
	}
	return out
}

// FileAt reads path on branch of the remote repository.
func (h *Harness) FileAt(branch, path string) string {
	h.T.Helper()
	repo, err := git.PlainOpen(h.RepoPath)
	if err != nil {
		h.T.Fatal(err)
	}
	ref, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		h.T.Fatalf("branch %s: %v", branch, err)
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		h.T.Fatal(err)
	}
	f, err := c.File(path)
	if err != nil {
		h.T.Fatalf("%s on %s: %v", path, branch, err)
	}
	text, err := f.Contents()
	if err != nil {
		h.T.Fatal(err)
	}
	return text
}
