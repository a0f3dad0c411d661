package policy

import (
	"cmp"
	"maps"
	"slices"
)

// RiskTier is a model risk classification: per environment, what a model of
// the tier needs beyond, or instead of, the environment's own settings.
type RiskTier struct {
	Name string
	// Environments holds the tier's settings by environment name; an
	// environment the tier does not name keeps its own settings.
	Environments map[string]TierEnvironment
}

// TierEnvironment is a tier's settings for one environment. Approvals,
// when set, replaces the environment's count; a requirement set to true is
// added to the environment's, and a rationale length raises the
// environment's minimum (a tier never removes or weakens a requirement).
type TierEnvironment struct {
	// Approvals is nil when the tier keeps the environment's count.
	Approvals         *int
	RequireValidation bool
	RequireTicket     bool
	RequireSignature  bool
	VerifyArtifacts   bool
	// RationaleMinLength, when not zero, requires approval.rationale of at
	// least that many characters (requireRationale.minLength); the longer
	// of the tier's and the environment's minimum applies.
	RationaleMinLength int
}

// ModelPolicy is what the policy declares about one model.
type ModelPolicy struct {
	// Tier names one of the policy's risk tiers.
	Tier string
}

// TierOf returns the risk tier of model and whether the policy declares it
// for the model. A model with no declared tier gets the strictest tier. ok
// is false with a nil tier when the policy declares no tiers.
func (p *Policy) TierOf(model string) (tier *RiskTier, declared bool) {
	if len(p.RiskTiers) == 0 {
		return nil, false
	}
	if m, ok := p.Models[model]; ok {
		if t, ok := p.RiskTiers[m.Tier]; ok {
			return &t, true
		}
	}
	t := p.Strictest()
	return t, false
}

// Strictest returns the strictest risk tier, nil when there are none: the
// one whose approval counts, summed over the environments with each
// environment's own count where the tier sets none, are highest; then the
// one that adds the most requirements; then the first by name.
func (p *Policy) Strictest() *RiskTier {
	var best *RiskTier
	var bestKey [2]int
	for _, name := range slices.Sorted(maps.Keys(p.RiskTiers)) {
		t := p.RiskTiers[name]
		key := p.strictness(&t)
		if best == nil || cmp.Or(cmp.Compare(key[0], bestKey[0]), cmp.Compare(key[1], bestKey[1])) > 0 {
			best, bestKey = &t, key
		}
	}
	return best
}

// strictness is a tier's summed approval count and number of added
// requirements.
func (p *Policy) strictness(t *RiskTier) [2]int {
	var out [2]int
	for _, e := range p.Environments {
		te := t.Environments[e.Name]
		out[0] += e.Approvals
		if te.Approvals != nil {
			out[0] += *te.Approvals - e.Approvals
		}
		for _, b := range []bool{te.RequireValidation, te.RequireTicket, te.RequireSignature, te.VerifyArtifacts, te.RationaleMinLength > 0} {
			if b {
				out[1]++
			}
		}
	}
	return out
}

// Apply returns env with the tier's settings for it applied; env itself is
// not modified. A nil tier returns env.
func (t *RiskTier) Apply(env *Environment) *Environment {
	if t == nil || env == nil {
		return env
	}
	te, ok := t.Environments[env.Name]
	if !ok {
		return env
	}
	out := *env
	if te.Approvals != nil {
		out.Approvals = *te.Approvals
	}
	out.RequireValidation = out.RequireValidation || te.RequireValidation
	out.RequireTicket = out.RequireTicket || te.RequireTicket
	out.RequireSignature = out.RequireSignature || te.RequireSignature
	out.VerifyArtifacts = out.VerifyArtifacts || te.VerifyArtifacts
	out.RationaleMinLength = max(out.RationaleMinLength, te.RationaleMinLength)
	return &out
}
