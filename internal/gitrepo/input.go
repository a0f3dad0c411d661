package gitrepo

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
)

// InputOptions tune how BuildInput reads a change.
type InputOptions struct {
	// Identities maps commit email addresses (compared case-insensitively)
	// to GitHub logins. Addresses not in the map are mapped only when they
	// are GitHub noreply addresses.
	Identities map[string]string
}

// BuildInput reads the change from base to head and returns the engine's
// input with everything git knows filled in: the policy, schema-checked
// manifests and CODEOWNERS of the base, the changed files, the head
// manifests, the history of every changed manifest, the change's commits,
// who registered the versions the head pins, and PullRequest.BaseSHA and
// HeadSHA. Reviews, teams, permissions, labels,
// artifact checks, the author and the clock are the caller's to add.
//
// Changes are computed from the merge base of base and head, so that
// commits the base gained after the branch point are not counted as part of
// the change, as GitHub shows a pull request's diff.
//
// The trusted files (policy, schemas, CODEOWNERS) and the base manifests
// are read from the tip of base, not from the merge base. The rules that
// apply are the ones the base has now: that is what GitHub does for
// CODEOWNERS and branch protection, a policy tightened after the branch
// point still applies to old branches, and the merge will land on the tip,
// so the tip's manifests are what the change replaces. Nothing that judges
// the change is ever read from head; head manifests are checked with the
// base's schema.
//
// The documents in the returned maps are shared with the Repo's caches and
// must not be modified; the maps and slices themselves are the caller's.
func (r *Repo) BuildInput(ctx context.Context, base, head plumbing.Hash, opts InputOptions) (*evaluate.Input, error) {
	baseCommit, err := r.commit(base)
	if err != nil {
		return nil, err
	}
	headCommit, err := r.commit(head)
	if err != nil {
		return nil, err
	}
	mb, err := r.mergeBase(baseCommit, headCommit)
	if err != nil {
		return nil, err
	}
	baseTree, err := r.tree(baseCommit)
	if err != nil {
		return nil, err
	}
	mbTree, err := r.tree(mb)
	if err != nil {
		return nil, err
	}
	headTree, err := r.tree(headCommit)
	if err != nil {
		return nil, err
	}

	trusted, err := r.readTrusted(baseTree)
	if err != nil {
		return nil, err
	}
	in := &evaluate.Input{
		Policy:         trusted.policy,
		PolicyProblems: trusted.policyProblems,
		Owners:         trusted.owners,
		OwnersPath:     trusted.ownersPath,
		OwnersWarnings: trusted.ownersWarnings,
		PullRequest:    evaluate.PullRequest{BaseSHA: base.String(), HeadSHA: head.String()},
	}

	changes, err := r.diffTrees(ctx, mbTree, headTree)
	if err != nil {
		return nil, err
	}
	var manifestPaths []string
	var headFiles []fileChange
	for _, c := range changes {
		in.Changes = append(in.Changes, c.Change)
		if !IsManifestPath(c.Path) {
			continue
		}
		manifestPaths = append(manifestPaths, c.Path)
		// Only a regular file is a manifest: the target of a symbolic
		// link is never read (the engine gates the link itself).
		if c.Status != evaluate.Removed && c.After == evaluate.EntryFile {
			headFiles = append(headFiles, c)
		}
	}

	if in.Base, err = r.baseManifests(ctx, baseTree, trusted.manifestSchema); err != nil {
		return nil, err
	}
	docs, err := r.loadManifests(ctx, len(headFiles), func(i int) (string, plumbing.Hash) { return headFiles[i].Path, headFiles[i].to.Hash }, trusted.manifestSchema)
	if err != nil {
		return nil, err
	}
	in.Head = make(map[string]*manifest.Document, len(docs))
	for i, d := range docs {
		in.Head[headFiles[i].Path] = d
	}
	if in.History, err = r.histories(ctx, baseCommit, manifestPaths, trusted.manifestSchema); err != nil {
		return nil, err
	}

	commits, err := r.changeCommits(ctx, baseCommit, headCommit)
	if err != nil {
		return nil, err
	}
	ids := newIdentities(opts.Identities)
	in.Commits = ids.toCommits(commits)
	if in.Registrations, err = r.registrations(ctx, baseCommit, in, trusted.manifestSchema, ids); err != nil {
		return nil, err
	}
	return in, nil
}
