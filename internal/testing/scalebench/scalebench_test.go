package scalebench

import (
	"os"
	"strings"
	"testing"
	"time"
)

// modes returns the modes to run with bin: PROMOBOT_SCALE_MODE=memory,
// leases or azqueue picks one, "all" every one; by default azqueue when
// bin's serve has --queue, else leases when it has --lease-container, else
// memory.
func modes(bin string) []Mode {
	switch m := os.Getenv("PROMOBOT_SCALE_MODE"); m {
	case string(ModeMemory), string(ModeLeases), string(ModeQueue):
		return []Mode{Mode(m)}
	case "all":
		return []Mode{ModeQueue, ModeLeases, ModeMemory}
	}
	switch {
	case ServeHasFlag(bin, "queue"):
		return []Mode{ModeQueue}
	case ServeHasFlag(bin, "lease-container"):
		return []Mode{ModeLeases}
	}
	return []Mode{ModeMemory}
}

// TestScaleOut is the short run: three replicas, 100 deliveries, one kill.
// It asserts correctness only: every pull request carries its expected
// verdict and no check run is left in progress on a head.
func TestScaleOut(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three promobot processes")
	}
	bin := Build(t, t.TempDir())
	for _, mode := range modes(bin) {
		t.Run(string(mode), func(t *testing.T) {
			opts := Options{
				Mode: mode, Binary: bin, PullRequests: 10, Deliveries: 100, Rate: 25,
				Kills: 1, KillEvery: 2 * time.Second, Workers: 2, Settle: 90 * time.Second,
			}
			if mode != ModeMemory {
				opts.Args = queueTestArgs(bin)
			}
			res := Run(t, opts)
			var table strings.Builder
			res.Table(&table)
			t.Log("\n" + table.String())
			if res.Correct != res.Options.PullRequests || res.InProgress != 0 {
				t.Errorf("%d of %d pull requests correct, %d left in progress", res.Correct, res.Options.PullRequests, res.InProgress)
			}
		})
	}
}

// queueTestArgs shortens the visibility timeout and the lease period, so
// that the short run recovers from its kill in seconds.
func queueTestArgs(bin string) []string {
	var args []string
	if ServeHasFlag(bin, "visibility-timeout") {
		args = append(args, "--visibility-timeout", "5s")
	}
	if ServeHasFlag(bin, "lease-period") {
		args = append(args, "--lease-period", "15s")
	}
	return args
}

// BenchmarkScaleOut is the full run: three replicas on 100 open pull
// requests, 1,000 deliveries, a kill every 10 seconds, with the default
// visibility timeout and lease period. It runs once whatever b.N; see
// docs/development.md.
func BenchmarkScaleOut(b *testing.B) {
	bin := Build(b, b.TempDir())
	for _, mode := range modes(bin) {
		b.Run(string(mode), func(b *testing.B) {
			var res *Result
			for range b.N {
				res = Run(b, Options{Mode: mode, Binary: bin, Deliveries: 1000, Rate: 20, Kills: 100, KillEvery: 10 * time.Second})
			}
			res.Table(os.Stdout)
			b.ReportMetric(float64(res.Correct), "correct-prs")
			b.ReportMetric(float64(res.InProgress), "in-progress")
			b.ReportMetric(float64(res.StaleInProgress), "stale-in-progress")
			b.ReportMetric(float64(res.Duplicates), "duplicate-evals")
			b.ReportMetric(float64(res.Evaluations), "evals")
			b.ReportMetric(ms(res.Ack(0.50)), "ack-p50-ms")
			b.ReportMetric(ms(res.Ack(0.99)), "ack-p99-ms")
			b.ReportMetric(res.MaxRecovery().Seconds(), "recovery-max-s")
			b.ReportMetric(res.MaxRecoveryAllWaiting().Seconds(), "recovery-all-waiting-max-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
