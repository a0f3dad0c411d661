package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/diag"
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
path:line:col: message. Exit status: 0 all valid, 1 problems found, 2 usage or
internal error.`,
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
			var paths []string
			for _, a := range args {
				rel, err := repoRelative(repo, cwd, a)
				if err != nil {
					return usageError("%v", err)
				}
				paths = append(paths, rel)
			}
			wt, err := gitrepo.WorkingTreeFS(repo)
			if err != nil {
				return usageError("%v", err)
			}
			if n := len(wt.FromHEAD); n > 0 {
				fmt.Fprintf(e.stderr, "validate: sparse checkout: %d files outside it are read as HEAD has them\n", n)
			}
			fsys := wt.FS
			opts := validate.Options{Paths: paths}
			if verifyArtifacts {
				opts.Verify = artifactVerifier(e, fsys)
			}
			res, err := validate.Run(cmd.Context(), fsys, opts)
			if err != nil {
				return usageError("validate: %v", err)
			}
			if err := diag.Render(e.stdout, f, res.Report); err != nil {
				return usageError("%v", err)
			}
			if !res.Report.Valid {
				return failed()
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "repository root (default: the repository holding the working directory)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or github")
	cmd.Flags().BoolVar(&verifyArtifacts, "verify-artifacts", false, "also verify every valid manifest's artifact against storage: existence, size, sha256 and signature")
	return cmd
}
