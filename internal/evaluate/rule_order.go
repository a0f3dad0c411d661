package evaluate

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// familyOrder requires a promoted version to be pinned first in the
// environment it is promoted from; a rollback to an earlier pin passes.
var familyOrder = RuleFamily{
	Name:  policy.FamilyOrder,
	Needs: NeedManifest | NeedOtherPins | NeedHistory,
	Rules: []Rule{{ID: "order"}, {ID: "rollback"}},
	stage: stagePins,
	check: (*evaluation).checkOrder,
}

// checkOrder requires a promoted version to be pinned in the source
// environment with the same artifact and lineage, unless it is a rollback.
func (e *evaluation) checkOrder(c *fileCheck) {
	f, env, declared, rollback := c.f, c.env, c.declared, c.rollback
	m := f.head.Manifest
	switch {
	case f.kind == KindEdit:
		e.add(f, policy.FamilyOrder, "order", StatusSkip, fmt.Sprintf("version %s of %s is unchanged in %s", m.Version, m.Model, f.env))
		return
	case f.kind == KindRollback:
		e.add(f, policy.FamilyOrder, "rollback", StatusPass, fmt.Sprintf("rollback to %s, pinned in %s from %s to %s",
			m.Version, f.env, formatDate(rollback.Since), formatDate(rollback.Until)), "version")
		return
	case !declared:
		e.add(f, policy.FamilyOrder, "order", StatusSkip, fmt.Sprintf("environment %q is not declared, so it has no source environment", f.env))
		return
	case env.From == "":
		e.add(f, policy.FamilyOrder, "order", StatusSkip, fmt.Sprintf("%s is where versions are registered; it has no source environment", f.env))
		return
	}
	notIn := fmt.Sprintf("version %s of %s is not in %s; promote it to %s first", m.Version, m.Model, env.From, env.From)
	src := e.in.Base[manifest.Path(env.From, m.Model)]
	switch {
	case src == nil || src.Manifest == nil:
		e.add(f, policy.FamilyOrder, "order", StatusFail, notIn+fmt.Sprintf(" (%s has no manifest for %s)", env.From, m.Model), "version")
	case src.Manifest.Version != m.Version:
		e.add(f, policy.FamilyOrder, "order", StatusFail, notIn+fmt.Sprintf(" (%s pins %s)", env.From, src.Manifest.Version), "version")
	default:
		var differs []string
		if src.Manifest.Artifact.URI != m.Artifact.URI || src.Manifest.Artifact.SHA256 != m.Artifact.SHA256 {
			differs = append(differs, "artifact")
		}
		if !manifest.SameLineage(src.Manifest, m) {
			differs = append(differs, "lineage")
		}
		if len(differs) > 0 {
			e.add(f, policy.FamilyOrder, "order", StatusFail, fmt.Sprintf(
				"version %s of %s is not in %s with the same %s; promote it to %s first", m.Version, m.Model, env.From, strings.Join(differs, " and "), env.From),
				differs[0])
			return
		}
		e.add(f, policy.FamilyOrder, "order", StatusPass, fmt.Sprintf("version %s of %s is pinned in %s with the same artifact and lineage", m.Version, m.Model, env.From), "version")
	}
}
