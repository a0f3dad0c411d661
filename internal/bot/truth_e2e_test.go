package bot

import (
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// Deliveries arrive late and out of order: what a payload says about a
// pull request (its state, labels, base and head) is only where to look.
// These tests deliver payloads that were true once and are no longer.

func TestEndToEndALateReviewDeliveryDoesNotRestoreARemovedOverrideLabel(t *testing.T) {
	t.Parallel()
	inFreeze := world.MustTime(t, "2026-12-28T10:00:00Z")
	h := newHarness(t, harnessOptions{now: func() time.Time { return inFreeze }})
	n, head := h.promotion(nil)
	api := h.apiAs("alex")
	if _, _, err := api.Issues.AddLabelsToIssue(t.Context(), testOwner, testRepo, n, []string{freezeOverride}); err != nil {
		t.Fatal(err)
	}
	h.review(n, "rita", "APPROVED")
	// This review's delivery lists the override label.
	late := h.submitReview(n, "mara", "APPROVED")
	h.idle()

	if _, err := api.Issues.RemoveLabelForIssue(t.Context(), testOwner, testRepo, n, freezeOverride); err != nil {
		t.Fatal(err)
	}
	h.deliverAndWait("unlabeled", h.labelEvent(n, "unlabeled", freezeOverride))
	h.want("override label removed", head, "failure", nil, []string{`prod is frozen for "year-end close"`})

	// GitHub redelivers the review (or delivers it late): its payload
	// still carries the label, which the pull request no longer has.
	if got := h.deliver("pull_request_review", late, testSecret); got != 202 {
		t.Fatalf("late review: status %d", got)
	}
	h.idle()
	h.want("a late review delivery", head, "failure", nil, []string{`prod is frozen for "year-end close"`})
}

func TestEndToEndADelayedSynchronizeAfterTheMergeLeavesNoCheckRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	n, head := h.promotion(nil)
	h.approve(n, "mara", "rita")
	// The synchronize delivery is made while the pull request is open, and
	// reaches the bot only after it was merged.
	delayed, err := h.Em.PullRequestEvent(t.Context(), testOwner, testRepo, n, "synchronize", "alex")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Em.Merge(testOwner, testRepo, n, githubtest.MergeOptions{User: "mara"}); err != nil {
		t.Fatal(err)
	}
	h.deliverAndWait("delayed synchronize", delayed)
	if runs := h.Em.CheckRuns(testOwner, testRepo, head); len(runs) != 0 {
		t.Errorf("the merged head got %d check runs (the last %s/%s %q), want none", len(runs), runs[len(runs)-1].Status, runs[len(runs)-1].Conclusion, runs[len(runs)-1].Title)
	}
}
