package evaltest

import (
	"github.com/example-org/promobot/internal/evaluate"
)

// Scenarios returns the scenario table: every rule of the policy engine,
// passing and failing, as plain data.
func Scenarios() []Scenario {
	return append(append(append(append(ruleScenarios(), evidenceScenarios()...), approvalScenarios()...), ownerScenarios()...), gateScenarios()...)
}

// prodPromotion is the bundle moving from test to prod with two owners'
// approvals: the scenario every prod variation starts from.
func prodPromotion(name string) Scenario {
	s := Sample(name)
	s.Head = Promote("prod", V2, Forecaster, Calibrator)
	s.Reviews = Approve("mara", "rita")
	return s
}

// modeSet returns the sample policy with a rules section setting one
// family's mode.
func modeSet(family, mode string) string {
	return Policy + "rules:\n  " + family + ": " + mode + "\n"
}

func ruleScenarios() []Scenario {
	var out []Scenario
	add := func(s Scenario, verdict evaluate.Verdict, messages ...string) {
		s.WantVerdict = verdict
		s.WantMessages = append(s.WantMessages, messages...)
		out = append(out, s)
	}

	s := Sample("no gated files")
	s.Head["README.md"] = "# Models\n\nNow with more words.\n"
	add(s, evaluate.VerdictPass, "PASS: no promotion changes")

	s = Sample("gated and ungated files: only the gated one needs approvals")
	s.Head = Merge(Promote("dev", V4, Forecaster, Calibrator), map[string]string{"README.md": "changed\n"})
	s.WantAbsent = []string{"README.md"}
	add(s, evaluate.VerdictPass, "all rules pass, no approvals needed", "register")

	s = prodPromotion("promote the bundle from test to prod with two owner approvals")
	add(s, evaluate.VerdictPass, "PASS: all rules pass, 2/2 approvals",
		"version 2026.11.13-2 of elasticnet-ndx is pinned in test with the same artifact and lineage",
		"promote", "2026.11.06-1 -> 2026.11.13-2", "from test", "change ticket CHG-4")

	s = Sample("register a new version in dev needs no approval")
	s.Head = Promote("dev", V4, Forecaster, Calibrator)
	add(s, evaluate.VerdictPass, "no approvals needed for environments/dev/elasticnet-ndx.yaml", "dev is where versions are registered")

	s = Sample("promote from dev to test with a validator's approval")
	for _, m := range []string{Forecaster, Calibrator} {
		s.Head[ManifestPath("test", m)] = ManifestWith("test", m, V3, "passed", "")
	}
	s.Reviews = Approve("val")
	add(s, evaluate.VerdictPass, "all rules pass, 1/1 approvals", "validation passed")

	s = Sample("order: a version must be in the source environment first")
	s.Head = Promote("prod", V3, Forecaster, Calibrator)
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "version 2026.11.20-1 of elasticnet-ndx is not in test; promote it to test first (test pins 2026.11.13-2)")

	s = Sample("order: the source must pin the same artifact")
	s.Head = Promote("prod", V2, Forecaster, Calibrator)
	s.Head[ManifestPath("prod", Forecaster)] = Replace(Manifest("prod", Forecaster, V2), "/model.pkl", "/model-retrained.pkl")
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "version 2026.11.13-2 of elasticnet-ndx is not in test with the same artifact; promote it to test first",
		"differs from its pin in environments/test/elasticnet-ndx.yaml (artifact)")

	s = Sample("rollback to a version pinned in prod before, with its dates")
	s.Head = Promote("prod", V0, Forecaster, Calibrator)
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictPass, "rollback to 2026.10.30-1, pinned in prod from 2026-11-02 to 2026-11-10",
		"rollback", "2026.11.06-1 -> 2026.10.30-1")

	s = Sample("rollback needs the same approvals as any prod change")
	s.Head = Promote("prod", V0, Forecaster, Calibrator)
	s.Reviews = Approve("mara")
	add(s, evaluate.VerdictFail, "needs 1 more approval from @example-org/model-risk or @example-org/release-managers")

	s = Sample("rollback must restore the artifact that was pinned")
	s.Head = Promote("prod", V0, Forecaster, Calibrator)
	s.Head[ManifestPath("prod", Forecaster)] = Replace(Manifest("prod", Forecaster, V0), "trainingRun: azureml-run-", "trainingRun: rerun-")
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "version 2026.10.30-1 of elasticnet-ndx differs from its pin in environments/prod/elasticnet-ndx.yaml from 2026-11-02 to 2026-11-10 (lineage)")

	s = prodPromotion("immutability: metrics of a pinned version never change")
	s.Head = map[string]string{ManifestPath("prod", Unbundled): Replace(Manifest("prod", Unbundled, V1), "rmse: 0.0", "rmse: 0.9")}
	add(s, evaluate.VerdictFail, "version 2026.11.06-1 of lasso-spx differs from its pin in environments/prod/lasso-spx.yaml (metrics); a new artifact needs a new version")

	s = Sample("immutability: a new artifact under an existing version in dev")
	s.Head[ManifestPath("dev", Unbundled)] = Replace(Manifest("dev", Unbundled, V3), "size: 65536", "size: 70000")
	add(s, evaluate.VerdictFail, "version 2026.11.20-1 of lasso-spx differs from its pin in environments/dev/lasso-spx.yaml (artifact)")

	s = prodPromotion("an edit that keeps the version and its artifact is allowed")
	s.Head = map[string]string{ManifestPath("prod", Unbundled): Replace(Manifest("prod", Unbundled, V1), "notes: Sample", "notes: Edited sample")}
	add(s, evaluate.VerdictPass, "edit", "version 2026.11.06-1 of lasso-spx is unchanged in prod")

	s = Sample("validation: test requires passed")
	for _, m := range []string{Forecaster, Calibrator} {
		s.Head[ManifestPath("test", m)] = ManifestWith("test", m, V3, "pending", "")
	}
	s.Reviews = Approve("val")
	add(s, evaluate.VerdictFail, `validation.status is "pending"; test requires passed`)

	s = prodPromotion("ticket: prod requires a change ticket")
	s.Head[ManifestPath("prod", Forecaster)] = ManifestWith("prod", Forecaster, V2, "passed", "")
	add(s, evaluate.VerdictFail, "approval.ticket is missing; prod requires a change ticket matching CHG-[0-9]{3,7}")

	s = prodPromotion("ticket: the ticket must match the pattern")
	s.Head[ManifestPath("prod", Forecaster)] = ManifestWith("prod", Forecaster, V2, "passed", "CHG-12")
	add(s, evaluate.VerdictFail, `approval.ticket "CHG-12" does not match CHG-[0-9]{3,7}`)

	uri := "https://mlartifacts.blob.core.windows.net/models/lasso-spx/2026.11.27-1/model.pkl"
	for _, c := range []struct{ name, uri, want string }{
		{"location: an artifact outside the allowed locations", "https://evil.example.com/models/lasso-spx/model.pkl", "it is not under any allowed location"},
		{"location: user-info in the artifact URI", "https://user:secret@mlartifacts.blob.core.windows.net/models/x/model.pkl", "it contains user information"},
		{"location: dot-dot segments in the artifact URI", "https://mlartifacts.blob.core.windows.net/models/../private/model.pkl", `".." segment`},
		{"location: plain http is refused", "http://mlartifacts.blob.core.windows.net/models/lasso-spx/model.pkl", "plain http is not allowed; use https"},
	} {
		s = Sample(c.name)
		s.Head[ManifestPath("dev", Unbundled)] = Replace(Manifest("dev", Unbundled, V4), uri, c.uri)
		add(s, evaluate.VerdictFail, c.want)
	}

	s = Sample("lineage: test requires featureSet")
	s.Base[ManifestPath("dev", Unbundled)] = Replace(Manifest("dev", Unbundled, V3), "  featureSet: lasso-spx-features-v12\n", "")
	s.Head[ManifestPath("test", Unbundled)] = Replace(ManifestWith("test", Unbundled, V3, "passed", ""), "  featureSet: lasso-spx-features-v12\n", "")
	s.Reviews = Approve("vic")
	add(s, evaluate.VerdictFail, "lineage is missing featureSet, required in test")

	s = Sample("bundles: a model of a bundle cannot move alone")
	s.Head = Promote("prod", V2, Forecaster)
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "bundle ndx-forecast: elasticnet-ndx moves in prod but elasticnet-ndx-threshold does not")

	s = prodPromotion("freeze: prod does not change during a freeze window")
	s.Now = "2026-12-28T10:00:00Z"
	add(s, evaluate.VerdictFail, `prod is frozen for "year-end close" until 2027-01-04T00:00:00Z; add the label freeze-override to override it with 2 governance approvals`)

	s = prodPromotion("freeze: the override label adds the governance approvals of the policy's owners")
	s.Now = "2026-12-28T10:00:00Z"
	s.Labels = []string{"Freeze-Override"}
	add(s, evaluate.VerdictFail,
		"overridden by the label freeze-override, so 2 governance approvals from the owners of .github/promobot.yaml are needed besides prod's own 2",
		"FAIL: the freeze of prod is overridden: needs 2 more governance approvals from @example-org/platform-admins (owners of .github/promobot.yaml) for elasticnet-ndx-threshold and elasticnet-ndx in prod",
		"freeze override: also 0/2 governance approvals from owners of .github/promobot.yaml",
		"governance: 0/2 (freeze-override, owners of .github/promobot.yaml, 2 missing)")

	s = prodPromotion("freeze: the environment's owners alone cannot lift a freeze, however many approve")
	s.Now = "2026-12-28T10:00:00Z"
	s.Labels = []string{"freeze-override"}
	s.Reviews = Approve("mara", "mike", "rita", "rob")
	add(s, evaluate.VerdictFail, "needs 2 more governance approvals from @example-org/platform-admins (owners of .github/promobot.yaml)")

	s = prodPromotion("freeze: the governance owners alone cannot lift a freeze either")
	s.Now = "2026-12-28T10:00:00Z"
	s.Labels = []string{"freeze-override"}
	s.Reviews = Approve("pat", "paula")
	add(s, evaluate.VerdictFail, "needs 2 more approvals from @example-org/model-risk or @example-org/release-managers")

	s = prodPromotion("freeze: an overridden freeze passes with both counts")
	s.Now = "2026-12-28T10:00:00Z"
	s.Labels = []string{"freeze-override"}
	s.Reviews = Approve("mara", "rita", "pat", "paula")
	add(s, evaluate.VerdictPass, "all rules pass, 2/2 approvals, 2/2 governance approvals", "approved by: @pat, @paula")

	s = prodPromotion("freeze: one approval counts in both counts only for an owner of both")
	s.Base[".github/CODEOWNERS"] = Replace(CodeOwners, "/.github/                   @example-org/platform-admins",
		"/.github/                   @example-org/platform-admins @example-org/release-managers")
	s.Now = "2026-12-28T10:00:00Z"
	s.Labels = []string{"freeze-override"}
	s.Reviews = Approve("mara", "rita", "pat")
	add(s, evaluate.VerdictPass, "all rules pass, 2/2 approvals, 2/2 governance approvals", "approved by: @pat, @rita")

	s = prodPromotion("freeze: an approval by an owner of the environment only does not count for governance")
	s.Now = "2026-12-28T10:00:00Z"
	s.Labels = []string{"freeze-override"}
	s.Reviews = Approve("mara", "rita", "pat")
	add(s, evaluate.VerdictFail, "needs 1 more governance approval from @example-org/platform-admins (owners of .github/promobot.yaml)")

	s = prodPromotion("freeze: a window without an override label cannot be overridden")
	s.Base[".github/promobot.yaml"] = Replace(Policy, "        overrideLabel: freeze-override\n", "")
	s.Now = "2026-12-23T00:00:00Z"
	s.Labels = []string{"freeze-override"}
	add(s, evaluate.VerdictFail, `prod is frozen for "year-end close" until 2027-01-04T00:00:00Z; the window has no override label`)

	s = prodPromotion("freeze: the window ends before its end time")
	s.Now = "2027-01-04T00:00:00Z"
	add(s, evaluate.VerdictPass, "no freeze window of prod is in force")

	s = prodPromotion("freeze: with the family off, the label changes nothing")
	s.Base[".github/promobot.yaml"] = Replace(modeSet("freeze", "off"), "governance:\n  approvals: 2", "governance:\n  approvals: 3")
	s.Now = "2026-12-28T10:00:00Z"
	s.Labels = []string{"freeze-override"}
	add(s, evaluate.VerdictPass, "all rules pass, 2/2 approvals", "skip  freeze/freeze-override")

	s = Sample("freeze: other environments are not frozen")
	s.Now = "2026-12-28T10:00:00Z"
	s.Head = Promote("dev", V4, Forecaster, Calibrator)
	add(s, evaluate.VerdictPass, "all rules pass")

	s = Sample("rename: a removal plus an addition, each with its own rules")
	s.Deleted = []string{ManifestPath("dev", Unbundled)}
	s.Head[ManifestPath("dev", "lasso-ndx")] = Replace(Manifest("dev", Unbundled, V3), "model: lasso-spx", "model: lasso-ndx")
	add(s, evaluate.VerdictPass, "decommission", "2026.11.20-1 -> (removed)", "register", "environments/dev/lasso-spx.yaml: 0/0")

	s = Sample("decommission: removing a prod manifest needs prod approvals")
	s.Deleted = []string{ManifestPath("prod", Unbundled)}
	s.Reviews = Approve("mara")
	add(s, evaluate.VerdictFail, "decommission", "needs 1 more approval from @example-org/model-risk or @example-org/release-managers for environments/prod/lasso-spx.yaml")

	s = Sample("decommission: with two prod approvals it passes")
	s.Deleted = []string{ManifestPath("prod", Unbundled)}
	s.Reviews = Approve("mara", "rob")
	add(s, evaluate.VerdictPass, "all rules pass, 2/2 approvals")

	s = Sample("decommission: a bundle is decommissioned together")
	s.Deleted = []string{ManifestPath("test", Calibrator)}
	s.Reviews = Approve("val")
	add(s, evaluate.VerdictFail, "bundle ndx-forecast: elasticnet-ndx-threshold moves in test but elasticnet-ndx does not")

	s = Sample("environment: a manifest in an undeclared environment")
	s.Head[ManifestPath("staging", Unbundled)] = Manifest("staging", Unbundled, V3)
	s.Base[".github/CODEOWNERS"] = CodeOwners + "/environments/staging/  @example-org/platform-admins\n"
	s.Reviews = Approve("pat", "paula")
	add(s, evaluate.VerdictFail, `environment "staging" is not declared in .github/promobot.yaml (declared: dev, test, prod)`, "(governance, ok)")

	s = prodPromotion("schema: the head manifest is checked against the base schema")
	s.Head[ManifestPath("prod", Forecaster)] = Replace(Manifest("prod", Forecaster, V2), "  size: 65536\n", "  size: 65536\n  compression: zstd\n")
	add(s, evaluate.VerdictFail, "environments/prod/elasticnet-ndx.yaml:10:3", "compression")

	s = prodPromotion("schema: model and environment must match the path")
	s.Head[ManifestPath("prod", Forecaster)] = Replace(Manifest("prod", Forecaster, V2), "environment: prod", "environment: test")
	add(s, evaluate.VerdictFail, `environment "test" does not match the folder "prod"`)

	s = prodPromotion("schema: a file that is not YAML fails closed")
	s.Head[ManifestPath("prod", Forecaster)] = "{not yaml: ["
	add(s, evaluate.VerdictFail, "cannot check order: environments/prod/elasticnet-ndx.yaml is not a decodable manifest")

	s = Sample("schema: manifests must end in .yaml")
	s.Head["environments/dev/lasso-spx.yml"] = Manifest("dev", Unbundled, V4)
	add(s, evaluate.VerdictFail, "manifest files must end in .yaml, not .yml")

	s = prodPromotion("warn mode: a failing rule warns and does not block")
	s.Base[".github/promobot.yaml"] = modeSet("order", "warn")
	s.Head = Promote("prod", V3, Forecaster, Calibrator)
	add(s, evaluate.VerdictPass, "PASS: all rules pass (2 warnings), 2/2 approvals", "warn  order")

	s = prodPromotion("off mode: a family that is off is skipped")
	s.Base[".github/promobot.yaml"] = modeSet("ticket", "off")
	s.Head[ManifestPath("prod", Forecaster)] = ManifestWith("prod", Forecaster, V2, "passed", "")
	add(s, evaluate.VerdictPass, "PASS: all rules pass, 2/2 approvals", "skip  ticket", "approval.ticket is missing")

	s = Sample("policy: a missing base policy fails closed")
	delete(s.Base, ".github/promobot.yaml")
	s.Head = Promote("dev", V4, Forecaster, Calibrator)
	add(s, evaluate.VerdictFail, "the base branch has no valid policy .github/promobot.yaml; every promotion change fails closed")

	s = Sample("policy: a broken base policy fails closed")
	s.Base[".github/promobot.yaml"] = Replace(Policy, "approvals: 0", "approvals: none")
	s.Head = Promote("dev", V4, Forecaster, Calibrator)
	add(s, evaluate.VerdictFail, "the base policy .github/promobot.yaml is invalid", "every promotion change fails closed")

	s = Sample("policy: a broken base policy does not block ungated changes")
	s.Base[".github/promobot.yaml"] = "::: not yaml"
	s.Head["README.md"] = "changed\n"
	add(s, evaluate.VerdictPass, "no promotion changes")

	s = prodPromotion("artifacts: a verified artifact passes")
	s.Artifacts = map[string]evaluate.ArtifactCheck{
		ManifestPath("prod", Forecaster): {Verified: true, Detail: "size, sha256 and signature match"},
		ManifestPath("prod", Calibrator): {Verified: true, Detail: "size, sha256 and signature match"},
	}
	add(s, evaluate.VerdictPass, "artifact verified: size, sha256 and signature match")

	s = prodPromotion("artifacts: a digest mismatch fails")
	s.Artifacts = map[string]evaluate.ArtifactCheck{ManifestPath("prod", Forecaster): {Detail: "sha256 of the blob is 0000, the manifest says 3258"}}
	add(s, evaluate.VerdictFail, "artifact verification failed: sha256 of the blob is 0000", "artifact not verified in this evaluation")

	s = prodPromotion("artifacts: unreachable storage fails closed")
	s.Artifacts = map[string]evaluate.ArtifactCheck{ManifestPath("prod", Forecaster): {Unavailable: true, Detail: "storage answered 503"}}
	add(s, evaluate.VerdictFail, "could not verify artifact: storage answered 503")

	s = prodPromotion("artifacts: unreachable storage only warns in warn mode")
	s.Base[".github/promobot.yaml"] = modeSet("artifacts", "warn")
	s.Artifacts = map[string]evaluate.ArtifactCheck{ManifestPath("prod", Forecaster): {Unavailable: true, Detail: "storage answered 503"}}
	add(s, evaluate.VerdictPass, "all rules pass (1 warning)", "warn  artifacts/artifact")

	s = prodPromotion("artifacts: prod requires a signature")
	for _, m := range []string{Forecaster, Calibrator} {
		unsigned := func(env string) string {
			text := Manifest(env, m, V2)
			i := indexOf(text, "  signature: ")
			j := i + indexOf(text[i:], "\n") + 1
			return text[:i] + text[j:]
		}
		s.Base[ManifestPath("test", m)] = unsigned("test")
		s.Head[ManifestPath("prod", m)] = unsigned("prod")
	}
	add(s, evaluate.VerdictFail, "artifact.signature is missing; prod requires signed artifacts")

	return out
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	panic("evaltest: " + sub + " not found")
}
