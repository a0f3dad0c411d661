package evaluate

import (
	"fmt"

	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/policy"
)

// familySBOM judges the software bill of materials a manifest names: it lies
// under an allowed location, it is present where the environment requires
// one, and where the environment verifies artifacts the caller's reading
// of it matches its digest and is SPDX 2.3 or CycloneDX 1.5+ JSON.
var familySBOM = RuleFamily{
	Name:  policy.FamilySBOM,
	Needs: NeedManifest | NeedStorage,
	Rules: []Rule{{ID: "sbom", Pin: true}, {ID: "sbom-verified"}},
	stage: stageArtifact,
	check: (*evaluation).checkSBOM,
}

// checkSBOM applies the SBOM rules to one manifest.
func (e *evaluation) checkSBOM(c *fileCheck) {
	f := c.f
	s := f.head.Manifest.SBOM
	switch {
	case s == nil && c.declared && c.env.RequireSBOM:
		e.add(f, policy.FamilySBOM, "sbom", StatusFail, fmt.Sprintf("sbom is missing; %s requires the model's SBOM (sbom.uri and sbom.sha256)", c.env.Name))
		return
	case s == nil:
		e.add(f, policy.FamilySBOM, "sbom", StatusSkip, "no SBOM is named, and "+notRequired(c, "one"))
		return
	case s.URI == "" || s.SHA256 == "":
		e.add(f, policy.FamilySBOM, "sbom", StatusFail, "sbom needs both uri and sha256", "sbom")
		return
	}
	a := e.pol.Artifacts
	if _, err := location.Check(s.URI, a.AllowedLocations, a.AllowLocal); err != nil {
		e.add(f, policy.FamilySBOM, "sbom", StatusFail, "sbom.uri: "+err.Error(), "sbom", "uri")
		return
	}
	e.add(f, policy.FamilySBOM, "sbom", StatusPass, fmt.Sprintf("the SBOM is under an allowed location, with sha256 %s", shortDigest(s.SHA256)), "sbom", "uri")
	if e.pin || !c.declared || !c.env.VerifyArtifacts {
		return
	}
	e.judgeReading(c, policy.FamilySBOM, "sbom-verified", "SBOM", e.in.SBOMs, "sbom", "sha256")
}
