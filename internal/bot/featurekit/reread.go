package featurekit

import (
	"context"

	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/githubapi"
)

// RepositoryGetter reads one repository; *githubapi.Client implements it.
type RepositoryGetter interface {
	Repository(ctx context.Context, owner, repo string) (githubapi.Repository, error)
}

// Reread returns repo as GitHub has it now: its default branch, and its
// clone URL when GitHub names one. A durable job's message names a
// repository; what it says of the repository beyond its name is a hint,
// read again before the job acts on it.
func Reread(ctx context.Context, gh RepositoryGetter, repo bot.Repo) (bot.Repo, error) {
	r, err := gh.Repository(ctx, repo.Owner, repo.Name)
	if err != nil {
		return repo, err
	}
	repo.DefaultBranch = r.DefaultBranch
	if r.CloneURL != "" {
		repo.CloneURL = r.CloneURL
	}
	return repo, nil
}
