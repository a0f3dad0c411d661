package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/audit/githubreview"
	"github.com/example-org/promobot/internal/audit/report"
	"github.com/example-org/promobot/internal/audit/stats"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi"
)

func init() { subcommands = append(subcommands, newAuditCommand) }

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
	root := s.repo
	if root == "" {
		cwd, err := e.getwd()
		if err != nil {
			return nil, usageError("%v", err)
		}
		if root, err = findRepoRoot(cwd); err != nil {
			return nil, usageError("%v", err)
		}
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
	return githubClient(auth)
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

// auditFlags are the flags of promobot audit itself.
type auditFlags struct {
	auditSource
	format           string
	envs, models     []string
	since, until, at string
	failOnBypass     bool
	stats            bool
	trust            trustFlags
	newestFirst      bool
}

func newAuditCommand(e *env) *cobra.Command {
	f := &auditFlags{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Rebuild the promotion history: who pinned which version where, and who approved it",
		Long: `Audit walks the first-parent history of the default branch and lists every
change of a manifest under environments/: time, environment, model, from and
to version, kind (register, promote, rollback, decommission, edit), artifact
digest, commit, author and committer.

With --github-repo OWNER/REPO (and a token or App credentials) each change is
verified on GitHub: the pull request that merged it, its approvers and the
promobot check conclusion at merge. A change that did not come through a
merged pull request with a successful promobot check is flagged as a bypass.
Without --github-repo, review status comes from commit messages only.

--at DATE answers "which version was in ENV on DATE, and who approved it?":
a date (2026-06-05, UTC) lists every version pinned during that day, an RFC
3339 time the version pinned at that instant.

Each change names its initiator (who opened the pull request) and who merged
it, with the ticket and rationale of its manifest; --newest-first lists the
newest first. Commit ids link to the repository when its web address is
known (--github-repo, or an origin remote on GitHub).

--judge-from COMMIT|DATE (default: audit.judgeFrom of the policy) judges
bypasses from that commit or date on; earlier changes, such as a bootstrap
import, are listed as "before judging" and are never bypasses.

--format text (the default; "table" is a deprecated name for it), json
(records described by schemas/audit-output.schema.json), csv, markdown or
html.

With a trust root (--trusted-key, --attestations, --expected-repo and the
other flags of resolve, or their PROMOBOT_* variables) the text output ends
with the attestation status of every pin at --ref, checked as resolve checks
it: verified, baseline, not yet attested, or refused with the reason.

Exit status: 0 listed; 1 a bypass was listed and --fail-on-bypass is set;
2 usage or configuration error; 3 an unknown --ref, or an --env or --model
filter that names nothing in the history; 4 GitHub could not answer (a retry
may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.trust.applyEnv(cmd.Flags(), e.getenv); err != nil {
				return err
			}
			return runAudit(cmd.Context(), e, f)
		},
	}
	fl := cmd.Flags()
	f.auditSource.register(fl)
	f.trust.register(fl)
	fl.StringVar(&f.format, "format", "text", "output format: text, json, csv, markdown or html")
	fl.StringSliceVar(&f.envs, "env", nil, "only these environments (repeat or separate with commas)")
	fl.StringSliceVar(&f.models, "model", nil, "only these models")
	fl.StringVar(&f.since, "since", "", "only changes at or after this date or time")
	fl.StringVar(&f.until, "until", "", "only changes at or before this date (inclusive) or time")
	fl.StringVar(&f.at, "at", "", "list what was pinned at this date or time instead of the changes")
	fl.BoolVar(&f.failOnBypass, "fail-on-bypass", false, "exit 1 when a listed change bypassed review")
	fl.BoolVar(&f.stats, "stats", false, "print delivery metrics per model and environment instead of the changes (text, json, csv or markdown)")
	fl.BoolVar(&f.newestFirst, "newest-first", false, "list the newest change (or pin) first")
	cmd.AddCommand(newAuditExportCommand(e), newAuditVerifyCommand(e))
	return cmd
}

func runAudit(ctx context.Context, e *env, f *auditFlags) error {
	name := f.format
	if name == "text" {
		name = string(report.Table)
	}
	format, err := report.ParseFormat(name)
	if f.stats && !slices.Contains(stats.Formats, f.format) {
		return usageError("audit --stats: unknown format %q: use %s", f.format, strings.Join(stats.Formats, ", "))
	}
	if err != nil {
		return usageError("unknown format %q: use text, json, csv, markdown or html", f.format)
	}
	filter := audit.Filter{Environments: f.envs, Models: f.models}
	var desc []string
	if len(f.envs) > 0 {
		desc = append(desc, "env="+strings.Join(f.envs, ","))
	}
	if len(f.models) > 0 {
		desc = append(desc, "model="+strings.Join(f.models, ","))
	}
	if f.since != "" {
		if filter.Since, _, err = audit.ParseTime(f.since, false); err != nil {
			return usageError("--since: %v", err)
		}
		desc = append(desc, "since="+f.since)
	}
	if f.until != "" {
		if filter.Until, _, err = audit.ParseTime(f.until, true); err != nil {
			return usageError("--until: %v", err)
		}
		desc = append(desc, "until="+f.until)
	}
	var atFrom, atTo time.Time
	if f.at != "" {
		if f.since != "" || f.until != "" {
			return usageError("--at cannot be combined with --since or --until")
		}
		from, span, err := audit.ParseTime(f.at, false)
		if err != nil {
			return usageError("--at: %v", err)
		}
		atFrom, atTo = from, from
		if span {
			atTo, _, _ = audit.ParseTime(f.at, true)
		}
	}
	if f.trust.configured() && format != report.Table {
		return usageError("the attestation status of the pins is shown with --format text; for JSON use promobot attest verify --format json")
	}
	f.reasons = true
	run, err := f.load(ctx, e)
	if err != nil {
		return err
	}
	if err := checkAuditFilter(run.history, f.envs, f.models); err != nil {
		return err
	}
	if err := run.enrich(ctx, filter); err != nil {
		return err
	}
	if f.stats {
		return writeAuditStats(ctx, e, f, run, filter)
	}
	src := run.source
	src.Filter = strings.Join(desc, " ")
	h := run.history
	if f.at != "" {
		pins := audit.PinsAt(h.Records, filter, h.Environments, atFrom, atTo)
		if f.newestFirst {
			slices.Reverse(pins)
		}
		at := "at " + f.at
		if atFrom != atTo {
			at = "on " + f.at
		}
		if err := report.PinsAt(e.stdout, format, report.Pins{Source: src, At: at, From: atFrom, To: atTo, Pins: pins}); err != nil {
			return usageError("%v", err)
		}
		if err := auditAttestations(ctx, e, f, filter); err != nil {
			return err
		}
		return bypassExit(f.failOnBypass, audit.PinRecords(pins))
	}
	records := filter.Apply(h.Records)
	if f.newestFirst {
		records = slices.Clone(records)
		slices.Reverse(records)
	}
	out := report.History{Source: src, Environments: h.Environments, Records: records}
	if format == report.HTML {
		out.Timeline = audit.Timeline(h.Records, filter)
	}
	if err := report.Records(e.stdout, format, out); err != nil {
		return usageError("%v", err)
	}
	if err := auditAttestations(ctx, e, f, filter); err != nil {
		return err
	}
	return bypassExit(f.failOnBypass, records)
}

// checkAuditFilter refuses an --env or --model filter that names nothing
// the history knows (exit 3), rather than printing an empty report that
// reads as "nothing happened".
func checkAuditFilter(h *audit.History, envs, models []string) error {
	knownEnvs, knownModels := map[string]bool{}, map[string]bool{}
	for _, name := range h.Environments {
		knownEnvs[name] = true
	}
	for _, r := range h.Records {
		knownEnvs[r.Environment] = true
		knownModels[r.Model] = true
	}
	check := func(what string, names []string, known map[string]bool) error {
		for _, n := range names {
			if !known[n] {
				return failure.NotFoundf("no %s named %q in the history of %s (known: %s)", what, n, h.Ref, orNone(slices.Sorted(maps.Keys(known))))
			}
		}
		return nil
	}
	if err := check("environment", envs, knownEnvs); err != nil {
		return err
	}
	return check("model", models, knownModels)
}

// orNone joins names, or says "none".
func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func bypassExit(enabled bool, records []audit.Record) error {
	if !enabled {
		return nil
	}
	for _, r := range records {
		if r.Bypass {
			return failed()
		}
	}
	return nil
}

func newAuditExportCommand(e *env) *cobra.Command {
	var (
		src    auditSource
		to     string
		format string
	)
	cmd := &cobra.Command{
		Use:   "export --to SINK",
		Short: "Append new audit records to a tamper-evident log (a file or an Azure append blob)",
		Long: `Export appends, as JSON lines, the audit records the log does not hold yet.
Each line carries the SHA-256 of the previous line and its own, so any change
to the log breaks the chain. Re-running appends only what is new.

SINK is file:PATH (or a plain path), azblob://ACCOUNT/CONTAINER/BLOB, or the
blob's URL (a path-style URL for Azurite). Azure credentials come from
AZURE_STORAGE_CONNECTION_STRING, then AZURE_STORAGE_SAS_TOKEN (or a SAS in
the URL), then DefaultAzureCredential. Appends to an append blob are
conditioned on its length, so two writers cannot interleave.

--format json prints {log, appended, existing, head, protection}.

Exit status: 0 appended (or nothing new); 1 the log does not verify or does
not match the history (a rewritten branch), so nothing was appended; 2 usage
or configuration error; 3 an unknown --ref; 4 storage or GitHub could not
answer (a retry may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usageError("export needs --to SINK")
			}
			if format != "text" && format != "json" {
				return usageError("unknown format %q: use text or json", format)
			}
			sink, protection, err := openSink(e, to)
			if err != nil {
				return usageError("%v", err)
			}
			// The exported records carry each change's ticket and
			// rationale, as every audit format does.
			src.reasons = true
			run, err := src.load(cmd.Context(), e)
			if err != nil {
				return err
			}
			if err := run.enrich(cmd.Context(), audit.Filter{}); err != nil {
				return err
			}
			res, err := chain.Export(cmd.Context(), sink, run.history.Records)
			if err != nil {
				var brk *chain.Break
				if errors.As(err, &brk) || errors.Is(err, chain.ErrHistoryMismatch) {
					return refusedError(err)
				}
				return failure.UnavailableError(err)
			}
			var described string
			if protection != nil {
				described = protection(cmd.Context())
			}
			if format == "json" {
				return writeJSON(e.stdout, struct {
					Log        string `json:"log"`
					Appended   int    `json:"appended"`
					Existing   int    `json:"existing"`
					Head       string `json:"head"`
					Protection string `json:"protection,omitempty"`
				}{sink.String(), res.Appended, res.Existing, res.Head, described})
			}
			fmt.Fprintf(e.stdout, "%s: appended %d %s after %d; head %s\n", sink, res.Appended, pluralWord(res.Appended, "record", "records"), res.Existing, res.Head)
			if described != "" {
				fmt.Fprintln(e.stdout, described)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	src.register(fl)
	fl.StringVar(&to, "to", "", "the log: file:PATH, a path, azblob://ACCOUNT/CONTAINER/BLOB or a blob URL")
	fl.StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func newAuditVerifyCommand(e *env) *cobra.Command {
	var from, anchor, format string
	cmd := &cobra.Command{
		Use:   "verify --from SINK",
		Short: "Recompute the hash chain of an exported audit log and report the first broken link",
		Long: `Verify reads an exported audit log and recomputes every link of its hash
chain. It reports the number of records and the head hash, or the first
broken record (0-based index and line number) and what is wrong with it.

A chain proves the log was not changed after a given line only relative to a
hash kept elsewhere: pass a head printed by an earlier export as --anchor to
check that the log still contains it.

--format json prints the object schemas/audit-verify-output.schema.json
describes; anchorFound is there only when --anchor was given.

Exit status: 0 intact; 1 broken, or the anchor is missing; 2 usage error;
3 the log does not exist; 4 the log could not be read (a retry may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError("verify needs --from SINK")
			}
			if format != "text" && format != "json" {
				return usageError("unknown format %q: use text or json", format)
			}
			sink, _, err := openSink(e, from)
			if err != nil {
				return usageError("%v", err)
			}
			data, err := chain.ReadExisting(cmd.Context(), sink)
			if err != nil {
				return err
			}
			res := chain.Verify(data)
			anchorFound := anchor == ""
			for _, en := range res.Entries {
				if en.Hash == anchor {
					anchorFound = true
				}
			}
			if err := writeVerify(e.stdout, format, sink.String(), res, anchor, anchorFound); err != nil {
				return usageError("%v", err)
			}
			if res.Broken != nil || !anchorFound {
				return failed()
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the log: file:PATH, a path, azblob://ACCOUNT/CONTAINER/BLOB or a blob URL")
	cmd.Flags().StringVar(&anchor, "anchor", "", "a head hash kept from an earlier export that the log must contain")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func writeVerify(w io.Writer, format, name string, res chain.Result, anchor string, anchorFound bool) error {
	if format == "json" {
		out := struct {
			Log string `json:"log"`
			chain.Result
			Anchor      string `json:"anchor,omitempty"`
			AnchorFound *bool  `json:"anchorFound,omitempty"`
		}{Log: name, Result: res, Anchor: anchor}
		if anchor != "" {
			out.AnchorFound = &anchorFound
		}
		return writeJSON(w, out)
	}
	if res.Broken != nil {
		fmt.Fprintf(w, "%s: BROKEN at record %d (line %d): %s\n", name, res.Broken.Index, res.Broken.Line, res.Broken.Reason)
		if res.Count == 1 {
			fmt.Fprintf(w, "the record before it verifies; its head is %s\n", res.Head)
		} else {
			fmt.Fprintf(w, "the %d records before it verify; their head is %s\n", res.Count, res.Head)
		}
	} else {
		fmt.Fprintf(w, "%s: intact, %d %s, head %s\n", name, res.Count, pluralWord(res.Count, "record", "records"), res.Head)
	}
	if anchor != "" {
		if anchorFound {
			fmt.Fprintf(w, "anchor %s found\n", anchor)
		} else {
			fmt.Fprintf(w, "anchor %s NOT found in the verified records\n", anchor)
		}
	}
	return nil
}

// openSink opens a log named on the command line. For an Azure append
// blob it also returns a function describing the container's protection.
func openSink(e *env, s string) (chain.Sink, func(context.Context) string, error) {
	sink, err := chain.OpenSink(s, func() (artifact.Credentials, error) { return artifact.CredentialsFromEnv(e.getenv) })
	if err != nil {
		return nil, nil, err
	}
	if az, ok := sink.(*chain.AzureSink); ok {
		return sink, func(ctx context.Context) string { return describeProtection(ctx, az) }, nil
	}
	return sink, nil, nil
}

func describeProtection(ctx context.Context, sink *chain.AzureSink) string {
	p, err := sink.Protection(ctx)
	switch {
	case err != nil:
		return "container immutability: unknown (" + err.Error() + ")"
	case !p.Known:
		return "container immutability: not reported by the storage service (an emulator?); nothing protects the log from deletion"
	case p.ImmutabilityPolicy || p.LegalHold || p.VersionLevelWORM:
		return fmt.Sprintf("container immutability: policy=%t legal hold=%t version-level WORM=%t", p.ImmutabilityPolicy, p.LegalHold, p.VersionLevelWORM)
	}
	return "container immutability: NONE: see docs/audit.md to add a time-based retention policy with protected append writes"
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
