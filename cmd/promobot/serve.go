package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/accessreviewissue"
	"github.com/example-org/promobot/internal/bot/branchaudit"
	"github.com/example-org/promobot/internal/bot/driftmonitor"
	"github.com/example-org/promobot/internal/bot/metrics"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/githubapi"
)

func init() { subcommands = append(subcommands, newServeCommand) }

// serveFlags are the serve command's flags as given.
type serveFlags struct {
	addr, appID, privateKey, webhookSecret string
	webhookSecretFile                      string
	githubURL, checkName, cacheDir         string
	logLevel, logFormat                    string
	workers, queueSize                     int
	jobTimeout, shutdownTimeout            time.Duration
	resyncInterval, recheckInterval        time.Duration
	verifyArtifacts                        bool
	chatOps, bypassIssues                  bool
	auditSink                              string
	auditDelay                             time.Duration
	attest                                 attestFlags
	accessReviewIssue, driftIssue          bool
	accessReviewInterval, driftInterval    time.Duration
	driftReports                           string
	dashboard                              dashboardServeFlags
	dashboardAuth                          dashboardAuthFlags
	queue                                  queueFlags
	lease                                  leaseFlags
}

func (f *serveFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.addr, "addr", ":8080", "address to listen on")
	fl.StringVar(&f.appID, "app-id", "", "GitHub App id (required)")
	fl.StringVar(&f.privateKey, "private-key", "", "GitHub App private key: a PEM file path or the PEM itself (required)")
	fl.StringVar(&f.webhookSecret, "webhook-secret", "", "webhook secret (required; prefer the environment variable, flags show in ps); during a rotation the old and the new, separated by a comma or a newline")
	fl.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "file holding the webhook secret (or secrets, as for --webhook-secret), such as a Kubernetes secret mount; read at start. Instead of --webhook-secret")
	fl.StringVar(&f.githubURL, "github-url", defaultGitHubAPI, "GitHub API URL; for GitHub Enterprise Server https://HOST/api/v3/")
	fl.StringVar(&f.checkName, "check-name", bot.DefaultCheckName, "name of the check run, as required in branch protection")
	fl.IntVar(&f.workers, "workers", 4, "evaluations run at once")
	fl.IntVar(&f.queueSize, "queue-size", 100, "pull requests waiting for evaluation before deliveries are refused with 503")
	f.queue.register(fl)
	fl.StringVar(&f.cacheDir, "cache-dir", "", "directory of the repository mirrors (default: $XDG_CACHE_HOME/promobot or ~/.cache/promobot)")
	fl.DurationVar(&f.jobTimeout, "job-timeout", 2*time.Minute, "longest time one evaluation may take")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "longest time to finish queued evaluations on SIGTERM")
	fl.DurationVar(&f.resyncInterval, "resync-interval", 10*time.Minute, "how often every open pull request is checked for a missing, failed or outdated check run (also at start); 0 turns it off")
	fl.DurationVar(&f.recheckInterval, "recheck-interval", time.Hour, "how often up-to-date pull requests are re-evaluated quietly, for team and permission changes; 0 turns it off")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fl.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	fl.BoolVar(&f.verifyArtifacts, "verify-artifacts", false, "also verify, in storage, the artifacts of changed manifests in environments whose policy does not set verifyArtifacts (those that set it are always verified; Azure credentials from the environment)")
	fl.BoolVar(&f.chatOps, "chatops", false, "open the next promotion after a merge when the policy says autoPropose, and answer /promobot rollback comments (the App needs contents and pull requests write, and the issue_comment event)")
	fl.BoolVar(&f.bypassIssues, "bypass-issues", false, "report manifest changes pushed to the default branch without a reviewed pull request as issues and failing commit statuses (the App needs issues and statuses write)")
	fl.StringVar(&f.auditSink, "audit-sink", "", "export the audit records after merges and pushes to this log: file:PATH or azblob://ACCOUNT/CONTAINER/BLOB, where {owner} and {repo} name the repository")
	fl.DurationVar(&f.auditDelay, "audit-delay", branchaudit.DefaultDelay, "how long after a push the audit looks at it, and waits before believing again that a commit has no pull request")
	fl.StringVar(&f.attest.key, "attest-key", "", "sign a promotion attestation for every manifest pin a green merge changes, with this PEM EC P-256 private key (development; prefer --attest-keyvault-key)")
	fl.StringVar(&f.attest.vaultKey, "attest-keyvault-key", "", "sign promotion attestations with this Key Vault key, https://VAULT/keys/NAME/VERSION (DefaultAzureCredential)")
	fl.StringVar(&f.attest.store, "attest-store", "", "where attestations are written, once: azblob://ACCOUNT/CONTAINER/PREFIX or file:DIR")
	fl.BoolVar(&f.accessReviewIssue, "access-review-issue", false, "keep one issue per repository up to date with promobot access-review's findings, at resynchronization passes (the App needs issues write and organization members read)")
	fl.DurationVar(&f.accessReviewInterval, "access-review-interval", accessreviewissue.DefaultInterval, "how often each repository's access is reviewed, with --access-review-issue")
	fl.StringVar(&f.driftReports, "drift-reports", "", "compare the scoring jobs' load reports in this store (file:DIR or azblob://ACCOUNT/CONTAINER/PREFIX, as resolve --report writes them) with the pins, and export the drift as metrics")
	fl.BoolVar(&f.driftIssue, "drift-issue", false, "with --drift-reports, also keep one drift issue per repository (the App needs issues write)")
	fl.DurationVar(&f.driftInterval, "drift-interval", driftmonitor.DefaultInterval, "how often each repository's drift is compared, with --drift-reports")
	f.dashboard.register(fl)
	f.dashboardAuth.register(fl)
	f.lease.register(fl)
}

// serveConfig is the checked configuration.
type serveConfig struct {
	flags          serveFlags
	appID          int64
	privateKey     []byte
	webhookSecrets [][]byte
	level          slog.Level
	// dashboardAuth is the dashboard's sign-in, checked when
	// --dashboard-addr is set.
	dashboardAuth *dashboardAuthConfig
}

// check validates the flags and loads the private key. Every message names
// the flag and its variable, and none shows a secret.
func (f *serveFlags) check(e *env) (*serveConfig, error) {
	c := &serveConfig{flags: *f}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	switch id, err := strconv.ParseInt(strings.TrimSpace(f.appID), 10, 64); {
	case f.appID == "":
		bad("--app-id (PROMOBOT_APP_ID) is required")
	case err != nil || id <= 0:
		bad("--app-id (PROMOBOT_APP_ID) must be a positive integer, not %q", f.appID)
	default:
		c.appID = id
	}
	if f.privateKey == "" {
		bad("--private-key (PROMOBOT_PRIVATE_KEY) is required: a PEM file path or the PEM itself")
	} else if key, err := loadPrivateKey(f.privateKey); err != nil {
		bad("--private-key (PROMOBOT_PRIVATE_KEY): %v", err)
	} else {
		c.privateKey = key
	}
	switch {
	case f.webhookSecret == "" && f.webhookSecretFile == "":
		bad("--webhook-secret (PROMOBOT_WEBHOOK_SECRET) or --webhook-secret-file (PROMOBOT_WEBHOOK_SECRET_FILE) is required")
	case f.webhookSecret != "" && f.webhookSecretFile != "":
		bad("--webhook-secret (PROMOBOT_WEBHOOK_SECRET) and --webhook-secret-file (PROMOBOT_WEBHOOK_SECRET_FILE) are both set; set one")
	case f.webhookSecretFile != "":
		if secrets, err := loadWebhookSecrets(f.webhookSecretFile); err != nil {
			bad("--webhook-secret-file (PROMOBOT_WEBHOOK_SECRET_FILE): %v", err)
		} else {
			c.webhookSecrets = secrets
		}
	default:
		if secrets, err := parseWebhookSecrets(f.webhookSecret); err != nil {
			bad("--webhook-secret (PROMOBOT_WEBHOOK_SECRET): %v", err)
		} else {
			c.webhookSecrets = secrets
		}
	}
	if _, err := githubapi.ParseBaseURL(f.githubURL); err != nil {
		bad("--github-url (GITHUB_API_URL): %v", strings.TrimPrefix(err.Error(), "githubapi: "))
	}
	if strings.TrimSpace(f.checkName) == "" {
		bad("--check-name must not be empty")
	}
	if f.workers < 1 || f.workers > 1024 {
		bad("--workers (PROMOBOT_WORKERS) must be between 1 and 1024, not %d", f.workers)
	}
	if f.queueSize < 1 {
		bad("--queue-size (PROMOBOT_QUEUE_SIZE) must be at least 1, not %d", f.queueSize)
	}
	f.queue.check(bad)
	if f.jobTimeout <= 0 || f.shutdownTimeout <= 0 {
		bad("--job-timeout and --shutdown-timeout must be positive")
	}
	if f.resyncInterval != 0 && f.resyncInterval < time.Minute {
		bad("--resync-interval (PROMOBOT_RESYNC_INTERVAL) must be 0 (off) or at least 1m, not %s", f.resyncInterval)
	}
	switch {
	case f.recheckInterval != 0 && f.recheckInterval < f.resyncInterval:
		bad("--recheck-interval (PROMOBOT_RECHECK_INTERVAL) must be 0 (off) or at least --resync-interval (%s), not %s", f.resyncInterval, f.recheckInterval)
	case f.recheckInterval != 0 && f.resyncInterval == 0:
		bad("--recheck-interval (PROMOBOT_RECHECK_INTERVAL) needs --resync-interval; set it to 0 too")
	}
	if err := c.level.UnmarshalText([]byte(f.logLevel)); err != nil {
		bad("--log-level (PROMOBOT_LOG_LEVEL) must be debug, info, warn or error, not %q", f.logLevel)
	}
	if f.logFormat != "json" && f.logFormat != "text" {
		bad("--log-format (PROMOBOT_LOG_FORMAT) must be json or text, not %q", f.logFormat)
	}
	if f.auditDelay < 10*time.Second || f.auditDelay > time.Hour {
		bad("--audit-delay (PROMOBOT_AUDIT_DELAY) must be between 10s and 1h, not %s", f.auditDelay)
	}
	if f.auditSink != "" {
		// Open it once with sample names: an unknown scheme or missing
		// Azure credentials stop the start, not the first merge.
		if _, err := openAuditSink(e, f.auditSink, "owner", "repo"); err != nil {
			bad("--audit-sink (PROMOBOT_AUDIT_SINK): %v", err)
		}
	}
	checkGovernFlags(e, f, bad)
	if f.dashboard.addr != "" {
		c.dashboardAuth = f.dashboardAuth.check(f.githubURL, bad)
	}
	f.lease.check(bad)
	if f.queue.queue != queueMemory && f.lease.container == "" {
		// A shared queue means several replicas: without blob leases each
		// would believe itself the only writer and the only leader.
		bad("--queue %s needs --lease-container (PROMOBOT_LEASE_CONTAINER): replicas sharing a queue coordinate by blob leases", f.queue.queue)
	}
	if c.flags.cacheDir == "" {
		c.flags.cacheDir = defaultCacheDir(e)
		if c.flags.cacheDir == "" {
			bad("--cache-dir (PROMOBOT_CACHE_DIR) is required when neither XDG_CACHE_HOME nor HOME is set")
		}
	}
	if len(problems) > 0 {
		return nil, usageError("serve: invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// parseWebhookSecrets returns the webhook secrets listed in value,
// separated by commas or newlines, each trimmed of surrounding white
// space: one secret, or during a rotation the old and the new. A secret
// therefore cannot hold a comma, a newline, or white space at either end.
// An empty entry is refused rather than skipped, since it most likely
// means a variable that was not expanded. The error never shows a secret.
func parseWebhookSecrets(value string) ([][]byte, error) {
	entries := strings.Split(strings.ReplaceAll(value, "\n", ","), ",")
	secrets := make([][]byte, 0, len(entries))
	for i, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("secret %d of %d is empty: separate secrets by a single comma or newline, with none after the last", i+1, len(entries))
		}
		secrets = append(secrets, []byte(entry))
	}
	return secrets, nil
}

// maxSecretFileBytes bounds a webhook secret file: a path naming something
// else (a device, a log) is refused rather than read to its end.
const maxSecretFileBytes = 64 << 10

// loadWebhookSecrets returns the webhook secrets in the file at path: its
// contents without the final newline, listed as for parseWebhookSecrets.
// The error names the path, never the contents.
func loadWebhookSecrets(path string) ([][]byte, error) {
	text, err := readSecretFile(path)
	if err != nil {
		return nil, err
	}
	secrets, err := parseWebhookSecrets(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return secrets, nil
}

func defaultCacheDir(e *env) string {
	if d := e.getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "promobot")
	}
	if h := e.getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "promobot")
	}
	return ""
}

// loadPrivateKey returns the PEM given inline, or read from the file the
// value names. Platforms that cannot hold newlines in variables may pass
// the PEM with literal "\n".
func loadPrivateKey(value string) ([]byte, error) {
	v := strings.TrimSpace(value)
	if strings.HasPrefix(v, "-----BEGIN") {
		if !strings.Contains(v, "\n") {
			v = strings.ReplaceAll(v, `\n`, "\n")
		}
		return []byte(v + "\n"), nil
	}
	if strings.Contains(v, "\n") || strings.Contains(v, "PRIVATE KEY") {
		return nil, errors.New("looks like a PEM but does not start with -----BEGIN")
	}
	data, err := os.ReadFile(v)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			return nil, fmt.Errorf("read the key file %s: %v", v, pathErr.Err)
		}
		return nil, fmt.Errorf("read the key file %s: %v", v, err)
	}
	return data, nil
}

func newServeCommand(e *env) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the GitHub App: gate promotion pull requests with a required check run",
		Long: `Serve runs promobot as a GitHub App. It receives webhooks on POST /webhook,
evaluates each pull request against the policy and CODEOWNERS of its base
branch, and reports a check run (named by --check-name) on the head commit.
GET /healthz, /readyz and /metrics serve liveness, readiness and Prometheus
metrics.

At start and every --resync-interval it lists the open pull requests of
every installation and evaluates those whose check run is missing, failed
to evaluate, was left in progress, or no longer matches their reviews,
labels or base, since GitHub does not redeliver failed deliveries.

Optional features, off by default because the App needs more permissions
for them (docs/github-app.md): --chatops opens the next promotion after a
merge when the policy says autoPropose and answers "/promobot rollback";
--bypass-issues reports manifest changes that reached the default branch
without a reviewed pull request; --audit-sink exports the audit log.

Every flag can also be set through the environment variable shown in
docs/github-app.md (for example PROMOBOT_WEBHOOK_SECRET); a flag given on
the command line wins. A missing or invalid setting exits with status 2
before listening. SIGINT or SIGTERM stops taking deliveries and finishes
the queued evaluations (at most --shutdown-timeout).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fromEnv(cmd.Flags(), e); err != nil {
				return err
			}
			c, err := f.check(e)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), e, c)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// serve builds the bot, listens and serves until ctx ends, then drains.
func serve(ctx context.Context, e *env, c *serveConfig) error {
	opts := &slog.HandlerOptions{Level: c.level, ReplaceAttr: humanDurations}
	var handler slog.Handler = slog.NewJSONHandler(e.stderr, opts)
	if c.flags.logFormat == "text" {
		handler = slog.NewTextHandler(e.stderr, opts)
	}
	logger := slog.New(handler)

	m := metrics.New()
	wire := http.DefaultTransport.(*http.Transport).Clone()
	wire.ResponseHeaderTimeout = 30 * time.Second
	apps, err := githubapi.New(githubapi.Config{
		BaseURL:    c.flags.githubURL,
		AppID:      c.appID,
		PrivateKey: c.privateKey,
		Transport:  m.InstrumentTransport(wire),
		UserAgent:  "promobot/" + version,
		// Conditional reads, retries with backoff and a per-installation
		// rate-limit gate (see internal/githubapi.Budget).
		Budget: &githubapi.Budget{Observer: m},
	})
	if err != nil {
		return usageError("serve: %v", strings.TrimPrefix(err.Error(), "githubapi: "))
	}
	mirrors, err := mirror.New(c.flags.cacheDir, mirror.Options{
		ObserveFetch: func(o mirror.FetchOutcome, d time.Duration) { m.GitFetch(string(o), d) },
	})
	if err != nil {
		return usageError("serve: --cache-dir (PROMOBOT_CACHE_DIR): %v", err)
	}
	// Environments whose policy sets verifyArtifacts are always verified;
	// --verify-artifacts adds every other environment.
	var verifier bot.ArtifactVerifier = artifactHook{stores: artifactStores(e), all: c.flags.verifyArtifacts}
	cfg := bot.Config{
		AppID:           c.appID,
		CheckName:       c.flags.checkName,
		WebhookSecrets:  c.webhookSecrets,
		Apps:            apps,
		Mirrors:         mirrors,
		Metrics:         m,
		Logger:          logger,
		Workers:         c.flags.workers,
		QueueSize:       c.flags.queueSize,
		JobTimeout:      c.flags.jobTimeout,
		ResyncInterval:  c.flags.resyncInterval,
		RecheckInterval: c.flags.recheckInterval,
		Artifacts:       verifier,
	}
	if cfg.Durable, err = serveDurable(ctx, e, c.flags.queue, logger); err != nil {
		return err
	}
	if cfg.Features, err = serveFeatures(ctx, e, c, apps, m.Registry(), logger); err != nil {
		return err
	}
	leases, err := serveLeases(ctx, e, c.flags.lease, m, logger)
	if err != nil {
		return err
	}
	defer leases.stop()
	cfg.Leases = leases.botLeases()
	b, err := bot.New(cfg)
	if err != nil {
		return usageError("serve: %v", err)
	}
	stopDashboard, err := startDashboard(c, apps, mirrors, logger)
	if err != nil {
		_ = b.Shutdown(ctx)
		return err
	}
	ln, err := net.Listen("tcp", c.flags.addr)
	if err != nil {
		_ = stopDashboard(ctx)
		_ = b.Shutdown(ctx)
		return usageError("serve: listen on %s: %v", c.flags.addr, err)
	}
	srv := &http.Server{
		Handler:           b.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "app_id", c.appID, "github_url", c.flags.githubURL,
		"check_name", c.flags.checkName, "workers", c.flags.workers, "queue_size", c.flags.queueSize, "queue", c.flags.queue.queue != queueMemory,
		"cache_dir", c.flags.cacheDir, "resync_interval", c.flags.resyncInterval, "recheck_interval", c.flags.recheckInterval,
		"chatops", c.flags.chatOps, "bypass_issues", c.flags.bypassIssues, "audit_export", c.flags.auditSink != "",
		"access_review_issue", c.flags.accessReviewIssue, "drift_metrics", c.flags.driftReports != "", "drift_issue", c.flags.driftIssue,
		"lease_container", c.flags.lease.container != "", "lease_period", c.flags.lease.period,
		"webhook_secrets", len(c.webhookSecrets), "version", version)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}

	logger.Info("shutting down", "timeout", c.flags.shutdownTimeout)
	drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.flags.shutdownTimeout)
	defer cancel()
	httpErr := srv.Shutdown(drainCtx)
	if err := stopDashboard(drainCtx); err != nil {
		logger.Warn("dashboard connections cut at shutdown", "error", err)
	}
	queueErr := b.Shutdown(drainCtx)
	if queueErr != nil {
		logger.Warn("queued evaluations dropped at shutdown", "error", queueErr)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if httpErr != nil {
		logger.Warn("open connections cut at shutdown", "error", httpErr)
	}
	logger.Info("stopped")
	return nil
}

// openAuditSink opens the audit log of repository owner/repo: spec with
// {owner} and {repo} replaced by the lower-case names. Azure credentials
// come from the environment, as for `promobot audit export`.
func openAuditSink(e *env, spec, owner, repo string) (chain.Sink, error) {
	for _, part := range []string{owner, repo} {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\\{}") {
			return nil, fmt.Errorf("the repository name %q cannot name a log", owner+"/"+repo)
		}
	}
	s := strings.NewReplacer("{owner}", strings.ToLower(owner), "{repo}", strings.ToLower(repo)).Replace(spec)
	return chain.OpenSink(s, func() (artifact.Credentials, error) { return artifact.CredentialsFromEnv(e.getenv) })
}
