package repoconfig

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/policy"
)

// TestPolicyAuditJudgeFrom reads audit.judgeFrom with and without the
// schema: a commit hash, a date or a time; anything else is a problem.
func TestPolicyAuditJudgeFrom(t *testing.T) {
	const head = "apiVersion: promobot/v1\nkind: PromotionPolicy\nenvironments:\n  - {name: dev, approvals: 0}\n"
	for _, tc := range []struct {
		name, value, want string
		problems          []string
	}{
		{name: "commit", value: "3f2a9c1", want: "3f2a9c1"},
		{name: "quoted date", value: "'2026-06-02'", want: "2026-06-02"},
		{name: "time", value: "'2026-06-02T09:00:00Z'", want: "2026-06-02T09:00:00Z"},
		{name: "word", value: "yesterday", problems: []string{policy.Path + ":5:20: audit.judgeFrom \"yesterday\" must be a commit hash (7 to 40 hex digits), a date (2006-01-02) or an RFC 3339 time"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(head + "audit: {judgeFrom: " + tc.value + "}\n")
			pol, problems := LoadPolicy(policy.Path, data, nil)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tc.problems, got); diff != "" {
				t.Fatalf("problems (-want +got):\n%s", diff)
			}
			if pol != nil && pol.Audit.JudgeFrom != tc.want {
				t.Errorf("judgeFrom = %q, want %q", pol.Audit.JudgeFrom, tc.want)
			}
			if _, problems := LoadPolicy(policy.Path, data, BuiltinPolicySchema); len(problems) > 0 != (tc.problems != nil) {
				t.Errorf("with the schema: problems %v", problems)
			}
		})
	}
}
