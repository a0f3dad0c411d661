package repoconfig

import (
	"math"

	"github.com/example-org/promobot/internal/manifest"
)

// fromValue builds a manifest.Manifest from the plain values of a decoded document.
// It tolerates wrong types (the schema reports them) and never panics.
func fromValue(v map[string]any) *manifest.Manifest {
	m := &manifest.Manifest{
		APIVersion:  str(v["apiVersion"]),
		Kind:        str(v["kind"]),
		Model:       str(v["model"]),
		Environment: str(v["environment"]),
		Version:     str(v["version"]),
		Notes:       str(v["notes"]),
	}
	if a, ok := v["artifact"].(map[string]any); ok {
		m.Artifact = manifest.Artifact{URI: str(a["uri"]), SHA256: str(a["sha256"]), Signature: str(a["signature"])}
		if n, ok := wholeNumber(a["size"]); ok {
			m.Artifact.Size = &n
		}
	}
	if l, ok := v["lineage"].(map[string]any); ok {
		m.Lineage = manifest.Lineage{
			TrainingRun:  str(l["trainingRun"]),
			SourceCommit: str(l["sourceCommit"]),
			FeatureSet:   str(l["featureSet"]),
			DataVersion:  str(l["dataVersion"]),
		}
		if w, ok := l["dataWindow"].(map[string]any); ok {
			m.Lineage.DataWindow = &manifest.DataWindow{Start: str(w["start"]), End: str(w["end"])}
		}
	}
	if mv, ok := v["metrics"].(map[string]any); ok {
		m.Metrics = make(map[string]float64, len(mv))
		for k, x := range mv {
			switch n := x.(type) {
			case float64:
				m.Metrics[k] = n
			case int64:
				m.Metrics[k] = float64(n)
			}
		}
	}
	if pv, ok := v["parameters"].(map[string]any); ok {
		m.Parameters = make(map[string]any, len(pv))
		for k, x := range pv {
			switch x.(type) {
			case float64, int64, string, bool:
				m.Parameters[k] = x
			}
		}
	}
	if val, ok := v["validation"].(map[string]any); ok {
		m.Validation = manifest.Validation{
			Status:       manifest.ValidationStatus(str(val["status"])),
			Report:       str(val["report"]),
			ReportSHA256: str(val["reportSha256"]),
			ValidatedAt:  str(val["validatedAt"]),
		}
	}
	if sb, ok := v["sbom"].(map[string]any); ok {
		m.SBOM = &manifest.SBOM{URI: str(sb["uri"]), SHA256: str(sb["sha256"])}
	}
	if ap, ok := v["approval"].(map[string]any); ok {
		m.Approval = manifest.Approval{Ticket: str(ap["ticket"]), Rationale: str(ap["rationale"])}
	}
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// wholeNumber returns v as an int64 when it is an integer, or a decimal
// that names one exactly (JSON Schema's integer type accepts 1024.0).
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case float64:
		if n == math.Trunc(n) && n >= math.MinInt64 && n < math.MaxInt64 {
			return int64(n), true
		}
	}
	return 0, false
}
