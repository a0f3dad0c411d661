package evaltest

import (
	"github.com/example-org/promobot/internal/evaluate"
)

// The sample evidence locations and digests.
const (
	// ReportsLocation is where the sample's validation reports and SBOMs
	// live, allowed by EvidencePolicy.
	ReportsLocation = "https://mlartifacts.blob.core.windows.net/reports/"
	// ReportDigest and SBOMDigest are the digests the evidence scenarios
	// name.
	ReportDigest = "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	SBOMDigest   = "7e240de74fb1ed08fa08d38063f6a6a91462a8152dd3a84e8f8e5e1b1d2f3a4b"
)

// EvidencePolicy returns the sample policy with the reports location
// allowed and the given lines added to prod (each indented like a key of
// an environment, such as "    requireSBOM: true\n").
func EvidencePolicy(prodLines string) string {
	p := Replace(Policy, "    - https://mlartifacts.blob.core.windows.net/models/\n",
		"    - https://mlartifacts.blob.core.windows.net/models/\n    - "+ReportsLocation+"\n")
	return Replace(p, "    requireSignature: true\n", "    requireSignature: true\n"+prodLines)
}

// WithReport returns a manifest with a validation report (under base, a
// location) and, when digest is not empty, its digest.
func WithReport(text, base, model, version, digest string) string {
	add := "  report: " + base + model + "/" + version + "/validation.html\n"
	if digest != "" {
		add += "  reportSha256: " + digest + "\n"
	}
	return Replace(text, "validation:\n  status: passed\n", "validation:\n  status: passed\n"+add)
}

// WithSBOM returns a manifest naming an SBOM under base.
func WithSBOM(text, base, model, version string) string {
	return Replace(text, "validation:\n", "sbom:\n  uri: "+base+model+"/"+version+"/sbom.spdx.json\n  sha256: "+SBOMDigest+"\nvalidation:\n")
}

func evidenceScenarios() []Scenario {
	var out []Scenario
	add := func(s Scenario, verdict evaluate.Verdict, messages ...string) {
		s.WantVerdict = verdict
		s.WantMessages = append(s.WantMessages, messages...)
		out = append(out, s)
	}
	prod := func(name, prodLines string, edit func(model, text string) string) Scenario {
		s := prodPromotion(name)
		s.Base[".github/promobot.yaml"] = EvidencePolicy(prodLines)
		for _, m := range []string{Forecaster, Calibrator} {
			s.Head[ManifestPath("prod", m)] = edit(m, Manifest("prod", m, V2))
		}
		return s
	}
	same := func(_, text string) string { return text }

	s := prod("evidence: a validation report outside the allowed locations fails", "", func(m, text string) string {
		return WithReport(text, "https://reports.example.org/", m, V2, "")
	})
	add(s, evaluate.VerdictFail, "validation.report: ", "https://reports.example.org/")

	s = prod("evidence: a report under an allowed location with its digest passes", "    requireValidationReport: true\n", func(m, text string) string {
		return WithReport(text, ReportsLocation, m, V2, ReportDigest)
	})
	add(s, evaluate.VerdictPass, "the validation report is under an allowed location, with sha256 5d41402abc4b")

	s = prod("evidence: prod requires a validation report", "    requireValidationReport: true\n", same)
	add(s, evaluate.VerdictFail, "validation.report is missing; prod requires a validation report and its digest")

	s = prod("evidence: prod requires the report's digest", "    requireValidationReport: true\n", func(m, text string) string {
		return WithReport(text, ReportsLocation, m, V2, "")
	})
	add(s, evaluate.VerdictFail, "validation.reportSha256 is missing; prod requires the digest of the validation report")

	s = prod("sbom: prod requires an SBOM", "    requireSBOM: true\n", same)
	add(s, evaluate.VerdictFail, "sbom is missing; prod requires the model's SBOM (sbom.uri and sbom.sha256)")

	s = prod("sbom: an SBOM under an allowed location passes", "    requireSBOM: true\n", func(m, text string) string {
		return WithSBOM(text, ReportsLocation, m, V2)
	})
	add(s, evaluate.VerdictPass, "the SBOM is under an allowed location, with sha256 7e240de74fb1")

	s = prod("sbom: an SBOM outside the allowed locations fails", "", func(m, text string) string {
		return WithSBOM(text, "https://sboms.example.org/", m, V2)
	})
	add(s, evaluate.VerdictFail, "sbom.uri: ", "https://sboms.example.org/")

	s = prod("rollbackReady: a promotion names its rollback target and command", "    requireRollbackReady: true\n", same)
	add(s, evaluate.VerdictPass, "rollback target: version 2026.11.06-1 of elasticnet-ndx",
		"`promobot rollback --model elasticnet-ndx --env prod --to-version 2026.11.06-1`")

	s = prod("rollbackReady: an incumbent that is not a valid manifest fails", "    requireRollbackReady: true\n", same)
	s.Base[ManifestPath("prod", Forecaster)] = Replace(Manifest("prod", Forecaster, V1), "kind: ModelDeployment\n", "kind: ModelDeployment\nunknownField: 1\n")
	add(s, evaluate.VerdictFail, "the incumbent version 2026.11.06-1 of elasticnet-ndx in prod is not a usable rollback target")

	s = Sample("rollbackReady: a first pin is exempt")
	s.Base[".github/promobot.yaml"] = EvidencePolicy("    requireRollbackReady: true\n")
	delete(s.Base, ManifestPath("prod", Unbundled))
	s.Head = Promote("prod", V2, Unbundled)
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictPass, "first pin of lasso-spx in prod (nothing is pinned there at the base): there is no rollback target, so this change is exempt from rollback readiness")

	return out
}
