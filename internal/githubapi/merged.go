package githubapi

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// MergedPullRequestsOf lists the merged pull requests of owner/repo whose
// merge commit is sha (for a rebase merge, the last commit it made), as
// GitHub reports them now.
func (c *Client) MergedPullRequestsOf(ctx context.Context, owner, repo, sha string) ([]*PullRequest, error) {
	op := fmt.Sprintf("list pull requests of commit %s in %s/%s", sha, owner, repo)
	var out []*PullRequest
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, opts)
		for _, pr := range page {
			if pr.MergedAt != nil && pr.GetMergeCommitSHA() == sha {
				p := FromGitHub(pr)
				p.Merged = true
				out = append(out, p)
			}
		}
		return resp, err
	})
	return out, err
}
