// Package report renders audit records and pins as a table, JSON, CSV,
// Markdown or a self-contained HTML page with a timeline per environment.
// Every format is deterministic for the same input, so outputs can be
// compared with golden files and diffed between runs.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/example-org/promobot/internal/audit"
)

// Format is an output format.
type Format string

// The formats.
const (
	Table    Format = "table"
	JSON     Format = "json"
	CSV      Format = "csv"
	Markdown Format = "markdown"
	HTML     Format = "html"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Table, JSON, CSV, Markdown, HTML:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: use table, json, csv, markdown or html", s)
}

// Source describes where the records come from.
type Source struct {
	// Repository names the repository, for example acme/models or a path.
	Repository string `json:"repository"`
	// Ref, Branch, Tip and TipTime come from the audit.History.
	Ref     string    `json:"ref"`
	Branch  string    `json:"branch,omitempty"`
	Tip     string    `json:"tip"`
	TipTime time.Time `json:"tipTime"`
	// Verified is true when the review fields come from GitHub.
	Verified bool `json:"verified"`
	// Filter describes the filters applied, for example "env=prod".
	Filter string `json:"filter,omitempty"`
	// JudgeFrom is where bypasses start being judged; changes before it
	// are shown as before judging. Nil when every change is judged.
	JudgeFrom *audit.JudgePoint `json:"judgeFrom,omitempty"`
	// CommitURL, when set, is the web address of the repository's commits
	// (https://github.com/OWNER/REPO/commit/); a commit id is appended to
	// link it.
	CommitURL string `json:"-"`
}

// commitLink returns the web address of a commit, empty when the
// repository's address is unknown.
func (s Source) commitLink(commit string) string {
	if s.CommitURL == "" || commit == "" {
		return ""
	}
	return s.CommitURL + commit
}

// History is the input of Records.
type History struct {
	Source
	// Environments is the promotion order, for the timeline.
	Environments []string
	// Records are the records to list, oldest first.
	Records []audit.Record
	// Timeline is the pins of the environments and models shown, for the
	// HTML timeline.
	Timeline []audit.Pin
}

// Pins is the input of PinsAt: the answer to "which version was pinned at
// a time, and who approved it?".
type Pins struct {
	Source
	// At describes the instant or day asked about, as given.
	At string `json:"at"`
	// From and To bound the window (equal for an instant).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Pins are the versions pinned during the window.
	Pins []audit.Pin `json:"pins"`
}

// Records writes the records in format f.
func Records(w io.Writer, f Format, h History) error {
	switch f {
	case JSON:
		return writeJSON(w, struct {
			Source
			Records []audit.Record `json:"records"`
		}{h.Source, nonNil(h.Records)})
	case CSV:
		return recordsCSV(w, h.Records, h.Source)
	case Markdown:
		return recordsMarkdown(w, h)
	case HTML:
		return recordsHTML(w, h)
	default:
		return recordsTable(w, h)
	}
}

// PinsAt writes the pins in format f.
func PinsAt(w io.Writer, f Format, p Pins) error {
	if p.Pins == nil {
		p.Pins = []audit.Pin{}
	}
	switch f {
	case JSON:
		return writeJSON(w, p)
	case CSV:
		return pinsCSV(w, p.Pins, p.Source)
	case Markdown:
		return pinsMarkdown(w, p)
	case HTML:
		return pinsHTML(w, p)
	default:
		return pinsTable(w, p)
	}
}

func nonNil(r []audit.Record) []audit.Record {
	if r == nil {
		return []audit.Record{}
	}
	return r
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// stamp formats a time for tables: minutes in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

func short(commit string) string {
	if len(commit) > 10 {
		return commit[:10]
	}
	return commit
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// change renders "from → to".
func change(r *audit.Record) string {
	switch r.Kind {
	case audit.KindDecommission:
		return dash(r.FromVersion) + " → (removed)"
	case audit.KindEdit:
		if len(r.ChangedFields) > 0 {
			return dash(r.ToVersion) + " (" + strings.Join(r.ChangedFields, ", ") + ")"
		}
		return dash(r.ToVersion)
	}
	if r.FromVersion == "" {
		return dash(r.ToVersion)
	}
	return r.FromVersion + " → " + dash(r.ToVersion)
}

func kind(r *audit.Record) string {
	if r.Kind == audit.KindPromote && r.PromotedFrom != "" {
		return "promote from " + r.PromotedFrom
	}
	return string(r.Kind)
}

func pullRequest(r *audit.Record) string {
	if r.PullRequest == nil {
		return "-"
	}
	s := "#" + strconv.Itoa(r.PullRequest.Number)
	if !r.Verified {
		s += "?"
	}
	return s
}

func approvers(r *audit.Record) string {
	if r.PullRequest == nil || len(r.PullRequest.Approvers) == 0 {
		return "-"
	}
	return strings.Join(r.PullRequest.Approvers, ", ")
}

func check(r *audit.Record) string {
	if r.PullRequest == nil {
		return "-"
	}
	return dash(r.PullRequest.Check)
}

// review is the one-word review status.
func review(r *audit.Record) string {
	switch {
	case r.BeforeJudging:
		return "before judging"
	case r.Verified && r.Bypass:
		return "BYPASS"
	case r.Verified:
		return "reviewed"
	case r.Bypass:
		return "BYPASS?"
	default:
		return "unverified"
	}
}

// oneLine keeps untrusted text (commit subjects, titles) on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func recordsTable(w io.Writer, h History) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tENV\tMODEL\tKIND\tVERSION\tCOMMIT\tINITIATOR\tMERGED BY\tPR\tAPPROVERS\tCHECK\tREVIEW\tTICKET\tRATIONALE")
	for i := range h.Records {
		r := &h.Records[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stamp(r.Time), oneLine(r.Environment), oneLine(r.Model), kind(r),
			oneLine(change(r)), short(r.Commit), oneLine(dash(r.Initiator())), oneLine(dash(r.Merger())), pullRequest(r), oneLine(approvers(r)), check(r), review(r),
			oneLine(dash(r.Ticket)), oneLine(dash(r.Rationale)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := judgingNote(w, h.JudgeFrom); err != nil {
		return err
	}
	return notes(w, h.Records, h.Verified)
}

// judgingText says from where bypasses are judged, empty when from the
// start.
func judgingText(p *audit.JudgePoint) string {
	if p == nil {
		return ""
	}
	if p.Commit != "" {
		return fmt.Sprintf("Bypasses are judged from commit %s (%s); earlier changes are shown as before judging.", short(p.Commit), stamp(p.Time))
	}
	return fmt.Sprintf("Bypasses are judged from %s; earlier changes are shown as before judging.", stamp(p.Time))
}

func judgingNote(w io.Writer, p *audit.JudgePoint) error {
	if p == nil {
		return nil
	}
	_, err := fmt.Fprintf(w, "\n%s\n", judgingText(p))
	return err
}

// unverifiedNote follows a report whose review status was not checked
// against GitHub.
const unverifiedNote = "Review status comes from commit messages only: run with --github to verify pull requests, approvals and the promobot check."

// notes lists the bypasses and problems below a table.
func notes(w io.Writer, records []audit.Record, verified bool) error {
	lines := noteLines(records)
	for i := range lines {
		lines[i] = oneLine(lines[i])
	}
	if len(lines) > 0 {
		if _, err := fmt.Fprintf(w, "\n%s\n", strings.Join(lines, "\n")); err != nil {
			return err
		}
	}
	if !verified && len(records) > 0 {
		_, err := fmt.Fprintln(w, "\n"+unverifiedNote)
		return err
	}
	return nil
}

// noteLines describes the bypasses and problems among records, one line each.
func noteLines(records []audit.Record) []string {
	var out []string
	for i := range records {
		r := &records[i]
		if r.Bypass {
			out = append(out, fmt.Sprintf("%s %s %s/%s: %s", review(r), short(r.Commit), r.Environment, r.Model, r.BypassReason))
		}
		if r.Problem != "" {
			out = append(out, fmt.Sprintf("PROBLEM %s %s: %s", short(r.Commit), r.Path, r.Problem))
		}
		if r.Rationale != "" {
			out = append(out, fmt.Sprintf("RATIONALE %s %s/%s: %s", short(r.Commit), r.Environment, r.Model, r.Rationale))
		}
		if x := r.MetricException; x != nil {
			out = append(out, fmt.Sprintf("EXCEPTION %s %s/%s: %s", short(r.Commit), r.Environment, r.Model, exceptionText(x)))
		}
	}
	return out
}

// exceptionText says which label overrode a change's metric gates and
// with whose approval.
func exceptionText(x *audit.MetricException) string {
	s := "metric gates overridden by the label " + x.Label
	sep := ", "
	if len(x.Gates) > 0 {
		s += ": " + gatesText(x)
		sep = "; "
	}
	if len(x.Approvers) > 0 {
		s += sep + "approved by " + strings.Join(x.Approvers, ", ")
	}
	return s
}

// gatesText lists the failed bounds an exception overrode, such as
// "r2 (min): candidate 0.63, bound 0.65".
func gatesText(x *audit.MetricException) string {
	out := make([]string, len(x.Gates))
	for i, g := range x.Gates {
		out[i] = g.String()
	}
	return strings.Join(out, "; ")
}

// exceptionCells are the CSV cells of a metric exception.
func exceptionCells(x *audit.MetricException) (label, approvers, gates string) {
	if x == nil {
		return "", "", ""
	}
	return x.Label, strings.Join(x.Approvers, " "), gatesText(x)
}

func pinsTable(w io.Writer, p Pins) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENV\tMODEL\tVERSION\tFROM\tUNTIL\tCOMMIT\tINITIATOR\tMERGED BY\tPR\tAPPROVERS\tCHECK\tREVIEW\tTICKET\tRATIONALE")
	for i := range p.Pins {
		pin := &p.Pins[i]
		r := &pin.Pinned
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", oneLine(pin.Environment), oneLine(pin.Model), oneLine(pin.Version),
			stamp(pin.From), untilText(pin), short(r.Commit), oneLine(dash(r.Initiator())), oneLine(dash(r.Merger())), pullRequest(r), oneLine(approvers(r)), check(r), review(r),
			oneLine(dash(r.Ticket)), oneLine(dash(r.Rationale)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Pins) == 0 {
		_, err := fmt.Fprintf(w, "Nothing was pinned %s.\n", p.At)
		return err
	}
	if err := judgingNote(w, p.JudgeFrom); err != nil {
		return err
	}
	return notes(w, audit.PinRecords(p.Pins), p.Verified)
}

func untilText(p *audit.Pin) string {
	if p.Until.IsZero() {
		return "(still pinned)"
	}
	return stamp(p.Until)
}

// csvSafe neutralizes cells a spreadsheet would run as a formula: commit
// subjects and titles are written by anyone who can push.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var recordColumns = []string{"time", "environment", "model", "path", "kind", "from_version", "to_version", "promoted_from",
	"artifact_sha256", "changed_fields", "commit", "subject", "author_name", "author_email", "author_time",
	"committer_name", "committer_email", "committer_time", "pr_number", "pr_title", "pr_author", "pr_url",
	"pr_merged_at", "pr_merged_by", "approvers", "check", "verified", "bypass", "bypass_reason", "problem",
	"initiator", "merger", "ticket", "rationale", "before_judging", "commit_url",
	"metric_exception_label", "metric_exception_approvers", "metric_exception_gates"}

func csvRow(r *audit.Record, s Source) []string {
	var pr audit.PullRequest
	number := ""
	if r.PullRequest != nil {
		pr = *r.PullRequest
		number = strconv.Itoa(pr.Number)
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	row := []string{ts(r.Time), r.Environment, r.Model, r.Path, string(r.Kind), r.FromVersion, r.ToVersion, r.PromotedFrom,
		r.ArtifactSHA256, strings.Join(r.ChangedFields, " "), r.Commit, r.Subject, r.Author.Name, r.Author.Email, ts(r.Author.Time),
		r.Committer.Name, r.Committer.Email, ts(r.Committer.Time), number, pr.Title, pr.Author, pr.URL,
		ts(pr.MergedAt), pr.MergedBy, strings.Join(pr.Approvers, " "), pr.Check, strconv.FormatBool(r.Verified),
		strconv.FormatBool(r.Bypass), r.BypassReason, r.Problem,
		r.Initiator(), r.Merger(), r.Ticket, r.Rationale, strconv.FormatBool(r.BeforeJudging), s.commitLink(r.Commit)}
	label, approvers, gates := exceptionCells(r.MetricException)
	row = append(row, label, approvers, gates)
	for i := range row {
		row[i] = csvSafe(row[i])
	}
	return row
}

func recordsCSV(w io.Writer, records []audit.Record, s Source) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(recordColumns); err != nil {
		return err
	}
	for i := range records {
		if err := cw.Write(csvRow(&records[i], s)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func pinsCSV(w io.Writer, pins []audit.Pin, s Source) error {
	cw := csv.NewWriter(w)
	head := append([]string{"pin_version", "pin_from", "pin_until", "pin_edits"}, recordColumns...)
	if err := cw.Write(head); err != nil {
		return err
	}
	for i := range pins {
		p := &pins[i]
		until := ""
		if !p.Until.IsZero() {
			until = p.Until.UTC().Format(time.RFC3339)
		}
		row := append([]string{csvSafe(p.Version), p.From.UTC().Format(time.RFC3339), until, strconv.Itoa(len(p.Edits))}, csvRow(&p.Pinned, s)...)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
