// Package keptissue keeps one open issue per repository and title up to
// date: the scheduled access review and the drift monitor each report in
// one issue that is edited, never duplicated.
package keptissue

import (
	"context"
	"strings"

	"github.com/example-org/promobot/internal/githubapi"
)

// Issues is what Keep asks GitHub. *githubapi.Client implements it.
type Issues interface {
	OpenIssues(ctx context.Context, owner, repo string) ([]githubapi.Issue, error)
	CreateIssue(ctx context.Context, owner, repo, title, body string) (githubapi.Issue, error)
	EditIssueBody(ctx context.Context, owner, repo string, number int, body string) error
}

// Repo names a repository.
type Repo struct {
	Owner, Name string
}

// String returns "owner/name".
func (r Repo) String() string { return r.Owner + "/" + r.Name }

// Keep makes the open issue of repo titled title, opened by author (any
// author when empty), hold body: it edits the issue when its body differs,
// or opens it when there is none and open is true. It returns the issue's
// number, zero when none exists and none was opened.
func Keep(ctx context.Context, gh Issues, repo Repo, author, title, body string, open bool) (int, error) {
	issues, err := gh.OpenIssues(ctx, repo.Owner, repo.Name)
	if err != nil {
		return 0, err
	}
	for _, is := range issues {
		if is.PullRequest || is.Title != title || (author != "" && !strings.EqualFold(is.Author, author)) {
			continue
		}
		if is.Body == body {
			return is.Number, nil
		}
		return is.Number, gh.EditIssueBody(ctx, repo.Owner, repo.Name, is.Number, body)
	}
	if !open {
		return 0, nil
	}
	is, err := gh.CreateIssue(ctx, repo.Owner, repo.Name, title, body)
	return is.Number, err
}
