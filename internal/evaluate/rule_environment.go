package evaluate

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// familyEnvironment requires a manifest's environment to be declared in the
// policy.
var familyEnvironment = RuleFamily{
	Name:  policy.FamilyEnvironment,
	Rules: []Rule{{ID: "environment", Pin: true}},
	stage: stagePath,
	check: (*evaluation).checkEnvironment,
}

func (e *evaluation) checkEnvironment(c *fileCheck) {
	f := c.f
	if f.model == "" && f.env == "" {
		return
	}
	if c.declared {
		e.add(f, policy.FamilyEnvironment, "environment", StatusPass,
			fmt.Sprintf("environment %s is declared in %s", f.env, policy.Path), "environment")
	} else {
		e.add(f, policy.FamilyEnvironment, "environment", StatusFail,
			fmt.Sprintf("environment %q is not declared in %s (declared: %s)", f.env, policy.Path, e.envNames()), "environment")
	}
}

func (e *evaluation) envNames() string {
	names := make([]string, len(e.pol.Environments))
	for i, x := range e.pol.Environments {
		names[i] = x.Name
	}
	return strings.Join(names, ", ")
}
