package evaluate

import (
	"fmt"

	"github.com/example-org/promobot/internal/policy"
)

// familyRollbackReady requires, where the environment asks for it, that
// the version a change replaces (the incumbent, its rollback target) is
// still resolvable: its manifest at the base is intact and, where the
// environment verifies artifacts, the caller read its bytes with the
// pinned digest. The summary names the target and the command that
// restores it; a first pin has no target and is exempt.
var familyRollbackReady = RuleFamily{
	Name:  policy.FamilyRollbackReady,
	Needs: NeedManifest | NeedStorage,
	Rules: []Rule{{ID: "rollbackReady"}, {ID: "rollback-verified"}},
	stage: stageRequirements,
	check: (*evaluation).checkRollbackReady,
}

// RollbackCommand is the command that restores version of model in env.
func RollbackCommand(model, env, version string) string {
	return fmt.Sprintf("promobot rollback --model %s --env %s --to-version %s", model, env, version)
}

// checkRollbackReady applies the rollback readiness rules to one manifest.
func (e *evaluation) checkRollbackReady(c *fileCheck) {
	f, env := c.f, c.env
	m := f.head.Manifest
	switch {
	case !env.RequireRollbackReady:
		e.add(f, policy.FamilyRollbackReady, "rollbackReady", StatusSkip, fmt.Sprintf("%s does not require rollback readiness", env.Name))
		return
	case f.kind == KindEdit:
		e.add(f, policy.FamilyRollbackReady, "rollbackReady", StatusSkip, fmt.Sprintf("version %s of %s stays pinned in %s, so there is no cutover to roll back", m.Version, f.model, f.env))
		return
	case f.base == nil:
		e.add(f, policy.FamilyRollbackReady, "rollbackReady", StatusPass, fmt.Sprintf("first pin of %s in %s (nothing is pinned there at the base): there is no rollback target, so this change is exempt from rollback readiness", f.model, f.env), "version")
		return
	}
	in := f.base.Manifest
	switch {
	case in == nil:
		e.add(f, policy.FamilyRollbackReady, "rollbackReady", StatusFail, fmt.Sprintf("the incumbent manifest %s does not decode at the base, so there is no rollback target", f.path), "version")
		return
	case !f.base.Valid:
		why := "it does not pass the base schema"
		if len(f.base.Problems) > 0 {
			why += ": " + f.base.Problems[0].Message
		}
		e.add(f, policy.FamilyRollbackReady, "rollbackReady", StatusFail, fmt.Sprintf("the incumbent version %s of %s in %s is not a usable rollback target: %s", in.Version, f.model, f.env, why), "version")
		return
	case in.Version == "" || in.Artifact.URI == "" || in.Artifact.SHA256 == "":
		e.add(f, policy.FamilyRollbackReady, "rollbackReady", StatusFail, fmt.Sprintf("the incumbent manifest of %s in %s lacks a version, artifact.uri or artifact.sha256, so there is no rollback target", f.model, f.env), "version")
		return
	}
	e.add(f, policy.FamilyRollbackReady, "rollbackReady", StatusPass, fmt.Sprintf("rollback target: version %s of %s (sha256 %s); to roll back run `%s`",
		in.Version, f.model, shortDigest(in.Artifact.SHA256), RollbackCommand(f.model, f.env, in.Version)), "version")
	if !env.VerifyArtifacts {
		return
	}
	e.judgeReading(c, policy.FamilyRollbackReady, "rollback-verified", fmt.Sprintf("rollback target's artifact (version %s)", in.Version), e.in.Incumbents, "version")
}
