package artifact

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
)

func pemOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestParsePublicKeyPEM(t *testing.T) {
	p256 := newKey(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{name: "P-256 key", in: pemOf(t, &p256.PublicKey)},
		{name: "P-256 key with surrounding text", in: append([]byte("# prod signing key\n"), pemOf(t, &p256.PublicKey)...)},
		{name: "empty", in: nil, wantErr: "no PEM block found"},
		{name: "private key block", in: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}}), wantErr: `the PEM block is a "EC PRIVATE KEY"`},
		{name: "two keys", in: append(pemOf(t, &p256.PublicKey), pemOf(t, &p256.PublicKey)...), wantErr: "more than one PEM block"},
		{name: "P-384", in: pemOf(t, &p384.PublicKey), wantErr: "curve P-384, expected P-256"},
		{name: "ed25519", in: pemOf(t, edPub), wantErr: "expected an ECDSA P-256 key"},
		{name: "garbage DER", in: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("nope")}), wantErr: "parsing the public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParsePublicKeyPEM(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !key.Equal(&p256.PublicKey) {
					t.Error("parsed a different key")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyDigestSignature(t *testing.T) {
	a, b := newKey(t), newKey(t)
	data := []byte("model")
	digest := sha256.Sum256(data)
	decode := func(s string) []byte {
		out, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name    string
		keys    []*ecdsa.PublicKey
		sig     []byte
		wantKey *ecdsa.PublicKey
	}{
		{name: "DER by the second key", keys: []*ecdsa.PublicKey{&a.PublicKey, &b.PublicKey}, sig: decode(signDER(t, b, data)), wantKey: &b.PublicKey},
		{name: "P1363 by the first key", keys: []*ecdsa.PublicKey{&a.PublicKey, &b.PublicKey}, sig: decode(signP1363(t, a, data)), wantKey: &a.PublicKey},
		{name: "untrusted signer", keys: []*ecdsa.PublicKey{&a.PublicKey}, sig: decode(signDER(t, b, data))},
		{name: "signature over other data", keys: []*ecdsa.PublicKey{&a.PublicKey}, sig: decode(signDER(t, a, []byte("other")))},
		{name: "truncated DER", keys: []*ecdsa.PublicKey{&a.PublicKey}, sig: decode(signDER(t, a, data))[:20]},
		{name: "all zero P1363", keys: []*ecdsa.PublicKey{&a.PublicKey}, sig: make([]byte, 64)},
		{name: "no keys", sig: decode(signDER(t, a, data))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, ok := verifyDigestSignature(tt.keys, digest[:], tt.sig)
			if ok != (tt.wantKey != nil) || (ok && !key.Equal(tt.wantKey)) {
				t.Errorf("verify = %v (key %v), want key %v", ok, key != nil, tt.wantKey != nil)
			}
		})
	}
}

func TestDecodeSignature(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantLen int
		wantErr string
	}{
		{name: "padded", in: "AAEC", wantLen: 3},
		{name: "unpadded", in: "AAE", wantLen: 2},
		{name: "whitespace", in: " AAEC\n", wantLen: 3},
		{name: "empty", in: "  ", wantErr: "the signature is empty"},
		{name: "not base64", in: "!!!!", wantErr: "not valid base64"},
		{name: "too long", in: strings.Repeat("A", 600), wantErr: "more than the 512 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeSignature(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != tt.wantLen {
				t.Errorf("decode = %d bytes, %v; want %d bytes", len(got), err, tt.wantLen)
			}
		})
	}
}

func TestKeyFingerprintIsStable(t *testing.T) {
	k := newKey(t)
	parsed, err := ParsePublicKeyPEM(pemOf(t, &k.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if KeyFingerprint(parsed) != KeyFingerprint(&k.PublicKey) || !strings.HasPrefix(KeyFingerprint(parsed), "sha256:") {
		t.Errorf("fingerprints differ or lack the prefix: %s vs %s", KeyFingerprint(parsed), KeyFingerprint(&k.PublicKey))
	}
}
