package evaluate

import (
	"fmt"

	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// familyValidation requires validation.status passed where the environment
// asks for it.
var familyValidation = RuleFamily{
	Name:  policy.FamilyValidation,
	Needs: NeedManifest,
	Rules: []Rule{{ID: "validation", Pin: true}},
	stage: stageRequirements,
	check: (*evaluation).checkValidation,
}

func (e *evaluation) checkValidation(c *fileCheck) {
	f, env := c.f, c.env
	m := f.head.Manifest
	switch {
	case !env.RequireValidation:
		e.add(f, policy.FamilyValidation, "validation", StatusSkip, fmt.Sprintf("%s does not require validation", env.Name))
	case m.Validation.Status == manifest.ValidationPassed:
		e.add(f, policy.FamilyValidation, "validation", StatusPass, "validation passed")
	default:
		e.add(f, policy.FamilyValidation, "validation", StatusFail, fmt.Sprintf(
			"validation.status is %q; %s requires passed", m.Validation.Status, env.Name), "validation", "status")
	}
}
