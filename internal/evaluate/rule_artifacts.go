package evaluate

import (
	"fmt"

	"github.com/example-org/promobot/internal/policy"
)

// familyArtifacts reports the caller's verification of the artifact's
// bytes, a change-only rule since the caller reads them, and requires a
// signature where the environment asks for one. A manifest that does not
// decode fails it under the ID "artifacts".
var familyArtifacts = RuleFamily{
	Name:  policy.FamilyArtifacts,
	Needs: NeedManifest | NeedStorage,
	Rules: []Rule{{ID: "artifact"}, {ID: "signature", Pin: true}, {ID: "artifacts"}},
	stage: stageArtifact,
	check: (*evaluation).checkArtifact,
}

// checkArtifact reports the caller's artifact verification and the
// signature requirement.
func (e *evaluation) checkArtifact(c *fileCheck) {
	f, env, declared := c.f, c.env, c.declared
	check, ok := e.in.Artifacts[f.path]
	switch {
	case !ok && declared && env.VerifyArtifacts:
		// The policy requires the bytes to be read before merge: an
		// evaluation that did not read them fails closed.
		e.add(f, policy.FamilyArtifacts, "artifact", StatusFail, fmt.Sprintf("could not verify artifact: %s requires the artifact to be read and hashed before merge, and this evaluation did not read it", env.Name), "artifact")
	case !ok:
		e.add(f, policy.FamilyArtifacts, "artifact", StatusSkip, "artifact not verified in this evaluation", "artifact")
	case check.Unavailable:
		e.add(f, policy.FamilyArtifacts, "artifact", StatusFail, "could not verify artifact: "+check.Detail, "artifact")
	case !check.Verified:
		e.add(f, policy.FamilyArtifacts, "artifact", StatusFail, "artifact verification failed: "+check.Detail, "artifact")
	default:
		e.add(f, policy.FamilyArtifacts, "artifact", StatusPass, "artifact verified: "+check.Detail, "artifact")
	}
	if !declared || !env.RequireSignature {
		return
	}
	if f.head.Manifest.Artifact.Signature == "" {
		e.add(f, policy.FamilyArtifacts, "signature", StatusFail, fmt.Sprintf("artifact.signature is missing; %s requires signed artifacts", env.Name), "artifact")
		return
	}
	e.add(f, policy.FamilyArtifacts, "signature", StatusPass, "artifact.signature is present", "artifact", "signature")
}
