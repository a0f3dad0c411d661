package evaluate

import (
	"bytes"
	"fmt"
	"strings"
	"text/tabwriter"
)

// gateMark is the symbol of a metric gate verdict in markdown.
var gateMark = map[string]string{GatePass: "✅", GateFail: "❌", GateWarn: "⚠️", GateOverridden: "🔓", GateSkip: "⏭️"}

// rationales lists the promotions that carry a rationale, for the top of
// the summary.
func rationales(r *Result) []Promotion {
	var out []Promotion
	for _, p := range r.Promotions {
		if strings.TrimSpace(p.Rationale) != "" && p.Kind != KindDecommission {
			out = append(out, p)
		}
	}
	return out
}

// writeRationaleMarkdown writes the rationale of each promotion as a quote.
func writeRationaleMarkdown(b *bytes.Buffer, r *Result) {
	for _, p := range rationales(r) {
		fmt.Fprintf(b, "\n> **Rationale** for %s in %s: %s\n", mdText(p.Model), mdText(p.Environment), mdText(strings.TrimSpace(p.Rationale)))
	}
}

// writeRationaleText writes the rationale of each promotion.
func writeRationaleText(tw *tabwriter.Writer, r *Result) {
	for _, p := range rationales(r) {
		fmt.Fprintf(tw, "Rationale for %s in %s: %s\n", p.Model, p.Environment, oneLine(strings.TrimSpace(p.Rationale)))
	}
}

// exceptionApproval returns the governance approval of a promotion's file
// that its metric exception needs, if any.
func exceptionApproval(r *Result, p Promotion) *GovernanceApproval {
	for _, a := range r.Approvals {
		if a.File == p.File && a.Governance != nil {
			return a.Governance
		}
	}
	return nil
}

// exceptionSummary says which gates were overridden and with whose
// governance approval.
func exceptionSummary(r *Result, p Promotion, code func(string) string) string {
	x := p.Exception
	s := fmt.Sprintf("Overridden by the label %s: %s", code(x.Label), strings.Join(x.Gates, ", "))
	g := exceptionApproval(r, p)
	switch {
	case g == nil:
		return s
	case len(g.Approvers) == 0:
		return s + fmt.Sprintf("; no governance approval yet (0/%d)", g.Required)
	}
	names := make([]string, len(g.Approvers))
	for i, a := range at(g.Approvers) {
		names[i] = code(a)
	}
	return s + fmt.Sprintf("; governance approvals %d/%d by %s", len(g.Approvers), g.Required, strings.Join(names, ", "))
}

// writeGatesMarkdown writes the metric gate table of a promotion.
func writeGatesMarkdown(b *bytes.Buffer, r *Result, p Promotion) {
	if len(p.Gates) == 0 {
		return
	}
	fmt.Fprintf(b, "\n**Metric gates of %s in %s**\n\n", mdText(p.Model), mdText(p.Environment))
	b.WriteString("| Metric | Candidate | Incumbent | Bound | Verdict |\n")
	b.WriteString("|---|--:|--:|---|---|\n")
	for _, g := range p.Gates {
		verdict := gateMark[g.Verdict] + " " + g.Verdict
		if g.Note != "" {
			verdict += ": " + mdText(g.Note)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", mdText(g.Metric), formatMetric(g.Candidate), formatMetric(g.Incumbent), mdText(g.Bound), verdict)
	}
	if p.Exception != nil {
		fmt.Fprintf(b, "\n%s:\n\n", exceptionSummary(r, p, func(s string) string { return mdCode(s) }))
		for _, x := range p.Exception.Overridden {
			fmt.Fprintf(b, "- %s\n", mdText(x.String()))
		}
	}
}

// writeGatesText writes the metric gate table of a promotion.
func writeGatesText(tw *tabwriter.Writer, r *Result, p Promotion) {
	if len(p.Gates) == 0 {
		return
	}
	fmt.Fprintf(tw, "\nMetric gates of %s in %s:\n", p.Model, p.Environment)
	fmt.Fprintf(tw, "  metric\tcandidate\tincumbent\tbound\tverdict\n")
	for _, g := range p.Gates {
		verdict := g.Verdict
		if g.Note != "" {
			verdict += ": " + oneLine(g.Note)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", oneLine(g.Metric), formatMetric(g.Candidate), formatMetric(g.Incumbent), g.Bound, verdict)
	}
	tw.Flush()
	if p.Exception != nil {
		fmt.Fprintf(tw, "  %s:\n", exceptionSummary(r, p, func(s string) string { return s }))
		for _, x := range p.Exception.Overridden {
			fmt.Fprintf(tw, "    %s\n", oneLine(x.String()))
		}
	}
}
