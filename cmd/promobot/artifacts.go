package main

import (
	"context"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/artifactcheck"
	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
)

// artifactStores returns a function that builds the artifact stores on first
// use, so credentials are looked up only when an artifact is verified:
// Azure credentials from AZURE_STORAGE_CONNECTION_STRING,
// AZURE_STORAGE_SAS_TOKEN or the default Azure credential chain.
func artifactStores(e *env) func() (artifact.Resolver, error) {
	return sync.OnceValues(func() (artifact.Resolver, error) {
		return artifactcheck.StoresFromEnv(e.getenv, e.blobOptions)
	})
}

// artifactHook verifies a change's artifacts, for check and for the bot,
// with the trusted keys of the base tree and storage credentials looked up
// once, on first use: those of environments whose policy sets
// verifyArtifacts, and with all (--verify-artifacts) every other one too.
type artifactHook struct {
	stores func() (artifact.Resolver, error)
	all    bool
}

// VerifyArtifacts records the verification outcome of every changed head
// manifest that must be verified in in.Artifacts.
func (h artifactHook) VerifyArtifacts(ctx context.Context, in *evaluate.Input, base fs.FS) error {
	return artifactcheck.VerifyInput(ctx, in, base, h.stores, h.all)
}

// artifactVerifier returns validate's Verify hook: each valid manifest's
// artifact is verified and every failure becomes a problem on its artifact
// field. Storage that cannot be reached is a problem too: validation never
// passes on an unknown outcome; unavailable counts those problems.
func artifactVerifier(e *env, repo fs.FS, unavailable *atomic.Int64) func(context.Context, *manifest.Document, *policy.Policy) []diag.Problem {
	var (
		once sync.Once
		v    *artifact.Verifier
		err  error
	)
	return func(ctx context.Context, doc *manifest.Document, pol *policy.Policy) []diag.Problem {
		once.Do(func() {
			var stores artifact.Resolver
			if stores, err = artifactStores(e)(); err != nil {
				return
			}
			v, err = artifactcheck.NewVerifier(pol, repo, stores)
		})
		if err != nil {
			return []diag.Problem{doc.Problem("could not verify artifact: "+oneLine(err.Error()), "artifact")}
		}
		m := doc.Manifest
		res, verr := v.Verify(ctx, artifactcheck.SpecOf(m), artifactcheck.RequireSignature(pol, m))
		out := artifactcheck.Outcome(res, verr)
		switch {
		case out.Verified:
			return nil
		case out.Unavailable:
			unavailable.Add(1)
			return []diag.Problem{doc.Problem("could not verify artifact: "+out.Detail, "artifact", "uri")}
		default:
			return []diag.Problem{doc.Problem("artifact does not verify: "+out.Detail, "artifact", "sha256")}
		}
	}
}
