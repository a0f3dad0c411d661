package featurekit

import (
	"context"
	"errors"

	"github.com/example-org/promobot/internal/bot/workspace"
	"github.com/example-org/promobot/internal/githubapi"
	"github.com/example-org/promobot/internal/promote"
)

// AppAPI is the part of the REST API a feature uses that changes a
// repository as the App (promote.API, with an installation token for git)
// and answers on the pull request it acts on; *githubapi.Client
// implements it.
type AppAPI interface {
	CommentLister
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (githubapi.IssueComment, error)
	Tokener
	promote.API
}

// AppOptions configures a feature that acts in the repositories'
// workspaces as the App. Every field is required.
type AppOptions[API Tokener] struct {
	// Client returns the client of an installation.
	Client func(installation int64) (API, error)
	// BotLogin returns the App's bot login, such as "promobot[bot]".
	BotLogin func(ctx context.Context) (string, error)
	// Workspaces are the repositories' workspaces, shared with the other
	// features that write to the repositories.
	Workspaces *workspace.Set
}

// Check returns an error, prefixed with the feature's name, when a field
// is missing.
func (o AppOptions[API]) Check(feature string) error {
	if o.Client == nil || o.BotLogin == nil || o.Workspaces == nil {
		return errors.New(feature + ": a GitHub client, the bot login and the workspaces are required")
	}
	return nil
}

// StartJob returns the Job of an installation (see StartJob).
func (o AppOptions[API]) StartJob(ctx context.Context, installation int64) (*Job[API], error) {
	return StartJob(ctx, o.Client, o.BotLogin, installation)
}

// Open locks and fetches the workspace of t's repository at branch, with
// an installation token; the returned function unlocks it.
func (o AppOptions[API]) Open(ctx context.Context, t Target, token, branch string) (*workspace.Workspace, func(), error) {
	return o.Workspaces.Open(ctx, t.FullName(), t.CloneURL, token, branch)
}
