package promote

import (
	"context"
	"fmt"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/repoconfig"
)

// TokenAuth returns git HTTP credentials for a GitHub token (a personal
// token, GITHUB_TOKEN or an App installation token), sent the way GitHub
// expects: user x-access-token, the token as password.
func TokenAuth(token string) transport.AuthMethod {
	return &githttp.BasicAuth{Username: gitrepo.TokenUser, Password: token}
}

// RollbackPullRequest opens the pull request that rolls back what the
// merged pull request number pinned: every manifest it changed goes back to
// the version pinned before its merge, restored byte for byte from history.
// It refuses when the pull request is not merged, changed manifests in
// several environments, added a manifest (nothing to go back to), or when
// the environment has moved on since (the pinned version is no longer the
// current one): a rollback of a superseded change must name its target.
func (x *Executor) RollbackPullRequest(ctx context.Context, number int, opts Options) (*Outcome, error) {
	return x.Rollback(ctx, RollbackRequest{PullRequest: number}, opts)
}

// rollbackPullRequest carries out RollbackPullRequest with the request's
// ticket.
func (x *Executor) rollbackPullRequest(ctx context.Context, req RollbackRequest, opts Options) (*Outcome, error) {
	number := req.PullRequest
	if x.GitHub == nil {
		return nil, usagef("rolling back a pull request needs GitHub access: a token and the repository's owner and name")
	}
	pr, _, err := x.GitHub.api.GetPullRequest(ctx, x.GitHub.Owner, x.GitHub.Repo, number)
	if err != nil {
		return nil, githubError(fmt.Sprintf("read pull request #%d", number), err)
	}
	if !pr.GetMerged() || pr.GetMergeCommitSHA() == "" {
		return nil, refusef("pull request #%d is not merged, so there is nothing to roll back", number)
	}
	y := *x
	if y.Git.Base == "" {
		y.Git.Base = pr.GetBase().GetRef()
	}
	merge := plumbing.NewHash(pr.GetMergeCommitSHA())
	return y.run(ctx, opts, func(ctx context.Context, s *session) (*Plan, error) {
		r, err := s.rollbackOfMerge(number, merge)
		if err != nil {
			return nil, err
		}
		r.Ticket, r.PullRequest = req.Ticket, number
		if err := s.rollbackHistory(ctx, r); err != nil {
			return nil, err
		}
		return PlanRollback(s.baseFS, *r)
	})
}

// rollbackOfMerge works out, from the merge commit of a pull request, which
// versions to restore.
func (s *session) rollbackOfMerge(number int, merge plumbing.Hash) (*RollbackRequest, error) {
	mc, err := s.disk.CommitObject(merge)
	if err != nil {
		return nil, refusef("the merge commit %s of #%d is not on %s", short(merge.String()), number, s.baseBranch)
	}
	if len(mc.ParentHashes) == 0 {
		return nil, refusef("the merge commit %s of #%d has no parent", short(merge.String()), number)
	}
	parent, err := s.disk.CommitObject(mc.ParentHashes[0])
	if err != nil {
		return nil, fmt.Errorf("read the parent of %s: %w", short(merge.String()), err)
	}
	changes, err := changedManifests(parent, mc)
	if err != nil {
		return nil, err
	}
	if len(changes) == 0 {
		return nil, refusef("pull request #%d changed no manifest", number)
	}
	req := &RollbackRequest{}
	for _, p := range changes {
		env, model, _ := manifest.EnvironmentAndModel(p)
		if req.Environment != "" && req.Environment != env {
			return nil, refusef("pull request #%d changed manifests in %s and %s; roll each environment back on its own", number, req.Environment, env)
		}
		req.Environment = env
		before, err := versionAt(parent, p)
		if err != nil {
			return nil, err
		}
		if before == "" {
			return nil, refusef("pull request #%d added %s, so there is no earlier version to roll back to", number, p)
		}
		pinned, err := versionAt(mc, p)
		if err != nil {
			return nil, err
		}
		now, err := versionAt(s.base, p)
		if err != nil {
			return nil, err
		}
		if now != pinned {
			return nil, refusef("%s now pins %s %s, not %s as pull request #%d left it; name the version to roll back to with promobot rollback --to-version", env, model, orDash(now), orDash(pinned), number)
		}
		req.Models = append(req.Models, RollbackModel{Model: model, ToVersion: before})
	}
	return req, nil
}

// changedManifests lists the manifest paths that differ between two
// commits, sorted.
func changedManifests(from, to *object.Commit) ([]string, error) {
	a, err := from.Tree()
	if err != nil {
		return nil, err
	}
	b, err := to.Tree()
	if err != nil {
		return nil, err
	}
	diff, err := a.Diff(b)
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", short(from.Hash.String()), short(to.Hash.String()), err)
	}
	seen := map[string]bool{}
	for _, c := range diff {
		for _, p := range []string{c.From.Name, c.To.Name} {
			if _, _, ok := manifest.EnvironmentAndModel(p); ok {
				seen[p] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// versionAt returns the version pinned by the manifest at p in commit c,
// empty when the file does not exist or is not a manifest.
func versionAt(c *object.Commit, p string) (string, error) {
	f, err := c.File(p)
	if err == object.ErrFileNotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s at %s: %w", p, short(c.Hash.String()), err)
	}
	content, err := f.Contents()
	if err != nil {
		return "", fmt.Errorf("read %s at %s: %w", p, short(c.Hash.String()), err)
	}
	doc, _ := repoconfig.LoadManifest(p, []byte(content), nil)
	if doc.Manifest == nil {
		return "", nil
	}
	return doc.Manifest.Version, nil
}
