package evaluate

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/policy"
)

// familyFreeze refuses changes to an environment during its freeze windows,
// unless the pull request carries a window's override label.
var familyFreeze = RuleFamily{
	Name:  policy.FamilyFreeze,
	Needs: NeedLabels | NeedClock,
	Rules: []Rule{{ID: "freeze"}, {ID: "freeze-override"}},
	stage: stageTree,
	check: (*evaluation).checkFreeze,
}

// checkFreeze fails changes to an environment during one of its freeze
// windows, unless the pull request carries the window's override label, in
// which case the file needs, besides the environment's count from its own
// owners, the governance count from the owners of the policy file.
func (e *evaluation) checkFreeze(c *fileCheck) {
	f, env := c.f, c.env
	if !c.declared || len(env.Freeze) == 0 {
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

// mayOverrideFreeze reports whether the pull request carries the override
// label of a freeze window of env, in force or not.
func (e *evaluation) mayOverrideFreeze(env string) bool {
	if e.pol == nil {
		return false
	}
	x, ok := e.pol.Environment(env)
	if !ok {
		return false
	}
	return slices.ContainsFunc(x.Freeze, func(w policy.FreezeWindow) bool { return w.OverrideLabel != "" && e.hasLabel(w.OverrideLabel) })
}

// hasLabel reports whether the pull request carries label; GitHub label
// names are compared without regard to case.
func (e *evaluation) hasLabel(label string) bool {
	return slices.ContainsFunc(e.in.PullRequest.Labels, func(l string) bool { return strings.EqualFold(l, label) })
}
