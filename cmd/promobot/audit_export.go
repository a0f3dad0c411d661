package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/chain"
	"github.com/example-org/promobot/internal/failure"
)

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
