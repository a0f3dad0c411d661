package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// findRepoRoot returns the nearest folder at or above dir that holds .git.
func findRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside a git repository (use --repo)", dir)
		}
	}
}

// repoRelative turns a command-line path into a slash path relative to root.
func repoRelative(root, cwd, p string) (string, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside the repository %s", p, root)
	}
	return filepath.ToSlash(rel), nil
}

// repoOrEnclosing returns repo, the --repo of a command, or when it is
// empty the repository that holds the working directory (findRepoRoot).
func repoOrEnclosing(e *env, repo string) (string, error) {
	if repo != "" {
		return repo, nil
	}
	cwd, err := e.getwd()
	if err != nil {
		return "", err
	}
	return findRepoRoot(cwd)
}
