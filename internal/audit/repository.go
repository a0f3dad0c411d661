package audit

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/failure"
	"github.com/example-org/promobot/internal/gitrepo"
	"github.com/example-org/promobot/internal/gitrepo/objectstore"
)

// Repository is a git repository opened for auditing. It is not safe for
// concurrent use.
type Repository struct {
	gitDir string
	bare   bool
	git    *git.Repository
	fast   *gitrepo.FastObjects
	// store, graph and shallow are fast's, at hand for the walks.
	store   *objectstore.Store
	graph   *objectstore.Graph
	shallow map[plumbing.Hash]bool
}

// RepositoryOptions tunes OpenRepository.
type RepositoryOptions struct {
	// IgnoreCommitGraph makes walks read commit objects even when the
	// repository has a commit-graph.
	IgnoreCommitGraph bool
}

// OpenRepository opens the repository at path: a working tree (with .git
// as a folder or a gitdir file) or a bare repository.
func OpenRepository(path string, opts RepositoryOptions) (*Repository, error) {
	loc, err := gitrepo.Locate(path)
	if err != nil {
		return nil, err
	}
	g, err := loc.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	fast, err := loc.OpenFast(gitrepo.FastOptions{IgnoreCommitGraph: opts.IgnoreCommitGraph})
	if err != nil {
		return nil, err
	}
	r := &Repository{gitDir: loc.GitDir, bare: loc.Bare, git: g, fast: fast, store: fast.Store, graph: fast.Graph, shallow: fast.Shallow}
	return r, nil
}

// DefaultCacheDir is where the audit keeps its index, and the CLI its GitHub
// answers, when no cache folder is given: <git dir>/promobot.
func (r *Repository) DefaultCacheDir() string { return filepath.Join(r.gitDir, "promobot") }

// Close releases the repository's mapped files.
func (r *Repository) Close() error {
	return r.fast.Close()
}

// ResolveRef finds the commit a ref names. An empty ref means the default
// branch: the target of refs/remotes/origin/HEAD, HEAD's branch in a bare
// repository, or main. Any other ref resolves as git resolves it, with
// every command's resolution (gitrepo.ResolveRevision): a full hash, then
// a reference (refs/<ref>, a tag, a branch, a remote branch), then an
// abbreviated hash; a short name no reference and no hash matches is then
// tried as a branch of origin. It returns the full name (the hash itself
// for a commit) and the branch name used as the default branch in review
// checks.
func (r *Repository) ResolveRef(ref string) (full, branch string, tip plumbing.Hash, err error) {
	if ref != "" {
		h, name, err := gitrepo.ResolveRevision(r.git, ref)
		if err != nil {
			origin := plumbing.NewRemoteReferenceName("origin", ref)
			if resolved, oerr := r.git.Reference(origin, true); oerr == nil && !strings.HasPrefix(ref, "refs/") {
				return r.resolved(origin, resolved.Hash())
			}
			return "", "", plumbing.ZeroHash, failure.NotFoundf("ref %q not found: %v", ref, err)
		}
		if name == "" {
			return h.String(), "", h, nil
		}
		return name.String(), branchName(name), h, nil
	}
	var candidates []plumbing.ReferenceName
	if t, err := r.git.Reference("refs/remotes/origin/HEAD", false); err == nil && t.Type() == plumbing.SymbolicReference {
		candidates = append(candidates, t.Target())
	}
	if r.bare {
		if t, err := r.git.Reference(plumbing.HEAD, false); err == nil && t.Type() == plumbing.SymbolicReference {
			candidates = append(candidates, t.Target())
		}
	}
	candidates = append(candidates, "refs/heads/main", "refs/remotes/origin/main")
	for _, name := range candidates {
		resolved, err := r.git.Reference(name, true)
		if err != nil {
			continue
		}
		return r.resolved(name, resolved.Hash())
	}
	return "", "", plumbing.ZeroHash, errors.New("cannot find the default branch: no origin/HEAD and no main branch (use --ref)")
}

// resolved returns what ResolveRef returns for reference name pointing at
// h, an annotated tag peeled to its commit.
func (r *Repository) resolved(name plumbing.ReferenceName, h plumbing.Hash) (string, string, plumbing.Hash, error) {
	if tag, err := r.git.TagObject(h); err == nil {
		h = tag.Target
	}
	return name.String(), branchName(name), h, nil
}

func branchName(n plumbing.ReferenceName) string {
	s := n.String()
	if b, ok := strings.CutPrefix(s, "refs/heads/"); ok {
		return b
	}
	if b, ok := strings.CutPrefix(s, "refs/remotes/"); ok {
		if _, after, ok := strings.Cut(b, "/"); ok {
			return after
		}
	}
	return ""
}

// RemoteURL returns the first URL of the named remote, empty when there is
// none.
func (r *Repository) RemoteURL(name string) string {
	remote, err := r.git.Remote(name)
	if err != nil || len(remote.Config().URLs) == 0 {
		return ""
	}
	return remote.Config().URLs[0]
}
