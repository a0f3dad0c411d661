package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/example-org/promobot/internal/audit"
)

// md escapes untrusted text for a Markdown table cell.
func md(s string) string { return audit.MarkdownText(s) }

func mdSource(w io.Writer, title string, s Source) {
	fmt.Fprintf(w, "# %s\n\n", md(title))
	fmt.Fprintf(w, "Repository %s, %s at `%s` (%s)", md(s.Repository), md(s.Ref), short(s.Tip), stamp(s.TipTime))
	if s.Filter != "" {
		fmt.Fprintf(w, ", filtered by %s", md(s.Filter))
	}
	fmt.Fprint(w, ".\n\n")
	if t := judgingText(s.JudgeFrom); t != "" {
		fmt.Fprintf(w, "%s\n\n", md(t))
	}
}

// mdCommit renders a short commit id as code, linked to the commit when the
// repository's address is known.
func mdCommit(s Source, commit string) string {
	c := "`" + short(commit) + "`"
	if link := s.commitLink(commit); link != "" {
		return "[" + c + "](" + link + ")"
	}
	return c
}

// mdCode renders a value as inline code so that it does not wrap, or a
// dash when it is empty.
func mdCode(s string) string {
	if s == "" || s == "-" {
		return "-"
	}
	return "`" + strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ").Replace(s) + "`"
}

func recordsMarkdown(w io.Writer, h History) error {
	mdSource(w, "Promotion audit", h.Source)
	if len(h.Records) == 0 {
		_, err := fmt.Fprintln(w, "No manifest changes.")
		return err
	}
	fmt.Fprintln(w, "| Time | Environment | Model | Kind | Version | Commit | Initiator | Merged by | PR | Approvers | Check | Review | Ticket | Rationale |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for i := range h.Records {
		r := &h.Records[i]
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", stamp(r.Time), md(r.Environment), md(r.Model),
			md(kind(r)), mdChange(r), mdCommit(h.Source, r.Commit), md(dash(r.Initiator())), md(dash(r.Merger())), md(pullRequest(r)), md(approvers(r)), md(check(r)), reviewMD(r),
			mdCode(r.Ticket), md(dash(r.Rationale)))
	}
	return mdNotes(w, h.Records, h.Verified)
}

// mdChange renders a record's version change with the versions as inline
// code, so that they do not wrap.
func mdChange(r *audit.Record) string {
	switch r.Kind {
	case audit.KindDecommission:
		return mdCode(r.FromVersion) + " → (removed)"
	case audit.KindEdit:
		if len(r.ChangedFields) > 0 {
			return mdCode(r.ToVersion) + " (" + md(strings.Join(r.ChangedFields, ", ")) + ")"
		}
		return mdCode(r.ToVersion)
	}
	if r.FromVersion == "" {
		return mdCode(r.ToVersion)
	}
	return mdCode(r.FromVersion) + " → " + mdCode(r.ToVersion)
}

func reviewMD(r *audit.Record) string {
	s := review(r)
	if r.Bypass {
		return "**" + s + "**"
	}
	return s
}

func mdNotes(w io.Writer, records []audit.Record, verified bool) error {
	var lines []string
	for i := range records {
		r := &records[i]
		if r.Bypass {
			lines = append(lines, fmt.Sprintf("- **%s** `%s` %s/%s: %s", review(r), short(r.Commit), md(r.Environment), md(r.Model), md(r.BypassReason)))
		}
		if r.Problem != "" {
			lines = append(lines, fmt.Sprintf("- **PROBLEM** `%s` %s: %s", short(r.Commit), md(r.Path), md(r.Problem)))
		}
		if r.Rationale != "" {
			lines = append(lines, fmt.Sprintf("- **RATIONALE** `%s` %s/%s: %s", short(r.Commit), md(r.Environment), md(r.Model), md(r.Rationale)))
		}
		if x := r.MetricException; x != nil {
			lines = append(lines, fmt.Sprintf("- **EXCEPTION** `%s` %s/%s: %s", short(r.Commit), md(r.Environment), md(r.Model), md(exceptionText(x))))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(w, "\n## Bypasses and problems\n\n%s\n", strings.Join(lines, "\n"))
	}
	if !verified && len(records) > 0 {
		fmt.Fprintf(w, "\n_%s_\n", unverifiedNote)
	}
	return nil
}

func pinsMarkdown(w io.Writer, p Pins) error {
	mdSource(w, "Pinned at "+p.At, p.Source)
	if len(p.Pins) == 0 {
		_, err := fmt.Fprintf(w, "Nothing was pinned %s.\n", md(p.At))
		return err
	}
	fmt.Fprintln(w, "| Environment | Model | Version | From | Until | Commit | Initiator | Merged by | PR | Approvers | Check | Review | Ticket | Rationale |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for i := range p.Pins {
		pin := &p.Pins[i]
		r := &pin.Pinned
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", md(pin.Environment), md(pin.Model), mdCode(pin.Version),
			stamp(pin.From), untilText(pin), mdCommit(p.Source, r.Commit), md(dash(r.Initiator())), md(dash(r.Merger())), md(pullRequest(r)), md(approvers(r)), md(check(r)), reviewMD(r),
			mdCode(r.Ticket), md(dash(r.Rationale)))
	}
	return mdNotes(w, audit.PinRecords(p.Pins), p.Verified)
}
