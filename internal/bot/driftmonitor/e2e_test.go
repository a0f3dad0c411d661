package driftmonitor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/driftmonitor"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/drift"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/testing/bottest"
	"github.com/example-org/promobot/internal/testing/evaltest"
)

var _ driftmonitor.API = (*githubapi.Client)(nil)

// withDrift is a bot with the drift monitor on, as promobot serve
// --drift-reports file:DIR (and --drift-issue) builds it, on the harness's
// clock, registered on the bot's metrics.
func withDrift(store drift.Store, issue bool) bottest.Options {
	return bottest.Options{Features: func(env bottest.Env) []bot.Feature {
		f, err := driftmonitor.New(driftmonitor.Options{
			Client:     func(id int64) (driftmonitor.API, error) { return env.Apps.Installation(id) },
			BotLogin:   env.Apps.BotLogin,
			Workspaces: workspace.NewSet(env.WorkDir),
			Store:      store,
			Metrics:    driftmonitor.NewMetrics(env.Metrics.Registry()),
			Issue:      issue,
			Clock:      env.Timers.Now,
		})
		if err != nil {
			panic(err)
		}
		return []bot.Feature{f}
	}}
}

// reports is a file: store in which scoring-prod-1 reports loading the
// forecaster's previous version in prod an hour before the harness's clock,
// eleven days after the sample history moved prod on, and a job of another
// repository reports a version never pinned in this one.
func reports(t *testing.T) drift.Store {
	t.Helper()
	store, err := drift.Open("file:"+t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := bottest.NewFakeTimers().Now().Add(-time.Hour)
	for _, l := range []drift.Load{
		{Repository: bottest.Owner + "/" + bottest.Repo, Environment: "prod", Model: evaltest.Forecaster, Version: evaltest.V0,
			Verified: true, Attestation: "verified", Job: "scoring-prod-1", Time: at},
		{Repository: "other-org/models", Environment: "prod", Model: evaltest.Forecaster, Version: "9.9.9",
			Verified: true, Attestation: "verified", Job: "scoring-other", Time: at},
	} {
		if err := store.Append(t.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// TestDriftFeature runs the monitor in the bot: the drift is exported on
// /metrics with or without the issue; with --drift-issue one issue is
// opened and kept, not duplicated, at the next comparison.
func TestDriftFeature(t *testing.T) {
	finding := `promobot_drift_findings{environment="prod",kind="not-pinned",model="` + evaltest.Forecaster + `",repository="example-org/models"} 1`
	for _, issue := range []bool{false, true} {
		t.Run(map[bool]string{false: "metrics only", true: "with the issue"}[issue], func(t *testing.T) {
			h := bottest.New(t, withDrift(reports(t), issue))
			h.Resync(false)
			metricsText := h.Get("/metrics")
			for _, line := range []string{finding, `promobot_drift_jobs{repository="example-org/models"} 1`, `promobot_drift_last_success_timestamp_seconds{repository="example-org/models"}`} {
				if !strings.Contains(metricsText, line) {
					t.Errorf("/metrics lacks %s", line)
				}
			}
			if strings.Contains(metricsText, "scoring-other") || strings.Contains(metricsText, "never-pinned") {
				t.Errorf("another repository's report counts:\n%s", metricsText)
			}
			want := 0
			if issue {
				want = 1
			}
			issues := h.BotIssues()
			if len(issues) != want {
				t.Fatalf("%d drift issues, want %d", len(issues), want)
			}
			if !issue {
				return
			}
			if issues[0].Title != driftmonitor.Title || !strings.Contains(issues[0].Body, "scoring-prod-1") {
				t.Errorf("the issue does not report the job:\n%s: %s", issues[0].Title, issues[0].Body)
			}
			h.Timers.Fire(driftmonitor.DefaultInterval)
			h.Resync(false)
			if again := h.BotIssues(); len(again) != 1 || again[0].Number != issues[0].Number {
				t.Errorf("the second comparison did not keep the one issue: %+v", again)
			}
		})
	}
}
