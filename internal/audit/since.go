package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/gitrepo/objectstore"
)

// ErrNotAncestor is returned by RecordsSince when the old tip is not on
// the first-parent history of the new one: the branch was force-pushed.
var ErrNotAncestor = errors.New("the old tip is not a first-parent ancestor of the new one (a force push?)")

// RecordsSince returns the records of h made by the commits a push added:
// those on the first-parent history of h.Tip after before (exclusive). The
// bot calls it on a push to the default branch with the push's "before"
// and passes the result to DetectBypass. An all-zero or empty before means
// the branch was created: every record is returned.
func RecordsSince(ctx context.Context, repo *Repository, h *History, before string) ([]Record, error) {
	if before == "" || before == plumbing.ZeroHash.String() {
		return h.Records, nil
	}
	stop := plumbing.NewHash(before)
	added := map[string]bool{}
	w := newWalker(repo)
	tip := plumbing.NewHash(h.Tip)
	if tip.IsZero() {
		return nil, fmt.Errorf("audit: %s: %w", short(before), ErrNotAncestor)
	}
	// A commit's first parent is read right after it: pass on its position
	// in the commit-graph rather than look it up again.
	var last node
	stoppedAt, err := gitrepo.FirstParents(ctx, tip, gitrepo.FirstParentWalk[node]{
		Read: func(h plumbing.Hash) (node, error) {
			if h == stop {
				return node{hash: h}, nil // where the walk stops: not read
			}
			pos := objectstore.NoParent
			if h == last.parent {
				pos = last.parentPos
			}
			n, err := w.node(h, pos)
			last = n
			return n, err
		},
		Parent: func(n node) plumbing.Hash { return n.parent },
		Stop:   func(h plumbing.Hash) bool { return h == stop },
		Visit: func(cur, _ node, _ bool) error {
			added[cur.hash.String()] = true
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	if stoppedAt.IsZero() {
		return nil, fmt.Errorf("audit: %s: %w", short(before), ErrNotAncestor)
	}
	var out []Record
	for _, r := range h.Records {
		if added[r.Commit] {
			out = append(out, r)
		}
	}
	return out, nil
}
