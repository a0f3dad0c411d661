package accessreview

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as one indented JSON object
// (schemas/access-review-output.schema.json).
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a terminal.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Access review of %s at %s (CODEOWNERS: %s)\n\n", r.Repository, r.GeneratedAt.UTC().Format("2006-01-02T15:04:05Z"), orNone(r.CODEOWNERS))
	for _, g := range r.Gates {
		fmt.Fprintf(&b, "%s: %d approvals (%s)\n", gateName(g), g.Approvals, g.Source)
		fmt.Fprintf(&b, "  eligible for every file: %s\n", orNone(strings.Join(g.Eligible, ", ")))
		if len(g.Invited) > 0 {
			fmt.Fprintf(&b, "  invited, not counted: %s\n", strings.Join(g.Invited, ", "))
		}
		for _, f := range g.Files {
			fmt.Fprintf(&b, "  %s  line %d  owners %s  eligible %s\n", f.Path, f.Line, orNone(strings.Join(f.Owners, " ")), orNone(strings.Join(f.Eligible, ", ")))
		}
	}
	b.WriteString("\nPeople:\n")
	for _, p := range r.People {
		fmt.Fprintf(&b, "  %-20s %-6s %s\n", p.Login, p.Permission, p.Status)
	}
	fmt.Fprintf(&b, "\nFindings (%d):\n", len(r.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  %-7s %s: %s\n", f.Severity, f.Kind, f.Message)
	}
	if len(r.Findings) == 0 {
		b.WriteString("  none\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the report as GitHub-flavoured markdown, the body
// of the access-review issue.
func WriteMarkdown(w io.Writer, r Report) error {
	_, err := io.WriteString(w, Markdown(r))
	return err
}

// Markdown returns the report as GitHub-flavoured markdown.
func Markdown(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Access review of `%s`\n\n", r.Repository)
	fmt.Fprintf(&b, "Taken %s from `%s`. Maker-checker threshold %.0f%% of the last %d days' promotions.\n\n", r.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"), orNone(r.CODEOWNERS), percent*r.MakerCheckerShare, r.WindowDays)
	fmt.Fprintf(&b, "### Findings (%d)\n\n", len(r.Findings))
	if len(r.Findings) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| Severity | Kind | Finding |\n|---|---|---|\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "| %s | `%s` | %s |\n", f.Severity, f.Kind, cell(f.Message))
		}
	}
	b.WriteString("\n### Gates\n\n| Gate | Approvals | Eligible for every file | Invited (not counted) |\n|---|---|---|---|\n")
	for _, g := range r.Gates {
		fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", gateName(g), g.Approvals, cell(orNone(strings.Join(g.Eligible, ", "))), cell(orNone(strings.Join(g.Invited, ", "))))
	}
	b.WriteString("\n### People\n\n| Login | Permission | Status |\n|---|---|---|\n")
	for _, p := range r.People {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", p.Login, p.Permission, p.Status)
	}
	return b.String()
}

func gateName(g Gate) string {
	if g.Scope == scopeControl {
		return "control files"
	}
	if g.Production {
		return "environment " + g.Environment + " (production)"
	}
	return "environment " + g.Environment
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }
