package evaltest

import (
	"github.com/example-org/promobot/internal/evaluate"
)

// ExceptionLabel is the metric exception label of GatedPolicy.
const ExceptionLabel = "metric-exception"

// GatedPolicy is the sample policy with prod's metric gates (rmse and r2 of
// the unbundled model and the forecaster: bounds, and no regression against
// the incumbent with a tolerance), a governed exception label and a
// required rationale. r2Tolerance is the absolute tolerance of the r2 gate.
func GatedPolicy(r2Min, r2Tolerance string) string {
	return Replace(Policy, "    requireSignature: true\n", `    requireSignature: true
    metricGates:
      rmse:
        models: [lasso-spx, elasticnet-ndx]
        max: 0.0135
        incumbent: {better: lower, tolerance: {relative: 0.02}}
      r2:
        models: [lasso-spx, elasticnet-ndx]
        min: `+r2Min+`
        incumbent: {better: higher, tolerance: {absolute: `+r2Tolerance+`}}
    metricGateExceptions:
      label: `+ExceptionLabel+`
    requireRationale:
      minLength: 20
`)
}

// tierRationale puts the unbundled model in a risk tier that requires, in
// prod, a rationale of at least 80 characters; the other models' tier
// requires none.
const tierRationale = `riskTiers:
  high:
    environments:
      prod: {requireRationale: {minLength: 80}}
  standard:
    environments:
      prod: {approvals: 2}
models:
  lasso-spx: {tier: high}
  elasticnet-ndx: {tier: standard}
  elasticnet-ndx-threshold: {tier: standard}
`

// Rationale is the rationale of the gate scenarios' promotions.
const Rationale = "Lower rmse on the November window; r2 dips within noise."

// WithRationale returns a manifest of an environment with a ticket, with
// approval.rationale set to r.
func WithRationale(m, r string) string {
	return Replace(m, "\nnotes:", "\n  rationale: "+r+"\nnotes:")
}

// gatedPromotion promotes the unbundled model from test to prod (r2 drops
// from 0.5745 to 0.5667, rmse improves from 0.0131 to 0.0126) under
// GatedPolicy, with a rationale and the two owners' approvals.
func gatedPromotion(name, r2Min, r2Tolerance string) Scenario {
	s := Sample(name)
	s.Base[".github/promobot.yaml"] = GatedPolicy(r2Min, r2Tolerance)
	s.Head = map[string]string{ManifestPath("prod", Unbundled): WithRationale(Manifest("prod", Unbundled, V2), Rationale)}
	s.Reviews = Approve("mara", "rita")
	return s
}

func gateScenarios() []Scenario {
	var out []Scenario
	add := func(s Scenario, verdict evaluate.Verdict, messages ...string) {
		s.WantVerdict = verdict
		s.WantMessages = append(s.WantMessages, messages...)
		out = append(out, s)
	}
	prod := ManifestPath("prod", Unbundled)

	s := gatedPromotion("metrics: within the bounds and a regression within the tolerance pass", "0.55", "0.01")
	add(s, evaluate.VerdictPass, "PASS: all rules pass, 2/2 approvals",
		"Rationale for lasso-spx in prod: "+Rationale,
		"Metric gates of lasso-spx in prod:",
		"r2 0.5667 meets >= 0.55, >= incumbent - 0.01",
		"rmse 0.0126 meets <= 0.0135, <= incumbent + 2%")

	s = gatedPromotion("metrics: a regression beyond the tolerance fails", "0.55", "0.005")
	add(s, evaluate.VerdictFail,
		"r2 0.5667 is worse than the incumbent 2026.11.06-1's 0.5745 beyond the tolerance (limit 0.5695); add the label metric-exception to override the gate with 2 governance approvals")

	s = gatedPromotion("metrics: a value below the minimum fails", "0.57", "0.01")
	add(s, evaluate.VerdictFail, "r2 0.5667 is below the minimum 0.57")

	s = gatedPromotion("metrics: an exception names each failed bound of the gates it overrides", "0.57", "0.005")
	s.Base[".github/promobot.yaml"] = Replace(GatedPolicy("0.57", "0.005"), "        max: 0.0135\n", "        max: 0.012\n")
	s.Labels = []string{ExceptionLabel}
	s.Reviews = Approve("mara", "rita", "pat")
	add(s, evaluate.VerdictFail, "Overridden by the label metric-exception: r2, rmse; governance approvals 1/2 by @pat:",
		"r2 (min): candidate 0.5667, bound 0.57",
		"r2 (incumbent): candidate 0.5667, bound 0.5695 (incumbent 0.5745)",
		"rmse (max): candidate 0.0126, bound 0.012")

	s = gatedPromotion("metrics: a gated metric the candidate lacks fails", "0.55", "0.01")
	s.Base[".github/promobot.yaml"] = Replace(GatedPolicy("0.55", "0.01"), "    metricGateExceptions:", "      sharpe:\n        min: 1\n    metricGateExceptions:")
	add(s, evaluate.VerdictFail, "version 2026.11.13-2 of lasso-spx does not report sharpe, which prod gates")

	s = gatedPromotion("metrics: a metric the incumbent lacks is skipped with a note", "0.55", "0.005")
	s.Base[prod] = Replace(Manifest("prod", Unbundled, V1), "  r2: 0.5745\n", "")
	add(s, evaluate.VerdictPass, "the incumbent 2026.11.06-1 does not report r2, so the comparison is skipped")

	s = gatedPromotion("metrics: a gate names the models it applies to", "0.55", "0.01")
	s.Head = Promote("prod", V2, Forecaster, Calibrator)
	for p, m := range s.Head {
		s.Head[p] = WithRationale(m, Rationale)
	}
	add(s, evaluate.VerdictPass, "no metric gate of prod applies to elasticnet-ndx-threshold")

	s = gatedPromotion("metrics: a rollback is exempt from the incumbent comparison", "0.55", "0.005")
	s.Head = map[string]string{prod: WithRationale(Manifest("prod", Unbundled, V0), "Roll back to October, the November retrain misprices gaps.")}
	add(s, evaluate.VerdictPass, "r2 0.5509 meets >= 0.55, >= incumbent - 0.005 (a rollback is exempt from the incumbent comparison)")

	s = gatedPromotion("metrics: a rollback still respects the absolute bounds", "0.552", "0.005")
	s.Head = map[string]string{prod: WithRationale(Manifest("prod", Unbundled, V0), "Roll back to October, the November retrain misprices gaps.")}
	add(s, evaluate.VerdictFail, "r2 0.5509 is below the minimum 0.552")

	s = gatedPromotion("metrics: an exception without governance approvals fails", "0.55", "0.005")
	s.Labels = []string{ExceptionLabel}
	add(s, evaluate.VerdictFail,
		"overridden by the label metric-exception, so 2 governance approvals from the owners of .github/promobot.yaml are needed besides prod's own 2",
		"FAIL: metric gates of prod are overridden: needs 2 more governance approvals from @example-org/platform-admins (owners of .github/promobot.yaml) for environments/prod/lasso-spx.yaml",
		"governance: 0/2 (metric-exception, owners of .github/promobot.yaml, 2 missing)",
		"Overridden by the label metric-exception: r2; no governance approval yet (0/2)")

	s = gatedPromotion("metrics: an exception with governance approvals passes", "0.55", "0.005")
	s.Labels = []string{ExceptionLabel}
	s.Reviews = Approve("mara", "rita", "pat", "paula")
	add(s, evaluate.VerdictPass, "PASS: all rules pass, 2/2 approvals, 2/2 governance approvals",
		"overridden: r2 0.5667 is worse than the incumbent",
		"Overridden by the label metric-exception: r2; governance approvals 2/2 by @pat, @paula:",
		"r2 (incumbent): candidate 0.5667, bound 0.5695 (incumbent 0.5745)")

	s = gatedPromotion("metrics: warn mode reports a regression without blocking", "0.55", "0.005")
	s.Base[".github/promobot.yaml"] = GatedPolicy("0.55", "0.005") + "rules:\n  metrics: warn\n"
	add(s, evaluate.VerdictPass, "warn  metrics", "r2 0.5667 is worse than the incumbent")

	s = gatedPromotion("rationale: prod requires a rationale", "0.55", "0.01")
	s.Head[prod] = Manifest("prod", Unbundled, V2)
	add(s, evaluate.VerdictFail, "approval.rationale is missing; prod requires a rationale of at least 20 characters")

	s = gatedPromotion("rationale: a short rationale fails", "0.55", "0.01")
	s.Head[prod] = WithRationale(Manifest("prod", Unbundled, V2), "Looks fine.")
	add(s, evaluate.VerdictFail, "approval.rationale has 11 characters; prod requires at least 20")

	s = gatedPromotion("rationale: a rationale copied along with the manifest does not count", "0.55", "0.01")
	s.Base[ManifestPath("test", Unbundled)] = WithRationale(Manifest("test", Unbundled, V2), Rationale)
	add(s, evaluate.VerdictFail, "approval.rationale is the one environments/test/lasso-spx.yaml pins at the base, copied along with the manifest")

	s = gatedPromotion("rationale: a risk tier raises the environment's minimum length", "0.55", "0.01")
	s.Base[".github/promobot.yaml"] = GatedPolicy("0.55", "0.01") + tierRationale
	add(s, evaluate.VerdictFail,
		"risk tier high applies to lasso-spx (declared in the policy): prod needs a rationale of at least 80 characters",
		"approval.rationale has 56 characters; prod requires at least 80")

	s = Sample("rationale: a risk tier requires a rationale where the environment does not")
	s.Base[".github/promobot.yaml"] = Policy + tierRationale
	s.Head = map[string]string{prod: Manifest("prod", Unbundled, V2)}
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictFail, "approval.rationale is missing; prod requires a rationale of at least 80 characters")

	s = Sample("rationale: a risk tier's rationale applies only to its models")
	s.Base[".github/promobot.yaml"] = Policy + tierRationale
	s.Head = Promote("prod", V2, Forecaster, Calibrator)
	s.Reviews = Approve("mara", "rita")
	add(s, evaluate.VerdictPass, "prod does not require a rationale")

	s = gatedPromotion("rationale: an edit must bring its own rationale", "0.55", "0.01")
	s.Base[prod] = WithRationale(Manifest("prod", Unbundled, V1), Rationale)
	s.Head[prod] = Replace(s.Base[prod], "notes: Sample", "notes: Edited sample")
	add(s, evaluate.VerdictFail, "approval.rationale is the one environments/prod/lasso-spx.yaml pins at the base")
	return out
}
