package gitrepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/cache"
	format "github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// Location is where the files of a repository are.
type Location struct {
	// GitDir is the repository's git directory: .git of a working tree,
	// the folder a gitdir file names (a linked worktree, a submodule), or
	// the bare repository itself.
	GitDir string
	// CommonDir holds the objects, references and configuration shared by
	// the worktrees of a repository (commondir of a linked worktree); it
	// is GitDir otherwise.
	CommonDir string
	// WorkTree is the working tree's root, empty for a bare repository.
	WorkTree string
	// Bare is true for a repository without a working tree.
	Bare bool
	// Extensions are the git extensions the repository's configuration
	// declares that promobot accepts (lower-case names).
	Extensions []string
}

// acceptedExtensions are the git extensions that do not change how objects
// and references are stored or named, so a repository using them reads
// like any other. worktreeConfig, which git sparse-checkout and git
// worktree set, only lets each worktree have its own configuration file;
// preciousObjects only forbids deleting objects, which promobot never does.
var acceptedExtensions = []string{"noop", "preciousobjects", "worktreeconfig"}

// refusedExtensions say why a known extension cannot be read.
var refusedExtensions = map[string]string{
	"objectformat":       "objects are named with another hash function than SHA-1",
	"compatobjectformat": "objects are named with two hash functions",
	"refstorage":         "references are stored in another format (reftable)",
	"partialclone":       "objects may be missing (a partial clone); use a full clone",
}

// Locate finds the repository at path: a bare repository, a working tree
// (with .git as a folder or a gitdir file), or a folder inside one, for
// which the nearest .git above it is used. It reads the repository's
// configuration and refuses a format version or extension that changes how
// objects or references are stored or named; the error says which. Every
// error is terminal.
func Locate(path string) (Location, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Location{}, &Error{Op: "open " + path, Err: err, Terminal: true}
	}
	loc, err := findGitDir(abs)
	if err != nil {
		return Location{}, &Error{Op: "open " + path, Err: err, Terminal: true}
	}
	loc.CommonDir = loc.GitDir
	if data, err := os.ReadFile(filepath.Join(loc.GitDir, "commondir")); err == nil {
		common := strings.TrimSpace(string(data))
		if !filepath.IsAbs(common) {
			common = filepath.Join(loc.GitDir, common)
		}
		loc.CommonDir = filepath.Clean(common)
	}
	if loc.Extensions, err = checkFormat(filepath.Join(loc.CommonDir, "config")); err != nil {
		return Location{}, &Error{Op: "open " + path, Err: err, Terminal: true}
	}
	return loc, nil
}

// findGitDir looks for the git directory at abs, then for a .git in abs
// and each folder above it.
func findGitDir(abs string) (Location, error) {
	if isGitDir(abs) && !exists(filepath.Join(abs, ".git")) {
		return Location{GitDir: abs, Bare: true}, nil
	}
	for dir := abs; ; dir = filepath.Dir(dir) {
		dotGit := filepath.Join(dir, ".git")
		st, err := os.Stat(dotGit)
		switch {
		case err == nil && st.IsDir():
			return Location{GitDir: dotGit, WorkTree: dir}, nil
		case err == nil:
			data, err := os.ReadFile(dotGit)
			if err != nil {
				return Location{}, err
			}
			gitDir, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
			if !ok {
				return Location{}, fmt.Errorf("%s is neither a folder nor a gitdir file", dotGit)
			}
			gitDir = strings.TrimSpace(gitDir)
			if !filepath.IsAbs(gitDir) {
				gitDir = filepath.Join(dir, gitDir)
			}
			return Location{GitDir: filepath.Clean(gitDir), WorkTree: dir}, nil
		case !errors.Is(err, os.ErrNotExist):
			return Location{}, err
		}
		if parent := filepath.Dir(dir); parent == dir {
			return Location{}, fmt.Errorf("%w: no git repository at %s or above it", git.ErrRepositoryNotExists, abs)
		}
	}
}

// isGitDir reports whether dir looks like a git directory.
func isGitDir(dir string) bool {
	return exists(filepath.Join(dir, "HEAD")) && exists(filepath.Join(dir, "objects")) && exists(filepath.Join(dir, "refs"))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// checkFormat reads the repository format version and extensions of the
// configuration file at path and returns the accepted extensions it
// declares, or an error naming the first one promobot cannot read.
func checkFormat(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw := format.New()
	if err := format.NewDecoder(f).Decode(raw); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	switch v := raw.Section("core").Option("repositoryformatversion"); v {
	case "", "0", "1":
	default:
		return nil, fmt.Errorf("repository format version %s is not supported (core.repositoryformatversion in %s)", v, path)
	}
	var accepted []string
	for _, opt := range raw.Section("extensions").Options {
		name := strings.ToLower(opt.Key)
		if slices.Contains(acceptedExtensions, name) {
			accepted = append(accepted, name)
			continue
		}
		why, known := refusedExtensions[name]
		if !known {
			why = "promobot does not know how it changes the repository"
		}
		return nil, fmt.Errorf("the repository uses the git extension %s = %s, which promobot cannot read: %s (extensions.%s in %s; promobot accepts only %s)",
			opt.Key, opt.Value, why, opt.Key, path, strings.Join(acceptedExtensions[1:], " and "))
	}
	return accepted, nil
}

// OpenGit opens the repository at path with go-git, as Locate finds it,
// with its objects and references shared across linked worktrees. It is
// the one way promobot opens a repository on disk, so that every command
// accepts the same repositories and refuses the same ones with the same
// message. The error is terminal.
func OpenGit(path string) (*git.Repository, error) {
	loc, err := Locate(path)
	if err != nil {
		return nil, err
	}
	return loc.Open()
}

// Open opens the repository at loc with go-git; see OpenGit.
func (loc Location) Open() (*git.Repository, error) {
	r, _, err := loc.open(filesystem.Options{})
	return r, err
}

// open opens the repository at loc with a storage of the given options.
func (loc Location) open(opts filesystem.Options) (*git.Repository, *filesystem.Storage, error) {
	dot := osfs.New(loc.GitDir)
	var repoFS billy.Filesystem = dot
	if loc.CommonDir != loc.GitDir {
		repoFS = dotgit.NewRepositoryFilesystem(dot, osfs.New(loc.CommonDir))
	}
	st := filesystem.NewStorageWithOptions(repoFS, cache.NewObjectLRUDefault(), opts)
	var wt billy.Filesystem
	if !loc.Bare {
		wt = osfs.New(loc.WorkTree)
	}
	var storer storage.Storer = st
	if len(loc.Extensions) > 0 {
		storer = &extensionStorage{Storage: st, accepted: loc.Extensions}
	}
	r, err := git.Open(storer, wt)
	if err != nil {
		return nil, nil, &Error{Op: "open " + loc.GitDir, Err: err, Terminal: true}
	}
	return r, st, nil
}

// extensionStorage is a repository's storage that hides from go-git the
// extensions Locate accepted, which go-git refuses although they do not
// change how it reads objects and references.
type extensionStorage struct {
	*filesystem.Storage
	accepted []string
}

// Config returns the repository's configuration without the accepted
// extensions.
func (s *extensionStorage) Config() (*config.Config, error) {
	cfg, err := s.Storage.Config()
	if err != nil || cfg.Raw == nil || !cfg.Raw.HasSection("extensions") {
		return cfg, err
	}
	ext := cfg.Raw.Section("extensions")
	for _, name := range s.accepted {
		ext.RemoveOption(name)
	}
	if len(ext.Options) == 0 {
		cfg.Raw.RemoveSection("extensions")
	}
	return cfg, nil
}

// SetConfig is not supported: the configuration Config returns lacks the
// extensions, and writing it back would drop them.
func (s *extensionStorage) SetConfig(*config.Config) error {
	return errors.New("gitrepo: the configuration of a repository with git extensions is not changed")
}
