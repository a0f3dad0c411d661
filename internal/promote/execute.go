package promote

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/policy"
	"github.com/example-org/promobot/internal/repoconfig"
)

// Executor carries out changes: it plans them against the remote's
// up-to-date base, checks them with the policy engine, commits, pushes and
// opens or updates the pull request. The zero value is not usable: Git.Path
// must be set. An Executor holds no per-run state and may be reused.
type Executor struct {
	Git Git
	// GitHub opens the pull requests; nil pushes without opening one.
	GitHub *GitHub
	// Now is the clock for commit times and freeze windows; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Options tune one run.
type Options struct {
	// DryRun plans and checks the change and renders the diff and the pull
	// request, but writes nothing anywhere.
	DryRun bool
	// NoPR commits and pushes the branch without opening a pull request.
	NoPR bool
	// OnBehalfOf are the GitHub logins of the people a change is made for
	// when someone else (the bot) commits it: the commenter who asked for a
	// rollback, the author whose merged promotion is proposed onwards. Each
	// is recorded as a Co-authored-by trailer, which makes them ineligible
	// to approve the change, as if they had written it themselves.
	OnBehalfOf []string
}

// Outcome is what a run did or, for a dry run, would do.
type Outcome struct {
	Kind        Kind   `json:"kind"`
	Environment string `json:"environment"`
	// Branch is the change's branch; BaseBranch and BaseCommit what it was
	// built on.
	Branch     string `json:"branch"`
	BaseBranch string `json:"base"`
	BaseCommit string `json:"baseCommit"`
	// Commit is the pushed commit; empty for a dry run or a refusal.
	Commit string `json:"commit,omitempty"`
	// Pushed is false when the branch already held an equivalent commit.
	Pushed bool     `json:"pushed"`
	DryRun bool     `json:"dryRun"`
	Title  string   `json:"title"`
	Labels []string `json:"labels"`
	// Ticket is the change ticket written to the manifests, if any.
	Ticket string `json:"ticket,omitempty"`
	// PullRequest is nil when none was opened (dry run, NoPR, no GitHub).
	PullRequest *PullRequest `json:"pullRequest,omitempty"`
	// Moves say what changes; Body and Diff are for people.
	Moves []MoveSummary `json:"moves"`
	Body  string        `json:"-"`
	Diff  string        `json:"-"`
	// Plan and Evaluation are the details behind the outcome.
	Plan       *Plan            `json:"-"`
	Evaluation *evaluate.Result `json:"-"`
}

// MoveSummary is one moved model in an Outcome.
type MoveSummary struct {
	Model    string `json:"model"`
	Version  string `json:"version"`
	From     string `json:"from,omitempty"`
	Replaces string `json:"replaces,omitempty"`
	Path     string `json:"path"`
	// RestoredFrom is, for a rollback, the commit that first pinned the
	// restored manifest, and RestoredAt when.
	RestoredFrom string    `json:"restoredFrom,omitempty"`
	RestoredAt   time.Time `json:"restoredAt,omitzero"`
}

// Register registers new candidate versions in the first environment, in
// one commit. The History of each request is filled from the base branch.
func (x *Executor) Register(ctx context.Context, reqs []RegisterRequest, opts Options) (*Outcome, error) {
	return x.run(ctx, opts, func(ctx context.Context, s *session) (*Plan, error) {
		b, err := loadBase(s.baseFS)
		if err != nil {
			return nil, err
		}
		reqs = slices.Clone(reqs)
		paths := make([][]string, len(reqs))
		var all []string
		for i, req := range reqs {
			model := req.Model
			if model == "" {
				root, err := candidateRoot(req.Candidate)
				if err != nil {
					return nil, err
				}
				if model, err = pick("model", "", root, "model"); err != nil {
					return nil, err
				}
			}
			if err := checkName("model", model); err != nil {
				return nil, err
			}
			for _, e := range b.policy.Environments {
				paths[i] = append(paths[i], manifest.Path(e.Name, model))
			}
			all = append(all, paths[i]...)
		}
		h, err := s.histories(ctx, all)
		if err != nil {
			return nil, err
		}
		for i := range reqs {
			reqs[i].History = make(map[string][]PinRecord, len(paths[i]))
			for _, p := range paths[i] {
				if pins, ok := h[p]; ok {
					reqs[i].History[p] = pins
				}
			}
		}
		return b.planRegister(reqs)
	})
}

// Promote copies versions into an environment, several models in one
// commit. req.History is filled from the base branch.
func (x *Executor) Promote(ctx context.Context, req PromoteRequest, opts Options) (*Outcome, error) {
	return x.run(ctx, opts, func(ctx context.Context, s *session) (*Plan, error) {
		var paths []string
		for _, m := range req.Models {
			if checkName("model", m) == nil && checkName("environment", req.To) == nil {
				paths = append(paths, manifest.Path(req.To, m))
			}
		}
		var err error
		if req.History, err = s.histories(ctx, paths); err != nil {
			return nil, err
		}
		return PlanPromote(s.baseFS, req)
	})
}

// Rollback restores earlier manifests in one environment, or with
// req.PullRequest, what a merged pull request pinned (see
// RollbackPullRequest). The History of each model and, for bundles rolled
// back to a version, the Timeline are filled from the base branch.
func (x *Executor) Rollback(ctx context.Context, req RollbackRequest, opts Options) (*Outcome, error) {
	if req.PullRequest > 0 {
		if req.Environment != "" || len(req.Models) > 0 {
			return nil, usagef("a rollback of pull request #%d works out its environment and models from the pull request; name neither", req.PullRequest)
		}
		return x.rollbackPullRequest(ctx, req, opts)
	}
	return x.run(ctx, opts, func(ctx context.Context, s *session) (*Plan, error) {
		if err := s.rollbackHistory(ctx, &req); err != nil {
			return nil, err
		}
		return PlanRollback(s.baseFS, req)
	})
}

// rollbackHistory fills the History of each model of req and, when bundles
// roll back to a version, the Timeline of their manifests.
func (s *session) rollbackHistory(ctx context.Context, req *RollbackRequest) error {
	if err := checkName("environment", req.Environment); err != nil {
		return err
	}
	paths := make([]string, len(req.Models))
	for i, m := range req.Models {
		if err := checkName("model", m.Model); err != nil {
			return err
		}
		paths[i] = manifest.Path(req.Environment, m.Model)
	}
	h, err := s.histories(ctx, paths)
	if err != nil {
		return err
	}
	models := make([]RollbackModel, len(req.Models))
	for i, m := range req.Models {
		models[i] = RollbackModel{Model: m.Model, ToVersion: m.ToVersion, History: h[paths[i]]}
	}
	req.Models = models

	b, err := loadBase(s.baseFS)
	if err != nil {
		return err
	}
	if _, err := b.environment(req.Environment); err != nil {
		return err
	}
	bundles, err := b.rollbackBundles(req.Environment, req.Models)
	if err != nil || len(bundles) == 0 {
		return err
	}
	var members []string
	for _, g := range bundles {
		for _, m := range g.members {
			members = append(members, manifest.Path(req.Environment, m))
		}
	}
	req.Timeline, err = s.timeline(ctx, members)
	return err
}

// run opens a session, plans, checks and carries out one change.
func (x *Executor) run(ctx context.Context, opts Options, plan func(context.Context, *session) (*Plan, error)) (*Outcome, error) {
	log := x.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := time.Now
	if x.Now != nil {
		now = x.Now
	}
	at := now().UTC().Truncate(time.Second)

	s, err := openSession(ctx, x.Git)
	if err != nil {
		return nil, err
	}
	defer s.reader.Close()
	log = log.With("base", s.baseBranch, "sha", s.base.Hash.String())
	p, err := plan(ctx, s)
	if err != nil {
		return nil, err
	}
	p.CommitMessage += onBehalfOfTrailers(opts.OnBehalfOf)
	log = log.With("branch", p.Branch, "kind", string(p.Kind), "environment", p.Environment)
	out := &Outcome{
		Kind: p.Kind, Environment: p.Environment, Branch: p.Branch, BaseBranch: s.baseBranch, BaseCommit: s.base.Hash.String(),
		Title: p.Title, Labels: p.Labels, Ticket: p.Ticket, DryRun: opts.DryRun, Plan: p,
	}
	for _, m := range p.Moves {
		ms := MoveSummary{Model: m.Model, Version: m.Version, From: m.From, Replaces: m.Replaces, Path: m.Path}
		if m.Restored != nil {
			ms.RestoredFrom, ms.RestoredAt = m.Restored.Commit, m.Restored.Since.UTC()
		}
		out.Moves = append(out.Moves, ms)
	}

	c, err := s.commit(p, at)
	if err != nil {
		return nil, err
	}
	if out.Diff, err = s.diff(c); err != nil {
		return nil, err
	}
	if out.Evaluation, err = x.evaluate(ctx, s, p, c, at); err != nil {
		return nil, err
	}
	if out.Body, err = renderBody(p, out.Evaluation); err != nil {
		return nil, err
	}
	if reasons := blockingReasons(out.Evaluation); len(reasons) > 0 {
		log.Info("promote: refused by the policy", "reasons", len(reasons))
		return out, &RefusedError{Reasons: reasons}
	}
	if opts.DryRun {
		return out, nil
	}

	pushed, err := s.publish(ctx, p.Branch, c)
	if err != nil {
		log.Warn("promote: push failed", "error", err)
		return out, err
	}
	out.Commit, out.Pushed = pushed.commit.String(), pushed.pushed
	log.Info("promote: branch published", "commit", out.Commit, "pushed", pushed.pushed)
	if opts.NoPR || x.GitHub == nil {
		return out, nil
	}
	pr, err := x.GitHub.upsert(ctx, p, s.baseBranch, out.Body)
	out.PullRequest = pr
	if err != nil {
		return out, err
	}
	log.Info("promote: pull request ready", "pr", pr.Number, "created", pr.Created)
	return out, nil
}

// evaluate runs the policy engine on the planned commit. When GitHub is
// available, the members of the owning teams are looked up so that the
// report says who can approve; the verdict on the other rules does not
// depend on them.
func (x *Executor) evaluate(ctx context.Context, s *session, p *Plan, c *object.Commit, now time.Time) (*evaluate.Result, error) {
	in, err := s.input(ctx, p, c, now)
	if err != nil {
		return nil, err
	}
	ev := evaluate.Evaluate(in)
	if x.GitHub == nil || x.GitHub.api == nil {
		return ev, nil
	}
	var owners []string
	for _, a := range ev.Approvals {
		owners = append(owners, a.Owners...)
		if a.Governance != nil {
			owners = append(owners, a.Governance.Owners...)
		}
	}
	for _, team := range evaluate.FieldOwnerTeams(in) {
		owners = append(owners, "@"+team)
	}
	if len(owners) == 0 {
		return ev, nil
	}
	in.Teams = x.GitHub.teamLogins(ctx, owners)
	return evaluate.Evaluate(in), nil
}

// input builds the engine's input for the planned commit. The trusted
// inputs come from the base through gitrepo; the head side is built from
// the plan in memory, since the planned commit exists only in the overlay.
func (s *session) input(ctx context.Context, p *Plan, c *object.Commit, now time.Time) (*evaluate.Input, error) {
	in, err := s.reader.BuildInput(ctx, s.base.Hash, s.base.Hash, gitrepo.InputOptions{})
	if err != nil {
		return nil, fmt.Errorf("read the base for the policy check: %w", err)
	}
	sch, _, _ := repoconfig.Schemas(s.baseFS)
	in.Changes = nil
	in.Head = make(map[string]*manifest.Document, len(p.Moves))
	paths := make([]string, len(p.Moves))
	for i, m := range p.Moves {
		paths[i] = m.Path
	}
	if in.History, err = s.reader.Histories(ctx, paths, s.base.Hash); err != nil {
		return nil, fmt.Errorf("read the history of %s: %w", strings.Join(paths, ", "), err)
	}
	for _, m := range p.Moves {
		status := evaluate.Modified
		if m.Before == nil {
			status = evaluate.Added
		}
		in.Changes = append(in.Changes, evaluate.Change{Path: m.Path, Status: status})
		doc, _ := repoconfig.LoadManifest(m.Path, m.After, sch)
		in.Head[m.Path] = doc
	}
	id := evaluate.Identity{Name: s.cfg.Author.Name, Email: s.cfg.Author.Email, Login: s.cfg.Author.Login}
	in.Commits = []evaluate.Commit{{SHA: c.Hash.String(), Author: id, Committer: id}}
	in.PullRequest = evaluate.PullRequest{
		Title: p.Title, Author: s.cfg.Author.Login, BaseRef: s.baseBranch,
		BaseSHA: s.base.Hash.String(), HeadSHA: c.Hash.String(), Labels: p.Labels,
	}
	in.Now = now
	return in, nil
}

// blockingReasons returns the messages of the failed rules that no review
// can fix: everything but approvals and field owner approvals, which arrive
// after the pull request is opened, freeze windows, which end or are
// overridden by a label, and the readings of storage (the artifact's bytes,
// the validation report, the SBOM, the rollback target), which this
// pre-flight check never makes (an environment with verifyArtifacts fails
// them as unread): the pull request's check reads them before merge.
// Failing metric gates of an environment with an exception label are left
// to the pull request too: a label and governance approvals may override
// them.
func blockingReasons(ev *evaluate.Result) []string {
	overridable := map[string]bool{}
	for _, p := range ev.Promotions {
		overridable[p.File] = p.ExceptionLabel != ""
	}
	var out []string
	for _, r := range ev.Rules {
		if !r.Blocks() || r.Family == policy.FamilyApprovals || r.Family == policy.FamilyFieldOwners || r.Family == policy.FamilyFreeze {
			continue
		}
		if r.Family == policy.FamilyMetrics && overridable[r.File] {
			continue
		}
		if evaluate.StorageRule(r.ID) {
			continue
		}
		msg := r.Message
		if r.File != "" {
			msg = r.File + ": " + msg
		}
		out = append(out, msg)
	}
	return out
}
