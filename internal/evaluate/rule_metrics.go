package evaluate

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/example-org/promobot/internal/policy"
)

// familyMetrics judges a changed version's metrics against the
// environment's metric gates: absolute bounds, and no regression against
// the incumbent (the version the environment pins at the base) within a
// tolerance. Rollbacks are exempt from the incumbent comparison. A failing
// gate may be overridden by the environment's exception label, which adds
// the governance count from the owners of the policy file, as a freeze
// override does.
var familyMetrics = RuleFamily{
	Name:  policy.FamilyMetrics,
	Needs: NeedManifest | NeedLabels,
	Rules: []Rule{{ID: "metrics"}, {ID: "metric-exception"}},
	stage: stageRequirements,
	check: (*evaluation).checkMetrics,
}

// The verdicts of one metric gate in Promotion.Gates.
const (
	GatePass       = "pass"
	GateFail       = "fail"
	GateWarn       = "warn"
	GateOverridden = "overridden"
	GateSkip       = "skip"
)

// MetricGateResult is the outcome of one metric gate of a promotion, a row
// of the summary's gate table.
type MetricGateResult struct {
	// Metric is the gated metric.
	Metric string `json:"metric"`
	// Candidate is the changed version's value, nil when it lacks the
	// metric; Incumbent the value of the version it replaces, nil when
	// there is none or it lacks the metric.
	Candidate *float64 `json:"candidate"`
	Incumbent *float64 `json:"incumbent"`
	// Bound says what the candidate must satisfy, such as
	// "<= 0.013, <= 0.0126 (incumbent + 2%)".
	Bound string `json:"bound"`
	// Verdict is pass, fail, warn (a failure in warn mode), overridden (a
	// failure let through by the exception label) or skip (the family is
	// off).
	Verdict string `json:"verdict"`
	// Note explains a skipped comparison or a failure.
	Note string `json:"note,omitempty"`
}

// MetricException says that failing metric gates of a promotion were
// overridden.
type MetricException struct {
	// Label is the pull-request label that overrode them.
	Label string `json:"label"`
	// Gates are the overridden metrics, in gate order.
	Gates []string `json:"gates"`
	// Overridden are the bounds of those gates that failed: which gate
	// (min, max, incumbent, missing) with the candidate's and the bound's
	// values.
	Overridden []GateFailure `json:"overridden"`
	// Approvers are the governance approvers whose approval counted for
	// the exception, sorted; empty while it has none.
	Approvers []string `json:"approvers"`
}

// exceptionApprovers copies into each metric exception the governance
// approvers of its file, once the approvals are counted.
func (e *evaluation) exceptionApprovers() {
	for i := range e.res.Promotions {
		p := &e.res.Promotions[i]
		if p.Exception == nil {
			continue
		}
		p.Exception.Approvers = []string{}
		if g := exceptionApproval(e.res, *p); g != nil {
			p.Exception.Approvers = append(p.Exception.Approvers, g.Approvers...)
		}
	}
}

// GovernanceMetricException is the governance reason of a change whose
// failing metric gates are overridden by the environment's exception label.
const GovernanceMetricException = "metric-exception"

func (e *evaluation) checkMetrics(c *fileCheck) {
	f, env := c.f, c.env
	if len(env.MetricGates) == 0 {
		e.add(f, policy.FamilyMetrics, "metrics", StatusSkip, fmt.Sprintf("%s has no metric gates", env.Name))
		return
	}
	if f.kind == KindEdit {
		e.add(f, policy.FamilyMetrics, "metrics", StatusSkip, fmt.Sprintf("the version of %s in %s does not change, so its metric gates do not apply", f.model, env.Name))
		return
	}
	m := f.head.Manifest
	var incumbent map[string]float64
	incumbentVersion := ""
	if f.base != nil && f.base.Manifest != nil {
		incumbent, incumbentVersion = f.base.Manifest.Metrics, f.base.Manifest.Version
	}
	mode := e.pol.Mode(policy.FamilyMetrics)
	label := env.MetricExceptionLabel
	overriding := label != "" && e.hasLabel(label)
	var gates []MetricGateResult
	var overridden []string
	var failed []GateFailure
	applied := 0
	for _, g := range env.MetricGates {
		if !g.AppliesTo(f.model) {
			continue
		}
		applied++
		r := MetricGateResult{Metric: g.Metric, Bound: gateBound(g)}
		if v, ok := m.Metrics[g.Metric]; ok {
			r.Candidate = &v
		}
		if v, ok := incumbent[g.Metric]; ok && incumbentVersion != "" {
			r.Incumbent = &v
		}
		var base map[string]float64
		if incumbentVersion != "" {
			base = incumbent
		}
		failures := MetricGateFailures(g, m.Metrics, base, f.kind == KindRollback)
		var problems, notes []string
		for _, x := range failures {
			switch x.Gate {
			case GateMissing:
				problems = append(problems, fmt.Sprintf("version %s of %s does not report %s, which %s gates", m.Version, f.model, g.Metric, env.Name))
			case GateMin:
				problems = append(problems, fmt.Sprintf("%s %s is below the minimum %s", g.Metric, number(*x.Candidate), number(*x.Bound)))
			case GateMax:
				problems = append(problems, fmt.Sprintf("%s %s is above the maximum %s", g.Metric, number(*x.Candidate), number(*x.Bound)))
			case GateIncumbent:
				problems = append(problems, fmt.Sprintf("%s %s is worse than the incumbent %s's %s beyond the tolerance (limit %s)",
					g.Metric, number(*x.Candidate), incumbentVersion, number(*x.Incumbent), number(*x.Bound)))
			}
		}
		if g.Incumbent != nil {
			switch {
			case f.kind == KindRollback:
				notes = append(notes, "a rollback is exempt from the incumbent comparison")
			case incumbentVersion == "":
				notes = append(notes, fmt.Sprintf("%s pins no version of %s at the base, so there is no incumbent to compare with", env.Name, f.model))
			case r.Incumbent == nil:
				notes = append(notes, fmt.Sprintf("the incumbent %s does not report %s, so the comparison is skipped", incumbentVersion, g.Metric))
			}
		}
		r.Note = strings.Join(append(problems, notes...), "; ")
		status, id, msg := StatusPass, "metrics", ""
		switch {
		case len(problems) == 0:
			r.Verdict = GatePass
			msg = fmt.Sprintf("%s %s meets %s", g.Metric, formatMetric(r.Candidate), r.Bound)
			if len(notes) > 0 {
				msg += " (" + strings.Join(notes, "; ") + ")"
			}
		case overriding:
			r.Verdict, id = GateOverridden, "metric-exception"
			overridden = append(overridden, g.Metric)
			failed = append(failed, failures...)
			gov := e.pol.Governance.Approvals
			msg = fmt.Sprintf("%s; overridden by the label %s, so %d governance %s from the owners of %s are needed besides %s's own %d",
				strings.Join(problems, "; "), label, gov, plural(gov, "approval", "approvals"), policy.Path, env.Name, env.Approvals)
		default:
			status, r.Verdict = StatusFail, GateFail
			msg = strings.Join(problems, "; ")
			if label != "" {
				gov := e.pol.Governance.Approvals
				msg += fmt.Sprintf("; add the label %s to override the gate with %d governance %s", label, gov, plural(gov, "approval", "approvals"))
			}
		}
		switch mode {
		case policy.Off:
			r.Verdict = GateSkip
		case policy.Warn:
			if r.Verdict == GateFail {
				r.Verdict = GateWarn
			}
		}
		e.add(f, policy.FamilyMetrics, id, status, msg, "metrics", g.Metric)
		gates = append(gates, r)
	}
	if applied == 0 {
		e.add(f, policy.FamilyMetrics, "metrics", StatusSkip, fmt.Sprintf("no metric gate of %s applies to %s", env.Name, f.model))
	}
	if len(overridden) > 0 && mode != policy.Off {
		f.metricException = true
	}
	for i := range e.res.Promotions {
		if p := &e.res.Promotions[i]; p.File == f.path {
			p.Gates, p.ExceptionLabel = gates, label
			if f.metricException {
				p.Exception = &MetricException{Label: label, Gates: overridden, Overridden: failed}
			}
		}
	}
}

// mayOverrideMetrics reports whether the pull request carries the metric
// exception label of env.
func (e *evaluation) mayOverrideMetrics(env string) bool {
	if e.pol == nil {
		return false
	}
	x, ok := e.pol.Environment(env)
	return ok && x.MetricExceptionLabel != "" && e.hasLabel(x.MetricExceptionLabel)
}

// gateBound describes what a gate asks, such as ">= 0.55, >= incumbent - 2%".
func gateBound(g policy.MetricGate) string {
	var parts []string
	if g.Min != nil {
		parts = append(parts, ">= "+number(*g.Min))
	}
	if g.Max != nil {
		parts = append(parts, "<= "+number(*g.Max))
	}
	if ig := g.Incumbent; ig != nil {
		op, sign := ">=", "-"
		if ig.Better == policy.LowerIsBetter {
			op, sign = "<=", "+"
		}
		s := op + " incumbent"
		switch {
		case ig.Tolerance == 0:
		case ig.Relative:
			s += " " + sign + " " + number(ig.Tolerance*100) + "%"
		default:
			s += " " + sign + " " + number(ig.Tolerance)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// number prints a value in its shortest form, without the binary noise of
// arithmetic (0.61-0.0122 is 0.5978, not 0.5977999999999999).
func number(x float64) string {
	if x != 0 && !math.IsInf(x, 0) && !math.IsNaN(x) {
		scale := math.Pow(10, 12-math.Ceil(math.Log10(math.Abs(x))))
		x = math.Round(x*scale) / scale
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}
