// Package manifest defines the ModelDeployment manifest, the file that pins
// one model version in one environment at environments/<env>/<model>.yaml,
// and the Document a loaded file becomes. Loading and checking a file is
// internal/repoconfig's.
//
// The package is pure: it reads no files and makes no network calls.
package manifest

import (
	"maps"
	"reflect"
	"slices"
)

// Root is the repository folder that holds one folder per environment.
const Root = "environments"

// APIVersion is the only supported manifest apiVersion.
const APIVersion = "promobot/v1"

// Kind is the manifest kind.
const Kind = "ModelDeployment"

// ValidationStatus is the outcome of model validation.
type ValidationStatus string

// The validation outcomes.
const (
	ValidationPending ValidationStatus = "pending"
	ValidationPassed  ValidationStatus = "passed"
	ValidationFailed  ValidationStatus = "failed"
)

// Manifest pins one model version in one environment. Field order here is the
// order in which manifests are written.
type Manifest struct {
	APIVersion  string             `yaml:"apiVersion" json:"apiVersion"`
	Kind        string             `yaml:"kind" json:"kind"`
	Model       string             `yaml:"model" json:"model"`
	Environment string             `yaml:"environment" json:"environment"`
	Version     string             `yaml:"version" json:"version"`
	Artifact    Artifact           `yaml:"artifact" json:"artifact"`
	Lineage     Lineage            `yaml:"lineage" json:"lineage"`
	Metrics     map[string]float64 `yaml:"metrics,omitempty" json:"metrics,omitempty"`
	Parameters  map[string]any     `yaml:"parameters,omitempty" json:"parameters,omitempty"`
	Validation  Validation         `yaml:"validation" json:"validation"`
	SBOM        *SBOM              `yaml:"sbom,omitempty" json:"sbom,omitempty"`
	Approval    Approval           `yaml:"approval,omitempty" json:"approval,omitzero"`
	Notes       string             `yaml:"notes,omitempty" json:"notes,omitempty"`
}

// Artifact identifies the exact bytes of a model version.
type Artifact struct {
	URI       string `yaml:"uri" json:"uri"`
	SHA256    string `yaml:"sha256" json:"sha256"`
	Size      *int64 `yaml:"size,omitempty" json:"size,omitempty"`
	Signature string `yaml:"signature,omitempty" json:"signature,omitempty"`
}

// Lineage says where a model version came from.
type Lineage struct {
	TrainingRun  string      `yaml:"trainingRun" json:"trainingRun"`
	SourceCommit string      `yaml:"sourceCommit" json:"sourceCommit"`
	DataWindow   *DataWindow `yaml:"dataWindow,omitempty" json:"dataWindow,omitempty"`
	FeatureSet   string      `yaml:"featureSet,omitempty" json:"featureSet,omitempty"`
	DataVersion  string      `yaml:"dataVersion,omitempty" json:"dataVersion,omitempty"`
}

// DataWindow is the inclusive date range of the training data (YYYY-MM-DD).
type DataWindow struct {
	Start string `yaml:"start" json:"start"`
	End   string `yaml:"end" json:"end"`
}

// Validation is the outcome of model validation.
type Validation struct {
	Status ValidationStatus `yaml:"status" json:"status"`
	Report string           `yaml:"report,omitempty" json:"report,omitempty"`
	// ReportSHA256 is the SHA-256 digest of the report's bytes.
	ReportSHA256 string `yaml:"reportSha256,omitempty" json:"reportSha256,omitempty"`
	ValidatedAt  string `yaml:"validatedAt,omitempty" json:"validatedAt,omitempty"`
}

// SBOM names the software bill of materials of a model version: an SPDX
// 2.3 or CycloneDX 1.5+ JSON document and the SHA-256 digest of its bytes.
type SBOM struct {
	URI    string `yaml:"uri" json:"uri"`
	SHA256 string `yaml:"sha256" json:"sha256"`
}

// Approval holds change-management references.
type Approval struct {
	Ticket string `yaml:"ticket,omitempty" json:"ticket,omitempty"`
	// Rationale says why the change is made, in the proposer's words.
	Rationale string `yaml:"rationale,omitempty" json:"rationale,omitempty"`
}

// IsZero reports whether the approval carries nothing, so it can be omitted.
func (a Approval) IsZero() bool { return a.Ticket == "" && a.Rationale == "" }

// Has reports whether the named lineage field is present. Names are the YAML
// keys: trainingRun, sourceCommit, dataWindow, featureSet, dataVersion.
func (l Lineage) Has(field string) bool {
	switch field {
	case "trainingRun":
		return l.TrainingRun != ""
	case "sourceCommit":
		return l.SourceCommit != ""
	case "dataWindow":
		return l.DataWindow != nil && l.DataWindow.Start != "" && l.DataWindow.End != ""
	case "featureSet":
		return l.FeatureSet != ""
	case "dataVersion":
		return l.DataVersion != ""
	}
	return false
}

// SameArtifact reports whether two manifests name the same bytes: equal URI,
// digest, size and signature.
func SameArtifact(a, b *Manifest) bool {
	return a.Artifact.URI == b.Artifact.URI && a.Artifact.SHA256 == b.Artifact.SHA256 &&
		reflect.DeepEqual(a.Artifact.Size, b.Artifact.Size) && a.Artifact.Signature == b.Artifact.Signature
}

// SameLineage reports whether two manifests carry identical lineage.
func SameLineage(a, b *Manifest) bool { return reflect.DeepEqual(a.Lineage, b.Lineage) }

// ImmutableDifferences lists which of the fields that a version may never
// change (artifact, lineage, metrics, parameters) differ between a and b.
func ImmutableDifferences(a, b *Manifest) []string {
	var out []string
	if !SameArtifact(a, b) {
		out = append(out, "artifact")
	}
	if !SameLineage(a, b) {
		out = append(out, "lineage")
	}
	if !maps.Equal(a.Metrics, b.Metrics) {
		out = append(out, "metrics")
	}
	if !equalParameters(a.Parameters, b.Parameters) {
		out = append(out, "parameters")
	}
	return out
}

func equalParameters(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for _, k := range slices.Sorted(maps.Keys(a)) {
		bv, ok := b[k]
		if !ok || !reflect.DeepEqual(normalizeNumber(a[k]), normalizeNumber(bv)) {
			return false
		}
	}
	return true
}

func normalizeNumber(v any) any {
	if i, ok := v.(int64); ok {
		return float64(i)
	}
	return v
}
