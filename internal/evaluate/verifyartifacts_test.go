package evaluate_test

import (
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// TestVerifyArtifactsRequiredByPolicy: where the policy sets
// verifyArtifacts, an artifact this evaluation did not read fails the
// artifacts rule ("could not verify"); it used to be skipped, so the
// change passed. Elsewhere an unread artifact is still skipped.
func TestVerifyArtifactsRequiredByPolicy(t *testing.T) {
	required := evaltest.Replace(evaltest.Policy, "    requireSignature: true\n", "    requireSignature: true\n    verifyArtifacts: true\n")
	prodPath := evaltest.ManifestPath("prod", evaltest.Forecaster)
	tests := []struct {
		name        string
		policy      string
		artifacts   map[string]evaluate.ArtifactCheck
		wantVerdict evaluate.Verdict
		want        []string
		absent      []string
	}{
		{name: "required and not read", policy: required, wantVerdict: evaluate.VerdictFail,
			want: []string{"could not verify artifact: prod requires the artifact to be read and hashed before merge, and this evaluation did not read it"}},
		{name: "required and storage unreachable", policy: required, wantVerdict: evaluate.VerdictFail,
			artifacts: map[string]evaluate.ArtifactCheck{prodPath: {Unavailable: true, Detail: "no storage credentials: none given"}},
			want:      []string{"could not verify artifact: no storage credentials: none given"}},
		{name: "required and warned", policy: required + "rules:\n  artifacts: warn\n", wantVerdict: evaluate.VerdictPass,
			want: []string{"warn  artifacts/artifact"}},
		{name: "required and verified", policy: required, wantVerdict: evaluate.VerdictPass,
			artifacts: map[string]evaluate.ArtifactCheck{
				prodPath: {Verified: true, Detail: "sha256 verified"},
				evaltest.ManifestPath("prod", evaltest.Calibrator): {Verified: true, Detail: "sha256 verified"},
			},
			want: []string{"artifact verified: sha256 verified"}, absent: []string{"could not verify"}},
		{name: "not required", policy: evaltest.Policy, wantVerdict: evaluate.VerdictPass,
			want: []string{"artifact not verified in this evaluation"}, absent: []string{"could not verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := evaltest.Sample(tt.name)
			s.Base[".github/promobot.yaml"] = tt.policy
			s.Head = evaltest.Promote("prod", evaltest.V2, evaltest.Forecaster, evaltest.Calibrator)
			s.Reviews = evaltest.Approve("mara", "rita")
			s.Artifacts = tt.artifacts
			s.WantVerdict, s.WantMessages, s.WantAbsent = tt.wantVerdict, tt.want, tt.absent
			res, text := evaluateScenario(t, s)
			if problems := evaltest.Check(s, res, text); len(problems) > 0 {
				t.Errorf("%s\n\noutput:\n%s", strings.Join(problems, "\n"), text)
			}
		})
	}
}
