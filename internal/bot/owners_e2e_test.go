package bot

import (
	"testing"
	"time"

	"github.com/example-org/promobot/internal/testing/bottest/world"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// TestEndToEndFieldOwnersExcludeTheRegistrant runs a validation through the
// bot and the emulator: vic, a validator, registered a version in dev (0
// approvals needed there); alex marks it validated; vic's approval cannot
// satisfy the validators' field owner rule, val's can. The validators' team
// owns no changed file in CODEOWNERS, so the bot must resolve it from the
// policy's field owners.
func TestEndToEndFieldOwnersExcludeTheRegistrant(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	registered := world.MustTime(t, evaltest.DefaultNow).Add(-3 * time.Hour)
	path := evaltest.ManifestPath("dev", evaltest.Unbundled)
	h.Commit("main", map[string]string{".github/promobot.yaml": evaltest.OwnersPolicy}, "field owners and tiers", "pat", registered.Add(-time.Hour))
	h.Commit("main", map[string]string{path: evaltest.Manifest("dev", evaltest.Unbundled, evaltest.V4)}, "register lasso-spx", "vic", registered)

	head := h.Commit("validate", map[string]string{path: evaltest.ManifestWith("dev", evaltest.Unbundled, evaltest.V4, "passed", "")},
		"Mark lasso-spx validated", "alex", registered.Add(time.Hour))
	n, err := h.Em.OpenPR(testOwner, testRepo, githubtest.NewPullRequest{Title: "Mark lasso-spx validated", Head: "validate", Base: "main", User: "alex"})
	if err != nil {
		t.Fatal(err)
	}
	h.pullRequestEvent(n, "opened")
	h.want("opened", head, "failure", []string{"changes validation.status, owned by @example-org/model-validators"}, nil)

	h.review(n, "vic", "APPROVED")
	h.want("approved by the registrant", head, "failure", []string{"needs 1 more approval from them"},
		[]string{"ignored `@vic`: registrant of lasso-spx `" + evaltest.V4 + "` (author and committer of commit",
			"risk tier high applies to lasso-spx (the strictest"})

	h.review(n, "val", "APPROVED")
	h.want("approved by another validator", head, "success", nil,
		[]string{"`1/1` field owner approvals for validation.status of `" + path + "`", "approved by `@val`"})

	if unexpected := h.Em.UnexpectedRequests(); len(unexpected) > 0 {
		t.Errorf("requests the emulator does not know: %v", unexpected)
	}
}
