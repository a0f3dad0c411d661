package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/testing/chromiumtest"
)

// bootstrapHistory is a repository whose first commit imported many
// manifests at once, long before a handful of later changes, some of them
// on one day: proportional to wall time, the import would fill the bars.
func bootstrapHistory() History {
	start := time.Date(2024, 1, 10, 9, 0, 0, 0, time.UTC)
	var records []audit.Record
	commit := 0
	add := func(at time.Time, env, model, from, to string, kind audit.Kind, before, bypass bool) {
		commit++
		records = append(records, audit.Record{
			Time: at, Environment: env, Model: model, Path: "environments/" + env + "/" + model + ".yaml", Kind: kind,
			FromVersion: from, ToVersion: to, Commit: fmt.Sprintf("%040x", commit), Subject: "change",
			Author: audit.Person{Name: "Alice", Email: "alice@example.com", Time: at}, Committer: audit.Person{Name: "Bob", Email: "bob@example.com", Time: at},
			PullRequest: &audit.PullRequest{Number: commit, Author: "alice", MergedBy: "bob", Approvers: []string{"carol"}, Check: "success"},
			Verified:    true, Bypass: bypass, BeforeJudging: before, Ticket: "CHG-" + fmt.Sprint(1000+commit),
		})
	}
	models := []string{"elasticnet-ndx", "elasticnet-ndx-threshold", "lasso-spx", "ridge-dax"}
	for _, env := range []string{"dev", "test", "prod"} {
		for _, m := range models {
			add(start, env, m, "", "2024.01.05-1", audit.KindRegister, true, false)
		}
	}
	later := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	add(later, "dev", "lasso-spx", "2024.01.05-1", "2026.05.04-1", audit.KindRegister, false, false)
	add(later.Add(time.Hour), "dev", "ridge-dax", "2024.01.05-1", "2026.05.04-2", audit.KindRegister, false, false)
	add(later.Add(2*time.Hour), "test", "lasso-spx", "2024.01.05-1", "2026.05.04-1", audit.KindPromote, false, false)
	add(later.AddDate(0, 0, 1), "prod", "lasso-spx", "2024.01.05-1", "2026.05.04-1", audit.KindPromote, false, true)
	add(later.AddDate(0, 0, 1).Add(time.Minute), "prod", "lasso-spx", "2026.05.04-1", "2024.01.05-1", audit.KindRollback, false, false)
	add(later.AddDate(0, 2, 0), "dev", "elasticnet-ndx", "2024.01.05-1", "2026.07.04-11", audit.KindRegister, false, false)
	tip := later.AddDate(0, 2, 0)
	return History{
		Source:       Source{Repository: "acme/models", Ref: "refs/heads/main", Tip: records[len(records)-1].Commit, TipTime: tip, Verified: true},
		Environments: []string{"dev", "test", "prod"},
		Records:      records,
		Timeline:     audit.Timeline(records, audit.Filter{}),
	}
}

// measureTimeline reports, from the laid-out page, the width of every
// timeline segment, whether its label fits, every pair of axis labels of
// one environment that overlap, and an axis that does not start where its
// lanes' tracks do.
const measureTimeline = `
const out = {segments: [], overlaps: [], misaligned: []};
for (const s of document.querySelectorAll('.seg')) {
  const r = s.getBoundingClientRect();
  out.segments.push({version: s.textContent, width: r.width, fits: s.scrollWidth <= s.clientWidth + 1});
}
for (const axis of document.querySelectorAll('.axis')) {
  const spans = [...axis.querySelectorAll('span')].map(s => ({label: s.textContent, rect: s.getBoundingClientRect()}));
  spans.sort((a, b) => a.rect.left - b.rect.left);
  const track = axis.parentElement.querySelector('.track');
  if (track && spans.length && Math.abs(spans[0].rect.left - track.getBoundingClientRect().left) > 2) {
    out.misaligned.push(spans[0].label + " at " + spans[0].rect.left + " px, the track at " + track.getBoundingClientRect().left + " px");
  }
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].rect.left < spans[i-1].rect.right) out.overlaps.push(spans[i-1].label + " / " + spans[i].label);
  }
}
const pre = document.createElement('pre');
pre.id = 'measured';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
`

// TestTimelineInChromium lays the audit page out in headless Chromium and
// checks that every change has visible room with a readable label and that
// the axis labels do not overlap, keeping a screenshot.
func TestTimelineInChromium(t *testing.T) {
	browser := chromiumtest.Require(t)
	var page bytes.Buffer
	if err := Records(&page, HTML, bootstrapHistory()); err != nil {
		t.Fatal(err)
	}
	const width, height = 1280, 900
	var got struct {
		Segments []struct {
			Version string
			Width   float64
			Fits    bool
		}
		Overlaps   []string
		Misaligned []string
	}
	raw := browser.Measure(t, page.String(), measureTimeline, width, height)
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if want := len(bootstrapHistory().Timeline); len(got.Segments) != want {
		t.Errorf("%d segments laid out, want %d", len(got.Segments), want)
	}
	for _, s := range got.Segments {
		if s.Width < 8 {
			t.Errorf("segment %s is %.1f px wide, want at least 8", s.Version, s.Width)
		}
		if !s.Fits {
			t.Errorf("the label %s does not fit its segment (%.1f px)", s.Version, s.Width)
		}
	}
	for _, o := range got.Overlaps {
		t.Errorf("axis labels overlap: %s", o)
	}
	for _, m := range got.Misaligned {
		t.Errorf("the axis does not start where the lanes do: %s", m)
	}
	shot := browser.Screenshot(t, page.String(), "audit-timeline.png", width, height)
	t.Logf("screenshot: %s", shot)
}
