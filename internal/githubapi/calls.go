package githubapi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// perPage is the page size of list calls: GitHub's maximum, so that a
// typical pull request's reviews or commits cost one request.
const perPage = 100

// maxPages bounds pagination, against a server that never stops.
const maxPages = 100

// PullRequest is the part of a pull request the bot reads.
type PullRequest struct {
	Number int
	// State is "open" or "closed".
	State  string
	Draft  bool
	Merged bool
	Title  string
	// Author is the login of the user who opened it.
	Author  string
	BaseRef string
	BaseSHA string
	HeadRef string
	HeadSHA string
	// BaseRepo is the base repository's "owner/name"; HeadRepo the head's,
	// empty when the head repository was deleted.
	BaseRepo string
	HeadRepo string
	// CloneURL is the base repository's HTTPS clone URL.
	CloneURL string
	Labels   []string
	// MergeCommitSHA is, once merged, the commit the merge made on the base
	// branch (the last one for a rebase merge).
	MergeCommitSHA string
	// URL is the pull request's web page.
	URL string
}

// Commit is one commit of a pull request as the API reports it: the GitHub
// accounts behind the git author and committer, when GitHub could map them.
type Commit struct {
	SHA            string
	AuthorName     string
	AuthorEmail    string
	AuthorLogin    string
	CommitterName  string
	CommitterEmail string
	CommitterLogin string
}

// Review is one pull request review.
type Review struct {
	ID int64
	// User is the reviewer's login; UserID the reviewer's numeric id.
	User   string
	UserID int64
	// State is "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED" or
	// "PENDING".
	State       string
	CommitID    string
	SubmittedAt time.Time
}

// The check run statuses and conclusions the bot uses.
const (
	StatusInProgress  = "in_progress"
	StatusCompleted   = "completed"
	ConclusionSuccess = "success"
	ConclusionFailure = "failure"
)

// The annotation levels.
const (
	LevelNotice  = "notice"
	LevelWarning = "warning"
	LevelFailure = "failure"
)

// MaxAnnotationsPerRequest is how many annotations GitHub accepts in one
// check run create or update request.
const MaxAnnotationsPerRequest = 50

// CheckRun is a check run to create or update. Empty fields are not sent.
type CheckRun struct {
	Name       string
	HeadSHA    string // create only
	Status     string
	Conclusion string
	ExternalID string
	DetailsURL string
	// StartedAt (create only) and CompletedAt are sent when not zero.
	StartedAt   time.Time
	CompletedAt time.Time
	Output      *Output
}

// Output is a check run's output. Annotations given in an update are added
// to those already posted.
type Output struct {
	Title       string
	Summary     string
	Text        string
	Annotations []Annotation
}

// Annotation marks lines of a file in a check run.
type Annotation struct {
	Path      string
	StartLine int
	EndLine   int
	// StartColumn and EndColumn are sent only for a single-line annotation,
	// as GitHub requires.
	StartColumn int
	EndColumn   int
	// Level is LevelNotice, LevelWarning or LevelFailure.
	Level      string
	Title      string
	Message    string
	RawDetails string
}

// PullRequest gets one pull request.
func (c *Client) PullRequest(ctx context.Context, owner, repo string, number int) (*PullRequest, error) {
	pr, _, err := c.gh.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return nil, classify(fmt.Sprintf("get pull request %s/%s#%d", owner, repo, number), err)
	}
	return FromGitHub(pr), nil
}

// FromGitHub converts go-github's pull request, as found in webhook
// payloads, to the bot's view. It is nil-safe.
func FromGitHub(pr *github.PullRequest) *PullRequest {
	out := &PullRequest{
		Number:   pr.GetNumber(),
		State:    pr.GetState(),
		Draft:    pr.GetDraft(),
		Merged:   pr.GetMerged(),
		Title:    pr.GetTitle(),
		Author:   pr.GetUser().GetLogin(),
		BaseRef:  pr.GetBase().GetRef(),
		BaseSHA:  pr.GetBase().GetSHA(),
		HeadRef:  pr.GetHead().GetRef(),
		HeadSHA:  pr.GetHead().GetSHA(),
		BaseRepo: pr.GetBase().GetRepo().GetFullName(),
		HeadRepo: pr.GetHead().GetRepo().GetFullName(),
		CloneURL: pr.GetBase().GetRepo().GetCloneURL(),

		MergeCommitSHA: pr.GetMergeCommitSHA(),
		URL:            pr.GetHTMLURL(),
	}
	for _, l := range pr.Labels {
		if name := l.GetName(); name != "" {
			out.Labels = append(out.Labels, name)
		}
	}
	return out
}

// PullRequestCommits lists the commits of a pull request, oldest first.
// GitHub lists at most 250.
func (c *Client) PullRequestCommits(ctx context.Context, owner, repo string, number int) ([]Commit, error) {
	op := fmt.Sprintf("list commits of %s/%s#%d", owner, repo, number)
	var out []Commit
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.PullRequests.ListCommits(ctx, owner, repo, number, opts)
		for _, rc := range page {
			out = append(out, Commit{
				SHA:            rc.GetSHA(),
				AuthorName:     rc.GetCommit().GetAuthor().GetName(),
				AuthorEmail:    rc.GetCommit().GetAuthor().GetEmail(),
				AuthorLogin:    rc.GetAuthor().GetLogin(),
				CommitterName:  rc.GetCommit().GetCommitter().GetName(),
				CommitterEmail: rc.GetCommit().GetCommitter().GetEmail(),
				CommitterLogin: rc.GetCommitter().GetLogin(),
			})
		}
		return resp, err
	})
	return out, err
}

// Reviews lists every review of a pull request in submission order.
func (c *Client) Reviews(ctx context.Context, owner, repo string, number int) ([]Review, error) {
	op := fmt.Sprintf("list reviews of %s/%s#%d", owner, repo, number)
	var out []Review
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.PullRequests.ListReviews(ctx, owner, repo, number, opts)
		for _, r := range page {
			out = append(out, Review{
				ID:          r.GetID(),
				User:        r.GetUser().GetLogin(),
				UserID:      r.GetUser().GetID(),
				State:       strings.ToUpper(r.GetState()),
				CommitID:    r.GetCommitID(),
				SubmittedAt: r.GetSubmittedAt().Time,
			})
		}
		return resp, err
	})
	return out, err
}

// TeamMembers lists the logins of a team's members (pending invitations
// excluded). A team the installation cannot see is an error for which
// IsNotFound holds.
func (c *Client) TeamMembers(ctx context.Context, org, slug string) ([]string, error) {
	op := fmt.Sprintf("list members of team %s/%s", org, slug)
	var out []string
	err := paginate(ctx, op, func(opts *github.ListOptions) (*github.Response, error) {
		page, resp, err := c.gh.Teams.ListTeamMembersBySlug(ctx, org, slug, &github.TeamListTeamMembersOptions{ListOptions: *opts})
		for _, u := range page {
			if login := u.GetLogin(); login != "" {
				out = append(out, login)
			}
		}
		return resp, err
	})
	return out, err
}

// Permission returns a user's permission on a repository: "admin",
// "write", "read" or "none" ("maintain" and "triage" users are reported as
// "write" and "read", as GitHub does in this field).
func (c *Client) Permission(ctx context.Context, owner, repo, login string) (string, error) {
	p, _, err := c.gh.Repositories.GetPermissionLevel(ctx, owner, repo, login)
	if err != nil {
		return "", classify(fmt.Sprintf("get the permission of %s on %s/%s", login, owner, repo), err)
	}
	return p.GetPermission(), nil
}

// CreateCheckRun creates a check run and returns its id.
func (c *Client) CreateCheckRun(ctx context.Context, owner, repo string, run CheckRun) (int64, error) {
	id, _, err := c.StartCheckRun(ctx, owner, repo, run)
	return id, err
}

// UpdateCheckRun updates a check run.
func (c *Client) UpdateCheckRun(ctx context.Context, owner, repo string, id int64, run CheckRun) error {
	opts := github.UpdateCheckRunOptions{
		Name:        run.Name,
		DetailsURL:  optional(run.DetailsURL),
		ExternalID:  optional(run.ExternalID),
		Status:      optional(run.Status),
		Conclusion:  optional(run.Conclusion),
		CompletedAt: timestamp(run.CompletedAt),
		Output:      output(run.Output),
	}
	if _, _, err := c.gh.Checks.UpdateCheckRun(ctx, owner, repo, id, opts); err != nil {
		return classify(fmt.Sprintf("update check run %d in %s/%s", id, owner, repo), err)
	}
	return nil
}

// paginate calls list for every page until the last, classifying errors.
func paginate(ctx context.Context, op string, list func(*github.ListOptions) (*github.Response, error)) error {
	opts := &github.ListOptions{PerPage: perPage}
	for range maxPages {
		resp, err := list(opts)
		if err != nil {
			return classify(op, err)
		}
		if resp == nil || resp.NextPage == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return classify(op, err)
		}
		opts.Page = resp.NextPage
	}
	return &Error{Op: op, Err: fmt.Errorf("more than %d pages", maxPages), Terminal: true}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timestamp(t time.Time) *github.Timestamp {
	if t.IsZero() {
		return nil
	}
	return &github.Timestamp{Time: t}
}

func output(o *Output) *github.CheckRunOutput {
	if o == nil {
		return nil
	}
	out := &github.CheckRunOutput{Title: &o.Title, Summary: &o.Summary, Text: optional(o.Text)}
	for _, a := range o.Annotations {
		ga := &github.CheckRunAnnotation{
			Path:            github.String(a.Path),
			StartLine:       github.Int(a.StartLine),
			EndLine:         github.Int(a.EndLine),
			AnnotationLevel: github.String(a.Level),
			Message:         github.String(a.Message),
			Title:           optional(a.Title),
			RawDetails:      optional(a.RawDetails),
		}
		if a.StartLine == a.EndLine && a.StartColumn > 0 {
			ga.StartColumn = github.Int(a.StartColumn)
			ga.EndColumn = github.Int(max(a.EndColumn, a.StartColumn))
		}
		out.Annotations = append(out.Annotations, ga)
	}
	return out
}
