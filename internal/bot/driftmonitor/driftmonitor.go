// Package driftmonitor exports model-version drift (internal/drift) as
// Prometheus metrics and, opt-in, keeps one drift issue per repository up
// to date.
//
// Monitor.Run does one pass for one repository; Feature runs it at the
// bot's resynchronization passes, at most once per interval. The
// comparison is injected (Comparer).
package driftmonitor

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/example-org/promobot/internal/bot/keptissue"
	"github.com/example-org/promobot/internal/drift"
)

// Title is the title of the kept issue.
const Title = "promobot model-version drift"

// Comparer compares one repository's load reports with its pins.
type Comparer func(ctx context.Context, repo keptissue.Repo) (drift.Result, error)

// Metrics are the drift gauges.
type Metrics struct {
	findings *prometheus.GaugeVec
	jobs     *prometheus.GaugeVec
	lastRun  *prometheus.GaugeVec
}

// NewMetrics registers the drift metrics with reg:
//
//	promobot_drift_findings{repository,kind,environment,model}
//	promobot_drift_jobs{repository}
//	promobot_drift_last_success_timestamp_seconds{repository}
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "promobot_drift_findings", Help: "Drift findings of the last comparison, by kind, environment and model."}, []string{"repository", "kind", "environment", "model"}),
		jobs:     prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "promobot_drift_jobs", Help: "Job, environment and model combinations that reported a load in the compared period."}, []string{"repository"}),
		lastRun:  prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "promobot_drift_last_success_timestamp_seconds", Help: "When the last drift comparison of the repository succeeded."}, []string{"repository"}),
	}
	reg.MustRegister(m.findings, m.jobs, m.lastRun)
	return m
}

// Monitor compares and reports.
type Monitor struct {
	// Compare compares one repository.
	Compare Comparer
	// Metrics receive the findings; nil exports none.
	Metrics *Metrics
	// Issues, when set, keep a drift issue per repository (opt-in).
	Issues keptissue.Issues
	// Author is the bot's login: only its own issue is edited.
	Author string
	// Logger receives one line per pass; nil discards.
	Logger *slog.Logger
}

// Run compares repo once, sets the metrics and, with Issues, opens the
// drift issue on the first drift and keeps it current afterwards.
func (m *Monitor) Run(ctx context.Context, repo keptissue.Repo) error {
	res, err := m.Compare(ctx, repo)
	if err != nil {
		return err
	}
	if m.Metrics != nil {
		m.Metrics.findings.DeletePartialMatch(prometheus.Labels{"repository": repo.String()})
		for _, f := range res.Findings {
			m.Metrics.findings.WithLabelValues(repo.String(), string(f.Kind), f.Environment, f.Model).Inc()
		}
		m.Metrics.jobs.WithLabelValues(repo.String()).Set(float64(len(res.Jobs)))
		m.Metrics.lastRun.WithLabelValues(repo.String()).Set(float64(res.Now.Unix()))
	}
	number := 0
	if m.Issues != nil {
		body := drift.Markdown(res) + "\n\n<!-- promobot:drift -->\n"
		if number, err = keptissue.Keep(ctx, m.Issues, repo, m.Author, Title, body, res.Drift()); err != nil {
			return err
		}
	}
	m.logger().Info("drift", "repo", repo.String(), "findings", len(res.Findings), "issue", number)
	return nil
}

func (m *Monitor) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

// Findings returns the findings gauge, for tests and dashboards' checks.
func (m *Metrics) Findings() *prometheus.GaugeVec { return m.findings }
