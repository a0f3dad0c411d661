package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/resolve"
)

// errorExitCode is the one place that maps an error to an exit code: the
// error's failure kind (failure.KindOf: a mark, or the kind its own type
// reports) gets that kind's code; a deadline is unavailable; anything
// else is an internal error, exit 2.
func errorExitCode(err error) int {
	switch failure.KindOf(err) {
	case failure.Refused:
		return exitFailed
	case failure.Usage:
		return exitUsage
	case failure.NotFound:
		return exitNotFound
	case failure.Unavailable:
		return exitUnavailable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return exitUnavailable
	}
	return exitUsage
}

// exitCodeNames name the exit codes in the JSON error output.
var exitCodeNames = map[int]string{
	exitFailed:      failure.Refused.String(),
	exitUsage:       failure.Usage.String(),
	exitNotFound:    failure.NotFound.String(),
	exitUnavailable: failure.Unavailable.String(),
}

// errorJSON is the object --format json prints on stdout when a command
// ends in an error; schemas/error-output.schema.json describes it.
type errorJSON struct {
	Code     string `json:"code"`
	ExitCode int    `json:"exitCode"`
	Reason   string `json:"reason"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
}

func writeErrorJSON(w io.Writer, code int, reason string, err error) {
	out := errorJSON{Code: exitCodeNames[code], ExitCode: code, Reason: reason}
	var refused *resolve.RefusedError
	if errors.As(err, &refused) {
		out.File, out.Line = refused.Path, refused.Line
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// oneLine folds a message that spans lines into one line. An Azure SDK
// error prints its whole HTTP response between ruler lines: the request
// and status lines are kept, the response body after the second ruler is
// dropped.
func oneLine(msg string) string {
	var b strings.Builder
	rulers := 0
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && strings.Trim(l, "-=") == "" {
			if rulers++; rulers == 2 {
				break
			}
			continue
		}
		if l == "" {
			continue
		}
		switch s := b.String(); {
		case s == "":
		case strings.HasSuffix(s, ":"):
			b.WriteString(" ")
		default:
			b.WriteString("; ")
		}
		b.WriteString(l)
	}
	return b.String()
}

// formatOf returns the value of a command's --format flag, or "".
func formatOf(cmd *cobra.Command) string {
	if f := cmd.Flags().Lookup("format"); f != nil {
		return f.Value.String()
	}
	return ""
}

// replacedByAnnotation marks a hidden flag kept as a deprecated alias; its
// value names the flag that replaces it.
const replacedByAnnotation = "promobot-replaced-by"

// aliasFlag registers old as a hidden, deprecated alias of the flag name
// already registered in fl: both set the same value. Using it prints a
// one-line notice on stderr.
func aliasFlag(fl *pflag.FlagSet, old, name string) {
	f := fl.Lookup(name)
	fl.Var(f.Value, old, "deprecated: use --"+name)
	alias := fl.Lookup(old)
	alias.NoOptDefVal = f.NoOptDefVal
	alias.Hidden = true
	alias.Annotations = map[string][]string{replacedByAnnotation: {name}}
}

// deprecationNotices prints one line on stderr for each deprecated alias the
// command line used, and for the deprecated --format table.
func deprecationNotices(e *env, cmd *cobra.Command) {
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if by := f.Annotations[replacedByAnnotation]; len(by) > 0 {
			fmt.Fprintf(e.stderr, "promobot: --%s is deprecated and will be removed; use --%s\n", f.Name, by[0])
		}
	})
	if formatOf(cmd) == "table" {
		fmt.Fprintln(e.stderr, "promobot: --format table is deprecated and will be removed; use --format text")
	}
}
