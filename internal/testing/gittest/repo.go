package gittest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// InitBare creates a bare repository at root/rel (for example
// "org/app.git") whose HEAD names defaultBranch, enables pushes over smart
// HTTP (http.receivepack=true) and returns its absolute path.
func InitBare(root, rel, defaultBranch string) (string, error) {
	path, err := filepath.Abs(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", fmt.Errorf("gittest: resolve repository path: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("gittest: create parent directory: %w", err)
	}
	repo, err := git.PlainInitWithOptions(path, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(defaultBranch)},
	})
	if err != nil {
		return "", fmt.Errorf("gittest: init bare repository %s: %w", rel, err)
	}
	cfg, err := repo.Config()
	if err != nil {
		return "", fmt.Errorf("gittest: read config: %w", err)
	}
	cfg.Raw.Section("http").SetOption("receivepack", "true")
	if err := repo.SetConfig(cfg); err != nil {
		return "", fmt.Errorf("gittest: write config: %w", err)
	}
	return path, nil
}

// Signature is the identity and time recorded as a commit's author or
// committer.
type Signature struct {
	// Name is the person's name.
	Name string
	// Email is the person's email address.
	Email string
	// When is the timestamp; the zero value means the current time.
	When time.Time
}

// Commit describes a commit to build with CommitFiles.
type Commit struct {
	// Branch is the branch to commit on and advance, for example "main".
	Branch string
	// Parents are explicit parent commit hashes. When empty, the parent is
	// the current tip of Branch, or none when Branch does not exist yet.
	Parents []string
	// Files maps slash-separated paths to their new contents; they are
	// written over the first parent's tree.
	Files map[string]string
	// Delete lists paths removed from the first parent's tree.
	Delete []string
	// Message is the full commit message, trailers included.
	Message string
	// Author is the author; an empty Name or Email gets a default.
	Author Signature
	// Committer is the committer; the zero value means Author.
	Committer Signature
}

// TreeEntry is one file of a flattened tree.
type TreeEntry struct {
	// Mode is the git file mode.
	Mode filemode.FileMode
	// Hash is the blob hash.
	Hash plumbing.Hash
}

// CommitFiles builds a commit in the bare repository at repoPath with go-git,
// advances c.Branch to it and returns its hash.
func CommitFiles(repoPath string, c Commit) (string, error) {
	repo, err := git.PlainOpen(repoPath)
	if err != nil {
		return "", fmt.Errorf("gittest: open %s: %w", repoPath, err)
	}
	var parents []plumbing.Hash
	for _, p := range c.Parents {
		parents = append(parents, plumbing.NewHash(p))
	}
	branchRef := plumbing.NewBranchReferenceName(c.Branch)
	if len(parents) == 0 && c.Branch != "" {
		ref, err := repo.Reference(branchRef, true)
		switch {
		case err == nil:
			parents = []plumbing.Hash{ref.Hash()}
		case !errors.Is(err, plumbing.ErrReferenceNotFound):
			return "", fmt.Errorf("gittest: read branch %s: %w", c.Branch, err)
		}
	}
	files := map[string]TreeEntry{}
	if len(parents) > 0 {
		if files, err = ReadTree(repo, parents[0]); err != nil {
			return "", err
		}
	}
	for _, p := range c.Delete {
		delete(files, p)
	}
	for p, content := range c.Files {
		h, err := WriteBlob(repo, []byte(content))
		if err != nil {
			return "", err
		}
		files[strings.TrimPrefix(p, "/")] = TreeEntry{Mode: filemode.Regular, Hash: h}
	}
	tree, err := WriteTree(repo, files)
	if err != nil {
		return "", err
	}
	author := withDefaults(c.Author)
	committer := author
	if c.Committer != (Signature{}) {
		committer = withDefaults(c.Committer)
	}
	hash, err := WriteCommit(repo, tree, parents, c.Message, author, committer)
	if err != nil {
		return "", err
	}
	if c.Branch != "" {
		if err := repo.Storer.SetReference(plumbing.NewHashReference(branchRef, hash)); err != nil {
			return "", fmt.Errorf("gittest: update branch %s: %w", c.Branch, err)
		}
	}
	return hash.String(), nil
}

func withDefaults(s Signature) Signature {
	if s.Name == "" {
		s.Name = "Test Author"
	}
	if s.Email == "" {
		s.Email = "author@example.com"
	}
	if s.When.IsZero() {
		s.When = time.Now().UTC().Truncate(time.Second)
	}
	return s
}

// WriteBlob stores content as a blob object and returns its hash.
func WriteBlob(repo *git.Repository, content []byte) (plumbing.Hash, error) {
	obj := repo.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(content)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: open blob writer: %w", err)
	}
	if _, err := w.Write(content); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: close blob: %w", err)
	}
	h, err := storeObject(repo, obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: store blob: %w", err)
	}
	return h, nil
}

// ReadTree flattens the tree of the commit with hash commitHash into a map
// from slash-separated file path to entry.
func ReadTree(repo *git.Repository, commitHash plumbing.Hash) (map[string]TreeEntry, error) {
	commit, err := repo.CommitObject(commitHash)
	if err != nil {
		return nil, fmt.Errorf("gittest: read commit %s: %w", commitHash, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("gittest: read tree of %s: %w", commitHash, err)
	}
	files := map[string]TreeEntry{}
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("gittest: walk tree of %s: %w", commitHash, err)
		}
		if entry.Mode == filemode.Dir {
			continue
		}
		files[name] = TreeEntry{Mode: entry.Mode, Hash: entry.Hash}
	}
}

// WriteTree stores the nested tree objects for a flattened file map and
// returns the root tree hash.
func WriteTree(repo *git.Repository, files map[string]TreeEntry) (plumbing.Hash, error) {
	type dir struct {
		files map[string]TreeEntry
		dirs  map[string]map[string]TreeEntry
	}
	d := dir{files: map[string]TreeEntry{}, dirs: map[string]map[string]TreeEntry{}}
	for p, e := range files {
		head, rest, nested := strings.Cut(p, "/")
		if !nested {
			d.files[head] = e
			continue
		}
		if d.dirs[head] == nil {
			d.dirs[head] = map[string]TreeEntry{}
		}
		d.dirs[head][rest] = e
	}
	var entries []object.TreeEntry
	for name, e := range d.files {
		entries = append(entries, object.TreeEntry{Name: name, Mode: e.Mode, Hash: e.Hash})
	}
	for name, sub := range d.dirs {
		h, err := WriteTree(repo, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	// Git orders entries by name, comparing a directory as if its name ended in "/".
	sortKey := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return sortKey(entries[i]) < sortKey(entries[j]) })
	obj := repo.Storer.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: encode tree: %w", err)
	}
	h, err := storeObject(repo, obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: store tree: %w", err)
	}
	return h, nil
}

// WriteCommit stores a commit object with the given tree, parents, message
// and signatures and returns its hash. It does not move any reference.
func WriteCommit(repo *git.Repository, tree plumbing.Hash, parents []plumbing.Hash, message string, author, committer Signature) (plumbing.Hash, error) {
	commit := &object.Commit{
		Author:       object.Signature{Name: author.Name, Email: author.Email, When: author.When},
		Committer:    object.Signature{Name: committer.Name, Email: committer.Email, When: committer.When},
		Message:      message,
		TreeHash:     tree,
		ParentHashes: parents,
	}
	obj := repo.Storer.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: encode commit: %w", err)
	}
	h, err := storeObject(repo, obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("gittest: store commit: %w", err)
	}
	return h, nil
}
