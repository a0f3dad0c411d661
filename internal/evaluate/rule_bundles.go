package evaluate

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// familyBundles requires the models of a bundle to move together. For a pin
// (Deployed), the partners must have been pinned by the commit that pinned
// the manifest's version, which the history says.
var familyBundles = RuleFamily{
	Name:  policy.FamilyBundles,
	Needs: NeedHistory,
	Rules: []Rule{{ID: "bundles", Pin: true}},
	stage: stageTree,
	check: (*evaluation).checkBundles,
}

// checkBundles requires every model of a bundle to move in an environment
// when one of them does. A move is a version change: promotion, rollback,
// registration or decommission; an edit that keeps the version is not one.
// For a pin, pinnedTogether first decides which partners moved with it.
func (e *evaluation) checkBundles(c *fileCheck) {
	f := c.f
	if e.pin {
		e.pinnedTogether(f)
	}
	if f.model == "" || f.kind == "" || f.kind == KindEdit {
		return
	}
	b, ok := e.pol.BundleOf(f.model)
	if !ok {
		return
	}
	var still []string
	for _, other := range b.Models {
		if other != f.model && !e.moving[f.env][other] {
			still = append(still, other)
		}
	}
	if len(still) > 0 {
		e.add(f, policy.FamilyBundles, "bundles", StatusFail, fmt.Sprintf(
			"bundle %s: %s moves in %s but %s does not; the models of a bundle move together in one change",
			b.Name, f.model, f.env, strings.Join(still, ", ")), "version")
		return
	}
	e.add(f, policy.FamilyBundles, "bundles", StatusPass, fmt.Sprintf("bundle %s moves together in %s", b.Name, f.env))
}

// pinnedTogether marks as moving the bundle partners of f that the commit
// which pinned f's version pinned too, so that checkBundles judges the tree
// as it judges a change: a partner pinned by another commit did not move
// with f. Without history for f, every partner counts as moving (nothing
// can be judged) and the bundle rule is skipped.
func (e *evaluation) pinnedTogether(f *gatedFile) {
	b, ok := e.pol.BundleOf(f.model)
	if !ok || f.kind == "" || f.kind == KindEdit {
		return
	}
	commit := lastPin(e.in.History[f.path])
	if commit == "" {
		f.kind = KindEdit // checkBundles leaves it alone
		e.add(f, policy.FamilyBundles, "bundles", StatusSkip, fmt.Sprintf("the history of %s is unknown, so bundle %s cannot be judged", f.path, b.Name))
		return
	}
	for _, other := range b.Models {
		if lastPin(e.in.History[manifest.Path(f.env, other)]) == commit {
			if e.moving[f.env] == nil {
				e.moving[f.env] = map[string]bool{}
			}
			e.moving[f.env][other] = true
		}
	}
}

// lastPin returns the commit of the last pin, "" when there is none.
func lastPin(pins []Pin) string {
	if len(pins) == 0 {
		return ""
	}
	return pins[len(pins)-1].Commit
}
