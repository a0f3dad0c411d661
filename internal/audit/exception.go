package audit

import (
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/yamldoc"
)

// markFailedGates sets, on every record that may carry a metric exception
// (markExceptionLabels gave it a label), the bounds of its environment's
// metric gates that the change fails, as the engine judges them
// (evaluate.MetricGateFailures) with the policy at the audited tip: the
// candidate is the manifest the commit left, the incumbent the one its
// first parent pinned, and a rollback is exempt from the incumbent
// comparison. applyVerdict reports them when the merging pull request
// carried the label. An edit keeps the version and fails no gate; a
// manifest that cannot be read fails none either, its Problem says why.
func (r *Repository) markFailedGates(records []Record, labels exceptionLabels) {
	for i := range records {
		rec := &records[i]
		if rec.ExceptionLabel == "" || rec.ToVersion == "" || rec.Kind == KindEdit || rec.Problem != "" {
			continue
		}
		commit := plumbing.NewHash(rec.Commit)
		candidate, ok := r.metricsAt(commit, rec.Path)
		if !ok {
			continue
		}
		var incumbent map[string]float64
		if rec.FromVersion != "" {
			if parent, ok := r.firstParent(commit); ok {
				incumbent, _ = r.metricsAt(parent, rec.Path)
			}
		}
		env := labels[rec.Environment]
		for _, g := range env.MetricGates {
			if g.AppliesTo(rec.Model) {
				rec.FailedGates = append(rec.FailedGates, evaluate.MetricGateFailures(g, candidate, incumbent, rec.Kind == KindRollback)...)
			}
		}
	}
}

// metricsAt reads the metrics of the manifest at path in commit.
func (r *Repository) metricsAt(commit plumbing.Hash, path string) (map[string]float64, bool) {
	data, err := r.fileAt(commit, path)
	if err != nil {
		return nil, false
	}
	doc, err := yamldoc.Parse(data, yamldoc.DefaultLimits)
	if err != nil {
		return nil, false
	}
	root, _ := doc.Value.(map[string]any)
	metrics, _ := root["metrics"].(map[string]any)
	out := map[string]float64{}
	for k, v := range metrics {
		switch x := v.(type) {
		case float64:
			out[k] = x
		case int64:
			out[k] = float64(x)
		}
	}
	return out, true
}
