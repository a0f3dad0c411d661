package bottest

import "github.com/example-org/promobot/internal/testing/evaltest"

// DirectPush commits files straight to main as pat and delivers the push.
// It returns the commit.
func (h *Harness) DirectPush(files map[string]string, message string) string {
	h.T.Helper()
	before := h.Tip("main")
	sha := h.Commit("main", files, message, "pat", MustTime(h.T, evaltest.DefaultNow))
	h.Push(before, sha, "pat")
	return sha
}

// ApprovedMerge opens alex's prod promotion of the bundle, or with files
// set, of those files on branch, has it approved by both prod owner teams
// until the check passes, and merges it as mara. It returns the pull
// request and the merge commit.
func (h *Harness) ApprovedMerge(branch string, files map[string]string) (int, string) {
	h.T.Helper()
	var n int
	var head string
	if files == nil {
		n, head = h.Promotion(nil)
	} else {
		n, head = h.OpenPR(branch, "Promote to prod", "alex", files)
	}
	h.PullRequestEvent(n, "opened")
	h.Review(n, "mara", "APPROVED")
	h.Review(n, "rita", "APPROVED")
	h.Want("approved", head, "success", nil, nil)
	return n, h.Merge(n, "mara")
}

// Resync runs one resynchronization pass and waits for the bot.
func (h *Harness) Resync(recheck bool) {
	h.T.Helper()
	if err := h.Bot.Resync(h.T.Context(), recheck); err != nil {
		h.T.Fatal(err)
	}
	h.Idle()
}
