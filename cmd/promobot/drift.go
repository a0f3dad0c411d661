package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/repoconfig"
)

func init() { subcommands = append(subcommands, newDriftCommand) }

type driftFlags struct {
	reports, repo, ref, format string
	now, since                 string
	grace, stale               time.Duration
	envs, models               []string
}

func newDriftCommand(e *env) *cobra.Command {
	f := &driftFlags{}
	cmd := &cobra.Command{
		Use:   "drift --reports SINK",
		Short: "Compare what scoring jobs report they loaded with what the manifests pinned",
		Long: `Drift reads the load reports scoring jobs wrote with resolve --report, takes
each job's latest load of each environment and model, and compares it with
the version the repository's history pinned at that time:

  not-pinned         a version pinned there once, but not at that time, after
                     the grace period following the merge (--grace, default
                     the policy's drift.graceMinutes, else 60 minutes)
  never-pinned       a version the environment never pinned
  digest-mismatch    the pinned version with another artifact digest
  unverified         the artifact was not verified against storage
  unattested         no promotion attestation was required
  stopped-reporting  no load for longer than --stale while the model is pinned

Reports are the jobs' own claims. Exit 1 on drift. --format text (default),
json (schemas/drift-output.schema.json) or markdown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDrift(cmd, e, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.reports, "reports", "", "the report store: file:DIR or azblob://ACCOUNT/CONTAINER/PREFIX (default: $"+envReport+")")
	fl.StringVar(&f.repo, "repo", "", "local repository: a working tree or a bare repository (default: the repository holding the working directory)")
	fl.StringVar(&f.ref, "ref", "", "branch whose history says what was pinned (default: origin/HEAD, HEAD of a bare repository, then main)")
	fl.StringVar(&f.format, "format", "text", "output format: text, json or markdown")
	fl.StringVar(&f.now, "now", "", "compare as of this time, RFC 3339 or a date (default: now)")
	fl.StringVar(&f.since, "since", "", "read reports from this day on (default: 7 days before --now)")
	fl.DurationVar(&f.grace, "grace", 0, "grace after a merge (default: the policy's drift.graceMinutes, else 60m)")
	fl.DurationVar(&f.stale, "stale", 25*time.Hour, "report a job that has not reported for this long; 0 turns it off")
	fl.StringSliceVar(&f.envs, "env", nil, "only these environments (repeatable)")
	fl.StringSliceVar(&f.models, "model", nil, "only these models (repeatable)")
	return cmd
}

func runDrift(cmd *cobra.Command, e *env, f *driftFlags) error {
	switch f.format {
	case "text", "json", "markdown":
	default:
		return usageError("--format must be text, json or markdown, got %q", f.format)
	}
	sink := f.reports
	if sink == "" {
		sink = e.getenv(envReport)
	}
	if sink == "" {
		return usageError("drift needs --reports file:DIR or azblob://ACCOUNT/CONTAINER/PREFIX (or $%s)", envReport)
	}
	now := time.Now().UTC()
	if f.now != "" {
		t, _, err := audit.ParseTime(f.now, true)
		if err != nil {
			return usageError("--now: %v", err)
		}
		now = t
	}
	since := now.AddDate(0, 0, -7)
	if f.since != "" {
		t, _, err := audit.ParseTime(f.since, false)
		if err != nil {
			return usageError("--since: %v", err)
		}
		since = t
	}
	if f.grace < 0 || f.stale < 0 {
		return usageError("--grace and --stale must not be negative")
	}
	ctx := cmd.Context()
	root, err := repoOrEnclosing(e, f.repo)
	if err != nil {
		return usageError("%v", err)
	}
	repo, err := audit.OpenRepository(root, audit.RepositoryOptions{})
	if err != nil {
		return usageError("%v", err)
	}
	defer repo.Close()
	h, err := audit.Reconstruct(ctx, repo, audit.Options{Ref: f.ref, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	grace := f.grace
	if grace == 0 {
		grace = policyGrace(root, h.Tip)
	}
	store, err := openReportStore(e, sink)
	if err != nil {
		return usageError("--reports: %v", err)
	}
	loads, skipped, err := store.Loads(ctx, since, now)
	if err != nil {
		return failure.UnavailableError(fmt.Errorf("read the reports in %s: %w", store, err))
	}
	res := drift.Compare(loads, audit.Timeline(h.Records, audit.Filter{}), drift.Options{
		Now: now, Grace: grace, Stale: f.stale, Environments: f.envs, Models: f.models,
	})
	res.Skipped = skipped
	switch f.format {
	case "json":
		err = drift.WriteJSON(e.stdout, res)
	case "markdown":
		err = drift.WriteMarkdown(e.stdout, res)
	default:
		err = drift.WriteText(e.stdout, res)
	}
	if err != nil {
		return err
	}
	if res.Drift() {
		return failed()
	}
	return nil
}

// policyGrace is the policy's drift.graceMinutes at commit tip, or the
// default when the policy does not set it or cannot be read.
func policyGrace(root, tip string) time.Duration {
	repo, err := gitrepo.Open(root)
	if err != nil {
		return drift.DefaultGrace
	}
	defer repo.Close()
	fsys, err := repo.FS(plumbing.NewHash(tip))
	if err != nil {
		return drift.DefaultGrace
	}
	_, sch, _ := repoconfig.Schemas(fsys)
	pol, _, err := repoconfig.ReadPolicy(fsys, sch)
	if err != nil || pol == nil || pol.Drift.GraceMinutes == 0 {
		return drift.DefaultGrace
	}
	return time.Duration(pol.Drift.GraceMinutes) * time.Minute
}
