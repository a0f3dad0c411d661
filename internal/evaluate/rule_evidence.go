package evaluate

import (
	"fmt"

	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/policy"
)

// familyEvidence judges the validation report a manifest names: it lies
// under an allowed location, it and its digest are present where the
// environment requires a report, and where the environment verifies
// artifacts the caller's reading of it matches its digest.
var familyEvidence = RuleFamily{
	Name:  policy.FamilyEvidence,
	Needs: NeedManifest | NeedStorage,
	Rules: []Rule{{ID: "evidence", Pin: true}, {ID: "report-verified"}},
	stage: stageArtifact,
	check: (*evaluation).checkEvidence,
}

// checkEvidence applies the evidence rules to one manifest.
func (e *evaluation) checkEvidence(c *fileCheck) {
	f := c.f
	v := f.head.Manifest.Validation
	required := c.declared && c.env.RequireValidationReport
	switch {
	case v.Report == "" && required:
		e.add(f, policy.FamilyEvidence, "evidence", StatusFail, fmt.Sprintf("validation.report is missing; %s requires a validation report and its digest", c.env.Name), "validation")
		return
	case v.Report == "":
		e.add(f, policy.FamilyEvidence, "evidence", StatusSkip, "no validation report is named, and "+notRequired(c, "a validation report"))
		return
	}
	a := e.pol.Artifacts
	if _, err := location.Check(v.Report, a.AllowedLocations, a.AllowLocal); err != nil {
		e.add(f, policy.FamilyEvidence, "evidence", StatusFail, "validation.report: "+err.Error(), "validation", "report")
		return
	}
	switch {
	case v.ReportSHA256 == "" && required:
		e.add(f, policy.FamilyEvidence, "evidence", StatusFail, fmt.Sprintf("validation.reportSha256 is missing; %s requires the digest of the validation report", c.env.Name), "validation", "report")
		return
	case v.ReportSHA256 == "":
		e.add(f, policy.FamilyEvidence, "evidence", StatusPass, "the validation report is under an allowed location (no digest given)", "validation", "report")
	default:
		e.add(f, policy.FamilyEvidence, "evidence", StatusPass, fmt.Sprintf("the validation report is under an allowed location, with sha256 %s", shortDigest(v.ReportSHA256)), "validation", "report")
	}
	if e.pin || !c.declared || !c.env.VerifyArtifacts {
		return
	}
	if v.ReportSHA256 == "" {
		e.add(f, policy.FamilyEvidence, "report-verified", StatusSkip, "validation.reportSha256 is not set, so the report's bytes are not checked", "validation", "report")
		return
	}
	e.judgeReading(c, policy.FamilyEvidence, "report-verified", "validation report", e.in.Reports, "validation", "reportSha256")
}

// notRequired says that the file's environment does not require what, or
// that it is not declared.
func notRequired(c *fileCheck, what string) string {
	if !c.declared {
		return fmt.Sprintf("environment %q is not declared, so nothing requires %s", c.f.env, what)
	}
	return fmt.Sprintf("%s does not require %s", c.env.Name, what)
}
