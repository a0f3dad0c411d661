package evaluate

import (
	"fmt"

	"github.com/example-org/promobot/internal/policy"
)

// The bounds of a metric gate a candidate can fail, in GateFailure.Gate.
const (
	// GateMin is the gate's minimum.
	GateMin = "min"
	// GateMax is the gate's maximum.
	GateMax = "max"
	// GateIncumbent is "no worse than the incumbent" within the tolerance.
	GateIncumbent = "incumbent"
	// GateMissing is a gated metric the candidate does not report.
	GateMissing = "missing"
)

// GateFailure is one bound of a metric gate that a candidate fails: what an
// exception overrides, as the check run and the audit record it.
type GateFailure struct {
	// Metric is the gated metric.
	Metric string `json:"metric"`
	// Gate is GateMin, GateMax, GateIncumbent or GateMissing.
	Gate string `json:"gate"`
	// Candidate is the candidate's value, absent when it lacks the metric.
	Candidate *float64 `json:"candidate,omitempty"`
	// Bound is the value the candidate had to meet: the minimum, the
	// maximum, or the worst value the tolerance allows against the
	// incumbent; absent for GateMissing.
	Bound *float64 `json:"bound,omitempty"`
	// Incumbent is the incumbent's value, for GateIncumbent.
	Incumbent *float64 `json:"incumbent,omitempty"`
}

// String describes the failure, such as "r2 (incumbent): candidate 0.5667,
// bound 0.5695 (incumbent 0.5745)".
func (f GateFailure) String() string {
	if f.Gate == GateMissing {
		return fmt.Sprintf("%s (missing): the candidate does not report it", f.Metric)
	}
	s := fmt.Sprintf("%s (%s): candidate %s, bound %s", f.Metric, f.Gate, formatMetric(f.Candidate), formatMetric(f.Bound))
	if f.Incumbent != nil {
		s += fmt.Sprintf(" (incumbent %s)", number(*f.Incumbent))
	}
	return s
}

// MetricGateFailures returns the bounds of gate g that a candidate with
// metrics candidate fails: absent metric, minimum, maximum, then the
// incumbent comparison. incumbent holds the metrics of the version the
// environment pins at the base, nil when it pins none; a rollback is
// exempt from the comparison, and a metric the incumbent lacks is not
// compared. It is pure: the engine and the audit judge gates with it.
func MetricGateFailures(g policy.MetricGate, candidate, incumbent map[string]float64, rollback bool) []GateFailure {
	var out []GateFailure
	x, ok := candidate[g.Metric]
	if !ok {
		return append(out, GateFailure{Metric: g.Metric, Gate: GateMissing})
	}
	if g.Min != nil && x < *g.Min {
		out = append(out, GateFailure{Metric: g.Metric, Gate: GateMin, Candidate: ptr(x), Bound: ptr(*g.Min)})
	}
	if g.Max != nil && x > *g.Max {
		out = append(out, GateFailure{Metric: g.Metric, Gate: GateMax, Candidate: ptr(x), Bound: ptr(*g.Max)})
	}
	if g.Incumbent != nil && !rollback {
		if y, ok := incumbent[g.Metric]; ok && !g.Incumbent.Accepts(x, y) {
			out = append(out, GateFailure{Metric: g.Metric, Gate: GateIncumbent, Candidate: ptr(x), Bound: ptr(g.Incumbent.Limit(y)), Incumbent: ptr(y)})
		}
	}
	return out
}

func ptr(x float64) *float64 { return &x }
