package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	format "github.com/go-git/go-git/v5/plumbing/format/config"
)

// WorkingTree is a working tree as a read-only file system: the files on
// disk, and, in a sparse checkout (git sparse-checkout), the files outside
// the checkout's cone as the HEAD commit has them, so that the repository
// is read whole. Paths are slash-separated and relative to the folder
// WorkingTreeFS was given.
type WorkingTree struct {
	// FS reads the working tree. It implements fs.StatFS, fs.ReadFileFS,
	// fs.ReadDirFS and fs.ReadLinkFS.
	FS fs.FS
	// FromHEAD lists, in order, the files read from HEAD because the
	// sparse checkout leaves them out of the working tree. It is empty in
	// a full checkout.
	FromHEAD []string
}

// WorkingTreeFS returns the working tree at root (a repository's root or a
// folder inside it). A folder that is not in a git repository is read from
// disk alone. A repository promobot cannot read (see Locate) is an error.
//
// In a sparse checkout the index marks the files outside the cone
// "skip-worktree"; those are read from HEAD, whatever the disk holds at
// their path, exactly as git considers them unchanged. A file of the cone
// is read from disk, with the changes not yet committed. With a sparse
// index (git sparse-checkout --sparse-index), whose format go-git cannot
// read, the files HEAD has and the disk has not are read from HEAD.
func WorkingTreeFS(root string) (*WorkingTree, error) {
	disk := os.DirFS(root)
	loc, err := Locate(root)
	switch {
	case errors.Is(err, git.ErrRepositoryNotExists):
		return &WorkingTree{FS: disk}, nil
	case err != nil:
		return nil, err
	case loc.Bare:
		return &WorkingTree{FS: disk}, nil
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, &Error{Op: "open " + root, Err: err, Terminal: true}
	}
	prefix, err := filepath.Rel(loc.WorkTree, absRoot)
	if err != nil {
		return nil, &Error{Op: "open " + root, Err: err, Terminal: true}
	}
	prefix = filepath.ToSlash(prefix)
	r, err := loc.Open()
	if err != nil {
		return nil, err
	}
	s := &sparseFS{disk: disk, files: map[string]bool{}, parents: map[string]bool{}}
	idx, err := r.Storer.Index()
	switch {
	case err == nil:
		for _, e := range idx.Entries {
			if e.SkipWorktree {
				s.add(prefix, strings.TrimSuffix(e.Name, "/"), e.Mode == filemode.Dir)
			}
		}
	case sparseCheckout(loc):
		// A sparse index (index.sparse), which go-git cannot read: the
		// files HEAD has and the disk has not are taken as outside the
		// cone.
		s.missing = true
	default:
		// Without a sparse checkout the index only says what git would
		// commit, which validate does not need.
		return &WorkingTree{FS: disk}, nil
	}
	if len(s.files) == 0 && len(s.dirs) == 0 && !s.missing {
		return &WorkingTree{FS: disk}, nil
	}
	head, err := r.Head()
	if err != nil {
		return nil, &Error{Op: "read HEAD of " + loc.WorkTree, Err: err, Terminal: true}
	}
	commit, err := r.CommitObject(head.Hash())
	if err != nil {
		return nil, &Error{Op: "read HEAD of " + loc.WorkTree, Err: err, Terminal: true}
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, &Error{Op: "read HEAD of " + loc.WorkTree, Err: err, Terminal: true}
	}
	if prefix != "." {
		if tree, err = tree.Tree(prefix); err != nil {
			return nil, &Error{Op: fmt.Sprintf("read %s at HEAD of %s", prefix, loc.WorkTree), Err: err, Terminal: true}
		}
	}
	s.head = TreeFS(tree)
	if s.missing {
		err := fs.WalkDir(s.head, ".", func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			if _, err := fs.Lstat(disk, p); errors.Is(err, fs.ErrNotExist) {
				s.add(".", p, false)
			}
			return nil
		})
		if err != nil {
			return nil, &Error{Op: "read HEAD of " + loc.WorkTree, Err: err, Terminal: true}
		}
	}
	wt := &WorkingTree{FS: s}
	for name := range s.files {
		wt.FromHEAD = append(wt.FromHEAD, name)
	}
	for _, d := range s.dirs {
		_ = fs.WalkDir(s.head, d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				wt.FromHEAD = append(wt.FromHEAD, p)
			}
			return nil
		})
	}
	slices.Sort(wt.FromHEAD)
	return wt, nil
}

// sparseCheckout reports whether the worktree's or the repository's
// configuration turns core.sparseCheckout on.
func sparseCheckout(loc Location) bool {
	for _, p := range []string{filepath.Join(loc.GitDir, "config.worktree"), filepath.Join(loc.CommonDir, "config")} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		raw := format.New()
		err = format.NewDecoder(f).Decode(raw)
		_ = f.Close()
		if err == nil && raw.Section("core").Options.Has("sparsecheckout") {
			return strings.EqualFold(raw.Section("core").Option("sparsecheckout"), "true")
		}
	}
	return false
}

// add marks name (relative to the worktree's root) as outside the cone,
// as seen from the folder prefix; dir says it is a whole folder.
func (s *sparseFS) add(prefix, name string, dir bool) {
	if prefix != "." {
		rest, ok := strings.CutPrefix(name, prefix+"/")
		if !ok {
			return
		}
		name = rest
	}
	if dir {
		// A sparse index holds a whole folder outside the cone as one
		// entry.
		s.dirs = append(s.dirs, name)
	} else {
		s.files[name] = true
	}
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		s.parents[d] = true
	}
	s.parents["."] = true
}

// sparseFS merges the disk with HEAD's files outside a sparse checkout's
// cone. It implements fs.StatFS, fs.ReadFileFS, fs.ReadDirFS and
// fs.ReadLinkFS, each answering from HEAD for a path outside the cone.
type sparseFS struct {
	disk fs.FS
	head fs.FS
	// files and dirs are outside the cone; parents are the folders
	// holding any of them.
	files   map[string]bool
	dirs    []string
	parents map[string]bool
	// missing is set when the index could not say which files are outside
	// the cone: those HEAD has and the disk has not are.
	missing bool
}

// fromHEAD reports whether name is outside the cone.
func (s *sparseFS) fromHEAD(name string) bool {
	if s.files[name] {
		return true
	}
	for _, d := range s.dirs {
		if name == d || strings.HasPrefix(name, d+"/") {
			return true
		}
	}
	return false
}

// pick returns the file system that holds name: HEAD for a path outside
// the cone, or for a folder that holds only such paths (git removes it
// from disk); the disk otherwise.
func (s *sparseFS) pick(name string) fs.FS {
	if s.fromHEAD(name) {
		return s.head
	}
	if s.parents[name] {
		if _, err := fs.Stat(s.disk, name); errors.Is(err, fs.ErrNotExist) {
			return s.head
		}
	}
	return s.disk
}

// Open opens the named file or folder.
func (s *sparseFS) Open(name string) (fs.File, error) { return s.pick(name).Open(name) }

// Stat describes the named file, following a symbolic link on disk.
func (s *sparseFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(s.pick(name), name) }

// ReadFile reads the named file.
func (s *sparseFS) ReadFile(name string) ([]byte, error) { return fs.ReadFile(s.pick(name), name) }

// Lstat describes the named file without following a symbolic link.
func (s *sparseFS) Lstat(name string) (fs.FileInfo, error) {
	fsys := s.pick(name)
	if fsys == s.head {
		return fs.Stat(fsys, name) // TreeFS never follows links
	}
	return fs.Lstat(fsys, name)
}

// ReadLink returns the target of the named symbolic link.
func (s *sparseFS) ReadLink(name string) (string, error) {
	fsys := s.pick(name)
	if fsys == s.head {
		info, err := fs.Stat(fsys, name)
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
		}
		b, err := fs.ReadFile(fsys, name)
		return string(b), err
	}
	return fs.ReadLink(fsys, name)
}

// ReadDir lists a folder: its entries on disk and, in a folder holding
// paths outside the cone, those paths' entries from HEAD.
func (s *sparseFS) ReadDir(name string) ([]fs.DirEntry, error) {
	fsys := s.pick(name)
	if fsys == s.head || !s.parents[name] {
		return fs.ReadDir(fsys, name)
	}
	out, err := fs.ReadDir(s.disk, name)
	if err != nil {
		return nil, err
	}
	head, err := fs.ReadDir(s.head, name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	seen := map[string]int{}
	for i, e := range out {
		seen[e.Name()] = i
	}
	for _, e := range head {
		child := path.Join(name, e.Name())
		if !s.fromHEAD(child) && !s.parents[child] {
			continue
		}
		if i, ok := seen[e.Name()]; ok {
			if s.fromHEAD(child) {
				out[i] = e
			}
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}
