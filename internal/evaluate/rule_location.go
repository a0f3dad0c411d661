package evaluate

import (
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/policy"
)

// familyLocation requires the artifact URI to be under an allowed location.
var familyLocation = RuleFamily{
	Name:  policy.FamilyLocation,
	Needs: NeedManifest,
	Rules: []Rule{{ID: "location", Pin: true}},
	stage: stageArtifact,
	check: (*evaluation).checkLocation,
}

func (e *evaluation) checkLocation(c *fileCheck) {
	f := c.f
	a := e.pol.Artifacts
	if _, err := location.Check(f.head.Manifest.Artifact.URI, a.AllowedLocations, a.AllowLocal); err != nil {
		e.add(f, policy.FamilyLocation, "location", StatusFail, err.Error(), "artifact", "uri")
		return
	}
	e.add(f, policy.FamilyLocation, "location", StatusPass, "the artifact URI is under an allowed location", "artifact", "uri")
}
