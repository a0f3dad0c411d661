package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	bundlepb "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/example-org/promobot/internal/artifact"
)

// maxBundleBytes bounds a bundle; a promotion bundle is a few kilobytes.
const maxBundleBytes = 1 << 20

// TrustedKey is one public key a verifier trusts.
type TrustedKey struct {
	// ID is the key id bundles name in their hint: a Key Vault key id with
	// its version, or "sha256:<hex>" of a PEM public key.
	ID string
	// Public is the ECDSA P-256 public key.
	Public *ecdsa.PublicKey
	// Baseline marks an operator key trusted only for baseline
	// attestations (promobot attest backfill). A key without it is trusted
	// only for attestations issued at merge.
	Baseline bool
}

// TrustedPEMKey returns the trusted key of a PEM "PUBLIC KEY" block; its id
// is the key's fingerprint.
func TrustedPEMKey(pemData []byte, baseline bool) (TrustedKey, error) {
	pub, err := artifact.ParsePublicKeyPEM(pemData)
	if err != nil {
		return TrustedKey{}, err
	}
	return TrustedKey{ID: artifact.KeyFingerprint(pub), Public: pub, Baseline: baseline}, nil
}

// TrustRoot is the set of keys a verifier trusts. Retiring a key means
// leaving it out. It is safe for concurrent use.
type TrustRoot struct {
	keys map[string]TrustedKey
}

// NewTrustRoot returns a trust root of keys. Every key needs an id and a
// P-256 public key, and ids are unique.
func NewTrustRoot(keys ...TrustedKey) (*TrustRoot, error) {
	if len(keys) == 0 {
		return nil, errors.New("the trust root holds no keys")
	}
	r := &TrustRoot{keys: make(map[string]TrustedKey, len(keys))}
	for _, k := range keys {
		switch {
		case k.ID == "":
			return nil, errors.New("a trusted key has no id")
		case k.Public == nil || k.Public.Curve != elliptic.P256():
			return nil, fmt.Errorf("trusted key %s is not an ECDSA P-256 key", k.ID)
		}
		if _, dup := r.keys[k.ID]; dup {
			return nil, fmt.Errorf("trusted key %s is listed twice", k.ID)
		}
		r.keys[k.ID] = k
	}
	return r, nil
}

// KeyIDs returns the ids of the trusted keys, for locating bundles.
func (r *TrustRoot) KeyIDs() []string {
	ids := make([]string, 0, len(r.keys))
	for id := range r.keys {
		ids = append(ids, id)
	}
	return ids
}

// Expectation is what an attestation must bind for the loader to accept
// it. Every field but ManifestPath and ArtifactURI is required.
type Expectation struct {
	// Repository is the repository the job was configured to trust, as
	// owner/name (compared without regard to case, as GitHub does).
	Repository string
	// Environment, Model and Version are those of the resolved manifest.
	Environment, Model, Version string
	// ManifestBlob is the git blob id of the manifest that was resolved.
	ManifestBlob string
	// ArtifactSHA256 is the artifact digest the manifest pins.
	ArtifactSHA256 string
	// MergeCommit is the commit that last changed the manifest's path on
	// the first-parent history of the resolved ref.
	MergeCommit string
	// ManifestPath, when set, must equal the manifest subject's name.
	ManifestPath string
	// ArtifactURI, when set, must equal the artifact subject's name.
	ArtifactURI string
}

// Verified is an attestation whose signature a trusted key made.
type Verified struct {
	// Key is the trusted key that signed.
	Key TrustedKey
	// Statement is the decoded statement.
	Statement Statement
}

// Verify checks bundle against root and want: Open, then Check.
func Verify(bundle []byte, root *TrustRoot, want Expectation) (*Verified, error) {
	v, err := Open(bundle, root)
	if err != nil {
		return nil, err
	}
	if err := v.Check(want); err != nil {
		return nil, err
	}
	return v, nil
}

// Open decodes a Sigstore bundle, checks that a key of root signed its DSSE
// envelope and that the key may sign this kind of attestation, and returns
// the statement. It does not check what the statement is about: see Check.
func Open(bundle []byte, root *TrustRoot) (*Verified, error) {
	if len(bundle) > maxBundleBytes {
		return nil, refuse(ReasonMalformed, "the bundle is %d bytes, more than the %d a promotion bundle can be", len(bundle), maxBundleBytes)
	}
	var b bundlepb.Bundle
	if err := protojson.Unmarshal(bundle, &b); err != nil {
		return nil, refuse(ReasonMalformed, "the bundle is not a Sigstore bundle: %v", err)
	}
	if b.GetMediaType() != BundleMediaType {
		return nil, refuse(ReasonMalformed, "the bundle's media type is %q, expected %q", b.GetMediaType(), BundleMediaType)
	}
	hint := b.GetVerificationMaterial().GetPublicKey().GetHint()
	if hint == "" {
		return nil, refuse(ReasonMalformed, "the bundle's verification material names no public key")
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, refuse(ReasonMalformed, "the bundle holds no DSSE envelope")
	}
	if env.GetPayloadType() != PayloadType {
		return nil, refuse(ReasonMalformed, "the envelope's payload type is %q, expected %q", env.GetPayloadType(), PayloadType)
	}
	if len(env.GetSignatures()) != 1 {
		return nil, refuse(ReasonMalformed, "the envelope holds %d signatures, expected exactly one", len(env.GetSignatures()))
	}
	sig := env.GetSignatures()[0]
	if sig.GetKeyid() != "" && sig.GetKeyid() != hint {
		return nil, refuse(ReasonMalformed, "the signature names key %q but the bundle names %q", sig.GetKeyid(), hint)
	}
	key, ok := root.keys[hint]
	if !ok {
		return nil, refuse(ReasonUntrustedKey, "signed by key %s, which is not trusted", hint)
	}
	digest := sha256.Sum256(dsse.PAE(env.GetPayloadType(), env.GetPayload()))
	if !ecdsa.VerifyASN1(key.Public, digest[:], sig.GetSig()) {
		return nil, refuse(ReasonSignature, "the signature does not verify with trusted key %s", hint)
	}
	st, err := decodeStatement(env.GetPayload())
	if err != nil {
		return nil, err
	}
	switch {
	case st.Predicate.Baseline && !key.Baseline:
		return nil, refuse(ReasonKeyRole, "a baseline attestation is signed by key %s, which is not a baseline key", hint)
	case !st.Predicate.Baseline && key.Baseline:
		return nil, refuse(ReasonKeyRole, "key %s is trusted for baseline attestations only, but this attestation is not a baseline", hint)
	}
	return &Verified{Key: key, Statement: st}, nil
}

// rawStatement mirrors the statement JSON so that the predicate is read
// from its own bytes (integers stay integers) and unknown fields are seen.
type rawStatement struct {
	Type          string          `json:"_type"`
	Subject       []rawSubject    `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type rawSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// decodeStatement parses and validates a signed payload.
func decodeStatement(payload []byte) (Statement, error) {
	var lib intoto.Statement
	if err := protojson.Unmarshal(payload, &lib); err != nil {
		return Statement{}, refuse(ReasonMalformed, "the payload is not an in-toto statement: %v", err)
	}
	if err := lib.Validate(); err != nil {
		return Statement{}, refuse(ReasonMalformed, "the in-toto statement is invalid: %v", err)
	}
	var raw rawStatement
	if err := strictJSON(payload, &raw); err != nil {
		return Statement{}, refuse(ReasonMalformed, "the payload is not an in-toto statement: %v", err)
	}
	if raw.Type != intoto.StatementTypeUri {
		return Statement{}, refuse(ReasonMalformed, "the statement type is %q, expected %q", raw.Type, intoto.StatementTypeUri)
	}
	if raw.PredicateType != PredicateType {
		return Statement{}, refuse(ReasonMalformed, "the predicate type is %q, expected %q", raw.PredicateType, PredicateType)
	}
	if err := validatePredicateJSON(raw.Predicate); err != nil {
		return Statement{}, refuse(ReasonMalformed, "%v", err)
	}
	var st Statement
	if err := strictJSON(raw.Predicate, &st.Predicate); err != nil {
		return Statement{}, refuse(ReasonMalformed, "the predicate cannot be read: %v", err)
	}
	if len(raw.Subject) != 2 {
		return Statement{}, refuse(ReasonMalformed, "the statement has %d subjects, expected the artifact and the manifest", len(raw.Subject))
	}
	art, man := raw.Subject[0], raw.Subject[1]
	if len(art.Digest) != 1 || !sha256Hex.MatchString(art.Digest[DigestSHA256]) {
		return Statement{}, refuse(ReasonMalformed, "the first subject is not an artifact with one sha256 digest")
	}
	if len(man.Digest) != 1 || !sha1Hex.MatchString(man.Digest[DigestGitBlob]) {
		return Statement{}, refuse(ReasonMalformed, "the second subject is not a manifest with one gitBlob digest")
	}
	if man.Name != st.Predicate.ManifestPath {
		return Statement{}, refuse(ReasonMalformed, "the manifest subject is %q but the predicate names %q", man.Name, st.Predicate.ManifestPath)
	}
	st.Subject = Subject{ArtifactURI: art.Name, ArtifactSHA256: art.Digest[DigestSHA256], ManifestBlob: man.Digest[DigestGitBlob]}
	st.ManifestPath = man.Name
	return st, nil
}

// strictJSON decodes one JSON value, refusing unknown fields and trailing data.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Check refuses unless the statement binds exactly what want expects.
func (v *Verified) Check(want Expectation) error {
	var missing []string
	for _, f := range []struct{ name, val string }{
		{"repository", want.Repository}, {"environment", want.Environment}, {"model", want.Model},
		{"version", want.Version}, {"manifest blob", want.ManifestBlob}, {"artifact sha256", want.ArtifactSHA256},
		{"merge commit", want.MergeCommit},
	} {
		if f.val == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("cannot check an attestation without the expected %s", strings.Join(missing, ", "))
	}
	p, s := v.Statement.Predicate, v.Statement.Subject
	checks := []struct{ what, got, want string }{
		{"repository", strings.ToLower(p.Repository), strings.ToLower(want.Repository)},
		{"environment", p.Environment, want.Environment},
		{"model", p.Model, want.Model},
		{"version", p.Version, want.Version},
		{"manifest blob", s.ManifestBlob, want.ManifestBlob},
		{"artifact sha256", s.ArtifactSHA256, want.ArtifactSHA256},
		{"merge commit", p.Commits.Merge, want.MergeCommit},
	}
	if want.ManifestPath != "" {
		checks = append(checks, struct{ what, got, want string }{"manifest path", v.Statement.ManifestPath, want.ManifestPath})
	}
	if want.ArtifactURI != "" {
		checks = append(checks, struct{ what, got, want string }{"artifact URI", s.ArtifactURI, want.ArtifactURI})
	}
	for _, c := range checks {
		if c.got != c.want {
			return refuse(ReasonMismatch, "the attestation is for %s %q, expected %q", c.what, c.got, c.want)
		}
	}
	return nil
}
