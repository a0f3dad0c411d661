package attestissue_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/attest/issue"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/attestissue"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/testing/bottest"
	"github.com/example-org/promobot/internal/testing/evaltest"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

// storeDown is a file store whose writes fail while down is set.
type storeDown struct {
	attest.FileStore
	down bool
}

func (s *storeDown) Put(ctx context.Context, path string, data []byte) error {
	if s.down {
		return attest.ErrUnavailable
	}
	return s.FileStore.Put(ctx, path, data)
}

func newIssuer(t *testing.T) (*issue.Issuer, *storeDown, *attest.TrustRoot) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(k)
	s, err := attest.NewPEMSigner(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	root, err := attest.NewTrustRoot(attest.TrustedKey{ID: s.KeyID(), Public: s.Public()})
	if err != nil {
		t.Fatal(err)
	}
	store := &storeDown{FileStore: attest.FileStore{Dir: t.TempDir()}}
	return &issue.Issuer{Signer: s, Store: store, BotVersion: "test"}, store, root
}

// withIssuer is the bot with the attestations issued by is.
func withIssuer(t *testing.T, is *issue.Issuer) bottest.Options {
	t.Helper()
	return bottest.Options{Features: func(env bottest.Env) []bot.Feature {
		f, err := attestissue.New(attestissue.Options{
			Issuer: is,
			Client: func(id int64) (attestissue.API, error) { return env.Apps.Installation(id) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return []bot.Feature{f}
	}}
}

// attestationsOf returns the bundles stored, by path.
func attestationsOf(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".sigstore.json") {
			data, _ := os.ReadFile(p)
			out[p] = data
		}
		return nil
	})
	return out
}

// verifyPin checks the stored attestation of the prod manifest of model
// at main's tip as a scoring job would: the blob and the merge that last
// changed it, against the trust root.
func verifyPin(t *testing.T, h *bottest.Harness, store attest.Store, root *attest.TrustRoot, model string) (*attest.Verified, error) {
	t.Helper()
	repo, err := gitrepo.Open(h.RepoPath)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	p := evaltest.ManifestPath("prod", model)
	merge, blob, err := repo.LastChange(t.Context(), p, plumbing.NewHash(h.Tip("main")))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := repo.FS(plumbing.NewHash(h.Tip("main")))
	if err != nil {
		t.Fatal(err)
	}
	in, err := repo.BuildInput(t.Context(), plumbing.NewHash(h.Tip("main")), plumbing.NewHash(h.Tip("main")), gitrepo.InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = fsys
	m := in.Base[p].Manifest
	var last error = attest.ErrNotFound
	for _, id := range root.KeyIDs() {
		loc, err := attest.Location{Repository: bottest.Owner + "/" + bottest.Repo, Environment: "prod", Model: m.Model, Version: m.Version, ManifestBlob: blob.String(), KeyID: id}.Path()
		if err != nil {
			t.Fatal(err)
		}
		data, err := store.Get(t.Context(), loc)
		if err != nil {
			last = err
			continue
		}
		return attest.Verify(data, root, attest.Expectation{Repository: bottest.Owner + "/" + bottest.Repo, Environment: "prod", Model: m.Model,
			Version: m.Version, ManifestBlob: blob.String(), ArtifactSHA256: m.Artifact.SHA256, MergeCommit: merge.String(), ManifestPath: p, ArtifactURI: m.Artifact.URI})
	}
	return nil, last
}

func TestAttestationIssuedAtAnApprovedMerge(t *testing.T) {
	t.Parallel()
	is, store, root := newIssuer(t)
	h := bottest.New(t, withIssuer(t, is))
	n, merge := h.ApprovedMerge("", nil)
	h.Idle()

	v, err := verifyPin(t, h, store, root, evaltest.Forecaster)
	if err != nil {
		t.Fatalf("the merged pin has no valid attestation: %v", err)
	}
	p := v.Statement.Predicate
	if p.PullRequest == nil || p.PullRequest.Number != n || p.Commits.Merge != merge || p.CheckRunID == 0 || len(p.Approvers) < 2 {
		t.Errorf("predicate = %+v", p)
	}
	for _, a := range p.Approvers {
		if a.ID == 0 || a.ReviewID == 0 || a.CommitID != p.Commits.Head {
			t.Errorf("approver %+v", a)
		}
	}
	run := h.Latest(merge)
	if run.Name != bot.DefaultCheckName+attestissue.CheckSuffix || run.Conclusion != "success" {
		t.Errorf("check run on the merge = %s %s %q", run.Name, run.Conclusion, run.Title)
	}

	// The documented Python verifier accepts what the bot produced.
	pythonVerifies(t, is.Signer, store.Dir, v)

	// A repeated push delivery issues nothing new.
	before := attestationsOf(t, store.Dir)
	h.Push(merge, merge, "mara")
	h.Resync(false)
	if after := attestationsOf(t, store.Dir); len(after) != len(before) {
		t.Errorf("attestations %d → %d", len(before), len(after))
	}
}

func TestDirectPushGetsNoAttestation(t *testing.T) {
	t.Parallel()
	is, store, root := newIssuer(t)
	h := bottest.New(t, withIssuer(t, is))
	lasso := evaltest.ManifestPath("prod", evaltest.Unbundled)
	sha := h.DirectPush(map[string]string{lasso: evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V2)}, "Hotfix lasso in prod")
	h.Idle()
	if got := attestationsOf(t, store.Dir); len(got) != 0 {
		t.Fatalf("attested a direct push: %v", got)
	}
	run := h.Latest(sha)
	if run.Conclusion != "failure" || !strings.Contains(run.Title, "pushed around review") {
		t.Errorf("check run on the push = %s %q", run.Conclusion, run.Title)
	}
	if _, err := verifyPin(t, h, store, root, evaltest.Unbundled); err == nil {
		t.Error("the pushed pin verifies")
	}
}

func TestResyncIssuesWhatTheStoreMissed(t *testing.T) {
	t.Parallel()
	is, store, root := newIssuer(t)
	h := bottest.New(t, withIssuer(t, is))
	store.down = true
	h.ApprovedMerge("", nil)
	h.Idle()
	if _, err := verifyPin(t, h, store, root, evaltest.Forecaster); err == nil {
		t.Fatal("attested while the store was down")
	}
	store.down = false
	h.Resync(false)
	if _, err := verifyPin(t, h, store, root, evaltest.Forecaster); err != nil {
		t.Fatalf("the resync did not issue the missed attestation: %v", err)
	}
}

func TestAttestationIssuedToAzurite(t *testing.T) {
	t.Parallel()
	az := azuritetest.Start(t)
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(t.Context(), "attestations", nil); err != nil {
		t.Fatal(err)
	}
	store, err := attest.OpenStore("azblob://"+azuritetest.AccountName+"/attestations/gitops",
		artifact.Credentials{ConnectionString: az.ConnectionString}, &attest.StoreOptions{BlobServiceURL: az.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	is, _, root := newIssuer(t)
	is.Store = store
	h := bottest.New(t, withIssuer(t, is))
	_, merge := h.ApprovedMerge("", nil)
	h.Idle()
	v, err := verifyPin(t, h, store, root, evaltest.Forecaster)
	if err != nil {
		t.Fatalf("no valid attestation in Azurite: %v", err)
	}
	if v.Statement.Predicate.Commits.Merge != merge {
		t.Errorf("merge = %s, want %s", v.Statement.Predicate.Commits.Merge, merge)
	}
	// Issued again (a restarted bot's resync), the write-once store keeps
	// the first and the pass succeeds.
	is2 := &issue.Issuer{Signer: is.Signer, Store: store, BotVersion: "test"}
	h.Start(withIssuer(t, is2))
	h.Resync(false)
}

func TestOnePushWithTwoMergesJudgesEach(t *testing.T) {
	t.Parallel()
	is, store, root := newIssuer(t)
	h := bottest.New(t, withIssuer(t, is))
	before := h.Tip("main")
	lasso := evaltest.ManifestPath("prod", evaltest.Unbundled)
	direct := h.Commit("main", map[string]string{lasso: evaltest.Manifest("prod", evaltest.Unbundled, evaltest.V2)}, "Hotfix lasso in prod", "pat", bottest.MustTime(t, evaltest.DefaultNow))
	n, head := h.Promotion(nil)
	h.PullRequestEvent(n, "opened")
	h.Review(n, "mara", "APPROVED")
	h.Review(n, "rita", "APPROVED")
	h.Want("approved", head, "success", nil, nil)
	merge, err := h.Em.Merge(bottest.Owner, bottest.Repo, n, githubtest.MergeOptions{User: "mara"})
	if err != nil {
		t.Fatal(err)
	}
	h.Push(before, merge, "mara")
	h.Idle()
	if _, err := verifyPin(t, h, store, root, evaltest.Forecaster); err != nil {
		t.Errorf("the merge is not attested: %v", err)
	}
	if _, err := verifyPin(t, h, store, root, evaltest.Unbundled); err == nil {
		t.Error("the direct commit is attested")
	}
	if run := h.Latest(direct); run.Conclusion != "failure" || !strings.Contains(run.Title, "pushed around review") {
		t.Errorf("check run on the direct commit = %s %q", run.Conclusion, run.Title)
	}
}

// pythonVerifies runs docs/examples/verify_attestation.py on the bundle
// that v was read from, when a python3 with cryptography is installed.
func pythonVerifies(t *testing.T, signer attest.Signer, dir string, v *attest.Verified) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import cryptography").Run() != nil {
		if os.Getenv("PROMOBOT_REQUIRE_PYTHON_CRYPTOGRAPHY") == "1" {
			t.Fatal("no python3 with cryptography")
		}
		t.Log("skipping the Python verifier: no python3 with cryptography")
		return
	}
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(t.TempDir(), "bot.pub")
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	p, sub := v.Statement.Predicate, v.Statement.Subject
	var bundle string
	for path := range attestationsOf(t, dir) {
		if strings.Contains(path, sub.ManifestBlob) {
			bundle = path
		}
	}
	out, err := exec.Command(py, filepath.Join("..", "..", "..", "docs", "examples", "verify_attestation.py"),
		"--public-key", pub, "--bundle", bundle, "--artifact-sha256", sub.ArtifactSHA256, "--repository", p.Repository,
		"--environment", p.Environment, "--model", p.Model, "--version", p.Version,
		"--manifest-blob", sub.ManifestBlob, "--merge-commit", p.Commits.Merge).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK:") {
		t.Errorf("the Python verifier: %v\n%s", err, out)
	}
}
