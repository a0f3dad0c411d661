package gitrepo

import (
	"context"
	"slices"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/evaluate"
	"github.com/example-org/promobot/internal/manifest"
	"github.com/example-org/promobot/internal/repoconfig"
	"github.com/example-org/promobot/internal/schema"
)

// historyKey identifies the history of one path up to one commit.
type historyKey struct {
	commit plumbing.Hash
	path   string
	schema *schema.Schema
}

// historyEntry is the history of a path up to a commit, with what the
// replay needs to extend it: the blob at that commit and whether the last
// pin is still pinned. Pins are shared and read-only.
type historyEntry struct {
	pins []evaluate.Pin
	blob plumbing.Hash
	open bool
}

// History returns the versions pinned at the manifest path p along the
// first-parent history of from, oldest first: one Pin per period during
// which a version was pinned, from the commit that pinned it (Since, its
// committer time) to the commit that replaced or removed it (Until, zero
// while still pinned). Edits that keep the version extend the period.
// Manifests are loaded with the schema found at from. Results are cached by
// commit, so asking again after the branch moved on reads only the new
// commits.
func (r *Repo) History(ctx context.Context, p string, from plumbing.Hash) ([]evaluate.Pin, error) {
	h, err := r.Histories(ctx, []string{p}, from)
	if err != nil {
		return nil, err
	}
	return h[p], nil
}

// Histories returns the History of each of paths, by path, reading the
// first-parent history of from once for all of them.
func (r *Repo) Histories(ctx context.Context, paths []string, from plumbing.Hash) (map[string][]evaluate.Pin, error) {
	c, err := r.commit(from)
	if err != nil {
		return nil, err
	}
	root, err := r.tree(c)
	if err != nil {
		return nil, err
	}
	sch, _, _ := repoconfig.Schemas(r.treeFS(root))
	return r.histories(ctx, c, paths, sch)
}

// historyStep is one first-parent commit with the blob at each path (zero
// when absent).
type historyStep struct {
	commit plumbing.Hash
	when   time.Time
	blob   plumbing.Hash
}

// histories computes the history of several paths in one walk.
func (r *Repo) histories(ctx context.Context, from *object.Commit, paths []string, sch *schema.Schema) (map[string][]evaluate.Pin, error) {
	type pending struct {
		path  string
		base  historyEntry // cached history at the oldest walked commit
		steps []historyStep
		done  bool
	}
	ps := make([]*pending, len(paths))
	left := len(paths)
	for i, p := range paths {
		ps[i] = &pending{path: p}
	}
	var prevEnv plumbing.Hash
	var prevBlobs map[string]plumbing.Hash
	// done takes, for each path, the cached history at h when there is one;
	// the walk ends at the first commit where every path has one.
	done := func(h plumbing.Hash) bool {
		for _, p := range ps {
			if p.done {
				continue
			}
			if e, ok := r.historyCache.get(historyKey{h, p.path, sch}); ok {
				p.base, p.done = e, true
				left--
			}
		}
		return left == 0
	}
	_, err := FirstParents(ctx, from.Hash, FirstParentWalk[*object.Commit]{
		Read: func(h plumbing.Hash) (*object.Commit, error) {
			if h == from.Hash {
				return from, nil
			}
			return r.commit(h)
		},
		Parent: FirstParent,
		Stop:   done,
		Visit: func(c, _ *object.Commit, _ bool) error {
			root, err := r.tree(c)
			if err != nil {
				return err
			}
			// Most commits leave environments/ alone: same tree, same blobs.
			env, _ := entry(root, manifest.Root)
			blobs := prevBlobs
			if prevBlobs == nil || env.Hash != prevEnv {
				blobs = map[string]plumbing.Hash{}
				for _, p := range ps {
					if p.done {
						continue
					}
					e, ok, err := r.lookup(root, p.path)
					if err != nil {
						return err
					}
					if ok && isRegular(e.Mode) {
						blobs[p.path] = e.Hash
					}
				}
			}
			prevEnv, prevBlobs = env.Hash, blobs
			when := c.Committer.When.UTC()
			for _, p := range ps {
				if !p.done {
					p.steps = append(p.steps, historyStep{commit: c.Hash, when: when, blob: blobs[p.path]})
				}
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]evaluate.Pin, len(paths))
	for _, p := range ps {
		state := historyEntry{pins: slices.Clone(p.base.pins), blob: p.base.blob, open: p.base.open}
		for i := len(p.steps) - 1; i >= 0; i-- {
			if err := r.replay(&state, p.path, p.steps[i], sch); err != nil {
				return nil, err
			}
		}
		if len(p.steps) > 0 {
			r.historyCache.put(historyKey{from.Hash, p.path, sch}, state)
		}
		out[p.path] = slices.Clone(state.pins)
	}
	return out, nil
}

// replay moves a history forward by one commit.
func (r *Repo) replay(state *historyEntry, p string, s historyStep, sch *schema.Schema) error {
	if s.blob == state.blob {
		return nil
	}
	state.blob = s.blob
	var m *manifest.Manifest
	if !s.blob.IsZero() {
		doc, err := r.loadManifest(p, s.blob, sch)
		if err != nil {
			return err
		}
		m = doc.Manifest
	}
	version := ""
	if m != nil {
		version = m.Version
	}
	if state.open {
		last := &state.pins[len(state.pins)-1]
		if version != "" && version == last.Version {
			return nil // an edit that keeps the version: the period goes on
		}
		last.Until = s.when
		state.open = false
	}
	// A file that does not decode, or names no version, pins nothing.
	if version != "" {
		state.pins = append(state.pins, evaluate.Pin{Version: version, Manifest: m, Commit: s.commit.String(), Since: s.when})
		state.open = true
	}
	return nil
}

// FirstParent returns the first parent of c, zero for a root commit: the
// Parent of a FirstParentWalk over go-git commits.
func FirstParent(c *object.Commit) plumbing.Hash {
	if len(c.ParentHashes) == 0 {
		return plumbing.ZeroHash
	}
	return c.ParentHashes[0]
}
