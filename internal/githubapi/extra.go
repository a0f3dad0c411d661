package githubapi

// The calls of the bot's resynchronization, merge-queue and push handling:
// what an installation can see, its open pull requests, and the bot's own
// latest check run on a commit.

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"
)

// InstallationIDs lists the ids of the App's installations that are not
// suspended, authenticating as the App itself.
func (a *Apps) InstallationIDs(ctx context.Context) ([]int64, error) {
	if a.apps == nil {
		return nil, errNoApp
	}
	gh := a.appClient()
	var out []int64
	err := paginate(ctx, "list the App's installations", func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := gh.Apps.ListInstallations(ctx, opts)
		for _, inst := range page {
			if inst.GetID() > 0 && inst.SuspendedAt == nil {
				out = append(out, inst.GetID())
			}
		}
		return resp, err
	})
	return out, err
}

// Repository is a repository an installation can access.
type Repository struct {
	// Owner and Name spell "owner/name".
	Owner, Name string
	// CloneURL is the HTTPS clone URL.
	CloneURL string
	// DefaultBranch is the branch pull requests usually merge into.
	DefaultBranch string
	// Archived repositories take no more pull requests.
	Archived bool
}

// repository converts GitHub's repository.
func repository(r *github.Repository) Repository {
	return Repository{
		Owner: r.GetOwner().GetLogin(), Name: r.GetName(), CloneURL: r.GetCloneURL(),
		DefaultBranch: r.GetDefaultBranch(), Archived: r.GetArchived(),
	}
}

// Repositories lists the repositories the installation can access.
func (c *Client) Repositories(ctx context.Context) ([]Repository, error) {
	var out []Repository
	err := paginate(ctx, "list the installation's repositories", func(opts *github.ListOptions) (*github.Response, error) {
		list, resp, err := c.gh.Apps.ListRepos(ctx, opts)
		if list != nil {
			for _, r := range list.Repositories {
				out = append(out, repository(r))
			}
		}
		return resp, err
	})
	return out, err
}

// OpenPullRequests lists the open pull requests of a repository, those
// merging into base only when base is not empty.
func (c *Client) OpenPullRequests(ctx context.Context, owner, repo, base string) ([]*PullRequest, error) {
	op := fmt.Sprintf("list open pull requests of %s/%s", owner, repo)
	if base != "" {
		op += " into " + base
	}
	var out []*PullRequest
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.PullRequests.List(ctx, owner, repo, &github.PullRequestListOptions{
			State: "open", Base: base, Sort: "created", Direction: "asc", ListOptions: *opts,
		})
		for _, pr := range page {
			out = append(out, FromGitHub(pr))
		}
		return resp, err
	})
	return out, err
}

// PullRequestsWithHead lists the pull requests of owner/repo, open or not,
// whose head commit is sha.
func (c *Client) PullRequestsWithHead(ctx context.Context, owner, repo, sha string) ([]*PullRequest, error) {
	op := fmt.Sprintf("list pull requests of commit %s in %s/%s", sha, owner, repo)
	var out []*PullRequest
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, opts)
		for _, pr := range page {
			if pr.GetHead().GetSHA() == sha {
				out = append(out, FromGitHub(pr))
			}
		}
		return resp, err
	})
	return out, err
}

// ExistingCheckRun is a check run as GitHub reports it.
type ExistingCheckRun struct {
	ID int64
	// Status is "queued", "in_progress" or "completed"; Conclusion is set
	// once completed.
	Status, Conclusion string
	// Title is the output's title.
	Title      string
	ExternalID string
	StartedAt  time.Time
	// CompletedAt is zero until completed.
	CompletedAt time.Time
}

// LatestCheckRun returns the newest check run named name that App appID
// posted on commit sha, or nil when there is none.
func (c *Client) LatestCheckRun(ctx context.Context, owner, repo, sha, name string, appID int64) (*ExistingCheckRun, error) {
	op := fmt.Sprintf("list check runs of commit %s in %s/%s", sha, owner, repo)
	var latest *ExistingCheckRun
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		res, resp, err := c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, sha, &github.ListCheckRunsOptions{
			CheckName: github.String(name), AppID: github.Int64(appID), Filter: github.String("latest"), ListOptions: *opts,
		})
		if res != nil {
			for _, run := range res.CheckRuns {
				if run.GetName() != name || (run.GetApp().GetID() != 0 && run.GetApp().GetID() != appID) {
					continue
				}
				if latest == nil || run.GetID() > latest.ID {
					latest = &ExistingCheckRun{
						ID: run.GetID(), Status: run.GetStatus(), Conclusion: run.GetConclusion(),
						Title: run.GetOutput().GetTitle(), ExternalID: run.GetExternalID(),
						StartedAt: run.GetStartedAt().Time, CompletedAt: run.GetCompletedAt().Time,
					}
				}
			}
		}
		return resp, err
	})
	return latest, err
}

// BranchHead returns the commit branch points at.
func (c *Client) BranchHead(ctx context.Context, owner, repo, branch string) (string, error) {
	ref, _, err := c.gh.Git.GetRef(ctx, owner, repo, "heads/"+branch)
	if err != nil {
		return "", classify(fmt.Sprintf("get branch %s of %s/%s", branch, owner, repo), err)
	}
	return ref.GetObject().GetSHA(), nil
}

// StartCheckRun creates a check run, like CreateCheckRun, and also returns
// the numbers of the open pull requests GitHub lists on it: those of this
// repository whose head is the check run's commit (or branch). It costs no
// request more than CreateCheckRun. Pull requests from forks are never
// listed.
func (c *Client) StartCheckRun(ctx context.Context, owner, repo string, run CheckRun) (int64, []int, error) {
	opts := github.CreateCheckRunOptions{
		Name:        run.Name,
		HeadSHA:     run.HeadSHA,
		DetailsURL:  optional(run.DetailsURL),
		ExternalID:  optional(run.ExternalID),
		Status:      optional(run.Status),
		Conclusion:  optional(run.Conclusion),
		StartedAt:   timestamp(run.StartedAt),
		CompletedAt: timestamp(run.CompletedAt),
		Output:      output(run.Output),
	}
	cr, _, err := c.gh.Checks.CreateCheckRun(ctx, owner, repo, opts)
	if err != nil {
		return 0, nil, classify(fmt.Sprintf("create check run %q on %s in %s/%s", run.Name, run.HeadSHA, owner, repo), err)
	}
	var numbers []int
	for _, pr := range cr.PullRequests {
		if n := pr.GetNumber(); n > 0 {
			numbers = append(numbers, n)
		}
	}
	return cr.GetID(), numbers, nil
}
