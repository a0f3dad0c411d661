package attest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCosignVerifiesBundle checks that cosign, a standard Sigstore tool,
// verifies a bundle the package issues with the public key alone. It runs
// only when PROMOBOT_COSIGN names a cosign binary (make interop builds one):
// cosign is too large to build for every test run.
func TestCosignVerifiesBundle(t *testing.T) {
	cosign := os.Getenv("PROMOBOT_COSIGN")
	if cosign == "" {
		t.Skip("PROMOBOT_COSIGN is not set; run make interop")
	}
	signer, _, pubPath := newPEMSigner(t)
	artifact := []byte("model bytes")
	bundle, err := Issue(context.Background(), signer, Subject{ArtifactURI: artifactURI, ArtifactSHA256: ArtifactSHA256(artifact), ManifestBlob: testBlob}, samplePredicate())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bundlePath, artifactPath := filepath.Join(dir, "attestation.sigstore.json"), filepath.Join(dir, "model.bin")
	if err := os.WriteFile(bundlePath, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(artifactPath, artifact, 0o644); err != nil {
		t.Fatal(err)
	}
	// An empty trusted root: the key is the only trust, and cosign must not
	// reach for the public Sigstore instance's TUF repository (the tests run
	// offline, and a promotion attestation is not logged in Rekor).
	rootPath := filepath.Join(dir, "trusted_root.json")
	if err := os.WriteFile(rootPath, []byte(emptyTrustedRoot), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		key      string
		artifact []byte
		ok       bool
	}{
		{name: "issued bundle", key: pubPath, artifact: artifact, ok: true},
		{name: "other artifact bytes", key: pubPath, artifact: []byte("other bytes"), ok: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(artifactPath, tc.artifact, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(cosign, "verify-blob-attestation", "--bundle", bundlePath, "--new-bundle-format=true",
				"--key", tc.key, "--trusted-root", rootPath, "--insecure-ignore-tlog=true", "--use-signed-timestamps=false",
				"--type", PredicateType, artifactPath)
			cmd.Env = append(os.Environ(), "TUF_ROOT="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if (err == nil) != tc.ok {
				t.Fatalf("cosign: err %v, want ok=%v\n%s", err, tc.ok, out)
			}
		})
	}
}

// emptyTrustedRoot is a Sigstore trusted root with no transparency log,
// certificate authority or timestamp authority.
const emptyTrustedRoot = `{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": [], "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}`

// TestIssuedSignatureNamesNoKeyID holds, without cosign, the shape cosign
// needs: cosign skips a DSSE signature whose keyid differs from the id it
// derives from the key it was given, so the envelope names none and the
// bundle's public-key hint alone names the key.
func TestIssuedSignatureNamesNoKeyID(t *testing.T) {
	signer, _, _ := newPEMSigner(t)
	bundle, err := Issue(context.Background(), signer, Subject{ArtifactURI: artifactURI, ArtifactSHA256: ArtifactSHA256([]byte("model bytes")), ManifestBlob: testBlob}, samplePredicate())
	if err != nil {
		t.Fatal(err)
	}
	editBundle(t, bundle, func(m map[string]any) {
		if id, ok := signature(m)["keyid"]; ok {
			t.Errorf("the signature names keyid %v; want none", id)
		}
		hint, _ := m["verificationMaterial"].(map[string]any)["publicKey"].(map[string]any)["hint"].(string)
		if hint != signer.KeyID() {
			t.Errorf("hint = %q, want the signer's key id %q", hint, signer.KeyID())
		}
	})
}
