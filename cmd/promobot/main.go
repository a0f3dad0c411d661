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

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/artifact"
	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/githubapi/retry"
	"github.com/example-org/promobot/internal/progress"
)

// Exit codes shared by every subcommand. errorExitCode maps an error to
// one of them; README.md's exit-code table documents them.
const (
	exitOK          = 0
	exitFailed      = 1 // the answer is no: invalid, blocked, refused
	exitUsage       = 2 // bad flags or configuration, or an internal error
	exitNotFound    = 3 // unknown model, environment, version, revision, log or pull request
	exitUnavailable = 4 // storage, GitHub or a git remote could not answer; a retry may help
	versionUnset    = "dev"
)

// version is stamped by the Makefile with -ldflags.
var version = versionUnset

// exitError carries an exit code out of a command whose answer was
// already printed: nothing more is written.
type exitError struct {
	code int
}

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// failed returns an error that exits with code 1 after printing nothing more.
func failed() error { return &exitError{code: exitFailed} }

// usageError returns an error that exits with code 2.
func usageError(format string, args ...any) error {
	return failure.Mark(failure.Usage, fmt.Errorf(format, args...))
}

// refusedError marks err as a refusal: exit code 1.
func refusedError(err error) error { return failure.Mark(failure.Refused, err) }

// env is how commands read the environment: injected so tests control it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	getwd  func() (string, error)
	// blobOptions, when not nil, configure the artifact stores' HTTP client
	// and retries; nil means the defaults.
	blobOptions *artifact.BlobStoreOptions
	// attestStoreOptions, keyVaultOptions and keyVaultCredential, when not
	// nil, reach a local attestation store and Key Vault; nil means the
	// defaults (Azure, the default Azure credential).
	attestStoreOptions *attest.StoreOptions
	keyVaultOptions    *azkeys.ClientOptions
	keyVaultCredential azcore.TokenCredential
	// githubRetry, when not nil, tunes the retries of the commands' GitHub
	// clients (attempts, backoff); nil means the defaults.
	githubRetry *retry.Options
}

func newRootCommand(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "promobot",
		Short: "GitOps promotion of ML models with evidence",
		Long: `promobot gates the promotion of ML model versions through a GitOps repository.

Every command uses the same exit codes:
  0  success
  1  the answer is no: invalid, blocked, refused for integrity or policy
  2  usage or configuration error
  3  not found: unknown model, environment, version, revision, log or pull request
  4  temporarily unavailable: storage, GitHub or a git remote could not answer;
     a retry may help

With --format json a refusal or an error is also one JSON object on stdout
(schemas/error-output.schema.json).`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	showProgress := root.PersistentFlags().Bool("progress", false,
		"report the progress of long work (large artifacts, clones and fetches, the first audit walk) on stderr even when it is not a terminal")
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		// The server logs; progress lines are for a person at a command.
		if cmd.Name() != "serve" && (*showProgress || progress.IsTerminal(e.stderr)) {
			cmd.SetContext(progress.WithSink(cmd.Context(), progress.New(e.stderr)))
		}
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

// run executes the command line and returns the process exit code. An
// error is one line on stderr and, when the command was asked for
// --format json, also one JSON object on stdout.
func run(ctx context.Context, args []string, e *env) int {
	root := newRootCommand(e)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if cmd != nil {
		deprecationNotices(e, cmd)
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	code := errorExitCode(err)
	msg := oneLine(err.Error())
	fmt.Fprintln(e.stderr, "promobot:", msg)
	if cmd != nil && formatOf(cmd) == "json" {
		writeErrorJSON(e.stdout, code, msg, err)
	}
	return code
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, getwd: os.Getwd})
	stop()
	os.Exit(code)
}
