package evaluate_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// TestMetricExceptionCountsGovernanceAsAFreezeOverride checks that a metric
// gate exception's governance approvals are counted exactly as a freeze
// override's: the same count (governance.approvals), the same owners (of
// the policy file) and the same eligibility (distinct people, neither
// author nor committer, approving the head commit).
func TestMetricExceptionCountsGovernanceAsAFreezeOverride(t *testing.T) {
	prod := evaltest.ManifestPath("prod", evaltest.Unbundled)
	approved := func(login, on string) evaltest.Review {
		return evaltest.Review{Login: login, State: evaluate.Approved, On: on}
	}
	for _, c := range []struct {
		name          string
		author        string
		commits       []evaltest.Commit
		reviews       []evaltest.Review
		wantApprovers []string
		wantMissing   int
	}{
		{name: "no governance approval", reviews: evaltest.Approve("mara", "rita"), wantMissing: 2},
		{name: "one governance approval", reviews: evaltest.Approve("mara", "rita", "pat"), wantApprovers: []string{"pat"}, wantMissing: 1},
		{name: "enough governance approvals", reviews: evaltest.Approve("mara", "rita", "pat", "paula"), wantApprovers: []string{"pat", "paula"}},
		{name: "one owner approving twice counts once", reviews: evaltest.Approve("mara", "rita", "pat", "pat"), wantApprovers: []string{"pat"}, wantMissing: 1},
		{name: "an approval of an earlier commit does not count",
			reviews: []evaltest.Review{approved("mara", "head"), approved("rita", "head"), approved("pat", "head"), approved("paula", "stale")}, wantApprovers: []string{"pat"}, wantMissing: 1},
		{name: "the committer does not count", commits: []evaltest.Commit{{Author: "alex", Committer: "paula"}},
			reviews: evaltest.Approve("mara", "rita", "pat", "paula"), wantApprovers: []string{"pat"}, wantMissing: 1},
		{name: "the author does not count", author: "paula", commits: []evaltest.Commit{{Author: "paula"}},
			reviews: evaltest.Approve("mara", "rita", "pat", "paula"), wantApprovers: []string{"pat"}, wantMissing: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			scenario := func(exception bool) evaltest.Scenario {
				s := evaltest.Sample(c.name)
				s.Head = map[string]string{prod: evaltest.WithRationale(evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V2), evaltest.Rationale)}
				s.Reviews = c.reviews
				if c.author != "" {
					s.Author = c.author
				}
				if c.commits != nil {
					s.Commits = c.commits
				}
				if exception {
					// r2 regresses beyond the tolerance of 0.005.
					s.Base[".github/promobot.yaml"] = evaltest.GatedPolicy("0.55", "0.005")
					s.Labels = []string{evaltest.ExceptionLabel}
				} else {
					s.Base[".github/promobot.yaml"] = evaltest.GatedPolicy("0.55", "0.01")
					s.Now = "2026-12-28T10:00:00Z" // in prod's year-end freeze
					s.Labels = []string{"freeze-override"}
				}
				return s
			}
			governance := func(exception bool) *evaluate.GovernanceApproval {
				res, text := evaluateScenario(t, scenario(exception))
				i := slices.IndexFunc(res.Approvals, func(a evaluate.FileApproval) bool { return a.File == prod })
				if i < 0 || res.Approvals[i].Governance == nil {
					t.Fatalf("no governance approval for %s:\n%s", prod, text)
				}
				want := evaluate.VerdictPass
				if c.wantMissing > 0 {
					want = evaluate.VerdictFail
				}
				if res.Verdict != want {
					t.Errorf("verdict %s, want %s:\n%s", res.Verdict, want, text)
				}
				return res.Approvals[i].Governance
			}
			x, freeze := governance(true), governance(false)
			if x.Reason != evaluate.GovernanceMetricException || freeze.Reason != evaluate.GovernanceFreezeOverride {
				t.Errorf("reasons %q and %q", x.Reason, freeze.Reason)
			}
			if got := append([]string{}, x.Approvers...); !slices.Equal(got, c.wantApprovers) && !(len(got) == 0 && len(c.wantApprovers) == 0) {
				t.Errorf("governance approvers %v, want %v", got, c.wantApprovers)
			}
			if x.Missing != c.wantMissing {
				t.Errorf("governance missing %d, want %d", x.Missing, c.wantMissing)
			}
			x.Reason, freeze.Reason = "", ""
			if diff := cmp.Diff(freeze, x); diff != "" {
				t.Errorf("the exception's governance approval differs from the freeze override's (-freeze +exception):\n%s", diff)
			}
		})
	}
}
