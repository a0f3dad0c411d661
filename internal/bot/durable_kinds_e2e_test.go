package bot

import (
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// TestEndToEndDurableQueueBaseMovesAndMergeGroups carries the other kinds
// of job through the durable queue: a push to the default branch
// re-evaluates its open pull requests (the moved base changes their
// fingerprint), and a merge group is checked on its commit.
func TestEndToEndDurableQueueBaseMovesAndMergeGroups(t *testing.T) {
	t.Parallel()
	q, dq := azureQueue(t)
	h := newWorld(t)
	h.start(harnessOptions{durable: dq})
	n, head := h.promotion(nil)
	h.approve(n, "mara")
	h.submitReview(n, "rita", "APPROVED")
	h.waitRun(head, 1)
	h.want("approved", head, "success", nil, nil)

	// The merge queue checks the group commit.
	group, branch := h.mergeGroupCommit(n, head, evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator))
	mg, err := h.Em.MergeGroupEvent(t.Context(), testOwner, testRepo, group, "refs/heads/"+branch, "refs/heads/main", "github-merge-queue[bot]")
	if err != nil {
		t.Fatal(err)
	}
	h.send("merge_group", mg)
	h.waitRun(group, 1)
	h.want("merge group", group, "success", []string{"merge group: all rules pass"}, nil)

	// main gains a CODEOWNERS line: the approvals no longer suffice.
	before := h.Tip("main")
	owners := evaltest.CodeOwners + "/environments/prod/          @example-org/platform-admins\n"
	after := h.Commit("main", map[string]string{".github/CODEOWNERS": owners}, "Platform admins own prod", "pat", world.MustTime(t, evaltest.DefaultNow).Add(-30*time.Minute))
	p, err := h.Em.PushEvent(t.Context(), testOwner, testRepo, "refs/heads/main", before, after, "pat")
	if err != nil {
		t.Fatal(err)
	}
	h.send("push", p)
	h.waitRun(head, 2)
	h.want("after the base moved", head, "failure", []string{"platform-admins"}, nil)
	waitEmpty(t, q)
}
