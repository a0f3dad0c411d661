package gitrepo

import (
	"context"
	"maps"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/schema"
)

// registrations finds who registered the versions a change pins: for each
// head manifest's model and version, the first-parent commit of base that
// first pinned that version at the model's path in any environment (the
// policy's environments and those the base has a manifest of the model
// in), with its author and committer. A version the base never pinned has
// none: the change itself registers it.
func (r *Repo) registrations(ctx context.Context, base *object.Commit, in *evaluate.Input, sch *schema.Schema, ids identities) ([]evaluate.Registration, error) {
	type version struct{ model, version string }
	var wanted []version
	for _, p := range slices.Sorted(maps.Keys(in.Head)) {
		d := in.Head[p]
		if d == nil || d.Manifest == nil || d.Manifest.Model == "" || d.Manifest.Version == "" {
			continue
		}
		v := version{d.Manifest.Model, d.Manifest.Version}
		if !slices.Contains(wanted, v) {
			wanted = append(wanted, v)
		}
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	pathsOf := map[string][]string{}
	var paths []string
	add := func(model, p string) {
		if !slices.Contains(pathsOf[model], p) {
			pathsOf[model] = append(pathsOf[model], p)
		}
		if !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	for _, v := range wanted {
		if in.Policy != nil {
			for _, env := range in.Policy.Environments {
				add(v.model, manifest.Path(env.Name, v.model))
			}
		}
		for p := range in.Base {
			if _, model, ok := manifest.EnvironmentAndModel(p); ok && model == v.model {
				add(v.model, p)
			}
		}
	}
	slices.Sort(paths)
	histories, err := r.histories(ctx, base, paths, sch)
	if err != nil {
		return nil, err
	}
	var out []evaluate.Registration
	for _, v := range wanted {
		var first *evaluate.Pin
		for _, p := range slices.Sorted(slices.Values(pathsOf[v.model])) {
			for i, pin := range histories[p] {
				if pin.Version == v.version && (first == nil || pin.Since.Before(first.Since)) {
					first = &histories[p][i]
				}
			}
		}
		if first == nil {
			continue
		}
		c, err := r.commit(plumbing.NewHash(first.Commit))
		if err != nil {
			return nil, err
		}
		out = append(out, evaluate.Registration{
			Model: v.model, Version: v.version, Commit: first.Commit,
			Author:    ids.identity(c.Author.Name, c.Author.Email),
			Committer: ids.identity(c.Committer.Name, c.Committer.Email),
		})
	}
	return out, nil
}
