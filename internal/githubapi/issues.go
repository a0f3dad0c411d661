package githubapi

// The calls of the bot's optional features: comments for chat-ops, issues
// and commit statuses for bypass detection, the App's own identity, and the
// go-github client for the packages that take one (promote, githubreview).

import (
	"context"
	"fmt"

	"github.com/google/go-github/v60/github"
)

// Issue is an issue, or the issue side of a pull request, as the issues
// API lists it.
type Issue struct {
	Number int
	Title  string
	Body   string
	// Author is the login of the user or bot that opened it.
	Author string
	// URL is the issue's page on GitHub.
	URL string
	// PullRequest is true for the issue side of a pull request.
	PullRequest bool
}

// IssueComment is a comment on an issue or pull request.
type IssueComment struct {
	ID int64
	// Author is the commenter's login.
	Author string
	// AuthorType is the commenter's account type ("User", "Bot").
	AuthorType string
	Body       string
	// URL is the comment's page on GitHub.
	URL string
	// IssueURL is the API address of the issue or pull request commented
	// on.
	IssueURL string
}

// issueComment converts GitHub's comment.
func issueComment(cm *github.IssueComment) IssueComment {
	return IssueComment{
		ID: cm.GetID(), Author: cm.GetUser().GetLogin(), AuthorType: cm.GetUser().GetType(),
		Body: cm.GetBody(), URL: cm.GetHTMLURL(), IssueURL: cm.GetIssueURL(),
	}
}

// CommitStatus is a commit status to create.
type CommitStatus struct {
	// State is "error", "failure", "pending" or "success".
	State string
	// Context names the status, such as "promobot/audit".
	Context string
	// Description is shown beside the status; GitHub keeps 140 characters.
	Description string
	// TargetURL, when set, is where the status links to.
	TargetURL string
}

func issueOf(is *github.Issue) Issue {
	return Issue{
		Number: is.GetNumber(), Title: is.GetTitle(), Body: is.GetBody(), Author: is.GetUser().GetLogin(),
		URL: is.GetHTMLURL(), PullRequest: is.IsPullRequest(),
	}
}

// OpenIssues lists the open issues of a repository, pull requests
// included, newest first.
func (c *Client) OpenIssues(ctx context.Context, owner, repo string) ([]Issue, error) {
	op := fmt.Sprintf("list open issues of %s/%s", owner, repo)
	var out []Issue
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.Issues.ListByRepo(ctx, owner, repo, &github.IssueListByRepoOptions{
			State: "open", Sort: "created", Direction: "desc", ListOptions: *opts,
		})
		for _, is := range page {
			out = append(out, issueOf(is))
		}
		return resp, err
	})
	return out, err
}

// CreateIssue opens an issue.
func (c *Client) CreateIssue(ctx context.Context, owner, repo, title, body string) (Issue, error) {
	is, _, err := c.gh.Issues.Create(ctx, owner, repo, &github.IssueRequest{Title: &title, Body: &body})
	if err != nil {
		return Issue{}, classify(fmt.Sprintf("open an issue in %s/%s", owner, repo), err)
	}
	return issueOf(is), nil
}

// EditIssueBody replaces the body of an issue.
func (c *Client) EditIssueBody(ctx context.Context, owner, repo string, number int, body string) error {
	if _, _, err := c.gh.Issues.Edit(ctx, owner, repo, number, &github.IssueRequest{Body: &body}); err != nil {
		return classify(fmt.Sprintf("edit issue %s/%s#%d", owner, repo, number), err)
	}
	return nil
}

// IssueComments lists the comments of an issue or pull request, oldest
// first.
func (c *Client) IssueComments(ctx context.Context, owner, repo string, number int) ([]IssueComment, error) {
	op := fmt.Sprintf("list comments of %s/%s#%d", owner, repo, number)
	var out []IssueComment
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, &github.IssueListCommentsOptions{ListOptions: *opts})
		for _, cm := range page {
			out = append(out, issueComment(cm))
		}
		return resp, err
	})
	return out, err
}

// CreateComment comments on an issue or pull request.
func (c *Client) CreateComment(ctx context.Context, owner, repo string, number int, body string) (IssueComment, error) {
	cm, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &github.IssueComment{Body: &body})
	if err != nil {
		return IssueComment{}, classify(fmt.Sprintf("comment on %s/%s#%d", owner, repo, number), err)
	}
	return issueComment(cm), nil
}

// CreateStatus sets a commit status on sha.
func (c *Client) CreateStatus(ctx context.Context, owner, repo, sha string, s CommitStatus) error {
	_, _, err := c.gh.Repositories.CreateStatus(ctx, owner, repo, sha, &github.RepoStatus{
		State: &s.State, Context: &s.Context, Description: optional(s.Description), TargetURL: optional(s.TargetURL),
	})
	if err != nil {
		return classify(fmt.Sprintf("set status %s on %s in %s/%s", s.Context, sha, owner, repo), err)
	}
	return nil
}

// BotLogin returns the login of the App's bot user, such as
// "promobot[bot]": the author of everything the App writes. It asks
// GitHub (GET /app, as the App) once and remembers the answer.
func (a *Apps) BotLogin(ctx context.Context) (string, error) {
	a.mu.Lock()
	login := a.botLogin
	a.mu.Unlock()
	if login != "" {
		return login, nil
	}
	if a.apps == nil {
		return "", errNoApp
	}
	app, _, err := a.appClient().Apps.Get(ctx, "")
	if err != nil {
		return "", classify("get the App", err)
	}
	if app.GetSlug() == "" {
		return "", &Error{Op: "get the App", Err: fmt.Errorf("GitHub sent no slug"), Terminal: true}
	}
	login = app.GetSlug() + "[bot]"
	a.mu.Lock()
	a.botLogin = login
	a.mu.Unlock()
	return login, nil
}
