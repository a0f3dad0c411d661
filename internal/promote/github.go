package promote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// API is the part of the GitHub REST API the executor uses, declared here
// so that it stays this narrow. *githubapi.Client implements it.
type API interface {
	ListPullRequests(ctx context.Context, owner, repo string, opts *github.PullRequestListOptions) ([]*github.PullRequest, *github.Response, error)
	GetPullRequest(ctx context.Context, owner, repo string, number int) (*github.PullRequest, *github.Response, error)
	CreatePullRequest(ctx context.Context, owner, repo string, pull *github.NewPullRequest) (*github.PullRequest, *github.Response, error)
	EditPullRequest(ctx context.Context, owner, repo string, number int, pull *github.PullRequest) (*github.PullRequest, *github.Response, error)
	AddLabelsToIssue(ctx context.Context, owner, repo string, number int, labels []string) ([]*github.Label, *github.Response, error)
	ListTeamMembersBySlug(ctx context.Context, org, slug string, opts *github.TeamListTeamMembersOptions) ([]*github.User, *github.Response, error)
}

// GitHub is where pull requests are opened.
type GitHub struct {
	// Owner and Repo name the repository, as in github.com/OWNER/REPO.
	Owner, Repo string
	api         API
}

// NewGitHub returns the pull request side of an executor backed by api,
// which carries the credentials: a personal token, a GITHUB_TOKEN or an
// App installation token.
func NewGitHub(api API, owner, repo string) *GitHub {
	return &GitHub{Owner: owner, Repo: repo, api: api}
}

// maxTeamPages bounds how many pages of members one team may take.
const maxTeamPages = 10

// teamLogins returns the active members of each team owner ("@org/slug"),
// keyed like evaluate.Input.Teams ("org/slug", lower case). Teams the
// credentials cannot read are left out: the report then says their members
// are unknown, which is true, and the check run resolves them later.
func (g *GitHub) teamLogins(ctx context.Context, owners []string) map[string][]string {
	out := map[string][]string{}
	for _, o := range owners {
		org, slug, ok := strings.Cut(strings.TrimPrefix(o, "@"), "/")
		key := strings.ToLower(org + "/" + slug)
		if !ok || !strings.HasPrefix(o, "@") || out[key] != nil {
			continue
		}
		var logins []string
		opts := &github.TeamListTeamMembersOptions{ListOptions: github.ListOptions{PerPage: 100}}
		for page := 0; page < maxTeamPages; page++ {
			users, resp, err := g.api.ListTeamMembersBySlug(ctx, org, slug, opts)
			if err != nil {
				logins = nil
				break
			}
			for _, u := range users {
				logins = append(logins, u.GetLogin())
			}
			if resp == nil || resp.NextPage == 0 {
				if logins == nil {
					logins = []string{}
				}
				break
			}
			opts.Page = resp.NextPage
		}
		if logins != nil {
			out[key] = logins
		}
	}
	return out
}

// PullRequest is the pull request a change was proposed in.
type PullRequest struct {
	Number int    `json:"number"`
	URL    string `json:"url"`
	// Created is true when this run opened it, false when it updated an
	// open pull request for the same branch.
	Created bool `json:"created"`
}

// upsert opens the pull request for a plan, or updates the title, body and
// labels of the one already open for the same branch.
func (g *GitHub) upsert(ctx context.Context, plan *Plan, baseBranch, body string) (*PullRequest, error) {
	open, _, err := g.api.ListPullRequests(ctx, g.Owner, g.Repo, &github.PullRequestListOptions{
		State: "open", Head: g.Owner + ":" + plan.Branch, ListOptions: github.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, githubError("list open pull requests for "+plan.Branch, err)
	}
	var pr *github.PullRequest
	for _, p := range open {
		if p.GetHead().GetRef() == plan.Branch {
			pr = p
			break
		}
	}
	out := &PullRequest{}
	if pr == nil {
		pr, _, err = g.api.CreatePullRequest(ctx, g.Owner, g.Repo, &github.NewPullRequest{
			Title: github.String(plan.Title), Head: github.String(plan.Branch), Base: github.String(baseBranch),
			Body: github.String(body), MaintainerCanModify: github.Bool(false),
		})
		if err != nil {
			return nil, githubError("open a pull request for "+plan.Branch, err)
		}
		out.Created = true
	} else if pr.GetTitle() != plan.Title || pr.GetBody() != body {
		pr, _, err = g.api.EditPullRequest(ctx, g.Owner, g.Repo, pr.GetNumber(), &github.PullRequest{
			Title: github.String(plan.Title), Body: github.String(body),
		})
		if err != nil {
			return nil, githubError(fmt.Sprintf("update pull request #%d", pr.GetNumber()), err)
		}
	}
	out.Number, out.URL = pr.GetNumber(), pr.GetHTMLURL()
	if missing := missingLabels(pr, plan.Labels); len(missing) > 0 {
		if _, _, err := g.api.AddLabelsToIssue(ctx, g.Owner, g.Repo, out.Number, missing); err != nil {
			return out, githubError(fmt.Sprintf("label pull request #%d", out.Number), err)
		}
	}
	return out, nil
}

func missingLabels(pr *github.PullRequest, want []string) []string {
	have := map[string]bool{}
	for _, l := range pr.Labels {
		have[strings.ToLower(l.GetName())] = true
	}
	var out []string
	for _, w := range want {
		if !have[strings.ToLower(w)] {
			out = append(out, w)
		}
	}
	return out
}

// GitHubError is a failed GitHub API call. Retryable says whether trying
// again later can help (rate limits, server errors, network failures).
type GitHubError struct {
	Op        string
	Status    int
	Retryable bool
	Err       error
}

// Error says what failed.
func (e *GitHubError) Error() string {
	hint := ""
	if e.Retryable {
		hint = " (temporary; try again)"
	}
	return fmt.Sprintf("GitHub: %s: %v%s", e.Op, e.Err, hint)
}

// Unwrap returns the cause.
func (e *GitHubError) Unwrap() error { return e.Err }

func githubError(op string, err error) error {
	ge := &GitHubError{Op: op, Err: err, Retryable: true}
	var rerr *github.ErrorResponse
	var rate *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rate), errors.As(err, &abuse):
	case errors.As(err, &rerr) && rerr.Response != nil:
		ge.Status = rerr.Response.StatusCode
		ge.Retryable = ge.Status >= 500 || ge.Status == http.StatusTooManyRequests
	}
	return ge
}
