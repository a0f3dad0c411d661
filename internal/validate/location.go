package validate

import (
	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// checkLocation applies the policy's artifact location allowlist to a
// decoded manifest, with the same check the engine's location rule applies
// to a change, under the policy's mode for the location family: a refused
// URI is an error when the family is enforced, a warning when it warns, and
// not reported when it is off.
func checkLocation(d *manifest.Document, pol *policy.Policy) []diag.Problem {
	mode := pol.Mode(policy.FamilyLocation)
	if mode == policy.Off || d.Manifest == nil {
		return nil
	}
	uri := d.Manifest.Artifact.URI
	if uri == "" {
		return nil // the schema reports a missing URI
	}
	a := pol.Artifacts
	if _, err := location.Check(uri, a.AllowedLocations, a.AllowLocal); err != nil {
		p := d.Problem(err.Error(), "artifact", "uri")
		if mode == policy.Warn {
			p.Severity = diag.Warning
		}
		return []diag.Problem{p}
	}
	return nil
}
