// Package workspace keeps the optional features' own copy of each
// repository: see Set.
package workspace

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/audit"
	"github.com/example-org/promobot/internal/bot/mirror"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/keyedlock"
)

// The optional features (chat-ops, bypass detection, the audit export) do
// not use the evaluations' mirrors. Each repository gets a second bare
// copy, its workspace, under the Set's directory, and every job of those
// features holds the repository's workspace lock from its fetch to its
// last write. So:
//
//   - promote.Executor, which fetches the base branch into the repository
//     it is given, is the only writer of the workspace while it runs: no
//     other fetch can land at the same moment (promote's own rule);
//   - the audit walk reads pack files no fetch is adding to;
//   - evaluations never wait for a chat-ops job, and chat-ops jobs never
//     see a mirror half-way through a fetch.
//
// The price is a second copy of each GitOps repository on disk, fetched
// incrementally. A workspace has an empty working tree (nothing is ever
// checked out) rather than being bare, because promote.Executor opens its
// repository by looking for a .git directory.

// Set holds the workspace of each repository, under one directory. The
// features that share a Set share its locks: one of them works in a
// repository's workspace at a time.
type Set struct {
	dir   string
	locks keyedlock.Set
}

// NewSet returns the set of workspaces under dir.
func NewSet(dir string) *Set { return &Set{dir: dir} }

// Workspace is one repository's workspace, locked, with its default branch
// freshly fetched.
type Workspace struct {
	// Path is the repository (its working tree stays empty); gitDir its
	// .git directory.
	Path, gitDir string
	// Branch is the default branch, fetched to
	// refs/remotes/origin/<branch>.
	Branch string
	// Tip is the branch's tip after the fetch.
	Tip plumbing.Hash
	git *git.Repository
}

// Open locks the workspace of repository fullName (cloned from cloneURL),
// creates it on first use, fetches branch with token and returns it with
// the function that unlocks it.
func (w *Set) Open(ctx context.Context, fullName, cloneURL, token, branch string) (*Workspace, func(), error) {
	if branch == "" || strings.ContainsAny(branch, " :*?[\\^~") || strings.Contains(branch, "..") {
		return nil, nil, fmt.Errorf("workspace of %s: invalid branch %q", fullName, branch)
	}
	path, err := mirror.LocalPath(w.dir, fullName, cloneURL)
	if err != nil {
		return nil, nil, fmt.Errorf("workspace: %w", err)
	}
	unlock, err := w.locks.Lock(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	ws, err := fetchWorkspace(ctx, path, fullName, cloneURL, token, branch)
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("workspace of %s: %w", fullName, err)
	}
	return ws, unlock, nil
}

// fetchWorkspace opens or creates the repository at path and fetches
// branch into refs/remotes/origin/<branch>.
func fetchWorkspace(ctx context.Context, path, fullName, cloneURL, token, branch string) (*Workspace, error) {
	repo, err := gitrepo.OpenOrInit(path, cloneURL, false)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	remote := plumbing.NewRemoteReferenceName(git.DefaultRemoteName, branch)
	spec := gitconfig.RefSpec("+" + plumbing.NewBranchReferenceName(branch).String() + ":" + remote.String())
	if _, err := mirror.Fetch(ctx, repo, fullName, cloneURL, token, []gitconfig.RefSpec{spec}); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", branch, err)
	}
	ref, err := repo.Reference(remote, true)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", branch, err)
	}
	return &Workspace{Path: path, gitDir: filepath.Join(path, git.GitDirName), Branch: branch, Tip: ref.Hash(), git: repo}, nil
}

// History reconstructs the audit history of the default branch, with the
// walk's incremental index kept in the workspace. The caller closes the
// repository.
func (ws *Workspace) History(ctx context.Context) (*audit.Repository, *audit.History, error) {
	repo, err := audit.OpenRepository(ws.Path, audit.RepositoryOptions{})
	if err != nil {
		return nil, nil, err
	}
	h, err := audit.Reconstruct(ctx, repo, audit.Options{Ref: "refs/remotes/origin/" + ws.Branch, Reasons: true})
	if err != nil {
		_ = repo.Close()
		return nil, nil, err
	}
	return repo, h, nil
}

// Files returns the tree of commit sha.
func (ws *Workspace) Files(sha string) (fs.FS, error) {
	if !plumbing.IsHash(sha) {
		return nil, fmt.Errorf("%q is not a commit hash", sha)
	}
	c, err := ws.git.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", sha, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read the tree of %s: %w", sha, err)
	}
	return gitrepo.TreeFS(tree), nil
}

// StateFile is a file of the bot's own state in the workspace, kept where
// `promobot audit` keeps its caches.
func (ws *Workspace) StateFile(name string) string { return filepath.Join(ws.gitDir, "promobot", name) }

// ReadState returns the content of a state file, "" when it does not
// exist.
func (ws *Workspace) ReadState(name string) (string, error) {
	data, err := os.ReadFile(ws.StateFile(name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(data)), err
}

// WriteState replaces a state file atomically.
func (ws *Workspace) WriteState(name, value string) error {
	p := ws.StateFile(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(value+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
