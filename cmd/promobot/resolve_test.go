package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// artifactRepo is a working tree whose manifests point at Azurite blobs.
type artifactRepo struct {
	dir, connection string
	base, head      string
	endpoint        string // Azurite's blob endpoint
}

// newArtifactRepo commits, on main, a prod manifest whose blob verifies and
// one whose blob was replaced after pinning; on branch "promote", a test
// manifest whose blob was replaced too.
func newArtifactRepo(t *testing.T) *artifactRepo {
	t.Helper()
	az := azuritetest.Shared(t)
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(t.Context(), "models", nil); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	files := map[string]string{
		".github/promobot.yaml": fmt.Sprintf(`apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - {name: test, approvals: 0}
  - {name: prod, from: test, approvals: 1, requireSignature: true}
artifacts:
  allowLocal: true
  allowedLocations: ['%s/models/']
  trustedKeys: [keys/signing.pub]
`, az.Endpoint),
		"keys/signing.pub": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}
	manifestFor := func(env, model string, data []byte) string {
		name := env + "/" + model + ".pkl"
		if _, err := client.UploadBuffer(t.Context(), "models", name, data, nil); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		sig, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])
		return fmt.Sprintf("apiVersion: promobot/v1\nkind: ModelDeployment\nmodel: %s\nenvironment: %s\nversion: \"1.0.0\"\nartifact:\n  uri: %s\n  sha256: %s\n  signature: %s\nlineage:\n  trainingRun: run-7\n  sourceCommit: %s\nvalidation:\n  status: passed\n",
			model, env, az.BlobURL("models", name), hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sig), strings.Repeat("c", 40))
	}
	files["environments/prod/good.yaml"] = manifestFor("prod", "good", []byte("good weights"))
	files["environments/prod/swapped.yaml"] = manifestFor("prod", "swapped", []byte("swapped weights"))
	branchFiles := map[string]string{"environments/test/fresh.yaml": manifestFor("test", "fresh", []byte("fresh weights"))}
	for name, data := range map[string]string{"prod/swapped.pkl": "swapped weightz", "test/fresh.pkl": "fresh weightz"} {
		if _, err := client.UploadBuffer(t.Context(), "models", name, []byte(data), nil); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	if _, err := gittest.InitBare(dir, ".git", "main"); err != nil {
		t.Fatal(err)
	}
	for p, content := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sig := gittest.Signature{Name: "Ada", Email: "ada@example.org", When: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	r := &artifactRepo{dir: dir, connection: az.ConnectionString, endpoint: az.Endpoint}
	gitDir := filepath.Join(dir, ".git")
	if r.base, err = gittest.CommitFiles(gitDir, gittest.Commit{Branch: "main", Files: files, Message: "pin", Author: sig}); err != nil {
		t.Fatal(err)
	}
	if r.head, err = gittest.CommitFiles(gitDir, gittest.Commit{Branch: "promote", Parents: []string{r.base}, Files: branchFiles, Message: "register fresh", Author: sig}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *artifactRepo) run(t *testing.T, args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string {
			if k == "AZURE_STORAGE_CONNECTION_STRING" {
				return r.connection
			}
			return ""
		},
		getwd: func() (string, error) { return r.dir, nil },
	}
	code := run(t.Context(), args, e)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestResolveCommand(t *testing.T) {
	r := newArtifactRepo(t)

	got := r.run(t, "resolve", "--env", "prod", "--model", "good", "--ref", "main", "--format", "env")
	if got.code != 0 {
		t.Fatalf("exit %d, stderr %s", got.code, got.stderr)
	}
	for _, want := range []string{"MODEL_VERSION=1.0.0\n", "MODEL_SHA256=", "MODEL_COMMIT=" + r.base + "\n", "MODEL_PINNED_BY=" + r.base + "\n"} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("env output lacks %q:\n%s", want, got.stdout)
		}
	}

	got = r.run(t, "resolve", "--env", "prod", "--model", "good", "--ref", "main", "--format", "json")
	var out resolutionJSON
	if err := json.Unmarshal([]byte(got.stdout), &out); err != nil || !out.Verified || out.Version != "1.0.0" {
		t.Errorf("json output %q: %v", got.stdout, err)
	}
	assertSchema(t, "resolve-output.schema.json", got.stdout)
	if !strings.Contains(got.stdout, `"status": "passed"`) || strings.Contains(got.stdout, `"Status"`) {
		t.Errorf("verification steps are not camelCase with named statuses:\n%s", got.stdout)
	}

	got = r.run(t, "resolve", "--env", "prod", "--model", "swapped", "--ref", "main", "--download", filepath.Join(t.TempDir(), "m.pkl"))
	if got.code != 1 || got.stdout != "" || strings.Count(got.stderr, "\n") != 1 || !strings.Contains(got.stderr, "refused: environments/prod/swapped.yaml") {
		t.Errorf("tampered artifact: exit %d, stdout %q, stderr %q; want exit 1 and one line", got.code, got.stdout, got.stderr)
	}

	got = r.run(t, "resolve", "--env", "prod")
	if got.code != 2 {
		t.Errorf("missing --model: exit %d, want 2", got.code)
	}
}

func TestValidateVerifiesArtifacts(t *testing.T) {
	r := newArtifactRepo(t)
	got := r.run(t, "validate", "--verify-artifacts")
	if got.code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", got.code, got.stdout, got.stderr)
	}
	if !strings.Contains(got.stdout, "environments/prod/swapped.yaml:8:11: artifact does not verify:") || strings.Contains(got.stdout, "good.yaml") {
		t.Errorf("output:\n%s", got.stdout)
	}
	if got := r.run(t, "validate"); got.code != 0 {
		t.Errorf("without --verify-artifacts: exit %d\n%s", got.code, got.stdout)
	}
}

func TestCheckVerifiesArtifacts(t *testing.T) {
	r := newArtifactRepo(t)
	got := r.run(t, "check", "--base", "main", "--head", "promote", "--verify-artifacts", "--format", "json")
	assertSchema(t, "check-output.schema.json", got.stdout)
	var res struct {
		Verdict string `json:"verdict"`
		Rules   []struct {
			Family, Status, File, Message string
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &res); err != nil {
		t.Fatalf("%v: %s %s", err, got.stdout, got.stderr)
	}
	if got.code != 1 || res.Verdict != "fail" {
		t.Errorf("exit %d verdict %s, want 1 and fail", got.code, res.Verdict)
	}
	found := false
	for _, rule := range res.Rules {
		if rule.Family == "artifacts" && rule.File == "environments/test/fresh.yaml" {
			found = rule.Status == "fail" && strings.Contains(rule.Message, "sha256")
			if !found {
				t.Errorf("artifacts rule: %+v", rule)
			}
		}
	}
	if !found {
		t.Errorf("no failing artifacts rule in %s", got.stdout)
	}
}
