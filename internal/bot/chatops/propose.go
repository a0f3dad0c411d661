package chatops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/featurekit"
	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/promote"
	"github.com/example-org/promobot/internal/repoconfig"
)

// Chat-ops, part one: autoPropose. When a pull request that promotes
// models into an environment merges into the default branch, and the
// policy of the merged commit marks an environment promoted from that one
// autoPropose, the bot opens the promotion pull request into it, as
// `promobot promote` would, and says so on the merged pull request.

// onMerged reacts to a pull request merged into the default branch: it
// queues the proposal of the next promotion.
func (f *Feature) onMerged(ev bot.Event) error {
	t := featurekit.NewTarget(ev.Repo)
	t.Number, t.SHA = ev.Merge.Number, ev.Merge.MergeCommit
	branch := ev.Repo.DefaultBranch
	job := bot.FeatureJob{Repo: ev.Repo, Number: t.Number, Kind: "merged", SHA: t.SHA}
	return f.host.SubmitJob(job, ev.Logger, func(ctx context.Context, logger *slog.Logger) error {
		return f.proposeNext(ctx, logger, t, branch)
	})
}

// proposal is what a merged change promoted: models into an environment.
type proposal struct {
	env    string
	models []string
	// version is the models' common version, "" when they differ (each
	// model's version pinned in env is then promoted).
	version string
}

// proposalOf reads what the records of a merge commit promoted. The reason
// is set when there is nothing to propose from: no manifest changed,
// several environments changed, or a change that is not a promotion or a
// registration (a rollback, an edit, a removal).
func proposalOf(records []audit.Record) (proposal, string) {
	var p proposal
	versions := map[string]bool{}
	for _, r := range records {
		switch {
		case p.env != "" && r.Environment != p.env:
			return proposal{}, fmt.Sprintf("the merge changed manifests in %s and %s", p.env, r.Environment)
		case r.Kind != audit.KindPromote && r.Kind != audit.KindRegister:
			return proposal{}, fmt.Sprintf("the merge's change of %s is a %s, not a promotion", r.Path, r.Kind)
		case r.ToVersion == "":
			return proposal{}, fmt.Sprintf("%s cannot be read: %s", r.Path, r.Problem)
		}
		p.env = r.Environment
		if !slices.Contains(p.models, r.Model) {
			p.models = append(p.models, r.Model)
		}
		versions[r.ToVersion] = true
	}
	if len(p.models) == 0 {
		return proposal{}, "the merge changed no manifest"
	}
	slices.Sort(p.models)
	if len(versions) == 1 {
		for v := range versions {
			p.version = v
		}
	}
	return p, ""
}

// autoProposed returns the environments promoted from env that the policy
// marks autoPropose, in policy order.
func autoProposed(pol *policy.Policy, env string) []string {
	var out []string
	for _, e := range pol.Next(env) {
		if e.AutoPropose {
			out = append(out, e.Name)
		}
	}
	return out
}

// readPolicy loads the policy of a tree. A missing or broken policy is an
// error: nothing is proposed from a policy that cannot be read.
func readPolicy(files fs.FS) (*policy.Policy, error) {
	data, err := fs.ReadFile(files, policy.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", policy.Path, err)
	}
	pol, problems := repoconfig.LoadPolicy(policy.Path, data, nil)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s is invalid: %s", policy.Path, problems[0].Message)
	}
	return pol, nil
}

// proposeNext opens the promotion pull requests that the merge of t's pull
// request (merge commit t.SHA into branch) calls for.
func (f *Feature) proposeNext(ctx context.Context, logger *slog.Logger, t target, branch string) error {
	j, err := f.opts.StartJob(ctx, t.Installation)
	if err != nil {
		return err
	}
	ws, unlock, err := f.opts.Open(ctx, t, j.Token, branch)
	if err != nil {
		return err
	}
	defer unlock()
	repo, h, err := ws.History(ctx)
	if err != nil {
		return err
	}
	records := featurekit.RecordsOf(h, t.SHA)
	_ = repo.Close()
	p, why := proposalOf(records)
	if why != "" {
		logger.Info("autoPropose: nothing to propose", "reason", why)
		return nil
	}
	files, err := ws.Files(t.SHA)
	if err != nil {
		return err
	}
	pol, err := readPolicy(files)
	if err != nil {
		logger.Warn("autoPropose: the merged commit's policy cannot be read; nothing proposed", "error", err)
		return nil
	}
	var errs []error
	for _, env := range autoProposed(pol, p.env) {
		errs = append(errs, f.proposeOne(ctx, logger.With("environment", env), j, t, ws, p, env))
	}
	return errors.Join(errs...)
}

// proposeOne opens the promotion of p into env and tells the merged pull
// request what happened, once.
func (f *Feature) proposeOne(ctx context.Context, logger *slog.Logger, j *featureJob, t target, ws *workspace.Workspace, p proposal, env string) error {
	mark := featurekit.Marker("propose", fmt.Sprintf("%s %s", env, t.SHA))
	if done, err := featurekit.Answered(ctx, j.GitHub, j.Bot, t.Owner, t.Name, t.Number, mark); err != nil || done {
		if done {
			f.host.Metrics().ChatOps("propose", "duplicate")
			logger.Info("autoPropose: already done for this merge")
		}
		return err
	}
	what := fmt.Sprintf("%s %s", strings.Join(p.models, ", "), orPinned(p.version, p.env))
	out, err := f.executor(j, t, ws, logger).Promote(ctx, promote.PromoteRequest{Models: p.models, To: env, Version: p.version}, promote.Options{})
	var (
		refused *promote.RefusedError
		nothing *promote.NothingToDoError
		text    string
		outcome string
	)
	switch {
	case err == nil && out.PullRequest != nil:
		outcome = "opened"
		verb := "opened"
		if !out.PullRequest.Created {
			outcome, verb = "updated", "updated"
		}
		text = fmt.Sprintf("promobot %s #%d to promote %s to `%s`: the policy marks `%s` `autoPropose`. It needs the approvals `%s` requires, like any promotion.",
			verb, out.PullRequest.Number, what, env, env, env)
	case errors.As(err, &nothing):
		f.host.Metrics().ChatOps("propose", "nothing_to_do")
		logger.Info("autoPropose: nothing to do", "reason", nothing.Message)
		return nil
	case errors.As(err, &refused):
		outcome = "refused"
		text = fmt.Sprintf("promobot did not open the promotion of %s to `%s` (`autoPropose`): the policy would refuse it.\n\n%s\n\nOpen it by hand once this is fixed: `promobot promote %s--to %s --ticket …`",
			what, env, featurekit.Quoted(refused.Reasons), modelFlags(p.models), env)
	default:
		outcome = "error"
		text = fmt.Sprintf("promobot could not open the promotion of %s to `%s` (`autoPropose`): %s Open it by hand with `promobot promote %s--to %s`.",
			what, env, featurekit.RetryHint(failure.IsTerminal(err)), modelFlags(p.models), env)
		logger.Error("autoPropose failed", "error", err, "terminal", failure.IsTerminal(err))
	}
	f.host.Metrics().ChatOps("propose", outcome)
	logger.Info("autoPropose", "outcome", outcome)
	if outcome != "error" {
		// A failure carries no marker: a redelivery of the merge tries
		// again.
		text += "\n\n" + mark
	}
	if _, cerr := j.GitHub.CreateComment(ctx, t.Owner, t.Name, t.Number, text); cerr != nil {
		return errors.Join(err, cerr)
	}
	if outcome == "error" {
		return err
	}
	return nil
}

func orPinned(version, env string) string {
	if version == "" {
		return "(the versions pinned in `" + env + "`)"
	}
	return "`" + version + "`"
}

func modelFlags(models []string) string {
	var b strings.Builder
	for _, m := range models {
		fmt.Fprintf(&b, "--model %s ", m)
	}
	return b.String()
}
