package gitrepo

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TreeFS exposes a git tree as a read-only file system, so that code written
// for fs.FS (schema and policy loading) reads a commit the same way it reads
// a checkout. It implements fs.StatFS, fs.ReadFileFS and fs.ReadDirFS. Stat
// reports a file's size without reading its contents.
//
// Symbolic links are reported with fs.ModeSymlink and are not followed:
// reading one yields the link target, as git stores it. Submodule entries
// are reported with fs.ModeIrregular and read as empty. Modification times
// are zero. The result is safe for concurrent use.
func TreeFS(tree *object.Tree) fs.FS { return &treeFS{root: tree, mu: new(sync.Mutex)} }

// treeFS returns a TreeFS that holds the repository's lock while it reads.
func (r *Repo) treeFS(tree *object.Tree) fs.FS { return &treeFS{root: tree, mu: &r.mu} }

type treeFS struct {
	// mu guards root, whose FindEntry fills an internal cache, and the
	// object store behind it.
	mu   sync.Locker
	root *object.Tree
}

// treeNode is what a path names: a directory (tree set) or a file held by
// its parent tree.
type treeNode struct {
	info   treeInfo
	tree   *object.Tree // directories
	parent *object.Tree // files
	entry  object.TreeEntry
}

// node walks the tree one name at a time. A missing name, or a file where a
// directory is needed, is fs.ErrNotExist; failures to read a tree object are
// returned as they are, so that an unreadable file is never mistaken for an
// absent one.
func (f *treeFS) node(op, name string) (*treeNode, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if name == "." {
		return &treeNode{info: treeInfo{name: ".", mode: fs.ModeDir | 0o555}, tree: f.root}, nil
	}
	cur := f.root
	parts := strings.Split(name, "/")
	for i, part := range parts {
		e, ok := entry(cur, part)
		if !ok || (i < len(parts)-1 && e.Mode != filemode.Dir) {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		if e.Mode == filemode.Dir {
			sub, err := cur.Tree(part)
			if err != nil {
				return nil, &fs.PathError{Op: op, Path: name, Err: err}
			}
			if i == len(parts)-1 {
				return &treeNode{info: treeInfo{name: part, mode: fileMode(e.Mode)}, tree: sub, entry: e}, nil
			}
			cur = sub
			continue
		}
		n := &treeNode{info: treeInfo{name: part, mode: fileMode(e.Mode)}, parent: cur, entry: e}
		if e.Mode != filemode.Submodule {
			size, err := cur.Size(part)
			if err != nil {
				return nil, &fs.PathError{Op: op, Path: name, Err: err}
			}
			n.info.size = size
		}
		return n, nil
	}
	panic("unreachable")
}

// entry finds a name among a tree's own entries.
func entry(t *object.Tree, name string) (object.TreeEntry, bool) {
	for _, e := range t.Entries {
		if e.Name == name {
			return e, true
		}
	}
	return object.TreeEntry{}, false
}

func fileMode(m filemode.FileMode) fs.FileMode {
	switch m {
	case filemode.Dir:
		return fs.ModeDir | 0o555
	case filemode.Executable:
		return 0o555
	case filemode.Symlink:
		return fs.ModeSymlink | 0o777
	case filemode.Submodule:
		return fs.ModeIrregular
	default:
		return 0o444
	}
}

// Open opens the named file or directory.
func (f *treeFS) Open(name string) (fs.File, error) {
	n, err := f.node("open", name)
	if err != nil {
		return nil, err
	}
	if n.tree != nil {
		return &treeDir{info: n.info, fsys: f, tree: n.tree, name: name}, nil
	}
	return &treeFile{info: n.info, fsys: f, parent: n.parent, entry: n.entry, name: name}, nil
}

// Stat returns the file's information without reading its contents.
func (f *treeFS) Stat(name string) (fs.FileInfo, error) {
	n, err := f.node("stat", name)
	if err != nil {
		return nil, err
	}
	return n.info, nil
}

// ReadFile reads the whole file.
func (f *treeFS) ReadFile(name string) ([]byte, error) {
	file, err := f.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	if _, ok := file.(*treeDir); ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return io.ReadAll(file)
}

// ReadDir lists a directory in name order.
func (f *treeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.node("readdir", name)
	if err != nil {
		return nil, err
	}
	if n.tree == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return f.entries(name, n.tree)
}

func (f *treeFS) entries(dir string, t *object.Tree) ([]fs.DirEntry, error) {
	out := make([]fs.DirEntry, 0, len(t.Entries))
	for _, e := range t.Entries {
		out = append(out, treeDirEntry{fsys: f, path: path.Join(dir, e.Name), name: e.Name, mode: fileMode(e.Mode)})
	}
	// Git sorts a directory as if its name ended in "/"; fs.ReadDir promises
	// plain name order.
	sortEntries(out)
	return out, nil
}

func sortEntries(es []fs.DirEntry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Name() < es[j-1].Name(); j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

type treeInfo struct {
	name string
	size int64
	mode fs.FileMode
}

func (i treeInfo) Name() string       { return i.name }
func (i treeInfo) Size() int64        { return i.size }
func (i treeInfo) Mode() fs.FileMode  { return i.mode }
func (i treeInfo) ModTime() time.Time { return time.Time{} }
func (i treeInfo) IsDir() bool        { return i.mode.IsDir() }
func (i treeInfo) Sys() any           { return nil }

type treeDirEntry struct {
	fsys *treeFS
	path string
	name string
	mode fs.FileMode
}

func (e treeDirEntry) Name() string               { return e.name }
func (e treeDirEntry) IsDir() bool                { return e.mode.IsDir() }
func (e treeDirEntry) Type() fs.FileMode          { return e.mode.Type() }
func (e treeDirEntry) Info() (fs.FileInfo, error) { return e.fsys.Stat(e.path) }

// treeFile is an open blob; its contents are read on the first Read.
type treeFile struct {
	info   treeInfo
	fsys   *treeFS
	parent *object.Tree
	entry  object.TreeEntry
	name   string
	reader *bytes.Reader
	closed bool
}

func (f *treeFS) read(parent *object.Tree, e object.TreeEntry) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := parent.TreeEntryFile(&e)
	if err != nil {
		return nil, err
	}
	rc, err := file.Reader()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (f *treeFile) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *treeFile) Read(p []byte) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	}
	if f.entry.Mode == filemode.Submodule {
		return 0, io.EOF
	}
	if f.reader == nil {
		// The whole blob is read at once, under the lock: go-git's readers
		// share the store's file handles.
		data, err := f.fsys.read(f.parent, f.entry)
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		}
		f.reader = bytes.NewReader(data)
	}
	return f.reader.Read(p)
}

func (f *treeFile) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	f.reader = nil
	return nil
}

// treeDir is an open directory.
type treeDir struct {
	info    treeInfo
	fsys    *treeFS
	tree    *object.Tree
	name    string
	entries []fs.DirEntry
	read    bool
	offset  int
}

func (d *treeDir) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *treeDir) Close() error { return nil }

// ReadDir follows the fs.ReadDirFile contract: n > 0 returns at most n
// entries and io.EOF at the end; n <= 0 returns the rest.
func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		es, err := d.fsys.entries(d.name, d.tree)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = es, true
	}
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.offset += n
	return rest[:n], nil
}
