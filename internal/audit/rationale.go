package audit

import (
	"slices"

	"github.com/example-org/promobot/internal/policy"
)

// markExceptionLabels sets, on every record, the metric exception label
// of its environment when a gate applies to its model (labels, from the
// policy at the audited tip), for applyVerdict to look for. The record's
// rationale and ticket are read by explain.
func markExceptionLabels(records []Record, labels exceptionLabels) {
	for i := range records {
		records[i].ExceptionLabel = labels.of(records[i].Environment, records[i].Model)
	}
}

// exceptionLabels holds the environments of the policy at the audited tip,
// by name, for their metric exception labels.
type exceptionLabels map[string]policy.Environment

// of returns the metric exception label of env when one of its metric
// gates applies to model: only such a change can have a gate overridden.
func (l exceptionLabels) of(env, model string) string {
	e, ok := l[env]
	if !ok || e.MetricExceptionLabel == "" || !slices.ContainsFunc(e.MetricGates, func(g policy.MetricGate) bool { return g.AppliesTo(model) }) {
		return ""
	}
	return e.MetricExceptionLabel
}
