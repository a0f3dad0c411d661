package validate

import (
	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// checkLocation applies the policy's location allowlist to the URIs a
// decoded manifest names, with the same check the engine applies to a
// change: the artifact under the location family's mode, the validation
// report under the evidence family's and the SBOM under the sbom family's.
// A refused URI is an error when its family is enforced, a warning when it
// warns, and not reported when it is off. allowed is the policy's
// allowlist, parsed once for every manifest.
func checkLocation(d *manifest.Document, pol *policy.Policy, allowed location.Allowlist) []diag.Problem {
	m := d.Manifest
	if m == nil {
		return nil
	}
	var out []diag.Problem
	check := func(fam policy.Family, uri, prefix string, field ...string) {
		mode := pol.Mode(fam)
		if mode == policy.Off || uri == "" {
			return // the schema reports a missing required URI
		}
		if _, err := allowed.Check(uri); err != nil {
			p := d.Problem(prefix+err.Error(), field...)
			if mode == policy.Warn {
				p.Severity = diag.Warning
			}
			out = append(out, p)
		}
	}
	check(policy.FamilyLocation, m.Artifact.URI, "", "artifact", "uri")
	check(policy.FamilyEvidence, m.Validation.Report, "validation.report: ", "validation", "report")
	if m.SBOM != nil {
		check(policy.FamilySBOM, m.SBOM.URI, "sbom.uri: ", "sbom", "uri")
	}
	return out
}
