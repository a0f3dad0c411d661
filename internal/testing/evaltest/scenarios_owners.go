package evaltest

import (
	"github.com/example-org/promobot/internal/evaluate"
)

// OwnersPolicy is the sample policy with field owners (validation and
// metrics belong to the validators) and risk tiers: the forecaster is high
// risk (three prod approvals and a ticket), the calibrator standard, and
// the unbundled model has no declared tier, so it gets the strictest.
const OwnersPolicy = Policy + `fieldOwners:
  - paths: ["validation.*", "metrics.*"]
    owners: ["@example-org/model-validators"]
riskTiers:
  high:
    environments:
      prod: {approvals: 3, requireTicket: true}
  standard:
    environments:
      prod: {approvals: 2}
models:
  elasticnet-ndx: {tier: high}
  elasticnet-ndx-threshold: {tier: standard}
`

// owned returns a sample scenario on OwnersPolicy.
func owned(name string) Scenario {
	s := Sample(name)
	s.Base[".github/promobot.yaml"] = OwnersPolicy
	return s
}

// validatedInDev is the unbundled model's dev manifest at V3 marked passed.
func validatedInDev() map[string]string {
	return map[string]string{ManifestPath("dev", Unbundled): ManifestWith("dev", Unbundled, V3, "passed", "")}
}

const validators = "@example-org/model-validators"

func ownerScenarios() []Scenario {
	var out []Scenario
	add := func(s Scenario, verdict evaluate.Verdict, messages ...string) {
		s.WantVerdict = verdict
		s.WantMessages = append(s.WantMessages, messages...)
		out = append(out, s)
	}

	s := owned("field owners: registering a version in dev, which needs no approvals, needs a validator for its metrics")
	s.Head = Promote("dev", V4, Unbundled)
	add(s, evaluate.VerdictFail,
		"environments/dev/lasso-spx.yaml changes metrics.mae, metrics.r2, metrics.rmse and validation.status, owned by "+validators+": needs 1 more approval from them")

	s = owned("field owners: a validator's approval lets a registration in dev through")
	s.Head = Promote("dev", V4, Unbundled)
	s.Reviews = Approve("val")
	add(s, evaluate.VerdictPass, "1/1 field owner approvals for metrics.mae, metrics.r2, metrics.rmse and validation.status of environments/dev/lasso-spx.yaml from "+validators+" (approved by @val)")

	s = owned("field owners: marking a version validated in dev needs a validator")
	s.Head = validatedInDev()
	s.Reviews = Approve("erin")
	add(s, evaluate.VerdictFail, "environments/dev/lasso-spx.yaml changes validation.status, owned by "+validators+": needs 1 more approval from them")

	s = owned("field owners: the registrant of a version cannot be the validator who approves it")
	s.History = append(History(), HistoryCommit{Date: "2026-11-15T10:00:00Z", Author: "vic",
		Files: map[string]string{ManifestPath("dev", Unbundled): Manifest("dev", Unbundled, V3)}})
	s.Head = validatedInDev()
	s.Reviews = Approve("vic")
	add(s, evaluate.VerdictFail,
		"needs 1 more approval from them (ignored @vic: registrant of lasso-spx 2026.11.20-1 (author and committer of commit")

	s = owned("field owners: another validator than the registrant counts")
	s.History = append(History(), HistoryCommit{Date: "2026-11-15T10:00:00Z", Author: "vic",
		Files: map[string]string{ManifestPath("dev", Unbundled): Manifest("dev", Unbundled, V3)}})
	s.Head = validatedInDev()
	s.Reviews = Approve("vic", "val")
	add(s, evaluate.VerdictPass, "(approved by @val; ignored @vic: registrant of lasso-spx 2026.11.20-1")

	s = owned("field owners: a promotion to test that passes validation needs a validator, who also owns test")
	s.Head = Promote("test", V3, Unbundled)
	s.Reviews = Approve("vic")
	add(s, evaluate.VerdictPass, "1/1 field owner approvals for validation.status of environments/test/lasso-spx.yaml")

	s = owned("field owners: an approval by an owner of the environment who is no validator does not count for validation")
	s.Base[".github/CODEOWNERS"] = Replace(CodeOwners, "/environments/test/         @example-org/model-validators", "/environments/test/         @example-org/ml-engineers")
	s.Head = Promote("test", V3, Unbundled)
	s.Reviews = Approve("erin")
	add(s, evaluate.VerdictFail, "1/1 approvals from owners of environments/test/lasso-spx.yaml",
		"environments/test/lasso-spx.yaml changes validation.status, owned by "+validators)

	s = owned("tiers: a model with no declared tier gets the strictest tier")
	s.Head = Promote("prod", V2, Unbundled)
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "risk tier high applies to lasso-spx (the strictest, since the policy declares no tier for lasso-spx): prod needs 3 approvals, a ticket",
		"needs 1 more approval from "+prodOwners+" for environments/prod/lasso-spx.yaml")

	s = owned("tiers: a high risk model needs three prod approvals, a standard one two")
	s.Head = Promote("prod", V2, Forecaster, Calibrator)
	s.Reviews = Approve("mara", "rita")
	s.WantAbsent = []string{"environments/prod/elasticnet-ndx-threshold.yaml needs"}
	add(s, evaluate.VerdictFail, "risk tier high applies to elasticnet-ndx (declared in the policy): prod needs 3 approvals, a ticket",
		"risk tier standard applies to elasticnet-ndx-threshold (declared in the policy): prod needs 2 approvals",
		"needs 1 more approval from "+prodOwners+" for environments/prod/elasticnet-ndx.yaml")

	s = owned("tiers: three prod approvals let a high risk model through")
	s.Head = Promote("prod", V2, Forecaster, Calibrator)
	s.Reviews = Approve("mara", "rita", "mike")
	add(s, evaluate.VerdictPass, "3/3 approvals from owners of environments/prod/elasticnet-ndx.yaml")

	s = owned("tiers: a test promotion keeps the environment's count when the tier names only prod")
	s.Head = Promote("test", V3, Forecaster, Calibrator)
	s.Reviews = Approve("vic")
	add(s, evaluate.VerdictPass, "risk tier high applies to elasticnet-ndx (declared in the policy): the environment's own requirements apply")

	s = owned("tiers: changing a model's tier is a policy change that needs governance approvals")
	s.Head = map[string]string{".github/promobot.yaml": OwnersPolicy + "  lasso-spx: {tier: standard}\n"}
	s.Reviews = Approve("pat")
	add(s, evaluate.VerdictFail, "needs 1 more approval from @example-org/platform-admins for .github/promobot.yaml")

	s = owned("tiers: with the tiers family off, the environments' own counts apply")
	s.Base[".github/promobot.yaml"] = OwnersPolicy + "rules:\n  tiers: off\n"
	s.Head = Promote("prod", V2, Unbundled)
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictPass, "2/2 approvals from owners of environments/prod/lasso-spx.yaml")
	return out
}
