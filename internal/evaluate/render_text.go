package evaluate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// RenderText writes the result as plain text for the command line: the
// verdict and title, the promotions, the approvals per file with every
// review that did not count, and every rule outcome.
func RenderText(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s: %s\n", strings.ToUpper(r.Verdict.String()), oneLine(r.Title))
	writeRationaleText(tw, r)
	if len(r.Promotions) > 0 {
		fmt.Fprintf(tw, "\nPromotions:\n")
		for _, p := range r.Promotions {
			line := fmt.Sprintf("  %s\t%s\t%s\t%s", p.Environment, p.Model, p.Kind, versionChange(p.FromVersion, p.ToVersion, " -> "))
			if p.SourceEnvironment != "" {
				line += "\tfrom " + p.SourceEnvironment
			} else {
				line += "\t"
			}
			var facts []string
			if p.ArtifactSHA256 != "" {
				facts = append(facts, "sha256:"+shortDigest(p.ArtifactSHA256))
			}
			if p.Validation != "" {
				facts = append(facts, "validation "+string(p.Validation))
			}
			if p.Ticket != "" {
				facts = append(facts, "ticket "+oneLine(p.Ticket))
			}
			fmt.Fprintf(tw, "%s\t%s\n", line, strings.Join(facts, ", "))
		}
		tw.Flush()
		for _, p := range r.Promotions {
			if len(p.Metrics) == 0 || p.Kind == KindDecommission {
				continue
			}
			fmt.Fprintf(tw, "\nMetrics of %s in %s:\n", p.Model, p.Environment)
			fmt.Fprintf(tw, "  metric\t%s now (%s)\t%s\tchange\n", p.Environment, orDash(p.FromVersion), newColumn(p))
			for _, m := range p.Metrics {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", oneLine(m.Name), formatMetric(m.Current), formatMetric(m.New), metricDelta(m))
			}
			tw.Flush()
		}
		for _, p := range r.Promotions {
			writeGatesText(tw, r, p)
		}
	}
	if len(r.Approvals) > 0 {
		fmt.Fprintf(tw, "\nApprovals:\n")
		for _, a := range r.Approvals {
			status := "ok"
			switch {
			case len(a.ChangesRequested) > 0:
				status = "changes requested by " + strings.Join(at(a.ChangesRequested), ", ")
			case a.Missing > 0:
				status = fmt.Sprintf("%d missing", a.Missing)
			}
			basis := a.Basis
			if a.OwnersOf != "" {
				basis += ", owners of " + a.OwnersOf
			}
			fmt.Fprintf(tw, "  %s: %d/%d (%s, %s)\n", a.File, len(a.Approvers), a.Required, basis, status)
			owners := strings.Join(a.Owners, ", ")
			if owners == "" {
				owners = "none"
			}
			fmt.Fprintf(tw, "    owners: %s\n", owners)
			if len(a.Approvers) > 0 {
				fmt.Fprintf(tw, "    approved by: %s\n", strings.Join(at(a.Approvers), ", "))
			}
			if len(a.Ignored) > 0 {
				var parts []string
				for _, ig := range a.Ignored {
					parts = append(parts, fmt.Sprintf("@%s (%s)", ig.Login, ig.Reason))
				}
				fmt.Fprintf(tw, "    ignored: %s\n", strings.Join(parts, ", "))
			}
			if len(a.Unresolvable) > 0 {
				fmt.Fprintf(tw, "    unresolvable: %s\n", strings.Join(a.Unresolvable, ", "))
			}
			if a.Layout != "" {
				fmt.Fprintf(tw, "    layout: %s\n", a.Layout)
			}
			if g := a.Governance; g != nil {
				status := "ok"
				if g.Missing > 0 {
					status = fmt.Sprintf("%d missing", g.Missing)
				}
				fmt.Fprintf(tw, "    governance: %d/%d (%s, owners of %s, %s)\n", len(g.Approvers), g.Required, g.Reason, g.OwnersOf, status)
				owners := strings.Join(g.Owners, ", ")
				if owners == "" {
					owners = "none"
				}
				fmt.Fprintf(tw, "      owners: %s\n", owners)
				if len(g.Approvers) > 0 {
					fmt.Fprintf(tw, "      approved by: %s\n", strings.Join(at(g.Approvers), ", "))
				}
			}
		}
	}
	if len(r.Rules) > 0 {
		fmt.Fprintf(tw, "\nRules:\n")
		for _, rule := range r.Rules {
			ref := rule.File
			if rule.Line > 0 {
				ref = fmt.Sprintf("%s:%d:%d", rule.File, rule.Line, max(rule.Column, 1))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", rule.Status, ruleName(rule), orDash(ref), oneLine(rule.Message))
		}
	}
	return tw.Flush()
}

// oneLine keeps text from untrusted files on one line.
func oneLine(s string) string {
	return oneLineReplacer.Replace(s)
}

// oneLineReplacer turns line breaks and tabs into spaces.
var oneLineReplacer = strings.NewReplacer("\r", " ", "\n", " ", "\t", " ")
