package main

import (
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/promote"
)

func init() { subcommands = append(subcommands, newRollbackCommand) }

func newRollbackCommand(e *env) *cobra.Command {
	var (
		f         changeFlags
		models    []string
		envName   string
		toVersion string
		ticket    string
		why       string
		pr        int
	)
	cmd := &cobra.Command{
		Use:   "rollback (--model M [--model M2 ...] --env ENV [--to-version V] | --pr N) [--ticket T] [--rationale TEXT]",
		Short: "Open the pull request that restores a manifest an environment pinned before",
		Long: `Rollback finds, in the first-parent history of the base branch, the manifest
environments/ENV/M.yaml held when the version before the current one was
pinned (or --to-version V), and restores it exactly, byte for byte. It says
which version, when it was pinned and by which commit. Several --model flags
roll several models back in one pull request.

A bundle rolls back as a whole: with --to-version V, naming one model of a
bundle (or several) brings along every model of the bundle that ENV pins, and
each goes back to its manifest at the last commit where ENV pinned V together
with the rest of the bundle.

With --pr N it rolls back what the merged pull request N pinned: every
manifest it changed goes back to the version pinned before its merge, as long
as the environment still pins what N left.

--ticket T is the change ticket of the rollback: it replaces the approval
block of every restored manifest. Without it, each restored manifest keeps
the ticket it was pinned with. --rationale TEXT says why: it is written to
approval.rationale of every restored manifest (required where the policy sets
requireRationale; a rollback is exempt from the metric gates' comparison
with the version it replaces, not from their bounds).

Exit status: 0 done (or nothing to do); 1 refused by the policy; 2 usage or
configuration error; 3 unknown environment, model, version or pull request;
4 GitHub or the git remote could not answer (a retry may help).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case pr > 0 && (len(models) > 0 || envName != "" || toVersion != ""):
				return usageError("--pr cannot be combined with --model, --env or --to-version")
			case pr == 0 && (len(models) == 0 || envName == ""):
				return usageError("rollback needs --model and --env, or --pr")
			}
			x, err := f.executor(e)
			if err != nil {
				return err
			}
			req := promote.RollbackRequest{Environment: envName, Ticket: ticket, Rationale: why, PullRequest: pr}
			for _, m := range models {
				req.Models = append(req.Models, promote.RollbackModel{Model: m, ToVersion: toVersion})
			}
			out, err := x.Rollback(cmd.Context(), req, f.options())
			return reportChange(e, &f, out, err)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&models, "model", nil, "model to roll back (repeatable: the models move in one pull request)")
	fl.StringVar(&envName, "env", "", "environment to roll back")
	fl.StringVar(&toVersion, "to-version", "", "version to restore (default: the one pinned before the current one); a bundle goes back as a whole")
	fl.StringVar(&ticket, "ticket", "", "change ticket of the rollback, written to approval.ticket of the restored manifests (default: keep their own)")
	fl.StringVar(&why, "rationale", "", "why the rollback is made, written to approval.rationale of the restored manifests")
	fl.IntVar(&pr, "pr", 0, "roll back what this merged pull request pinned")
	f.register(fl)
	return cmd
}
