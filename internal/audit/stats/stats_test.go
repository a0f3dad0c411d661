package stats_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/stats"
)

func TestCompute(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	rec := func(env string, kind audit.Kind, version string, hours int) audit.Record {
		return audit.Record{Environment: env, Model: "elasticnet-ndx", Kind: kind, ToVersion: version, Time: t0.Add(time.Duration(hours) * time.Hour),
			PullRequest: &audit.PullRequest{Number: hours + 1, Approvers: []string{"bob"}}}
	}
	records := []audit.Record{
		rec("dev", audit.KindRegister, "1.0.0", 0),
		rec("test", audit.KindPromote, "1.0.0", 24),
		rec("prod", audit.KindPromote, "1.0.0", 72),
		rec("dev", audit.KindRegister, "1.1.0", 100),
		rec("test", audit.KindPromote, "1.1.0", 110),
		rec("prod", audit.KindPromote, "1.1.0", 200),
		rec("prod", audit.KindRollback, "1.0.0", 210),
	}
	records[6].Bypass = true
	records[5].Freeze = &audit.Freeze{Window: "year-end close", Overridden: true}
	wait := func(r audit.Record) (time.Duration, bool) { return 2 * time.Hour, r.Environment == "prod" }
	rep := stats.Compute(records, audit.Filter{}, []string{"dev", "test", "prod"}, wait, stats.DefaultExceptions)
	if len(rep.Rows) != 3 || rep.Rows[2].Environment != "prod" {
		t.Fatalf("rows = %+v", rep.Rows)
	}
	prod := rep.Rows[2]
	if prod.Promotions != 2 || prod.Rollbacks != 1 || prod.RollbackRate != 0.33 || prod.Bypasses != 1 || prod.Exceptions["freeze"] != 1 {
		t.Errorf("prod = %+v", prod)
	}
	if *prod.LeadTimeMedianHours != 86 || *prod.LeadTimeMaxHours != 100 {
		t.Errorf("prod lead time median %v max %v, want 86 and 100 hours", *prod.LeadTimeMedianHours, *prod.LeadTimeMaxHours)
	}
	if prod.ReviewWaits != 3 || *prod.ReviewWaitMedianHours != 2 {
		t.Errorf("prod review wait = %d, %v", prod.ReviewWaits, prod.ReviewWaitMedianHours)
	}
	for _, format := range stats.Formats {
		var b bytes.Buffer
		if err := stats.Write(&b, format, rep); err != nil || !strings.Contains(b.String(), "elasticnet-ndx") {
			t.Errorf("%s: %v\n%s", format, err, b.String())
		}
	}
	if err := stats.Write(&bytes.Buffer{}, "html", rep); err == nil {
		t.Error("html was accepted")
	}
}
