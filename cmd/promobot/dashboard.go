package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/dashboard"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/resolve"
)

func init() { subcommands = append(subcommands, newDashboardCommand) }

// defaultDashboardAddr is where promobot dashboard listens by default.
const defaultDashboardAddr = "127.0.0.1:8090"

// dashboardFlags are the flags of promobot dashboard.
type dashboardFlags struct {
	auditSource
	addr    string
	reports string
	trust   trustFlags
}

func newDashboardCommand(e *env) *cobra.Command {
	f := &dashboardFlags{}
	cmd := &cobra.Command{
		Use:   "dashboard --repo PATH",
		Short: "Serve the read-only dashboard of a local repository on a loopback address, without sign-in",
		Long: `Dashboard serves, on a loopback address and without sign-in, the pages
promobot serve shows behind GitHub sign-in (docs/dashboard.md): what each
environment pins of each model, since when and through which pull request;
each model's timeline across environments; the open promotion pull requests
with the approvals they lack and from whom; and the drift and access-review
findings.

Everything is derived from the repository (a checkout or a bare mirror; the
audit's index is kept beside it, as promobot audit keeps it) and, with
--github-repo OWNER/REPO and a token or App credentials, from GitHub:
pull requests and approvers are then verified, and the open pull requests and
the access review are shown. A pull request is evaluated only when its head
commit is in the repository (git fetch origin 'refs/pull/*/head:refs/pull/*/head').
--reports adds the drift findings; a trust root (--trusted-key and the other
flags of resolve) adds each pin's attestation status.

--addr must be a loopback address (127.0.0.1 or ::1): there is no sign-in.
The command prints the dashboard's address and serves until interrupted.

Exit status: 0 stopped by an interrupt; 2 usage or configuration error, among
them an --addr that is not loopback or cannot be listened on.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.trust.applyEnv(cmd.Flags(), e.getenv); err != nil {
				return err
			}
			return runDashboard(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", "", "local repository: a working tree or a bare mirror (default: the repository holding the working directory)")
	fl.StringVar(&f.ref, "ref", "", "branch to show (default: origin/HEAD, HEAD of a bare repository, then main)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "where the audit keeps its index and GitHub answers (default: <git dir>/promobot)")
	fl.StringVar(&f.addr, "addr", defaultDashboardAddr, "loopback address to listen on (127.0.0.1:PORT or [::1]:PORT)")
	fl.StringVar(&f.githubRepo, "github-repo", "", "read pull requests, approvals and access from GitHub repository OWNER/REPO")
	fl.StringVar(&f.githubURL, "github-url", "", "GitHub API root (default: $GITHUB_API_URL, then https://api.github.com/)")
	fl.StringVar(&f.githubToken, "github-token", "", "GitHub token (default: $GITHUB_TOKEN)")
	fl.Int64Var(&f.appID, "github-app-id", 0, "authenticate as this GitHub App instead of with a token")
	fl.Int64Var(&f.installation, "github-installation-id", 0, "the App's installation id")
	fl.StringVar(&f.appKey, "github-app-key", "", "file holding the App's PEM private key")
	fl.StringVar(&f.checkApp, "check-app", "", "count only promobot check runs created by the GitHub App with this slug")
	fl.StringVar(&f.reports, "reports", "", "drift: the scoring jobs' report store, file:DIR or azblob://ACCOUNT/CONTAINER/PREFIX (default: $"+envReport+")")
	f.trust.register(fl)
	return cmd
}

// checkLoopback refuses an address that is not a loopback IP with a port:
// the local dashboard has no sign-in.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError("--addr %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return usageError("--addr %q: the local dashboard has no sign-in, so it listens only on a loopback address such as %s or [::1]:8090", addr, defaultDashboardAddr)
	}
	return nil
}

func runDashboard(ctx context.Context, e *env, f *dashboardFlags) error {
	if err := checkLoopback(f.addr); err != nil {
		return err
	}
	root, err := repoOrEnclosing(e, f.repo)
	if err != nil {
		return usageError("%v", err)
	}
	repo := &dashboard.Repository{Owner: "local", Name: filepath.Base(filepath.Clean(root)), Path: root, Ref: f.ref, CacheDir: f.cacheDir, CheckApp: f.checkApp}
	repo.Name = strings.TrimSuffix(repo.Name, ".git")
	if f.githubRepo != "" {
		owner, name, ok := strings.Cut(f.githubRepo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return usageError("--github-repo wants OWNER/REPO, got %q", f.githubRepo)
		}
		client, err := f.client(e)
		if err != nil {
			return err
		}
		repo.Owner, repo.Name, repo.GitHub = owner, name, client
	}
	sink := f.reports
	if sink == "" {
		sink = e.getenv(envReport)
	}
	if sink != "" {
		store, err := openReportStore(e, sink)
		if err != nil {
			return usageError("--reports: %v", err)
		}
		repo.Drift = store
	}
	if f.trust.configured() {
		cfg, err := f.trust.load(ctx, e)
		if err != nil {
			return err
		}
		g, err := gitrepo.Open(root)
		if err != nil {
			return usageError("%v", err)
		}
		defer g.Close()
		repo.Attestations = trustAttestations{repo: g, cfg: cfg}
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := dashboard.New(dashboard.Options{Gate: dashboard.AllowAll, Repositories: []*dashboard.Repository{repo}, Local: true, Logger: logger})
	if err != nil {
		return usageError("%v", err)
	}
	if err := srv.Warm(ctx); err != nil {
		return usageError("read %s: %v", root, err)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return usageError("listen on %s: %v", f.addr, err)
	}
	fmt.Fprintf(e.stdout, "dashboard: http://%s/\n", ln.Addr())
	return serveUntilDone(ctx, ln, srv, logger)
}

// serveUntilDone serves h on ln until ctx ends, then shuts down.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	hs := newDashboardHTTPServer(h, logger)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("dashboard: %w", err)
		}
		return nil
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shut)
}

// newDashboardHTTPServer wraps the dashboard with the timeouts of the
// webhook listener.
func newDashboardHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// trustAttestations tells each pin's attestation status as promobot audit
// does with a trust root.
type trustAttestations struct {
	repo *gitrepo.Repo
	cfg  *resolve.Attestations
}

// Status checks the attestation of environment/model at commit.
func (a trustAttestations) Status(ctx context.Context, commit, environment, model string) (string, string) {
	return attestationStatus(resolve.CheckAttestation(ctx, a.repo, plumbing.NewHash(commit), environment, model, a.cfg))
}
