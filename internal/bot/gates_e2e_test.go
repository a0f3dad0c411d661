package bot

import (
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// TestEndToEndMetricGateException drives a prod promotion that regresses
// r2 beyond prod's tolerance through the bot: the gate blocks it, the
// exception label alone asks for governance approvals, and the policy
// file's owners' approvals let it through, which the summary records.
func TestEndToEndMetricGateException(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.Commit("main", map[string]string{".github/promobot.yaml": evaltest.GatedPolicy("0.55", "0.005")}, "Gate prod's metrics", "pat",
		world.MustTime(t, evaltest.DefaultBaseDate).Add(time.Minute))
	prod := evaltest.ManifestPath("prod", evaltest.Unbundled)
	head := h.Commit("promote-lasso", map[string]string{prod: evaltest.WithRationale(evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V2), evaltest.Rationale)},
		"Promote lasso-spx to prod", "alex", world.MustTime(t, evaltest.DefaultNow).Add(-time.Hour))
	n, err := h.Em.OpenPR(testOwner, testRepo, githubtest.NewPullRequest{Title: "Promote lasso-spx to prod", Head: "promote-lasso", Base: "main", User: "alex"})
	if err != nil {
		t.Fatal(err)
	}
	h.pullRequestEvent(n, "opened")
	h.review(n, "mara", "APPROVED")
	h.review(n, "rita", "APPROVED")
	h.want("approved, r2 regressed", head, "failure", []string{"r2 0.5667 is worse than the incumbent"},
		[]string{"**Rationale** for lasso-spx in prod", "**Metric gates of lasso-spx in prod**", "❌ fail", "add the label " + evaltest.ExceptionLabel})

	if _, _, err := h.apiAs("alex").Issues.AddLabelsToIssue(t.Context(), testOwner, testRepo, n, []string{evaltest.ExceptionLabel}); err != nil {
		t.Fatal(err)
	}
	h.deliverAndWait("labeled", h.labelEvent(n, "labeled", evaltest.ExceptionLabel))
	h.want("exception label added", head, "failure", []string{"metric gates of prod are overridden"},
		[]string{"🔓 overridden", "no governance approval yet (0/2)"})

	h.review(n, "pat", "APPROVED")
	h.review(n, "paula", "APPROVED")
	h.want("exception governed", head, "success", []string{"2/2 approvals, 2/2 governance approvals"},
		[]string{"Overridden by the label `metric-exception`: r2; governance approvals 2/2 by `@pat`, `@paula`"})
}
