// Package resolve answers a scoring job's question "which artifact do I
// load?": it reads the manifest of a model in an environment at one commit,
// applies every rule of the engine that can be judged from that tree
// (evaluate.Deployed) and, when asked or when the environment needs
// approvals, verifies or downloads the artifact.
package resolve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/artifactcheck"
	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/location"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/yamldoc"
)

// Request names what to resolve.
type Request struct {
	Environment string
	Model       string
	// Commit is the commit whose tree is read.
	Commit plumbing.Hash
	// Verify forces verification on or off; nil means on when the
	// environment needs approvals. A download always verifies.
	Verify *bool
}

// Deps are the resolver's collaborators, injected by the caller.
type Deps struct {
	// Stores returns the artifact stores; it is called only when an
	// artifact is verified, so credentials are needed only then.
	Stores func() (artifact.Resolver, error)
	// Download, when not empty, is the path the verified artifact is
	// written to.
	Download string
	// SBOM, when not empty, is the path the manifest's SBOM is written to
	// after the artifact's download: read, its digest checked and
	// identified as SPDX 2.3 or CycloneDX 1.5+ JSON. It needs Download.
	SBOM string
	// Attestations, when not nil, requires a trusted attestation of the
	// manifest before anything is verified or downloaded.
	Attestations *Attestations
}

// Resolution is a manifest a scoring job may load.
type Resolution struct {
	Manifest *manifest.Manifest
	// Commit is the commit that was read.
	Commit string
	// PinnedBy is the commit that pinned this version in the environment,
	// and PinnedAt its time, when history is available.
	PinnedBy string
	PinnedAt time.Time
	// Warnings are the rules that failed in warn mode, as
	// file:line:col: message.
	Warnings []string
	// Verified is true when the artifact was verified against storage.
	Verified     bool
	Verification *artifact.Result
	// Path is where the artifact was downloaded.
	Path string
	// SBOMPath is where the SBOM was downloaded.
	SBOMPath string
	// Attestation is the attestation the manifest was accepted with, when
	// attestations are required.
	Attestation *AttestationResult
}

// RefusedError says why a manifest must not be loaded. Retrying cannot help.
type RefusedError struct {
	Path string
	// Line is the 1-based line of Path the refusal is about, or 0.
	Line   int
	Reason string
}

// Error implements error.
func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// FailureKind returns failure.Refused: the CLI exits with status 1.
func (e *RefusedError) FailureKind() failure.Kind { return failure.Refused }

func refuse(p, format string, args ...any) error {
	return &RefusedError{Path: p, Reason: fmt.Sprintf(format, args...)}
}

// refuseProblem refuses for a problem found in a file, at its line.
func refuseProblem(p diag.Problem) error {
	return &RefusedError{Path: p.File, Line: p.Line, Reason: p.String()}
}

// Resolve reads and checks the manifest of req.Model in req.Environment.
// A *RefusedError means the manifest must not be used. An unknown
// environment or model is an error of kind failure.NotFound, storage that
// could not answer one of kind failure.Unavailable.
//
// The rules are the engine's (evaluate.Deployed), applied with the policy's
// modes to the tree at req.Commit, read the way the engine's input is
// built: schema, environment, immutability across the environments' pins,
// validation, ticket, location, lineage, bundles and signature. A rule that
// fails in enforce mode refuses; in warn mode it is returned in Warnings.
// Verifying the artifact always checks its size and sha256, whatever the
// modes: the bytes a job loads are never the repository's to waive.
func Resolve(ctx context.Context, repo *gitrepo.Repo, req Request, deps Deps) (*Resolution, error) {
	fsys, err := repo.FS(req.Commit)
	if err != nil {
		return nil, err
	}
	in, err := repo.BuildInput(ctx, req.Commit, req.Commit, gitrepo.InputOptions{})
	if err != nil {
		return nil, err
	}
	pol := in.Policy
	if pol == nil {
		if len(in.PolicyProblems) > 0 {
			pp := in.PolicyProblems[0]
			pp.File = cmp.Or(pp.File, policy.Path)
			return nil, refuseProblem(pp)
		}
		return nil, refuse(policy.Path, "policy file not found: every repository needs %s", policy.Path)
	}
	env, ok := pol.Environment(req.Environment)
	if !ok {
		var names []string
		for _, e := range pol.Environments {
			names = append(names, e.Name)
		}
		return nil, failure.NotFoundf("environment %q is not declared in %s (declared: %s)", req.Environment, policy.Path, strings.Join(names, ", "))
	}
	p := manifest.Path(req.Environment, req.Model)
	if err := checkEntry(fsys, req.Environment, req.Model); err != nil {
		return nil, err
	}
	doc := in.Base[p]
	if doc == nil || doc.Manifest == nil {
		return nil, refuse(p, "%s", firstProblem(p, doc))
	}
	paths := []string{p}
	if b, ok := pol.BundleOf(req.Model); ok {
		for _, other := range b.Models {
			if other != req.Model {
				paths = append(paths, manifest.Path(req.Environment, other))
			}
		}
	}
	if in.History, err = repo.Histories(ctx, paths, req.Commit); err != nil {
		return nil, err
	}
	verdict := evaluate.Deployed(in, p)
	if verdict.Verdict != evaluate.VerdictPass {
		for _, r := range verdict.Rules {
			if r.Blocks() {
				return nil, &RefusedError{Path: cmp.Or(r.File, p), Line: r.Line, Reason: ruleText(r)}
			}
		}
		return nil, refuse(p, "%s", verdict.Title)
	}
	m := doc.Manifest
	res := &Resolution{Manifest: m, Commit: req.Commit.String()}
	for _, r := range verdict.Rules {
		if r.Status == evaluate.StatusWarn {
			res.Warnings = append(res.Warnings, ruleText(r))
		}
	}
	if pins := in.History[p]; len(pins) > 0 {
		last := pins[len(pins)-1]
		res.PinnedBy, res.PinnedAt = last.Commit, last.Since
	}
	if deps.Attestations != nil {
		if res.Attestation, err = requireAttestation(ctx, repo, req.Commit, m, deps); err != nil {
			return nil, err
		}
	}
	verify := env.Approvals > 0
	if req.Verify != nil {
		verify = *req.Verify
	}
	if !verify && deps.Download == "" {
		return res, nil
	}
	if err := verifyArtifact(ctx, fsys, pol, m, deps, res); err != nil {
		return nil, err
	}
	return res, nil
}

// ruleText renders a rule outcome as file:line:col: message.
func ruleText(r evaluate.RuleResult) string {
	return diag.Problem{File: r.File, Line: r.Line, Column: r.Column, Message: r.Message}.String()
}

// firstProblem says why the manifest at p could not be loaded.
func firstProblem(p string, doc *manifest.Document) string {
	if doc != nil && len(doc.Problems) > 0 {
		return doc.Problems[0].String()
	}
	return "no manifest at " + p
}

// checkEntry refuses a manifest path that is missing, too large, or not a
// regular file in folders: a symbolic link or submodule on the way is
// never followed, as the engine never follows one.
func checkEntry(fsys fs.FS, env, model string) error {
	p := manifest.Path(env, model)
	parts := strings.Split(p, "/")
	for i := range parts {
		q := strings.Join(parts[:i+1], "/")
		info, err := fs.Stat(fsys, q)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return notPinned(fsys, env, model)
		case err != nil:
			return err
		case info.Mode()&fs.ModeSymlink != 0:
			return refuse(p, "%s is a symbolic link; a manifest is a regular file in folders, and links are never followed", q)
		case info.Mode()&fs.ModeIrregular != 0:
			return refuse(p, "%s is a submodule; a manifest is a regular file in folders", q)
		}
	}
	_, err := readManifest(fsys, env, model)
	return err
}

func readManifest(fsys fs.FS, env, model string) ([]byte, error) {
	p := manifest.Path(env, model)
	data, err := yamldoc.ReadFile(fsys, p, yamldoc.DefaultLimits)
	var tooBig *yamldoc.Error
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, notPinned(fsys, env, model)
	case errors.As(err, &tooBig):
		return nil, refuse(p, "%s", tooBig.Problem(p))
	}
	return data, err
}

// notPinned is the not-found error for a model env has no manifest of,
// naming the models it does pin.
func notPinned(fsys fs.FS, env, model string) error {
	known := "none"
	if models := modelsIn(fsys, env); len(models) > 0 {
		known = strings.Join(models, ", ")
	}
	p := manifest.Path(env, model)
	return failure.NotFoundf("model %q is not pinned in %s: no manifest at %s (pinned there: %s)", model, env, p, known)
}

// modelsIn lists the models an environment's folder holds manifests for.
func modelsIn(fsys fs.FS, env string) []string {
	entries, _ := fs.ReadDir(fsys, path.Join(manifest.Root, env))
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			out = append(out, name)
		}
	}
	return out
}

// verifyArtifact verifies, or downloads, the manifest's artifact.
func verifyArtifact(ctx context.Context, fsys fs.FS, pol *policy.Policy, m *manifest.Manifest, deps Deps, res *Resolution) error {
	p := manifest.Path(m.Environment, m.Model)
	stores, err := deps.Stores()
	if err != nil {
		return fmt.Errorf("artifact storage: %w", err)
	}
	// Only the trusted keys can fail here: a key the policy names that
	// cannot be read refuses, like any broken policy.
	v, err := artifactcheck.NewVerifier(pol, fsys, stores)
	if err != nil {
		return refuse(policy.Path, "%v", err)
	}
	spec, requireSig := artifactcheck.SpecOf(m), artifactcheck.RequireSignature(pol, m)
	var result artifact.Result
	if deps.Download != "" {
		result, err = v.Download(ctx, spec, requireSig, deps.Download)
		if err != nil {
			// A scoring job that ignores the exit code must not find older
			// bytes at the path either.
			if rmErr := os.Remove(deps.Download); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
				err = errors.Join(err, rmErr)
			}
		} else {
			res.Path = deps.Download
		}
		if err == nil && deps.SBOM != "" {
			if err := downloadSBOM(ctx, v, m, deps.SBOM); err != nil {
				// Neither file is left behind: a job that ignores the
				// exit code must not load a model whose SBOM was refused.
				return errors.Join(err, removeIfPresent(deps.Download))
			}
			res.SBOMPath = deps.SBOM
		}
	} else {
		result, err = v.Verify(ctx, spec, requireSig)
	}
	res.Verification = &result
	if err != nil {
		if failure.IsTerminal(err) {
			return refuse(p, "%s: %v", p, err)
		}
		return failure.UnavailableError(fmt.Errorf("could not verify %s: %w", p, err))
	}
	res.Verified = result.Verified()
	if !res.Verified {
		return refuse(p, "%s: artifact did not verify", p)
	}
	return nil
}

// IsRemote reports whether repo names a clone URL rather than a path.
func IsRemote(repo string) bool {
	for _, prefix := range []string{"https://", "http://", "ssh://", "git@", "file://"} {
		if strings.HasPrefix(repo, prefix) {
			return true
		}
	}
	return false
}

// Clone makes a bare clone of url into dir, authenticating with token (as
// GitHub expects: user x-access-token) when it is not empty.
func Clone(ctx context.Context, url, dir, token string) (*gitrepo.Repo, error) {
	remote := gitrepo.Remote{URL: url, Auth: gitrepo.TokenAuth(token)}
	if _, err := remote.CloneBare(ctx, dir); err != nil {
		err = fmt.Errorf("clone %s: %w", location.Redact(url), err)
		if errors.Is(err, transport.ErrRepositoryNotFound) {
			return nil, failure.NotFoundError(err)
		}
		if errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) {
			return nil, failure.Mark(failure.Usage, err)
		}
		return nil, failure.UnavailableError(err)
	}
	return gitrepo.Open(dir)
}
