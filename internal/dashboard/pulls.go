package dashboard

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/accessreview"
	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/audit/githubreview"
	"github.com/example-org/promobot/internal/evalinput"
	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/gitrepo"
)

// GitHub is what the dashboard reads from GitHub. *githubapi.Client
// implements it.
type GitHub interface {
	githubreview.API
	accessreview.GitHub
	OpenPullRequests(ctx context.Context, owner, repo, base string) ([]*githubapi.PullRequest, error)
	PullRequestCommits(ctx context.Context, owner, repo string, number int) ([]githubapi.Commit, error)
	Reviews(ctx context.Context, owner, repo string, number int) ([]githubapi.Review, error)
	LatestCheckRun(ctx context.Context, owner, repo, sha, name string, appID int64) (*githubapi.ExistingCheckRun, error)
}

// reviewer verifies the history's records on GitHub, keeping GitHub's
// answers beside the audit's index.
func (r *Repository) reviewer(branch string) audit.Reviewer {
	cache := ""
	if r.CacheDir != "" {
		cache = filepath.Join(r.CacheDir, "github")
	}
	rv, err := githubreview.New(r.GitHub, githubreview.Options{
		Owner: r.Owner, Repo: r.Name, DefaultBranch: cmp.Or(branch, "main"),
		Assess: audit.AssessOptions{App: r.CheckApp}, CacheDir: cache, Logger: r.logger,
	})
	if err != nil {
		return failingReviewer{err}
	}
	return rv
}

type failingReviewer struct{ err error }

func (f failingReviewer) Review(context.Context, string) (audit.Verdict, error) {
	return audit.Verdict{}, f.err
}

// PullRequest is an open promotion pull request and what it still lacks.
type PullRequest struct {
	// Number, Title, Author and URL describe the pull request.
	Number        int
	Title, Author string
	URL           string
	Draft         bool
	// Head is the head commit.
	Head string
	// Promotions are the manifest changes it makes.
	Promotions []evaluate.Promotion
	// Missing are the approvals it lacks, one line each, saying from whom.
	Missing []Missing
	// Blocking are the other rules that block it, as evaluated here.
	Blocking []string
	// Check is the bot's latest promobot check run on the head: its
	// conclusion (or status) and title; empty when there is none.
	CheckConclusion, CheckTitle string
	// Problem says why the pull request could not be evaluated here.
	Problem string
}

// Missing is one approval requirement a pull request does not meet yet.
type Missing struct {
	// File is the gated file; Environment its environment.
	File, Environment string
	// Count is how many more approvals are needed; From are the owners
	// who can give them, as CODEOWNERS writes them.
	Count int
	From  []string
	// Kind is "approval", "governance" (with Reason) or "changes
	// requested" (From are those who requested them).
	Kind, Reason string
	// Approvers are those whose approval already counted.
	Approvers []string
}

// PullRequests returns the open pull requests into the branch with what
// each lacks, from a cache younger than the findings' time to live.
func (r *Repository) PullRequests(ctx context.Context, snap *Snapshot) ([]PullRequest, error) {
	if r.GitHub == nil {
		return nil, errNoGitHub
	}
	r.mu.Lock()
	c := r.prs
	r.mu.Unlock()
	if c.fresh(r.now(), r.ttl) {
		return c.value, c.err
	}
	prs, err := r.pullRequests(ctx, snap)
	r.mu.Lock()
	r.prs = &cached[[]PullRequest]{value: prs, err: err, at: r.now()}
	r.mu.Unlock()
	return prs, err
}

func (r *Repository) pullRequests(ctx context.Context, snap *Snapshot) ([]PullRequest, error) {
	open, err := r.GitHub.OpenPullRequests(ctx, r.Owner, r.Name, cmp.Or(snap.Branch, "main"))
	if err != nil {
		return nil, err
	}
	repo, err := gitrepo.Open(r.Path)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	var out []PullRequest
	for _, pr := range open {
		p := PullRequest{Number: pr.Number, Title: pr.Title, Author: pr.Author, URL: pr.URL, Draft: pr.Draft, Head: pr.HeadSHA}
		if err := r.evaluatePull(ctx, repo, snap, pr, &p); err != nil {
			if githubapi.IsNotFound(err) || isMissingObject(err) {
				p.Problem = err.Error()
			} else {
				return nil, fmt.Errorf("pull request #%d: %w", pr.Number, err)
			}
		}
		if p.Problem == "" && len(p.Promotions) == 0 {
			continue // not a promotion
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b PullRequest) int { return cmp.Compare(a.Number, b.Number) })
	return out, nil
}

// isMissingObject reports whether err says the local repository lacks the
// pull request's commits.
func isMissingObject(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "object not found") || strings.Contains(err.Error(), "not in the local repository"))
}

// evaluatePull evaluates the pull request as the bot does, from the local
// repository and GitHub's reviews, and fills in what it lacks. Artifact
// storage is not read: the bot's check run says what it concluded.
func (r *Repository) evaluatePull(ctx context.Context, repo *gitrepo.Repo, snap *Snapshot, pr *githubapi.PullRequest, p *PullRequest) error {
	if run, err := r.GitHub.LatestCheckRun(ctx, r.Owner, r.Name, pr.HeadSHA, audit.CheckName, 0); err == nil && run != nil {
		p.CheckConclusion, p.CheckTitle = cmp.Or(run.Conclusion, run.Status), run.Title
	} else if err != nil && !githubapi.IsNotFound(err) {
		return err
	}
	head, err := repo.Resolve(pr.HeadSHA)
	if err != nil {
		return fmt.Errorf("the head %s is not in the local repository (fetch refs/pull/%d/head): %w", short(pr.HeadSHA), pr.Number, err)
	}
	base := plumbing.NewHash(snap.Tip)
	commits, err := r.GitHub.PullRequestCommits(ctx, r.Owner, r.Name, pr.Number)
	if err != nil {
		return err
	}
	in, err := repo.BuildInput(ctx, base, head, gitrepo.InputOptions{Identities: evalinput.Identities(commits)})
	if err != nil {
		return err
	}
	in.PullRequest.Number, in.PullRequest.Title, in.PullRequest.Author = pr.Number, pr.Title, pr.Author
	in.PullRequest.BaseRef, in.PullRequest.Labels = pr.BaseRef, pr.Labels
	reviews, err := r.GitHub.Reviews(ctx, r.Owner, r.Name, pr.Number)
	if err != nil {
		return err
	}
	in.Reviews = evalinput.Reviews(reviews)
	if in.Teams, err = evalinput.Teams(ctx, r.GitHub, in); err != nil {
		return err
	}
	if in.WritePermission, err = evalinput.WritePermissions(ctx, r.GitHub, r.Owner, r.Name, in); err != nil {
		return err
	}
	in.Now = r.now()
	res := evaluate.Evaluate(in)
	p.Promotions = res.Promotions
	for _, a := range res.Approvals {
		switch {
		case len(a.ChangesRequested) > 0:
			p.Missing = append(p.Missing, Missing{File: a.File, Environment: a.Environment, Kind: "changes requested", From: a.ChangesRequested, Approvers: a.Approvers})
		case a.Missing > 0:
			p.Missing = append(p.Missing, Missing{File: a.File, Environment: a.Environment, Kind: "approval", Count: a.Missing, From: a.Owners, Approvers: a.Approvers})
		}
		if g := a.Governance; g != nil && g.Missing > 0 {
			p.Missing = append(p.Missing, Missing{File: a.File, Environment: a.Environment, Kind: "governance", Reason: g.Reason, Count: g.Missing, From: g.Owners, Approvers: g.Approvers})
		}
	}
	for _, rule := range res.Rules {
		if rule.Blocks() && rule.Family != "approvals" && !evaluate.StorageRule(rule.ID) {
			msg := rule.Message
			if rule.File != "" && !strings.Contains(msg, rule.File) {
				msg = rule.File + ": " + msg
			}
			p.Blocking = append(p.Blocking, msg)
		}
	}
	return nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
