package artifact

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestOpenSSLSignatureInterop signs with the openssl commands given in
// docs/artifacts.md and checks that the verifier accepts the result, so the
// documentation and the code cannot drift apart. It is skipped when openssl
// is not installed.
func TestOpenSSLSignatureInterop(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), openssl, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("openssl %v: %v", args, err)
		}
		return out
	}
	data := testData(100_000)
	model := filepath.Join(dir, "model.pkl")
	if err := os.WriteFile(model, data, 0o600); err != nil {
		t.Fatal(err)
	}
	run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "signing.pem")
	run("ec", "-in", "signing.pem", "-pubout", "-out", "model-signing.pub")
	der := run("dgst", "-sha256", "-sign", "signing.pem", "model.pkl")
	if err := os.WriteFile(filepath.Join(dir, "model.sig.der"), der, 0o600); err != nil {
		t.Fatal(err)
	}

	pemBytes, err := os.ReadFile(filepath.Join(dir, "model-signing.pub"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePublicKeyPEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(Config{
		AllowedLocations: []string{"file://" + dir + "/"},
		AllowLocal:       true,
		TrustedKeys:      []*ecdsa.PublicKey{key},
		Stores:           SchemeResolver{"file": FileStore{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{URI: "file://" + model, SHA256: sha256Hex(data), Signature: base64.StdEncoding.EncodeToString(der)}
	if _, err := v.Verify(t.Context(), spec, true); err != nil {
		t.Fatalf("an openssl signature does not verify: %v", err)
	}

	// And the other way round: the tests' signatures verify with openssl.
	k := newKey(t)
	sig, _ := base64.StdEncoding.DecodeString(signDER(t, k, data))
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ours.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ours.sig"), sig, 0o600); err != nil {
		t.Fatal(err)
	}
	run("dgst", "-sha256", "-verify", "ours.pub", "-signature", "ours.sig", "model.pkl")
}
