package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/resolve"
)

func init() { subcommands = append(subcommands, newResolveCommand) }

// resolveFlags are the raw flag values of promobot resolve.
type resolveFlags struct {
	repo, ref, env, model, format, download string
	github                                  string
	verify, requireReviewed                 bool
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
left at PATH.

Exit status: 0 resolved, 1 refused, 2 usage error or the artifact could not
be verified because storage was unreachable (a retry may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runResolve(cmd, e, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", "", "repository path or clone URL (default: the repository holding the working directory)")
	fl.StringVar(&f.ref, "ref", "", "revision to read (default: origin/HEAD, origin/main, then HEAD)")
	fl.StringVar(&f.env, "env", "", "environment (required)")
	fl.StringVar(&f.model, "model", "", "model (required)")
	fl.StringVar(&f.format, "format", "json", "output format: json or env")
	fl.StringVar(&f.download, "download", "", "download the verified artifact to this path")
	fl.BoolVar(&f.verify, "verify", false, "verify size, digest and signature against storage (default: on when the environment needs approvals)")
	fl.BoolVar(&f.requireReviewed, "require-reviewed", false, "refuse a manifest whose pinning change or any later edit did not come through a merged pull request with a successful promobot check (asks GitHub: GITHUB_TOKEN, GITHUB_API_URL)")
	fl.StringVar(&f.github, "github", "", "GitHub repository OWNER/REPO for --require-reviewed (default: derived from the clone URL)")
	return cmd
}

func runResolve(cmd *cobra.Command, e *env, f *resolveFlags) error {
	if f.env == "" || f.model == "" {
		return usageError("resolve needs --env and --model")
	}
	if f.format != "json" && f.format != "env" {
		return usageError("unknown format %q: want json or env", f.format)
	}
	ctx := cmd.Context()
	repo, repoPath, cleanup, err := openResolveRepo(ctx, e, f.repo)
	if err != nil {
		return usageError("%v", err)
	}
	defer cleanup()
	commit, err := resolveRef(repo, f.ref)
	if err != nil {
		return usageError("%v", err)
	}
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
		Stores:   artifactStores(e),
		Download: f.download,
	})
	if err != nil {
		var refused *resolve.RefusedError
		if errors.As(err, &refused) {
			return &exitError{code: exitFailed, err: refused}
		}
		return usageError("%v", err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(e.stderr, "warning: "+w)
	}
	return writeResolution(e.stdout, f.format, res)
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
			return nil, "", nil, err
		}
		return r, dir, func() { r.Close(); cleanup() }, nil
	}
	if repo == "" {
		cwd, err := e.getwd()
		if err != nil {
			return nil, "", nil, err
		}
		repo = cwd
	}
	r, err := gitrepo.Open(repo)
	if err != nil {
		return nil, "", nil, err
	}
	return r, repo, func() { r.Close() }, nil
}

// requireReviewed refuses (exit 1) a manifest whose current content did not
// come through reviewed pull requests, and fails (exit 2) when GitHub cannot
// answer: an unknown answer never lets a manifest through.
func requireReviewed(ctx context.Context, e *env, f *resolveFlags, repoPath string) error {
	ghRepo := f.github
	if ghRepo == "" {
		if owner, name, ok := githubRepoFromURL(f.repo, e.getenv("GITHUB_API_URL")); ok {
			ghRepo = owner + "/" + name
		}
	}
	if ghRepo == "" {
		return usageError("--require-reviewed needs --github OWNER/REPO (or a GitHub clone URL as --repo)")
	}
	src := &auditSource{repo: repoPath, ref: f.ref, github: ghRepo, noCache: true}
	run, err := src.load(ctx, e)
	if err != nil {
		return err
	}
	_, err = audit.RequireReviewed(ctx, run.history, run.reviewer, f.env, f.model)
	var unreviewed *audit.UnreviewedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unreviewed), errors.Is(err, audit.ErrNotPinned):
		return &exitError{code: exitFailed, err: fmt.Errorf("refused: %w", err)}
	default:
		return usageError("could not check the review history: %v", err)
	}
}

// resolveRef picks the commit to read: --ref, else the default branch as
// last fetched.
func resolveRef(repo *gitrepo.Repo, ref string) (plumbing.Hash, error) {
	if ref != "" {
		return repo.Resolve(ref)
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
	return plumbing.ZeroHash, fmt.Errorf("no default branch found (give --ref): %w", firstErr)
}

// resolutionJSON is the --format json output.
type resolutionJSON struct {
	Model        string           `json:"model"`
	Environment  string           `json:"environment"`
	Version      string           `json:"version"`
	URI          string           `json:"uri"`
	SHA256       string           `json:"sha256"`
	Size         *int64           `json:"size,omitempty"`
	Lineage      any              `json:"lineage"`
	Validation   any              `json:"validation"`
	Commit       string           `json:"commit"`
	PinnedBy     string           `json:"pinnedBy,omitempty"`
	PinnedAt     *time.Time       `json:"pinnedAt,omitempty"`
	Verified     bool             `json:"verified"`
	Verification []artifact.Check `json:"verification,omitempty"`
	Path         string           `json:"path,omitempty"`
	// Warnings are the rules that failed in warn mode.
	Warnings []string `json:"warnings,omitempty"`
}

func writeResolution(w io.Writer, format string, r *resolve.Resolution) error {
	m := r.Manifest
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
		Commit: r.Commit, PinnedBy: r.PinnedBy, Verified: r.Verified, Path: r.Path, Warnings: r.Warnings,
	}
	if !r.PinnedAt.IsZero() {
		out.PinnedAt = &r.PinnedAt
	}
	if r.Verification != nil {
		out.Verification = r.Verification.Checks
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
