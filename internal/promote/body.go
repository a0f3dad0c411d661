package promote

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/evaluate"
)

// BodyMarker starts every pull request body promobot writes, so the bot can
// recognise its own pull requests.
const BodyMarker = "<!-- promobot:change -->"

// renderBody writes the pull request description: what moves and from
// where, the ticket, validation, the rollback target, and the policy
// engine's report (promotions with metrics beside the versions they
// replace, the approvals required from whom, every rule).
func renderBody(p *Plan, ev *evaluate.Result) (string, error) {
	var b strings.Builder
	b.WriteString(BodyMarker + "\n")
	switch p.Kind {
	case Register:
		b.WriteString("Registers a new candidate version; it starts with validation pending.\n\n")
	case Rollback:
		if p.Ticket == "" {
			fmt.Fprintf(&b, "Rolls %s back to manifests it pinned before, restored byte for byte.", mdCode(p.Environment))
		} else {
			fmt.Fprintf(&b, "Rolls %s back to manifests it pinned before, restored byte for byte except `approval`, which holds this rollback's ticket.", mdCode(p.Environment))
		}
		if p.Reverts > 0 {
			fmt.Fprintf(&b, " Undoes #%d.", p.Reverts)
		}
		b.WriteString("\n\n")
	default:
		fmt.Fprintf(&b, "Promotes to %s, copying each manifest byte for byte except `environment` and `approval`.\n\n", mdCode(p.Environment))
	}
	b.WriteString("| Model | Version | From | Replaces |\n|---|---|---|---|\n")
	for _, m := range p.Moves {
		from := "–"
		switch {
		case m.From != "":
			from = mdCode(m.From)
		case m.Restored != nil:
			from = fmt.Sprintf("%s history, pinned %s by %s", mdCode(m.Environment), m.Restored.Since.UTC().Format("2006-01-02"), mdCode(short(m.Restored.Commit)))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdCode(m.Model), mdCode(m.Version), from, orDash(mdCode(m.Replaces)))
	}
	if p.Kind == Promote || p.Ticket != "" {
		b.WriteString("\n**Ticket:** ")
		if p.Ticket == "" {
			b.WriteString("none\n")
		} else {
			b.WriteString(mdCode(p.Ticket) + "\n")
		}
	}
	b.WriteString("\n**Validation:**\n\n")
	for _, m := range p.Moves {
		v := m.Next.Validation
		line := fmt.Sprintf("- %s %s: %s", mdCode(m.Model), mdCode(m.Version), mdCode(string(v.Status)))
		if v.ValidatedAt != "" {
			line += " on " + mdCode(v.ValidatedAt)
		}
		if v.Report != "" && strings.HasPrefix(v.Report, "https://") {
			line += fmt.Sprintf(" ([report](%s))", strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(v.Report))
		}
		b.WriteString(line + "\n")
	}
	b.WriteString("\n**Rollback target:**\n\n")
	for _, m := range p.Moves {
		switch {
		case m.Replaces == "":
			fmt.Fprintf(&b, "- %s: nothing was pinned in %s before; to undo, remove %s.\n", mdCode(m.Model), mdCode(m.Environment), mdCode(m.Path))
		case m.RollbackTarget != nil:
			fmt.Fprintf(&b, "- %s: %s, pinned %s by %s: `promobot rollback --model %s --env %s --to-version %s`\n",
				mdCode(m.Model), mdCode(m.Replaces), m.RollbackTarget.Since.UTC().Format("2006-01-02"), mdCode(short(m.RollbackTarget.Commit)),
				m.Model, m.Environment, m.Replaces)
		default:
			fmt.Fprintf(&b, "- %s: %s: `promobot rollback --model %s --env %s --to-version %s`\n",
				mdCode(m.Model), mdCode(m.Replaces), m.Model, m.Environment, m.Replaces)
		}
	}
	if ev != nil {
		b.WriteString("\n---\n\nPolicy check of the change as proposed (the promobot check run shows the live result as reviews arrive):\n\n")
		var md bytes.Buffer
		if err := evaluate.RenderMarkdown(&md, ev); err != nil {
			return "", fmt.Errorf("render the policy report: %w", err)
		}
		b.Write(md.Bytes())
	}
	return b.String(), nil
}

// mdCode renders s as inline code, or nothing when s is empty.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ").Replace(s) + "`"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
