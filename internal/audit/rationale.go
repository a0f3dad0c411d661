package audit

import (
	"log/slog"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/yamldoc"
)

// markRationales sets, on every record that pins a manifest, its
// approval.rationale read from the commit that made the change, and the
// metric exception label of its environment when a gate applies to its
// model (labels, from the policy at the audited tip), for applyVerdict to
// look for.
func (r *Repository) markRationales(records []Record, labels exceptionLabels, logger *slog.Logger) {
	for i := range records {
		rec := &records[i]
		rec.ExceptionLabel = labels.of(rec.Environment, rec.Model)
		if rec.Kind == KindDecommission || rec.Problem != "" || rec.ToVersion == "" {
			continue
		}
		data, err := r.fileAt(plumbing.NewHash(rec.Commit), rec.Path)
		if err != nil {
			logger.Debug("manifest not read for its rationale", "path", rec.Path, "commit", rec.Commit, "error", err)
			continue
		}
		rec.Rationale = rationaleOf(data)
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

// rationaleOf returns the approval.rationale of a manifest, empty when it
// has none or cannot be decoded.
func rationaleOf(data []byte) string {
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		return ""
	}
	root, _ := doc.Value.(map[string]any)
	approval, _ := root["approval"].(map[string]any)
	s, _ := approval["rationale"].(string)
	return s
}
