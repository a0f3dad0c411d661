package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"time"

	"github.com/example-org/promobot/internal/audit"
)

//go:embed page.html.tmpl
var pageSource string

// page is parsed once; html/template escapes every value by context.
var page = template.Must(template.New("page").Parse(pageSource))

type pageData struct {
	Title        string
	Source       Source
	Tip, TipTime string
	Ticks        []tick
	Environments []envLanes
	AtMode       bool
	At           string
	Pins         []pinRow
	Records      []recordRow
	Notes        []string
	Judging      string
}

type tick struct {
	Left  float64
	Label string
}

type envLanes struct {
	Name  string
	Lanes []lane
}

type lane struct {
	Model    string
	Segments []segment
}

type segment struct {
	Left, Width float64
	Class       string
	Version     string
	Title       string
}

type recordRow struct {
	Time, Environment, Model, Kind, Version, Commit, CommitURL, Subject, Initiator, Merger, PR, URL, Approvers, Check, Review string
	Ticket, Rationale                                                                                                         string
	Flag, Before                                                                                                              bool
}

type pinRow struct {
	Environment, Model, Version, From, Until, Commit, CommitURL, Initiator, Merger, PR, Approvers, Check, Review string
	Ticket, Rationale                                                                                            string
	Flag, Before                                                                                                 bool
}

func cssClass(r *audit.Record) string {
	switch {
	case r.BeforeJudging:
		return "before"
	case r.Verified && r.Bypass:
		return "bypass"
	case r.Verified:
		return "reviewed"
	case r.Bypass:
		return "suspect"
	}
	return "unverified"
}

// webURL keeps only http(s) links to pull requests.
func webURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.String()
}

func newRecordRow(r *audit.Record, s Source) recordRow {
	row := recordRow{
		Time: stamp(r.Time), Environment: r.Environment, Model: r.Model, Kind: kind(r), Version: change(r),
		Commit: short(r.Commit), CommitURL: webURL(s.commitLink(r.Commit)), Subject: r.Subject,
		Initiator: dash(r.Initiator()), Merger: dash(r.Merger()), PR: pullRequest(r),
		Approvers: approvers(r), Check: check(r), Review: review(r), Flag: r.Bypass, Before: r.BeforeJudging,
		Ticket: dash(r.Ticket), Rationale: dash(r.Rationale),
	}
	if r.PullRequest != nil && r.Verified {
		row.URL = webURL(r.PullRequest.URL)
	}
	return row
}

func basePage(title string, s Source) pageData {
	return pageData{Title: title, Source: s, Tip: short(s.Tip), TipTime: stamp(s.TipTime), Judging: judgingText(s.JudgeFrom)}
}

func recordsHTML(w io.Writer, h History) error {
	d := basePage("Promotion audit", h.Source)
	d.Environments, d.Ticks = timeline(h)
	for i := range h.Records {
		d.Records = append(d.Records, newRecordRow(&h.Records[i], h.Source))
	}
	d.Notes = noteLines(h.Records)
	return page.Execute(w, d)
}

func pinsHTML(w io.Writer, p Pins) error {
	d := basePage("Pinned "+p.At, p.Source)
	d.AtMode, d.At = true, p.At
	for i := range p.Pins {
		pin := &p.Pins[i]
		r := &pin.Pinned
		d.Pins = append(d.Pins, pinRow{
			Environment: pin.Environment, Model: pin.Model, Version: pin.Version, From: stamp(pin.From), Until: untilText(pin),
			Commit: short(r.Commit), CommitURL: webURL(p.Source.commitLink(r.Commit)), Initiator: dash(r.Initiator()), Merger: dash(r.Merger()),
			PR: pullRequest(r), Approvers: approvers(r), Check: check(r), Review: review(r), Flag: r.Bypass, Before: r.BeforeJudging,
			Ticket: dash(r.Ticket), Rationale: dash(r.Rationale),
		})
	}
	d.Notes = noteLines(audit.PinRecords(p.Pins))
	return page.Execute(w, d)
}

// timeline lays out the pins of each environment as segments on a shared
// time axis from the first pin to the tip.
func timeline(h History) ([]envLanes, []tick) {
	if len(h.Timeline) == 0 {
		return nil, nil
	}
	start, end := h.Timeline[0].From, h.TipTime
	for _, p := range h.Timeline {
		if p.From.Before(start) {
			start = p.From
		}
		if p.From.After(end) {
			end = p.From
		}
		if p.Until.After(end) {
			end = p.Until
		}
	}
	span := end.Sub(start)
	if span <= 0 {
		span = time.Hour
	}
	// Leave room after the tip so a version pinned by the last commit shows.
	end = end.Add(span / 30)
	span = end.Sub(start)
	pos := func(t time.Time) float64 { return round(100 * float64(t.Sub(start)) / float64(span)) }
	byEnv := map[string]map[string][]segment{}
	for _, p := range h.Timeline {
		until := p.Until
		if until.IsZero() {
			until = end
		}
		left := pos(p.From)
		width := max(round(pos(until)-left), 0.4)
		left = min(left, round(100-width))
		r := &p.Pinned
		title := fmt.Sprintf("%s %s in %s\n%s → %s\npinned by %s (%s)", p.Model, p.Version, p.Environment, stamp(p.From), untilText(&p), short(r.Commit), r.Author.Name)
		if r.PullRequest != nil {
			title += fmt.Sprintf("\nPR %s, approved by %s, check %s", pullRequest(r), approvers(r), check(r))
		}
		if r.Bypass {
			title += "\n" + review(r) + ": " + r.BypassReason
		}
		if byEnv[p.Environment] == nil {
			byEnv[p.Environment] = map[string][]segment{}
		}
		byEnv[p.Environment][p.Model] = append(byEnv[p.Environment][p.Model], segment{Left: left, Width: width, Class: cssClass(r), Version: p.Version, Title: title})
	}
	var out []envLanes
	names := append([]string(nil), h.Environments...)
	for env := range byEnv {
		if !slices.Contains(names, env) {
			names = append(names, env)
		}
	}
	for _, env := range names {
		models := byEnv[env]
		if models == nil {
			continue
		}
		e := envLanes{Name: env}
		keys := make([]string, 0, len(models))
		for m := range models {
			keys = append(keys, m)
		}
		slices.Sort(keys)
		for _, m := range keys {
			e.Lanes = append(e.Lanes, lane{Model: m, Segments: models[m]})
		}
		out = append(out, e)
	}
	return out, ticks(start, end, pos)
}

// ticks marks the first day of each month (or each week, for short spans).
func ticks(start, end time.Time, pos func(time.Time) float64) []tick {
	var out []tick
	step := func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	first := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	layout := "2006-01"
	if end.Sub(start) < 45*24*time.Hour {
		step = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
		first = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
		layout = "2006-01-02"
	}
	for t := first; !t.After(end) && len(out) < 60; t = step(t) {
		if t.Before(start) {
			continue
		}
		out = append(out, tick{Left: pos(t), Label: t.Format(layout)})
	}
	return out
}

func round(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}
