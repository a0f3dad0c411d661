// Package artifactcheck connects manifests and the policy to artifact
// verification: it maps a manifest onto an artifact.Spec, builds a verifier
// from the policy's artifacts section and the repository's trusted keys, and
// records verification outcomes in the policy engine's input so that the
// pure `artifacts` rule family can judge them.
package artifactcheck

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/evaluate"
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

// VerifyInput verifies the artifacts of a change's head manifests with the
// policy and trusted keys of the base tree, and records the outcomes in
// in.Artifacts for the engine's artifacts rule. Nothing is verified, and
// stores is not called, when there is no policy or the rule family is off.
func VerifyInput(ctx context.Context, in *evaluate.Input, base fs.FS, stores func() (artifact.Resolver, error)) error {
	if in.Policy == nil || in.Policy.Mode(policy.FamilyArtifacts) == policy.Off {
		return nil
	}
	r, err := stores()
	if err != nil {
		return err
	}
	v, err := NewVerifier(in.Policy, base, r)
	if err != nil {
		return err
	}
	Fill(ctx, in, v, 4)
	return nil
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
	if !artifact.IsTerminal(err) {
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
