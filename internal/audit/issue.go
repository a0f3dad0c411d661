package audit

import (
	"fmt"
	"strings"
	"time"
)

// IssueBody renders the evidence of a finding as the Markdown body of the
// issue the bot opens (or updates) for it.
func (f Finding) IssueBody() string {
	r := f.Record
	var b strings.Builder
	fmt.Fprintf(&b, "promobot found a change of `%s` on the default branch that did not come through a reviewed pull request.\n\n", r.Path)
	fmt.Fprintf(&b, "**Why:** %s\n\n", code(f.Verdict.Reason))
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	row("Environment", MarkdownText(r.Environment))
	row("Model", MarkdownText(r.Model))
	row("Change", fmt.Sprintf("%s %s", r.Kind, versionChange(r)))
	if r.ArtifactSHA256 != "" {
		row("Artifact sha256", "`"+r.ArtifactSHA256+"`")
	}
	row("Commit", "`"+r.Commit+"`")
	// Text written by whoever pushed goes in code spans: no mentions, links
	// or markup reach the issue.
	row("Subject", code(r.Subject))
	row("Author", code(r.Author.String())+" at "+r.Author.Time.UTC().Format(time.RFC3339))
	row("Committer", code(r.Committer.String())+" at "+r.Committer.Time.UTC().Format(time.RFC3339))
	if pr := f.Verdict.PullRequest; pr != nil {
		row("Pull request", fmt.Sprintf("#%d %s", pr.Number, code(pr.Title)))
		row("Merged by", code(orSomeone(pr.MergedBy)))
		row("Approvers", code(orNone(strings.Join(pr.Approvers, ", "))))
		row("promobot check at merge", code(orNone(pr.Check)))
	}
	b.WriteString("\nTo resolve: revert the change, or make it again through a pull request that passes the promobot check. ")
	b.WriteString("Until then `promobot resolve --require-reviewed` refuses this manifest.\n")
	return b.String()
}

func versionChange(r Record) string {
	from, to := r.FromVersion, r.ToVersion
	if from == "" {
		from = "(none)"
	}
	if to == "" {
		to = "(none)"
	}
	return MarkdownText(from) + " → " + MarkdownText(to)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// markdownEscaper escapes what would end a table cell or add markup,
// backslashes included, so that one in the input cannot undo an escape.
var markdownEscaper = strings.NewReplacer("\\", `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "`", "\\`", "*", `\*`, "_", `\_`,
	"[", `\[`, "]", `\]`, "#", `\#`, "~", `\~`)

// MarkdownText escapes untrusted text for a Markdown table cell: one line,
// no table breaks, no HTML, no links or emphasis. The issue body and the
// markdown audit report both use it.
func MarkdownText(s string) string {
	return markdownEscaper.Replace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

// code renders untrusted text as a Markdown code span inside a table cell.
func code(s string) string {
	s = strings.NewReplacer("`", "'", "|", "/", "\n", " ", "\r", " ").Replace(s)
	return "`" + s + "`"
}
