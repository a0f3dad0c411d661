package driftmonitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/example-org/promobot/internal/accessreview"
	"github.com/example-org/promobot/internal/bot/accessreviewissue"
	"github.com/example-org/promobot/internal/bot/driftmonitor"
	"github.com/example-org/promobot/internal/bot/keptissue"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/githubtest"
)

var repo = keptissue.Repo{Owner: "example-org", Name: "models"}

func client(t *testing.T) (*githubtest.Emulator, *githubapi.Client) {
	t.Helper()
	f := githubtest.NewFixture(t, githubtest.Config{})
	f.AddRepo(t, repo.Owner, repo.Name, "main")
	f.Emulator.AddInstallation(1, repo.Owner, repo.String())
	tok, err := f.Emulator.InstallationToken(1)
	if err != nil {
		t.Fatal(err)
	}
	apps, err := githubapi.New(githubapi.Config{BaseURL: f.URL(), Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	c, err := apps.Client()
	if err != nil {
		t.Fatal(err)
	}
	return f.Emulator, c
}

// TestMonitorExportsAndKeepsOneIssue runs the monitor three times: no
// drift (no issue), drift (one issue, gauges set), drift gone (the same
// issue says so, gauges cleared).
func TestMonitorExportsAndKeepsOneIssue(t *testing.T) {
	em, gh := client(t)
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	results := []drift.Result{
		{Now: now},
		{Now: now, Jobs: []drift.Load{{Job: "scoring-prod-1"}}, Findings: []drift.Finding{
			{Kind: drift.KindNotPinned, Job: "scoring-prod-1", Environment: "prod", Model: "elasticnet-ndx", Loaded: "1.4.0", Pinned: "1.5.0", At: now, Message: "Job scoring-prod-1 loaded elasticnet-ndx 1.4.0 in prod."},
		}},
		{Now: now.Add(time.Hour)},
	}
	pass := 0
	reg := prometheus.NewRegistry()
	m := &driftmonitor.Monitor{
		Compare: func(context.Context, keptissue.Repo) (drift.Result, error) { r := results[pass]; pass++; return r, nil },
		Metrics: driftmonitor.NewMetrics(reg), Issues: gh,
	}
	wantIssues := []int{0, 1, 1}
	for i := range results {
		if err := m.Run(t.Context(), repo); err != nil {
			t.Fatal(err)
		}
		issues := em.Issues(repo.Owner, repo.Name)
		if len(issues) != wantIssues[i] {
			t.Fatalf("pass %d: %d issues, want %d", i, len(issues), wantIssues[i])
		}
		got := testutil.ToFloat64(m.Metrics.Findings().WithLabelValues(repo.String(), "not-pinned", "prod", "elasticnet-ndx"))
		if want := map[int]float64{0: 0, 1: 1, 2: 0}[i]; got != want {
			t.Errorf("pass %d: promobot_drift_findings = %v, want %v", i, got, want)
		}
	}
	if body := em.Issues(repo.Owner, repo.Name)[0].Body; !strings.Contains(body, "No drift.") {
		t.Errorf("the kept issue does not say the drift is gone:\n%s", body)
	}
}

// TestAccessReviewIssue keeps one access-review issue across passes.
func TestAccessReviewIssue(t *testing.T) {
	em, gh := client(t)
	rep := accessreview.Report{Repository: repo.String(), Findings: []accessreview.Finding{
		{Kind: accessreview.KindGateUnsatisfiable, Severity: accessreview.SeverityError, Message: "environments/prod/elasticnet-ndx.yaml needs 2 approvals but only 1 eligible code owners exist (heidi)."},
	}, Unsatisfiable: true}
	j := &accessreviewissue.Job{Review: func(context.Context, keptissue.Repo) (accessreview.Report, error) { return rep, nil }, Issues: gh}
	for range 2 {
		if err := j.Run(t.Context(), repo); err != nil {
			t.Fatal(err)
		}
	}
	rep.Findings[0].Message = "environments/prod/elasticnet-ndx.yaml needs 2 approvals but only 0 eligible code owners exist."
	if err := j.Run(t.Context(), repo); err != nil {
		t.Fatal(err)
	}
	issues := em.Issues(repo.Owner, repo.Name)
	if len(issues) != 1 || issues[0].Title != accessreviewissue.Title || !strings.Contains(issues[0].Body, "only 0 eligible") {
		t.Fatalf("issues = %+v; want one kept issue with the latest findings", issues)
	}
}
