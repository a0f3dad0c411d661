package attest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/example-org/promobot/internal/artifact"
)

// PEMSigner signs with a private key held in memory, read from a PEM file.
// It is meant for development and the demo; production keys live in Key
// Vault (KeyVaultSigner).
type PEMSigner struct {
	key   *ecdsa.PrivateKey
	keyID string
}

// NewPEMSigner parses one PEM block holding an ECDSA P-256 private key
// ("EC PRIVATE KEY" as written by `openssl ecparam -genkey`, or an
// unencrypted PKCS #8 "PRIVATE KEY"). Its key id is the fingerprint of the
// public half ("sha256:<hex>" of its PKIX DER encoding).
func NewPEMSigner(data []byte) (*PEMSigner, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found; expected an \"EC PRIVATE KEY\" or \"PRIVATE KEY\" block")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("more than one PEM block found; give one key per file")
	}
	var key *ecdsa.PrivateKey
	switch block.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing the private key: %w", err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing the private key: %w", err)
		}
		ec, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the key is a %T, expected an ECDSA P-256 key", k)
		}
		key = ec
	default:
		return nil, fmt.Errorf("the PEM block is a %q, expected an \"EC PRIVATE KEY\" or \"PRIVATE KEY\"", block.Type)
	}
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("the key uses curve %s, expected P-256", key.Curve.Params().Name)
	}
	return &PEMSigner{key: key, keyID: artifact.KeyFingerprint(&key.PublicKey)}, nil
}

// KeyID returns the fingerprint of the public key.
func (s *PEMSigner) KeyID() string { return s.keyID }

// Public returns the public key.
func (s *PEMSigner) Public() *ecdsa.PublicKey { return &s.key.PublicKey }

// SignDigest signs digest and returns an ASN.1 DER signature.
func (s *PEMSigner) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, s.key, digest)
}
