package evaluate

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// familyLineage requires the lineage fields the environment names.
var familyLineage = RuleFamily{
	Name:  policy.FamilyLineage,
	Needs: NeedManifest,
	Rules: []Rule{{ID: "lineage", Pin: true}},
	stage: stageRequirements,
	check: (*evaluation).checkLineage,
}

func (e *evaluation) checkLineage(c *fileCheck) {
	f, env := c.f, c.env
	if len(env.RequiredLineage) == 0 {
		e.add(f, policy.FamilyLineage, "lineage", StatusSkip, fmt.Sprintf("%s requires no lineage fields", env.Name))
		return
	}
	var missing []string
	for _, field := range env.RequiredLineage {
		if !f.head.Manifest.Lineage.Has(field) {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		e.add(f, policy.FamilyLineage, "lineage", StatusFail, fmt.Sprintf("lineage is missing %s, required in %s", strings.Join(missing, ", "), env.Name), "lineage")
		return
	}
	e.add(f, policy.FamilyLineage, "lineage", StatusPass, fmt.Sprintf("lineage has %s", strings.Join(env.RequiredLineage, ", ")), "lineage")
}
