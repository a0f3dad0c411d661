package evaluate_test

import (
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

// TestEvidenceReadings applies the storage rules of the evidence,
// rollbackReady and sbom families to the caller's readings, where prod
// verifies artifacts: a missing reading fails closed, as does one that
// could not be made.
func TestEvidenceReadings(t *testing.T) {
	fc := evaltest.ManifestPath("prod", evaltest.Forecaster)
	cal := evaltest.ManifestPath("prod", evaltest.Calibrator)
	verified := evaluate.ArtifactCheck{Verified: true, Detail: "sha256 verified (512 bytes)"}
	both := func(c evaluate.ArtifactCheck) map[string]evaluate.ArtifactCheck {
		return map[string]evaluate.ArtifactCheck{fc: c, cal: c}
	}
	tests := []struct {
		name string
		// reports, sboms and incumbents are the readings; nil means none.
		reports, sboms, incumbents map[string]evaluate.ArtifactCheck
		want                       []string
		wantVerdict                evaluate.Verdict
	}{
		{
			name: "every reading verified", reports: both(verified), sboms: both(verified), incumbents: both(verified),
			want: []string{
				"pass  evidence/report-verified", "validation report verified: sha256 verified (512 bytes)",
				"pass  sbom/sbom-verified", "SBOM verified: sha256 verified",
				"pass  rollbackReady/rollback-verified", "rollback target's artifact (version 2026.11.06-1) verified",
			},
			wantVerdict: evaluate.VerdictPass,
		},
		{
			name: "readings missing fail closed",
			want: []string{
				"could not verify the validation report: prod requires it to be read and hashed before merge, and this evaluation did not read it",
				"could not verify the SBOM: prod requires it",
				"could not verify the rollback target's artifact (version 2026.11.06-1): prod requires it",
			},
			wantVerdict: evaluate.VerdictFail,
		},
		{
			name:    "a report whose digest differs fails",
			reports: both(evaluate.ArtifactCheck{Detail: "sha256 of the blob is 0000, the manifest says 5d41"}),
			sboms:   both(verified), incumbents: both(verified),
			want:        []string{"fail  evidence/report-verified", "validation report verification failed: sha256 of the blob is 0000"},
			wantVerdict: evaluate.VerdictFail,
		},
		{
			name:    "an SBOM that is not SPDX or CycloneDX fails",
			reports: both(verified), incumbents: both(verified),
			sboms:       both(evaluate.ArtifactCheck{Detail: "sha256 verified, but the document is neither SPDX 2.3 nor CycloneDX 1.5+ JSON"}),
			want:        []string{"SBOM verification failed: sha256 verified, but the document is neither SPDX 2.3 nor CycloneDX 1.5+ JSON"},
			wantVerdict: evaluate.VerdictFail,
		},
		{
			name:    "a rollback target whose bytes are gone fails",
			reports: both(verified), sboms: both(verified),
			incumbents:  both(evaluate.ArtifactCheck{Detail: "the artifact does not exist"}),
			want:        []string{"rollback target's artifact (version 2026.11.06-1) verification failed: the artifact does not exist"},
			wantVerdict: evaluate.VerdictFail,
		},
		{
			name:    "unreachable storage fails closed",
			reports: both(evaluate.ArtifactCheck{Unavailable: true, Detail: "storage answered 503"}),
			sboms:   both(verified), incumbents: both(verified),
			want:        []string{"could not verify the validation report: storage answered 503"},
			wantVerdict: evaluate.VerdictFail,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := evaltest.Sample(tt.name)
			s.Base[".github/promobot.yaml"] = evaltest.EvidencePolicy("    verifyArtifacts: true\n    requireValidationReport: true\n    requireRollbackReady: true\n    requireSBOM: true\n")
			s.Reviews = evaltest.Approve("mara", "rita")
			for _, m := range []string{evaltest.Forecaster, evaltest.Calibrator} {
				text := evaltest.WithReport(evaltest.Manifest("prod", m, evaltest.V2), evaltest.ReportsLocation, m, evaltest.V2, evaltest.ReportDigest)
				s.Head[evaltest.ManifestPath("prod", m)] = evaltest.WithSBOM(text, evaltest.ReportsLocation, m, evaltest.V2)
			}
			in, err := evaltest.Input(s)
			if err != nil {
				t.Fatal(err)
			}
			in.Artifacts = both(verified)
			in.Reports, in.SBOMs, in.Incumbents = tt.reports, tt.sboms, tt.incumbents
			res := evaluate.Evaluate(in)
			var b strings.Builder
			if err := evaluate.RenderText(&b, res); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			if res.Verdict != tt.wantVerdict {
				t.Errorf("verdict = %s, want %s:\n%s", res.Verdict, tt.wantVerdict, b.String())
			}
		})
	}
}

// TestDeployedAppliesPinLevelEvidence requires Deployed, which resolve
// asks, to apply the evidence and sbom pin rules and none of the storage
// rules, whose readings a pin does not have.
func TestDeployedAppliesPinLevelEvidence(t *testing.T) {
	for _, id := range []string{"evidence", "sbom"} {
		if !contains(evaluate.DeployedRules, id) {
			t.Errorf("DeployedRules lacks %s", id)
		}
	}
	for _, id := range []string{"report-verified", "sbom-verified", "rollbackReady", "rollback-verified"} {
		if contains(evaluate.DeployedRules, id) {
			t.Errorf("DeployedRules has %s, which a pin cannot judge", id)
		}
		if !evaluate.StorageRule(id) && id != "rollbackReady" {
			t.Errorf("%s is not a storage rule", id)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
