package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/testing/gittest"
	"github.com/example-org/promobot/internal/testing/sample"
	"github.com/example-org/promobot/schemas"
)

// The two models of the demo: a forecaster and its threshold calibrator,
// which form a bundle and always move together.
const (
	forecaster = "elasticnet-ndx"
	calibrator = "elasticnet-ndx-threshold"
)

// release is one trained version of both models.
type release struct {
	version, run, commit, dataEnd string
	metrics                       [2]string // forecaster, calibrator
}

var (
	prodRelease = release{"2026.11.06-1", "azureml-run-5e9d14", "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", "2026-10-31",
		[2]string{"rmse: 0.0124, r2: 0.61, sharpe: 1.33", "precision: 0.69, recall: 0.62"}}
	testRelease = release{"2026.11.13-2", "azureml-run-6b2a90", "4d8f2a1c9e7b6a5d3c2b1a0f9e8d7c6b5a4f3e2d", "2026-11-07",
		[2]string{"rmse: 0.0121, r2: 0.62, sharpe: 1.37", "precision: 0.70, recall: 0.63"}}
	newRelease = release{"2026.11.20-1", "azureml-run-7f3c21", "9c1e5b0a4f6d2e8b7a3c1d0e9f8a7b6c5d4e3f21", "2026-11-14",
		[2]string{"rmse: 0.0119, r2: 0.63, sharpe: 1.25", "precision: 0.71, recall: 0.64"}}
)

const demoPolicy = `apiVersion: promobot/v1
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
    verifyArtifacts: true
    requireRollbackReady: true
    requiredLineage: [trainingRun, sourceCommit, dataWindow, featureSet, dataVersion]
    metricGates:
      rmse: {models: [elasticnet-ndx], max: 0.015, incumbent: {better: lower, tolerance: {relative: 0.02}}}
      r2: {models: [elasticnet-ndx], min: 0.5, incumbent: {better: higher, tolerance: {absolute: 0.01}}}
      sharpe: {models: [elasticnet-ndx], min: 1.0, incumbent: {better: higher, tolerance: {relative: 0.05}}}
    metricGateExceptions: {label: metric-exception}
    requireRationale: {minLength: 20}
artifacts:
  allowLocal: true   # Azurite on loopback; production policies list https locations only
  allowedLocations: ['%s/%s/']
  trustedKeys: [.github/keys/model-signing.pub]
governance:
  approvals: 2
bundles:
  - name: ndx-forecast
    models: [elasticnet-ndx, elasticnet-ndx-threshold]
`

const demoCodeowners = `/CODEOWNERS          @example-org/platform-admins
/.github/            @example-org/platform-admins
/schemas/            @example-org/platform-admins
/environments/dev/   @example-org/ml-engineers
/environments/test/  @example-org/model-validators
/environments/prod/  @example-org/model-risk @example-org/release-managers
`

// seeder writes the demo repository's first state and uploads the
// artifacts it pins.
type seeder struct {
	w   *world
	key *ecdsa.PrivateKey
}

func newSeeder(w *world) (*seeder, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return &seeder{w: w, key: key}, nil
}

func (s *seeder) uri(model, version string) string {
	return s.w.azurite.BlobURL(container, model+"/"+version+"/model.pkl")
}

// upload stores the artifact of a model version, as the training pipeline
// would, and returns its digest and signature.
func (s *seeder) upload(ctx context.Context, model, version string) (digest, signature string, err error) {
	data := sample.ArtifactBytes(model, version)
	if _, err := s.w.blobs.UploadBuffer(ctx, container, model+"/"+version+"/model.pkl", data, nil); err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, sum[:])
	if err != nil {
		return "", "", err
	}
	return hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sig), nil
}

// uploadEvidence stores a document of a model version next to its
// artifact, as the validation pipeline would, and returns its URI and
// digest.
func (s *seeder) uploadEvidence(ctx context.Context, model, version, name string, data []byte) (uri, digest string, err error) {
	blob := model + "/" + version + "/" + name
	if _, err := s.w.blobs.UploadBuffer(ctx, container, blob, data, nil); err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(data)
	return s.w.azurite.BlobURL(container, blob), hex.EncodeToString(sum[:]), nil
}

// validationBlock is the validation block of a passed version, naming
// the report it uploads.
func (s *seeder) validationBlock(ctx context.Context, model, version, validatedAt string) (string, error) {
	uri, digest, err := s.uploadEvidence(ctx, model, version, "validation.html", sample.ReportBytes(model, version))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("status: passed\n  report: %s\n  reportSha256: %s\n  validatedAt: %q\n", uri, digest, validatedAt), nil
}

// manifest renders the manifest of one model of a release.
func (s *seeder) manifest(ctx context.Context, env, model string, r release, status, ticket string) (string, error) {
	digest, sig, err := s.upload(ctx, model, r.version)
	if err != nil {
		return "", err
	}
	i := 0
	features := "ndx-features-v12"
	if model == calibrator {
		i, features = 1, "ndx-threshold-features-v4"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: promobot/v1\nkind: ModelDeployment\nmodel: %s\nenvironment: %s\nversion: %q\n", model, env, r.version)
	fmt.Fprintf(&b, "artifact:\n  uri: %s\n  sha256: %s\n  size: %d\n  signature: %s\n", s.uri(model, r.version), digest, sample.ArtifactSize, sig)
	fmt.Fprintf(&b, "lineage:\n  trainingRun: %s\n  sourceCommit: %s\n  dataWindow: {start: 2021-11-01, end: %s}\n  featureSet: %s\n  dataVersion: ohlcv-%s\n",
		r.run, r.commit, r.dataEnd, features, r.dataEnd)
	fmt.Fprintf(&b, "metrics: {%s}\n", r.metrics[i])
	if model == calibrator {
		// The calibrator ships with its SBOM, which prod checks when it
		// verifies artifacts.
		uri, digest, err := s.uploadEvidence(ctx, model, r.version, "sbom.spdx.json", sample.SBOMBytes(model, r.version))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "sbom:\n  uri: %s\n  sha256: %s\n", uri, digest)
	}
	if status == "passed" {
		v, err := s.validationBlock(ctx, model, r.version, r.dataEnd+"T09:00:00Z")
		if err != nil {
			return "", err
		}
		b.WriteString("validation:\n  " + v)
	} else {
		fmt.Fprintf(&b, "validation:\n  status: %s\n", status)
	}
	if ticket != "" {
		fmt.Fprintf(&b, "approval:\n  ticket: %s\n", ticket)
	}
	return b.String(), nil
}

// bootstrap commits the repository's first state: prod runs 2026.11.06-1,
// test and dev run 2026.11.13-2.
func (s *seeder) bootstrap(ctx context.Context) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		return "", err
	}
	files := map[string]string{
		".github/promobot.yaml":                fmt.Sprintf(demoPolicy, s.w.azurite.Endpoint, container),
		".github/keys/model-signing.pub":       string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		"CODEOWNERS":                           demoCodeowners,
		"schemas/model-deployment.schema.json": string(schemas.ModelDeployment),
		"schemas/policy.schema.json":           string(schemas.Policy),
	}
	pins := []struct {
		env    string
		r      release
		ticket string
	}{{"dev", testRelease, ""}, {"test", testRelease, ""}, {"prod", prodRelease, "CHG-4790"}}
	for _, p := range pins {
		for _, model := range []string{forecaster, calibrator} {
			text, err := s.manifest(ctx, p.env, model, p.r, "passed", p.ticket)
			if err != nil {
				return "", err
			}
			files["environments/"+p.env+"/"+model+".yaml"] = text
		}
	}
	when := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Second)
	sig := gittest.Signature{Name: "Pat Platform", Email: email("pat"), When: when}
	return gittest.CommitFiles(s.w.barePath, gittest.Commit{
		Branch: "main", Files: files, Author: sig, Committer: sig,
		Message: "Bootstrap the model GitOps repository\n\nImported from the model registry: prod runs 2026.11.06-1, test and dev run 2026.11.13-2.\n",
	})
}

// candidates writes the new release's candidate manifests, as the training
// pipeline hands them to the engineer, and returns their paths.
func (s *seeder) candidates(ctx context.Context, dir string, write func(path, text string) error) ([]string, error) {
	var paths []string
	for _, model := range []string{forecaster, calibrator} {
		text, err := s.manifest(ctx, "dev", model, newRelease, "pending", "")
		if err != nil {
			return nil, err
		}
		p := dir + "/" + model + ".candidate.yaml"
		if err := write(p, text); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}
