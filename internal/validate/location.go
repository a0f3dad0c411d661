package validate

import (
	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// checkLocations applies the policy's artifact location allowlist to every
// decoded manifest, with the same check the engine's location rule applies
// to a change, under the policy's mode for the location family: a refused
// URI is an error when the family is enforced, a warning when it warns, and
// not reported when it is off.
func checkLocations(docs []*manifest.Document, pol *policy.Policy) []diag.Problem {
	mode := pol.Mode(policy.FamilyLocation)
	if mode == policy.Off {
		return nil
	}
	a := pol.Artifacts
	var out []diag.Problem
	for _, d := range docs {
		uri := d.Manifest.Artifact.URI
		if uri == "" {
			continue // the schema reports a missing URI
		}
		if _, err := location.Check(uri, a.AllowedLocations, a.AllowLocal); err != nil {
			p := d.Problem(err.Error(), "artifact", "uri")
			if mode == policy.Warn {
				p.Severity = diag.Warning
			}
			out = append(out, p)
		}
	}
	return out
}
