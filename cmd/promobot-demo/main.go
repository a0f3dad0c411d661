// Command promobot-demo plays promobot's whole story on one machine: it
// starts Azurite, a git server and a GitHub emulator on loopback, runs the
// promobot binary as the GitHub App, registers and promotes an ElasticNet
// model through dev, test and prod with owner reviews, lets a scoring job
// resolve it, tampers with the blob, and ends with the audit trail.
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
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	err := demo.Run(ctx, demo.Options{Promobot: *promobot, Out: *out, Dir: ".", Log: os.Stdout})
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}
