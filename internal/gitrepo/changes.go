package gitrepo

import (
	"context"
	"path"
	"slices"
	"strings"

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
// changed files and CODEOWNERS covers them all; each change says the kind
// of its entry on either side, so that the engine can gate layout changes.
// A mode change alone is a modification. A path that turns from a file into a folder, or back, is a
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
	slices.SortFunc(out, func(x, y fileChange) int { return strings.Compare(x.Path, y.Path) })
	return out, nil
}

func (r *Repo) diff(ctx context.Context, a, b *object.Tree, prefix string, depth int, out *[]fileChange) error {
	if depth > maxTreeDepth {
		return &Error{Op: "compare " + prefix, Err: errTooDeep, Terminal: true}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var as, bs []object.TreeEntry
	if a != nil {
		as = a.Entries
	}
	if b != nil {
		bs = b.Entries
	}
	// Git keeps tree entries sorted, folders as if their name ended in "/",
	// so the two lists merge in one pass. Entries out of order (a malformed
	// tree) only pair up wrongly, which reports extra changes, never fewer:
	// every entry of both lists is visited.
	for i, j := 0, 0; i < len(as) || j < len(bs); {
		var ea, eb *object.TreeEntry
		switch {
		case j == len(bs):
			ea = &as[i]
		case i == len(as):
			eb = &bs[j]
		default:
			switch c := strings.Compare(sortName(as[i]), sortName(bs[j])); {
			case c < 0:
				ea = &as[i]
			case c > 0:
				eb = &bs[j]
			default:
				ea, eb = &as[i], &bs[j]
			}
		}
		if ea != nil {
			i++
		}
		if eb != nil {
			j++
		}
		if err := r.diffEntry(ctx, ea, eb, prefix, depth, out); err != nil {
			return err
		}
	}
	return nil
}

// sortName is the name git sorts a tree entry by.
func sortName(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// diffEntry compares one name of two trees; ea or eb is nil when the name
// is only on one side. Both have the same sort name, so both are folders or
// both are not.
func (r *Repo) diffEntry(ctx context.Context, ea, eb *object.TreeEntry, prefix string, depth int, out *[]fileChange) error {
	if ea != nil && eb != nil && ea.Hash == eb.Hash && normalMode(ea.Mode) == normalMode(eb.Mode) {
		return nil
	}
	var e *object.TreeEntry
	if e = ea; e == nil {
		e = eb
	}
	if err := checkName(e.Name, prefix); err != nil {
		return err
	}
	p := path.Join(prefix, e.Name)
	if e.Mode == filemode.Dir {
		var sa, sb *object.Tree
		var err error
		if ea != nil {
			if sa, err = r.subtree(ea.Hash, p); err != nil {
				return err
			}
		}
		if eb != nil {
			if sb, err = r.subtree(eb.Hash, p); err != nil {
				return err
			}
		}
		return r.diff(ctx, sa, sb, p, depth+1, out)
	}
	switch {
	case ea != nil && eb != nil:
		*out = append(*out, fileChange{Change: evaluate.Change{Path: p, Status: evaluate.Modified, Before: entryKind(ea.Mode), After: entryKind(eb.Mode)}, to: *eb})
	case ea != nil:
		*out = append(*out, fileChange{Change: evaluate.Change{Path: p, Status: evaluate.Removed, Before: entryKind(ea.Mode)}})
	default:
		*out = append(*out, fileChange{Change: evaluate.Change{Path: p, Status: evaluate.Added, After: entryKind(eb.Mode)}, to: *eb})
	}
	return nil
}

// entryKind is the engine's kind of a non-folder tree entry: executables
// are regular files.
func entryKind(m filemode.FileMode) evaluate.EntryKind {
	switch m {
	case filemode.Symlink:
		return evaluate.EntrySymlink
	case filemode.Submodule:
		return evaluate.EntrySubmodule
	}
	return evaluate.EntryFile
}

// normalMode treats git's old group-writable file mode as a regular file,
// as git does.
func normalMode(m filemode.FileMode) filemode.FileMode {
	if m == filemode.Deprecated {
		return filemode.Regular
	}
	return m
}
