package drift

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the result as one indented JSON object
// (schemas/drift-output.schema.json).
func WriteJSON(w io.Writer, r Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the result for a terminal.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Drift at %s (grace %s, stale after %s): %d jobs, %d findings\n", stamp(r.Now), r.Grace, r.Stale, len(r.Jobs), len(r.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  %-17s %s\n", f.Kind, f.Message)
	}
	if r.Skipped > 0 {
		fmt.Fprintf(&b, "  %d report lines could not be read and were skipped\n", r.Skipped)
	}
	b.WriteString("Latest loads:\n")
	for _, l := range r.Jobs {
		fmt.Fprintf(&b, "  %-24s %-8s %-28s %-12s %s verified=%t attestation=%s\n", l.Job, l.Environment, l.Model, l.Version, stamp(l.Time), l.Verified, orNone(l.Attestation))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Markdown returns the result as GitHub-flavoured markdown, the body of
// the drift issue.
func Markdown(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Model-version drift\n\nAt %s, grace %s, stale after %s. Reports are the scoring jobs' own claims.\n\n", stamp(r.Now), r.Grace, r.Stale)
	if len(r.Findings) == 0 {
		b.WriteString("No drift.\n")
	} else {
		b.WriteString("| Kind | Job | Environment | Model | Loaded | Pinned | Finding |\n|---|---|---|---|---|---|---|\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", f.Kind, f.Job, f.Environment, f.Model, f.Loaded, f.Pinned, strings.ReplaceAll(f.Message, "|", "\\|"))
		}
	}
	if r.Skipped > 0 {
		fmt.Fprintf(&b, "\n%d report lines could not be read and were skipped.\n", r.Skipped)
	}
	return b.String()
}

// WriteMarkdown writes Markdown(r).
func WriteMarkdown(w io.Writer, r Result) error {
	_, err := io.WriteString(w, Markdown(r))
	return err
}

func orNone(s string) string {
	if s == "" {
		return AttestationNone
	}
	return s
}
