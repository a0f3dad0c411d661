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
				"--key", tc.key, "--insecure-ignore-tlog=true", "--use-signed-timestamps=false",
				"--type", PredicateType, artifactPath)
			cmd.Env = append(os.Environ(), "TUF_ROOT="+t.TempDir())
			out, err := cmd.CombinedOutput()
			if (err == nil) != tc.ok {
				t.Fatalf("cosign: err %v, want ok=%v\n%s", err, tc.ok, out)
			}
		})
	}
}
