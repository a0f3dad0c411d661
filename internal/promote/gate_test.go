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
		name  string
		rules []evaluate.RuleResult
		want  []string
	}{
		{"approvals and freeze never refuse", []evaluate.RuleResult{
			rule(policy.FamilyApprovals, evaluate.StatusFail, "a.yaml", "needs 2 approvals"),
			rule(policy.FamilyFreeze, evaluate.StatusFail, "a.yaml", "prod is frozen"),
			rule(policy.FamilyOrder, evaluate.StatusPass, "a.yaml", "ok"),
		}, nil},
		{"warnings and skips never refuse", []evaluate.RuleResult{
			rule(policy.FamilyLineage, evaluate.StatusWarn, "a.yaml", "lineage is missing dataVersion"),
			rule(policy.FamilyArtifacts, evaluate.StatusSkip, "a.yaml", "not verified"),
		}, nil},
		{"unread bytes are left to the pull request's check; a missing signature refuses", []evaluate.RuleResult{
			{ID: "artifact", Family: policy.FamilyArtifacts, Status: evaluate.StatusFail, Mode: policy.Enforce, File: "a.yaml",
				Message: "could not verify artifact: prod requires the artifact to be read and hashed before merge, and this evaluation did not read it"},
			{ID: "signature", Family: policy.FamilyArtifacts, Status: evaluate.StatusFail, Mode: policy.Enforce, File: "a.yaml",
				Message: "artifact.signature is missing"},
		}, []string{"a.yaml: artifact.signature is missing"}},
		{"every other failure refuses, with its file", []evaluate.RuleResult{
			rule(policy.FamilyOrder, evaluate.StatusFail, "a.yaml", "version 2 of m is not in test"),
			rule(policy.FamilyTicket, evaluate.StatusFail, "a.yaml", "approval.ticket is missing"),
			rule(evaluate.FamilyPolicy, evaluate.StatusFail, "", "the base policy is invalid"),
		}, []string{"a.yaml: version 2 of m is not in test", "a.yaml: approval.ticket is missing", "the base policy is invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := blockingReasons(&evaluate.Result{Rules: tt.rules})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}
