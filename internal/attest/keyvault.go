package attest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// KeyVaultKey names a Key Vault key version by its key id,
// https://<vault>/keys/<name>/<version>.
type KeyVaultKey struct {
	// VaultURL is https://<vault host>, without a trailing slash.
	VaultURL string
	// Name is the key name.
	Name string
	// Version is the key version; empty means the current version (only
	// when signing: a trust root always names a version).
	Version string
}

// ID returns the key id, https://<vault>/keys/<name>/<version>.
func (k KeyVaultKey) ID() string {
	return k.VaultURL + "/keys/" + k.Name + "/" + k.Version
}

// ParseKeyVaultKeyID parses https://<vault>/keys/<name>[/<version>]; the
// host is lower-cased so that one key has one id.
func ParseKeyVaultKeyID(id string) (KeyVaultKey, error) {
	u, err := url.Parse(id)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return KeyVaultKey{}, fmt.Errorf("%q is not a Key Vault key id (https://<vault>/keys/<name>/<version>)", id)
	}
	segs := strings.Split(strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/"), "/")
	if len(segs) < 2 || len(segs) > 3 || segs[0] != "keys" || slices.Contains(segs, "") {
		return KeyVaultKey{}, fmt.Errorf("%q is not a Key Vault key id (https://<vault>/keys/<name>/<version>)", id)
	}
	k := KeyVaultKey{VaultURL: "https://" + strings.ToLower(u.Host), Name: segs[1]}
	if len(segs) == 3 {
		k.Version = segs[2]
	}
	return k, nil
}

// keyVaultClient is the part of the azkeys client the signer uses.
type keyVaultClient interface {
	GetKey(ctx context.Context, name, version string, o *azkeys.GetKeyOptions) (azkeys.GetKeyResponse, error)
	Sign(ctx context.Context, name, version string, p azkeys.SignParameters, o *azkeys.SignOptions) (azkeys.SignResponse, error)
}

// KeyVaultSigner signs through Azure Key Vault's sign operation (ES256 over
// a digest); the private key never leaves the vault.
type KeyVaultSigner struct {
	client keyVaultClient
	key    KeyVaultKey
	public *ecdsa.PublicKey
}

// NewKeyVaultSigner looks the key up (learning its public half and, when
// keyID names no version, its current version, which the signer then pins)
// and returns a signer for it. cred is normally
// azidentity.DefaultAzureCredential. opts may be nil; tests use it to reach
// a local vault.
func NewKeyVaultSigner(ctx context.Context, keyID string, cred azcore.TokenCredential, opts *azkeys.ClientOptions) (*KeyVaultSigner, error) {
	key, err := ParseKeyVaultKeyID(keyID)
	if err != nil {
		return nil, err
	}
	client, err := azkeys.NewClient(key.VaultURL, cred, opts)
	if err != nil {
		return nil, fmt.Errorf("creating the Key Vault client: %w", err)
	}
	full, pub, err := getKeyVaultKey(ctx, client, key)
	if err != nil {
		return nil, err
	}
	return &KeyVaultSigner{client: client, key: full, public: pub}, nil
}

// TrustedKeyVaultKey fetches the public half of a Key Vault key version for
// a trust root. keyID must name a version: a trust root never follows a
// key's current version, or whoever can add a version could sign. The
// trusted key's id is the normalized key id (lower-case host, no trailing
// slash), the same a KeyVaultSigner writes into bundles.
func TrustedKeyVaultKey(ctx context.Context, keyID string, baseline bool, cred azcore.TokenCredential, opts *azkeys.ClientOptions) (TrustedKey, error) {
	key, err := ParseKeyVaultKeyID(keyID)
	if err != nil {
		return TrustedKey{}, err
	}
	if key.Version == "" {
		return TrustedKey{}, fmt.Errorf("the Key Vault key id %q names no version; a trusted key must name one", keyID)
	}
	client, err := azkeys.NewClient(key.VaultURL, cred, opts)
	if err != nil {
		return TrustedKey{}, fmt.Errorf("creating the Key Vault client: %w", err)
	}
	full, pub, err := getKeyVaultKey(ctx, client, key)
	if err != nil {
		return TrustedKey{}, err
	}
	return TrustedKey{ID: full.ID(), Public: pub, Baseline: baseline}, nil
}

// getKeyVaultKey reads a key version and checks that it is an enabled EC
// P-256 key; it returns the key with its version filled in.
func getKeyVaultKey(ctx context.Context, client keyVaultClient, key KeyVaultKey) (KeyVaultKey, *ecdsa.PublicKey, error) {
	resp, err := client.GetKey(ctx, key.Name, key.Version, nil)
	if err != nil {
		return KeyVaultKey{}, nil, vaultError("reading Key Vault key "+key.ID(), err)
	}
	jwk := resp.Key
	if jwk == nil || jwk.KID == nil {
		return KeyVaultKey{}, nil, fmt.Errorf("the vault returned no key for %s", key.ID())
	}
	got, err := ParseKeyVaultKeyID(string(*jwk.KID))
	if err != nil || got.Name != key.Name || got.Version == "" || (key.Version != "" && got.Version != key.Version) {
		return KeyVaultKey{}, nil, fmt.Errorf("the vault returned key %q when asked for %s", string(*jwk.KID), key.ID())
	}
	if resp.Attributes != nil && resp.Attributes.Enabled != nil && !*resp.Attributes.Enabled {
		return KeyVaultKey{}, nil, fmt.Errorf("the Key Vault key %s is disabled", got.ID())
	}
	if jwk.Kty == nil || (*jwk.Kty != azkeys.KeyTypeEC && *jwk.Kty != azkeys.KeyTypeECHSM) || jwk.Crv == nil || *jwk.Crv != azkeys.CurveNameP256 {
		return KeyVaultKey{}, nil, fmt.Errorf("the Key Vault key %s is not an EC P-256 key", got.ID())
	}
	if len(jwk.X) == 0 || len(jwk.X) > 32 || len(jwk.Y) == 0 || len(jwk.Y) > 32 {
		return KeyVaultKey{}, nil, fmt.Errorf("the Key Vault key %s has malformed coordinates", got.ID())
	}
	point := make([]byte, 65)
	point[0] = 4
	copy(point[1+32-len(jwk.X):33], jwk.X)
	copy(point[33+32-len(jwk.Y):], jwk.Y)
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return KeyVaultKey{}, nil, fmt.Errorf("the Key Vault key %s is not a valid P-256 public key: %w", got.ID(), err)
	}
	// The vault URL of the id Key Vault returns may differ in case or port;
	// keep the one we were given so key ids stay stable.
	got.VaultURL = key.VaultURL
	return got, pub, nil
}

// KeyID returns the key id with its version.
func (s *KeyVaultSigner) KeyID() string { return s.key.ID() }

// Public returns the public key.
func (s *KeyVaultSigner) Public() *ecdsa.PublicKey { return s.public }

// SignDigest asks Key Vault to sign digest with ES256 and converts the raw
// r||s signature it returns to ASN.1 DER.
func (s *KeyVaultSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if len(digest) != 32 {
		return nil, fmt.Errorf("an ES256 digest is 32 bytes, got %d", len(digest))
	}
	resp, err := s.client.Sign(ctx, s.key.Name, s.key.Version, azkeys.SignParameters{
		Algorithm: to.Ptr(azkeys.SignatureAlgorithmES256),
		Value:     digest,
	}, nil)
	if err != nil {
		return nil, vaultError("Key Vault sign with "+s.key.ID(), err)
	}
	return rawToDER(resp.Result)
}

// vaultError wraps a Key Vault failure: a refusal (missing key, no
// permission, bad request) is returned as is, anything else (throttling,
// 5xx, network) wraps ErrUnavailable so the caller retries.
func vaultError(what string, err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != http.StatusTooManyRequests && re.StatusCode != http.StatusRequestTimeout {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, what, err)
}

// rawToDER converts a 64-byte r||s ECDSA P-256 signature (JWS form) to the
// ASN.1 DER SEQUENCE { r INTEGER, s INTEGER } that DSSE and Sigstore use.
func rawToDER(raw []byte) ([]byte, error) {
	if len(raw) != 64 {
		return nil, fmt.Errorf("an ES256 signature is 64 bytes (r||s), Key Vault returned %d", len(raw))
	}
	r := new(big.Int).SetBytes(raw[:32])
	sv := new(big.Int).SetBytes(raw[32:])
	if r.Sign() == 0 || sv.Sign() == 0 {
		return nil, errors.New("the vault returned a signature with a zero component")
	}
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(r)
		b.AddASN1BigInt(sv)
	})
	return b.Bytes()
}
