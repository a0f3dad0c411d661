package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/resolve"
)

func init() { subcommands = append(subcommands, newResolveCommand) }

// resolveFlags are the raw flag values of promobot resolve.
type resolveFlags struct {
	repo, ref, env, model, format, download string
	sbom                                    string
	githubRepo                              string
	verify, requireReviewed                 bool
	trust                                   trustFlags
	report                                  reportFlags
}

func newResolveCommand(e *env) *cobra.Command {
	var f resolveFlags
	cmd := &cobra.Command{
		Use:   "resolve --env ENV --model MODEL",
		Short: "Tell a scoring job which artifact to load, after verifying it",
		Long: `Resolve reads the manifest of MODEL in ENV from the repository and prints the
pinned version, artifact URI and digest, refusing (exit 1, one line on stderr)
when the manifest is invalid, its environment requires validation and it has
not passed, its artifact URI is not allowed, or the artifact does not verify.

--repo is a local path or a clone URL (cloned into a temporary folder, with
GITHUB_TOKEN as the HTTP password when set). --ref defaults to the remote's
default branch as last fetched (origin/HEAD), then origin/main, then HEAD.
Verification (--verify) is on by default for environments that need
approvals. --download PATH streams the artifact to a temporary file next to
PATH, verifies it, syncs and renames it into place; on failure no file is
left at PATH. --sbom PATH (with --download) also fetches the SBOM the
manifest names (sbom.uri), checks its digest and that it is SPDX 2.3 or
CycloneDX 1.5+ JSON, and writes it to PATH the same way; a manifest
without an SBOM, or an SBOM that does not verify, is refused (exit 1) and
neither file is left behind.

With a trust root of the job's own (--trusted-key, --trusted-keyvault-key,
--baseline-key, --baseline-keyvault-key, --attestations, --expected-repo, or
their PROMOBOT_* variables; never read from the repository), resolve also
requires a signed promotion attestation binding the repository,
environment, model, version, manifest blob, artifact sha256 and the commit
that last changed the manifest, before anything is downloaded: refused
(exit 1) when a stored attestation does not verify, exit 4 when none is
stored yet. No GitHub API is used for it.

--format text (the default) is for people, json for programs (described by
schemas/resolve-output.schema.json; an error is then a JSON object too, see
schemas/error-output.schema.json), env prints MODEL_*=value lines for a shell.

Exit status: 0 resolved; 1 refused (keep the current model and alert);
2 usage or configuration error; 3 unknown environment, model or revision;
4 storage, GitHub or the git remote could not answer (a retry may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runResolve(cmd, e, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", "", "local repository path or clone URL (default: the repository holding the working directory)")
	fl.StringVar(&f.ref, "ref", "", "revision to read (default: origin/HEAD, origin/main, then HEAD)")
	fl.StringVar(&f.env, "env", "", "environment (required)")
	fl.StringVar(&f.model, "model", "", "model (required)")
	fl.StringVar(&f.format, "format", "text", "output format: text, json or env")
	fl.StringVar(&f.download, "download", "", "download the verified artifact to this path")
	fl.StringVar(&f.sbom, "sbom", "", "with --download, also download the manifest's verified SBOM to this path")
	fl.BoolVar(&f.verify, "verify", false, "verify size, digest and signature against storage (default: on when the environment needs approvals)")
	fl.BoolVar(&f.requireReviewed, "require-reviewed", false, "refuse a manifest whose pinning change or any later edit did not come through a merged pull request with a successful promobot check (asks GitHub: GITHUB_TOKEN, GITHUB_API_URL)")
	fl.StringVar(&f.githubRepo, "github-repo", "", "GitHub repository OWNER/REPO for --require-reviewed (default: derived from the clone URL)")
	aliasFlag(fl, "github", "github-repo")
	f.trust.register(fl)
	f.report.register(fl)
	return cmd
}

func runResolve(cmd *cobra.Command, e *env, f *resolveFlags) error {
	if f.env == "" || f.model == "" {
		return usageError("resolve needs --env and --model")
	}
	if f.format != "text" && f.format != "json" && f.format != "env" {
		return usageError("unknown format %q: want text, json or env", f.format)
	}
	if f.sbom != "" && f.download == "" {
		return usageError("resolve: --sbom needs --download")
	}
	ctx := cmd.Context()
	if err := f.trust.applyEnv(cmd.Flags(), e.getenv); err != nil {
		return err
	}
	// The trust root is loaded (Key Vault keys fetched) before the
	// repository is read: a misconfigured job fails before any work.
	attestations, err := f.trust.load(ctx, e)
	if err != nil {
		return err
	}
	repo, repoPath, commit, cleanup, err := openResolveRepoAt(ctx, e, f.repo, f.ref)
	if err != nil {
		return err
	}
	defer cleanup()
	req := resolve.Request{Environment: f.env, Model: f.model, Commit: commit}
	if cmd.Flags().Changed("verify") {
		req.Verify = &f.verify
	}
	if f.requireReviewed {
		// Before any download: an unreviewed manifest's bytes are never
		// written where a scoring job would find them.
		if err := requireReviewed(ctx, e, f, repoPath); err != nil {
			return err
		}
	}
	res, err := resolve.Resolve(ctx, repo, req, resolve.Deps{
		Stores:       artifactStores(e),
		Download:     f.download,
		SBOM:         f.sbom,
		Attestations: attestations,
	})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(e.stderr, "warning: "+w)
	}
	if err := writeResolution(e.stdout, f.format, res); err != nil {
		return err
	}
	f.report.write(ctx, e, f, res)
	return nil
}

// openResolveRepoAt opens the repository as openResolveRepo does and
// resolves ref in it (resolveRef): what resolve and attest verify read.
func openResolveRepoAt(ctx context.Context, e *env, repoArg, ref string) (*gitrepo.Repo, string, plumbing.Hash, func(), error) {
	repo, path, cleanup, err := openResolveRepo(ctx, e, repoArg)
	if err != nil {
		return nil, "", plumbing.ZeroHash, nil, err
	}
	commit, err := resolveRef(repo, ref)
	if err != nil {
		cleanup()
		return nil, "", plumbing.ZeroHash, nil, err
	}
	return repo, path, commit, cleanup, nil
}

// openResolveRepo opens a local repository or clones a URL into a temporary
// folder that cleanup removes. It also returns the repository's path.
func openResolveRepo(ctx context.Context, e *env, repo string) (*gitrepo.Repo, string, func(), error) {
	if resolve.IsRemote(repo) {
		dir, err := os.MkdirTemp("", "promobot-resolve-*")
		if err != nil {
			return nil, "", nil, err
		}
		cleanup := func() { os.RemoveAll(dir) }
		r, err := resolve.Clone(ctx, repo, dir, e.getenv("GITHUB_TOKEN"))
		if err != nil {
			cleanup()
			return nil, "", nil, err // marked by Clone: not found, unavailable or usage
		}
		return r, dir, func() { r.Close(); cleanup() }, nil
	}
	if repo == "" {
		cwd, err := e.getwd()
		if err != nil {
			return nil, "", nil, usageError("%v", err)
		}
		repo = cwd
	}
	r, err := gitrepo.Open(repo)
	if err != nil {
		return nil, "", nil, usageError("%v", err)
	}
	return r, repo, func() { r.Close() }, nil
}

// requireReviewed refuses (exit 1) a manifest whose current content did not
// come through reviewed pull requests, and fails (exit 4, or 2 when the
// credentials are refused) when GitHub cannot answer: an unknown answer
// never lets a manifest through.
func requireReviewed(ctx context.Context, e *env, f *resolveFlags, repoPath string) error {
	ghRepo := f.githubRepo
	if ghRepo == "" {
		if owner, name, ok := githubRepoFromURL(f.repo, e.getenv("GITHUB_API_URL")); ok {
			ghRepo = owner + "/" + name
		}
	}
	if ghRepo == "" {
		return usageError("--require-reviewed needs --github-repo OWNER/REPO (or a GitHub clone URL as --repo)")
	}
	src := &auditSource{repo: repoPath, ref: f.ref, githubRepo: ghRepo, noCache: true}
	run, err := src.load(ctx, e)
	if err != nil {
		return err
	}
	_, err = audit.RequireReviewed(ctx, run.history, run.reviewer, f.env, f.model)
	var unreviewed *audit.UnreviewedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unreviewed):
		return refusedError(fmt.Errorf("refused: %w", err))
	case errors.Is(err, audit.ErrNotPinned):
		return failure.NotFoundError(err)
	default:
		return fmt.Errorf("could not check the review history: %w", err)
	}
}

// resolveRef picks the commit to read: --ref, else the default branch as
// last fetched.
func resolveRef(repo *gitrepo.Repo, ref string) (plumbing.Hash, error) {
	if ref != "" {
		return resolveRevision(repo, "--ref", ref)
	}
	var firstErr error
	for _, candidate := range []string{"refs/remotes/origin/HEAD", "origin/main", "HEAD"} {
		h, err := repo.Resolve(candidate)
		if err == nil {
			return h, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return plumbing.ZeroHash, failure.NotFoundError(fmt.Errorf("no default branch found (give --ref): %w", firstErr))
}

// resolutionJSON is the --format json output, described by
// schemas/resolve-output.schema.json.
type resolutionJSON struct {
	Model        string              `json:"model"`
	Environment  string              `json:"environment"`
	Version      string              `json:"version"`
	URI          string              `json:"uri"`
	SHA256       string              `json:"sha256"`
	Size         *int64              `json:"size,omitempty"`
	Lineage      manifest.Lineage    `json:"lineage"`
	Validation   manifest.Validation `json:"validation"`
	Commit       string              `json:"commit"`
	PinnedBy     string              `json:"pinnedBy,omitempty"`
	PinnedAt     *time.Time          `json:"pinnedAt,omitempty"`
	Verified     bool                `json:"verified"`
	Verification []verificationStep  `json:"verification,omitempty"`
	Path         string              `json:"path,omitempty"`
	SBOMPath     string              `json:"sbomPath,omitempty"`
	// Attestation is the attestation the manifest was accepted with.
	Attestation *attestationJSON `json:"attestation,omitempty"`
	// Warnings are the rules that failed in warn mode.
	Warnings []string `json:"warnings,omitempty"`
}

// attestationJSON is the attestation object of the resolve output.
type attestationJSON struct {
	Status           string   `json:"status"`
	KeyID            string   `json:"keyId"`
	MergeCommit      string   `json:"mergeCommit"`
	ManifestBlob     string   `json:"manifestBlob"`
	Approvers        []string `json:"approvers"`
	AcceptUnreviewed bool     `json:"acceptUnreviewed,omitempty"`
}

// verificationStep is one step of the artifact's verification, with its
// status by name: passed, failed, skipped or not-run.
type verificationStep struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

func verificationSteps(checks []artifact.Check) []verificationStep {
	out := make([]verificationStep, 0, len(checks))
	for _, c := range checks {
		out = append(out, verificationStep{Name: c.Name, Status: c.Status.String(), Detail: c.Detail})
	}
	return out
}

func writeResolution(w io.Writer, format string, r *resolve.Resolution) error {
	m := r.Manifest
	if format == "text" {
		return writeResolutionText(w, r)
	}
	if format == "env" {
		lines := []string{
			"MODEL_NAME=" + m.Model,
			"MODEL_ENVIRONMENT=" + m.Environment,
			"MODEL_VERSION=" + m.Version,
			"MODEL_URI=" + m.Artifact.URI,
			"MODEL_SHA256=" + m.Artifact.SHA256,
			"MODEL_COMMIT=" + r.Commit,
		}
		if r.PinnedBy != "" {
			lines = append(lines, "MODEL_PINNED_BY="+r.PinnedBy)
		}
		if r.Path != "" {
			lines = append(lines, "MODEL_PATH="+r.Path)
		}
		if r.SBOMPath != "" {
			lines = append(lines, "MODEL_SBOM_PATH="+r.SBOMPath)
		}
		if r.Attestation != nil {
			lines = append(lines, "MODEL_ATTESTATION="+r.Attestation.Status, "MODEL_MERGE_COMMIT="+r.Attestation.MergeCommit)
		}
		for _, l := range lines {
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
		return nil
	}
	out := resolutionJSON{
		Model: m.Model, Environment: m.Environment, Version: m.Version,
		URI: m.Artifact.URI, SHA256: m.Artifact.SHA256, Size: m.Artifact.Size,
		Lineage: m.Lineage, Validation: m.Validation,
		Commit: r.Commit, PinnedBy: r.PinnedBy, Verified: r.Verified, Path: r.Path, SBOMPath: r.SBOMPath, Warnings: r.Warnings,
	}
	if !r.PinnedAt.IsZero() {
		out.PinnedAt = &r.PinnedAt
	}
	if r.Verification != nil {
		out.Verification = verificationSteps(r.Verification.Checks)
	}
	if a := r.Attestation; a != nil {
		out.Attestation = &attestationJSON{
			Status: a.Status, KeyID: a.KeyID, MergeCommit: a.MergeCommit, ManifestBlob: a.ManifestBlob,
			Approvers: a.Approvers, AcceptUnreviewed: a.AcceptUnreviewed,
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeResolutionText prints the resolution for a person.
func writeResolutionText(w io.Writer, r *resolve.Resolution) error {
	m := r.Manifest
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s in %s\n", m.Model, m.Version, m.Environment)
	fmt.Fprintf(&b, "  uri:      %s\n", m.Artifact.URI)
	fmt.Fprintf(&b, "  sha256:   %s\n", m.Artifact.SHA256)
	if m.Artifact.Size != nil {
		fmt.Fprintf(&b, "  size:     %d %s\n", *m.Artifact.Size, pluralWord(int(*m.Artifact.Size), "byte", "bytes"))
	}
	fmt.Fprintf(&b, "  commit:   %s\n", r.Commit)
	if r.PinnedBy != "" {
		fmt.Fprintf(&b, "  pinned:   by commit %s on %s\n", shortCommit(r.PinnedBy), r.PinnedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	switch {
	case r.Verified:
		fmt.Fprintln(&b, "  verified: yes, against storage")
	default:
		fmt.Fprintln(&b, "  verified: no (not asked; use --verify)")
	}
	if r.Verification != nil {
		for _, c := range r.Verification.Checks {
			fmt.Fprintf(&b, "    %-9s %-7s %s\n", c.Name, c.Status, c.Detail)
		}
	}
	if a := r.Attestation; a != nil {
		approvers := "none recorded"
		if len(a.Approvers) > 0 {
			approvers = "approved by " + strings.Join(a.Approvers, ", ")
		}
		fmt.Fprintf(&b, "  attested: %s, merge %s, key %s, %s\n", a.Status, shortCommit(a.MergeCommit), a.KeyID, approvers)
	}
	if r.Path != "" {
		fmt.Fprintf(&b, "  path:     %s\n", r.Path)
	}
	if r.SBOMPath != "" {
		fmt.Fprintf(&b, "  sbom:     %s\n", r.SBOMPath)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// resolveRevision resolves a revision given to a flag; an unknown one is
// not found (exit 3).
func resolveRevision(repo resolver, flag, rev string) (plumbing.Hash, error) {
	h, err := repo.Resolve(rev)
	if err != nil {
		err = fmt.Errorf("%s: %w", flag, err)
		if failure.IsTerminal(err) {
			return h, failure.NotFoundError(err)
		}
		return h, err
	}
	return h, nil
}
