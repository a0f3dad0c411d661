package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/accessreviewissue"
	"github.com/example-org/promobot/internal/bot/driftmonitor"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
)

// checkGovernFlags checks the flags of the scheduled access review and
// drift monitor. Both run at resynchronization passes, so they need them.
func checkGovernFlags(e *env, f *serveFlags, bad func(string, ...any)) {
	if f.accessReviewIssue && f.resyncInterval == 0 {
		bad("--access-review-issue (PROMOBOT_ACCESS_REVIEW_ISSUE) runs at resynchronization passes: it needs --resync-interval")
	}
	if f.accessReviewInterval < time.Hour {
		bad("--access-review-interval (PROMOBOT_ACCESS_REVIEW_INTERVAL) must be at least 1h, not %s", f.accessReviewInterval)
	}
	if f.driftInterval < time.Minute {
		bad("--drift-interval (PROMOBOT_DRIFT_INTERVAL) must be at least 1m, not %s", f.driftInterval)
	}
	switch {
	case f.driftIssue && f.driftReports == "":
		bad("--drift-issue (PROMOBOT_DRIFT_ISSUE) needs --drift-reports (PROMOBOT_DRIFT_REPORTS)")
	case f.driftReports != "" && f.resyncInterval == 0:
		bad("--drift-reports (PROMOBOT_DRIFT_REPORTS) runs at resynchronization passes: it needs --resync-interval")
	case f.driftReports != "":
		// Open it once: an unknown scheme or missing Azure credentials stop
		// the start, not the first comparison.
		if _, err := openReportStore(e, f.driftReports); err != nil {
			bad("--drift-reports (PROMOBOT_DRIFT_REPORTS): %v", err)
		}
	}
}

// governFeatures builds the scheduled access review and the drift monitor
// the flags turn on; the drift metrics are registered on reg, the
// registry /metrics serves.
func governFeatures(e *env, f *serveFlags, apps *githubapi.Apps, workspaces *workspace.Set, reg prometheus.Registerer) ([]bot.Feature, error) {
	var features []bot.Feature
	if f.accessReviewIssue {
		review, err := accessreviewissue.New(accessreviewissue.Options{
			Client:     func(id int64) (accessreviewissue.API, error) { return apps.Installation(id) },
			BotLogin:   apps.BotLogin,
			Workspaces: workspaces,
			Interval:   f.accessReviewInterval,
		})
		if err != nil {
			return nil, err
		}
		features = append(features, review)
	}
	if f.driftReports != "" {
		store, err := openReportStore(e, f.driftReports)
		if err != nil {
			return nil, err
		}
		monitor, err := driftmonitor.New(driftmonitor.Options{
			Client:     func(id int64) (driftmonitor.API, error) { return apps.Installation(id) },
			BotLogin:   apps.BotLogin,
			Workspaces: workspaces,
			Store:      store,
			Metrics:    driftmonitor.NewMetrics(reg),
			Issue:      f.driftIssue,
			Interval:   f.driftInterval,
		})
		if err != nil {
			return nil, err
		}
		features = append(features, monitor)
	}
	return features, nil
}
