package gitrepo

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"
)

// FirstParentWalk says how FirstParents reads a history. C is a commit as
// the walk's user reads it: a go-git commit, or just the hashes a fast
// reader takes from a commit-graph.
type FirstParentWalk[C any] struct {
	// Read reads commit h.
	Read func(h plumbing.Hash) (C, error)
	// Parent returns the first parent of c, zero at a root commit (or at
	// the boundary of a shallow clone).
	Parent func(c C) plumbing.Hash
	// Stop, when set, ends the walk at the first commit for which it
	// reports true, which is then not visited. It is asked about tip
	// before anything is read, and about each first parent once it was
	// read and its child visited.
	Stop func(h plumbing.Hash) bool
	// Visit is called for each commit, newest first, with its first parent
	// already read (hasParent is false at a root commit, and parent is then
	// the zero C), so that the two can be compared.
	Visit func(cur, parent C, hasParent bool) error
}

// FirstParents follows the first-parent history of tip, newest first,
// calling w.Visit for each commit until the root, or until w.Stop reports
// true for a commit, which it returns as stoppedAt (zero when the walk
// reached the root). It is the one history walk promobot makes: the pins
// of a manifest (Repo.Histories), promote's timeline and the audit's
// records all follow first parents with it. Each commit is read once. The
// context is checked before each commit is visited.
func FirstParents[C any](ctx context.Context, tip plumbing.Hash, w FirstParentWalk[C]) (stoppedAt plumbing.Hash, err error) {
	if w.Stop != nil && w.Stop(tip) {
		return tip, nil
	}
	cur, err := w.Read(tip)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return plumbing.ZeroHash, err
		}
		var parent C
		ph := w.Parent(cur)
		if !ph.IsZero() {
			if parent, err = w.Read(ph); err != nil {
				return plumbing.ZeroHash, err
			}
		}
		if err := w.Visit(cur, parent, !ph.IsZero()); err != nil {
			return plumbing.ZeroHash, err
		}
		if ph.IsZero() {
			return plumbing.ZeroHash, nil
		}
		if w.Stop != nil && w.Stop(ph) {
			return ph, nil
		}
		cur = parent
	}
}
