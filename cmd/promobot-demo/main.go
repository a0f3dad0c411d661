// Command promobot-demo plays promobot's whole story on one machine: it
// starts Azurite, a git server and a GitHub emulator on loopback, runs the
// promobot binary as the GitHub App, registers and promotes an ElasticNet
// model through dev, test and prod with owner reviews, lets a scoring job
// resolve it, tampers with the blob, ends with the audit trail and prints the
// dashboard's address (kept up with --keep-dashboard).
//
// It is what `make demo` runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/example-org/promobot/cmd/promobot-demo/internal/demo"
)

func main() {
	promobot := flag.String("promobot", "bin/promobot", "the promobot binary to run")
	out := flag.String("out", "demo-output", "folder for the check-run summaries, the audit page and the downloaded model")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long (not with --keep-dashboard, which runs until interrupted)")
	keep := flag.Bool("keep-dashboard", os.Getenv("PROMOBOT_DEMO_KEEP_DASHBOARD") == "1", "after the story, keep the dashboard (and the services behind it) up until interrupted; also PROMOBOT_DEMO_KEEP_DASHBOARD=1")
	flag.Parse()
	interrupted, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(interrupted, *timeout)
	opts := demo.Options{Promobot: *promobot, Out: *out, Dir: ".", Log: os.Stdout}
	if *keep {
		// A person is watching: no timeout, the run ends at the interrupt.
		cancel()
		ctx, cancel = context.WithCancel(interrupted)
		opts.KeepDashboard = interrupted.Done()
	}
	err := demo.Run(ctx, opts)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}
