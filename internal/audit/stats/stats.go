// Package stats computes delivery metrics from the promotion history: per
// model and environment, lead time from registration to the pin, promotion
// frequency, rollbacks and their rate, review wait, bypasses and the
// exceptions granted. It is pure: records in, rows out.
package stats

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/example-org/promobot/internal/audit"
)

// Exception says whether a change was let through by an exception, and
// which: the key the report counts it under.
type Exception func(r audit.Record) (kind string, granted bool)

// FreezeOverride counts changes that went through a freeze window with its
// override label.
func FreezeOverride(r audit.Record) (string, bool) {
	return "freeze", r.Freeze != nil && r.Freeze.Overridden
}

// MetricGateException counts changes whose failing metric gates the
// environment's exception label let through.
func MetricGateException(r audit.Record) (string, bool) {
	return "metric-gate", r.MetricException != nil
}

// DefaultExceptions are the exceptions the report counts. A new kind of
// exception is one more Exception here.
var DefaultExceptions = []Exception{FreezeOverride, MetricGateException}

// ReviewWait returns, for a change merged through a pull request, how long
// it waited from ready for review to the approval that satisfied its gate;
// false when unknown. Nil means review wait is not measured.
type ReviewWait func(r audit.Record) (time.Duration, bool)

// Row is the metrics of one model in one environment.
type Row struct {
	Model       string `json:"model"`
	Environment string `json:"environment"`
	// Promotions counts the versions pinned by registration or promotion.
	Promotions int `json:"promotions"`
	// PerWeek is Promotions per week of the period.
	PerWeek float64 `json:"promotionsPerWeek"`
	// LeadTime is the median and the longest time from a version's
	// registration merging to its pin here, in hours; nil without data.
	LeadTimeMedianHours *float64 `json:"leadTimeMedianHours"`
	LeadTimeMaxHours    *float64 `json:"leadTimeMaxHours"`
	// Rollbacks counts pins of a version pinned here before; RollbackRate
	// is Rollbacks over Promotions plus Rollbacks.
	Rollbacks    int     `json:"rollbacks"`
	RollbackRate float64 `json:"rollbackRate"`
	// ReviewWaitMedianHours is the median review wait, nil when not
	// measured; ReviewWaits counts the changes measured.
	ReviewWaitMedianHours *float64 `json:"reviewWaitMedianHours"`
	ReviewWaits           int      `json:"reviewWaits"`
	// Bypasses counts changes that did not come through a merged pull
	// request with a successful promobot check.
	Bypasses int `json:"bypasses"`
	// Exceptions counts changes let through by each kind of exception.
	Exceptions map[string]int `json:"exceptions"`
}

// Report is the metrics of a period.
type Report struct {
	// From and To bound the period: the filter's, else the first and last
	// change.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// ReviewWaitMeasured says whether review wait was measured (GitHub).
	ReviewWaitMeasured bool  `json:"reviewWaitMeasured"`
	Rows               []Row `json:"rows"`
}

// Compute computes the metrics of the records the filter keeps. records is
// the whole history, oldest first, so that a version's registration is
// found even before the period.
func Compute(records []audit.Record, f audit.Filter, envOrder []string, wait ReviewWait, exceptions []Exception) Report {
	registered := map[[2]string]time.Time{} // model, version → registration
	for _, r := range records {
		if r.Kind == audit.KindRegister && r.ToVersion != "" {
			k := [2]string{r.Model, r.ToVersion}
			if _, seen := registered[k]; !seen {
				registered[k] = r.Time
			}
		}
	}
	kept := f.Apply(records)
	rep := Report{From: f.Since, To: f.Until, ReviewWaitMeasured: wait != nil, Rows: []Row{}}
	if len(kept) > 0 {
		if rep.From.IsZero() {
			rep.From = kept[0].Time
		}
		if rep.To.IsZero() {
			rep.To = kept[len(kept)-1].Time
		}
	}
	weeks := rep.To.Sub(rep.From).Hours() / (24 * 7)
	if weeks < 1 {
		weeks = 1
	}
	type acc struct {
		row   Row
		leads []float64
		waits []float64
	}
	rows := map[[2]string]*acc{}
	for _, r := range kept {
		k := [2]string{r.Model, r.Environment}
		a := rows[k]
		if a == nil {
			a = &acc{row: Row{Model: r.Model, Environment: r.Environment, Exceptions: map[string]int{}}}
			rows[k] = a
		}
		switch r.Kind {
		case audit.KindRegister, audit.KindPromote:
			a.row.Promotions++
			if at, ok := registered[[2]string{r.Model, r.ToVersion}]; ok {
				a.leads = append(a.leads, r.Time.Sub(at).Hours())
			}
		case audit.KindRollback:
			a.row.Rollbacks++
		}
		if r.Bypass {
			a.row.Bypasses++
		}
		for _, ex := range exceptions {
			if kind, granted := ex(r); granted {
				a.row.Exceptions[kind]++
			}
		}
		if wait != nil && r.Kind != audit.KindEdit {
			if d, ok := wait(r); ok {
				a.waits = append(a.waits, d.Hours())
			}
		}
	}
	rank := func(env string) int {
		if i := slices.Index(envOrder, env); i >= 0 {
			return i
		}
		return len(envOrder)
	}
	for _, a := range rows {
		a.row.PerWeek = round(float64(a.row.Promotions) / weeks)
		if n := a.row.Promotions + a.row.Rollbacks; n > 0 {
			a.row.RollbackRate = round(float64(a.row.Rollbacks) / float64(n))
		}
		a.row.LeadTimeMedianHours, a.row.LeadTimeMaxHours = median(a.leads), maximum(a.leads)
		a.row.ReviewWaitMedianHours, a.row.ReviewWaits = median(a.waits), len(a.waits)
		rep.Rows = append(rep.Rows, a.row)
	}
	sort.Slice(rep.Rows, func(i, j int) bool {
		x, y := rep.Rows[i], rep.Rows[j]
		if x.Model != y.Model {
			return x.Model < y.Model
		}
		return rank(x.Environment) < rank(y.Environment)
	})
	return rep
}

func median(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	m = round(m)
	return &m
}

func maximum(v []float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	m := round(slices.Max(v))
	return &m
}

func round(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	return v
}

// Formats are the formats Write accepts.
var Formats = []string{"text", "json", "csv", "markdown"}

// Write renders the report in one of Formats.
func Write(w io.Writer, format string, r Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(header())
		for _, row := range r.Rows {
			_ = cw.Write(cells(row))
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		var b strings.Builder
		fmt.Fprintf(&b, "## Delivery metrics %s to %s\n\n", day(r.From), day(r.To))
		b.WriteString("| " + strings.Join(header(), " | ") + " |\n|" + strings.Repeat("---|", len(header())) + "\n")
		for _, row := range r.Rows {
			b.WriteString("| " + strings.Join(cells(row), " | ") + " |\n")
		}
		if !r.ReviewWaitMeasured {
			b.WriteString("\nReview wait needs --github-repo.\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "text":
		var b strings.Builder
		fmt.Fprintf(&b, "Delivery metrics %s to %s\n", day(r.From), day(r.To))
		for _, row := range r.Rows {
			c := cells(row)
			fmt.Fprintf(&b, "%s %s: promotions %s (%s/week), lead time median %sh max %sh, rollbacks %s (rate %s), review wait median %sh (%s measured), bypasses %s, exceptions %s\n",
				c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11])
		}
		if !r.ReviewWaitMeasured {
			b.WriteString("Review wait needs --github-repo.\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	return fmt.Errorf("unknown format %q: want %s", format, strings.Join(Formats, ", "))
}

func header() []string {
	return []string{"model", "environment", "promotions", "promotions_per_week", "lead_time_median_hours", "lead_time_max_hours", "rollbacks", "rollback_rate", "review_wait_median_hours", "review_waits", "bypasses", "exceptions"}
}

func cells(r Row) []string {
	num := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	var ex []string
	for _, k := range slices.Sorted(maps.Keys(r.Exceptions)) {
		ex = append(ex, fmt.Sprintf("%s=%d", k, r.Exceptions[k]))
	}
	exceptions := strings.Join(ex, " ")
	if exceptions == "" {
		exceptions = "none"
	}
	return []string{r.Model, r.Environment, strconv.Itoa(r.Promotions), strconv.FormatFloat(r.PerWeek, 'f', -1, 64), num(r.LeadTimeMedianHours), num(r.LeadTimeMaxHours),
		strconv.Itoa(r.Rollbacks), strconv.FormatFloat(r.RollbackRate, 'f', -1, 64), num(r.ReviewWaitMedianHours), strconv.Itoa(r.ReviewWaits), strconv.Itoa(r.Bypasses), exceptions}
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02")
}
