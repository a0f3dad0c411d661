package attest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/artifact"
)

func TestNewPEMSigner(t *testing.T) {
	s, privPath, pubPath := newPEMSigner(t)
	pubPEM, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := TrustedPEMKey(pubPEM, false)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != s.KeyID() || !strings.HasPrefix(k.ID, "sha256:") {
		t.Errorf("trusted key id %q, signer key id %q", k.ID, s.KeyID())
	}
	if _, err := os.ReadFile(privPath); err != nil {
		t.Fatal(err)
	}

	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	ec384, err := x509.MarshalECPrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name string
		data []byte
		want string // empty: accepted
	}{
		{"PKCS #8", block("PRIVATE KEY", pkcs8), ""},
		{"not PEM", []byte("key"), "no PEM block found"},
		{"public key", block("PUBLIC KEY", pkcs8), `the PEM block is a "PUBLIC KEY"`},
		{"P-384", block("EC PRIVATE KEY", ec384), "expected P-256"},
		{"two blocks", append(block("PRIVATE KEY", pkcs8), block("PRIVATE KEY", pkcs8)...), "more than one PEM block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewPEMSigner(tc.data)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if s.KeyID() != artifact.KeyFingerprint(&p256.PublicKey) {
					t.Errorf("KeyID = %q", s.KeyID())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
