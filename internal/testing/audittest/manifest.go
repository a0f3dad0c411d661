// Package audittest builds git histories for the audit tests and benchmarks:
// a small, hand-shaped history with promotions, rollbacks, a direct push and
// a squash merge, and a large generated one written with git fast-import.
package audittest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/manifest"
)

// Pin describes the content of one manifest file.
type Pin struct {
	// Environment is the environment folder name.
	Environment string
	// Model is the model name.
	Model string
	// Version is the pinned version.
	Version string
	// Ticket is the change ticket, empty for none.
	Ticket string
	// Notes is free text, empty for none.
	Notes string

	revalidated int // days a sample-rendered validatedAt moves, for edits
}

// Path returns the repository path of the pin's manifest.
func (p Pin) Path() string { return manifest.Path(p.Environment, p.Model) }

// ArtifactSHA256 returns the deterministic artifact digest the generated
// manifests pin for a model version.
func ArtifactSHA256(model, version string) string {
	sum := sha256.Sum256([]byte(model + "\x00" + version))
	return hex.EncodeToString(sum[:])
}

// YAML renders the pin as a ModelDeployment manifest shaped like the real
// ones (about 1 KiB).
func (p Pin) YAML() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: promobot/v1\nkind: ModelDeployment\nmodel: %s\nenvironment: %s\nversion: %q\n", p.Model, p.Environment, p.Version)
	fmt.Fprintf(&b, "artifact:\n  uri: https://mlartifacts.blob.core.windows.net/models/%s/%s/model.pkl\n  sha256: %s\n  size: 65536\n", p.Model, p.Version, ArtifactSHA256(p.Model, p.Version))
	fmt.Fprintf(&b, "lineage:\n  trainingRun: azureml-run-%.6s\n  sourceCommit: %.40s\n  dataWindow: {start: 2021-11-01, end: 2026-11-14}\n  featureSet: features-v12\n  dataVersion: ohlcv-2026-11-14\n",
		ArtifactSHA256(p.Version, p.Model), ArtifactSHA256(p.Model, p.Version+"src"))
	b.WriteString("metrics:\n  rmse: 0.0119\n  mae: 0.0087\n  r2: 0.63\nparameters:\n  alpha: 0.1\n  l1_ratio: 0.5\n")
	b.WriteString("validation:\n  status: passed\n  validatedAt: \"2026-11-09T15:05:44Z\"\n")
	if p.Ticket != "" {
		fmt.Fprintf(&b, "approval:\n  ticket: %s\n", p.Ticket)
	}
	if p.Notes != "" {
		fmt.Fprintf(&b, "notes: %s\n", p.Notes)
	}
	return b.String()
}
