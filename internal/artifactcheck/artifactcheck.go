// Package artifactcheck connects manifests and the policy to artifact
// verification: it maps a manifest onto an artifact.Spec, builds a verifier
// from the policy's artifacts section and the repository's trusted keys, and
// records verification outcomes in the policy engine's input so that the
// pure `artifacts` rule family can judge them.
package artifactcheck

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// SpecOf maps a manifest's artifact onto a verification spec.
func SpecOf(m *manifest.Manifest) artifact.Spec {
	return artifact.Spec{URI: m.Artifact.URI, SHA256: m.Artifact.SHA256, Size: m.Artifact.Size, Signature: m.Artifact.Signature}
}

// LoadTrustedKeys reads and parses the policy's trusted keys from fsys, the
// tree of the commit whose policy is in force (the base, for a change). A
// missing or malformed key is an error: a policy that names a key nobody can
// load must not silently verify nothing.
func LoadTrustedKeys(fsys fs.FS, paths []string) ([]*ecdsa.PublicKey, error) {
	keys := make([]*ecdsa.PublicKey, 0, len(paths))
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("trusted key %s: %w", p, err)
		}
		k, err := artifact.ParsePublicKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("trusted key %s: %w", p, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// NewVerifier builds the verifier a policy calls for: its allowed
// locations, and the trusted keys it names read from repo (the tree of the
// commit whose policy is in force), reading through stores.
func NewVerifier(pol *policy.Policy, repo fs.FS, stores artifact.Resolver) (*artifact.Verifier, error) {
	keys, err := LoadTrustedKeys(repo, pol.Artifacts.TrustedKeys)
	if err != nil {
		return nil, err
	}
	return artifact.NewVerifier(artifact.Config{
		AllowedLocations: pol.Artifacts.AllowedLocations,
		AllowLocal:       pol.Artifacts.AllowLocal,
		TrustedKeys:      keys,
		Stores:           stores,
	})
}

// VerifyInput reads and hashes the artifacts a change must have verified,
// then the evidence VerifyEvidence reads (validation reports, SBOMs and
// rollback targets), opening storage at most once,
// with the policy and trusted keys of the base tree, and records the
// outcomes in in.Artifacts for the engine's artifacts rule. A changed head
// manifest is verified when its environment sets verifyArtifacts in the
// base policy, or when all is true (the --verify-artifacts flags and the
// Action's verify-artifacts input, which can only add verification).
// Manifests whose outcome in.Artifacts already holds are left as they are.
//
// Nothing is verified, and stores is not called, when there is no policy,
// the rule family is off, or no changed manifest needs verifying. When
// stores fails (no usable storage credentials) every manifest that needed
// verifying is recorded as unavailable, so the rule fails with "could not
// verify" rather than skipping. The error is reserved for a verifier that
// cannot be built at all (a trusted key the policy names cannot be loaded).
func VerifyInput(ctx context.Context, in *evaluate.Input, base fs.FS, stores func() (artifact.Resolver, error), all bool) error {
	stores = sync.OnceValues(stores)
	if err := verifyArtifacts(ctx, in, base, stores, all); err != nil {
		return err
	}
	return VerifyEvidence(ctx, in, base, stores)
}

// verifyArtifacts is VerifyInput's part for the artifacts rule.
func verifyArtifacts(ctx context.Context, in *evaluate.Input, base fs.FS, stores func() (artifact.Resolver, error), all bool) error {
	if in.Policy == nil || in.Policy.Mode(policy.FamilyArtifacts) == policy.Off {
		return nil
	}
	paths := Wanted(in, all)
	if len(paths) == 0 {
		return nil
	}
	r, err := stores()
	if err != nil {
		if in.Artifacts == nil {
			in.Artifacts = make(map[string]evaluate.ArtifactCheck, len(paths))
		}
		for _, p := range paths {
			in.Artifacts[p] = evaluate.ArtifactCheck{Unavailable: true, NoCredentials: true, Detail: NoCredentialsDetail(err)}
		}
		return nil
	}
	v, err := NewVerifier(in.Policy, base, r)
	if err != nil {
		return err
	}
	fill(ctx, in, v, paths, 4)
	return nil
}

// NoCredentialsDetail is the detail of an outcome that could not be
// verified because storage could not be opened with the credentials at
// hand (err says why).
func NoCredentialsDetail(err error) string {
	if nc := (*NoCredentialsError)(nil); errors.As(err, &nc) {
		return nc.Error()
	}
	return "no storage credentials: " + err.Error()
}

// Wanted returns, sorted, the changed head manifests of in whose artifact
// must be verified: those whose environment sets verifyArtifacts in the
// policy, or all of them when all is true. Manifests without an artifact
// URI (the schema reports them) and those whose outcome in.Artifacts already
// holds are left out.
func Wanted(in *evaluate.Input, all bool) []string {
	if in.Policy == nil {
		return nil
	}
	var paths []string
	for p, d := range in.Head {
		if d == nil || d.Manifest == nil || d.Manifest.Artifact.URI == "" {
			continue
		}
		if _, done := in.Artifacts[p]; done {
			continue
		}
		if all || Required(in.Policy, p) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// Required reports whether the policy requires the artifact of the manifest
// at path p to be verified before merge: its environment (the folder it
// lives in) sets verifyArtifacts.
func Required(pol *policy.Policy, p string) bool {
	env, _, ok := manifest.EnvironmentAndModel(p)
	if !ok {
		return false
	}
	e, declared := pol.Environment(env)
	return declared && e.VerifyArtifacts
}

// Stores returns the store resolver used in production: Azure Blob Storage
// for https and loopback http URIs, local files for file URIs. blobs may be
// nil when no Azure credentials are configured; blob URIs then cannot be
// verified, which fails closed.
func Stores(blobs *artifact.BlobStore) artifact.Resolver {
	r := artifact.SchemeResolver{"file": artifact.FileStore{}}
	if blobs != nil {
		r["https"] = blobs
		r["http"] = blobs
	}
	return r
}

// RequireSignature reports whether the manifest's environment requires a
// signature under the policy.
func RequireSignature(pol *policy.Policy, m *manifest.Manifest) bool {
	env, ok := pol.Environment(m.Environment)
	return ok && env.RequireSignature
}

// Outcome turns a verification into the engine's plain-data record.
func Outcome(res artifact.Result, err error) evaluate.ArtifactCheck {
	if err == nil && res.Verified() {
		detail := fmt.Sprintf("sha256 %s verified (%d bytes)", short(res.SHA256), res.BytesRead)
		if res.SignedBy != "" {
			detail += ", signed by " + res.SignedBy
		}
		return evaluate.ArtifactCheck{Verified: true, Detail: detail}
	}
	if err == nil {
		return evaluate.ArtifactCheck{Detail: "artifact did not verify: " + res.String()}
	}
	if nc := (*NoCredentialsError)(nil); errors.As(err, &nc) {
		return evaluate.ArtifactCheck{Unavailable: true, NoCredentials: true, Detail: nc.Error()}
	}
	if !failure.IsTerminal(err) {
		return evaluate.ArtifactCheck{Unavailable: true, Detail: err.Error()}
	}
	return evaluate.ArtifactCheck{Detail: err.Error()}
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}

// Fill verifies the artifact of every changed head manifest of in that
// decoded, at most concurrency at a time, and records each outcome in
// in.Artifacts. Verification needs the base policy; without one nothing is
// recorded (the engine already fails such a change closed).
func Fill(ctx context.Context, in *evaluate.Input, v *artifact.Verifier, concurrency int) {
	if in.Policy == nil || v == nil {
		return
	}
	paths := make([]string, 0, len(in.Head))
	for p, d := range in.Head {
		if d != nil && d.Manifest != nil && d.Manifest.Artifact.URI != "" {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	fill(ctx, in, v, paths, concurrency)
}

// fill verifies the artifacts of the head manifests at paths.
func fill(ctx context.Context, in *evaluate.Input, v *artifact.Verifier, paths []string, concurrency int) {
	if in.Artifacts == nil {
		in.Artifacts = make(map[string]evaluate.ArtifactCheck, len(paths))
	}
	outcomes := make([]evaluate.ArtifactCheck, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(concurrency, 1), len(paths)) {
		wg.Go(func() {
			for i := range next {
				m := in.Head[paths[i]].Manifest
				outcomes[i] = Outcome(v.Verify(ctx, SpecOf(m), RequireSignature(in.Policy, m)))
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, p := range paths {
		in.Artifacts[p] = outcomes[i]
	}
}
