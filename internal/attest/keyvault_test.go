package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/example-org/promobot/internal/testing/keyvaulttest"
)

// TestKeyVaultSigner signs through the real azkeys client against a local
// HTTPS vault and verifies with a trust root fetched from the same vault.
func TestKeyVaultSigner(t *testing.T) {
	vault := keyvaulttest.Start(t)
	kid := vault.CreateKey("promobot-attest")
	ctx := t.Context()

	// Without a version the signer pins the current one.
	unversioned := strings.TrimSuffix(kid, kid[strings.LastIndex(kid, "/"):])
	s, err := NewKeyVaultSigner(ctx, unversioned, vault.Credential(), vault.ClientOptions())
	if err != nil {
		t.Fatalf("NewKeyVaultSigner: %v", err)
	}
	if s.KeyID() != kid {
		t.Errorf("KeyID = %q, want %q", s.KeyID(), kid)
	}
	b := issue(t, s, sampleSubject(), samplePredicate())

	tk, err := TrustedKeyVaultKey(ctx, kid+"/", false, vault.Credential(), vault.ClientOptions())
	if err != nil {
		t.Fatalf("TrustedKeyVaultKey: %v", err)
	}
	if tk.ID != kid {
		t.Errorf("trusted key id = %q, want %q", tk.ID, kid)
	}
	root, err := NewTrustRoot(tk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(b, root, sampleExpectation()); err != nil {
		t.Fatalf("a Key Vault attestation was refused: %v", err)
	}
	got := vault.Requests()
	if got["sign"] != 1 || got["get"] != 2 || got["challenge"] < 1 {
		t.Errorf("requests = %v, want 1 sign, 2 get and a challenge", got)
	}

	t.Run("rotation", func(t *testing.T) {
		kid2 := vault.CreateKey("promobot-attest")
		s2, err := NewKeyVaultSigner(ctx, unversioned, vault.Credential(), vault.ClientOptions())
		if err != nil {
			t.Fatal(err)
		}
		if s2.KeyID() != kid2 {
			t.Fatalf("after rotation KeyID = %q, want %q", s2.KeyID(), kid2)
		}
		// The old trust root does not know the new version.
		_, err = Verify(issue(t, s2, sampleSubject(), samplePredicate()), root, sampleExpectation())
		if r, _ := ReasonOf(err); r != ReasonUntrustedKey {
			t.Errorf("a new key version was not refused as untrusted: %v", err)
		}
	})
	t.Run("trust root needs a version", func(t *testing.T) {
		_, err := TrustedKeyVaultKey(ctx, unversioned, false, vault.Credential(), vault.ClientOptions())
		if err == nil || !strings.Contains(err.Error(), "names no version") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		_, err := NewKeyVaultSigner(ctx, vault.URL+"/keys/missing", vault.Credential(), vault.ClientOptions())
		if err == nil || !strings.Contains(err.Error(), "KeyNotFound") || errors.Is(err, ErrUnavailable) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("disabled key", func(t *testing.T) {
		kid3 := vault.CreateKey("retired")
		k, _ := ParseKeyVaultKeyID(kid3)
		vault.Disable(k.Name, k.Version)
		_, err := NewKeyVaultSigner(ctx, kid3, vault.Credential(), vault.ClientOptions())
		if err == nil || !strings.Contains(err.Error(), "is disabled") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("vault down", func(t *testing.T) {
		vault.SetDown(true)
		defer vault.SetDown(false)
		digest := sha256.Sum256([]byte("x"))
		_, err := s.SignDigest(ctx, digest[:])
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
	})
}

func TestParseKeyVaultKeyID(t *testing.T) {
	tests := []struct {
		in      string
		want    KeyVaultKey
		wantErr bool
	}{
		{in: "https://v.vault.azure.net/keys/k/abc", want: KeyVaultKey{VaultURL: "https://v.vault.azure.net", Name: "k", Version: "abc"}},
		{in: "https://v.vault.azure.net/keys/k", want: KeyVaultKey{VaultURL: "https://v.vault.azure.net", Name: "k"}},
		{in: "https://V.Vault.Azure.NET/keys/k/abc", want: KeyVaultKey{VaultURL: "https://v.vault.azure.net", Name: "k", Version: "abc"}},
		{in: "https://v.vault.azure.net/keys/k/", want: KeyVaultKey{VaultURL: "https://v.vault.azure.net", Name: "k"}},
		{in: "http://v.vault.azure.net/keys/k/abc", wantErr: true},
		{in: "https://v.vault.azure.net/secrets/k/abc", wantErr: true},
		{in: "https://v.vault.azure.net/keys/k/abc/sign", wantErr: true},
		{in: "https://v.vault.azure.net/keys/k/abc?x=1", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseKeyVaultKeyID(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseKeyVaultKeyID(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestRawToDER(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("payload"))
	for range 50 { // covers r or s with a high bit set and with leading zeros
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		raw := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
		der, err := rawToDER(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(&k.PublicKey, digest[:], der) {
			t.Fatalf("the DER form of %x does not verify", raw)
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, 63), make([]byte, 64), bytes.Repeat([]byte{1}, 65)} {
		if _, err := rawToDER(bad); err == nil {
			t.Errorf("rawToDER(%x) accepted", bad)
		}
	}
}
