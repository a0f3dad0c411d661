package artifact

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// maxSignatureChars bounds the base64 text of a signature; a P-256 DER
// signature is at most 72 bytes (96 base64 characters).
const maxSignatureChars = 512

// ParsePublicKeyPEM parses one PEM "PUBLIC KEY" block (PKIX, as written by
// `cosign generate-key-pair` or `openssl ec -pubout`) holding an ECDSA P-256
// key. Other key types, other curves and extra PEM blocks are refused.
func ParsePublicKeyPEM(data []byte) (*ecdsa.PublicKey, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found; expected a \"PUBLIC KEY\" block")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("the PEM block is a %q, expected a \"PUBLIC KEY\"", block.Type)
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("more than one PEM block found; give one key per entry")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing the public key: %w", err)
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the key is a %T, expected an ECDSA P-256 key", key)
	}
	if ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("the key uses curve %s, expected P-256", ec.Curve.Params().Name)
	}
	return ec, nil
}

// KeyFingerprint returns "sha256:" followed by the hex sha256 of the key's
// PKIX DER encoding, which identifies a trusted key in results and logs.
func KeyFingerprint(pub *ecdsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "sha256:unknown"
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// decodeSignature decodes the base64 text of a signature, tolerating
// surrounding whitespace and missing padding.
func decodeSignature(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, errors.New("the signature is empty")
	}
	if len(text) > maxSignatureChars {
		return nil, fmt.Errorf("the signature is %d characters long, more than the %d allowed", len(text), maxSignatureChars)
	}
	sig, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		sig, err = base64.RawStdEncoding.DecodeString(text)
	}
	if err != nil {
		return nil, errors.New("the signature is not valid base64")
	}
	return sig, nil
}

// verifyDigestSignature checks sig over digest (the sha256 of the artifact)
// against each key, accepting ASN.1 DER signatures (cosign's output) and
// 64-byte IEEE P1363 r‖s signatures. It returns the verifying key.
func verifyDigestSignature(keys []*ecdsa.PublicKey, digest, sig []byte) (*ecdsa.PublicKey, bool) {
	var r, s *big.Int
	if len(sig) == 64 {
		r = new(big.Int).SetBytes(sig[:32])
		s = new(big.Int).SetBytes(sig[32:])
	}
	for _, k := range keys {
		if k == nil {
			continue
		}
		if ecdsa.VerifyASN1(k, digest, sig) {
			return k, true
		}
		if r != nil && ecdsa.Verify(k, digest, r, s) {
			return k, true
		}
	}
	return nil, false
}
