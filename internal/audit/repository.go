package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/example-org/promobot/internal/audit/objectstore"
	"github.com/example-org/promobot/internal/failure"
)

// Repository is a git repository opened for auditing. It is not safe for
// concurrent use.
type Repository struct {
	gitDir  string
	bare    bool
	git     *git.Repository
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
	gitDir, bare, err := findGitDir(path)
	if err != nil {
		return nil, err
	}
	g, err := git.PlainOpenWithOptions(path, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	objectsDir := gitDir
	if common, err := os.ReadFile(filepath.Join(gitDir, "commondir")); err == nil {
		objectsDir = strings.TrimSpace(string(common))
		if !filepath.IsAbs(objectsDir) {
			objectsDir = filepath.Join(gitDir, objectsDir)
		}
	}
	store, err := objectstore.Open(objectsDir, objectstore.Options{})
	if err != nil {
		return nil, err
	}
	r := &Repository{gitDir: gitDir, bare: bare, git: g, store: store, shallow: map[plumbing.Hash]bool{}}
	if data, err := os.ReadFile(filepath.Join(objectsDir, "shallow")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			r.shallow[plumbing.NewHash(strings.TrimSpace(sc.Text()))] = true
		}
	}
	// Like git, trust no commit-graph in a shallow repository: its parents
	// are not the ones the shallow boundary implies.
	if !opts.IgnoreCommitGraph && len(r.shallow) == 0 {
		if r.graph, err = objectstore.OpenGraph(objectsDir); err != nil {
			_ = store.Close()
			return nil, err
		}
	}
	return r, nil
}

// findGitDir returns the git directory of the repository at path.
func findGitDir(path string) (string, bool, error) {
	dotGit := filepath.Join(path, ".git")
	st, err := os.Stat(dotGit)
	switch {
	case err == nil && st.IsDir():
		return dotGit, false, nil
	case err == nil:
		data, err := os.ReadFile(dotGit)
		if err != nil {
			return "", false, err
		}
		dir, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
		if !ok {
			return "", false, fmt.Errorf("%s is not a gitdir file", dotGit)
		}
		dir = strings.TrimSpace(dir)
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(path, dir)
		}
		return dir, false, nil
	case errors.Is(err, os.ErrNotExist):
		if _, err := os.Stat(filepath.Join(path, "objects")); err == nil {
			if _, err := os.Stat(filepath.Join(path, "HEAD")); err == nil {
				return path, true, nil
			}
		}
		return "", false, fmt.Errorf("%s is not a git repository", path)
	default:
		return "", false, err
	}
}

// DefaultCacheDir is where the audit keeps its index, and the CLI its GitHub
// answers, when no cache folder is given: <git dir>/promobot.
func (r *Repository) DefaultCacheDir() string { return filepath.Join(r.gitDir, "promobot") }

// Close releases the repository's mapped files.
func (r *Repository) Close() error {
	return errors.Join(r.store.Close(), r.graph.Close())
}

// ResolveRef finds the commit a ref names. An empty ref means the default
// branch: the target of refs/remotes/origin/HEAD, HEAD's branch in a bare
// repository, or main. A short name is tried as a local branch, a remote
// branch of origin, a tag, then a commit hash. It returns the full name
// (the hash itself for a commit) and the branch name used as the default
// branch in review checks.
func (r *Repository) ResolveRef(ref string) (full, branch string, tip plumbing.Hash, err error) {
	var candidates []plumbing.ReferenceName
	if ref == "" {
		if t, err := r.git.Reference("refs/remotes/origin/HEAD", false); err == nil && t.Type() == plumbing.SymbolicReference {
			candidates = append(candidates, t.Target())
		}
		if r.bare {
			if t, err := r.git.Reference(plumbing.HEAD, false); err == nil && t.Type() == plumbing.SymbolicReference {
				candidates = append(candidates, t.Target())
			}
		}
		candidates = append(candidates, "refs/heads/main", "refs/remotes/origin/main")
	} else if strings.HasPrefix(ref, "refs/") {
		candidates = append(candidates, plumbing.ReferenceName(ref))
	} else {
		candidates = append(candidates, plumbing.NewBranchReferenceName(ref), plumbing.NewRemoteReferenceName("origin", ref), plumbing.NewTagReferenceName(ref))
	}
	for _, name := range candidates {
		resolved, err := r.git.Reference(name, true)
		if err != nil {
			continue
		}
		h := resolved.Hash()
		if name.IsTag() {
			if tag, err := r.git.TagObject(h); err == nil {
				h = tag.Target
			}
		}
		return name.String(), branchName(name), h, nil
	}
	if plumbing.IsHash(ref) {
		return ref, "", plumbing.NewHash(ref), nil
	}
	if ref == "" {
		return "", "", plumbing.ZeroHash, errors.New("cannot find the default branch: no origin/HEAD and no main branch (use --ref)")
	}
	return "", "", plumbing.ZeroHash, failure.NotFoundf("ref %q not found", ref)
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
