package gitrepo

import (
	"context"
	"path"
	"slices"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/example-org/promobot/internal/evaluate"
)

// fileChange is a changed file with the entry on the head side (zero for a
// removal).
type fileChange struct {
	evaluate.Change
	to object.TreeEntry
}

// diffTrees lists the files that differ between trees a and b (either may
// be nil for an empty tree), sorted by path.
//
// Every non-folder entry counts as a file: regular files, executables,
// symbolic links and submodule links, since GitHub lists all of them as
// changed files and CODEOWNERS covers them all. A mode change alone is a
// modification. A path that turns from a file into a folder, or back, is a
// removal plus additions. Renames are not detected, so a rename is a removal
// plus an addition, as the engine expects.
//
// This walks the trees itself rather than using go-git's DiffTree, whose
// tree listing stops silently at a folder whose object is missing; here a
// tree that cannot be read is an error.
func (r *Repo) diffTrees(ctx context.Context, a, b *object.Tree) ([]fileChange, error) {
	var out []fileChange
	if err := r.diff(ctx, a, b, "", 0, &out); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(x, y fileChange) int {
		switch {
		case x.Path < y.Path:
			return -1
		case x.Path > y.Path:
			return 1
		}
		return 0
	})
	return out, nil
}

func (r *Repo) diff(ctx context.Context, a, b *object.Tree, prefix string, depth int, out *[]fileChange) error {
	if depth > maxTreeDepth {
		return &Error{Op: "compare " + prefix, Err: errTooDeep, Terminal: true}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	entries := func(t *object.Tree) map[string]object.TreeEntry {
		m := map[string]object.TreeEntry{}
		if t != nil {
			for _, e := range t.Entries {
				m[e.Name] = e
			}
		}
		return m
	}
	as, bs := entries(a), entries(b)
	var names []string
	for n := range as {
		names = append(names, n)
	}
	for n := range bs {
		if _, ok := as[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		ea, inA := as[n]
		eb, inB := bs[n]
		p := path.Join(prefix, n)
		if inA && inB && ea.Hash == eb.Hash && normalMode(ea.Mode) == normalMode(eb.Mode) {
			continue
		}
		dirA, dirB := inA && ea.Mode == filemode.Dir, inB && eb.Mode == filemode.Dir
		if dirA || dirB {
			var sa, sb *object.Tree
			var err error
			if dirA {
				if sa, err = r.subtree(ea.Hash, p); err != nil {
					return err
				}
			}
			if dirB {
				if sb, err = r.subtree(eb.Hash, p); err != nil {
					return err
				}
			}
			if err := r.diff(ctx, sa, sb, p, depth+1, out); err != nil {
				return err
			}
		}
		fileA, fileB := inA && !dirA, inB && !dirB
		switch {
		case fileA && fileB:
			*out = append(*out, fileChange{Change: evaluate.Change{Path: p, Status: evaluate.Modified}, to: eb})
		case fileA:
			*out = append(*out, fileChange{Change: evaluate.Change{Path: p, Status: evaluate.Removed}})
		case fileB:
			*out = append(*out, fileChange{Change: evaluate.Change{Path: p, Status: evaluate.Added}, to: eb})
		}
	}
	return nil
}

// normalMode treats git's old group-writable file mode as a regular file,
// as git does.
func normalMode(m filemode.FileMode) filemode.FileMode {
	if m == filemode.Deprecated {
		return filemode.Regular
	}
	return m
}
