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
	// AxisWidth is the least width of the timeline's axis in pixels, so
	// that every change has room; the page scrolls sideways beyond it.
	AxisWidth    int
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
	d.Environments, d.Ticks, d.AxisWidth = timeline(h)
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

// slotWidth is the least width, in pixels, of one change on the timeline:
// room for a version or a date label.
const slotWidth = 84

// timeline lays out the pins of each environment as segments on a shared
// ordinal axis: every instant at which some shown pin starts is one slot of
// equal width, whatever the wall time between them, so that a bootstrap
// import does not crowd out the changes after it. A pin spans the slots
// from its start to the next change of its manifest; one still in force
// runs to the end. It returns the lanes, the axis labels and the axis's
// least width in pixels.
func timeline(h History) ([]envLanes, []tick, int) {
	if len(h.Timeline) == 0 {
		return nil, nil, 0
	}
	var instants []time.Time
	for _, p := range h.Timeline {
		instants = append(instants, p.From.UTC())
	}
	slices.SortFunc(instants, func(a, b time.Time) int { return a.Compare(b) })
	instants = slices.CompactFunc(instants, func(a, b time.Time) bool { return a.Equal(b) })
	slots := len(instants)
	// slot returns the index of the first instant at or after t.
	slot := func(t time.Time) int {
		i, _ := slices.BinarySearchFunc(instants, t, func(a, b time.Time) int { return a.Compare(b) })
		return i
	}
	pos := func(i int) float64 { return round(100 * float64(i) / float64(slots)) }
	byEnv := map[string]map[string][]segment{}
	for _, p := range h.Timeline {
		from, until := slot(p.From), slots
		if !p.Until.IsZero() {
			until = max(slot(p.Until), from+1)
		}
		r := &p.Pinned
		title := fmt.Sprintf("%s %s in %s\n%s → %s\ninitiated by %s, merged by %s (%s)", p.Model, p.Version, p.Environment, stamp(p.From), untilText(&p),
			dash(r.Initiator()), dash(r.Merger()), short(r.Commit))
		if r.PullRequest != nil {
			title += fmt.Sprintf("\nPR %s, approved by %s, check %s", pullRequest(r), approvers(r), check(r))
		}
		if r.Ticket != "" {
			title += "\nticket " + r.Ticket
		}
		switch {
		case r.BeforeJudging:
			title += "\nbefore judging"
		case r.Bypass:
			title += "\n" + review(r) + ": " + r.BypassReason
		}
		if byEnv[p.Environment] == nil {
			byEnv[p.Environment] = map[string][]segment{}
		}
		byEnv[p.Environment][p.Model] = append(byEnv[p.Environment][p.Model], segment{
			Left: pos(from), Width: round(pos(until) - pos(from)), Class: cssClass(r), Version: p.Version, Title: title,
		})
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
	return out, ticks(instants, pos), slots * slotWidth
}

// ticks labels the slots with their date, once per day: a slot whose day
// is the previous label's gets none, so labels are at least a slot apart.
func ticks(instants []time.Time, pos func(int) float64) []tick {
	var out []tick
	last := ""
	for i, t := range instants {
		label := t.Format(time.DateOnly)
		if label == last {
			continue
		}
		last = label
		out = append(out, tick{Left: pos(i), Label: label})
	}
	return out
}

func round(f float64) float64 {
	return float64(int64(f*100+0.5)) / 100
}
