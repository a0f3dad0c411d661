package featurekit

import (
	"context"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/bot"
	"github.com/example-org/promobot/internal/bot/workspace"
)

// DefaultBranch returns the default branch of repo, "main" when the
// payload did not say.
func DefaultBranch(repo bot.Repo) string {
	if repo.DefaultBranch == "" {
		return "main"
	}
	return repo.DefaultBranch
}

// Checkout is a job's workspace of a repository's default branch, locked,
// fetched and with its audit history read.
type Checkout[API Tokener] struct {
	*Job[API]
	// Branch is the default branch (see DefaultBranch).
	Branch    string
	Workspace *workspace.Workspace
	// History is the branch's audit history; History.Tip is its tip.
	History *audit.History
}

// OpenDefaultBranch starts a job of repo's installation (see StartJob),
// locks and fetches the workspace of its default branch and reads the
// branch's history. The returned function, to be called once done with
// the checkout, closes the history and unlocks the workspace; on an error
// nothing stays open.
func OpenDefaultBranch[API Tokener](ctx context.Context, client func(installation int64) (API, error), botLogin func(context.Context) (string, error), workspaces *workspace.Set, repo bot.Repo) (*Checkout[API], func(), error) {
	j, err := StartJob(ctx, client, botLogin, repo.Installation)
	if err != nil {
		return nil, nil, err
	}
	branch := DefaultBranch(repo)
	ws, unlock, err := workspaces.Open(ctx, repo.FullName(), repo.CloneURL, j.Token, branch)
	if err != nil {
		return nil, nil, err
	}
	gitRepo, h, err := ws.History(ctx)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	done := func() {
		gitRepo.Close()
		unlock()
	}
	return &Checkout[API]{Job: j, Branch: branch, Workspace: ws, History: h}, done, nil
}
