package main

import (
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/spf13/cobra"

	"github.com/example-org/promobot/internal/accessreview"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/gitrepo"
)

func init() { subcommands = append(subcommands, newAccessReviewCommand) }

type accessReviewFlags struct {
	auditSource
	format     string
	share      float64
	windowDays int
}

func newAccessReviewCommand(e *env) *cobra.Command {
	f := &accessReviewFlags{}
	cmd := &cobra.Command{
		Use:   "access-review",
		Short: "Review who can approve each environment and the control files",
		Long: `Access-review reads CODEOWNERS and the policy of the repository's working
tree, expands every owner that applies to an environment's manifests or to
the control files through GitHub teams to people (members of child teams
count, as GitHub counts them; pending invitations are listed, never counted),
reads each person's permission on --github-repo, and reports:

  gate-unsatisfiable                 fewer eligible people than approvals (exit 1)
  gate-depends-on-person             exactly as many eligible people as approvals
  owner-without-write-access         GitHub does not count their approval
  one-person-eligible-for-production one person can approve every production file
  maker-checker-pressure             an eligible approver authored at least
                                     --maker-checker-share of the environment's
                                     promotions in the last --window-days days
  owner-gone                         left the organization without access, or suspended
  owner-not-visible                  GitHub answers 404: missing, or hidden from the App
  codeowners-line-skipped            a CODEOWNERS line or owner GitHub ignores
  pending-invitation                 invited, not counted
  email-owner-unresolved             an email owner the API cannot resolve

The GitHub App needs the organization permission "Members: read".
--format text (default), json (schemas/access-review-output.schema.json) or
markdown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAccessReview(cmd, e, f) },
	}
	fl := cmd.Flags()
	f.auditSource.register(fl)
	fl.StringVar(&f.format, "format", "text", "output format: text, json or markdown")
	fl.Float64Var(&f.share, "maker-checker-share", 0.5, "share of an environment's promotions from which an eligible approver who authored them is reported")
	fl.IntVar(&f.windowDays, "window-days", 90, "days of promotions the maker-checker measure reads")
	return cmd
}

func runAccessReview(cmd *cobra.Command, e *env, f *accessReviewFlags) error {
	switch f.format {
	case "text", "json", "markdown":
	default:
		return usageError("--format must be text, json or markdown, got %q", f.format)
	}
	if f.share <= 0 || f.share > 1 {
		return usageError("--maker-checker-share must be in (0, 1], got %v", f.share)
	}
	if f.windowDays <= 0 {
		return usageError("--window-days must be positive, got %d", f.windowDays)
	}
	if f.githubRepo == "" {
		return usageError("access-review needs --github-repo OWNER/REPO")
	}
	ctx := cmd.Context()
	root, err := repoOrEnclosing(e, f.repo)
	if err != nil {
		return usageError("%v", err)
	}
	f.repo = root
	run, err := f.load(ctx, e)
	if err != nil {
		return err
	}
	repo, err := gitrepo.Open(root)
	if err != nil {
		return usageError("%v", err)
	}
	defer repo.Close()
	fsys, err := repo.FS(plumbing.NewHash(run.history.Tip))
	if err != nil {
		return usageError("read %s at %s: %v", root, run.history.Tip, err)
	}
	tree, err := accessreview.ReadTree(fsys)
	if err != nil {
		return usageError("%v", err)
	}
	now := time.Now().UTC()
	since := now.AddDate(0, 0, -f.windowDays)
	window := audit.Filter{Since: since}
	if err := run.enrich(ctx, window); err != nil {
		return err
	}
	promotions := accessreview.PromotionsOf(window.Apply(run.history.Records))
	client, err := f.client(e)
	if err != nil {
		return err
	}
	owner, name, _ := strings.Cut(f.githubRepo, "/")
	snap, err := accessreview.Gather(ctx, client, tree.Input(owner, name, promotions, now))
	if err != nil {
		return err
	}
	rep := accessreview.Review(snap, accessreview.Options{MakerCheckerShare: f.share, WindowDays: f.windowDays})
	switch f.format {
	case "json":
		err = accessreview.WriteJSON(e.stdout, rep)
	case "markdown":
		err = accessreview.WriteMarkdown(e.stdout, rep)
	default:
		err = accessreview.WriteText(e.stdout, rep)
	}
	if err != nil {
		return err
	}
	if rep.Unsatisfiable {
		return failed()
	}
	return nil
}
