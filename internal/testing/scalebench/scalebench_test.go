package scalebench

import (
	"os"
	"strings"
	"testing"
	"time"
)

// modes returns the modes to run: PROMOBOT_SCALE_MODE=memory or azqueue
// picks one.
func modes() []Mode {
	switch m := Mode(os.Getenv("PROMOBOT_SCALE_MODE")); m {
	case ModeMemory, ModeQueue:
		return []Mode{m}
	}
	return []Mode{ModeMemory}
}

// TestScaleOut is the short run: three replicas, 100 deliveries, one kill.
// It asserts correctness only: every pull request carries its expected
// verdict and no check run is left in progress.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three promobot processes")
	}
	for _, mode := range modes() {
		t.Run(string(mode), func(t *testing.T) {
			res := Run(t, Options{
				Mode: mode, PullRequests: 10, Deliveries: 100, Rate: 25,
				Kills: 1, KillEvery: 2 * time.Second, Workers: 2, Settle: 90 * time.Second,
			})
			var table strings.Builder
			res.Table(&table)
			t.Log("\n" + table.String())
			if res.Correct != res.Options.PullRequests || res.InProgress != 0 {
				t.Errorf("%d of %d pull requests correct, %d left in progress", res.Correct, res.Options.PullRequests, res.InProgress)
			}
		})
	}
}

// BenchmarkScaleOut is the full run: three replicas on 100 open pull
// requests, 1,000 deliveries, a kill every 10 seconds. It runs once
// whatever b.N; see docs/development.md.
func BenchmarkScaleOut(b *testing.B) {
	for _, mode := range modes() {
		b.Run(string(mode), func(b *testing.B) {
			var res *Result
			for range b.N {
				res = Run(b, Options{Mode: mode, Deliveries: 1000, Rate: 20, Kills: 100, KillEvery: 10 * time.Second})
			}
			res.Table(os.Stdout)
			b.ReportMetric(float64(res.Correct), "correct-prs")
			b.ReportMetric(float64(res.InProgress), "in-progress")
			b.ReportMetric(float64(res.Duplicates), "duplicate-evals")
			b.ReportMetric(float64(res.Evaluations), "evals")
			b.ReportMetric(ms(res.Ack(0.50)), "ack-p50-ms")
			b.ReportMetric(ms(res.Ack(0.99)), "ack-p99-ms")
			b.ReportMetric(res.MaxRecovery().Seconds(), "recovery-max-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
