package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	bundlepb "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	commonpb "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	dssepb "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Media and payload types of the stored format.
const (
	// BundleMediaType is the Sigstore bundle version the store holds.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// DigestSHA256 and DigestGitBlob are the subject digest algorithms.
	DigestSHA256  = "sha256"
	DigestGitBlob = "gitBlob"
)

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)
	sha1Hex   = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// Subject names what an attestation is about: the artifact's bytes and
// the manifest blob that pins them.
type Subject struct {
	// ArtifactURI is the artifact's URI as the manifest gives it; it is the
	// artifact subject's name.
	ArtifactURI string
	// ArtifactSHA256 is the artifact's sha256, lower-case hex.
	ArtifactSHA256 string
	// ManifestBlob is the manifest's git blob id, lower-case hex.
	ManifestBlob string
}

// Statement is a decoded, not yet trusted, in-toto statement.
type Statement struct {
	// Subject holds the two subjects.
	Subject Subject
	// ManifestPath is the manifest subject's name.
	ManifestPath string
	// Predicate is the promotion predicate.
	Predicate Predicate
}

// Signer signs SHA-256 digests with an ECDSA P-256 key.
type Signer interface {
	// KeyID names the key in bundles: a Key Vault key id with its version,
	// or "sha256:<hex>" of a PEM key's public half.
	KeyID() string
	// Public returns the public key.
	Public() *ecdsa.PublicKey
	// SignDigest signs a SHA-256 digest and returns an ASN.1 DER signature.
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
}

// Issue builds the statement for subject and predicate p, signs it with s
// and returns the Sigstore bundle as JSON. The predicate is validated
// against its schema first, and the signature is checked against the
// signer's public key before the bundle is returned, so a faulty signing
// service cannot produce a bundle that will never verify.
func Issue(ctx context.Context, s Signer, subject Subject, p Predicate) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	payload, err := encodeStatement(subject, p)
	if err != nil {
		return nil, err
	}
	pae := dsse.PAE(PayloadType, payload)
	digest := sha256.Sum256(pae)
	sig, err := s.SignDigest(ctx, digest[:])
	if err != nil {
		return nil, fmt.Errorf("signing with %s: %w", s.KeyID(), err)
	}
	if !ecdsa.VerifyASN1(s.Public(), digest[:], sig) {
		return nil, fmt.Errorf("the signature made with %s does not verify with its public key", s.KeyID())
	}
	return encodeBundle(s.KeyID(), payload, sig)
}

// encodeStatement returns the statement's JSON, the DSSE payload.
func encodeStatement(subject Subject, p Predicate) ([]byte, error) {
	if subject.ArtifactURI == "" {
		return nil, errors.New("the artifact URI is empty")
	}
	if !sha256Hex.MatchString(subject.ArtifactSHA256) {
		return nil, fmt.Errorf("the artifact sha256 %q is not 64 lower-case hexadecimal characters", subject.ArtifactSHA256)
	}
	if !sha1Hex.MatchString(subject.ManifestBlob) {
		return nil, fmt.Errorf("the manifest blob id %q is not 40 lower-case hexadecimal characters", subject.ManifestBlob)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encoding the predicate: %w", err)
	}
	pred := &structpb.Struct{}
	if err := protojson.Unmarshal(raw, pred); err != nil {
		return nil, fmt.Errorf("converting the predicate: %w", err)
	}
	st := &intoto.Statement{
		Type: intoto.StatementTypeUri,
		Subject: []*intoto.ResourceDescriptor{
			{Name: subject.ArtifactURI, Digest: map[string]string{DigestSHA256: subject.ArtifactSHA256}},
			{Name: p.ManifestPath, Digest: map[string]string{DigestGitBlob: subject.ManifestBlob}},
		},
		PredicateType: PredicateType,
		Predicate:     pred,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("the in-toto statement is invalid: %w", err)
	}
	out, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encoding the statement: %w", err)
	}
	// protojson varies its whitespace on purpose; compact it so that the
	// same statement always has the same bytes.
	var buf bytes.Buffer
	if err := json.Compact(&buf, out); err != nil {
		return nil, fmt.Errorf("encoding the statement: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeBundle wraps a signed payload in a DSSE envelope inside a Sigstore
// bundle v0.3 whose verification material is a public-key hint.
func encodeBundle(keyID string, payload, sig []byte) ([]byte, error) {
	b := &bundlepb.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &bundlepb.VerificationMaterial{
			Content: &bundlepb.VerificationMaterial_PublicKey{PublicKey: &commonpb.PublicKeyIdentifier{Hint: keyID}},
		},
		Content: &bundlepb.Bundle_DsseEnvelope{DsseEnvelope: &dssepb.Envelope{
			Payload:     payload,
			PayloadType: PayloadType,
			Signatures:  []*dssepb.Signature{{Sig: sig}},
		}},
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding the bundle: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "  "); err != nil {
		return nil, fmt.Errorf("encoding the bundle: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// ArtifactSHA256 returns the lower-case hex sha256 of data, for tests and
// small artifacts; large artifacts are hashed while streaming elsewhere.
func ArtifactSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
