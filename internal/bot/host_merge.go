package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/gitrepo"
)

// What the pipeline offers a feature that judges merges after the fact
// (the promotion attestations, internal/bot/attestissue): the evaluation
// of a merge commit of the default branch from fresh GitHub state, and the
// default branch's mirror to read the repository at a commit.

// MergeVerdict is the pipeline's judgement of a merge into the default
// branch (Host.EvaluateMerge).
type MergeVerdict struct {
	// Green is true when the merge holds exactly its pull request's
	// changes and passes every rule with the reviews the pull request
	// holds now.
	Green bool
	// Reason says in one line why the merge is not green; empty when it
	// is.
	Reason string
	// PullRequest is the merged pull request, read afresh; nil when no
	// pull request into the default branch was merged as the commit.
	PullRequest *githubapi.PullRequest
	// Result is the engine's result; nil when the merge was not evaluated
	// (no pull request, or the merge commit holds other changes).
	Result *evaluate.Result
	// Reviews are the pull request's reviews the evaluation read.
	Reviews []githubapi.Review
	// Summary is the engine's Markdown summary of Result, "" when there is
	// none.
	Summary string
}

// mergedLister finds the pull request merged as a commit;
// *githubapi.Client implements it.
type mergedLister interface {
	MergedPullRequestsOf(ctx context.Context, owner, repo, sha string) ([]*githubapi.PullRequest, error)
}

// gitReader is a commit set that exposes its repository;
// *mirror.Commits implements it.
type gitReader interface{ Repo() *gitrepo.Repo }

func (h host) EvaluateMerge(ctx context.Context, logger *slog.Logger, repo Repo, firstParent, merge string) (MergeVerdict, error) {
	return h.b.evaluateMerge(ctx, logger, repo, firstParent, merge)
}

func (h host) DefaultBranch(ctx context.Context, repo Repo, commit string) (*gitrepo.Repo, string, error) {
	return h.b.defaultBranch(ctx, repo, commit)
}

// defaultBranch syncs the mirror of repo's default branch up to commit
// (its tip when empty) and returns the mirror's repository and the commit.
func (b *Bot) defaultBranch(ctx context.Context, repo Repo, commit string) (*gitrepo.Repo, string, error) {
	if repo.DefaultBranch == "" {
		return nil, "", fmt.Errorf("%s: the default branch is unknown", repo.FullName())
	}
	t := target{installation: repo.Installation, owner: repo.Owner, name: repo.Name, cloneURL: repo.CloneURL}
	gh, err := b.deps.client(t.installation)
	if err != nil {
		return nil, "", err
	}
	if commit == "" {
		if commit, err = gh.BranchHead(ctx, t.owner, t.name, repo.DefaultBranch); err != nil {
			return nil, "", err
		}
	}
	set, err := b.syncMergeCommits(ctx, gh, t, []string{"refs/heads/" + repo.DefaultBranch}, []string{commit})
	if err != nil {
		return nil, "", err
	}
	gr, ok := set.(gitReader)
	if !ok {
		return nil, "", errors.New("the mirror does not expose its repository")
	}
	return gr.Repo(), commit, nil
}

func (b *Bot) syncMergeCommits(ctx context.Context, gh githubAPI, t target, refs, commits []string) (commitSet, error) {
	token, err := gh.Token(ctx)
	if err != nil {
		return nil, err
	}
	return b.deps.mirrors.SyncCommits(ctx, mirror.CommitsRequest{
		Repository: t.fullName(), CloneURL: t.cloneURL, Token: token, Refs: refs, Commits: commits,
	})
}

// evaluateMerge finds the pull request merged as merge, reads it and its
// reviews afresh, checks that merge holds exactly that pull request's
// changes on top of firstParent, and judges the pull request against
// firstParent with the reviews of its head.
func (b *Bot) evaluateMerge(ctx context.Context, logger *slog.Logger, repo Repo, firstParent, merge string) (MergeVerdict, error) {
	branch := repo.DefaultBranch
	if branch == "" {
		return MergeVerdict{}, fmt.Errorf("%s: the default branch is unknown", repo.FullName())
	}
	t := target{installation: repo.Installation, owner: repo.Owner, name: repo.Name, cloneURL: repo.CloneURL}
	gh, err := b.deps.client(t.installation)
	if err != nil {
		return MergeVerdict{}, err
	}
	lister, ok := gh.(mergedLister)
	if !ok {
		return MergeVerdict{}, errors.New("the GitHub client cannot find the pull request of a merge commit")
	}
	prs, err := lister.MergedPullRequestsOf(ctx, t.owner, t.name, merge)
	if err != nil {
		return MergeVerdict{}, err
	}
	prs = slices.DeleteFunc(prs, func(p *githubapi.PullRequest) bool { return p.BaseRef != branch })
	if len(prs) == 0 {
		return MergeVerdict{Reason: fmt.Sprintf("no pull request into %s was merged as commit %s: it was pushed around review", branch, short7(merge))}, nil
	}
	pr, err := gh.PullRequest(ctx, t.owner, t.name, prs[0].Number)
	if err != nil {
		return MergeVerdict{}, err
	}
	set, err := b.syncMergeCommits(ctx, gh, t,
		[]string{"refs/heads/" + branch, fmt.Sprintf("refs/pull/%d/head", pr.Number)},
		[]string{firstParent, merge, pr.HeadSHA})
	if err != nil {
		return MergeVerdict{}, err
	}
	g := mergeGroup{target: t, headSHA: merge, baseSHA: firstParent}
	if err := sameContent(ctx, set, g, []*githubapi.PullRequest{pr}); err != nil {
		var mg *mergeGroupError
		if !errors.As(err, &mg) {
			return MergeVerdict{}, err
		}
		return MergeVerdict{PullRequest: pr, Reason: strings.Replace(mg.reason, "merge group", "merge commit", 1)}, nil
	}
	snap, err := set.Snapshot(firstParent, pr.HeadSHA)
	if err != nil {
		return MergeVerdict{}, err
	}
	in, reviews, err := b.input(ctx, logger, gh, t.withPullRequest(pr), pr, snap)
	if err != nil {
		return MergeVerdict{}, err
	}
	res := b.cfg.Engine.Evaluate(in)
	if res == nil {
		return MergeVerdict{}, errors.New("the policy engine returned no result")
	}
	v := MergeVerdict{PullRequest: pr, Result: res, Reviews: reviews}
	if res.Verdict == evaluate.VerdictPass {
		v.Green = true
	} else {
		v.Reason = "the merge does not pass: " + res.Title
	}
	if s, err := b.cfg.Engine.Summary(res); err == nil {
		v.Summary = s
	}
	return v, nil
}
