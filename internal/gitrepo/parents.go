package gitrepo

import "github.com/go-git/go-git/v5/plumbing"

// FirstParent returns the first parent of commit h, or the zero hash when
// h is a root commit.
func (r *Repo) FirstParent(h plumbing.Hash) (plumbing.Hash, error) {
	c, err := r.commit(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if len(c.ParentHashes) == 0 {
		return plumbing.ZeroHash, nil
	}
	return c.ParentHashes[0], nil
}
