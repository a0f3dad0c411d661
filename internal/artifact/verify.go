package artifact

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/progress"
)

// Config configures a Verifier. It is normally built from the policy's
// `artifacts` section in cmd/.
type Config struct {
	// AllowedLocations are the URI prefixes artifacts may be read from.
	AllowedLocations []string
	// AllowLocal additionally permits file:// URIs and http:// URIs to
	// loopback hosts (Azurite) under an allowed prefix.
	AllowLocal bool
	// TrustedKeys are the ECDSA P-256 keys a signature may verify with.
	TrustedKeys []*ecdsa.PublicKey
	// Stores picks the store for an accepted URI.
	Stores Resolver
	// Logger receives debug records; nil discards them.
	Logger *slog.Logger
}

// Verifier checks artifacts against their specs. It is safe for concurrent
// use.
type Verifier struct {
	cfg    Config
	stream streamer
	logger *slog.Logger
}

// NewVerifier returns a Verifier for cfg. It fails when no stores are given
// or a trusted key is nil.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Stores == nil {
		return nil, errors.New("artifact verifier: no stores configured")
	}
	for i, k := range cfg.TrustedKeys {
		if k == nil {
			return nil, fmt.Errorf("artifact verifier: trusted key %d is nil", i)
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.AllowedLocations = append([]string(nil), cfg.AllowedLocations...)
	cfg.TrustedKeys = append([]*ecdsa.PublicKey(nil), cfg.TrustedKeys...)
	return &Verifier{cfg: cfg, stream: defaultStreamer(), logger: logger}, nil
}

// Verify streams the artifact named by spec without keeping it and checks
// that it exists under an allowed location, that its size and sha256 match,
// and that its signature verifies with a trusted key when it has one or
// when requireSignature is true. The Result explains every step; the error
// is an *Error whose Terminal method tells a failed verification from one
// that could not be carried out. A URI outside the allowed locations is
// refused before any request.
func (v *Verifier) Verify(ctx context.Context, spec Spec, requireSignature bool) (Result, error) {
	return v.run(ctx, spec, requireSignature, io.Discard)
}

// plan is a spec whose fields have been validated and decoded.
type plan struct {
	url       *url.URL
	store     Store
	digest    []byte
	signature []byte
}

// run verifies spec, copying the bytes to sink as they are hashed.
func (v *Verifier) run(ctx context.Context, spec Spec, requireSignature bool, sink io.Writer) (Result, error) {
	res := newResult(location.Redact(spec.URI))
	p, err := v.prepare(spec, requireSignature, res)
	if err != nil {
		return *res, err
	}
	logger := v.logger.With("artifact", res.URI)

	info, err := p.store.Stat(ctx, p.url)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			res.set(CheckExists, CheckFailed, "the artifact does not exist")
			return *res, v.fail(ReasonNotFound, spec, "the artifact does not exist", err)
		}
		res.set(CheckExists, CheckNotRun, "storage could not be reached")
		return *res, v.fail(ReasonUnavailable, spec, "could not look up the artifact; retrying may help", err)
	}
	res.Info = info
	res.set(CheckExists, CheckPassed, "%d bytes, ETag %s", info.Size, info.ETag)
	if spec.Size != nil {
		if info.Size != *spec.Size {
			res.set(CheckSize, CheckFailed, "the artifact has %d bytes, the manifest says %d", info.Size, *spec.Size)
			return *res, v.fail(ReasonSizeMismatch, spec,
				fmt.Sprintf("the artifact has %d bytes but the manifest says %d", info.Size, *spec.Size), nil)
		}
		res.set(CheckSize, CheckPassed, "%d bytes as expected", info.Size)
	} else {
		res.set(CheckSize, CheckSkipped, "the manifest gives no size")
	}

	h := sha256.New()
	var w io.Writer = h
	if sink != io.Discard {
		w = hashThenWrite{h: h, w: sink}
	}
	logger.DebugContext(ctx, "streaming artifact", "size", info.Size, "etag", info.ETag)
	task := progress.FromContext(ctx).Start("verifying "+location.Redact(spec.URI), info.Size, progress.Bytes, "")
	if task != nil {
		w = progressWriter{w: w, task: task}
	}
	n, err := v.stream.copyPinned(ctx, p.store, p.url, info, w)
	task.Done()
	res.BytesRead = n
	if err != nil {
		if errors.Is(err, ErrChanged) {
			res.set(CheckSHA256, CheckFailed, "the artifact changed after %d bytes had been read", n)
			return *res, v.fail(ReasonChanged, spec, "the artifact was modified or deleted during the read, so the read was abandoned rather than mix versions", err)
		}
		res.set(CheckSHA256, CheckNotRun, "reading stopped after %d bytes", n)
		return *res, v.fail(ReasonUnavailable, spec, "could not read the artifact; retrying may help", err)
	}
	digest := h.Sum(nil)
	res.SHA256 = hex.EncodeToString(digest)
	if !equalDigest(digest, p.digest) {
		res.set(CheckSHA256, CheckFailed, "got %s, the manifest says %s", res.SHA256, hex.EncodeToString(p.digest))
		return *res, v.fail(ReasonDigestMismatch, spec,
			fmt.Sprintf("the artifact's sha256 is %s but the manifest says %s", res.SHA256, hex.EncodeToString(p.digest)), nil)
	}
	res.set(CheckSHA256, CheckPassed, "%s as expected", res.SHA256)

	if p.signature == nil {
		res.set(CheckSignature, CheckSkipped, "the artifact is unsigned and no signature is required")
		return *res, nil
	}
	key, ok := verifyDigestSignature(v.cfg.TrustedKeys, digest, p.signature)
	if !ok {
		res.set(CheckSignature, CheckFailed, "no trusted key (of %d) verifies the signature", len(v.cfg.TrustedKeys))
		return *res, v.fail(ReasonSignatureInvalid, spec,
			fmt.Sprintf("the signature does not verify with any of the %d trusted keys", len(v.cfg.TrustedKeys)), nil)
	}
	res.SignedBy = KeyFingerprint(key)
	res.set(CheckSignature, CheckPassed, "verified with trusted key %s", res.SignedBy)
	return *res, nil
}

// prepare validates the spec and the location without any I/O.
func (v *Verifier) prepare(spec Spec, requireSignature bool, res *Result) (plan, error) {
	var p plan
	u, err := location.Check(spec.URI, v.cfg.AllowedLocations, v.cfg.AllowLocal)
	if err != nil {
		res.set(CheckLocation, CheckFailed, "%s", err)
		return p, v.fail(ReasonLocationRefused, spec, "", err)
	}
	res.URI = u.String()
	p.url = u
	res.set(CheckLocation, CheckPassed, "under an allowed location")

	p.digest, err = parseDigest(spec.SHA256)
	if err != nil {
		res.set(CheckSHA256, CheckFailed, "%s", err)
		return p, v.fail(ReasonInvalidSpec, spec, "the expected sha256 is invalid", err)
	}
	if spec.Size != nil && *spec.Size < 0 {
		res.set(CheckSize, CheckFailed, "the manifest gives a negative size")
		return p, v.fail(ReasonInvalidSpec, spec, fmt.Sprintf("the expected size %d is negative", *spec.Size), nil)
	}
	switch {
	case spec.Signature != "":
		p.signature, err = decodeSignature(spec.Signature)
		if err != nil {
			res.set(CheckSignature, CheckFailed, "%s", err)
			return p, v.fail(ReasonInvalidSpec, spec, "the signature is malformed", err)
		}
		if len(v.cfg.TrustedKeys) == 0 {
			res.set(CheckSignature, CheckFailed, "no trusted keys are configured")
			return p, v.fail(ReasonSignatureInvalid, spec, "the artifact is signed but no trusted keys are configured to verify it", nil)
		}
	case requireSignature:
		res.set(CheckSignature, CheckFailed, "a signature is required but the manifest has none")
		return p, v.fail(ReasonSignatureMissing, spec, "the policy requires a signature but the artifact has none", nil)
	}

	p.store, err = v.cfg.Stores.StoreFor(u)
	if err != nil {
		res.set(CheckExists, CheckNotRun, "%s", err)
		return p, v.fail(ReasonLocationRefused, spec, "no store serves this location", err)
	}
	return p, nil
}

// fail builds an *Error for spec.
func (v *Verifier) fail(reason Reason, spec Spec, message string, cause error) error {
	uri := location.Redact(spec.URI)
	if reason == ReasonLocationRefused && cause != nil && message == "" {
		// The location error is already a sentence naming the URI.
		return &Error{Reason: reason, URI: uri, Message: cause.Error(), Err: cause}
	}
	return &Error{
		Reason:  reason,
		URI:     uri,
		Message: fmt.Sprintf("artifact %s: %s", uri, message),
		Err:     cause,
	}
}

// parseDigest decodes a 64-character hex sha256, with an optional
// "sha256:" prefix.
func parseDigest(s string) ([]byte, error) {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) != 2*sha256.Size {
		return nil, fmt.Errorf("the sha256 must be %d hex characters, got %d", 2*sha256.Size, len(s))
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("the sha256 is not hexadecimal")
	}
	return b, nil
}

// equalDigest compares two digests.
func equalDigest(a, b []byte) bool {
	return len(a) == len(b) && string(a) == string(b)
}

// hashThenWrite feeds each chunk to the hash and then to the sink.
type hashThenWrite struct {
	h hash.Hash
	w io.Writer
}

// Write hashes p and passes it on.
func (t hashThenWrite) Write(p []byte) (int, error) {
	t.h.Write(p)
	return t.w.Write(p)
}

// progressWriter counts what passes through it on a progress task.
type progressWriter struct {
	w    io.Writer
	task *progress.Task
}

func (p progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.task.Add(int64(n))
	return n, err
}
