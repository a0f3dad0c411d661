package repoconfig

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/policy"
)

func TestPolicyLoadSampleOwnersAndTiers(t *testing.T) {
	p, problems := LoadPolicy(policy.Path, []byte(samplePolicy(t)), nil)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	want := []policy.FieldOwners{{Paths: []string{"validation.*", "metrics.*"}, Owners: []string{"@example-org/model-validators"}, Approvals: 1}}
	if diff := cmp.Diff(want, p.FieldOwners); diff != "" {
		t.Errorf("field owners (-want +got):\n%s", diff)
	}
	prod, _ := p.Environment("prod")
	for model, wantCount := range map[string]int{"elasticnet-ndx": 3, "elasticnet-ndx-threshold": 2, "unknown-model": 3} {
		tier, _ := p.TierOf(model)
		if got := tier.Apply(prod).Approvals; got != wantCount {
			t.Errorf("%s: prod approvals %d, want %d (tier %s)", model, got, wantCount, tier.Name)
		}
	}
	if prod.Approvals != 2 {
		t.Errorf("applying a tier changed the environment: %d", prod.Approvals)
	}
}

// TestPolicyTierRequiresRationale checks that a tier's requireRationale is
// read into its environment's settings.
func TestPolicyTierRequiresRationale(t *testing.T) {
	src := "apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - name: dev\n    approvals: 0\n" +
		"riskTiers:\n  high:\n    environments:\n      dev: {requireRationale: {minLength: 30}}\nmodels:\n  m: {tier: high}\n"
	p, problems := LoadPolicy(policy.Path, []byte(src), nil)
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	dev, _ := p.Environment("dev")
	tier, _ := p.TierOf("m")
	if got := tier.Apply(dev).RationaleMinLength; got != 30 || dev.RationaleMinLength != 0 {
		t.Errorf("rationale minimum %d with the tier, %d without; want 30 and 0", got, dev.RationaleMinLength)
	}
}

// TestPolicyOwnersAndTiersProblems checks the positioned problems of the
// field owner and tier sections, built-in schema included.
func TestPolicyOwnersAndTiersProblems(t *testing.T) {
	head := "apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - name: dev\n    approvals: 0\n"
	tests := []struct {
		name, body, want string
	}{
		{"bad field path", "fieldOwners:\n  - paths: [\"metrics..rmse\"]\n    owners: [\"@org/team\"]\n", ".github/promobot.yaml:7:13: fieldOwners[0].paths[0]: does not match pattern"},
		{"bad owner", "fieldOwners:\n  - paths: [metrics.*]\n    owners: [\"org/team\"]\n", ".github/promobot.yaml:8:14: fieldOwners[0].owners[0]: does not match pattern"},
		{"undeclared tier", "riskTiers:\n  high:\n    environments:\n      dev: {approvals: 1}\nmodels:\n  m: {tier: low}\n", `.github/promobot.yaml:11:`},
		{"undeclared environment", "riskTiers:\n  high:\n    environments:\n      prod: {approvals: 1}\n", `.github/promobot.yaml:9:7: riskTiers.high.environments.prod: environment "prod" is not declared under environments`},
		{"approvals out of range", "riskTiers:\n  high:\n    environments:\n      dev: {approvals: 11}\n", ".github/promobot.yaml:9:"},
		{"tier rationale of no length", "riskTiers:\n  high:\n    environments:\n      dev: {requireRationale: {minLength: 0}}\n", ".github/promobot.yaml:9:"},
		{"tier rationale without minLength", "riskTiers:\n  high:\n    environments:\n      dev: {requireRationale: {}}\n", "minLength"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := LoadPolicy(policy.Path, []byte(head+tc.body), nil)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("problems %q lack %q", got, tc.want)
			}
		})
	}
}

// TestPolicyUndeclaredTierWithoutSchema checks what the reader itself says,
// since the schema cannot know the declared tiers.
func TestPolicyUndeclaredTierWithoutSchema(t *testing.T) {
	b := builder{reader: reader{file: policy.Path, doc: mustParse(t, "models:\n  m: {tier: low}\n")}}
	p := &policy.Policy{RiskTiers: map[string]policy.RiskTier{"high": {Name: "high"}}}
	b.riskTiers(nil, map[string]any{"m": map[string]any{"tier": "low"}}, p)
	if len(b.problems) != 1 || !strings.Contains(b.problems[0].Message, `model "m": tier "low" is not declared under riskTiers (declared: high)`) {
		t.Errorf("problems = %v", b.problems)
	}
}
