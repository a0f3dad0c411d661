package attest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

const (
	testRepo     = "example-org/models-gitops"
	testBlob     = "1111111111111111111111111111111111111111"
	olderBlob    = "2222222222222222222222222222222222222222"
	mergeCommit  = "3333333333333333333333333333333333333333"
	headCommit   = "4444444444444444444444444444444444444444"
	parentCommit = "5555555555555555555555555555555555555555"
	policyBlob   = "6666666666666666666666666666666666666666"
	ownersBlob   = "7777777777777777777777777777777777777777"
	artifactURI  = "https://models.blob.core.windows.net/models/churn/3.1.0/model.onnx"
)

var artifactDigest = ArtifactSHA256([]byte("model bytes"))

// newPEMSigner returns a signer over a fresh key, and the key's PEM files
// (private, public) written to a temporary directory.
func newPEMSigner(t testing.TB) (*PEMSigner, string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	dir := t.TempDir()
	privPath, pubPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "key.pub")
	if err := os.WriteFile(privPath, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pubPath, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewPEMSigner(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	return s, privPath, pubPath
}

// trusted returns the trusted key of a signer.
func trusted(s Signer, baseline bool) TrustedKey {
	return TrustedKey{ID: s.KeyID(), Public: s.Public(), Baseline: baseline}
}

// samplePredicate returns a complete merge predicate for prod.
func samplePredicate() Predicate {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return Predicate{
		Repository:      testRepo,
		Environment:     "prod",
		Model:           "churn",
		Version:         "3.1.0",
		PreviousVersion: "3.0.2",
		ChangeKind:      ChangePromotion,
		ManifestPath:    "environments/prod/churn.yaml",
		PullRequest:     &PullRequest{Number: 42, URL: "https://github.com/example-org/models-gitops/pull/42", Author: "alice"},
		Approvers: []Approver{
			{Login: "bob", ID: 1002, ReviewID: 9_000_000_001, Time: at.Add(-time.Hour), CommitID: headCommit},
			{Login: "carol", ID: 1003, ReviewID: 9_000_000_002, Time: at.Add(-30 * time.Minute), CommitID: headCommit},
		},
		Commits: Commits{Head: headCommit, Merge: mergeCommit, FirstParent: parentCommit},
		Policy:  PolicyRef{PolicyBlob: policyBlob, CodeownersBlob: ownersBlob},
		Rules: []RuleOutcome{
			{Family: "approvals", Status: "pass", Message: "2/2 approvals from owners of environments/prod/churn.yaml"},
			{Family: "freeze", Status: "pass"},
		},
		Ticket:     "CHG-1234",
		Rationale:  "quarterly retrain",
		CheckRunID: 23_456_789_012,
		BotVersion: "v1.4.0",
		SignedAt:   at,
	}
}

// sampleBaseline returns a baseline predicate for the same pin.
func sampleBaseline() Predicate {
	p := samplePredicate()
	p.ChangeKind, p.Baseline, p.PreviousVersion = ChangeBaseline, true, ""
	p.PullRequest, p.CheckRunID = nil, 0
	p.Commits = Commits{Merge: mergeCommit}
	return p
}

func sampleSubject() Subject {
	return Subject{ArtifactURI: artifactURI, ArtifactSHA256: artifactDigest, ManifestBlob: testBlob}
}

func sampleExpectation() Expectation {
	return Expectation{
		Repository: testRepo, Environment: "prod", Model: "churn", Version: "3.1.0",
		ManifestBlob: testBlob, ArtifactSHA256: artifactDigest, MergeCommit: mergeCommit,
	}
}

// issue signs a predicate or fails the test.
func issue(t testing.TB, s Signer, sub Subject, p Predicate) []byte {
	t.Helper()
	b, err := Issue(context.Background(), s, sub, p)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return b
}

// signRaw signs an arbitrary payload, bypassing Issue's checks, so tests
// can produce genuinely signed bundles that promobot would never issue.
func signRaw(t testing.TB, s Signer, payload []byte) []byte {
	t.Helper()
	digest := sha256.Sum256(dsse.PAE(PayloadType, payload))
	sig, err := s.SignDigest(context.Background(), digest[:])
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeBundle(s.KeyID(), payload, sig)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
