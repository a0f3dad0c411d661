package promote

import (
	"fmt"
	"strings"

	"github.com/example-org/promobot/internal/gitrepo"
)

// The commit trailers promobot writes. Model, Version, From and Replaces
// repeat once per moved model, in model order; the others appear once.
const (
	TrailerAction   = "Promobot-Action"
	TrailerModel    = "Promobot-Model"
	TrailerVersion  = "Promobot-Version"
	TrailerFrom     = "Promobot-From"
	TrailerReplaces = "Promobot-Replaces"
	TrailerTo       = "Promobot-To"
	TrailerTicket   = "Promobot-Ticket"
)

// The labels of promotion pull requests.
const (
	LabelPromotion         = "promotion"
	LabelRollback          = "rollback"
	LabelEnvironmentPrefix = "env:"
)

// maxTitleLength is GitHub's limit on pull request titles.
const maxTitleLength = 256

// describe fills the branch, title, labels and commit message of a plan.
func describe(p *Plan) {
	p.Branch = BranchName(p.Kind, p.Environment, p.Versions())
	p.Title = title(p)
	p.Labels = []string{LabelPromotion, LabelEnvironmentPrefix + p.Environment}
	if p.Kind == Rollback {
		p.Labels = append(p.Labels, LabelRollback)
	}
	p.CommitMessage = commitMessage(p)
}

// title says what moves: "Promote elasticnet-ndx 2026.06.05-3 to prod".
func title(p *Plan) string {
	items := make([]string, len(p.Moves))
	for i, m := range p.Moves {
		if p.Kind == Rollback {
			items[i] = m.Model + " to " + m.Version
		} else {
			items[i] = m.Model + " " + m.Version
		}
	}
	var t string
	switch p.Kind {
	case Register:
		t = fmt.Sprintf("Register %s in %s", joinAnd(items), p.Environment)
	case Rollback:
		if len(p.Moves) == 1 {
			t = fmt.Sprintf("Roll back %s in %s to %s", p.Moves[0].Model, p.Environment, p.Moves[0].Version)
		} else {
			t = fmt.Sprintf("Roll back %s in %s", joinAnd(items), p.Environment)
		}
	default:
		t = fmt.Sprintf("Promote %s to %s", joinAnd(items), p.Environment)
	}
	if len(t) > maxTitleLength {
		verb := map[Kind]string{Register: "Register", Promote: "Promote", Rollback: "Roll back"}[p.Kind]
		t = fmt.Sprintf("%s %d models in %s", verb, len(p.Moves), p.Environment)
	}
	return t
}

// joinAnd joins items as "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// commitMessage is the title, one line per move, and the trailers.
func commitMessage(p *Plan) string {
	var b strings.Builder
	b.WriteString(p.Title)
	b.WriteString("\n\n")
	if p.Reverts > 0 {
		fmt.Fprintf(&b, "Rolls back pull request #%d.\n", p.Reverts)
	}
	for _, m := range p.Moves {
		b.WriteString(moveSentence(p.Kind, m))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	trailer := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	trailer(TrailerAction, string(p.Kind))
	for _, m := range p.Moves {
		trailer(TrailerModel, m.Model)
		trailer(TrailerVersion, m.Version)
		trailer(TrailerFrom, m.From)
		trailer(TrailerReplaces, m.Replaces)
	}
	trailer(TrailerTo, p.Environment)
	trailer(TrailerTicket, p.Ticket)
	return b.String()
}

// moveSentence says what happens to one model.
func moveSentence(kind Kind, m Move) string {
	var s string
	switch kind {
	case Register:
		s = fmt.Sprintf("%s %s is registered in %s with validation pending", m.Model, m.Version, m.Environment)
	case Rollback:
		s = fmt.Sprintf("%s in %s goes back to %s", m.Model, m.Environment, m.Version)
		if m.Restored != nil {
			s += fmt.Sprintf(", the manifest pinned on %s by %s", m.Restored.Since.UTC().Format("2006-01-02 15:04 UTC"), short(m.Restored.Commit))
		}
	default:
		s = fmt.Sprintf("%s %s is copied from %s to %s", m.Model, m.Version, m.From, m.Environment)
	}
	if m.Replaces != "" {
		s += fmt.Sprintf(", replacing %s", m.Replaces)
	}
	return s + "."
}

// onBehalfOfTrailers returns a Co-authored-by trailer for each login, with
// the GitHub no-reply address that maps back to the login, so that the
// policy engine counts them among the change's authors. Logins that are not
// valid GitHub logins are skipped rather than written into the message.
func onBehalfOfTrailers(logins []string) string {
	var b strings.Builder
	for _, l := range logins {
		if !gitrepo.ValidLogin(l) {
			continue
		}
		fmt.Fprintf(&b, "Co-authored-by: %s <%s@users.noreply.github.com>\n", l, l)
	}
	return b.String()
}
