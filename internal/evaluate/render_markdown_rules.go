package evaluate

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
)

// approvalCountingNote says, under the approvals table, how approvals are
// counted: per person, so two members of one team count twice.
const approvalCountingNote = "Each approval counts one person: two approvals may come from members of the same team. " +
	"The pull request's author and the authors, committers and co-authors of its commits never count."

// writeVerdictLine writes the first line of the summary: the verdict and how
// many rules ended in each status. The title is not repeated, since GitHub
// shows it above the summary.
func writeVerdictLine(b *bytes.Buffer, r *Result) {
	counts := map[Status]int{}
	for _, rule := range r.Rules {
		counts[rule.Status]++
	}
	mark := "✅"
	if r.Verdict == VerdictFail {
		mark = "❌"
	}
	var parts []string
	for _, s := range []struct {
		status     Status
		one, other string
	}{
		{StatusFail, "rule fails", "rules fail"},
		{StatusWarn, "warning", "warnings"},
		{StatusPass, "passes", "pass"},
		{StatusSkip, "skipped", "skipped"},
	} {
		if n := counts[s.status]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, plural(n, s.one, s.other)))
		}
	}
	line := fmt.Sprintf("%s **%s**", mark, strings.ToUpper(r.Verdict.String()))
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	b.WriteString(line + "\n")
}

// writeAttention lists the failing and warning rules first, as a list rather
// than a table so that long messages wrap at spaces.
func writeAttention(b *bytes.Buffer, r *Result) {
	first := true
	for _, st := range []Status{StatusFail, StatusWarn} {
		for _, rule := range r.Rules {
			if rule.Status != st {
				continue
			}
			if first {
				b.WriteString("\n### Needs attention\n\n")
				first = false
			}
			where := ""
			if ref := fileRef(rule); ref != "" {
				where = " " + mdCode(ref)
			}
			fmt.Fprintf(b, "- %s **%s**%s: %s\n", statusMark[rule.Status], mdText(ruleName(rule)), where, mdProse(rule.Message))
		}
	}
}

// writePassingRules folds the passing and skipped rules into a details
// block; the compact form only counts them.
func writePassingRules(b *bytes.Buffer, r *Result, compact bool) {
	n := 0
	for _, rule := range r.Rules {
		if rule.Status == StatusPass || rule.Status == StatusSkip {
			n++
		}
	}
	if n == 0 {
		return
	}
	if compact {
		fmt.Fprintf(b, "\n%d passing or skipped rules are not shown here.\n", n)
		return
	}
	fmt.Fprintf(b, "\n<details>\n<summary>%d passing or skipped %s</summary>\n\n", n, plural(n, "rule", "rules"))
	b.WriteString("| | Rule | File | Message |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, rule := range r.Rules {
		if rule.Status != StatusPass && rule.Status != StatusSkip {
			continue
		}
		fmt.Fprintf(b, "| %s %s | %s | %s | %s |\n", statusMark[rule.Status], rule.Status, mdText(ruleName(rule)),
			mdCode(fileRef(rule)), mdProse(rule.Message))
	}
	b.WriteString("\n</details>\n")
}

// codeChange renders a version change with each version as inline code.
func codeChange(from, to string) string {
	switch {
	case from == "":
		return mdCode(to)
	case to == "":
		return mdCode(from) + " → (removed)"
	case from == to:
		return mdCode(to)
	}
	return mdCode(from) + " → " + mdCode(to)
}

// mdProse escapes a rule's message like mdText, but renders the words that
// must not wrap in the middle (versions, tickets, paths, owners, digests:
// any word holding a digit, a slash or an @ beside other characters) as
// inline code, keeping the punctuation around them outside.
func mdProse(s string) string {
	words := strings.Split(strings.NewReplacer("\r", " ", "\n", " ").Replace(s), " ")
	for i, w := range words {
		core := strings.TrimRight(strings.TrimLeft(w, "(\"'"), ",;:.)\"'")
		if !unbreakable(core) {
			words[i] = mdText(w)
			continue
		}
		at := strings.Index(w, core)
		words[i] = mdText(w[:at]) + mdCode(core) + mdText(w[at+len(core):])
	}
	return strings.Join(words, " ")
}

// unbreakable reports whether a word is a token a reader copies whole: it
// has a digit, slash or @ and a separator a browser may break at.
func unbreakable(w string) bool {
	if len(w) < 3 {
		return false
	}
	marked := strings.ContainsAny(w, "/@") || strings.IndexFunc(w, unicode.IsDigit) >= 0
	breaks := strings.ContainsAny(w, "-/.@_")
	return marked && breaks
}
