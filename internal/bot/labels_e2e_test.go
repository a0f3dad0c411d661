package bot

import (
	"net/http"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// freezeOverride is the override label of the sample policy's prod freeze
// window ("year-end close", 2026-12-23 to 2027-01-04).
const freezeOverride = "freeze-override"

// labelEvent builds a labeled or unlabeled delivery for the current state
// of pull request n, naming label as GitHub does.
func (h *harness) labelEvent(n int, action, label string) githubtest.Payload {
	h.T.Helper()
	p, err := h.Em.PullRequestEvent(h.T.Context(), testOwner, testRepo, n, action, "alex")
	if err != nil {
		h.T.Fatal(err)
	}
	p["label"] = map[string]any{"name": label}
	return p
}

// deliverAndWait delivers a pull_request payload and waits for the bot.
func (h *harness) deliverAndWait(step string, p githubtest.Payload) {
	h.T.Helper()
	if got := h.deliver("pull_request", p, testSecret); got != http.StatusAccepted {
		h.T.Fatalf("%s: status %d, want 202", step, got)
	}
	h.idle()
}

func TestEndToEndOverrideLabelReevaluatesAFrozenPromotion(t *testing.T) {
	t.Parallel()
	inFreeze := world.MustTime(t, "2026-12-28T10:00:00Z")
	h := newHarness(t, harnessOptions{now: func() time.Time { return inFreeze }})
	n, head := h.promotion(nil)
	h.pullRequestEvent(n, "opened")
	h.review(n, "mara", "APPROVED")
	h.review(n, "rita", "APPROVED")
	h.want("approved during the freeze", head, "failure", nil, []string{`prod is frozen for "year-end close"`, "add the label " + freezeOverride})

	api := h.apiAs("alex")
	if _, _, err := api.Issues.AddLabelsToIssue(t.Context(), testOwner, testRepo, n, []string{freezeOverride}); err != nil {
		t.Fatal(err)
	}
	labeled := h.labelEvent(n, "labeled", freezeOverride)
	before := h.runs(head)
	h.deliverAndWait("labeled", labeled)
	if got := h.runs(head); got != before+1 {
		t.Fatalf("labeled: %d new check runs, want 1", got-before)
	}
	h.want("override label added", head, "failure",
		[]string{"needs 2 more governance approvals from @example-org/platform-admins (owners of .github/promobot.yaml)"},
		[]string{"overridden by the label " + freezeOverride})
	// The prod owners' approvals do not lift a freeze alone: the policy
	// file's owners must approve as well.
	h.review(n, "pat", "APPROVED")
	h.review(n, "paula", "APPROVED")
	h.want("override label added and governance approved", head, "success", []string{"2/2 approvals, 2/2 governance approvals"}, []string{"overridden by the label " + freezeOverride})

	if _, err := api.Issues.RemoveLabelForIssue(t.Context(), testOwner, testRepo, n, freezeOverride); err != nil {
		t.Fatal(err)
	}
	h.deliverAndWait("unlabeled", h.labelEvent(n, "unlabeled", freezeOverride))
	h.want("override label removed", head, "failure", nil, []string{`prod is frozen for "year-end close"`})

	// The labeled delivery arriving again, late (GitHub does not promise
	// the order of deliveries): its payload still lists the label, but the
	// labels are read afresh, so the freeze holds.
	h.deliverAndWait("late labeled", labeled)
	h.want("a late labeled delivery", head, "failure", nil, []string{`prod is frozen for "year-end close"`})

	if unexpected := h.Em.UnexpectedRequests(); len(unexpected) > 0 {
		t.Errorf("requests the emulator does not know: %v", unexpected)
	}
}
