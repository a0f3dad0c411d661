// Command promobot gates the promotion of ML model versions through a GitOps
// repository: it validates environment manifests, evaluates promotion pull
// requests against the policy, serves as a GitHub App, opens promotion PRs,
// verifies artifacts for scoring jobs and rebuilds the audit trail.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes shared by every subcommand.
const (
	exitOK       = 0
	exitFailed   = 1 // the check ran and said no
	exitUsage    = 2 // bad flags, bad config or an internal error
	versionUnset = "dev"
)

// version is stamped by the Makefile with -ldflags.
var version = versionUnset

// exitError carries an exit code out of a command. Its message, when not
// empty, is printed on stderr.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// failed returns an error that exits with code 1 after printing nothing more.
func failed() error { return &exitError{code: exitFailed} }

// usageError returns an error that exits with code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// env is how commands read the environment: injected so tests control it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	getwd  func() (string, error)
}

func newRootCommand(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "promobot",
		Short:         "GitOps promotion of ML models with evidence",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	for _, add := range subcommands {
		root.AddCommand(add(e))
	}
	return root
}

// subcommands are registered by each command's file in init.
var subcommands []func(*env) *cobra.Command

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, e *env) int {
	root := newRootCommand(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(e.stderr, "promobot:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors (unknown flags, wrong arguments) are usage errors.
	fmt.Fprintln(e.stderr, "promobot:", err)
	return exitUsage
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, getwd: os.Getwd})
	stop()
	os.Exit(code)
}
