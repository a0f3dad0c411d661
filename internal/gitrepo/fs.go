package gitrepo

import (
	"io/fs"

	"github.com/go-git/go-git/v5/plumbing"
)

// FS returns the tree of commit h as a read-only file system, for reading
// the policy, schemas, keys and manifests of one commit.
func (r *Repo) FS(h plumbing.Hash) (fs.FS, error) {
	c, err := r.commit(h)
	if err != nil {
		return nil, err
	}
	t, err := r.tree(c)
	if err != nil {
		return nil, err
	}
	return r.treeFS(t), nil
}
