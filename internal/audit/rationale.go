package audit

import (
	"log/slog"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/yamldoc"
)

// markRationales sets, on every record that pins a manifest, its
// approval.rationale read from the commit that made the change, and the
// metric exception label of its environment (labels, from the policy at
// the audited tip) for applyVerdict to look for.
func (r *Repository) markRationales(records []Record, labels map[string]string, logger *slog.Logger) {
	for i := range records {
		rec := &records[i]
		rec.ExceptionLabel = labels[rec.Environment]
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
