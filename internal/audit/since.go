package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"

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
	cur, pos := plumbing.NewHash(h.Tip), objectstore.NoParent
	for n := 0; cur != stop; n++ {
		if cur.IsZero() {
			return nil, fmt.Errorf("audit: %s: %w", short(before), ErrNotAncestor)
		}
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		added[cur.String()] = true
		nd, err := w.node(cur, pos)
		if err != nil {
			return nil, err
		}
		cur, pos = nd.parent, nd.parentPos
	}
	var out []Record
	for _, r := range h.Records {
		if added[r.Commit] {
			out = append(out, r)
		}
	}
	return out, nil
}
