package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/testing/azuritetest"
	"github.com/example-org/promobot/internal/testing/gittest"
	"github.com/example-org/promobot/internal/testing/keyvaulttest"
)

const attestRepo = "example-org/models-gitops"

// attestKey is a signing key with its public PEM file.
type attestKey struct {
	signer *attest.PEMSigner
	pub    string
}

func newAttestKey(t *testing.T) attestKey {
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
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pub := filepath.Join(t.TempDir(), "key.pub")
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return attestKey{signer: s, pub: pub}
}

// attestFixture is a GitOps repository whose prod manifest of "ranker"
// points at Azurite blobs, with an attestation store.
type attestFixture struct {
	t                      *testing.T
	az                     *azuritetest.Azurite
	blobs                  *azblob.Client
	dir, gitDir, storeDir  string
	commits                int
	bot, baseline, retired attestKey
}

func newAttestFixture(t *testing.T) *attestFixture {
	t.Helper()
	az := azuritetest.Shared(t)
	client, err := azblob.NewClientFromConnectionString(az.ConnectionString, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"models", "attestations"} {
		if _, err := client.CreateContainer(t.Context(), c, nil); err != nil {
			t.Fatal(err)
		}
	}
	f := &attestFixture{t: t, az: az, blobs: client, dir: t.TempDir(), storeDir: t.TempDir(),
		bot: newAttestKey(t), baseline: newAttestKey(t), retired: newAttestKey(t)}
	if _, err := gittest.InitBare(f.dir, ".git", "main"); err != nil {
		t.Fatal(err)
	}
	f.gitDir = filepath.Join(f.dir, ".git")
	return f
}

// manifest returns the prod manifest of ranker at version, whose artifact
// holds weights; ticket tells edits of the same version apart.
func (f *attestFixture) manifest(version, weights, ticket string) string {
	f.t.Helper()
	name := "ranker/" + version + "/model.bin"
	if _, err := f.blobs.UploadBuffer(f.t.Context(), "models", name, []byte(weights), nil); err != nil {
		f.t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(weights))
	return fmt.Sprintf(`apiVersion: promobot/v1
kind: ModelDeployment
model: ranker
environment: prod
version: "%s"
artifact:
  uri: %s
  sha256: %s
  size: %d
lineage:
  trainingRun: run-%s
  sourceCommit: %s
validation:
  status: passed
approval:
  ticket: %s
`, version, f.az.BlobURL("models", name), hex.EncodeToString(sum[:]), len(weights), version, strings.Repeat("c", 40), ticket)
}

// commit commits the prod manifest on main and returns the commit and the
// manifest's blob id.
func (f *attestFixture) commit(content string) (commit, blob string) {
	f.t.Helper()
	files := map[string]string{"environments/prod/ranker.yaml": content}
	if f.commits == 0 {
		files[".github/promobot.yaml"] = fmt.Sprintf(`apiVersion: promobot/v1
kind: PromotionPolicy
environments:
  - {name: test, approvals: 0}
  - {name: prod, from: test, approvals: 1}
artifacts:
  allowLocal: true
  allowedLocations: ['%s/models/']
`, f.az.Endpoint)
	}
	f.commits++
	sig := gittest.Signature{Name: "Ada", Email: "ada@example.org", When: time.Date(2026, 11, 20, 9, f.commits, 0, 0, time.UTC)}
	c, err := gittest.CommitFiles(f.gitDir, gittest.Commit{Branch: "main", Files: files, Message: fmt.Sprintf("change %d\n", f.commits), Author: sig})
	if err != nil {
		f.t.Fatal(err)
	}
	return c, gitBlobID(content)
}

// gitBlobID is git's blob id of content.
func gitBlobID(content string) string {
	sum := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content)))
	return hex.EncodeToString(sum[:])
}

// attestCreds are the Azurite credentials of the attestation store.
func attestCreds(f *attestFixture) artifact.Credentials {
	return artifact.Credentials{ConnectionString: f.az.ConnectionString}
}

// remove removes what put stored.
func (f *attestFixture) remove(key attestKey, version, blob string) {
	f.t.Helper()
	if err := os.Remove(f.put(key, version, blob, nil)); err != nil {
		f.t.Fatal(err)
	}
}

// pin describes what an attestation binds.
type pin struct {
	repo, env, version, weights, blob, merge string
	baseline                                 bool
}

// bundle signs an attestation of p with key.
func (f *attestFixture) bundle(key attestKey, p pin) []byte {
	f.t.Helper()
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	pred := attest.Predicate{
		Repository: p.repo, Environment: p.env, Model: "ranker", Version: p.version,
		ChangeKind: attest.ChangePromotion, ManifestPath: "environments/" + p.env + "/ranker.yaml",
		PullRequest: &attest.PullRequest{Number: 7, URL: "https://github.com/" + p.repo + "/pull/7", Author: "alice"},
		Approvers:   []attest.Approver{{Login: "bob", ID: 1002, ReviewID: 9001, Time: at, CommitID: strings.Repeat("4", 40)}},
		Commits:     attest.Commits{Head: strings.Repeat("4", 40), Merge: p.merge, FirstParent: strings.Repeat("5", 40)},
		Rules:       []attest.RuleOutcome{{Family: "approvals", Status: "pass"}},
		CheckRunID:  77, BotVersion: "test", SignedAt: at,
	}
	if p.baseline {
		pred.ChangeKind, pred.Baseline, pred.PullRequest, pred.CheckRunID = attest.ChangeBaseline, true, nil, 0
		pred.Approvers = []attest.Approver{}
		pred.Commits = attest.Commits{Merge: p.merge}
	}
	name := "ranker/" + p.version + "/model.bin"
	b, err := attest.Issue(f.t.Context(), key.signer, attest.Subject{
		ArtifactURI: f.az.BlobURL("models", name), ArtifactSHA256: attest.ArtifactSHA256([]byte(p.weights)), ManifestBlob: p.blob,
	}, pred)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// put stores data in the file store where a reader trusting key looks for
// the attestation of the prod pin of version with blob, replacing whatever
// is there (as someone with write access to the folder could).
func (f *attestFixture) put(key attestKey, version, blob string, data []byte) string {
	f.t.Helper()
	loc, err := attest.Location{Repository: attestRepo, Environment: "prod", Model: "ranker", Version: version, ManifestBlob: blob, KeyID: key.signer.KeyID()}.Path()
	if err != nil {
		f.t.Fatal(err)
	}
	full := filepath.Join(f.storeDir, filepath.FromSlash(loc))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
	return full
}

// run runs promobot with the fixture's repository, Azurite credentials and
// no GitHub token: nothing here may ask GitHub.
func (f *attestFixture) run(t *testing.T, vars map[string]string, opts func(*env), args ...string) cliResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: func(k string) string {
			if k == "AZURE_STORAGE_CONNECTION_STRING" {
				return f.az.ConnectionString
			}
			return vars[k]
		},
		getwd:              func() (string, error) { return f.dir, nil },
		attestStoreOptions: &attest.StoreOptions{BlobServiceURL: f.az.Endpoint, MaxRetries: -1},
	}
	if opts != nil {
		opts(e)
	}
	code := run(t.Context(), args, e)
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// resolveArgs are resolve's arguments for the prod pin with the bot key
// and the baseline key trusted.
func (f *attestFixture) resolveArgs(extra ...string) []string {
	return append([]string{"resolve", "--env", "prod", "--model", "ranker", "--ref", "main",
		"--trusted-key", f.bot.pub, "--baseline-key", f.baseline.pub,
		"--attestations", "file:" + f.storeDir, "--expected-repo", attestRepo}, extra...)
}

func TestResolveRequiresAttestation(t *testing.T) {
	t.Parallel()
	f := newAttestFixture(t)
	m1 := f.manifest("1.0.0", "weights one", "CHG-1")
	c1, b1 := f.commit(m1)
	f.put(f.bot, "1.0.0", b1, f.bundle(f.bot, pin{repo: attestRepo, env: "prod", version: "1.0.0", weights: "weights one", blob: b1, merge: c1}))

	// Attested: resolves, and the JSON names the attestation.
	got := f.run(t, nil, nil, f.resolveArgs("--format", "json")...)
	if got.code != 0 {
		t.Fatalf("attested pin: exit %d, stderr %s", got.code, got.stderr)
	}
	assertSchema(t, "resolve-output.schema.json", got.stdout)
	var out resolutionJSON
	if err := json.Unmarshal([]byte(got.stdout), &out); err != nil || out.Attestation == nil {
		t.Fatalf("json output %q: %v", got.stdout, err)
	}
	want := attestationJSON{Status: "verified", KeyID: f.bot.signer.KeyID(), MergeCommit: c1, ManifestBlob: b1, Approvers: []string{"bob"}}
	if fmt.Sprint(*out.Attestation) != fmt.Sprint(want) {
		t.Errorf("attestation = %+v, want %+v", *out.Attestation, want)
	}

	// The same configuration from the environment.
	vars := map[string]string{
		"PROMOBOT_TRUSTED_KEYS": f.bot.pub + "," + f.retired.pub, "PROMOBOT_ATTESTATIONS": "file:" + f.storeDir,
		"PROMOBOT_EXPECTED_REPO": attestRepo,
	}
	if got := f.run(t, vars, nil, "resolve", "--env", "prod", "--model", "ranker", "--ref", "main"); got.code != 0 || !strings.Contains(got.stdout, "attested: verified") {
		t.Errorf("configured from the environment: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}

	// A download is written only after the attestation verified.
	dl := filepath.Join(t.TempDir(), "model.bin")
	if got := f.run(t, nil, nil, f.resolveArgs("--download", dl)...); got.code != 0 {
		t.Errorf("download: exit %d, stderr %s", got.code, got.stderr)
	} else if data, _ := os.ReadFile(dl); string(data) != "weights one" {
		t.Errorf("downloaded %q", data)
	}
}

// TestResolveAttestationTampering replays, forges and removes attestations
// in the store and rewrites the repository's history; each must be
// refused (exit 1) or, when nothing is stored yet, reported as retryable
// (exit 4), and never resolve.
func TestResolveAttestationTampering(t *testing.T) {
	f := newAttestFixture(t)
	c1, b1 := f.commit(f.manifest("1.0.0", "weights one", "CHG-1"))
	v1 := pin{repo: attestRepo, env: "prod", version: "1.0.0", weights: "weights one", blob: b1, merge: c1}
	f.put(f.bot, "1.0.0", b1, f.bundle(f.bot, v1))
	c2, b2 := f.commit(f.manifest("2.0.0", "weights two", "CHG-2"))
	v2 := pin{repo: attestRepo, env: "prod", version: "2.0.0", weights: "weights two", blob: b2, merge: c2}
	genuine2 := f.bundle(f.bot, v2)
	f.put(f.bot, "2.0.0", b2, genuine2)
	// An edit of 2.0.0 (new ticket): a new manifest blob of the same version.
	c3, b3 := f.commit(f.manifest("2.0.0", "weights two", "CHG-3"))
	v3 := pin{repo: attestRepo, env: "prod", version: "2.0.0", weights: "weights two", blob: b3, merge: c3}

	with := func(p pin, change func(*pin)) pin { change(&p); return p }
	cases := []struct {
		name     string
		stored   func() []byte // what is stored for the current pin (v3), nil for nothing
		trusted  []string      // extra resolve flags
		wantCode int
		wantText string
	}{
		{name: "genuine", stored: func() []byte { return f.bundle(f.bot, v3) }, wantCode: 0},
		{name: "not yet attested", stored: nil, wantCode: 4, wantText: "not yet attested"},
		{name: "other environment replayed", stored: func() []byte { return f.bundle(f.bot, with(v3, func(p *pin) { p.env = "test" })) }, wantCode: 1, wantText: "environment"},
		{name: "other version replayed", stored: func() []byte {
			return f.bundle(f.bot, with(v3, func(p *pin) { p.version = "1.0.0"; p.weights = "weights one" }))
		}, wantCode: 1, wantText: "version"},
		{name: "other repository replayed", stored: func() []byte { return f.bundle(f.bot, with(v3, func(p *pin) { p.repo = "example-org/other" })) }, wantCode: 1, wantText: "repository"},
		{name: "older manifest blob of the same version", stored: func() []byte { return genuine2 }, wantCode: 1, wantText: "manifest blob"},
		{name: "other merge commit", stored: func() []byte { return f.bundle(f.bot, with(v3, func(p *pin) { p.merge = c2 })) }, wantCode: 1, wantText: "merge commit"},
		{name: "other artifact digest", stored: func() []byte { return f.bundle(f.bot, with(v3, func(p *pin) { p.weights = "other weights" })) }, wantCode: 1, wantText: "artifact"},
		{name: "untrusted key", stored: func() []byte { return f.bundle(newAttestKey(t), v3) }, wantCode: 1, wantText: "not trusted"},
		{name: "retired key", stored: func() []byte { return f.bundle(f.retired, v3) }, wantCode: 1, wantText: "not trusted"},
		{name: "baseline signed by the bot key", stored: func() []byte { return f.bundle(f.bot, with(v3, func(p *pin) { p.baseline = true })) }, wantCode: 1, wantText: "not a baseline key"},
		{name: "merge attestation signed by a baseline key", stored: func() []byte { return f.bundle(f.baseline, v3) }, wantCode: 1, wantText: "baseline attestations only"},
		{name: "truncated bundle", stored: func() []byte { b := f.bundle(f.bot, v3); return b[:len(b)/2] }, wantCode: 1, wantText: "not a Sigstore bundle"},
		{name: "signature of another bundle", stored: func() []byte { return swapSignature(t, f.bundle(f.bot, v3), genuine2) }, wantCode: 1, wantText: "does not verify"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.remove(f.bot, "2.0.0", b3)
			if tc.stored != nil {
				f.put(f.bot, "2.0.0", b3, tc.stored())
			}
			got := f.run(t, nil, nil, f.resolveArgs(tc.trusted...)...)
			if got.code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", got.code, tc.wantCode, got.stdout, got.stderr)
			}
			if tc.wantCode != 0 && (got.stdout != "" || strings.Count(got.stderr, "\n") != 1 || !strings.Contains(got.stderr, tc.wantText)) {
				t.Errorf("stdout %q, stderr %q; want one line naming %q", got.stdout, got.stderr, tc.wantText)
			}
		})
	}

	t.Run("refused download leaves no file", func(t *testing.T) {
		f.put(f.bot, "2.0.0", b3, genuine2)
		dl := filepath.Join(t.TempDir(), "model.bin")
		if err := os.WriteFile(dl, []byte("older bytes"), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := f.run(t, nil, nil, f.resolveArgs("--download", dl)...); got.code != 1 {
			t.Errorf("exit %d, want 1: %s", got.code, got.stderr)
		}
		if _, err := os.Stat(dl); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a file is left at the download path after a refusal: %v", err)
		}
	})

	t.Run("baseline attestation from a baseline key", func(t *testing.T) {
		f.remove(f.bot, "2.0.0", b3)
		f.put(f.baseline, "2.0.0", b3, f.bundle(f.baseline, with(v3, func(p *pin) { p.baseline = true })))
		got := f.run(t, nil, nil, f.resolveArgs("--format", "json")...)
		if got.code != 0 || !strings.Contains(got.stdout, `"status": "baseline"`) {
			t.Errorf("exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
		}
		// The same bundle is refused when its key is not a baseline key.
		got = f.run(t, nil, nil, "resolve", "--env", "prod", "--model", "ranker", "--ref", "main",
			"--trusted-key", f.bot.pub, "--trusted-key", f.baseline.pub, "--attestations", "file:"+f.storeDir, "--expected-repo", attestRepo)
		if got.code != 1 || !strings.Contains(got.stderr, "not a baseline key") {
			t.Errorf("baseline from a merge key: exit %d, stderr %q", got.code, got.stderr)
		}
		f.remove(f.baseline, "2.0.0", b3)
	})

	t.Run("retired key at its own path", func(t *testing.T) {
		// A bundle of a key no longer trusted is never looked for: not yet
		// attested by a trusted key, until the pin is re-signed.
		f.put(f.retired, "2.0.0", b3, f.bundle(f.retired, v3))
		got := f.run(t, nil, nil, f.resolveArgs()...)
		if got.code != 4 || !strings.Contains(got.stderr, "not yet attested") {
			t.Errorf("exit %d, stderr %q; want 4, not yet attested", got.code, got.stderr)
		}
		f.remove(f.retired, "2.0.0", b3)
	})

	t.Run("older approved manifest pushed again", func(t *testing.T) {
		// A direct push restores the approved 1.0.0 manifest byte for byte:
		// its blob and attestation exist, but the commit that last changed
		// the path is the push, not the attested merge.
		c4, b4 := f.commit(f.manifest("1.0.0", "weights one", "CHG-1"))
		if b4 != b1 {
			t.Fatalf("blob %s, want the older %s", b4, b1)
		}
		got := f.run(t, nil, nil, f.resolveArgs()...)
		if got.code != 1 || !strings.Contains(got.stderr, "merge commit") || !strings.Contains(got.stderr, c4) {
			t.Errorf("exit %d, stderr %q; want a refusal naming merge commit %s", got.code, got.stderr, c4)
		}
	})
}

// swapSignature returns bundle with the signature of other.
func swapSignature(t *testing.T, bundle, other []byte) []byte {
	t.Helper()
	var a, b map[string]any
	if err := json.Unmarshal(bundle, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(other, &b); err != nil {
		t.Fatal(err)
	}
	a["dsseEnvelope"].(map[string]any)["signatures"] = b["dsseEnvelope"].(map[string]any)["signatures"]
	out, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResolveAttestationStoreOnAzurite(t *testing.T) {
	f := newAttestFixture(t)
	c1, b1 := f.commit(f.manifest("1.0.0", "weights one", "CHG-1"))
	store, err := attest.OpenStore("azblob://"+f.az.Account+"/attestations/promotions", attestCreds(f), &attest.StoreOptions{BlobServiceURL: f.az.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"resolve", "--env", "prod", "--model", "ranker", "--ref", "main", "--trusted-key", f.bot.pub,
		"--attestations", "azblob://" + f.az.Account + "/attestations/promotions", "--expected-repo", attestRepo}

	if got := f.run(t, nil, nil, args...); got.code != 4 || !strings.Contains(got.stderr, "not yet attested") {
		t.Errorf("nothing stored: exit %d, stderr %q; want 4, not yet attested", got.code, got.stderr)
	}
	loc, err := attest.Location{Repository: attestRepo, Environment: "prod", Model: "ranker", Version: "1.0.0", ManifestBlob: b1, KeyID: f.bot.signer.KeyID()}.Path()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(t.Context(), loc, f.bundle(f.bot, pin{repo: attestRepo, env: "prod", version: "1.0.0", weights: "weights one", blob: b1, merge: c1})); err != nil {
		t.Fatal(err)
	}
	if got := f.run(t, nil, nil, args...); got.code != 0 {
		t.Errorf("stored: exit %d, stderr %q", got.code, got.stderr)
	}
	// Replaced in the container (by someone who can write it despite the
	// immutability policy): refused.
	if _, err := f.blobs.UploadBuffer(t.Context(), "attestations", "promotions/"+loc, f.bundle(f.bot, pin{repo: attestRepo, env: "prod", version: "1.0.0", weights: "weights one", blob: b1, merge: strings.Repeat("9", 40)}), nil); err != nil {
		t.Fatal(err)
	}
	if got := f.run(t, nil, nil, args...); got.code != 1 || !strings.Contains(got.stderr, "merge commit") {
		t.Errorf("replaced: exit %d, stderr %q; want 1", got.code, got.stderr)
	}
	// Store unreachable: retry.
	down := func(e *env) {
		e.attestStoreOptions = &attest.StoreOptions{BlobServiceURL: "http://127.0.0.1:1/" + f.az.Account, MaxRetries: -1}
	}
	if got := f.run(t, nil, down, args...); got.code != 4 {
		t.Errorf("store down: exit %d, stderr %q; want 4", got.code, got.stderr)
	}
}

func TestResolveTrustRootConfiguration(t *testing.T) {
	f := newAttestFixture(t)
	c1, b1 := f.commit(f.manifest("1.0.0", "weights one", "CHG-1"))
	vault := keyvaulttest.Start(t)
	keyID := vault.CreateKey("promobot-attest")
	withVault := func(e *env) { e.keyVaultOptions, e.keyVaultCredential = vault.ClientOptions(), vault.Credential() }
	signer, err := attest.NewKeyVaultSigner(t.Context(), keyID, vault.Credential(), vault.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := attest.Issue(t.Context(), signer, attest.Subject{
		ArtifactURI: f.az.BlobURL("models", "ranker/1.0.0/model.bin"), ArtifactSHA256: attest.ArtifactSHA256([]byte("weights one")), ManifestBlob: b1,
	}, predicateFor(c1))
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := attest.Location{Repository: attestRepo, Environment: "prod", Model: "ranker", Version: "1.0.0", ManifestBlob: b1, KeyID: signer.KeyID()}.Path()
	if err := (attest.FileStore{Dir: f.storeDir}).Put(t.Context(), loc, bundle); err != nil {
		t.Fatal(err)
	}
	base := []string{"resolve", "--env", "prod", "--model", "ranker", "--ref", "main"}
	store := []string{"--attestations", "file:" + f.storeDir, "--expected-repo", attestRepo}
	cases := []struct {
		name string
		args []string
		opts func(*env)
		want int
		text string
	}{
		{name: "key vault key", args: append(append(base, "--trusted-keyvault-key", keyID), store...), opts: withVault, want: 0},
		{name: "vault down", args: append(append(base, "--trusted-keyvault-key", keyID), store...), opts: func(e *env) { withVault(e); vault.SetDown(true) }, want: 4},
		{name: "key vault key without version", args: append(append(base, "--trusted-keyvault-key", strings.TrimSuffix(keyID, keyID[strings.LastIndex(keyID, "/"):])), store...), opts: withVault, want: 2, text: "names no version"},
		{name: "required without a trust root", args: append(base, "--require-attestation"), want: 2, text: "needs a trust root"},
		{name: "required from the environment without a trust root", args: base, want: 2, text: "needs a trust root"},
		{name: "trust root without a store", args: append(base, "--trusted-key", f.bot.pub, "--expected-repo", attestRepo), want: 2, text: "--attestations"},
		{name: "trust root without a repository", args: append(base, "--trusted-key", f.bot.pub, "--attestations", "file:"+f.storeDir), want: 2, text: "--expected-repo"},
		{name: "unreadable key file", args: append(append(base, "--trusted-key", filepath.Join(t.TempDir(), "missing.pub")), store...), want: 2},
		{name: "no trust root: attestations not checked", args: base, want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer vault.SetDown(false)
			var vars map[string]string
			if strings.Contains(tc.name, "from the environment") {
				vars = map[string]string{"PROMOBOT_REQUIRE_ATTESTATION": "true"}
			}
			got := f.run(t, vars, tc.opts, tc.args...)
			if got.code != tc.want || !strings.Contains(got.stderr, tc.text) {
				t.Errorf("exit %d, stderr %q; want %d and %q", got.code, got.stderr, tc.want, tc.text)
			}
		})
	}
}

// predicateFor is a merge predicate of the prod 1.0.0 pin merged as merge.
func predicateFor(merge string) attest.Predicate {
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	return attest.Predicate{
		Repository: attestRepo, Environment: "prod", Model: "ranker", Version: "1.0.0",
		ChangeKind: attest.ChangeRegistration, ManifestPath: "environments/prod/ranker.yaml",
		PullRequest: &attest.PullRequest{Number: 7, URL: "https://github.com/" + attestRepo + "/pull/7", Author: "alice"},
		Approvers:   []attest.Approver{{Login: "bob", ID: 1002, ReviewID: 9001, Time: at, CommitID: strings.Repeat("4", 40)}},
		Commits:     attest.Commits{Head: strings.Repeat("4", 40), Merge: merge, FirstParent: strings.Repeat("5", 40)},
		Rules:       []attest.RuleOutcome{{Family: "approvals", Status: "pass"}},
		CheckRunID:  77, BotVersion: "test", SignedAt: at,
	}
}

func TestAttestVerify(t *testing.T) {
	f := newAttestFixture(t)
	c1, b1 := f.commit(f.manifest("1.0.0", "weights one", "CHG-1"))
	v1 := pin{repo: attestRepo, env: "prod", version: "1.0.0", weights: "weights one", blob: b1, merge: c1}
	genuine := f.bundle(f.bot, v1)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.sigstore.json", genuine)
	untrusted := write("untrusted.sigstore.json", f.bundle(newAttestKey(t), v1))
	truncated := write("truncated.sigstore.json", genuine[:100])
	trust := []string{"--trusted-key", f.bot.pub, "--baseline-key", f.baseline.pub}
	store := []string{"--attestations", "file:" + f.storeDir, "--expected-repo", attestRepo}
	cases := []struct {
		name string
		args []string
		want int
		text string
	}{
		{name: "file", args: append([]string{good}, trust...), want: 0, text: "verified: " + attestRepo + " ranker 1.0.0 in prod"},
		{name: "file with matching expectations", args: append([]string{good, "--expected-repo", "Example-Org/Models-GitOps", "--env", "prod", "--model", "ranker", "--version", "1.0.0", "--manifest-blob", b1, "--merge-commit", c1}, trust...), want: 0},
		{name: "file of another version", args: append([]string{good, "--version", "2.0.0"}, trust...), want: 1, text: "version"},
		{name: "file of another merge", args: append([]string{good, "--merge-commit", strings.Repeat("9", 40)}, trust...), want: 1, text: "merge commit"},
		{name: "untrusted key", args: append([]string{untrusted}, trust...), want: 1, text: "not trusted"},
		{name: "truncated", args: append([]string{truncated}, trust...), want: 1, text: "not a Sigstore bundle"},
		{name: "missing file", args: append([]string{filepath.Join(dir, "none.json")}, trust...), want: 2},
		{name: "no trust root", args: []string{good}, want: 2, text: "needs a trust root"},
		{name: "store, not yet attested", args: append(append([]string{"--env", "prod", "--model", "ranker", "--ref", "main"}, trust...), store...), want: 4, text: "not yet attested"},
		{name: "store, unknown model", args: append(append([]string{"--env", "prod", "--model", "nope", "--ref", "main"}, trust...), store...), want: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := f.run(t, nil, nil, append([]string{"attest", "verify"}, tc.args...)...)
			if got.code != tc.want || !strings.Contains(got.stdout+got.stderr, tc.text) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", got.code, got.stdout, got.stderr, tc.want, tc.text)
			}
		})
	}

	f.put(f.bot, "1.0.0", b1, genuine)
	got := f.run(t, nil, nil, append(append([]string{"attest", "verify", "--env", "prod", "--model", "ranker", "--ref", "main", "--format", "json"}, trust...), store...)...)
	var out attestVerifyJSON
	if err := json.Unmarshal([]byte(got.stdout), &out); got.code != 0 || err != nil {
		t.Fatalf("store: exit %d, stdout %q, stderr %q: %v", got.code, got.stdout, got.stderr, err)
	}
	if out.Status != "verified" || out.MergeCommit != c1 || out.ManifestBlob != b1 || out.KeyID != f.bot.signer.KeyID() || !strings.HasPrefix(out.Location, "file:") {
		t.Errorf("json = %+v", out)
	}
}

func TestAttestBackfill(t *testing.T) {
	t.Parallel()
	f := newAuditFixture(t)
	keyDir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalECPrivateKey(k)
	priv := filepath.Join(keyDir, "operator.pem")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	operatorPub := filepath.Join(keyDir, "operatorPub")
	if err := os.WriteFile(operatorPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	storeDir := t.TempDir()
	ghRepo := "acme/models"
	backfill := func(extra ...string) cliResult {
		args := append([]string{"attest", "backfill", "--repo", f.h.Path, "--key", priv, "--attestations", "file:" + storeDir}, f.github...)
		return runCLI(t, t.TempDir(), append(args, extra...)...)
	}
	verify := func(env string) cliResult {
		return runCLI(t, t.TempDir(), "attest", "verify", "--repo", f.h.Path, "--env", env, "--model", "forecaster", "--format", "json",
			"--baseline-key", operatorPub, "--attestations", "file:"+storeDir, "--expected-repo", ghRepo)
	}

	// prod's forecaster was rolled back by a direct push: refused, while
	// the reviewed pins are attested.
	got := backfill()
	if got.code != exitFailed || !strings.Contains(got.stdout, "refused   prod/forecaster") || !strings.Contains(got.stdout, "attested  test/forecaster") {
		t.Fatalf("exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	if got := verify("test"); got.code != 0 || !strings.Contains(got.stdout, `"status": "baseline"`) {
		t.Errorf("test pin: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	if got := verify("prod"); got.code != 4 {
		t.Errorf("refused prod pin: exit %d, want 4 (not attested); stderr %q", got.code, got.stderr)
	}

	// Named, the unreviewed pins are attested and say so; the reviewed one
	// is already present.
	got = backfill("--accept-unreviewed", "prod/forecaster", "--accept-unreviewed", "dev/forecaster")
	if got.code != 0 || !strings.Contains(got.stdout, "attested  prod/forecaster") || !strings.Contains(got.stdout, "present   test/forecaster") {
		t.Fatalf("exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	got = verify("prod")
	var out attestVerifyJSON
	if err := json.Unmarshal([]byte(got.stdout), &out); got.code != 0 || err != nil || out.Status != "baseline" {
		t.Fatalf("prod pin: exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
	if out.Environment != "prod" || out.Version != "1.0.0" || len(out.Approvers) != 0 {
		t.Errorf("prod baseline = %+v", out)
	}
	// A baseline key trusted as a bot key does not accept it.
	got = runCLI(t, t.TempDir(), "attest", "verify", "--repo", f.h.Path, "--env", "prod", "--model", "forecaster",
		"--trusted-key", operatorPub, "--attestations", "file:"+storeDir, "--expected-repo", ghRepo)
	if got.code != exitFailed || !strings.Contains(got.stderr, "not a baseline key") {
		t.Errorf("baseline from a bot key: exit %d, stderr %q", got.code, got.stderr)
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{name: "no key", args: []string{"attest", "backfill", "--repo", f.h.Path, "--attestations", "file:" + storeDir, "--github-repo", ghRepo}},
		{name: "no store", args: []string{"attest", "backfill", "--repo", f.h.Path, "--key", priv, "--github-repo", ghRepo}},
		{name: "no GitHub repository", args: []string{"attest", "backfill", "--repo", f.h.Path, "--key", priv, "--attestations", "file:" + storeDir}},
		{name: "bad accept", args: []string{"attest", "backfill", "--repo", f.h.Path, "--key", priv, "--attestations", "file:" + storeDir, "--github-repo", ghRepo, "--accept-unreviewed", "prod"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runCLI(t, t.TempDir(), tc.args...); got.code != exitUsage {
				t.Errorf("exit %d, want 2: %s", got.code, got.stderr)
			}
		})
	}
}
