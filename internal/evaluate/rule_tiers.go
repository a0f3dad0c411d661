package evaluate

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// familyTiers applies the policy's risk tiers: a model's tier replaces the
// approval count of an environment and adds requirements to it. The tier
// comes from the policy alone (a manifest cannot choose it); a model with
// no declared tier gets the strictest. The family reports which tier
// applied; the requirements themselves are judged by their families.
var familyTiers = RuleFamily{
	Name:  policy.FamilyTiers,
	Rules: []Rule{{ID: "tier", Pin: true}},
	stage: stagePins,
	check: (*evaluation).checkTier,
}

// tierEnvironment returns env with the risk tier of model applied, unless
// the policy declares no tiers or the tiers family is off.
func (e *evaluation) tierEnvironment(model string, env *policy.Environment) *policy.Environment {
	if model == "" || env == nil || e.pol.Mode(policy.FamilyTiers) == policy.Off {
		return env
	}
	tier, _ := e.pol.TierOf(model)
	return tier.Apply(env)
}

// checkTier says which tier applied to a manifest, and what it asks of the
// environment.
func (e *evaluation) checkTier(c *fileCheck) {
	f := c.f
	if f.model == "" || len(e.pol.RiskTiers) == 0 {
		return
	}
	tier, declared := e.pol.TierOf(f.model)
	how := "declared in the policy"
	if !declared {
		how = "the strictest, since the policy declares no tier for " + f.model
	}
	var asks []string
	if te, ok := tier.Environments[f.env]; ok {
		if te.Approvals != nil {
			asks = append(asks, fmt.Sprintf("%d %s", *te.Approvals, plural(*te.Approvals, "approval", "approvals")))
		}
		for _, r := range []struct {
			on   bool
			name string
		}{{te.RequireValidation, "passed validation"}, {te.RequireTicket, "a ticket"}, {te.RequireSignature, "a signature"}, {te.VerifyArtifacts, "verified artifacts"}} {
			if r.on {
				asks = append(asks, r.name)
			}
		}
		if n := te.RationaleMinLength; n > 0 {
			asks = append(asks, fmt.Sprintf("a rationale of at least %d %s", n, plural(n, "character", "characters")))
		}
	}
	what := "the environment's own requirements apply"
	if len(asks) > 0 {
		what = fmt.Sprintf("%s needs %s", f.env, strings.Join(asks, ", "))
	}
	e.add(f, policy.FamilyTiers, "tier", StatusPass, fmt.Sprintf("risk tier %s applies to %s (%s): %s", tier.Name, f.model, how, what))
}
