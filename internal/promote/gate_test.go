package promote

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/policy"
)

func TestBlockingReasons(t *testing.T) {
	rule := func(fam policy.Family, st evaluate.Status, file, msg string) evaluate.RuleResult {
		return evaluate.RuleResult{ID: string(fam), Family: fam, Status: st, Mode: policy.Enforce, File: file, Message: msg}
	}
	tests := []struct {
		name       string
		rules      []evaluate.RuleResult
		promotions []evaluate.Promotion
		want       []string
	}{
		{"approvals and freeze never refuse", []evaluate.RuleResult{
			rule(policy.FamilyApprovals, evaluate.StatusFail, "a.yaml", "needs 2 approvals"),
			rule(policy.FamilyFreeze, evaluate.StatusFail, "a.yaml", "prod is frozen"),
			rule(policy.FamilyOrder, evaluate.StatusPass, "a.yaml", "ok"),
		}, nil, nil},
		{"warnings and skips never refuse", []evaluate.RuleResult{
			rule(policy.FamilyLineage, evaluate.StatusWarn, "a.yaml", "lineage is missing dataVersion"),
			rule(policy.FamilyArtifacts, evaluate.StatusSkip, "a.yaml", "not verified"),
		}, nil, nil},
		{"unread bytes are left to the pull request's check; a missing signature refuses", []evaluate.RuleResult{
			{ID: "artifact", Family: policy.FamilyArtifacts, Status: evaluate.StatusFail, Mode: policy.Enforce, File: "a.yaml",
				Message: "could not verify artifact: prod requires the artifact to be read and hashed before merge, and this evaluation did not read it"},
			{ID: "signature", Family: policy.FamilyArtifacts, Status: evaluate.StatusFail, Mode: policy.Enforce, File: "a.yaml",
				Message: "artifact.signature is missing"},
		}, nil, []string{"a.yaml: artifact.signature is missing"}},
		{"a failing metric gate refuses unless a label may override it", []evaluate.RuleResult{
			rule(policy.FamilyMetrics, evaluate.StatusFail, "a.yaml", "sharpe 1.25 is worse than the incumbent"),
			rule(policy.FamilyMetrics, evaluate.StatusFail, "b.yaml", "r2 0.4 is below the minimum 0.5"),
		}, []evaluate.Promotion{{File: "a.yaml", ExceptionLabel: "metric-exception"}, {File: "b.yaml"}},
			[]string{"b.yaml: r2 0.4 is below the minimum 0.5"}},
		{"every other failure refuses, with its file", []evaluate.RuleResult{
			rule(policy.FamilyOrder, evaluate.StatusFail, "a.yaml", "version 2 of m is not in test"),
			rule(policy.FamilyTicket, evaluate.StatusFail, "a.yaml", "approval.ticket is missing"),
			rule(evaluate.FamilyPolicy, evaluate.StatusFail, "", "the base policy is invalid"),
		}, nil, []string{"a.yaml: version 2 of m is not in test", "a.yaml: approval.ticket is missing", "the base policy is invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := blockingReasons(&evaluate.Result{Rules: tt.rules, Promotions: tt.promotions})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}
