package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/attest"
	"github.com/example-org/promobot/internal/attest/issue"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/gitrepo"
)

// Promotion attestations (Config.Attestations): when a push moves the
// default branch, the merge it brings is judged again from fresh GitHub
// state (its first parent as base, the merged pull request's reviews on
// that pull request's head, and the merge commit holding exactly the
// approved changes) and, when green, every manifest pin it changes gets a
// signed attestation (internal/attest/issue). The verdict is posted as a
// check run named AttestationCheckSuffix after the check name on the merge
// commit: a merge that is not green says there why it got none. The
// resynchronization pass issues whatever a green merge should have
// produced and did not.

// AttestationCheckSuffix is appended to Config.CheckName to name the check
// run the bot posts on a merge commit of the default branch.
const AttestationCheckSuffix = " attestation"

// jobAttest issues the attestations of a merge; ref is the merge commit,
// or "recover" for the resynchronization's pass over a repository.
const jobAttest jobKind = 100

// mergedLister finds the pull request merged as a commit;
// *githubapi.Client implements it.
type mergedLister interface {
	MergedPullRequestsOf(ctx context.Context, owner, repo, sha string) ([]*githubapi.PullRequest, error)
}

// gitReader is a commit set that exposes its repository;
// *mirror.Commits implements it.
type gitReader interface{ Repo() *gitrepo.Repo }

// maxPushedMerges bounds how many first-parent commits of one push are
// judged at once; older ones are left to the resynchronization.
const maxPushedMerges = 50

// attestOnPush is the push handler's hook: it queues the issuing of the
// attestations of the merges a push to the default branch brings (one, or
// several when a merge queue merged a group): the first-parent commits
// after before, up to after.
func (b *Bot) attestOnPush(logger *slog.Logger, t target, branch, before, after string) error {
	if b.cfg.Attestations == nil || !commitHash.MatchString(after) {
		return nil
	}
	key := jobKey{kind: jobAttest, installation: t.installation, repo: strings.ToLower(t.fullName()), ref: after}
	return b.submit(key, logger, func(ctx context.Context, logger *slog.Logger) error {
		return b.attestMerges(ctx, logger, t, branch, before, after)
	})
}

// attestOnResync is the resynchronization's hook: it queues a pass that
// issues the attestations the pins of the default branch should have.
func (b *Bot) attestOnResync(logger *slog.Logger, t target, branch string) error {
	if b.cfg.Attestations == nil || branch == "" {
		return nil
	}
	key := jobKey{kind: jobAttest, installation: t.installation, repo: strings.ToLower(t.fullName()), ref: "recover"}
	return b.submit(key, logger, func(ctx context.Context, logger *slog.Logger) error {
		return b.attestRecover(ctx, logger, t, branch)
	})
}

// attestRepository syncs branch up to commit (its tip when empty) and
// returns the repository as the issuer sees it.
func (b *Bot) attestRepository(ctx context.Context, logger *slog.Logger, t target, branch, commit string) (issue.Repository, string, error) {
	gh, err := b.deps.client(t.installation)
	if err != nil {
		return issue.Repository{}, "", err
	}
	if commit == "" {
		if commit, err = gh.BranchHead(ctx, t.owner, t.name, branch); err != nil {
			return issue.Repository{}, "", err
		}
	}
	set, err := b.syncForAttestation(ctx, gh, t, []string{"refs/heads/" + branch}, []string{commit})
	if err != nil {
		return issue.Repository{}, "", err
	}
	gr, ok := set.(gitReader)
	if !ok {
		return issue.Repository{}, "", errors.New("the mirror does not expose its repository")
	}
	ev := &mergeEvaluator{b: b, gh: gh, t: t, branch: branch, logger: logger}
	return issue.Repository{Name: t.fullName(), Git: gr.Repo(), Evaluator: ev}, commit, nil
}

func (b *Bot) attestMerges(ctx context.Context, logger *slog.Logger, t target, branch, before, after string) error {
	r, _, err := b.attestRepository(ctx, logger, t, branch, after)
	if err != nil {
		return err
	}
	merges := []string{after}
	for c := after; len(merges) < maxPushedMerges; {
		fp, err := r.Git.FirstParent(plumbing.NewHash(c))
		if err != nil || fp.IsZero() || fp.String() == before || !commitHash.MatchString(before) {
			break
		}
		c = fp.String()
		merges = append(merges, c)
	}
	var errs []error
	for i := len(merges) - 1; i >= 0; i-- {
		res, err := b.cfg.Attestations.IssueMerge(ctx, r, merges[i])
		logAttestation(logger, res)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (b *Bot) attestRecover(ctx context.Context, logger *slog.Logger, t target, branch string) error {
	r, tip, err := b.attestRepository(ctx, logger, t, branch, "")
	if err != nil {
		return err
	}
	out, err := b.cfg.Attestations.Recover(ctx, r, tip)
	for _, res := range out {
		logAttestation(logger.With("resync", true), res)
	}
	return err
}

func logAttestation(logger *slog.Logger, res issue.Result) {
	switch {
	case res.NotGreen != "":
		logger.Warn("merge not attested: it is not green", KeySHA, res.Merge, "reason", res.NotGreen)
	case len(res.Pins) > 0:
		for _, p := range res.Pins {
			logger.Info("attestation", KeySHA, res.Merge, "path", p.Path, "version", p.Version, "kind", p.ChangeKind, "status", p.Status)
		}
	}
}

func (b *Bot) syncForAttestation(ctx context.Context, gh githubAPI, t target, refs, commits []string) (commitSet, error) {
	token, err := gh.Token(ctx)
	if err != nil {
		return nil, err
	}
	return b.deps.mirrors.SyncCommits(ctx, mirror.CommitsRequest{
		Repository: t.fullName(), CloneURL: t.cloneURL, Token: token, Refs: refs, Commits: commits,
	})
}

// mergeEvaluator judges a merge of the default branch for the issuer.
type mergeEvaluator struct {
	b      *Bot
	gh     githubAPI
	t      target
	branch string
	logger *slog.Logger
}

// EvaluateMerge finds the pull request merged as merge, reads it and its
// reviews afresh, checks that merge holds exactly that pull request's
// changes on top of firstParent, judges the pull request against
// firstParent with the reviews of its head, and posts the verdict as a
// check run on merge.
func (e *mergeEvaluator) EvaluateMerge(ctx context.Context, firstParent, merge string) (issue.Verdict, error) {
	b, gh, t := e.b, e.gh, e.t
	lister, ok := gh.(mergedLister)
	if !ok {
		return issue.Verdict{}, errors.New("the GitHub client cannot find the pull request of a merge commit")
	}
	prs, err := lister.MergedPullRequestsOf(ctx, t.owner, t.name, merge)
	if err != nil {
		return issue.Verdict{}, err
	}
	prs = slices.DeleteFunc(prs, func(p *githubapi.PullRequest) bool { return p.BaseRef != e.branch })
	if len(prs) == 0 {
		v := issue.Verdict{Reason: fmt.Sprintf("no pull request into %s was merged as commit %s: it was pushed around review", e.branch, short7(merge))}
		return e.post(ctx, merge, v, nil)
	}
	pr, err := gh.PullRequest(ctx, t.owner, t.name, prs[0].Number)
	if err != nil {
		return issue.Verdict{}, err
	}
	set, err := b.syncForAttestation(ctx, gh, t,
		[]string{"refs/heads/" + e.branch, fmt.Sprintf("refs/pull/%d/head", pr.Number)},
		[]string{firstParent, merge, pr.HeadSHA})
	if err != nil {
		return issue.Verdict{}, err
	}
	base := issue.Verdict{
		PullRequest: &attest.PullRequest{Number: pr.Number, URL: pullURL(pr, t), Author: pr.Author},
		Head:        pr.HeadSHA,
	}
	g := mergeGroup{target: t, headSHA: merge, baseSHA: firstParent}
	if err := sameContent(ctx, set, g, []*githubapi.PullRequest{pr}); err != nil {
		var mg *mergeGroupError
		if !errors.As(err, &mg) {
			return issue.Verdict{}, err
		}
		v := base
		v.Reason = strings.Replace(mg.reason, "merge group", "merge commit", 1)
		return e.post(ctx, merge, v, nil)
	}
	snap, err := set.Snapshot(firstParent, pr.HeadSHA)
	if err != nil {
		return issue.Verdict{}, err
	}
	one := t.withPullRequest(pr)
	in, reviews, err := b.input(ctx, e.logger, gh, one, pr, snap)
	if err != nil {
		return issue.Verdict{}, err
	}
	res := b.cfg.Engine.Evaluate(in)
	if res == nil {
		return issue.Verdict{}, errors.New("the policy engine returned no result")
	}
	v := base
	v.Rules = ruleOutcomes(res)
	v.Approvers = approvers(res, reviews)
	if res.Verdict == evaluate.VerdictPass {
		v.Green = true
	} else {
		v.Reason = "the merge does not pass: " + res.Title
	}
	return e.post(ctx, merge, v, res)
}

// post creates the completed check run of the merge's verdict and records
// its id in v.
func (e *mergeEvaluator) post(ctx context.Context, merge string, v issue.Verdict, res *evaluate.Result) (issue.Verdict, error) {
	b := e.b
	out := &githubapi.Output{}
	conclusion := githubapi.ConclusionFailure
	if v.Green {
		conclusion = githubapi.ConclusionSuccess
		out.Title = "Merge verified; its manifest pins are attested"
	} else {
		out.Title = truncate("Not attested: "+v.Reason, maxTitle, "…")
	}
	out.Summary = "promobot judged this merge afresh (its first parent as base, the pull request's current reviews on its head) before signing promotion attestations. " +
		"A merge that is not green gets no attestation, and scoring jobs that require attestations refuse its pins."
	if res != nil {
		if s, err := b.cfg.Engine.Summary(res); err == nil {
			out.Summary += "\n\n" + s
		}
	}
	out.Summary = truncate(out.Summary, maxSummary, "\n\n_Summary truncated to GitHub's limit._\n")
	now := b.cfg.Now()
	id, err := e.gh.CreateCheckRun(ctx, e.t.owner, e.t.name, githubapi.CheckRun{
		Name: b.cfg.CheckName + AttestationCheckSuffix, HeadSHA: merge, Status: githubapi.StatusCompleted,
		Conclusion: conclusion, StartedAt: now, CompletedAt: now, Output: out,
	})
	if err != nil {
		return issue.Verdict{}, err
	}
	v.CheckRunID = id
	return v, nil
}

// pullURL is the pull request's web page, as GitHub gives it or built
// from the repository's name.
func pullURL(pr *githubapi.PullRequest, t target) string {
	if pr.URL != "" {
		return pr.URL
	}
	return fmt.Sprintf("https://github.com/%s/pull/%d", t.fullName(), pr.Number)
}

// ruleOutcomes reduces the engine's rules to one outcome per family, the
// worst of its rules (fail, warn, pass, skip), in first-seen order.
func ruleOutcomes(res *evaluate.Result) []attest.RuleOutcome {
	rank := map[evaluate.Status]int{evaluate.StatusFail: 3, evaluate.StatusWarn: 2, evaluate.StatusPass: 1, evaluate.StatusSkip: 0}
	out := []attest.RuleOutcome{}
	index := map[string]int{}
	for _, r := range res.Rules {
		fam := string(r.Family)
		i, ok := index[fam]
		if !ok {
			index[fam] = len(out)
			out = append(out, attest.RuleOutcome{Family: fam, Status: r.Status.String(), Message: r.Message})
			continue
		}
		var cur evaluate.Status
		_ = cur.UnmarshalText([]byte(out[i].Status))
		if rank[r.Status] > rank[cur] {
			out[i] = attest.RuleOutcome{Family: fam, Status: r.Status.String(), Message: r.Message}
		}
	}
	return out
}

// approvers returns the approving reviews that counted: for each login
// the engine counted, its latest approving review.
func approvers(res *evaluate.Result, reviews []githubapi.Review) []attest.Approver {
	counted := map[string]bool{}
	for _, a := range res.Approvals {
		for _, l := range a.Approvers {
			counted[strings.ToLower(l)] = true
		}
		if a.Governance != nil {
			for _, l := range a.Governance.Approvers {
				counted[strings.ToLower(l)] = true
			}
		}
	}
	latest := map[string]githubapi.Review{}
	for _, r := range reviews {
		if r.State != "APPROVED" || !counted[strings.ToLower(r.User)] {
			continue
		}
		if old, ok := latest[strings.ToLower(r.User)]; !ok || r.SubmittedAt.After(old.SubmittedAt) {
			latest[strings.ToLower(r.User)] = r
		}
	}
	out := []attest.Approver{}
	for _, r := range latest {
		out = append(out, attest.Approver{Login: r.User, ID: r.UserID, ReviewID: r.ID, Time: r.SubmittedAt.UTC().Truncate(time.Second), CommitID: r.CommitID})
	}
	slices.SortFunc(out, func(a, b attest.Approver) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Login, b.Login)
	})
	return out
}
