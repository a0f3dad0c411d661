package main

import (
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/diag"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/validate"
)

func init() { subcommands = append(subcommands, newValidateCommand) }

func newValidateCommand(e *env) *cobra.Command {
	var repo, format string
	var verifyArtifacts bool
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check manifests and the policy: YAML, schema, paths, version consistency",
		Long: `Validate checks the environment manifests and the policy of a GitOps repository.

With no PATH it checks environments/ of the repository that holds the working
directory, plus .github/promobot.yaml. In a sparse checkout, the files outside
it are checked as HEAD has them. Problems are printed one a line as
path:line:col: message. --format json prints the report that
schemas/validate-output.schema.json describes; --format github prints
workflow annotations.

Exit status: 0 all valid; 1 problems found; 2 usage or configuration error;
3 a PATH does not exist; 4 the only problems are artifacts that storage could not answer for
(--verify-artifacts; a retry may help).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := diag.ParseFormat(format)
			if err != nil {
				return usageError("%v", err)
			}
			cwd, err := e.getwd()
			if err != nil {
				return usageError("%v", err)
			}
			if repo == "" {
				if repo, err = findRepoRoot(cwd); err != nil {
					return usageError("%v", err)
				}
			}
			wt, err := gitrepo.WorkingTreeFS(repo)
			if err != nil {
				return usageError("%v", err)
			}
			if n := len(wt.FromHEAD); n > 0 {
				fmt.Fprintf(e.stderr, "validate: sparse checkout: %d files outside it are read as HEAD has them\n", n)
			}
			fsys := wt.FS
			var paths []string
			for _, a := range args {
				rel, err := repoRelative(repo, cwd, a)
				if err != nil {
					return usageError("%v", err)
				}
				if _, err := fs.Stat(fsys, rel); errors.Is(err, fs.ErrNotExist) {
					return failure.NotFoundf("%s: no such file or folder in the repository %s", rel, repo)
				}
				paths = append(paths, rel)
			}
			opts := validate.Options{Paths: paths}
			var unavailable atomic.Int64
			if verifyArtifacts {
				opts.Verify = artifactVerifier(e, fsys, &unavailable)
			}
			res, err := validate.Run(cmd.Context(), fsys, opts)
			if err != nil {
				return usageError("validate: %v", err)
			}
			if err := diag.Render(e.stdout, f, res.Report); err != nil {
				return usageError("%v", err)
			}
			if !res.Report.Valid {
				if n := unavailable.Load(); n > 0 && int(n) == errorCount(res.Report.Problems) {
					return &exitError{code: exitUnavailable}
				}
				return failed()
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "local repository root (default: the repository holding the working directory)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or github")
	cmd.Flags().BoolVar(&verifyArtifacts, "verify-artifacts", false, "also verify every valid manifest's artifact against storage: existence, size, sha256 and signature")
	return cmd
}

// errorCount counts the problems that are errors.
func errorCount(ps []diag.Problem) int {
	n := 0
	for _, p := range ps {
		if p.Severity == diag.Error {
			n++
		}
	}
	return n
}
