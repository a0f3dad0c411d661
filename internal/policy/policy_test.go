package policy

import "testing"

func TestPathCovers(t *testing.T) {
	tests := []struct {
		pattern, field string
		want           bool
	}{
		{"validation.*", "validation.status", true},
		{"validation.*", "validation", false},
		{"validation", "validation.status", true},
		{"metrics.*", "metrics.rmse", true},
		{"metrics.rmse", "metrics.mae", false},
		{"*.status", "validation.status", true},
		{"lineage.dataWindow", "lineage.dataWindow.start", true},
		{"metrics.*", "parameters.alpha", false},
	}
	for _, tc := range tests {
		if got := PathCovers(tc.pattern, tc.field); got != tc.want {
			t.Errorf("PathCovers(%q, %q) = %v, want %v", tc.pattern, tc.field, got, tc.want)
		}
	}
}

func TestStrictestTier(t *testing.T) {
	n := func(v int) *int { return &v }
	p := &Policy{
		Environments: []Environment{{Name: "dev"}, {Name: "test", Approvals: 1}, {Name: "prod", Approvals: 2}},
		RiskTiers: map[string]RiskTier{
			"low":    {Name: "low", Environments: map[string]TierEnvironment{"prod": {Approvals: n(1)}}},
			"high":   {Name: "high", Environments: map[string]TierEnvironment{"prod": {Approvals: n(3)}}},
			"higher": {Name: "higher", Environments: map[string]TierEnvironment{"prod": {Approvals: n(3), RequireTicket: true}}},
			"alt":    {Name: "alt", Environments: map[string]TierEnvironment{"test": {Approvals: n(2)}, "prod": {Approvals: n(2)}}},
		},
		Models: map[string]ModelPolicy{"m": {Tier: "low"}},
	}
	if got := p.Strictest().Name; got != "higher" {
		t.Errorf("strictest = %s, want higher (same count as high, one more requirement)", got)
	}
	if tier, declared := p.TierOf("m"); tier.Name != "low" || !declared {
		t.Errorf("TierOf(m) = %s, %v", tier.Name, declared)
	}
	if tier, declared := p.TierOf("other"); tier.Name != "higher" || declared {
		t.Errorf("TierOf(other) = %s, %v", tier.Name, declared)
	}
	if tier, _ := (&Policy{}).TierOf("m"); tier != nil {
		t.Errorf("no tiers: %v", tier)
	}
}

// TestTierApplyRationale checks that a tier's requireRationale adds a
// rationale requirement or raises the environment's minimum, never lowers
// it.
func TestTierApplyRationale(t *testing.T) {
	tests := []struct {
		name      string
		env, tier int
		named     bool
		want      int
	}{
		{name: "the tier adds a requirement", env: 0, tier: 30, named: true, want: 30},
		{name: "the tier raises the minimum", env: 20, tier: 40, named: true, want: 40},
		{name: "a shorter minimum does not lower the environment's", env: 40, tier: 20, named: true, want: 40},
		{name: "a tier without it keeps the environment's", env: 20, named: true, want: 20},
		{name: "a tier that does not name the environment keeps it", env: 20, tier: 40, want: 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &Environment{Name: "prod", RationaleMinLength: tc.env}
			tier := &RiskTier{Name: "high", Environments: map[string]TierEnvironment{}}
			name := "test"
			if tc.named {
				name = "prod"
			}
			tier.Environments[name] = TierEnvironment{RationaleMinLength: tc.tier}
			if got := tier.Apply(env).RationaleMinLength; got != tc.want {
				t.Errorf("RationaleMinLength = %d, want %d", got, tc.want)
			}
			if env.RationaleMinLength != tc.env {
				t.Errorf("Apply changed the environment: %d", env.RationaleMinLength)
			}
		})
	}
}
