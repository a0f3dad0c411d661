package evaltest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"

	"github.com/example-org/promobot/internal/evaluate"
)

// The sample models: a forecaster and its threshold calibrator, which the
// sample policy bundles, and an unbundled model.
const (
	Forecaster = "elasticnet-ndx"
	Calibrator = "elasticnet-ndx-threshold"
	Unbundled  = "lasso-spx"
)

// The sample versions, oldest first. At the sample base, dev pins V3, test
// V2 and prod V1; prod pinned V0 before V1.
const (
	V0 = "2026.10.30-1"
	V1 = "2026.11.06-1"
	V2 = "2026.11.13-2"
	V3 = "2026.11.20-1"
	V4 = "2026.11.27-1"
)

// Models lists the sample models.
var Models = []string{Forecaster, Calibrator, Unbundled}

// Policy is the sample policy, like the repository's own.
const Policy = `apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - name: dev
    approvals: 0
    requiredLineage: [trainingRun, sourceCommit]
  - name: test
    from: dev
    approvals: 1
    requireValidation: true
    requiredLineage: [trainingRun, sourceCommit, dataWindow, featureSet]
  - name: prod
    from: test
    approvals: 2
    requireValidation: true
    requireTicket: true
    ticketPattern: "CHG-[0-9]{3,7}"
    requireSignature: true
    requiredLineage: [trainingRun, sourceCommit, dataWindow, featureSet, dataVersion]
    freeze:
      - name: year-end close
        start: "2026-12-23T00:00:00Z"
        end: "2027-01-04T00:00:00Z"
        overrideLabel: freeze-override
artifacts:
  allowedLocations:
    - https://mlartifacts.blob.core.windows.net/models/
  trustedKeys:
    - .github/keys/model-signing.pub
governance:
  approvals: 2
bundles:
  - name: ndx-forecast
    models: [elasticnet-ndx, elasticnet-ndx-threshold]
`

// CodeOwners is the sample CODEOWNERS file, like the repository's own.
const CodeOwners = `# Control files.
/CODEOWNERS                 @example-org/platform-admins
/.github/                   @example-org/platform-admins
/schemas/                   @example-org/platform-admins

# Environments.
/environments/dev/          @example-org/ml-engineers
/environments/test/         @example-org/model-validators
/environments/prod/         @example-org/model-risk @example-org/release-managers
`

// Teams returns the sample teams and their active members.
func Teams() map[string][]string {
	return map[string][]string{
		"example-org/platform-admins":    {"pat", "paula"},
		"example-org/ml-engineers":       {"alex", "erin"},
		"example-org/model-validators":   {"val", "vic"},
		"example-org/model-risk":         {"mara", "mike"},
		"example-org/release-managers":   {"rita", "rob"},
		"example-org/unrelated-watchers": {"walt"},
	}
}

// ManifestPath returns the path of a model's manifest in an environment.
func ManifestPath(env, model string) string { return "environments/" + env + "/" + model + ".yaml" }

// Manifest returns the manifest pinning version of model in env, with the
// environment's usual validation status (pending in dev, passed elsewhere)
// and ticket (none in dev). Artifact, lineage, metrics and parameters depend
// only on model and version, as immutability demands.
func Manifest(env, model, version string) string {
	status, ticket := "passed", Ticket(version)
	if env == "dev" {
		status, ticket = "pending", ""
	}
	return ManifestWith(env, model, version, status, ticket)
}

// Ticket returns the sample change ticket of a version.
func Ticket(version string) string {
	sum := sha256.Sum256([]byte(version))
	return fmt.Sprintf("CHG-4%03d", int(sum[0]))
}

// ManifestWith is Manifest with an explicit validation status and ticket
// (empty for none).
func ManifestWith(env, model, version, status, ticket string) string {
	sum := sha256.Sum256([]byte("artifact\x00" + model + "\x00" + version))
	digest := hex.EncodeToString(sum[:])
	sig := sha256.Sum256([]byte("signature\x00" + digest))
	src := sha256.Sum256([]byte("source\x00" + version))
	end := strings.ReplaceAll(version[:10], ".", "-")
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: promobot/v1
kind: ModelDeployment
model: %s
environment: %s
version: "%s"
artifact:
  uri: https://mlartifacts.blob.core.windows.net/models/%s/%s/model.pkl
  sha256: %s
  size: 65536
  signature: %s
lineage:
  trainingRun: azureml-run-%s
  sourceCommit: %s
  dataWindow: {start: 2021-11-01, end: %s}
  featureSet: %s-features-v12
  dataVersion: ohlcv-%s
`, model, env, version, model, version, digest, base64.StdEncoding.EncodeToString(sig[:]),
		digest[:6], hex.EncodeToString(src[:20]), end, model, end)
	// Metrics in fixed decimals derived from the digest: plausible, distinct
	// per version, and exactly representable in YAML.
	m := func(i int, base, scale float64) string { return fmt.Sprintf("%.4f", base+float64(sum[i])*scale) }
	if model == Calibrator {
		fmt.Fprintf(&b, "metrics:\n  precision: %s\n  recall: %s\n  f1: %s\nparameters:\n  threshold: 0.58\n  calibration: isotonic\n",
			m(1, 0.6, 0.0001), m(2, 0.55, 0.0001), m(3, 0.6, 0.0001))
	} else {
		fmt.Fprintf(&b, "metrics:\n  rmse: %s\n  mae: %s\n  r2: %s\nparameters:\n  alpha: 0.1\n  l1_ratio: 0.5\n  max_iter: 5000\n",
			m(1, 0.011, 0.00001), m(2, 0.008, 0.00001), m(3, 0.55, 0.0001))
	}
	fmt.Fprintf(&b, "validation:\n  status: %s\n", status)
	if ticket != "" {
		fmt.Fprintf(&b, "approval:\n  ticket: %s\n", ticket)
	}
	fmt.Fprintf(&b, "notes: Sample %s.\n", model)
	return b.String()
}

// Pins returns the manifests of every sample model in the given environments
// at the given versions, keyed by path.
func Pins(versions map[string]string) map[string]string {
	out := map[string]string{}
	for env, version := range versions {
		for _, model := range Models {
			out[ManifestPath(env, model)] = Manifest(env, model, version)
		}
	}
	return out
}

// Base returns the sample base tree: the policy, CODEOWNERS, a README, and
// every sample model pinned at V3 in dev, V2 in test and V1 in prod.
func Base() map[string]string {
	t := Pins(map[string]string{"dev": V3, "test": V2, "prod": V1})
	t[".github/promobot.yaml"] = Policy
	t[".github/CODEOWNERS"] = CodeOwners
	t[".github/keys/model-signing.pub"] = "-----BEGIN PUBLIC KEY-----\nsample\n-----END PUBLIC KEY-----\n"
	t["README.md"] = "# Models\n"
	return t
}

// History returns the sample base branch history before the base commit:
// V0 everywhere on 2026-11-02, then V2 in dev and V1 in test and prod on
// 2026-11-10. The base commit (DefaultBaseDate) then moves dev to V3 and test
// to V2, so prod pinned V0 from 2026-11-02 to 2026-11-10.
func History() []HistoryCommit {
	first := Pins(map[string]string{"dev": V0, "test": V0, "prod": V0})
	first[".github/promobot.yaml"] = Policy
	first[".github/CODEOWNERS"] = CodeOwners
	return []HistoryCommit{
		{Date: "2026-11-02T10:00:00Z", Files: first},
		{Date: "2026-11-10T10:00:00Z", Files: Pins(map[string]string{"dev": V2, "test": V1, "prod": V1})},
	}
}

// Sample returns a scenario on the sample repository: alex opens a pull
// request with one commit and no reviews, at DefaultNow. Callers set Head,
// Reviews and the expectations.
func Sample(name string) Scenario {
	return Scenario{
		Name: name, History: History(), Base: Base(), Head: map[string]string{},
		Author: "alex", Commits: []Commit{{Author: "alex"}}, Teams: Teams(),
	}
}

// Replace returns s with the first occurrence of old replaced by new. It
// panics when old does not occur, so that a fixture edit cannot silently do
// nothing.
func Replace(s, old, new string) string {
	if !strings.Contains(s, old) {
		panic(fmt.Sprintf("evaltest: %q not found", old))
	}
	return strings.Replace(s, old, new, 1)
}

// Approve returns APPROVED reviews on the head commit by the given logins.
func Approve(logins ...string) []Review {
	out := make([]Review, len(logins))
	for i, l := range logins {
		out[i] = Review{Login: l, State: evaluate.Approved, On: "head"}
	}
	return out
}

// Promote returns head files promoting the given models to version in env,
// with env's usual validation status and ticket.
func Promote(env, version string, models ...string) map[string]string {
	out := map[string]string{}
	for _, m := range models {
		out[ManifestPath(env, m)] = Manifest(env, m, version)
	}
	return out
}

// Merge returns the union of file maps, later maps winning.
func Merge(files ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		maps.Copy(out, f)
	}
	return out
}
