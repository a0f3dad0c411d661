// Package gitrepo reads a GitOps repository with go-git and builds the
// policy engine's input for a proposed change: the merge base, the changed
// files, the trusted files (policy, schemas, CODEOWNERS) and manifests of the
// base branch, the head manifests, the history of each changed manifest and
// the identities behind the change's commits.
//
// Everything that decides how the change is judged is read from the tip of
// the base branch, never from the head, so a change cannot loosen the rules
// that apply to itself. Parsed CODEOWNERS files, manifests and histories are
// cached by content hash, because a bot evaluates the same base many times.
package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/manifest"
)

// objects is the part of a go-git repository the adapter uses.
// *git.Repository satisfies it; tests wrap one to inject failures.
type objects interface {
	ResolveRevision(rev plumbing.Revision) (*plumbing.Hash, error)
	Reference(name plumbing.ReferenceName, resolved bool) (*plumbing.Reference, error)
	TagObject(h plumbing.Hash) (*object.Tag, error)
	CommitObject(h plumbing.Hash) (*object.Commit, error)
	TreeObject(h plumbing.Hash) (*object.Tree, error)
	BlobObject(h plumbing.Hash) (*object.Blob, error)
}

// Cache bounds: entries, not bytes. A manifest document is a few kilobytes,
// so the manifest cache stays in the tens of megabytes at most.
const (
	ownersCacheSize   = 32
	manifestCacheSize = 8192
	baseSetCacheSize  = 16
	historyCacheSize  = 4096
)

// Repo is a git repository opened for reading. It is safe for concurrent
// use: go-git's object store is not, so every read of it is serialized,
// while decoding and checking files runs in parallel. Its caches are shared
// by all evaluations, and by the repositories Reopen returns.
type Repo struct {
	path string
	// mu serializes access to the object store, including the reads that
	// go-git objects make through it (blob readers, merge-base walks).
	mu      sync.Mutex
	objects objects
	closer  io.Closer
	*caches
}

// caches hold parsed files by content hash. Content-addressed entries never
// go stale, so they survive reopening the repository after a fetch.
type caches struct {
	owners       *lru[plumbing.Hash, ownersEntry]
	manifests    *lru[manifestKey, manifestEntry]
	baseSets     *lru[baseSetKey, map[string]*manifest.Document]
	historyCache *lru[historyKey, historyEntry]
}

// Open opens the repository at path: a bare repository, a working tree, or
// a folder inside one (the nearest .git above it is used), as Locate finds
// and checks it. The error is terminal: retrying does not help until the
// path holds a repository.
//
// Close releases the pack files a Repo keeps open; a Repo that is dropped
// without Close releases them when it is garbage collected.
func Open(path string) (*Repo, error) {
	o, closer, err := openObjects(path)
	if err != nil {
		return nil, err
	}
	r := newRepo(o, nil)
	r.path, r.closer = path, closer
	return r, nil
}

// Close closes the pack files the Repo holds open. The Repo must not be
// used afterwards.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

// maxOpenPacks is how many pack files a Repo keeps open. Without it go-git
// opens and closes the pack file for every object it reads.
const maxOpenPacks = 16

func openObjects(path string) (objects, io.Closer, error) {
	loc, err := Locate(path)
	if err != nil {
		return nil, nil, err
	}
	r, st, err := loc.open(filesystem.Options{MaxOpenDescriptors: maxOpenPacks})
	if err != nil {
		return nil, nil, err
	}
	return r, st, nil
}

// Reopen opens the repository again, so that objects and references added
// since (by a fetch) are seen, keeping the parsed-file caches: a bot that
// fetches before each evaluation still parses an unchanged base only once.
// The receiver stays usable for what it saw.
func (r *Repo) Reopen() (*Repo, error) {
	o, closer, err := openObjects(r.path)
	if err != nil {
		return nil, err
	}
	n := newRepo(o, r.caches)
	n.path, n.closer = r.path, closer
	return n, nil
}

func newRepo(o objects, c *caches) *Repo {
	if c == nil {
		c = &caches{
			owners:       newLRU[plumbing.Hash, ownersEntry](ownersCacheSize),
			manifests:    newLRU[manifestKey, manifestEntry](manifestCacheSize),
			baseSets:     newLRU[baseSetKey, map[string]*manifest.Document](baseSetCacheSize),
			historyCache: newLRU[historyKey, historyEntry](historyCacheSize),
		}
	}
	return &Repo{objects: o, caches: c}
}

// Resolve turns a revision into a commit hash as git does (see
// ResolveRevision): a full hash, a reference (HEAD, a tag, a branch, a
// remote branch such as origin/main), an abbreviated hash naming one
// commit, or any of these with suffixes such as HEAD~1 or main^2. A name
// that is both a reference and a hash prefix means the reference. An
// unknown revision is a terminal error.
func (r *Repo) Resolve(rev string) (plumbing.Hash, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var prefixes prefixLookup
	if g, ok := r.objects.(*git.Repository); ok {
		prefixes = hashesWithPrefix(g)
	}
	h, _, err := resolveRevision(r.objects, prefixes, rev)
	return h, err
}

// Error is a failure to read the repository. Terminal says whether retrying
// can help: an unknown revision or unrelated histories stay that way, while
// a missing object may appear after the next fetch.
type Error struct {
	// Op says what was being done, for example "read commit abc123".
	Op string
	// Err is the cause.
	Err error
	// Terminal is true when retrying the same request cannot succeed.
	Terminal bool
}

// Error returns "op: cause".
func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// FailureKind classifies e for failure.IsTerminal: a terminal error is
// Usage (the revision or the repository must change first); whether any
// other may be cured by a retry is left open (Unknown).
func (e *Error) FailureKind() failure.Kind {
	if e.Terminal {
		return failure.Usage
	}
	return failure.Unknown
}

// commit reads a commit object.
func (r *Repo) commit(h plumbing.Hash) (*object.Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.objects.CommitObject(h)
	if err != nil {
		return nil, &Error{Op: "read commit " + h.String(), Err: err}
	}
	return c, nil
}

// tree reads the root tree of a commit.
func (r *Repo) tree(c *object.Commit) (*object.Tree, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, err := r.objects.TreeObject(c.TreeHash)
	if err != nil {
		return nil, &Error{Op: "read tree of " + c.Hash.String(), Err: err}
	}
	return t, nil
}

// subtree reads the tree object h.
func (r *Repo) subtree(h plumbing.Hash, p string) (*object.Tree, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, err := r.objects.TreeObject(h)
	if err != nil {
		return nil, &Error{Op: "read tree " + p, Err: err}
	}
	return t, nil
}

// lookup finds the entry at the slash-separated path p below root, reading
// one tree per folder. ok is false when the path does not exist (or passes
// through a file); an error means a tree could not be read, which must
// never be mistaken for absence.
func (r *Repo) lookup(root *object.Tree, p string) (e object.TreeEntry, ok bool, err error) {
	cur := root
	parts := strings.Split(p, "/")
	for i, part := range parts {
		e, ok = entry(cur, part)
		if !ok {
			return object.TreeEntry{}, false, nil
		}
		if i == len(parts)-1 {
			return e, true, nil
		}
		if e.Mode != filemode.Dir {
			return object.TreeEntry{}, false, nil
		}
		if cur, err = r.subtree(e.Hash, strings.Join(parts[:i+1], "/")); err != nil {
			return object.TreeEntry{}, false, err
		}
	}
	return object.TreeEntry{}, false, nil
}

// maxTreeDepth bounds folder nesting in walks, against crafted trees.
const maxTreeDepth = 64

var errTooDeep = errors.New("folders nested too deeply")

// checkName refuses tree entry names that git itself rejects (empty, ".",
// "..", or containing "/" or NUL). Such a name could make one file pass for
// another path, so a tree holding one is not evaluated at all.
func checkName(name, folder string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return &Error{Op: "read tree " + cmpOr(folder, "/"), Err: fmt.Errorf("invalid entry name %q", name), Terminal: true}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// walkFiles calls fn for every non-folder entry below t, depth first in
// tree order, with the entry's path under prefix. Unlike go-git's tree
// walker, a tree that cannot be read is an error, not the end of the walk.
func (r *Repo) walkFiles(ctx context.Context, t *object.Tree, prefix string, fn func(p string, e object.TreeEntry) error) error {
	return r.walk(ctx, t, prefix, 0, fn)
}

func (r *Repo) walk(ctx context.Context, t *object.Tree, prefix string, depth int, fn func(string, object.TreeEntry) error) error {
	if depth > maxTreeDepth {
		return &Error{Op: "walk " + prefix, Err: errTooDeep, Terminal: true}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range t.Entries {
		if err := checkName(e.Name, prefix); err != nil {
			return err
		}
		p := path.Join(prefix, e.Name)
		if e.Mode != filemode.Dir {
			if err := fn(p, e); err != nil {
				return err
			}
			continue
		}
		sub, err := r.subtree(e.Hash, p)
		if err != nil {
			return err
		}
		if err := r.walk(ctx, sub, p, depth+1, fn); err != nil {
			return err
		}
	}
	return nil
}
