package main

// docs/examples/scoring_job.py, the scoring job of docs/scoring-jobs.md, run
// with python3 against a real promobot binary, a real git repository and a
// real Azurite, so the documented contract is the one the binary keeps.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/testing/gittest"
)

// scoringJob is a GitOps repository whose prod manifest of "ranker" points
// at an Azurite blob, and the state folder of the example job.
type scoringJob struct {
	t                   *testing.T
	python, script, bin string
	repo, gitDir, state string
	connection          string
	blobs               *azblob.Client
	endpoint            string
	commits             int
	// env is added to the job's environment.
	env []string
}

// buildPromobot builds the command into a temporary folder, with the
// compiler settings of `make build` (CGO_ENABLED=0, -trimpath,
// -buildvcs=false): the packages the repository's packaging tests and the
// demo's test compile that way too, so that the build cache holds one
// compilation of the module's dependencies for all of them rather than one
// per combination of settings.
func buildPromobot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "promobot")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-buildvcs=false", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// pin uploads stored as the blob of version and commits the prod manifest
// pinning version with the sha256 of want.
func (j *scoringJob) pin(version, want, stored string) {
	j.t.Helper()
	name := "ranker/" + version + "/model.bin"
	if _, err := j.blobs.UploadBuffer(j.t.Context(), "models", name, []byte(stored), nil); err != nil {
		j.t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(want))
	files := map[string]string{
		"environments/prod/ranker.yaml": fmt.Sprintf(`apiVersion: promobot/v1
kind: ModelDeployment
model: ranker
environment: prod
version: "%s"
artifact:
  uri: %s/models/%s
  sha256: %s
  size: %d
lineage:
  trainingRun: run-%s
  sourceCommit: %s
validation:
  status: passed
approval:
  ticket: CHG-5200
`, version, j.endpoint, name, hex.EncodeToString(sum[:]), len(want), version, strings.Repeat("c", 40)),
	}
	if j.commits == 0 {
		files[".github/promobot.yaml"] = fmt.Sprintf(`apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - {name: test, approvals: 0}
  - {name: prod, from: test, approvals: 1}
artifacts:
  allowLocal: true
  allowedLocations: ['%s/models/']
`, j.endpoint)
	}
	j.commits++
	sig := gittest.Signature{Name: "Ada", Email: "ada@example.org", When: time.Date(2026, 11, 20, 9, j.commits, 0, 0, time.UTC)}
	if _, err := gittest.CommitFiles(j.gitDir, gittest.Commit{Branch: "main", Files: files, Message: "Pin ranker " + version + "\n", Author: sig}); err != nil {
		j.t.Fatal(err)
	}
}

// run runs the job and returns its exit code, stdout and stderr.
func (j *scoringJob) run(t *testing.T, extra ...string) (int, string, string) {
	t.Helper()
	args := append([]string{j.script, "--promobot", j.bin, "--repo", j.repo, "--ref", "main", "--env", "prod", "--model", "ranker",
		"--state-dir", j.state, "--timeout", "120"}, extra...)
	cmd := exec.CommandContext(t.Context(), j.python, args...)
	cmd.Env = append(append(os.Environ(), "AZURE_STORAGE_CONNECTION_STRING="+j.connection, "PYTHONDONTWRITEBYTECODE=1"), j.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("run the scoring job: %v\n%s", err, stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

// current returns the job's current.json and the bytes of its model file.
func (j *scoringJob) current(t *testing.T) (map[string]string, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(j.state, "current.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]string
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatalf("current.json: %v\n%s", err, data)
	}
	model, err := os.ReadFile(state["path"])
	if err != nil {
		t.Fatal(err)
	}
	return state, string(model)
}

func TestScoringJobExample(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH")
	}
	t.Parallel()
	script, err := filepath.Abs(filepath.Join("..", "..", "docs", "examples", "scoring_job.py"))
	if err != nil {
		t.Fatal(err)
	}
	j := &scoringJob{t: t, python: python, script: script, repo: t.TempDir(), state: t.TempDir()}
	if j.gitDir, err = gittest.InitBare(j.repo, ".git", "main"); err != nil {
		t.Fatal(err)
	}
	j.bin = buildPromobot(t)
	const good = "ranker weights v1"
	kept := func(t *testing.T, code int, stdout string) {
		t.Helper()
		state, model := j.current(t)
		if state["version"] != "1.0.0" || model != good {
			t.Errorf("exit %d: current model %v holding %q, want 1.0.0 kept", code, state, model)
		}
		if want := "scoring with ranker 1.0.0 (17 bytes, sha256 "; !strings.HasPrefix(stdout, want) {
			t.Errorf("stdout %q, want it to start with %q", stdout, want)
		}
		if _, err := os.Stat(filepath.Join(j.state, "ranker.download")); !os.IsNotExist(err) {
			t.Errorf("a download was left behind: %v", err)
		}
	}

	storageRan := false
	// Azurite runs for this subtest only: it is stopped when it ends.
	t.Run("storage up", func(t *testing.T) {
		az := azuritetest.Start(t)
		j.connection, j.endpoint = az.ConnectionString, az.Endpoint
		if j.blobs, err = azblob.NewClientFromConnectionString(az.ConnectionString, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := j.blobs.CreateContainer(t.Context(), "models", nil); err != nil {
			t.Fatal(err)
		}
		storageRan = true

		t.Run("loads the verified model", func(t *testing.T) {
			j.pin("1.0.0", good, good)
			code, stdout, stderr := j.run(t)
			if code != 0 || !strings.Contains(stderr, "switched to ranker 1.0.0") {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			kept(t, code, stdout)
		})

		t.Run("refused: a tampered blob keeps the current model", func(t *testing.T) {
			j.pin("2.0.0", "ranker weights v2", "ranker weights v2, tampered")
			code, stdout, stderr := j.run(t)
			if code != 1 || !strings.Contains(stderr, "scoring-job: ALERT: refused: ") || !strings.Contains(stderr, "environments/prod/ranker.yaml") ||
				!strings.Contains(stderr, "keeping ranker 1.0.0") {
				t.Errorf("exit %d, stderr:\n%s", code, stderr)
			}
			kept(t, code, stdout)
		})

		t.Run("attestation required: not yet attested is retried, a replayed one refused", func(t *testing.T) {
			key, store := newAttestKey(t), t.TempDir()
			j.env = []string{"PROMOBOT_TRUSTED_KEYS=" + key.pub, "PROMOBOT_ATTESTATIONS=file:" + store, "PROMOBOT_EXPECTED_REPO=" + attestRepo}
			defer func() { j.env = nil }()
			const v3 = "ranker weights v3"
			j.pin("3.0.0", v3, v3)
			code, stdout, stderr := j.run(t, "--attempts", "2", "--retry-delay", "0.05")
			if code != 4 || !strings.Contains(stderr, "not yet attested") || !strings.Contains(stderr, "gave up after 2 attempts") {
				t.Errorf("exit %d, stderr:\n%s", code, stderr)
			}
			kept(t, code, stdout)

			repo, err := gitrepo.Open(j.repo)
			if err != nil {
				t.Fatal(err)
			}
			defer repo.Close()
			head, err := repo.Resolve("main")
			if err != nil {
				t.Fatal(err)
			}
			merge, blob, err := repo.LastChange(t.Context(), "environments/prod/ranker.yaml", head)
			if err != nil {
				t.Fatal(err)
			}
			// Genuine, but naming another merge: refused, and alerted.
			p := predicateFor(strings.Repeat("1", 40))
			p.Repository, p.Version = attestRepo, "3.0.0"
			bundle, err := attest.Issue(t.Context(), key.signer, attest.Subject{
				ArtifactURI: j.endpoint + "/models/ranker/3.0.0/model.bin", ArtifactSHA256: attest.ArtifactSHA256([]byte(v3)), ManifestBlob: blob.String(),
			}, p)
			if err != nil {
				t.Fatal(err)
			}
			loc, err := attest.Location{Repository: attestRepo, Environment: "prod", Model: "ranker", Version: "3.0.0", ManifestBlob: blob.String(), KeyID: key.signer.KeyID()}.Path()
			if err != nil {
				t.Fatal(err)
			}
			if err := (attest.FileStore{Dir: store}).Put(t.Context(), loc, bundle); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr = j.run(t)
			if code != 1 || !strings.Contains(stderr, "scoring-job: ALERT: refused: ") || !strings.Contains(stderr, "merge commit") || !strings.Contains(stderr, merge.String()) {
				t.Errorf("exit %d, stderr:\n%s", code, stderr)
			}
			kept(t, code, stdout)
		})
	})
	if !storageRan {
		t.Skip("Azurite is not available")
	}

	t.Run("unavailable: storage down, retried, then given up", func(t *testing.T) {
		code, stdout, stderr := j.run(t, "--attempts", "2", "--retry-delay", "0.05")
		for _, want := range []string{"attempt 1/2: unavailable: ", "attempt 2/2: unavailable: ", "gave up after 2 attempts", "keeping ranker 1.0.0"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		if code != 4 || strings.Contains(stderr, "ALERT") {
			t.Errorf("exit %d, want 4 and no alert", code)
		}
		kept(t, code, stdout)
	})
}
