package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/schemas"
)

// TestEndToEndLoosenedSchemaFailsTheCheck: an approved change loosened the
// base's schemas/policy.schema.json so that the policy's approvals may be
// anything, and the policy says "two". The policy loader used to panic on
// it, leaving the check run in progress on every delivery and resync. The
// check completes as a failure naming the policy problem, and a resync
// completes it again.
func TestEndToEndLoosenedSchemaFailsTheCheck(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	var root map[string]any
	if err := json.Unmarshal(schemas.Policy, &root); err != nil {
		t.Fatal(err)
	}
	env := root["properties"].(map[string]any)["environments"].(map[string]any)["items"].(map[string]any)
	env["properties"].(map[string]any)["approvals"] = map[string]any{"description": "anything"}
	loosened, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	policy := evaltest.Replace(evaltest.Policy, "approvals: 2\n    requireValidation", "approvals: two\n    requireValidation")
	h.Commit("main", map[string]string{schemas.PolicyPath: string(loosened), ".github/promobot.yaml": policy},
		"Loosen the policy schema", "pat", world.MustTime(t, evaltest.DefaultBaseDate).Add(2*time.Hour))
	n, head := h.promotion(nil)

	h.pullRequestEvent(n, "opened")
	h.want("opened", head, "failure", []string{"the base policy .github/promobot.yaml"},
		[]string{"promobot's built-in schema"})
	h.resync(false)
	for _, run := range h.Em.CheckRuns(testOwner, testRepo, head) {
		if run.Status != "completed" {
			t.Errorf("check run %d is %s: %q", run.ID, run.Status, run.Title)
		}
	}
}

// panickingEngine panics when asked for a verdict.
type panickingEngine struct{ PolicyEngine }

func (panickingEngine) Evaluate(*evaluate.Input) *evaluate.Result { panic("engine bug") }

// TestEndToEndPanicCompletesTheCheck: whatever panics while a pull request
// is judged, the check run it started is completed as a failure rather than
// left in progress.
func TestEndToEndPanicCompletesTheCheck(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{engine: panickingEngine{}})
	n, head := h.promotion(nil)
	h.pullRequestEvent(n, "opened")
	h.want("opened", head, "failure", []string{"could not evaluate: internal error"}, []string{"re-run this check"})
	if run := h.Latest(head); strings.Contains(run.Summary, "engine bug") {
		t.Errorf("the summary shows the panic: %s", run.Summary)
	}
}
