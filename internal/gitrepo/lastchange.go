package gitrepo

import (
	"context"
	"errors"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// ErrNoFile reports that LastChange found no regular file at the path.
var ErrNoFile = errors.New("no regular file at the path")

// LastChange returns the git blob id of the regular file at p in from's
// tree, and the commit that last changed p on the first-parent history of
// from: the oldest commit of the unbroken run, ending at from, whose trees
// all hold that same blob at p. A path whose content returns to an earlier
// blob (an older manifest pushed again) is changed by the commit that
// brought it back, not by the one that first wrote it. An absent path, or
// one that is not a regular file, is ErrNoFile.
func (r *Repo) LastChange(ctx context.Context, p string, from plumbing.Hash) (commit, blob plumbing.Hash, err error) {
	c, err := r.commit(from)
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, err
	}
	blob, err = r.blobAt(c, p)
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, err
	}
	if blob.IsZero() {
		return plumbing.ZeroHash, plumbing.ZeroHash, &Error{Op: "read " + p + " at " + from.String(), Err: ErrNoFile, Terminal: true}
	}
	commit = c.Hash
	for len(c.ParentHashes) > 0 {
		if err := ctx.Err(); err != nil {
			return plumbing.ZeroHash, plumbing.ZeroHash, err
		}
		parent, err := r.commit(c.ParentHashes[0])
		if err != nil {
			return plumbing.ZeroHash, plumbing.ZeroHash, err
		}
		pb, err := r.blobAt(parent, p)
		if err != nil {
			return plumbing.ZeroHash, plumbing.ZeroHash, err
		}
		if pb != blob {
			break
		}
		commit, c = parent.Hash, parent
	}
	return commit, blob, nil
}

// blobAt returns the blob id of the regular file at p in c's tree, or the
// zero hash when there is none.
func (r *Repo) blobAt(c *object.Commit, p string) (plumbing.Hash, error) {
	root, err := r.tree(c)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	e, ok, err := r.lookup(root, p)
	if err != nil || !ok || !isRegular(e.Mode) {
		return plumbing.ZeroHash, err
	}
	return e.Hash, nil
}
