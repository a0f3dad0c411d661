package githubapi

import (
	"context"

	"github.com/google/go-github/v60/github"
)

// The calls below keep go-github's shapes for the packages that read its
// types (promote opens pull requests, the audit reviewer reads reviews and
// check runs). Their errors are go-github's, unwrapped, so that each of
// those packages can say in its own words what failed; the requests take
// the client's full route (retries, rate limits, cache, metrics).

// ListPullRequests lists a repository's pull requests.
func (c *Client) ListPullRequests(ctx context.Context, owner, repo string, opts *github.PullRequestListOptions) ([]*github.PullRequest, *github.Response, error) {
	return c.gh.PullRequests.List(ctx, owner, repo, opts)
}

// GetPullRequest returns one pull request.
func (c *Client) GetPullRequest(ctx context.Context, owner, repo string, number int) (*github.PullRequest, *github.Response, error) {
	return c.gh.PullRequests.Get(ctx, owner, repo, number)
}

// CreatePullRequest opens a pull request.
func (c *Client) CreatePullRequest(ctx context.Context, owner, repo string, pull *github.NewPullRequest) (*github.PullRequest, *github.Response, error) {
	return c.gh.PullRequests.Create(ctx, owner, repo, pull)
}

// EditPullRequest updates a pull request's title, body, state or base.
func (c *Client) EditPullRequest(ctx context.Context, owner, repo string, number int, pull *github.PullRequest) (*github.PullRequest, *github.Response, error) {
	return c.gh.PullRequests.Edit(ctx, owner, repo, number, pull)
}

// ListPullRequestsWithCommit lists the pull requests a commit belongs to.
func (c *Client) ListPullRequestsWithCommit(ctx context.Context, owner, repo, sha string, opts *github.ListOptions) ([]*github.PullRequest, *github.Response, error) {
	return c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, opts)
}

// ListReviews lists one page of a pull request's reviews.
func (c *Client) ListReviews(ctx context.Context, owner, repo string, number int, opts *github.ListOptions) ([]*github.PullRequestReview, *github.Response, error) {
	return c.gh.PullRequests.ListReviews(ctx, owner, repo, number, opts)
}

// ListCheckRunsForRef lists one page of the check runs on a ref.
func (c *Client) ListCheckRunsForRef(ctx context.Context, owner, repo, ref string, opts *github.ListCheckRunsOptions) (*github.ListCheckRunsResults, *github.Response, error) {
	return c.gh.Checks.ListCheckRunsForRef(ctx, owner, repo, ref, opts)
}

// AddLabelsToIssue adds labels to an issue or pull request.
func (c *Client) AddLabelsToIssue(ctx context.Context, owner, repo string, number int, labels []string) ([]*github.Label, *github.Response, error) {
	return c.gh.Issues.AddLabelsToIssue(ctx, owner, repo, number, labels)
}

// ListTeamMembersBySlug lists one page of a team's members.
func (c *Client) ListTeamMembersBySlug(ctx context.Context, org, slug string, opts *github.TeamListTeamMembersOptions) ([]*github.User, *github.Response, error) {
	return c.gh.Teams.ListTeamMembersBySlug(ctx, org, slug, opts)
}
