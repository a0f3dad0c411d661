package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/report"
	"github.com/example-org/promobot/internal/audit/stats"
	"github.com/example-org/promobot/internal/failure"
)

func init() { subcommands = append(subcommands, newAuditCommand) }

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

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
