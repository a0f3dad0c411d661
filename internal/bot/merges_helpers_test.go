package bot

import (
	"net/http"
	"time"

	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// The pipeline's own harness needs merges and pushes for the attestation
// tests; the features' harness (internal/testing/bottest) has the same
// steps for tests outside package bot.

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

// directPush commits files straight to main as pat and delivers the push.
func (h *harness) directPush(files map[string]string, message string) string {
	h.t.Helper()
	before := h.tip("main")
	sha := h.commit("main", files, message, "pat", mustTime(h.t, evaltest.DefaultNow))
	h.push(before, sha, "pat")
	return sha
}

// approvedMerge opens alex's prod promotion of the bundle, or with files
// set, of those files on branch, has it approved by both prod owner teams
// until the check passes, and merges it as mara.
func (h *harness) approvedMerge(branch string, files map[string]string) (int, string) {
	h.t.Helper()
	var n int
	var head string
	if files == nil {
		n, head = h.promotion(nil)
	} else {
		n, head = h.openPR(branch, "Promote to prod", "alex", files)
	}
	h.pullRequestEvent(n, "opened")
	h.review(n, "mara", "APPROVED")
	h.review(n, "rita", "APPROVED")
	h.want("approved", head, "success", nil, nil)
	return n, h.merge(n, "mara")
}
