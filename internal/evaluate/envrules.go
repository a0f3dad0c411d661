package evaluate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/policy"
)

// checkBundles requires every model of a bundle to move in an environment
// when one of them does. A move is a version change: promotion, rollback,
// registration or decommission; an edit that keeps the version is not one.
func (e *evaluation) checkBundles(f *gatedFile) {
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

// checkFreeze fails changes to an environment during one of its freeze
// windows, unless the pull request carries the window's override label, in
// which case the file needs, besides the environment's count from its own
// owners, the governance count from the owners of the policy file.
func (e *evaluation) checkFreeze(f *gatedFile) {
	env, ok := e.pol.Environment(f.env)
	if !ok || len(env.Freeze) == 0 {
		return
	}
	w, frozen := env.ActiveFreeze(e.in.Now)
	if !frozen {
		e.add(f, policy.FamilyFreeze, "freeze", StatusPass, fmt.Sprintf("no freeze window of %s is in force", env.Name))
		return
	}
	gov := e.pol.Governance.Approvals
	frozenMsg := fmt.Sprintf("%s is frozen for %q until %s", env.Name, w.Name, w.End.UTC().Format(time.RFC3339))
	governance := fmt.Sprintf("%d governance %s from the owners of %s", gov, plural(gov, "approval", "approvals"), policy.Path)
	switch {
	case w.OverrideLabel != "" && e.hasLabel(w.OverrideLabel):
		if e.pol.Mode(policy.FamilyFreeze) != policy.Off {
			f.freezeOverride = true
		}
		e.add(f, policy.FamilyFreeze, "freeze-override", StatusPass, fmt.Sprintf(
			"%s; overridden by the label %s, so %s are needed besides %s's own %d", frozenMsg, w.OverrideLabel, governance, env.Name, env.Approvals))
	case w.OverrideLabel != "":
		e.add(f, policy.FamilyFreeze, "freeze", StatusFail, fmt.Sprintf(
			"%s; add the label %s to override it with %s besides %s's own %d", frozenMsg, w.OverrideLabel, governance, env.Name, env.Approvals))
	default:
		e.add(f, policy.FamilyFreeze, "freeze", StatusFail, frozenMsg+"; the window has no override label")
	}
}

// hasLabel reports whether the pull request carries label; GitHub label
// names are compared without regard to case.
func (e *evaluation) hasLabel(label string) bool {
	return slices.ContainsFunc(e.in.PullRequest.Labels, func(l string) bool { return strings.EqualFold(l, label) })
}
