package evaluate

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// statusMark is the symbol of a rule status in markdown.
var statusMark = map[Status]string{StatusPass: "✅", StatusFail: "❌", StatusWarn: "⚠️", StatusSkip: "⏭️"}

// MaxMarkdownSize is the size RenderMarkdown keeps its output under, below
// GitHub's limit of 65535 characters for a check run summary.
const MaxMarkdownSize = 60000

// RenderMarkdown writes the result as GitHub-flavoured markdown for a check
// run summary or a pull request comment: the verdict and what is missing,
// the promotions with their metrics beside the versions they replace, the
// approvals per file, and every rule outcome. When that would exceed
// MaxMarkdownSize, a compact form shows the metrics of the first few
// promotions only, and approvals and rules only where something is missing
// or wrong, counting the rest; if even that is too long, the text is cut with
// a note pointing at the JSON output.
func RenderMarkdown(w io.Writer, r *Result) error {
	var b bytes.Buffer
	renderMarkdown(&b, r, false)
	if b.Len() > MaxMarkdownSize {
		b.Reset()
		renderMarkdown(&b, r, true)
	}
	out := b.Bytes()
	if len(out) > MaxMarkdownSize {
		const note = "\n\n_Output truncated; the JSON output holds the full result._\n"
		cut := bytes.LastIndexByte(out[:MaxMarkdownSize-len(note)], '\n')
		out = append(out[:max(cut, 0):max(cut, 0)], note...)
	}
	_, err := w.Write(out)
	return err
}

// compactMetrics is how many promotions show their metrics in the compact
// form.
const compactMetrics = 3

func renderMarkdown(b *bytes.Buffer, r *Result, compact bool) {
	writeVerdictLine(b, r)
	writeRationaleMarkdown(b, r)
	writeAttention(b, r)
	if len(r.Promotions) > 0 {
		b.WriteString("\n### Promotions\n\n")
		b.WriteString("| Model | Environment | Change | Version | Artifact | Validation | Ticket |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		for _, p := range r.Promotions {
			env := p.Environment
			if p.SourceEnvironment != "" {
				env = p.SourceEnvironment + " → " + p.Environment
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdCode(p.Model), mdText(env), p.Kind,
				codeChange(p.FromVersion, p.ToVersion), mdCode(shortDigest(p.ArtifactSHA256)),
				mdText(string(p.Validation)), mdCode(p.Ticket))
		}
		for i, p := range r.Promotions {
			if compact && i == compactMetrics {
				fmt.Fprintf(b, "\nMetrics of %d more promotions are in the JSON output.\n", len(r.Promotions)-i)
				break
			}
			writeMetricsMarkdown(b, p)
			writeGatesMarkdown(b, r, p)
		}
	}
	if len(r.Approvals) > 0 {
		b.WriteString("\n### Approvals\n\n")
		b.WriteString("| File | Required | Approved by | Missing | Owners |\n")
		b.WriteString("|---|--:|---|--:|---|\n")
		satisfied := 0
		for _, a := range r.Approvals {
			if compact && a.Satisfied() {
				satisfied++
				continue
			}
			missing := strconv.Itoa(a.Missing)
			if len(a.ChangesRequested) > 0 {
				missing += ", changes requested by " + codeList(at(a.ChangesRequested))
			}
			owners := codeList(a.Owners)
			if owners == "" {
				owners = "_none_"
			}
			file := mdCode(a.File)
			if a.Layout != "" {
				file += " (" + mdText(a.Layout) + ")"
			}
			if a.OwnersOf != "" {
				file += ", owners of " + mdCode(a.OwnersOf)
			}
			fmt.Fprintf(b, "| %s | %d | %s | %s | %s |\n", file, a.Required,
				orDash(codeList(at(a.Approvers))), missing, owners)
			if g := a.Governance; g != nil {
				owners := codeList(g.Owners)
				if owners == "" {
					owners = "_none_"
				}
				fmt.Fprintf(b, "| %s governance (%s), owners of %s | %d | %s | %d | %s |\n", mdCode(a.File), mdText(g.Reason), mdCode(g.OwnersOf),
					g.Required, orDash(codeList(at(g.Approvers))), g.Missing, owners)
			}
		}
		if satisfied > 0 {
			fmt.Fprintf(b, "\n%d more files have all their approvals.\n", satisfied)
		}
		b.WriteString("\n" + approvalCountingNote + "\n")
		first := true
		for _, a := range r.Approvals {
			if len(a.Ignored) == 0 && len(a.Unresolvable) == 0 || compact && a.Satisfied() {
				continue
			}
			if first {
				b.WriteString("\nReviews that did not count:\n\n")
				first = false
			}
			var parts []string
			for _, ig := range a.Ignored {
				parts = append(parts, fmt.Sprintf("%s (%s)", mdCode("@"+ig.Login), mdText(ig.Reason)))
			}
			for _, u := range a.Unresolvable {
				parts = append(parts, fmt.Sprintf("%s (owner cannot be resolved)", mdCode(u)))
			}
			fmt.Fprintf(b, "- %s: %s\n", mdCode(a.File), strings.Join(parts, ", "))
		}
	}
	writePassingRules(b, r, compact)
}

func writeMetricsMarkdown(b *bytes.Buffer, p Promotion) {
	if len(p.Metrics) == 0 || p.Kind == KindDecommission {
		return
	}
	source := newColumnMarkdown(p)
	fmt.Fprintf(b, "\n**%s in %s**\n\n", mdCode(p.Model), mdText(p.Environment))
	fmt.Fprintf(b, "| Metric | %s now (%s) | %s | Change |\n", mdText(p.Environment), orDash(mdCode(p.FromVersion)), source)
	b.WriteString("|---|--:|--:|--:|\n")
	for _, m := range p.Metrics {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdText(m.Name), formatMetric(m.Current), formatMetric(m.New), metricDelta(m))
	}
}

// newColumn heads the column of the new version's metrics, which are those
// pinned in the source environment.
func newColumn(p Promotion) string {
	if p.SourceEnvironment != "" {
		return p.SourceEnvironment + " (" + p.ToVersion + ")"
	}
	return p.ToVersion
}

// newColumnMarkdown is newColumn with the version as inline code, so that it
// does not wrap.
func newColumnMarkdown(p Promotion) string {
	if p.SourceEnvironment != "" {
		return mdText(p.SourceEnvironment) + " (" + mdCode(p.ToVersion) + ")"
	}
	return mdCode(p.ToVersion)
}

func ruleName(r RuleResult) string {
	if string(r.Family) == r.ID {
		return r.ID
	}
	return string(r.Family) + "/" + r.ID
}

func fileRef(r RuleResult) string {
	switch {
	case r.File == "":
		return ""
	case r.Line > 0:
		return fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	return r.File
}

func versionChange(from, to, arrow string) string {
	switch {
	case from == "":
		return to
	case to == "":
		return from + arrow + "(removed)"
	case from == to:
		return to
	}
	return from + arrow + to
}

func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func formatMetric(v *float64) string {
	if v == nil {
		return "–"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func metricDelta(m MetricComparison) string {
	if m.New == nil || m.Current == nil {
		return "–"
	}
	// Round away the binary noise of the subtraction (0.0121-0.0124 is
	// -0.00029999999999999992) before printing the shortest form.
	d := *m.New - *m.Current
	if d != 0 && !math.IsInf(d, 0) && !math.IsNaN(d) {
		scale := math.Pow(10, 10-math.Ceil(math.Log10(math.Abs(d))))
		d = math.Round(d*scale) / scale
	}
	s := strconv.FormatFloat(d, 'g', -1, 64)
	if d > 0 {
		s = "+" + s
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// mdReplacer escapes markdown and HTML syntax, and folds line breaks so
// that the text stays in one table cell.
var mdReplacer = strings.NewReplacer(
	"\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "[", "\\[", "]", "\\]",
	"<", "&lt;", ">", "&gt;", "|", "\\|", "\r", " ", "\n", " ", "#", "\\#", "~", "\\~",
)

// mdText escapes text so that markdown and HTML in it are shown literally,
// on one line, in running text or a table cell.
func mdText(s string) string { return mdReplacer.Replace(s) }

// codeList renders logins and owners as inline code, which GitHub does not
// turn into mentions, so re-rendering a summary notifies nobody.
func codeList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = mdCode(s)
	}
	return strings.Join(out, ", ")
}

// mdCodeReplacer keeps a value inside one code span of a table cell.
var mdCodeReplacer = strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ")

// mdCode renders s as inline code, or nothing when s is empty.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + mdCodeReplacer.Replace(s) + "`"
}
