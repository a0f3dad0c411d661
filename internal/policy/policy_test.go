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
