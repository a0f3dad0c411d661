package githubapi

// The calls that rebuild a feature's job from a durable queue's message:
// the message names a comment or a repository, and the job reads them from
// GitHub rather than trusting the message.

import (
	"context"
	"fmt"
)

// IssueComment gets one comment on an issue or pull request by its id,
// with the commenter's account type.
func (c *Client) IssueComment(ctx context.Context, owner, repo string, id int64) (IssueComment, error) {
	cm, _, err := c.gh.Issues.GetComment(ctx, owner, repo, id)
	if err != nil {
		return IssueComment{}, classify(fmt.Sprintf("get comment %d of %s/%s", id, owner, repo), err)
	}
	return issueComment(cm), nil
}

// Repository gets one repository: its clone URL and default branch.
func (c *Client) Repository(ctx context.Context, owner, repo string) (Repository, error) {
	r, _, err := c.gh.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return Repository{}, classify(fmt.Sprintf("get repository %s/%s", owner, repo), err)
	}
	return repository(r), nil
}
