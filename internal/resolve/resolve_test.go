package resolve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/artifactcheck"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// fixture is a GitOps repository whose artifacts live in Azurite.
type fixture struct {
	az     *azuritetest.Azurite
	blobs  *azblob.Client
	key    *ecdsa.PrivateKey
	repo   *gitrepo.Repo
	head   string
	stores artifact.Resolver
}

const policyYAML = `apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - {name: dev, approvals: 0}
  - {name: prod, from: dev, approvals: 2, requireValidation: true, requireSignature: true, requiredLineage: [trainingRun, sourceCommit, dataVersion]}
artifacts:
  allowLocal: true
  allowedLocations: ['%s/models/']
  trustedKeys: [.github/keys/signing.pub]
`

func manifestYAML(env, model, version, uri string, data []byte, signature, status, extra string) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf(`apiVersion: promobot/v1
kind: ModelDeployment
model: %s
environment: %s
version: "%s"
artifact:
  uri: %s
  sha256: %s
  size: %d
  signature: %s
lineage:
  trainingRun: run-1
  sourceCommit: %s
%svalidation:
  status: %s
`, model, env, version, uri, hex.EncodeToString(sum[:]), len(data), signature, strings.Repeat("ab", 20), extra, status)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	az := azuritetest.Shared(t)
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(t.Context(), "models", nil); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	f := &fixture{az: az, blobs: client, key: key}
	files := map[string]string{
		".github/promobot.yaml":    fmt.Sprintf(policyYAML, az.Endpoint),
		".github/keys/signing.pub": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}
	add := func(env, model, version, status, extra string, data []byte) {
		name := model + "/" + version + "/model.pkl"
		if _, err := client.UploadBuffer(t.Context(), "models", name, data, nil); err != nil {
			t.Fatal(err)
		}
		files["environments/"+env+"/"+model+".yaml"] = manifestYAML(env, model, version, az.BlobURL("models", name), data, f.sign(data), status, extra)
	}
	add("prod", "forecaster", "1.0.0", "passed", "  dataVersion: d1\n", []byte("forecaster 1.0.0 weights"))
	add("dev", "forecaster", "1.1.0", "pending", "", []byte("forecaster 1.1.0 weights"))
	add("prod", "pending", "1.0.0", "pending", "  dataVersion: d1\n", []byte("pending weights"))
	add("prod", "nolineage", "1.0.0", "passed", "", []byte("no lineage weights"))
	add("prod", "tampered", "1.0.0", "passed", "  dataVersion: d1\n", []byte("tampered weights"))
	addEvidence(t, f, files, add)
	files["environments/prod/elsewhere.yaml"] = manifestYAML("prod", "elsewhere", "1.0.0",
		"https://evilaccount.blob.core.windows.net/models/x.pkl", []byte("x"), f.sign([]byte("x")), "passed", "  dataVersion: d1\n")

	dir := filepath.Join(t.TempDir(), "repo")
	if _, err := gittest.InitBare(filepath.Dir(dir), "repo", "main"); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	sig := gittest.Signature{Name: "Ada", Email: "ada@example.org", When: when}
	f.head, err = gittest.CommitFiles(dir, gittest.Commit{Branch: "main", Files: files, Message: "pin models", Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	// Replace the tampered blob after its manifest was written.
	if _, err := client.UploadBuffer(t.Context(), "models", "tampered/1.0.0/model.pkl", []byte("tampered weightz"), nil); err != nil {
		t.Fatal(err)
	}
	if f.repo, err = gitrepo.Open(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.repo.Close() })
	store, err := artifact.NewBlobStore(artifact.Credentials{ConnectionString: az.ConnectionString}, &artifact.BlobStoreOptions{MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	f.stores = artifactcheck.Stores(store)
	return f
}

func (f *fixture) sign(data []byte) string {
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, f.key, sum[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (f *fixture) resolve(t *testing.T, env, model string, verify *bool, download string) (*Resolution, error) {
	t.Helper()
	h, err := f.repo.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	return Resolve(t.Context(), f.repo, Request{Environment: env, Model: model, Commit: h, Verify: verify},
		Deps{Stores: func() (artifact.Resolver, error) { return f.stores, nil }, Download: download})
}

func TestResolve(t *testing.T) {
	f := newFixture(t)
	off := false
	tests := []struct {
		name, env, model string
		verify           *bool
		wantVerified     bool
		wantRefused      string // substring of the refusal; empty means resolved
		wantNotFound     string // substring of a not-found error
	}{
		{name: "prod verifies by default", env: "prod", model: "forecaster", wantVerified: true},
		{name: "dev does not verify by default", env: "dev", model: "forecaster"},
		{name: "verification can be turned off", env: "prod", model: "forecaster", verify: &off},
		{name: "tampered artifact", env: "prod", model: "tampered", wantRefused: "sha256"},
		{name: "validation pending", env: "prod", model: "pending", wantRefused: `validation.status is "pending"; prod requires passed`},
		{name: "lineage missing", env: "prod", model: "nolineage", wantRefused: "lineage is missing dataVersion, required in prod"},
		{name: "disallowed account", env: "prod", model: "elsewhere", wantRefused: "evilaccount.blob.core.windows.net"},
		{name: "no manifest", env: "prod", model: "absent", wantNotFound: "no manifest at environments/prod/absent.yaml (pinned there: badsbom, elsewhere, farreport, farsbom, forecaster, nolineage, pending, tampered, withsbom)"},
		{name: "undeclared environment", env: "qa", model: "forecaster", wantNotFound: `environment "qa" is not declared in .github/promobot.yaml (declared: dev, prod)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.resolve(t, tt.env, tt.model, tt.verify, "")
			if tt.wantNotFound != "" {
				if failure.KindOf(err) != failure.NotFound || !strings.Contains(err.Error(), tt.wantNotFound) {
					t.Fatalf("err = %v (kind %v), want not found containing %q", err, failure.KindOf(err), tt.wantNotFound)
				}
				return
			}
			if tt.wantRefused != "" {
				var refused *RefusedError
				if !errors.As(err, &refused) || !strings.Contains(err.Error(), tt.wantRefused) {
					t.Fatalf("err = %v, want a refusal containing %q", err, tt.wantRefused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Verified != tt.wantVerified {
				t.Errorf("Verified = %v, want %v", res.Verified, tt.wantVerified)
			}
			if res.PinnedBy != f.head || !res.PinnedAt.Equal(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)) {
				t.Errorf("pinned by %s at %s, want %s", res.PinnedBy, res.PinnedAt, f.head)
			}
		})
	}
}

func TestDownload(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "model.pkl")
	res, err := f.resolve(t, "prod", "forecaster", nil, good)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil || string(data) != "forecaster 1.0.0 weights" || res.Path != good {
		t.Fatalf("downloaded %q, %v (path %q)", data, err, res.Path)
	}

	// A failed download leaves no file at the path, not even an older one.
	bad := filepath.Join(dir, "tampered.pkl")
	if err := os.WriteFile(bad, []byte("yesterday's model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.resolve(t, "prod", "tampered", nil, bad); err == nil {
		t.Fatal("tampered download succeeded")
	}
	if _, err := os.Stat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file left at %s after a failed download: %v", bad, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestStorageUnreachableIsNotARefusal(t *testing.T) {
	f := newFixture(t)
	// A store that points at a closed port: the outcome is unknown, so the
	// error must say a retry may help rather than refuse or, worse, pass.
	store, err := artifact.NewBlobStore(artifact.Credentials{ConnectionString: f.az.ConnectionString},
		&artifact.BlobStoreOptions{MaxRetries: -1, HTTPClient: &http.Client{Transport: refuseAll{}}})
	if err != nil {
		t.Fatal(err)
	}
	f.stores = artifactcheck.Stores(store)
	_, err = f.resolve(t, "prod", "forecaster", nil, "")
	var refused *RefusedError
	if err == nil || errors.As(err, &refused) {
		t.Fatalf("err = %v, want an unavailable error", err)
	}
}

type refuseAll struct{}

func (refuseAll) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}
