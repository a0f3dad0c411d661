package resolve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
)

// Attestations is the scoring job's own configuration for attestations: the
// keys it trusts, where bundles are stored and the repository they must
// name. It never comes from the repository being verified.
type Attestations struct {
	// Root is the trust root; nil means attestations are not checked.
	Root *attest.TrustRoot
	// Store holds the bundles.
	Store attest.Store
	// Repository is the owner/name every attestation must name.
	Repository string
}

// Attestation statuses in Resolution.Attestation.
const (
	// AttestationVerified: a trusted key attested the pin at its merge.
	AttestationVerified = "verified"
	// AttestationBaseline: a baseline key attested a pin that predates
	// attestations.
	AttestationBaseline = "baseline"
)

// AttestationResult is the attestation a resolution was accepted with.
type AttestationResult struct {
	// Status is AttestationVerified or AttestationBaseline.
	Status string
	// KeyID is the trusted key that signed.
	KeyID string
	// MergeCommit is the commit the attestation binds, the one that last
	// changed the manifest's path on the first-parent history.
	MergeCommit string
	// ManifestBlob is the git blob id of the resolved manifest.
	ManifestBlob string
	// Approvers are the logins of the approvals the attestation records.
	Approvers []string
	// AcceptUnreviewed is true for a baseline whose operator accepted a pin
	// that bypassed review.
	AcceptUnreviewed bool
	// Location is the store path of the bundle.
	Location string
	// Verified is the attestation as verified, with its whole statement.
	Verified *attest.Verified
}

// NotAttestedError reports that no bundle is stored yet for the pin under
// any trusted key while the store answered: the bot issues attestations at
// merge and again in its resync pass, so a retry may succeed. It is of kind
// failure.Unavailable.
type NotAttestedError struct {
	// Path is the manifest's path.
	Path string
	// ManifestBlob and MergeCommit are what an attestation must bind.
	ManifestBlob, MergeCommit string
	// Store names the store that was read.
	Store string
}

// Error implements error.
func (e *NotAttestedError) Error() string {
	return fmt.Sprintf("%s is not yet attested: %s holds no attestation of manifest blob %s (merge %s) by a trusted key; retry once the bot has issued it",
		e.Path, e.Store, e.ManifestBlob, e.MergeCommit)
}

// requireAttestation checks the attestation of m before anything is
// verified or downloaded. On failure it removes the download path, as a
// failed download does: a job that ignores the exit code must not find
// older bytes there.
func requireAttestation(ctx context.Context, repo *gitrepo.Repo, commit plumbing.Hash, m *manifest.Manifest, deps Deps) (*AttestationResult, error) {
	res, err := checkAttestation(ctx, repo, commit, m, deps.Attestations)
	if err != nil && deps.Download != "" {
		if rmErr := os.Remove(deps.Download); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
	}
	return res, err
}

// checkAttestation refuses the manifest m read at commit unless a bundle
// signed by a trusted key binds the configured repository, m's environment,
// model and version, the manifest blob, the artifact digest, and the
// commit that last changed the manifest's path on the first-parent history
// of commit. A present but invalid bundle refuses; no bundle at all, or a
// store that cannot answer, is unavailable (retry).
func checkAttestation(ctx context.Context, repo *gitrepo.Repo, commit plumbing.Hash, m *manifest.Manifest, cfg *Attestations) (*AttestationResult, error) {
	p := manifest.Path(m.Environment, m.Model)
	merge, blob, err := pinCommit(ctx, repo, p, commit)
	if err != nil {
		return nil, err
	}
	want := attest.Expectation{
		Repository: cfg.Repository, Environment: m.Environment, Model: m.Model, Version: m.Version,
		ManifestBlob: blob, ArtifactSHA256: m.Artifact.SHA256, MergeCommit: merge,
		ManifestPath: p, ArtifactURI: m.Artifact.URI,
	}
	ids := cfg.Root.KeyIDs()
	slices.Sort(ids)
	var refusal, unavailable error
	for _, id := range ids {
		loc, err := attest.Location{
			Repository: cfg.Repository, Environment: m.Environment, Model: m.Model,
			Version: m.Version, ManifestBlob: blob, KeyID: id,
		}.Path()
		if err != nil {
			return nil, refuse(p, "%s: cannot locate its attestation: %v", p, err)
		}
		data, err := cfg.Store.Get(ctx, loc)
		switch {
		case errors.Is(err, attest.ErrNotFound):
			continue
		case err != nil:
			unavailable = cmpErr(unavailable, fmt.Errorf("reading attestation %s from %s: %w", loc, cfg.Store, err))
			continue
		}
		v, err := attest.Verify(data, cfg.Root, want)
		if err != nil {
			refusal = cmpErr(refusal, fmt.Errorf("%s at %s: %w", p, loc, err))
			continue
		}
		return attestationResult(v, blob, loc), nil
	}
	switch {
	case refusal != nil:
		return nil, &RefusedError{Path: p, Reason: refusal.Error()}
	case unavailable != nil:
		return nil, failure.UnavailableError(unavailable)
	}
	return nil, failure.UnavailableError(&NotAttestedError{Path: p, ManifestBlob: blob, MergeCommit: merge, Store: cfg.Store.String()})
}

// pinCommit returns the commit that last changed the manifest at p on the
// first-parent history of commit, and the manifest's blob id there: the
// one place the merge an attestation must name is computed.
func pinCommit(ctx context.Context, repo *gitrepo.Repo, p string, commit plumbing.Hash) (merge, blob string, err error) {
	mc, bl, err := repo.LastChange(ctx, p, commit)
	if err != nil {
		if failure.IsTerminal(err) {
			return "", "", refuse(p, "%s: %v", p, err)
		}
		return "", "", err
	}
	return mc.String(), bl.String(), nil
}

// attestationResult summarizes an accepted attestation.
func attestationResult(v *attest.Verified, blob, loc string) *AttestationResult {
	pr := v.Statement.Predicate
	res := &AttestationResult{
		Status: AttestationVerified, KeyID: v.Key.ID, MergeCommit: pr.Commits.Merge,
		ManifestBlob: blob, AcceptUnreviewed: pr.AcceptUnreviewed, Location: loc,
		Approvers: []string{}, Verified: v,
	}
	if pr.Baseline {
		res.Status = AttestationBaseline
	}
	for _, a := range pr.Approvers {
		res.Approvers = append(res.Approvers, a.Login)
	}
	return res
}

// cmpErr keeps the first error.
func cmpErr(first, next error) error {
	if first != nil {
		return first
	}
	return next
}

// CheckAttestation checks the attestation of the manifest of model in env
// at commit, as Resolve does with Deps.Attestations, without applying the
// other rules or touching the artifact: for promobot attest verify.
func CheckAttestation(ctx context.Context, repo *gitrepo.Repo, commit plumbing.Hash, env, model string, cfg *Attestations) (*AttestationResult, error) {
	fsys, err := repo.FS(commit)
	if err != nil {
		return nil, err
	}
	if err := checkEntry(fsys, env, model); err != nil {
		return nil, err
	}
	in, err := repo.BuildInput(ctx, commit, commit, gitrepo.InputOptions{})
	if err != nil {
		return nil, err
	}
	p := manifest.Path(env, model)
	doc := in.Base[p]
	if doc == nil || doc.Manifest == nil {
		return nil, refuse(p, "%s", firstProblem(p, doc))
	}
	return checkAttestation(ctx, repo, commit, doc.Manifest, cfg)
}
