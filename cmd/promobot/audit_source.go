package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/githubreview"
	"github.com/example-org/promobot/internal/audit/report"
	"github.com/example-org/promobot/internal/githubapi"
)

// auditSource are the flags that say which history to read and how to
// verify it against GitHub; audit and audit export share them.
type auditSource struct {
	repo, ref, cacheDir string
	noCache             bool
	githubRepo          string // OWNER/REPO
	githubURL           string
	githubToken         string
	appID, installation int64
	appKey              string
	checkApp            string
	judgeFrom           string
	// reasons reads each change's ticket and rationale from its manifest.
	reasons bool
}

func (s *auditSource) register(fl *pflag.FlagSet) {
	fl.StringVar(&s.repo, "repo", "", "local repository: a working tree or a bare repository (default: the repository holding the working directory)")
	fl.StringVar(&s.ref, "ref", "", "branch to audit (default: origin/HEAD, HEAD of a bare repository, then main)")
	fl.StringVar(&s.cacheDir, "cache-dir", "", "where to keep the incremental index and GitHub answers (default: <git dir>/promobot)")
	fl.BoolVar(&s.noCache, "no-cache", false, "walk the whole history and ignore the index")
	fl.StringVar(&s.githubRepo, "github-repo", "", "verify pull requests, approvals and the promobot check on GitHub repository OWNER/REPO")
	fl.StringVar(&s.githubURL, "github-url", "", "GitHub API root (default: $GITHUB_API_URL, then https://api.github.com/)")
	fl.StringVar(&s.githubToken, "github-token", "", "GitHub token (default: $GITHUB_TOKEN)")
	fl.Int64Var(&s.appID, "github-app-id", 0, "authenticate as this GitHub App instead of with a token")
	fl.Int64Var(&s.installation, "github-installation-id", 0, "the App's installation id")
	fl.StringVar(&s.appKey, "github-app-key", "", "file holding the App's PEM private key")
	fl.StringVar(&s.checkApp, "check-app", "", "count only promobot check runs created by the GitHub App with this slug")
	fl.StringVar(&s.judgeFrom, "judge-from", "", "judge bypasses from this commit or date (or RFC 3339 time) on; earlier changes show as before judging (default: audit.judgeFrom of the policy)")
	aliasFlag(fl, "github", "github-repo")
}

// auditRun is an opened, reconstructed history with its optional reviewer.
type auditRun struct {
	history  *audit.History
	reviewer audit.Reviewer
	source   report.Source
}

// load reconstructs the history of the repository the flags name.
func (s *auditSource) load(ctx context.Context, e *env) (*auditRun, error) {
	root, err := repoOrEnclosing(e, s.repo)
	if err != nil {
		return nil, usageError("%v", err)
	}
	repo, err := audit.OpenRepository(root, audit.RepositoryOptions{})
	if err != nil {
		return nil, usageError("%v", err)
	}
	defer repo.Close()
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := audit.Reconstruct(ctx, repo, audit.Options{Ref: s.ref, CacheDir: s.cacheDir, NoCache: s.noCache, Logger: logger,
		JudgeFrom: s.judgeFrom, Reasons: s.reasons})
	if errors.Is(err, audit.ErrJudgeFrom) {
		return nil, usageError("%v", err)
	}
	if err != nil {
		return nil, err // an unknown --ref is marked not found
	}
	apiURL := s.githubURL
	if apiURL == "" {
		apiURL = e.getenv("GITHUB_API_URL")
	}
	run := &auditRun{history: h, source: report.Source{
		Repository: filepath.Base(filepath.Clean(root)), Ref: h.Ref, Branch: h.Branch, Tip: h.Tip, TipTime: h.TipTime,
		JudgeFrom: h.JudgeFrom, CommitURL: commitURLBase(s.githubRepo, repo.RemoteURL("origin"), apiURL),
	}}
	if s.githubRepo == "" {
		return run, nil
	}
	owner, name, ok := strings.Cut(s.githubRepo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, usageError("--github-repo wants OWNER/REPO, got %q", s.githubRepo)
	}
	client, err := s.client(e)
	if err != nil {
		return nil, err
	}
	branch := h.Branch
	if branch == "" {
		branch = "main"
	}
	cache := s.cacheDir
	if cache == "" {
		cache = repo.DefaultCacheDir()
	}
	rv, err := githubreview.New(client, githubreview.Options{
		Owner: owner, Repo: name, DefaultBranch: branch,
		Assess:   audit.AssessOptions{App: s.checkApp},
		CacheDir: filepath.Join(cache, "github"),
		Logger:   logger,
	})
	if err != nil {
		return nil, usageError("%v", err)
	}
	run.reviewer = rv
	run.source.Repository = s.githubRepo
	run.source.Verified = true
	return run, nil
}

func (s *auditSource) client(e *env) (*githubapi.Client, error) {
	auth := githubapi.Config{BaseURL: s.githubURL, Token: s.githubToken, AppID: s.appID, InstallationID: s.installation}
	if auth.BaseURL == "" {
		auth.BaseURL = e.getenv("GITHUB_API_URL")
	}
	if s.appID > 0 {
		if s.appKey == "" || s.installation <= 0 {
			return nil, usageError("--github-app-id needs --github-app-key and --github-installation-id")
		}
		key, err := os.ReadFile(s.appKey)
		if err != nil {
			return nil, usageError("read the App key: %v", err)
		}
		auth.PrivateKey = key
	} else if auth.Token == "" {
		auth.Token = e.getenv("GITHUB_TOKEN")
	}
	return githubClient(e, auth)
}

// enrich verifies, on GitHub, the records that pass the name filters.
func (r *auditRun) enrich(ctx context.Context, f audit.Filter) error {
	if r.reviewer == nil {
		return nil
	}
	names := audit.Filter{Environments: f.Environments, Models: f.Models}
	var idx []int
	var subset []audit.Record
	for i := range r.history.Records {
		rec := &r.history.Records[i]
		if names.Matches(rec) {
			idx = append(idx, i)
			subset = append(subset, *rec)
		}
	}
	if err := audit.Enrich(ctx, subset, r.reviewer); err != nil {
		return err // a GitHub error says whether a retry can help
	}
	for j, i := range idx {
		r.history.Records[i] = subset[j]
	}
	return nil
}
